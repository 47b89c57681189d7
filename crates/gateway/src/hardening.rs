//! The response header policy (`centinela_core::headers`) turned, once at start-up,
//! into ready header names and values, and applied to every response.
//!
//! `HeaderPolicy::actions` says what a response needs; building those names and
//! values from strings on every response cost a dozen allocations and header-name
//! parses per request, so the gateway does it once per route here and each response
//! only clones reference-counted values into its header map.

use centinela_core::headers::{harden_set_cookie, Action, CookieHardening, HeaderPolicy};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// One header to set on a response.
#[derive(Clone, Debug)]
struct SetHeader {
    name: HeaderName,
    value: HeaderValue,
    /// Leave a value the upstream sent (its own Content-Security-Policy).
    only_if_missing: bool,
}

/// The header policy, compiled for each route.
#[derive(Clone, Debug)]
pub(crate) struct ResponseHardening {
    remove: Vec<HeaderName>,
    /// For responses that did not come through a route with its own CSP.
    default: Vec<SetHeader>,
    /// Per route index: `Some` where the route configures its own CSP.
    per_route: Vec<Option<Vec<SetHeader>>>,
    cookies: Option<CookieHardening>,
}

impl ResponseHardening {
    /// Compiles `policy` for routes whose own CSPs are `route_csps` (by route index).
    ///
    /// Names and values were validated when the configuration was loaded; one that
    /// still fails here is left out and logged rather than sent malformed.
    pub(crate) fn new<'a>(
        policy: &HeaderPolicy,
        route_csps: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Self {
        Self {
            remove: policy
                .remove
                .iter()
                .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                .collect(),
            default: compile(policy.actions(None)),
            per_route: route_csps
                .into_iter()
                .map(|csp| csp.map(|c| compile(policy.actions(Some(c)))))
                .collect(),
            cookies: policy.cookies.clone(),
        }
    }

    /// Security headers on every response, version headers removed, and, on upstream
    /// responses (`route` is the route that forwarded it), cookies completed with the
    /// attributes they lack.
    pub(crate) fn apply(&self, h: &mut HeaderMap, route: Option<usize>) {
        crate::proxy::remove_where(h, |k| self.remove.contains(k));
        let set = route
            .and_then(|i| self.per_route.get(i))
            .and_then(Option::as_ref)
            .unwrap_or(&self.default);
        // One growth of the map for all of them rather than one per doubling. A map
        // already at its size limit keeps growing (or not) insert by insert.
        let _ = h.try_reserve(set.len());
        for s in set {
            if !s.only_if_missing || !h.contains_key(&s.name) {
                h.insert(s.name.clone(), s.value.clone());
            }
        }
        if let (Some(_), Some(cookies)) = (route, &self.cookies) {
            harden_cookies(h, cookies);
        }
    }
}

fn compile(actions: Vec<Action>) -> Vec<SetHeader> {
    actions
        .into_iter()
        .filter_map(|a| {
            let (name, value, only_if_missing) = match a {
                Action::Set(n, v) => (n, v, false),
                Action::SetIfMissing(n, v) => (n, v, true),
            };
            match HeaderValue::from_str(&value) {
                Ok(value) => Some(SetHeader {
                    name: HeaderName::from_static(name),
                    value,
                    only_if_missing,
                }),
                Err(_) => {
                    tracing::warn!(header = name, "header value is not valid in HTTP; not sent");
                    None
                }
            }
        })
        .collect()
}

fn harden_cookies(h: &mut HeaderMap, cookies: &CookieHardening) {
    if !h.contains_key(header::SET_COOKIE) {
        return;
    }
    let hardened: Vec<HeaderValue> = h
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| HeaderValue::from_str(&harden_set_cookie(v, cookies)).ok())
        .collect();
    if !hardened.is_empty() {
        h.remove(header::SET_COOKIE);
        for v in hardened {
            h.append(header::SET_COOKIE, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn default_headers_versions_removed_upstream_csp_kept() {
        let hard =
            ResponseHardening::new(&HeaderPolicy::default(), [None, Some("default-src 'none'")]);
        let mut h = headers(&[
            ("server", "gunicorn/20.0"),
            ("x-powered-by", "Express"),
            ("content-security-policy", "script-src 'self' cdn.example"),
            ("x-frame-options", "SAMEORIGIN"),
        ]);
        hard.apply(&mut h, Some(0));
        assert!(h.get("server").is_none());
        assert!(h.get("x-powered-by").is_none());
        assert_eq!(
            h["content-security-policy"],
            "script-src 'self' cdn.example"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h.get_all("x-frame-options").iter().count(), 1);

        // A route with its own CSP replaces the upstream's.
        let mut h = headers(&[("content-security-policy", "script-src *")]);
        hard.apply(&mut h, Some(1));
        assert_eq!(h["content-security-policy"], "default-src 'none'");

        // The gateway's own answers get the default CSP.
        let mut h = HeaderMap::new();
        hard.apply(&mut h, None);
        assert_eq!(
            h["content-security-policy"],
            centinela_core::headers::DEFAULT_CSP
        );
    }

    #[test]
    fn cookies_hardened_only_on_upstream_responses() {
        let hard = ResponseHardening::new(&HeaderPolicy::default(), [None]);
        let mut h = headers(&[
            ("set-cookie", "sid=1"),
            ("set-cookie", "csrftoken=2; Path=/"),
        ]);
        hard.apply(&mut h, Some(0));
        let got: Vec<_> = h.get_all("set-cookie").iter().collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], "sid=1; Secure; HttpOnly; SameSite=Lax");
        assert_eq!(got[1], "csrftoken=2; Path=/; Secure; SameSite=Lax");

        let mut own = headers(&[("set-cookie", "__Host-centinela=x; Secure; HttpOnly; Path=/")]);
        hard.apply(&mut own, None);
        assert_eq!(
            own["set-cookie"],
            "__Host-centinela=x; Secure; HttpOnly; Path=/"
        );
    }

    #[test]
    fn no_policy_sets_only_nosniff() {
        let none = HeaderPolicy {
            content_security_policy: None,
            permissions_policy: None,
            referrer_policy: None,
            frame_options: None,
            cross_origin_opener_policy: None,
            remove: vec![],
            cookies: None,
        };
        let hard = ResponseHardening::new(&none, [None]);
        let mut h = headers(&[("server", "nginx"), ("set-cookie", "a=b")]);
        hard.apply(&mut h, Some(0));
        assert_eq!(h.len(), 3);
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["set-cookie"], "a=b");
    }
}
