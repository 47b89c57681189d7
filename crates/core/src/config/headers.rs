//! `[headers]`: the response hardening of [`crate::headers`], validated.

use serde::Deserialize;

use super::{Sp, Validator};
use crate::headers::{valid_header_value, CookieHardening, HeaderPolicy, SameSite};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeaders {
    content_security_policy: Sp<String>,
    permissions_policy: Sp<String>,
    referrer_policy: Sp<String>,
    frame_options: Sp<String>,
    cross_origin_opener_policy: Sp<String>,
    remove: Sp<Vec<String>>,
    harden_cookies: Sp<bool>,
    cookie_same_site: Sp<String>,
    cookie_http_only_except: Sp<Vec<String>>,
}

/// A header value from the config: `""` turns the header off.
fn optional_value(v: &str) -> Result<Option<String>, String> {
    if v.is_empty() {
        Ok(None)
    } else if valid_header_value(v) {
        Ok(Some(v.to_owned()))
    } else {
        Err("a header value is printable ASCII on one line".to_owned())
    }
}

impl Validator<'_> {
    pub(super) fn headers(&mut self, raw: &RawHeaders) -> HeaderPolicy {
        let d = HeaderPolicy::default();
        let content_security_policy = self.field(
            &raw.content_security_policy,
            "headers.content_security_policy",
            d.content_security_policy,
            |v| optional_value(v),
        );
        let permissions_policy = self.field(
            &raw.permissions_policy,
            "headers.permissions_policy",
            d.permissions_policy,
            |v| optional_value(v),
        );
        let referrer_policy = self.field(
            &raw.referrer_policy,
            "headers.referrer_policy",
            d.referrer_policy,
            |v| optional_value(v),
        );
        let frame_options = self.field(
            &raw.frame_options,
            "headers.frame_options",
            d.frame_options,
            |v| match v.to_ascii_uppercase().as_str() {
                "" => Ok(None),
                "DENY" | "SAMEORIGIN" => Ok(Some(v.to_ascii_uppercase())),
                _ => Err("use \"DENY\", \"SAMEORIGIN\" or \"\" (off)".to_owned()),
            },
        );
        let cross_origin_opener_policy = self.field(
            &raw.cross_origin_opener_policy,
            "headers.cross_origin_opener_policy",
            d.cross_origin_opener_policy,
            |v| optional_value(v),
        );
        let mut remove = d.remove;
        if let Some(extra) = &raw.remove {
            for name in extra.get_ref() {
                let lower = name.to_ascii_lowercase();
                let ok = !lower.is_empty()
                    && lower
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !ok {
                    self.report(
                        &extra.span(),
                        "headers.remove",
                        format!("\"{name}\" is not a header name"),
                    );
                } else if !remove.contains(&lower) {
                    remove.push(lower);
                }
            }
        }
        let harden = self.field(&raw.harden_cookies, "headers.harden_cookies", true, |b| {
            Ok(*b)
        });
        let same_site = self.field(
            &raw.cookie_same_site,
            "headers.cookie_same_site",
            Some(SameSite::Lax),
            |v| match v.to_ascii_lowercase().as_str() {
                "lax" => Ok(Some(SameSite::Lax)),
                "strict" => Ok(Some(SameSite::Strict)),
                "none" => Ok(Some(SameSite::None)),
                "" => Ok(None),
                _ => Err("use \"Lax\", \"Strict\", \"None\" or \"\" (leave as sent)".to_owned()),
            },
        );
        let exempt = raw.cookie_http_only_except.as_ref().map_or_else(
            || CookieHardening::default().http_only_exempt,
            |v| v.get_ref().clone(),
        );
        HeaderPolicy {
            content_security_policy,
            permissions_policy,
            referrer_policy,
            frame_options,
            cross_origin_opener_policy,
            remove,
            cookies: harden.then_some(CookieHardening {
                secure: true,
                http_only: true,
                http_only_exempt: exempt,
                same_site,
            }),
        }
    }
}
