//! LDAP filter injection: a value that, pasted into a search filter such as
//! `(&(uid=VALUE)(objectClass=person))`, closes the component it was meant to fill
//! and adds components of its own.
//!
//! The grammar (RFC 4515) has few tokens, and the ones an injection needs are not
//! what people type: a parenthesis followed by a boolean operator and another
//! parenthesis (`(&(`, `(|(`, `(!(`), a parenthesis closed and a new
//! `(attribute=` opened right after it (`*)(uid=*`), and extensible matches with a
//! rule OID or `:dn:` (`userPassword:2.5.13.18:=x`). Each of those is judged on
//! its own; prose with brackets (`(see above)`, `f(x)`) has none of them.

use super::prefilter::ByteSet;
use super::{severity, Detector, Hit};

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Ldap,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form of a value.
pub fn check(s: &str) -> Option<Hit> {
    check_set(s, &ByteSet::of(s.as_bytes()))
}

/// Every filter shape needs a parenthesis, except extensible matches (`:=`).
const TRIGGERS: ByteSet = ByteSet::from_bytes(b"(:");

/// [`check`] with the byte set of `s` already computed.
pub fn check_set(s: &str, set: &ByteSet) -> Option<Hit> {
    if !set.intersects(&TRIGGERS) {
        return None;
    }
    let b = s.as_bytes();
    if set.has(b'(') {
        if let Some(h) = components(b) {
            return Some(h);
        }
    }
    if set.has(b':') && set.has(b'=') {
        return extensible(b);
    }
    None
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// Whether `b[i..]` starts an attribute assertion: a name (letters, digits, `-`,
/// `;` options, or an OID) followed by `=`, `~=`, `>=`, `<=` or `:`.
fn assertion_at(b: &[u8], i: usize) -> bool {
    let mut j = i;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'-' | b'.' | b';')) {
        j += 1;
        if j - i > 64 {
            return false;
        }
    }
    // Single letters are more often maths (`f(x)(y=2)`) than attribute names.
    if j - i < 2 || !b[i].is_ascii_alphabetic() {
        return false;
    }
    match b.get(j) {
        Some(b'=') => true,
        Some(b'~' | b'>' | b'<') => b.get(j + 1) == Some(&b'='),
        Some(b':') => extensible_at(b, j),
        _ => false,
    }
}

fn components(b: &[u8]) -> Option<Hit> {
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'(', &b[i..]) {
        let p = i + off;
        i = p + 1;
        let j = skip_ws(b, p + 1);
        // `(&(`, `(|(`, `(!(`: a boolean combination of filter components.
        if matches!(b.get(j), Some(b'&' | b'|' | b'!')) {
            let k = skip_ws(b, j + 1);
            // `)(&)` / `)(|)`: the absolute true and false filters appended after
            // closing the component.
            if p > 0 && b[p - 1] == b')' && b.get(k) == Some(&b')') && b[j] != b'!' {
                return hit(severity::CRITICAL, "filter-operator");
            }
            if b.get(k) == Some(&b'(')
                && (assertion_at(b, skip_ws(b, k + 1)) || b.get(skip_ws(b, k + 1)) == Some(&b'('))
            {
                return hit(severity::CRITICAL, "filter-operator");
            }
        }
        // `)(attr=`: one component closed and another opened.
        if p > 0 && b[p - 1] == b')' && assertion_at(b, j) {
            return hit(severity::CRITICAL, "filter-breakout");
        }
        // `(attr=*)`: a presence test, the wildcard that matches every entry.
        if assertion_at(b, j) {
            let eq = b[j..].iter().position(|&c| c == b'=').map(|x| j + x);
            if let Some(eq) = eq {
                let v = skip_ws(b, eq + 1);
                if b.get(v) == Some(&b'*') && b.get(skip_ws(b, v + 1)) == Some(&b')') {
                    return hit(severity::CRITICAL, "filter-wildcard");
                }
            }
        }
    }
    None
}

/// `attr:dn:=`, `attr:2.5.13.18:=`, `attr:caseExactMatch:=` starting at the first
/// `:` (index `j`). The grammar allows `:dn` and one matching rule, so at most two
/// parts are read: a long `:dn:dn:…` chain costs nothing more.
fn extensible_at(b: &[u8], mut j: usize) -> bool {
    for _ in 0..2 {
        let mut k = j + 1;
        let start = k;
        while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'.') && k - start < 64 {
            k += 1;
        }
        let rule = &b[start..k];
        let oid = rule.first().is_some_and(u8::is_ascii_digit)
            && rule.contains(&b'.')
            && rule.iter().all(|c| c.is_ascii_digit() || *c == b'.');
        let named = rule.eq_ignore_ascii_case(b"dn")
            || (rule.len() > 5 && rule[rule.len() - 5..].eq_ignore_ascii_case(b"match"));
        if !(oid || named) || b.get(k) != Some(&b':') {
            return false;
        }
        if b.get(k + 1) == Some(&b'=') {
            return true;
        }
        // `:dn:2.5.13.5:=` chains a second part.
        j = k;
    }
    false
}

fn extensible(b: &[u8]) -> Option<Hit> {
    let mut i = 0;
    while let Some(off) = memchr::memchr(b':', &b[i..]) {
        let p = i + off;
        i = p + 1;
        // The attribute name before the `:`.
        let mut s = p;
        while s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'-') {
            s -= 1;
        }
        if p - s >= 2 && b[s].is_ascii_alphabetic() && extensible_at(b, p) {
            return hit(severity::CRITICAL, "extensible-match");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sev(s: &str) -> u32 {
        check(s).map_or(0, |h| h.severity)
    }

    #[test]
    fn attacks() {
        for s in [
            "(&(uid=admin)(!(&(1=0)(userPassword=q))))",
            "*(|(objectclass=*))",
            "*)(uid=*))(|(uid=*",
            "admin)(&)",
            "admin)(|(password=*)",
            "x)(cn=*",
            "( | ( mail=*",
            "userPassword:2.5.13.18:=123",
            "cn:dn:=admin",
            "sn:caseExactMatch:=Smith",
            "(objectClass=*)",
        ] {
            assert_eq!(sev(s), severity::CRITICAL, "{s}");
        }
    }

    #[test]
    fn benign_look_alikes() {
        for s in [
            "(see above)",
            "f(x)(y=2)",
            "smile :) (really)",
            "Call me (& my wife) later",
            "a := b + 1",
            "time: 10:30:=",
            "Ratio (a|b) and (c)",
            "price (EUR) = 10",
            "http://example.com/a:b",
            "note:important",
            "x = (1 + 2) * (3 = 3)",
        ] {
            assert_eq!(sev(s), 0, "{s}");
        }
    }
}
