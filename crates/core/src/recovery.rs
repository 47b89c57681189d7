//! Single-use recovery codes: the way back in when the TOTP device is lost.
//!
//! Each code is 10 symbols from Crockford's base32 alphabet (digits and lowercase
//! letters without `i`, `l`, `o`, `u`), shown as `xxxxx-xxxxx`. Thirty-two symbols give
//! exactly 5 bits each, so a code carries 50 bits from the OS CSPRNG with no modulo
//! bias. The letters that look like digits are left out so a code copied from paper is
//! read correctly, and [`normalize`] maps them back (`o` → `0`, `i`/`l` → `1`) in case
//! someone types them anyway.
//!
//! This module only makes and normalizes codes; the store keeps digests of
//! `normalize(code)` and strikes each one out when used.

use rand::rngs::OsRng;
use rand::RngCore;

use crate::secret::SecretString;

/// How many codes a user gets at a time.
pub const CODE_COUNT: usize = 10;
/// Symbols per code (without the dash).
pub const CODE_SYMBOLS: usize = 10;
/// Crockford's base32 alphabet, lowercase: 32 symbols, none easily confused.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Ten fresh recovery codes, formatted `xxxxx-xxxxx`.
pub fn generate_codes() -> Vec<SecretString> {
    (0..CODE_COUNT).map(|_| generate_code()).collect()
}

fn generate_code() -> SecretString {
    let mut random = [0u8; CODE_SYMBOLS];
    OsRng.fill_bytes(&mut random);
    let mut code = String::with_capacity(CODE_SYMBOLS + 1);
    for (i, byte) in random.iter().enumerate() {
        if i == CODE_SYMBOLS / 2 {
            code.push('-');
        }
        // 256 is a multiple of 32, so the low 5 bits are uniform.
        code.push(char::from(ALPHABET[usize::from(byte & 0x1f)]));
    }
    zeroize::Zeroize::zeroize(&mut random);
    SecretString::new(code)
}

/// What the user typed, in the canonical form the codes are stored under: lowercase,
/// without whitespace or dashes, with the look-alike letters mapped the Crockford way
/// (`o` → `0`, `i` and `l` → `1`).
pub fn normalize(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ten_codes_in_the_right_shape() {
        let codes = generate_codes();
        assert_eq!(codes.len(), 10);
        for code in &codes {
            let s = code.expose();
            assert_eq!(s.len(), 11, "{s}");
            assert_eq!(&s[5..6], "-");
            assert!(s
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 5 || ALPHABET.contains(&b)));
        }
        let distinct: HashSet<&str> = codes.iter().map(SecretString::expose).collect();
        assert_eq!(distinct.len(), 10);
    }

    #[test]
    fn alphabet_has_32_unambiguous_symbols() {
        let set: HashSet<u8> = ALPHABET.iter().copied().collect();
        assert_eq!(set.len(), 32, "5 bits per symbol, 50 bits per code");
        for confusing in b"ilou" {
            assert!(!set.contains(confusing));
        }
    }

    #[test]
    fn all_symbols_are_used() {
        // 2,000 symbols drawn: the chance that some symbol never appears is at most
        // 32 * (31/32)^2000, about 1e-26, so a failure means the mapping is broken.
        let mut seen = HashSet::new();
        for _ in 0..20 {
            for code in generate_codes() {
                seen.extend(code.expose().bytes().filter(|b| *b != b'-'));
            }
        }
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn normalize_is_loose_about_typing() {
        assert_eq!(normalize("ab3de-7fgh9"), "ab3de7fgh9");
        assert_eq!(normalize(" AB3DE 7FGH9 "), "ab3de7fgh9");
        assert_eq!(normalize("ab3de--7f\tgh9\n"), "ab3de7fgh9");
        assert_eq!(normalize("O0IL1-oil"), "00111011");
        for code in generate_codes() {
            let n = normalize(code.expose());
            assert_eq!(n.len(), 10);
            assert_eq!(normalize(&code.expose().to_uppercase()), n);
            assert_eq!(normalize(&n), n, "normalize is idempotent");
        }
    }
}
