//! Signed identity assertions for upstreams: a short-lived JWT (EdDSA, Ed25519) in
//! `X-Centinela-Assertion` on every proxied request that has a caller.
//!
//! The `X-Centinela-User` headers are enough for a service that only the gateway can
//! reach; a service that cannot be sure of that (a flat network, a misrouted
//! request) verifies the assertion with the public key published at
//! `/_centinela/jwks.json` and refuses requests without a valid one. The key is
//! derived from the master key, so every gateway instance signs with the same one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::HeaderValue;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use sha2::{Digest as _, Sha256};

use crate::auth::service::{AuthMethod, Identity};
use crate::error::GatewayError;

/// Seconds an assertion is valid.
pub const ASSERTION_TTL_SECS: u64 = 60;
/// An assertion is reused for the same caller, route and upstream for this long, so
/// the Ed25519 signature (tens of microseconds, the largest per-request cost when
/// measured) is paid about once per caller per half minute instead of per request.
/// Reuse leaves at least half of the validity for the upstream to check it.
pub const REUSE_SECS: u64 = 30;
/// Cached assertions before the cache is cleared.
const MAX_CACHED: usize = 10_000;

/// Signs assertions.
pub struct Signer {
    key: Ed25519KeyPair,
    kid: String,
    issuer: String,
    /// Assertions by [`cache_key`], with the time they were issued; a `HeaderValue`
    /// clone shares the bytes, so a reused assertion costs no copy.
    cache: std::sync::Mutex<std::collections::HashMap<String, (HeaderValue, u64)>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from a 32-byte seed; `issuer` is the gateway's public URL.
    pub fn from_seed(seed: &[u8; 32], issuer: &str) -> Result<Self, GatewayError> {
        let key = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| GatewayError::SigningKey("the seed was refused".to_owned()))?;
        let digest = Sha256::digest(key.public_key().as_ref());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..12]);
        Ok(Self {
            key,
            kid,
            issuer: issuer.to_owned(),
            cache: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// [`Signer::sign`] as a header value, reusing an assertion made for the same
    /// caller (user, roles, customer id, session or token), route and audience within
    /// [`REUSE_SECS`]. `None` only if the JWT were not a valid header value, which
    /// base64url and dots always are.
    pub fn assertion(
        &self,
        who: &Identity,
        audience: &str,
        route: &str,
        now: u64,
    ) -> Option<HeaderValue> {
        let key = cache_key(who, audience, route);
        if let Ok(cache) = self.cache.lock() {
            if let Some((jwt, iat)) = cache.get(&key) {
                if now >= *iat && now - iat < REUSE_SECS {
                    return Some(jwt.clone());
                }
            }
        }
        let jwt = HeaderValue::try_from(self.sign(who, audience, route, now)).ok()?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key, (jwt.clone(), now));
        }
        Some(jwt)
    }

    /// The key id in the JWT header and the JWKS.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWT asserting `who` to the upstream `audience`, issued at `now`.
    pub fn sign(&self, who: &Identity, audience: &str, route: &str, now: u64) -> String {
        let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": self.kid });
        let mut jti = [0u8; 12];
        rand::Rng::fill(&mut rand::thread_rng(), &mut jti);
        let claims = serde_json::json!({
            "iss": self.issuer,
            "aud": audience,
            "sub": who.username,
            "roles": who.roles,
            "customer_id": who.customer_id,
            "auth": match who.via { AuthMethod::Session => "session", AuthMethod::Token(_) => "token" },
            "route": route,
            "iat": now,
            "nbf": now.saturating_sub(5),
            "exp": now + ASSERTION_TTL_SECS,
            "jti": URL_SAFE_NO_PAD.encode(jti),
        });
        let mut out = URL_SAFE_NO_PAD.encode(header.to_string());
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig = self.key.sign(out.as_bytes());
        out.push('.');
        out.push_str(&URL_SAFE_NO_PAD.encode(sig.as_ref()));
        out
    }

    /// The public key as a JSON Web Key Set (RFC 8037 OKP key).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(self.key.public_key().as_ref()),
                "kid": self.kid,
                "alg": "EdDSA",
                "use": "sig",
            }]
        })
    }
}

/// The cache key of an assertion: the caller (user id, session or token, customer id,
/// roles), the audience and the route, `\0`-separated (roles last, `,`-separated).
/// Built by hand rather than with `format!`, which cost more than the lookup it keys.
fn cache_key(who: &Identity, audience: &str, route: &str) -> String {
    let via = match &who.via {
        AuthMethod::Session => "s",
        AuthMethod::Token(_) => "t",
    };
    let customer = who.customer_id.as_deref().unwrap_or("");
    let fields = [who.user_id.as_str(), via, customer, audience, route];
    let roles_len: usize = who.roles.iter().map(|r| r.len() + 1).sum();
    let mut key =
        String::with_capacity(fields.iter().map(|f| f.len() + 1).sum::<usize>() + roles_len);
    for field in fields {
        key.push_str(field);
        key.push('\0');
    }
    for role in &who.roles {
        key.push_str(role);
        key.push(',');
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, ED25519};

    fn who() -> Identity {
        Identity {
            user_id: "u1".into(),
            username: "bruno".into(),
            roles: vec!["customer".into()],
            customer_id: Some("2".into()),
            via: AuthMethod::Session,
        }
    }

    #[test]
    fn assertions_verify_with_the_published_key() {
        let s = Signer::from_seed(&[7u8; 32], "https://gw.example").expect("signer");
        let jwt = s.sign(&who(), "demo", "customer", 1_000);
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let jwks = s.jwks();
        let x = URL_SAFE_NO_PAD
            .decode(jwks["keys"][0]["x"].as_str().expect("x"))
            .expect("b64");
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("sig");
        let signed = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&ED25519, &x)
            .verify(signed.as_bytes(), &sig)
            .expect("valid signature");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["sub"], "bruno");
        assert_eq!(claims["aud"], "demo");
        assert_eq!(claims["customer_id"], "2");
        assert_eq!(claims["exp"], 1_060);
        // A tampered payload fails.
        let forged = format!(
            "{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(b"{\"sub\":\"root\"}")
        );
        assert!(UnparsedPublicKey::new(&ED25519, &x)
            .verify(forged.as_bytes(), &sig)
            .is_err());
        // Same seed, same key: every instance publishes the same JWKS.
        let again = Signer::from_seed(&[7u8; 32], "https://gw.example").expect("signer");
        assert_eq!(again.jwks(), jwks);
        assert_ne!(
            Signer::from_seed(&[8u8; 32], "x").expect("signer").kid(),
            s.kid()
        );
    }

    #[test]
    fn assertions_are_reused_briefly_and_per_caller() {
        let s = Signer::from_seed(&[7u8; 32], "https://gw.example").expect("signer");
        let a = s.assertion(&who(), "demo", "customer", 1_000);
        assert_eq!(s.assertion(&who(), "demo", "customer", 1_029), a);
        assert_ne!(s.assertion(&who(), "demo", "customer", 1_030), a);
        assert_ne!(s.assertion(&who(), "demo", "other-route", 1_000), a);
        let mut agent = who();
        agent.roles = vec!["agent".into()];
        assert_ne!(s.assertion(&agent, "demo", "customer", 1_000), a);
    }
}
