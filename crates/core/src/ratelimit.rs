//! Token buckets for rate limits per client address, per user and per route.
//!
//! A rate `N/period` lets a client send up to N requests at once (the bucket's
//! capacity) and then N per period, spread evenly. The bucket only needs the time of
//! its last refill and its tokens, so the gateway can keep one per key cheaply, and
//! the decision is a pure function of the clock value passed in.

use std::fmt;
use std::time::Duration;

/// `count` requests per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (also the burst size).
    pub count: u32,
    /// The period.
    pub per: Duration,
}

impl Rate {
    /// Parses `"100/s"`, `"600/min"`, `"10000/h"`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (n, unit) = s
            .split_once('/')
            .ok_or_else(|| format!("\"{s}\" is not a rate; write it like \"600/min\""))?;
        let count: u32 = n
            .trim()
            .parse()
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| format!("\"{s}\": the count must be a whole number above 0"))?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            other => {
                return Err(format!(
                    "\"{other}\" is not a period; use s, min or h (as in \"600/min\")"
                ))
            }
        };
        Ok(Self { count, per })
    }

    fn per_second(self) -> f64 {
        f64::from(self.count) / self.per.as_secs_f64()
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// One key's bucket. Times are seconds on any monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: f64,
}

impl Bucket {
    /// A full bucket at time `now`.
    pub fn full(rate: Rate, now: f64) -> Self {
        Self {
            tokens: f64::from(rate.count),
            at: now,
        }
    }

    fn refill(&mut self, rate: Rate, now: f64) {
        if now > self.at {
            let cap = f64::from(rate.count);
            self.tokens = (self.tokens + (now - self.at) * rate.per_second()).min(cap);
            self.at = now;
        }
    }

    /// Takes one token: `Ok` to go ahead, `Err(seconds)` until one is available.
    pub fn take(&mut self, rate: Rate, now: f64) -> Result<(), u64> {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / rate.per_second();
            // Whole seconds for Retry-After, at least 1.
            // (The epsilon keeps float noise from adding a second.)
            Err((wait - 1e-9).ceil().max(1.0) as u64)
        }
    }

    /// True when the bucket would be full at `now` (so it can be forgotten).
    pub fn is_full(&self, rate: Rate, now: f64) -> bool {
        let mut b = *self;
        b.refill(rate, now);
        b.tokens >= f64::from(rate.count)
    }
}

/// `[rate_limit]`: global limits; routes add their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Per client address, all requests.
    pub per_ip: Option<Rate>,
    /// Per signed-in user, all requests.
    pub per_user: Option<Rate>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_ip: Some(Rate {
                count: 1200,
                per: Duration::from_secs(60),
            }),
            per_user: Some(Rate {
                count: 1200,
                per: Duration::from_secs(60),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(
            Rate::parse("600/min"),
            Ok(Rate {
                count: 600,
                per: Duration::from_secs(60)
            })
        );
        assert_eq!(
            Rate::parse("5/s").map(|r| r.to_string()).as_deref(),
            Ok("5/s")
        );
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("ten/s").is_err());
        assert!(Rate::parse("5/fortnight").is_err());
        assert!(Rate::parse("5").is_err());
    }

    #[test]
    fn burst_then_steady_rate() {
        let rate = Rate::parse("3/s").expect("rate");
        let mut b = Bucket::full(rate, 0.0);
        assert!(b.take(rate, 0.0).is_ok());
        assert!(b.take(rate, 0.0).is_ok());
        assert!(b.take(rate, 0.0).is_ok());
        assert_eq!(b.take(rate, 0.0), Err(1));
        // One token comes back every third of a second.
        assert_eq!(b.take(rate, 0.2), Err(1));
        assert!(b.take(rate, 0.34).is_ok());
        assert!(!b.is_full(rate, 0.5));
        assert!(b.is_full(rate, 2.0));
        // Never more than the capacity, however long the pause.
        let mut b = Bucket::full(rate, 0.0);
        for _ in 0..3 {
            assert!(b.take(rate, 1000.0).is_ok());
        }
        assert!(b.take(rate, 1000.0).is_err());
    }

    #[test]
    fn slow_rates_say_how_long_to_wait() {
        let rate = Rate::parse("2/min").expect("rate");
        let mut b = Bucket::full(rate, 0.0);
        assert!(b.take(rate, 0.0).is_ok());
        assert!(b.take(rate, 0.0).is_ok());
        assert_eq!(b.take(rate, 0.0), Err(30));
        assert_eq!(b.take(rate, 20.0), Err(10));
        // A clock that goes backwards changes nothing.
        assert_eq!(b.take(rate, 10.0), Err(10));
    }
}
