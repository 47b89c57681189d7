//! Security events and the hash chain that makes the audit log tamper-evident.
//!
//! Every event is stored with a sequence number and the SHA-256 of its predecessor,
//! and its own hash covers both, so changing, inserting or deleting a record breaks
//! the chain from that point on; [`verify`] names the first broken link. Events carry
//! no secrets: no password, session id, token, TOTP secret or request body ever goes
//! into one, only names, addresses, routes and the detectors that fired.

use std::fmt;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// The hash "before" the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Declares [`Kind`] from one table: each variant with its stored name and ECS
/// category, so the enum, [`Kind::as_str`], [`Kind::category`] and [`Kind::ALL`]
/// cannot drift apart when a kind is added.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, $category:literal; )*) => {
        /// What happened.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Kind {
            $( $(#[$doc])* $variant, )*
        }

        impl Kind {
            /// Every kind, for reading stored names back.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// Stable name, used in storage, exports and alert rules.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }

            /// The ECS `event.category` of this kind.
            pub fn category(self) -> &'static str {
                match self { $(Self::$variant => $category,)* }
            }
        }
    };
}

kinds! {
    /// A password (and second factor) was accepted.
    LoginSuccess => "login-success", "authentication";
    /// Wrong credentials or code.
    LoginFailure => "login-failure", "authentication";
    /// An account or address was locked after too many failures.
    LoginLocked => "login-locked", "authentication";
    /// A second factor was turned on.
    MfaEnrolled => "mfa-enrolled", "authentication";
    /// A user's second factor (and recovery codes) was removed by an administrator.
    MfaRemoved => "mfa-removed", "authentication";
    /// A session ended by logout.
    Logout => "logout", "session";
    /// Every session of a user was ended (by the user or an administrator).
    SessionsRevoked => "sessions-revoked", "session";
    /// The access policy refused a request.
    PolicyDenied => "policy-denied", "web";
    /// Request inspection refused (or, detect-only, flagged) a request.
    InspectionBlocked => "inspection-blocked", "web";
    /// A rate limit was reached.
    RateLimited => "rate-limited", "web";
    /// The gateway started with a configuration.
    ConfigLoaded => "config-loaded", "configuration";
    /// A file the gateway reads while running (the TLS certificate) was reloaded, or
    /// a reload failed.
    ConfigReloaded => "config-reloaded", "configuration";
    /// An administrator changed an account or a token.
    AdminAction => "admin-action", "iam";
    /// Data keys were rotated.
    KeyRotation => "key-rotation", "configuration";
    /// A periodic check found the audit chain broken (an edited, inserted or deleted
    /// record): recorded so the alert rule of the same name fires.
    AuditChainBroken => "audit-chain-broken", "database";
    /// An administrator signed in from a network never seen for them before.
    AdminNewNetwork => "admin-new-network", "authentication";
    /// Events past the retention period were deleted behind a signed checkpoint.
    AuditPruned => "audit-pruned", "database";
}

impl Kind {
    /// The kind a stored name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event before it is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// What happened.
    pub kind: Kind,
    /// `success` or `failure` (ECS `event.outcome`).
    pub outcome: &'static str,
    /// Who did it (user name), if known.
    pub actor: Option<String>,
    /// From where.
    pub client_ip: Option<String>,
    /// What it was done to (a user, a route and path, a token id).
    pub target: Option<String>,
    /// More fields, as a JSON object (never secrets).
    pub details: serde_json::Value,
}

impl Event {
    /// An event of `kind` now, with no other fields.
    pub fn new(kind: Kind, outcome: &'static str, at_ms: i64) -> Self {
        Self {
            at_ms,
            kind,
            outcome,
            actor: None,
            client_ip: None,
            target: None,
            details: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// Sets the actor.
    #[must_use]
    pub fn actor(mut self, a: impl Into<String>) -> Self {
        self.actor = Some(truncate(a.into(), 128));
        self
    }

    /// Sets the client address.
    #[must_use]
    pub fn client(mut self, ip: impl fmt::Display) -> Self {
        self.client_ip = Some(truncate(ip.to_string(), 64));
        self
    }

    /// Sets the target.
    #[must_use]
    pub fn target(mut self, t: impl Into<String>) -> Self {
        self.target = Some(truncate(t.into(), 512));
        self
    }

    /// Adds a detail field.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        if let serde_json::Value::Object(m) = &mut self.details {
            m.insert(key.to_owned(), value.into());
        }
        self
    }

    /// The details as stored: compact JSON, at most 4,000 bytes (longer details are
    /// replaced by a marker rather than cut mid-character).
    pub fn details_text(&self) -> String {
        let text = self.details.to_string();
        if text.len() <= 4000 {
            text
        } else {
            "{\"truncated\":true}".to_owned()
        }
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// An event as stored, with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    /// Kind name.
    pub kind: String,
    /// Outcome.
    pub outcome: String,
    /// Actor.
    pub actor: Option<String>,
    /// Client address.
    pub client_ip: Option<String>,
    /// Target.
    pub target: Option<String>,
    /// Details (JSON text).
    pub details: String,
    /// Hash of the previous event.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

fn put(h: &mut Sha256, field: Option<&str>) {
    match field {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update(u64::try_from(s.len()).unwrap_or(u64::MAX).to_be_bytes());
            h.update(s.as_bytes());
        }
    }
}

/// The hash of an event at `seq` after `prev_hash`: SHA-256 over the previous hash and
/// every field, each length-prefixed so no two events encode alike.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    kind: &str,
    outcome: &str,
    actor: Option<&str>,
    client_ip: Option<&str>,
    target: Option<&str>,
    details: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"centinela-audit-v1");
    put(&mut h, Some(prev_hash));
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    put(&mut h, Some(kind));
    put(&mut h, Some(outcome));
    put(&mut h, actor);
    put(&mut h, client_ip);
    put(&mut h, target);
    put(&mut h, Some(details));
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

impl Stored {
    /// The hash this record should have.
    pub fn expected_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            self.seq,
            self.at_ms,
            &self.kind,
            &self.outcome,
            self.actor.as_deref(),
            self.client_ip.as_deref(),
            self.target.as_deref(),
            &self.details,
        )
    }
}

/// Where the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    /// The first record that does not verify (or where one is missing).
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the audit chain breaks at event {}: {}",
            self.seq, self.reason
        )
    }
}

/// Incremental verification, so a long log can be checked in pages.
#[derive(Clone, Debug)]
pub struct Verifier {
    expect_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl Verifier {
    /// Starts at the beginning of the chain.
    pub fn new() -> Self {
        Self::from_checkpoint(0, GENESIS.to_owned())
    }

    /// Starts after a checkpoint: the record at `seq` (pruned) had `hash`.
    pub fn from_checkpoint(seq: i64, hash: String) -> Self {
        Self {
            expect_seq: seq + 1,
            prev_hash: hash,
            checked: 0,
        }
    }

    /// Checks the next record.
    pub fn check(&mut self, r: &Stored) -> Result<(), Break> {
        if r.seq != self.expect_seq {
            return Err(Break {
                seq: self.expect_seq,
                reason: format!(
                    "event {} is missing (the next stored event is {})",
                    self.expect_seq, r.seq
                ),
            });
        }
        if r.prev_hash != self.prev_hash {
            return Err(Break {
                seq: r.seq,
                reason: "it does not point at the previous event's hash (an event before it was changed or removed)".to_owned(),
            });
        }
        if r.expected_hash() != r.hash {
            return Err(Break {
                seq: r.seq,
                reason: "its content does not match its hash (it was changed)".to_owned(),
            });
        }
        self.prev_hash.clone_from(&r.hash);
        self.expect_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Checks that the chain ends where the head says it does.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<u64, Break> {
        if head_seq != self.expect_seq - 1 {
            return Err(Break {
                seq: self.expect_seq,
                reason: format!(
                    "the log ends at event {} but {head_seq} were written (events at the end were removed)",
                    self.expect_seq - 1
                ),
            });
        }
        if head_hash != self.prev_hash {
            return Err(Break {
                seq: head_seq,
                reason: "the last event's hash differs from the recorded head".to_owned(),
            });
        }
        Ok(self.checked)
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

/// A whole chain at once (tests and small logs).
pub fn verify<'a>(
    records: impl IntoIterator<Item = &'a Stored>,
    head_seq: i64,
    head_hash: &str,
) -> Result<u64, Break> {
    let mut v = Verifier::new();
    for r in records {
        v.check(r)?;
    }
    v.finish(head_seq, head_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_unique_name_that_reads_back() {
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        for &k in Kind::ALL {
            assert_eq!(Kind::from_name(k.as_str()), Some(k));
            // Serialized events use the same name as storage.
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::json!(k.as_str()))
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
        assert_eq!(Kind::from_name("no-such-kind"), None);
    }

    fn chain(n: i64) -> Vec<Stored> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut r = Stored {
                    seq,
                    at_ms: 1_000 + seq,
                    kind: "login-failure".into(),
                    outcome: "failure".into(),
                    actor: Some(format!("user{seq}")),
                    client_ip: Some("192.0.2.1".into()),
                    target: None,
                    details: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = r.expected_hash();
                prev.clone_from(&r.hash);
                r
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let last = c[4].hash.clone();
        assert_eq!(verify(&c, 5, &last), Ok(5));
        assert_eq!(verify(&[], 0, GENESIS), Ok(0));
    }

    #[test]
    fn every_kind_of_tampering_is_found_at_its_place() {
        let c = chain(5);
        let last = c[4].hash.clone();
        // Edited content.
        let mut edited = c.clone();
        edited[2].actor = Some("someone-else".into());
        assert_eq!(verify(&edited, 5, &last).map_err(|b| b.seq), Err(3));
        // Edited and re-hashed: the next link breaks.
        edited[2].hash = edited[2].expected_hash();
        assert_eq!(verify(&edited, 5, &last).map_err(|b| b.seq), Err(4));
        // A deleted record in the middle.
        let mut gap = c.clone();
        gap.remove(1);
        assert_eq!(verify(&gap, 5, &last).map_err(|b| b.seq), Err(2));
        // The last record deleted: the head says more were written.
        let short = &c[..4];
        assert_eq!(verify(short, 5, &last).map_err(|b| b.seq), Err(5));
        // Null vs empty actor hash differently.
        let mut nulled = c.clone();
        nulled[0].actor = Some(String::new());
        assert!(verify(&nulled, 5, &last).is_err());
    }

    #[test]
    fn checkpoints_let_pruned_logs_verify() {
        let c = chain(6);
        let mut v = Verifier::from_checkpoint(3, c[2].hash.clone());
        for r in &c[3..] {
            assert_eq!(v.check(r), Ok(()));
        }
        assert_eq!(v.finish(6, &c[5].hash), Ok(3));
    }

    #[test]
    fn events_are_bounded() {
        let e = Event::new(Kind::PolicyDenied, "failure", 1)
            .actor("x".repeat(500))
            .target("é".repeat(400))
            .detail("reason", "y".repeat(5000));
        assert_eq!(e.actor.as_deref().map(str::len), Some(128));
        assert!(e.target.as_deref().is_some_and(|t| t.len() <= 512));
        assert_eq!(e.details_text(), "{\"truncated\":true}");
    }
}
