//! Password rules and password hashing.
//!
//! The policy follows NIST SP 800-63B §5.1.1.2: a minimum length, a generous maximum,
//! a check against commonly used passwords and against the username, and *no*
//! composition rules (they push people to `Password1!` and add nothing). Lengths are
//! counted in Unicode scalar values, so a passphrase in any script is measured the way
//! the person typing it sees it.
//!
//! Hashing is Argon2id v1.3 in PHC string format with a random 16-byte salt; the
//! default cost is OWASP's recommendation (19 MiB, 2 passes, 1 lane). Verification
//! reports whether the stored hash was made with other parameters, so the caller can
//! re-hash on a successful login and costs can be raised without a migration.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Fewest characters a password may have (NIST: at least 8; we ask for passphrases).
pub const MIN_LEN: usize = 12;
/// Most characters a password may have; bounds the work an attacker can make us do
/// while still allowing long passphrases (NIST: at least 64).
pub const MAX_LEN: usize = 128;

/// The common-password list shipped with the crate (see `data/README.md`).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Largest Argon2 memory cost (KiB) we agree to *verify* beyond the hasher's own: a
/// stored hash is read from the database, and a corrupted or planted row must not be
/// able to make one login allocate gigabytes or run for minutes.
const VERIFY_MAX_M_COST_KIB: u32 = 1024 * 1024;
/// Largest Argon2 pass count we agree to verify beyond the hasher's own (same reason).
const VERIFY_MAX_T_COST: u32 = 64;
/// Largest Argon2 lane count we agree to verify beyond the hasher's own (same reason).
const VERIFY_MAX_P_COST: u32 = 64;

/// Why a password was refused. The messages are shown to the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "password is too short; use at least {min} characters (a few words make a good passphrase)"
    )]
    TooShort { min: usize },
    #[error("password is too long; use at most {max} characters")]
    TooLong { max: usize },
    #[error("password is too common; choose a longer passphrase")]
    Common,
    #[error("password must not be the same as the username; choose a passphrase")]
    SameAsUsername,
}

/// The lowercased common-password set, built on first use from the embedded list.
fn common_passwords() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_lowercase)
            .collect()
    })
}

/// How many entries the common-password list holds (for tests and `config check`).
pub fn common_password_count() -> usize {
    common_passwords().len()
}

/// Checks a new password against the policy. The username is the account's, so a
/// password equal to it (ignoring case) is refused.
pub fn check_policy(password: &str, username: &str) -> Result<(), PolicyError> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(PolicyError::TooShort { min: MIN_LEN });
    }
    if chars > MAX_LEN {
        return Err(PolicyError::TooLong { max: MAX_LEN });
    }
    let lowered = password.to_lowercase();
    if !username.is_empty() && lowered == username.to_lowercase() {
        return Err(PolicyError::SameAsUsername);
    }
    if is_guessable(&lowered) {
        return Err(PolicyError::Common);
    }
    Ok(())
}

/// True when a (lowercased) password is on the common list, or is one of the ways
/// people stretch a short common password to the minimum length: a common word with
/// digits or symbols around it (`iloveyou2024!`), the same in leetspeak
/// (`p@ssw0rd1234`), one short unit repeated (`abcabcabcabc`, `qwertyqwerty`), or a
/// run along the alphabet or the digits (`abcdefghijkl`, `890123456789`). Few lists
/// carry 12-character entries; these are where guessing tools start.
fn is_guessable(lowered: &str) -> bool {
    let common = common_passwords();
    if common.contains(lowered) {
        return true;
    }
    let is_pad = |c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ';
    let core = lowered.trim_matches(is_pad);
    if core.is_empty() {
        // Only digits and symbols: guessable when it is a run or a repetition.
        return is_run(lowered) || is_repetition(lowered);
    }
    let unleet_core = unleet(core);
    let unleet_all = unleet(lowered);
    let candidates = [core, unleet_core.as_str(), unleet_all.trim_matches(is_pad)];
    if candidates
        .iter()
        .any(|c| *c != lowered && c.chars().count() >= 4 && common.contains(*c))
    {
        return true;
    }
    is_repetition(lowered) || is_run(lowered)
}

/// The common leetspeak substitutions undone (`p@55w0rd` -> `password`).
fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '$' | '5' => 's',
            '7' | '+' => 't',
            '8' => 'b',
            other => other,
        })
        .collect()
}

/// `s` is one unit of at most half its length written again and again.
fn is_repetition(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    (1..=chars.len() / 2)
        .any(|unit| chars.len() % unit == 0 && chars.chunks(unit).all(|c| c == &chars[..unit]))
}

/// Every character is the one after (or before) the previous, digits wrapping from
/// 9 to 0: `abcdefghijkl`, `lkjihgfedcba`, `890123456789`.
fn is_run(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let step = |a: char, b: char| -> Option<i32> {
        match (a.to_digit(10), b.to_digit(10)) {
            (Some(x), Some(y)) => Some(match (x, y) {
                (9, 0) => 1,
                (0, 9) => -1,
                _ => i32::try_from(y).ok()? - i32::try_from(x).ok()?,
            }),
            _ if a.is_ascii_lowercase() && b.is_ascii_lowercase() => {
                Some(i32::from(b as u8) - i32::from(a as u8))
            }
            _ => None,
        }
    };
    let Some(first) = chars.windows(2).next().and_then(|w| step(w[0], w[1])) else {
        return false;
    };
    (first == 1 || first == -1) && chars.windows(2).all(|w| step(w[0], w[1]) == Some(first))
}

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    /// Memory per hash, in KiB.
    pub m_cost_kib: u32,
    /// Number of passes over the memory.
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
}

impl Default for HashParams {
    /// OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        Self {
            m_cost_kib: 19_456,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

impl HashParams {
    fn to_argon2(self) -> Result<Params, HashError> {
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None).map_err(|source| {
            HashError::InvalidParams {
                params: self,
                source,
            }
        })
    }
}

/// Hashing failed. Neither variant depends on the password, so it is safe to log.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(
        "invalid Argon2 parameters {params:?}: {source}; \
         use at least 8 KiB of memory per lane, at least 1 pass and at least 1 lane"
    )]
    InvalidParams {
        params: HashParams,
        #[source]
        source: argon2::Error,
    },
    #[error("Argon2 hashing failed: {0}; this is a bug or the machine is out of memory")]
    Hashing(#[source] argon2::password_hash::Error),
}

/// The outcome of checking a password against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// The password is right. When `needs_rehash` is true the stored hash was made with
    /// another algorithm, version or cost than the current one: hash the password again
    /// and store the new hash.
    Match { needs_rehash: bool },
    /// Wrong password, or a stored hash that is not a usable Argon2 PHC string.
    Mismatch,
}

/// Hashes and verifies passwords with Argon2id at fixed parameters.
///
/// Cloning is cheap; clones share the dummy hash used by [`Self::verify_dummy`].
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    params: HashParams,
    argon2: Argon2<'static>,
    /// A hash of a fixed password, made once with `params`, so that a login for an
    /// unknown user does the same work as one with a wrong password.
    dummy: Arc<OnceLock<String>>,
}

impl PasswordHasher {
    /// A hasher for `params`; fails if Argon2 refuses them (e.g. zero passes).
    pub fn new(params: HashParams) -> Result<Self, HashError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.to_argon2()?);
        Ok(Self {
            params,
            argon2,
            dummy: Arc::new(OnceLock::new()),
        })
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// Hashes `password` with a fresh random 16-byte salt; returns the PHC string
    /// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), which records everything needed to
    /// verify it later.
    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        // SaltString::generate draws 16 bytes (the recommended length) from the OS.
        let salt = SaltString::generate(&mut OsRng);
        let phc = self
            .argon2
            .hash_password(password.as_bytes(), &salt)
            .map_err(HashError::Hashing)?;
        Ok(phc.to_string())
    }

    /// Checks `password` against the stored PHC string `phc`.
    ///
    /// The stored hash's own parameters are used, so hashes made before a cost change
    /// still verify (and come back with `needs_rehash: true`). The final comparison of
    /// the computed and stored outputs is constant-time: `password_hash::Output`'s
    /// equality is implemented with `subtle`. A malformed string, a non-Argon2
    /// algorithm, or parameters far beyond any we would produce is a `Mismatch`,
    /// never a panic.
    pub fn verify(&self, password: &str, phc: &str) -> Verification {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return Verification::Mismatch;
        };
        let Ok(stored) = Params::try_from(&parsed) else {
            return Verification::Mismatch;
        };
        if !self.affordable(&stored) {
            return Verification::Mismatch;
        }
        if self
            .argon2
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Verification::Mismatch;
        }
        let needs_rehash = parsed.algorithm != Algorithm::Argon2id.ident()
            || parsed.version != Some(Version::V0x13.into())
            || stored.m_cost() != self.params.m_cost_kib
            || stored.t_cost() != self.params.t_cost
            || stored.p_cost() != self.params.p_cost
            || stored.output_len() != Some(Params::DEFAULT_OUTPUT_LEN)
            || !stored.keyid().is_empty()
            || !stored.data().is_empty();
        Verification::Match { needs_rehash }
    }

    /// Does the work of a verification against a fixed hash made with this hasher's
    /// parameters and throws the result away. Call it when the username is unknown so
    /// that such a login takes as long as one with a wrong password and cannot be told
    /// apart by timing.
    pub fn verify_dummy(&self, password: &str) {
        let phc = self.dummy.get_or_init(|| {
            // Hashing a constant with our own parameters cannot fail once `new` accepted
            // them, short of running out of memory; an empty string then makes the
            // verification below a cheap Mismatch, which is the best left to do.
            self.hash("centinela dummy password for unknown users")
                .unwrap_or_default()
        });
        let outcome = self.verify(password, phc);
        std::hint::black_box(outcome);
    }

    /// Whether the cost recorded in a stored hash is one we are willing to pay.
    fn affordable(&self, stored: &Params) -> bool {
        stored.m_cost() <= self.params.m_cost_kib.max(VERIFY_MAX_M_COST_KIB)
            && stored.t_cost() <= self.params.t_cost.max(VERIFY_MAX_T_COST)
            && stored.p_cost() <= self.params.p_cost.max(VERIFY_MAX_P_COST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(CHEAP).expect("cheap params are valid")
    }

    #[test]
    fn common_list_is_loaded_and_large() {
        assert!(
            common_password_count() >= 10_000,
            "{}",
            common_password_count()
        );
        assert!(common_passwords().contains("password"));
        assert!(common_passwords().iter().all(|p| *p == p.to_lowercase()));
    }

    #[test]
    fn common_passwords_are_refused_case_insensitively() {
        for pw in [
            "password1234",
            "qwertyuiop12",
            "qwerty123456",
            "1q2w3e4r5t6y",
            "PassWord1234",
            "QWERTYUIOP12",
        ] {
            assert_eq!(check_policy(pw, "alice"), Err(PolicyError::Common), "{pw}");
        }
    }

    #[test]
    fn short_common_passwords_stretched_to_length_are_refused() {
        for pw in [
            "iloveyou2024!",
            "!!sunshine!!",
            "dragon123456",
            "p@ssw0rd1234",
            "P@55W0RD!!!!",
            "abcabcabcabc",
            "qwertyqwerty",
            "aaaaaaaaaaaa",
            "abcdefghijkl",
            "zyxwvutsrqpo",
            "890123456789",
            "121212121212",
            "            ",
        ] {
            assert_eq!(check_policy(pw, "alice"), Err(PolicyError::Common), "{pw}");
        }
        // Real passphrases that merely contain a common word or a digit run pass.
        for pw in [
            "correct horse battery staple",
            "dragon fruit at midnight",
            "my 2 cats hate mondays",
            "abcdefghijk9",
            "tr0ub4dor&3 and more",
        ] {
            assert_eq!(check_policy(pw, "alice"), Ok(()), "{pw}");
        }
    }

    #[test]
    fn long_passphrase_passes() {
        assert_eq!(
            check_policy("correct horse battery staple", "alice"),
            Ok(())
        );
        // No composition rules: lowercase letters only are fine when long enough.
        assert_eq!(check_policy("lanternfishmarmalade", "alice"), Ok(()));
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        // 11 characters but 22 bytes: still too short.
        let short = "ñññññññññññ";
        assert_eq!(short.chars().count(), 11);
        assert_eq!(
            check_policy(short, "alice"),
            Err(PolicyError::TooShort { min: MIN_LEN })
        );
        // 12 characters of 3-byte CJK: long enough.
        assert_eq!(check_policy("日本語のパスフレーズです", "alice"), Ok(()));
        // 128 chars of 2 bytes each is allowed; 129 is not.
        let long = |n: usize| -> String { "éaüoñi".chars().cycle().take(n).collect() };
        assert_eq!(check_policy(&long(MAX_LEN), "alice"), Ok(()));
        assert_eq!(
            check_policy(&long(MAX_LEN + 1), "alice"),
            Err(PolicyError::TooLong { max: MAX_LEN })
        );
        assert_eq!(
            check_policy("elevenchars", "alice"),
            Err(PolicyError::TooShort { min: 12 })
        );
    }

    #[test]
    fn password_equal_to_username_is_refused() {
        assert_eq!(
            check_policy("Alice.Example.Org", "alice.example.org"),
            Err(PolicyError::SameAsUsername)
        );
        assert_eq!(
            check_policy("alice.example.org.x", "alice.example.org"),
            Ok(())
        );
    }

    #[test]
    fn messages_tell_the_user_what_to_do() {
        assert_eq!(
            PolicyError::Common.to_string(),
            "password is too common; choose a longer passphrase"
        );
        assert!(PolicyError::TooShort { min: 12 }.to_string().contains("12"));
        assert!(PolicyError::TooLong { max: 128 }
            .to_string()
            .contains("128"));
    }

    #[test]
    fn default_params_are_owasp() {
        assert_eq!(
            HashParams::default(),
            HashParams {
                m_cost_kib: 19_456,
                t_cost: 2,
                p_cost: 1
            }
        );
    }

    #[test]
    fn invalid_params_are_refused() {
        let err = PasswordHasher::new(HashParams {
            m_cost_kib: 64,
            t_cost: 0,
            p_cost: 1,
        })
        .expect_err("zero passes is invalid");
        assert!(matches!(err, HashError::InvalidParams { .. }));
    }

    #[test]
    fn hash_then_verify() {
        let h = cheap();
        let phc = h.hash("correct horse battery staple").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert_eq!(
            h.verify("correct horse battery staple", &phc),
            Verification::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            h.verify("correct horse battery stapler", &phc),
            Verification::Mismatch
        );
    }

    #[test]
    fn salts_are_random_and_16_bytes() {
        let h = cheap();
        let a = h.hash("same password here").expect("hash");
        let b = h.hash("same password here").expect("hash");
        assert_ne!(a, b);
        let parsed = PasswordHash::new(&a).expect("valid PHC");
        let salt = parsed.salt.expect("salt present");
        let mut buf = [0u8; 64];
        assert_eq!(salt.decode_b64(&mut buf).expect("b64 salt").len(), 16);
    }

    #[test]
    fn known_answer_argon2id_from_the_reference_implementation() {
        // Computed with libargon2 (the reference C code, through Python's argon2-cffi):
        // hash_secret(b"password", b"somesalt", time_cost=1, memory_cost=64,
        //             parallelism=1, hash_len=32, type=Type.ID)
        let phc =
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$cpx6VEQbwTVZvcpxNIxOVUWZ5xnAipUmAe1cg2GMG70";
        let h = cheap();
        assert_eq!(
            h.verify("password", phc),
            Verification::Match {
                needs_rehash: false
            }
        );
        assert_eq!(h.verify("Password", phc), Verification::Mismatch);
    }

    #[test]
    fn known_answer_argon2i_from_the_reference_readme() {
        // The phc-winner-argon2 README example:
        // echo -n "password" | ./argon2 somesalt -t 2 -m 16 -p 4 -l 24
        // An Argon2i hash still verifies, and asks to be re-hashed as Argon2id.
        let phc = "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        let h = cheap();
        assert_eq!(
            h.verify("password", phc),
            Verification::Match { needs_rehash: true }
        );
        assert_eq!(h.verify("passworD", phc), Verification::Mismatch);
    }

    #[test]
    fn needs_rehash_when_params_differ() {
        let old = cheap();
        let phc = old.hash("a long enough passphrase").expect("hash");
        let newer = PasswordHasher::new(HashParams {
            m_cost_kib: 128,
            t_cost: 1,
            p_cost: 1,
        })
        .expect("params");
        assert_eq!(
            newer.verify("a long enough passphrase", &phc),
            Verification::Match { needs_rehash: true }
        );
        assert_eq!(
            newer.verify("wrong passphrase here", &phc),
            Verification::Mismatch
        );
    }

    #[test]
    fn needs_rehash_for_other_argon2_variants() {
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            CHEAP.to_argon2().expect("params"),
        );
        let salt = SaltString::generate(&mut OsRng);
        let phc = argon2i
            .hash_password(b"a long enough passphrase", &salt)
            .expect("hash")
            .to_string();
        assert!(phc.starts_with("$argon2i$"));
        assert_eq!(
            cheap().verify("a long enough passphrase", &phc),
            Verification::Match { needs_rehash: true }
        );
    }

    #[test]
    fn malformed_or_foreign_hashes_are_a_mismatch() {
        let h = cheap();
        for phc in [
            "",
            "plaintext",
            "$argon2id$",
            "$argon2id$v=19$m=64,t=1,p=1$",
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ",
            "$argon2id$v=19$m=0,t=0,p=0$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$argon2id$v=19$m=64,t=1,p=1$!!!$???",
            "$pbkdf2-sha256$i=1000$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        ] {
            assert_eq!(h.verify("password", phc), Verification::Mismatch, "{phc}");
        }
    }

    #[test]
    fn absurd_stored_costs_are_not_computed() {
        // 4 TiB of memory would abort the process if we tried; it must be refused.
        let phc =
            "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert_eq!(cheap().verify("password", phc), Verification::Mismatch);
    }

    #[test]
    fn verify_dummy_runs_and_is_shared_by_clones() {
        let h = cheap();
        h.verify_dummy("whatever");
        let c = h.clone();
        assert!(
            c.dummy.get().is_some(),
            "clones share the computed dummy hash"
        );
        c.verify_dummy("anything else");
        let phc = c.dummy.get().expect("dummy");
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    }

    #[test]
    fn default_params_round_trip() {
        let h = PasswordHasher::new(HashParams::default()).expect("default params");
        let phc = h.hash("correct horse battery staple").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(
            h.verify("correct horse battery staple", &phc),
            Verification::Match {
                needs_rehash: false
            }
        );
        assert_eq!(h.verify("wrong", &phc), Verification::Mismatch);
        // Known answer at the default parameters, from libargon2 (argon2-cffi):
        // hash_secret(b"correct horse battery staple", b"centinela-salt16", time_cost=2,
        //             memory_cost=19456, parallelism=1, hash_len=32, type=Type.ID)
        let kat = "$argon2id$v=19$m=19456,t=2,p=1$Y2VudGluZWxhLXNhbHQxNg$BKL9N0hDDloPQk5FQioQmHqaL/97mK1rRetxISzLWq4";
        assert_eq!(
            h.verify("correct horse battery staple", kat),
            Verification::Match {
                needs_rehash: false
            }
        );
    }
}
