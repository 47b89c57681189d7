//! Checks of one HTTP response head: HSTS, CSP quality, the other security headers,
//! version disclosure, cookie flags and CORS.

use super::rules::*;
use super::{Head, PROBE_ORIGIN};
use crate::finding::{Finding, Location, Severity};

/// Six months: the shortest HSTS max-age worth having (and the preload list's floor
/// is a year).
const MIN_HSTS: u64 = 15_552_000;

pub fn check(head: &Head, report: &mut crate::Report, loc: &dyn Fn(&str) -> Location) {
    let mut push = |f: Finding| report.push(f);

    // === HSTS ===
    match head.get("strict-transport-security") {
        None => push(Finding::new(
            &NO_HSTS,
            loc("Strict-Transport-Security"),
            "no Strict-Transport-Security header",
        )),
        Some(v) => {
            let max_age = v
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("max-age="))
                .find_map(|n| n.trim_matches('"').parse::<u64>().ok());
            match max_age {
                Some(n) if n >= MIN_HSTS => {}
                Some(n) => push(
                    Finding::new(
                        &NO_HSTS,
                        loc("Strict-Transport-Security"),
                        format!("max-age={n} is shorter than six months"),
                    )
                    .with_severity(Severity::Low),
                ),
                None => push(Finding::new(
                    &NO_HSTS,
                    loc("Strict-Transport-Security"),
                    format!("`{v}` has no valid max-age"),
                )),
            }
        }
    }

    // === CSP ===
    let csp = head.get("content-security-policy");
    let mut frame_ancestors = false;
    match csp {
        None => push(Finding::new(
            &NO_CSP,
            loc("Content-Security-Policy"),
            "no Content-Security-Policy header",
        )),
        Some(policy) => {
            let problems = csp_problems(policy);
            frame_ancestors = policy
                .split(';')
                .any(|d| d.trim().to_ascii_lowercase().starts_with("frame-ancestors"));
            if !problems.is_empty() {
                push(Finding::new(
                    &WEAK_CSP,
                    loc("Content-Security-Policy"),
                    problems.join("; "),
                ));
            }
        }
    }

    // === other headers ===
    if !head
        .get("x-content-type-options")
        .is_some_and(|v| v.eq_ignore_ascii_case("nosniff"))
    {
        push(Finding::new(
            &NO_NOSNIFF,
            loc("X-Content-Type-Options"),
            "X-Content-Type-Options is not `nosniff`",
        ));
    }
    let xfo = head
        .get("x-frame-options")
        .is_some_and(|v| matches!(v.to_ascii_uppercase().as_str(), "DENY" | "SAMEORIGIN"));
    if !xfo && !frame_ancestors {
        push(Finding::new(
            &NO_FRAME_PROTECTION,
            loc("X-Frame-Options"),
            "neither X-Frame-Options nor CSP frame-ancestors restricts framing",
        ));
    }
    match head.get("referrer-policy").map(str::to_ascii_lowercase) {
        None => push(Finding::new(
            &REFERRER,
            loc("Referrer-Policy"),
            "no Referrer-Policy header",
        )),
        Some(v) if v.contains("unsafe-url") || v.contains("no-referrer-when-downgrade") => {
            push(Finding::new(
                &REFERRER,
                loc("Referrer-Policy"),
                format!("Referrer-Policy `{v}` leaks full URLs"),
            ))
        }
        Some(_) => {}
    }
    if head.get("permissions-policy").is_none() {
        push(Finding::new(
            &NO_PERMISSIONS_POLICY,
            loc("Permissions-Policy"),
            "no Permissions-Policy header",
        ));
    }
    for name in [
        "server",
        "x-powered-by",
        "x-aspnet-version",
        "x-aspnetmvc-version",
        "x-generator",
        "x-runtime",
    ] {
        for v in head.all(name) {
            if v.chars().any(|c| c.is_ascii_digit()) {
                push(Finding::new(
                    &VERSION_DISCLOSURE,
                    loc(name),
                    format!("`{name}: {v}`"),
                ));
            }
        }
    }

    // === cookies ===
    for cookie in head.all("set-cookie") {
        let mut parts = cookie.split(';');
        let name = parts
            .next()
            .and_then(|nv| nv.split_once('=').map(|(n, _)| n.trim()))
            .unwrap_or("?");
        let attrs: Vec<String> = parts.map(|a| a.trim().to_ascii_lowercase()).collect();
        let has = |a: &str| {
            attrs
                .iter()
                .any(|x| x == a || x.starts_with(&format!("{a}=")))
        };
        let object = format!("cookie {name}");
        // A cookie being deleted (Max-Age=0 or an expiry in the past) carries nothing.
        if attrs.iter().any(|a| a == "max-age=0") {
            continue;
        }
        if !has("secure") {
            push(Finding::new(
                &COOKIE_SECURE,
                loc(&object),
                format!("cookie `{name}` is not Secure"),
            ));
        }
        if !has("httponly") {
            let lower = name.to_ascii_lowercase();
            let session = ["sess", "auth", "token", "sid", "login", "jwt"]
                .iter()
                .any(|s| lower.contains(s));
            let f = Finding::new(
                &COOKIE_HTTPONLY,
                loc(&object),
                format!("cookie `{name}` is not HttpOnly"),
            );
            push(if session {
                f.with_severity(Severity::Medium)
            } else {
                f
            });
        }
        let samesite = attrs
            .iter()
            .find_map(|a| a.strip_prefix("samesite="))
            .map(str::to_owned);
        match samesite.as_deref() {
            Some("lax" | "strict") => {}
            Some(other) => push(Finding::new(
                &COOKIE_SAMESITE,
                loc(&object),
                format!("cookie `{name}` has SameSite={other}"),
            )),
            None => push(Finding::new(
                &COOKIE_SAMESITE,
                loc(&object),
                format!("cookie `{name}` has no SameSite attribute"),
            )),
        }
    }

    // === CORS ===
    if let Some(acao) = head.get("access-control-allow-origin") {
        let credentials = head
            .get("access-control-allow-credentials")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if acao == PROBE_ORIGIN || acao == "null" {
            let f = Finding::new(
                &CORS_REFLECT,
                loc("Access-Control-Allow-Origin"),
                format!(
                    "Origin `{PROBE_ORIGIN}` was answered with `{acao}`{}",
                    if credentials {
                        " and credentials allowed"
                    } else {
                        ""
                    }
                ),
            );
            push(if credentials {
                f
            } else {
                f.with_severity(Severity::Medium)
            });
        }
    }
}

/// What is wrong with a Content-Security-Policy, in words.
pub fn csp_problems(policy: &str) -> Vec<String> {
    let mut directives: Vec<(String, Vec<String>)> = Vec::new();
    for d in policy.split(';') {
        let mut words = d.split_whitespace();
        if let Some(name) = words.next() {
            directives.push((
                name.to_ascii_lowercase(),
                words.map(str::to_ascii_lowercase).collect(),
            ));
        }
    }
    let get = |n: &str| directives.iter().find(|(d, _)| d == n).map(|(_, v)| v);
    let default = get("default-src");
    let script = get("script-src").or(default);
    let mut out = Vec::new();
    match script {
        None => out.push("no script-src or default-src: scripts from anywhere".to_owned()),
        Some(sources) => {
            let nonce_or_hash = sources.iter().any(|s| {
                s.starts_with("'nonce-") || s.starts_with("'sha") || s == "'strict-dynamic'"
            });
            if sources.iter().any(|s| s == "'unsafe-inline'") && !nonce_or_hash {
                out.push("script sources allow 'unsafe-inline'".to_owned());
            }
            if sources.iter().any(|s| s == "'unsafe-eval'") {
                out.push("script sources allow 'unsafe-eval'".to_owned());
            }
            let wild: Vec<&String> = sources
                .iter()
                .filter(|s| matches!(s.as_str(), "*" | "http:" | "https:" | "data:" | "blob:"))
                .collect();
            if !wild.is_empty() {
                out.push(format!(
                    "script sources allow any host ({})",
                    wild.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
        }
    }
    let none = |v: Option<&Vec<String>>| v.is_some_and(|v| v.len() == 1 && v[0] == "'none'");
    if get("object-src").is_none() && !none(default) {
        out.push("no object-src (plugins allowed)".to_owned());
    }
    if get("base-uri").is_none() {
        out.push("no base-uri (<base> can redirect relative script URLs)".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::csp_problems;

    #[test]
    fn csp_quality() {
        assert!(csp_problems("default-src 'self'; object-src 'none'; base-uri 'none'").is_empty());
        assert!(csp_problems("default-src 'none'; script-src 'self'; base-uri 'self'").is_empty());
        let p = csp_problems("default-src * 'unsafe-inline' 'unsafe-eval'");
        assert_eq!(p.len(), 5, "{p:?}");
        // A nonce makes 'unsafe-inline' a fallback for old browsers only.
        assert!(csp_problems(
            "script-src 'nonce-abc' 'unsafe-inline'; object-src 'none'; base-uri 'none'"
        )
        .is_empty());
    }
}
