//! CRLF injection: line breaks that end the header a value is written into and start
//! one of the attacker's (`%0d%0aSet-Cookie: …`), which splits the HTTP response or
//! poisons a cache.
//!
//! A line break alone is ordinary in text areas, so it only counts when it is
//! followed by the name of a response header that changes how the client treats the
//! response, then `:`; or by a blank line and a status line or markup (a second
//! response). Besides CR and LF, characters whose low byte is CR or LF (`U+560D`,
//! `U+560A`) count as breaks: HTTP libraries that write header values as Latin-1
//! keep only that low byte.

use super::prefilter::ByteSet;
use super::{severity, Detector, Hit};

/// Response headers an injected line would set (lower case).
const HEADERS: &[&str] = &[
    "set-cookie",
    "set-cookie2",
    "location",
    "refresh",
    "content-type",
    "content-length",
    "content-disposition",
    "content-security-policy",
    "content-encoding",
    "transfer-encoding",
    "cache-control",
    "expires",
    "pragma",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "x-xss-protection",
    "x-frame-options",
    "x-content-type-options",
    "strict-transport-security",
    "link",
    "vary",
    "www-authenticate",
    "connection",
    "host",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-original-url",
    "x-rewrite-url",
];

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Crlf,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form of a value.
pub fn check(s: &str) -> Option<Hit> {
    check_set(s, &ByteSet::of(s.as_bytes()))
}

const TRIGGERS: ByteSet = ByteSet::from_bytes(b"\r\n");

/// The length of the line break at `s[i..]`, if one starts there.
fn break_at(s: &str, i: usize) -> Option<usize> {
    let c = s[i..].chars().next()?;
    let cp = u32::from(c);
    let low = cp & 0xFF;
    if c == '\r' || c == '\n' || (cp > 0xFF && (low == 0x0A || low == 0x0D)) {
        Some(c.len_utf8())
    } else {
        None
    }
}

/// [`check`] with the byte set of `s` already computed.
pub fn check_set(s: &str, set: &ByteSet) -> Option<Hit> {
    let b = s.as_bytes();
    if !set.intersects(&TRIGGERS) {
        // Without CR or LF only a multi-byte character whose low byte is CR or LF can
        // break the line; its last UTF-8 byte is then 0x8A or 0x8D.
        if set.is_ascii() || memchr::memchr2(0x8A, 0x8D, b).is_none() {
            return None;
        }
    }
    let mut i = 0;
    while i < b.len() {
        // Only CR, LF and the lead bytes of multi-byte characters can start a break.
        if !(b[i] == b'\r' || b[i] == b'\n' || b[i] >= 0xC0) || !s.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let Some(mut len) = break_at(s, i) else {
            i += 1;
            continue;
        };
        let mut j = i + len;
        let mut breaks = 1;
        while j < b.len() && s.is_char_boundary(j) {
            match break_at(s, j) {
                Some(l) => {
                    j += l;
                    breaks += 1;
                }
                None => break,
            }
        }
        if let Some(h) = after_break(&b[j..], breaks) {
            return Some(h);
        }
        len = j - i;
        i += len.max(1);
    }
    None
}

fn after_break(rest: &[u8], breaks: usize) -> Option<Hit> {
    let mut n = 0;
    while n < rest.len() && n < 40 && (rest[n].is_ascii_alphanumeric() || rest[n] == b'-') {
        n += 1;
    }
    let name = &rest[..n];
    let mut k = n;
    while matches!(rest.get(k), Some(b' ' | b'\t')) {
        k += 1;
    }
    if n > 0
        && rest.get(k) == Some(&b':')
        && HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
    {
        return hit(severity::CRITICAL, "header-injection");
    }
    // A blank line then a second response or a body of the attacker's.
    if breaks >= 2
        && (rest.starts_with(b"HTTP/1.")
            || rest.starts_with(b"HTTP/2")
            // A whole document, not a paragraph of rich text.
            || rest.get(..5).is_some_and(|h| h.eq_ignore_ascii_case(b"<html"))
            || rest.get(..9).is_some_and(|h| h.eq_ignore_ascii_case(b"<!doctype")))
    {
        return hit(severity::CRITICAL, "response-splitting");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injections() {
        for s in [
            "\r\nSet-Cookie:crlf=injection",
            "\n\rSet-cookie: a=b",
            "x\nLocation: http://evil/",
            "%\n\nset-cookie:crlf=injection",
            "\u{560D}\u{560A}Set-cookie:crlf=injection",
            "\u{560D}Set-cookie:crlf=injection",
            "a\r\n\r\nHTTP/1.1 200 OK",
            "a\r\n\r\n<html>owned</html>",
            "\r\nContent-Length : 0",
        ] {
            assert!(check(s).is_some(), "{s:?}");
        }
    }

    #[test]
    fn benign_look_alikes() {
        for s in [
            "Dear team,\nNote: the order is late.\nRegards",
            "line one\r\nline two",
            "Location of the shop: Madrid",
            "Lista:\n- pan\n- leche",
            "canción\ncorazón",
            "Intro\n\n<p>Second paragraph</p>",
        ] {
            assert!(check(s).is_none(), "{s:?}");
        }
    }
}
