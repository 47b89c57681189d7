//! Keyed token buckets in memory: the rate limits of one gateway instance.
//!
//! Each instance counts on its own, so with N instances behind a load balancer a
//! client gets up to N times the configured rate; the limits are sized for abuse (a
//! scraper, a flood), where that factor does not matter. Memory is bounded: buckets
//! that have refilled completely carry no information and are dropped when the table
//! grows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use centinela_core::ratelimit::{Bucket, Rate};

/// Keys kept before full buckets are swept.
const SWEEP_AT: usize = 50_000;
/// Keys kept at most; past this (only under a spread-out flood) the table is reset.
const MAX_KEYS: usize = 500_000;

/// Token buckets by key.
#[derive(Debug)]
pub struct Limiter {
    start: Instant,
    buckets: Mutex<HashMap<String, (Bucket, Rate)>>,
}

impl Default for Limiter {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

impl Limiter {
    /// Takes a token from `key`'s bucket: `Err(seconds)` when the caller must wait.
    pub fn check(&self, key: &str, rate: Rate) -> Result<(), u64> {
        let now = self.start.elapsed().as_secs_f64();
        let Ok(mut map) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; do not add an outage to it.
            return Ok(());
        };
        if let Some((bucket, r)) = map.get_mut(key) {
            *r = rate;
            return bucket.take(rate, now);
        }
        if map.len() >= SWEEP_AT {
            map.retain(|_, (b, r)| !b.is_full(*r, now));
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        let mut bucket = Bucket::full(rate, now);
        let out = bucket.take(rate, now);
        map.insert(key.to_owned(), (bucket, rate));
        out
    }

    /// Number of keys tracked (for tests and metrics).
    pub fn len(&self) -> usize {
        self.buckets.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// True when no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_independent() {
        let l = Limiter::default();
        let rate = Rate::parse("2/min").expect("rate");
        assert!(l.check("a", rate).is_ok());
        assert!(l.check("a", rate).is_ok());
        assert!(l.check("a", rate).is_err());
        assert!(l.check("b", rate).is_ok());
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn full_buckets_are_swept() {
        let l = Limiter::default();
        let rate = Rate::parse("1000/s").expect("rate");
        for i in 0..SWEEP_AT + 10 {
            let _ = l.check(&format!("k{i}"), rate);
        }
        // Each key used one token; a few milliseconds later they are full again and
        // the sweep at the limit removed them.
        assert!(l.len() <= SWEEP_AT + 10);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let _ = l.check("fresh", rate);
        let _ = l.check("fresh2", rate);
        assert!(l.len() < SWEEP_AT, "{}", l.len());
    }
}
