//! Time-based one-time passwords (RFC 6238) for the second login factor.
//!
//! The parameters are the ones every authenticator app supports without asking:
//! HMAC-SHA-1, 6 digits, 30-second steps, a 160-bit secret (RFC 4226 §4 recommends
//! 160 bits). It is written directly on `hmac` + `sha1` because the algorithm is a few
//! lines and a dependency would add more surface than it saves.
//!
//! Verification accepts one step of clock drift either way, compares codes in constant
//! time, and refuses any step at or before the last one used, so a code seen over a
//! shoulder or in a log cannot be replayed, not even within its own 30 seconds.

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha1::Sha1;
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::secret::SecretBytes;

/// Length of a generated secret in bytes (160 bits).
pub const SECRET_LEN: usize = 20;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Seconds per time step.
pub const PERIOD_SECS: u64 = 30;

/// A fresh random secret from the operating system's CSPRNG.
pub fn generate_secret() -> SecretBytes {
    let mut bytes = vec![0u8; SECRET_LEN];
    OsRng.fill_bytes(&mut bytes);
    SecretBytes::new(bytes)
}

/// The time step that `unix_secs` falls in (RFC 6238 `T`, with `T0 = 0`).
pub fn step_at(unix_secs: u64) -> u64 {
    unix_secs / PERIOD_SECS
}

/// The 6-digit code for `step`, as a number (print it with `{:06}`).
pub fn code_at(secret: &[u8], step: u64) -> u32 {
    code_with_digits(secret, step, DIGITS)
}

/// HOTP (RFC 4226 §5.3) with a configurable number of digits; 6 is what we use, 8 is
/// what RFC 6238's test vectors are printed with.
fn code_with_digits(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC is defined for keys of any length (long keys are hashed first), so this
    // constructor cannot fail; the Result only exists for fixed-key-size MACs.
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // Dynamic truncation: the low nibble of the last byte picks a 4-byte window.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let window = [
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ];
    u32::from_be_bytes(window) % 10u32.pow(digits)
}

/// Parses what the user typed: exactly six ASCII digits, with any whitespace ignored
/// (apps show "123 456" and people copy it that way).
fn parse_code(code: &str) -> Option<u32> {
    let mut value = 0u32;
    let mut digits = 0u32;
    for c in code.chars() {
        if c.is_whitespace() {
            continue;
        }
        let d = c.to_digit(10).filter(|_| c.is_ascii_digit())?;
        digits += 1;
        if digits > DIGITS {
            return None;
        }
        value = value * 10 + d;
    }
    (digits == DIGITS).then_some(value)
}

/// Checks `code` at time `unix_secs`. Accepts the codes of the previous, current and
/// next step, except steps at or before `last_used_step` (already spent). Returns the
/// matched step, which the caller must store as the new `last_used_step`.
pub fn verify(
    secret: &[u8],
    code: &str,
    unix_secs: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let typed = parse_code(code)?;
    let now = step_at(unix_secs);
    let mut found = subtle::Choice::from(0);
    let mut matched = 0u64;
    // All candidate codes are computed and compared whatever the outcome, so the time
    // taken does not say which part of the code was right.
    for step in [now.checked_sub(1), Some(now), now.checked_add(1)]
        .into_iter()
        .flatten()
    {
        let fresh = last_used_step.is_none_or(|last| step > last);
        let equal = code_at(secret, step).ct_eq(&typed) & subtle::Choice::from(u8::from(fresh));
        // Keep the earliest matching step.
        let take = equal & !found;
        matched = u64::conditional_select(&matched, &step, take);
        found |= equal;
    }
    bool::from(found).then_some(matched)
}

/// The secret as RFC 4648 base32 without padding, the form authenticator apps take
/// when the key is typed in by hand.
pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// An `otpauth://` URI (the Key Uri Format understood by authenticator apps) to show
/// as a QR code. Issuer and account are percent-encoded in the label and parameters.
pub fn provisioning_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer_enc = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer_enc}:{account}?secret={secret}&issuer={issuer_enc}\
         &algorithm=SHA1&digits={DIGITS}&period={PERIOD_SECS}",
        account = percent_encode(account),
        secret = encode_secret(secret),
    )
}

/// Percent-encodes every byte except RFC 3986 unreserved characters. Encoding more
/// than strictly needed is always valid and keeps `:`, `&`, `?`, `#` and spaces in an
/// issuer or account name from changing the URI's structure.
fn percent_encode(input: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len());
    for &b in input.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";
    /// (time, 8-digit code) from RFC 6238 Appendix B, SHA-1 rows.
    const RFC_VECTORS: [(u64, u32); 6] = [
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ];

    #[test]
    fn rfc6238_vectors_8_digits() {
        for (t, code) in RFC_VECTORS {
            assert_eq!(code_with_digits(RFC_SECRET, step_at(t), 8), code, "t={t}");
        }
    }

    #[test]
    fn rfc6238_vectors_6_digits() {
        let expected = [287_082, 81_804, 50_471, 5_924, 279_037, 353_130];
        for ((t, _), code) in RFC_VECTORS.into_iter().zip(expected) {
            assert_eq!(code_at(RFC_SECRET, step_at(t)), code, "t={t}");
        }
        assert_eq!(
            format!("{:06}", code_at(RFC_SECRET, step_at(1_234_567_890))),
            "005924"
        );
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        // RFC 4226 Appendix D, counters 0..=9.
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(
                code_at(RFC_SECRET, counter as u64),
                code,
                "counter={counter}"
            );
        }
    }

    #[test]
    fn step_boundaries() {
        assert_eq!(step_at(0), 0);
        assert_eq!(step_at(29), 0);
        assert_eq!(step_at(30), 1);
        assert_eq!(step_at(59), 1);
        assert_eq!(step_at(60), 2);
    }

    #[test]
    fn verify_accepts_current_code_with_or_without_spaces() {
        let t = 1_111_111_111;
        assert_eq!(verify(RFC_SECRET, "050471", t, None), Some(step_at(t)));
        assert_eq!(verify(RFC_SECRET, "050 471", t, None), Some(step_at(t)));
        assert_eq!(verify(RFC_SECRET, " 05 04 71 ", t, None), Some(step_at(t)));
    }

    #[test]
    fn verify_window_is_plus_minus_one_step() {
        let now = 1_111_111_111;
        let s = step_at(now);
        for (delta, ok) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let step = s.checked_add_signed(delta).expect("no overflow");
            let code = format!("{:06}", code_at(RFC_SECRET, step));
            let got = verify(RFC_SECRET, &code, now, None);
            assert_eq!(got, ok.then_some(step), "delta={delta}");
        }
    }

    #[test]
    fn verify_refuses_replay_and_older_steps() {
        let now = 1_111_111_111;
        let s = step_at(now);
        let code = format!("{:06}", code_at(RFC_SECRET, s));
        let used = verify(RFC_SECRET, &code, now, None).expect("first use accepted");
        assert_eq!(used, s);
        // Same code again, same moment: refused.
        assert_eq!(verify(RFC_SECRET, &code, now, Some(used)), None);
        // The previous step's code is older than the one used: refused too.
        let prev = format!("{:06}", code_at(RFC_SECRET, s - 1));
        assert_eq!(verify(RFC_SECRET, &prev, now, Some(used)), None);
        // The next step's code is still fine.
        let next = format!("{:06}", code_at(RFC_SECRET, s + 1));
        assert_eq!(verify(RFC_SECRET, &next, now, Some(used)), Some(s + 1));
    }

    #[test]
    fn verify_rejects_malformed_input() {
        let t = 1_111_111_111;
        for bad in [
            "",
            "05047",
            "0504711",
            "05047a",
            "０５０４７１",
            "-50471",
            "+50471",
            "050471\u{0}",
            "99999999999999999999",
        ] {
            assert_eq!(verify(RFC_SECRET, bad, t, None), None, "{bad:?}");
        }
        assert_eq!(verify(RFC_SECRET, "123456", t, None), None);
    }

    #[test]
    fn verify_at_time_zero_has_no_previous_step() {
        let code = format!("{:06}", code_at(RFC_SECRET, 0));
        assert_eq!(verify(RFC_SECRET, &code, 0, None), Some(0));
        let at_max = format!("{:06}", code_at(RFC_SECRET, step_at(u64::MAX)));
        assert_eq!(
            verify(RFC_SECRET, &at_max, u64::MAX, None),
            Some(step_at(u64::MAX))
        );
    }

    #[test]
    fn generated_secrets_are_random_and_sized() {
        let a = generate_secret();
        let b = generate_secret();
        assert_eq!(a.expose().len(), SECRET_LEN);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn base32_matches_rfc4648() {
        // RFC 4648 §10 test vectors, without padding.
        assert_eq!(encode_secret(b"foobar"), "MZXW6YTBOI");
        assert_eq!(encode_secret(b"f"), "MY");
        assert_eq!(
            encode_secret(RFC_SECRET),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn provisioning_uri_is_well_formed_and_encoded() {
        let uri = provisioning_uri("Centinela", "alice@example.com", RFC_SECRET);
        assert_eq!(
            uri,
            "otpauth://totp/Centinela:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Centinela&algorithm=SHA1&digits=6&period=30"
        );
        let uri = provisioning_uri("ACME Corp: Prod", "bob&co?x#y", b"\x00");
        assert_eq!(
            uri,
            "otpauth://totp/ACME%20Corp%3A%20Prod:bob%26co%3Fx%23y?secret=AA\
             &issuer=ACME%20Corp%3A%20Prod&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(percent_encode("ñ~._-"), "%C3%B1~._-");
    }
}
