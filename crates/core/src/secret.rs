//! Wrappers for secret values (passwords, session ids, API tokens, TOTP secrets, keys).
//!
//! They exist so that a secret can never reach a log line by accident: `Debug` prints
//! `SecretString(***)` / `SecretBytes(***)`, there is deliberately no `Display`, and the
//! value has to be taken out explicitly with `expose()`, which is easy to spot in review.
//! The memory is wiped when the value is dropped, so a secret does not linger in freed
//! heap memory longer than it is used.
//!
//! There is deliberately no `PartialEq`: comparing secrets must be done in constant time
//! (see `subtle`) or, better, on digests, and a derived `==` would invite the opposite.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret text value. `Debug` is redacted; the contents are zeroed on drop.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps `value`; from here on it is only reachable through [`Self::expose`].
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself. Call it at the point of use only, never to log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

/// A secret byte string (keys, TOTP secrets). `Debug` is redacted; zeroed on drop.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps `value`; from here on it is only reachable through [`Self::expose`].
    pub fn new(value: Vec<u8>) -> Self {
        Self(value)
    }

    /// The secret itself. Call it at the point of use only, never to log.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(value: Vec<u8>) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = SecretString::new("hunter2-hunter2".to_owned());
        assert_eq!(format!("{s:?}"), "SecretString(***)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(SecretString(***))");
        let b = SecretBytes::new(b"key material".to_vec());
        assert_eq!(format!("{b:?}"), "SecretBytes(***)");
        assert!(!format!("{b:#?}").contains("107")); // 'k' as a byte
    }

    #[test]
    fn expose_and_clone_keep_the_value() {
        let s = SecretString::new("abc".to_owned());
        let c = s.clone();
        drop(s);
        assert_eq!(c.expose(), "abc");
        let b = SecretBytes::from(vec![1, 2, 3]);
        assert_eq!(b.clone().expose(), &[1, 2, 3]);
    }

    #[test]
    fn zeroize_clears_the_value() {
        let mut s = SecretString::new("secret".to_owned());
        s.zeroize();
        assert_eq!(s.expose(), "");
        let mut b = SecretBytes::new(vec![9; 8]);
        b.zeroize();
        assert!(b.expose().is_empty());
    }
}
