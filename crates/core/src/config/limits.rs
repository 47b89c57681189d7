//! `[rate_limit]`: the global rate limits of [`crate::ratelimit`], validated.

use serde::Deserialize;

use super::{Sp, Validator};
use crate::ratelimit::{Rate, RateLimits};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimit {
    per_ip: Sp<String>,
    per_user: Sp<String>,
}

/// `"off"` disables a limit; anything else is a rate.
pub(super) fn optional_rate(s: &str) -> Result<Option<Rate>, String> {
    if s == "off" {
        Ok(None)
    } else {
        Rate::parse(s).map(Some)
    }
}

impl Validator<'_> {
    pub(super) fn rate_limits(&mut self, raw: &RawRateLimit) -> RateLimits {
        let d = RateLimits::default();
        RateLimits {
            per_ip: self.field(&raw.per_ip, "rate_limit.per_ip", d.per_ip, |s| {
                optional_rate(s)
            }),
            per_user: self.field(&raw.per_user, "rate_limit.per_user", d.per_user, |s| {
                optional_rate(s)
            }),
        }
    }
}
