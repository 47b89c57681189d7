//! Random bearer secrets: session ids (cookies) and API tokens.
//!
//! Both carry 256 bits from the OS CSPRNG, encoded base64url without padding so they
//! fit in a cookie or an `Authorization` header unescaped. API tokens start with
//! `cnt_` so secret scanners and people can recognise a leaked one.
//!
//! Only [`digest`] of a secret is ever stored, and lookups go by that digest: someone
//! who reads the database (or a backup) gets nothing they can present as a cookie or
//! token. A plain SHA-256 is enough here, unlike for passwords, because the input is
//! 256 random bits and cannot be guessed.
//!
//! The `looks_like_*` checks are cheap shape tests that let the gateway drop forged,
//! truncated or oversized values before touching the database.

use data_encoding::BASE64URL_NOPAD;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::secret::SecretString;

/// Random bytes in a session id or API token.
pub const RANDOM_BYTES: usize = 32;
/// Prefix of every API token.
pub const API_TOKEN_PREFIX: &str = "cnt_";
/// Characters in a session id: 32 bytes in unpadded base64 take 43 characters.
pub const SESSION_ID_LEN: usize = 43;
/// Characters in an API token, prefix included.
pub const API_TOKEN_LEN: usize = API_TOKEN_PREFIX.len() + SESSION_ID_LEN;

fn random_b64() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    OsRng.fill_bytes(&mut bytes);
    let encoded = BASE64URL_NOPAD.encode(&bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    encoded
}

/// A new session id for a cookie: 256 random bits, base64url without padding.
pub fn new_session_id() -> SecretString {
    SecretString::new(random_b64())
}

/// A new API token: `cnt_` followed by 256 random bits in base64url without padding.
pub fn new_api_token() -> SecretString {
    SecretString::new(format!("{API_TOKEN_PREFIX}{}", random_b64()))
}

/// SHA-256 of a session id or token: the form that is stored and looked up.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// True when `s` is shaped like something [`new_session_id`] made: 43 base64url
/// characters that decode to exactly 32 bytes (with canonical trailing bits).
pub fn looks_like_session_id(s: &str) -> bool {
    // Length first, so an oversized value costs nothing more than this comparison.
    s.len() == SESSION_ID_LEN
        && BASE64URL_NOPAD
            .decode(s.as_bytes())
            .is_ok_and(|bytes| bytes.len() == RANDOM_BYTES)
}

/// True when `s` is shaped like something [`new_api_token`] made.
pub fn looks_like_api_token(s: &str) -> bool {
    s.len() == API_TOKEN_LEN
        && s.strip_prefix(API_TOKEN_PREFIX)
            .is_some_and(looks_like_session_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_have_the_right_shape_and_differ() {
        let a = new_session_id();
        let b = new_session_id();
        assert_eq!(a.expose().len(), SESSION_ID_LEN);
        assert_ne!(a.expose(), b.expose());
        assert!(looks_like_session_id(a.expose()));
        assert!(!looks_like_api_token(a.expose()));
        assert!(a
            .expose()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn api_tokens_have_the_prefix_and_shape() {
        let t = new_api_token();
        assert!(t.expose().starts_with("cnt_"));
        assert_eq!(t.expose().len(), 47);
        assert!(looks_like_api_token(t.expose()));
        assert!(!looks_like_session_id(t.expose()));
        assert_ne!(t.expose(), new_api_token().expose());
    }

    #[test]
    fn digest_is_sha256() {
        // FIPS 180-2 known answer: SHA-256("abc").
        assert_eq!(
            data_encoding::HEXLOWER.encode(&digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(digest("a"), digest("b"));
    }

    #[test]
    fn forged_values_are_rejected() {
        let good = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(looks_like_session_id(good));
        for bad in [
            "",
            "short",
            &good[..42],
            &format!("{good}A"),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+", // standard-alphabet char
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // padding
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", // non-canonical trailing bits
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u{e9}",
            &"A".repeat(10_000),
        ] {
            assert!(!looks_like_session_id(bad), "{bad:?}");
            assert!(!looks_like_api_token(&format!("cnt_{bad}")), "{bad:?}");
        }
        assert!(looks_like_api_token(&format!("cnt_{good}")));
        assert!(!looks_like_api_token(&format!("cnx_{good}")));
        assert!(!looks_like_api_token(&format!("CNT_{good}")));
    }
}
