//! Attack tools and out-of-band callbacks: requests that announce the scanner that
//! sent them, and values that name a domain whose only purpose is to receive the
//! DNS or HTTP callback of a blind injection.
//!
//! Scanners are recognised by the product names they put in their User-Agent
//! (sqlmap, Nuclei, OpenVAS, Nikto…) and by NASL script names (`*.nasl`), the
//! plug-in format of Nessus and OpenVAS; only that header is judged for them
//! ([`user_agent`]), since the same words occur in a Referer or a search. Callback domains are the public interaction servers of
//! those tools (Burp Collaborator, interactsh, and similar). Neither is ever part
//! of a legitimate request to an application.

use std::sync::LazyLock;

use super::prefilter::{has_dotted_name, ByteSet, Patterns};
use super::{severity, Detector, Hit, Source};

/// Product names of attack and vulnerability-scanning tools, as they appear in their
/// default User-Agent strings (lower case).
const TOOLS: &[&str] = &[
    "sqlmap",
    "nikto",
    "nuclei",
    "openvas",
    "nessus",
    "acunetix",
    "netsparker",
    "invicti",
    "w3af",
    "wpscan",
    "dirbuster",
    "gobuster",
    "feroxbuster",
    "fuzz faster u fool",
    "wfuzz",
    "masscan",
    "zgrab",
    "nmap scripting engine",
    "arachni",
    "skipfish",
    "commix",
    "xsstrike",
    "havij",
    "jaeles",
    "dotdotpwn",
    "zaproxy",
    "burp suite",
    "hydra",
    "paros",
    "webinspect",
    "appscan",
    "joomscan",
    "whatweb",
    "sqlninja",
    "bbqsql",
    "jorgee",
    "morfeus",
];

/// Public out-of-band interaction domains (lower case).
const CALLBACKS: &[&str] = &[
    "burpcollaborator.net",
    "oastify.com",
    "interact.sh",
    "interactsh.com",
    "oast.me",
    "oast.fun",
    "oast.pro",
    "oast.live",
    "oast.site",
    "oast.online",
    "dnslog.cn",
    "ceye.io",
    "requestrepo.com",
    "canarytokens.com",
    "xss.ht",
    "bxss.me",
];

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Scanner,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form of a value from `source` for callback domains.
pub fn check(s: &str, source: Source) -> Option<Hit> {
    check_set(s, source, &ByteSet::of(s.as_bytes()))
}

/// [`check`] with the byte set of `s` already computed. Callback domains count in
/// any value (a blind injection names them wherever it is pasted).
pub fn check_set(s: &str, _source: Source, set: &ByteSet) -> Option<Hit> {
    static CALLBACK_SET: LazyLock<Patterns> = LazyLock::new(|| Patterns::new(CALLBACKS, true));
    // Every callback domain has a dot followed by a letter or digit; prose's full
    // stops are followed by blanks, so most text never reaches the automaton.
    if set.has(b'.') && has_dotted_name(s.as_bytes()) && CALLBACK_SET.is_match(s.as_bytes()) {
        return hit(severity::CRITICAL, "oob-callback-domain");
    }
    None
}

/// Checks a User-Agent header for the names attack tools announce themselves by.
/// Tool names are words of prose too ("hydra", "paros"), so no other value is
/// judged for them.
pub fn user_agent(s: &str) -> Option<Hit> {
    static TOOL_SET: LazyLock<Patterns> = LazyLock::new(|| Patterns::new(TOOLS, true));
    let b = s.as_bytes();
    if TOOL_SET.is_match(b) || super::prefilter::find_ci(b, b".nasl") {
        return hit(severity::CRITICAL, "scanner-user-agent");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_callback_domain_passes_the_gate() {
        for d in CALLBACKS {
            assert!(has_dotted_name(d.as_bytes()), "{d}");
        }
    }

    #[test]
    fn tools_and_callbacks() {
        for s in [
            "sqlmap/1.7.4#stable (https://sqlmap.org)",
            "Mozilla/5.0 [en] (X11, U; OpenVAS-VT 22.4.1)",
            "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
            "Fuzz Faster U Fool v2.0.0",
            "mercuryboard_user_agent_sql_injection.nasl'",
            "Mozilla/5.00 (Nikto/2.1.6)",
        ] {
            assert!(user_agent(s).is_some(), "{s}");
        }
        for s in [
            "http://abc123.burpcollaborator.net/x",
            "x@w63gecoro.interact.sh",
            "nslookup q7x.oastify.com",
        ] {
            assert!(check(s, Source::Query).is_some(), "{s}");
        }
    }

    #[test]
    fn benign_look_alikes() {
        for s in [
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "curl/8.5.0",
            "https://example.com/oast/me",
        ] {
            assert!(
                user_agent(s).is_none() && check(s, Source::Header).is_none(),
                "{s}"
            );
        }
        // Tool names anywhere but the User-Agent, such as a Referer to an article.
        assert!(check(
            "https://en.wikipedia.org/wiki/Lernaean_Hydra",
            Source::Header
        )
        .is_none());
        assert!(check("the hydra of Lerna", Source::Query).is_none());
        assert!(check("Paros island", Source::Json).is_none());
    }
}
