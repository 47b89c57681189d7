//! XML external entities in values that are not XML bodies (XML bodies are refused
//! on any DOCTYPE by the parser walk in [`super::body`]).
//!
//! A DOCTYPE or ENTITY declaration, an XInclude, or a UTF-7 spelled declaration in
//! any value is refused: an application that parses a field as XML would otherwise
//! resolve it.

use super::prefilter::{find_ci, ByteSet};
use super::{severity, Detector, Hit};

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Xxe,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form of a value.
pub fn check_value(s: &str) -> Option<Hit> {
    check_set(s, &ByteSet::of(s.as_bytes()))
}

/// `<!` declarations, `:` of `xi:include`, `+` of UTF-7, `<` of `<?xml-stylesheet`.
const TRIGGERS: ByteSet = ByteSet::from_bytes(b"!<:+");

/// [`check_value`] with the byte set of `s` already computed.
pub fn check_set(s: &str, set: &ByteSet) -> Option<Hit> {
    if !set.intersects(&TRIGGERS) {
        return None;
    }
    let b = s.as_bytes();
    if set.has(b'!')
        && set.has(b'<')
        && (find_ci(b, b"<!doctype")
            || find_ci(b, b"<!entity")
            || find_ci(b, b"<!element")
            || find_ci(b, b"<!attlist"))
    {
        return hit(severity::CRITICAL, "xml-doctype");
    }
    if set.has(b':') && (find_ci(b, b"xi:include") || find_ci(b, b"/2001/xinclude")) {
        return hit(severity::CRITICAL, "xinclude");
    }
    // UTF-7: `+ADw-` is `<`; a declaration spelled that way slips past byte filters
    // and is decoded by parsers that honour `encoding="UTF-7"`.
    if set.has(b'+') && find_ci(b, b"+adw") && (find_ci(b, b"doctype") || find_ci(b, b"entity")) {
        return hit(severity::CRITICAL, "xml-doctype-utf7");
    }
    if set.has(b'<') && find_ci(b, b"<?xml-stylesheet") {
        return hit(severity::WARNING, "xml-stylesheet");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations() {
        for s in [
            "<!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><foo>&xxe;</foo>",
            "<!doctype x SYSTEM \"//x/x\">",
            "<x xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include href=\"/etc/passwd\"/></x>",
            "+ADw-!DOCTYPE foo +AFs-",
        ] {
            assert!(check_value(s).is_some(), "{s}");
        }
        assert_eq!(check_value("<note><to>Ana</to></note>"), None);
        assert_eq!(check_value("the doctype of this page"), None);
    }
}
