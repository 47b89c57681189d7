//! Response hardening: the security headers the gateway puts on every response,
//! the version-revealing headers it removes, and the attributes it adds to cookies
//! that upstream applications set without them.
//!
//! The gateway is the place where a team can enforce these once for every service,
//! whatever framework produced the response. Values the operator configured win over
//! the upstream's, with one exception: an upstream's own Content-Security-Policy is
//! kept unless the route configures one, because an application that sends a CSP
//! usually knows its scripts better than a gateway-wide default does.

/// `SameSite` attribute values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on top-level navigations from other sites, not on their subrequests.
    Lax,
    /// Never sent from other sites.
    Strict,
    /// Always sent (requires `Secure`).
    None,
}

impl SameSite {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::Strict => "Strict",
            Self::None => "None",
        }
    }
}

/// What to add to upstream `Set-Cookie` headers that lack it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieHardening {
    /// Add `Secure` (the gateway only speaks HTTPS to clients).
    pub secure: bool,
    /// Add `HttpOnly`, except for the cookies in `http_only_exempt`.
    pub http_only: bool,
    /// Cookies scripts must read (CSRF tokens of Django and Angular-style clients).
    pub http_only_exempt: Vec<String>,
    /// Add this `SameSite` when none is set.
    pub same_site: Option<SameSite>,
}

impl Default for CookieHardening {
    fn default() -> Self {
        Self {
            secure: true,
            http_only: true,
            http_only_exempt: vec!["csrftoken".to_owned(), "XSRF-TOKEN".to_owned()],
            same_site: Some(SameSite::Lax),
        }
    }
}

/// The header policy of the gateway (`[headers]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderPolicy {
    /// Default CSP for responses whose route sets none and whose upstream sent none.
    pub content_security_policy: Option<String>,
    /// `Permissions-Policy`.
    pub permissions_policy: Option<String>,
    /// `Referrer-Policy`.
    pub referrer_policy: Option<String>,
    /// `X-Frame-Options` (the CSP default also says `frame-ancestors 'none'`).
    pub frame_options: Option<String>,
    /// `Cross-Origin-Opener-Policy`.
    pub cross_origin_opener_policy: Option<String>,
    /// Response headers removed (lower case): they advertise software and versions.
    pub remove: Vec<String>,
    /// `Set-Cookie` hardening; `None` leaves cookies alone.
    pub cookies: Option<CookieHardening>,
}

/// Headers that reveal the server software or framework and its version.
pub const VERSION_HEADERS: [&str; 9] = [
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-runtime",
    "x-version",
    "x-generator",
    "x-drupal-cache",
    "x-backend-server",
];

/// The default CSP: only same-origin resources, no plugins, no framing, no `<base>`
/// hijacking, forms only to this site.
pub const DEFAULT_CSP: &str = "default-src 'self'; object-src 'none'; base-uri 'self'; \
                               frame-ancestors 'none'; form-action 'self'";

impl Default for HeaderPolicy {
    fn default() -> Self {
        Self {
            content_security_policy: Some(DEFAULT_CSP.to_owned()),
            permissions_policy: Some(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=()".to_owned(),
            ),
            referrer_policy: Some("strict-origin-when-cross-origin".to_owned()),
            frame_options: Some("DENY".to_owned()),
            cross_origin_opener_policy: Some("same-origin".to_owned()),
            remove: VERSION_HEADERS.iter().map(|s| (*s).to_owned()).collect(),
            cookies: Some(CookieHardening::default()),
        }
    }
}

/// What to do with one header of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Set this header to this value, replacing any.
    Set(&'static str, String),
    /// Set it only if the response has none.
    SetIfMissing(&'static str, String),
}

impl HeaderPolicy {
    /// The headers to apply to a response of a route whose own CSP is `route_csp`.
    pub fn actions(&self, route_csp: Option<&str>) -> Vec<Action> {
        let mut out = Vec::with_capacity(6);
        out.push(Action::Set("x-content-type-options", "nosniff".to_owned()));
        match (route_csp, &self.content_security_policy) {
            (Some(csp), _) => out.push(Action::Set("content-security-policy", csp.to_owned())),
            (None, Some(csp)) => {
                out.push(Action::SetIfMissing("content-security-policy", csp.clone()));
            }
            (None, None) => {}
        }
        let fixed = [
            ("permissions-policy", &self.permissions_policy),
            ("referrer-policy", &self.referrer_policy),
            ("x-frame-options", &self.frame_options),
            (
                "cross-origin-opener-policy",
                &self.cross_origin_opener_policy,
            ),
        ];
        for (name, value) in fixed {
            if let Some(v) = value {
                out.push(Action::Set(name, v.clone()));
            }
        }
        out
    }
}

/// True for a value that can travel in a header: visible ASCII and spaces, no CR/LF.
pub fn valid_header_value(v: &str) -> bool {
    v.bytes()
        .all(|b| b == b' ' || b == b'\t' || (0x21..0x7f).contains(&b))
}

/// `Set-Cookie` with the attributes `policy` requires added where missing. Attribute
/// names compare case-insensitively; the cookie's own name and value are untouched.
pub fn harden_set_cookie(value: &str, policy: &CookieHardening) -> String {
    let mut parts = value.split(';');
    let name = parts
        .next()
        .and_then(|nv| nv.split_once('=').map(|(n, _)| n.trim()))
        .unwrap_or("");
    let mut has_secure = false;
    let mut has_http_only = false;
    let mut has_same_site = false;
    let mut same_site_none = false;
    for attr in parts {
        let key = attr.split('=').next().unwrap_or("").trim();
        if key.eq_ignore_ascii_case("secure") {
            has_secure = true;
        } else if key.eq_ignore_ascii_case("httponly") {
            has_http_only = true;
        } else if key.eq_ignore_ascii_case("samesite") {
            has_same_site = true;
            same_site_none = attr
                .split_once('=')
                .is_some_and(|(_, v)| v.trim().eq_ignore_ascii_case("none"));
        }
    }
    let mut out = value.trim_end().trim_end_matches(';').to_owned();
    // SameSite=None without Secure is refused by browsers; Secure is always right here.
    if (policy.secure || same_site_none) && !has_secure {
        out.push_str("; Secure");
    }
    if policy.http_only && !has_http_only && !policy.http_only_exempt.iter().any(|e| e == name) {
        out.push_str("; HttpOnly");
    }
    if let (Some(ss), false) = (policy.same_site, has_same_site) {
        out.push_str("; SameSite=");
        out.push_str(ss.as_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_gain_missing_attributes_only() {
        let p = CookieHardening::default();
        assert_eq!(
            harden_set_cookie("sid=abc; Path=/", &p),
            "sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            harden_set_cookie("sid=abc; path=/; secure; httponly; samesite=strict", &p),
            "sid=abc; path=/; secure; httponly; samesite=strict"
        );
        // Script-readable CSRF cookies keep working.
        assert_eq!(
            harden_set_cookie("csrftoken=xyz; Path=/", &p),
            "csrftoken=xyz; Path=/; Secure; SameSite=Lax"
        );
        // SameSite=None always gets Secure, even when Secure hardening is off.
        let lax = CookieHardening {
            secure: false,
            http_only: false,
            http_only_exempt: vec![],
            same_site: None,
        };
        assert_eq!(
            harden_set_cookie("t=1; SameSite=None", &lax),
            "t=1; SameSite=None; Secure"
        );
        assert_eq!(harden_set_cookie("t=1;", &lax), "t=1");
        // An attribute name inside the value does not count.
        assert_eq!(
            harden_set_cookie("note=Secure", &p),
            "note=Secure; Secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn actions() {
        let p = HeaderPolicy::default();
        let a = p.actions(None);
        assert!(a.contains(&Action::SetIfMissing(
            "content-security-policy",
            DEFAULT_CSP.to_owned()
        )));
        assert!(a.contains(&Action::Set("x-content-type-options", "nosniff".to_owned())));
        assert!(a.contains(&Action::Set("x-frame-options", "DENY".to_owned())));
        let a = p.actions(Some("default-src 'none'"));
        assert!(a.contains(&Action::Set(
            "content-security-policy",
            "default-src 'none'".to_owned()
        )));
        let none = HeaderPolicy {
            content_security_policy: None,
            permissions_policy: None,
            referrer_policy: None,
            frame_options: None,
            cross_origin_opener_policy: None,
            remove: vec![],
            cookies: None,
        };
        assert_eq!(
            none.actions(None),
            vec![Action::Set("x-content-type-options", "nosniff".to_owned())]
        );
    }

    #[test]
    fn header_values() {
        assert!(valid_header_value("default-src 'self'"));
        assert!(!valid_header_value("a\r\nSet-Cookie: x=1"));
        assert!(!valid_header_value("caf\u{e9}"));
    }
}
