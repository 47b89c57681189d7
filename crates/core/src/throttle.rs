//! Login throttling arithmetic: how long to slow down or lock out after failed logins.
//!
//! The store counts failures per account (and per client address) inside a sliding
//! window and records lock expiry; this module only decides, so the rules are plain
//! functions that tests can pin down. The first couple of mistakes cost nothing (people
//! mistype), then each further failure doubles a delay up to a cap, and at
//! `max_failures` within the window the account is locked for `lock_secs`, which stops
//! online guessing without locking a real user out for long.

/// Failures that are forgiven without any delay.
const FREE_FAILURES: u32 = 2;

/// Tunables for login throttling. `Default` is 10 failures in 15 minutes → 15 minutes
/// locked, delays from 250 ms doubling up to 5 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures within the window that lock the account.
    pub max_failures: u32,
    /// Length of the window failures are counted in, in seconds.
    pub window_secs: u64,
    /// How long a lock lasts, in seconds.
    pub lock_secs: u64,
    /// Delay after the first failure past the free ones, in milliseconds.
    pub base_delay_ms: u64,
    /// Largest delay, in milliseconds.
    pub max_delay_ms: u64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window_secs: 900,
            lock_secs: 900,
            base_delay_ms: 250,
            max_delay_ms: 5_000,
        }
    }
}

/// What to do with a login attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// Go ahead, after waiting `delay_ms` (answer after the delay, whatever the result).
    Allow { delay_ms: u64 },
    /// Refuse without checking the password; tell the client when to come back.
    Locked { retry_after_secs: u64 },
}

/// Decides on an attempt given the failures already counted in the window and the
/// lock expiry (unix seconds), if any.
pub fn decide(
    policy: &ThrottlePolicy,
    failures_in_window: u32,
    locked_until: Option<u64>,
    now: u64,
) -> ThrottleDecision {
    if let Some(until) = locked_until {
        if until > now {
            return ThrottleDecision::Locked {
                retry_after_secs: until - now,
            };
        }
    }
    ThrottleDecision::Allow {
        delay_ms: delay_ms(policy, failures_in_window),
    }
}

/// 0 for up to two failures, then `base_delay_ms`, doubling per failure, capped at
/// `max_delay_ms`.
fn delay_ms(policy: &ThrottlePolicy, failures: u32) -> u64 {
    let Some(doublings) = failures.checked_sub(FREE_FAILURES + 1) else {
        return 0;
    };
    let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
    policy
        .base_delay_ms
        .saturating_mul(factor)
        .min(policy.max_delay_ms)
}

/// Whether the failure just recorded (making `failures_in_window_after_this_failure`)
/// should lock the account.
pub fn should_lock(policy: &ThrottlePolicy, failures_in_window_after_this_failure: u32) -> bool {
    failures_in_window_after_this_failure >= policy.max_failures
}

/// When a lock placed at `now` ends, in unix seconds.
pub fn lock_until(policy: &ThrottlePolicy, now: u64) -> u64 {
    now.saturating_add(policy.lock_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(delay_ms: u64) -> ThrottleDecision {
        ThrottleDecision::Allow { delay_ms }
    }

    #[test]
    fn defaults() {
        let p = ThrottlePolicy::default();
        assert_eq!(
            (
                p.max_failures,
                p.window_secs,
                p.lock_secs,
                p.base_delay_ms,
                p.max_delay_ms
            ),
            (10, 900, 900, 250, 5_000)
        );
    }

    #[test]
    fn delay_schedule() {
        let p = ThrottlePolicy::default();
        let got: Vec<ThrottleDecision> = (0..=12).map(|f| decide(&p, f, None, 1_000)).collect();
        let want: Vec<ThrottleDecision> = [
            0, 0, 0, 250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000, 5_000,
        ]
        .into_iter()
        .map(allow)
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        let p = ThrottlePolicy {
            max_delay_ms: u64::MAX,
            ..ThrottlePolicy::default()
        };
        assert_eq!(decide(&p, 66, None, 0), allow(u64::MAX));
        assert_eq!(decide(&p, u32::MAX, None, 0), allow(u64::MAX));
        assert_eq!(
            decide(&ThrottlePolicy::default(), u32::MAX, None, 0),
            allow(5_000)
        );
    }

    #[test]
    fn locked_until_in_the_future_locks() {
        let p = ThrottlePolicy::default();
        assert_eq!(
            decide(&p, 0, Some(1_900), 1_000),
            ThrottleDecision::Locked {
                retry_after_secs: 900
            }
        );
        assert_eq!(
            decide(&p, 10, Some(1_001), 1_000),
            ThrottleDecision::Locked {
                retry_after_secs: 1
            }
        );
        // Expired or exactly now: allowed again (with the delay the failures warrant).
        assert_eq!(decide(&p, 10, Some(1_000), 1_000), allow(5_000));
        assert_eq!(decide(&p, 1, Some(500), 1_000), allow(0));
    }

    #[test]
    fn lock_at_max_failures() {
        let p = ThrottlePolicy::default();
        assert!(!should_lock(&p, 9));
        assert!(should_lock(&p, 10));
        assert!(should_lock(&p, 11));
        assert_eq!(lock_until(&p, 1_000), 1_900);
        assert_eq!(lock_until(&p, u64::MAX), u64::MAX);
    }
}
