//! Request paths put in one canonical form before any route is matched, so that no
//! spelling of a denied path (`/api//customers/18/`, `/api/customers/%31%38`,
//! `/api/customers/17/../18`, `/api/customers/18;x=1`) reaches a different decision
//! than the plain one. The upstream then receives exactly the canonical path, so the
//! gateway and the application can never disagree about which resource was asked for.
//!
//! What cannot be made unambiguous is refused instead of guessed: an encoded slash or
//! backslash (one server splits on it, another does not), a raw backslash, a percent
//! sign that decodes to another escape (double encoding), control characters, invalid
//! UTF-8 (including overlong forms), and `..` that would climb above the root.

use std::fmt;

/// Longest request path accepted, in bytes as received.
pub const MAX_PATH_BYTES: usize = 8 * 1024;

/// Whether literal path segments are matched case-sensitively.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CasePolicy {
    /// `/API/customers` is another path than `/api/customers` (and, having no route,
    /// is denied). The default: it is what most upstream frameworks do.
    #[default]
    Sensitive,
    /// Paths are lower-cased before matching and before they are sent upstream, for
    /// upstreams that treat paths case-insensitively.
    Insensitive,
}

/// Why a path was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not start with `/`.
    #[error("the request path must start with '/'")]
    NotAbsolute,
    /// Longer than [`MAX_PATH_BYTES`].
    #[error("the request path is longer than {MAX_PATH_BYTES} bytes")]
    TooLong,
    /// `%` not followed by two hex digits.
    #[error("the request path has a malformed percent escape")]
    BadEscape,
    /// `%2F` inside a segment.
    #[error(
        "the request path contains an encoded slash (%2F), which servers interpret differently"
    )]
    EncodedSlash,
    /// A backslash, raw or encoded.
    #[error("the request path contains a backslash, which servers interpret differently")]
    Backslash,
    /// `%25` followed by hex digits: an escape hidden inside an escape.
    #[error("the request path is percent-encoded twice")]
    DoubleEncoding,
    /// A control character (raw or decoded), including NUL.
    #[error("the request path contains a control character")]
    ControlChar,
    /// The decoded bytes are not UTF-8 (this includes overlong encodings).
    #[error("the request path does not decode to valid UTF-8")]
    InvalidUtf8,
    /// `..` past the root.
    #[error("the request path climbs above the root with '..'")]
    AboveRoot,
}

/// A canonical path: decoded segments without empty, `.` or `..` entries, without
/// `;parameters`, and without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalPath {
    segments: Vec<String>,
}

impl NormalPath {
    /// The decoded segments (`/a/b%20c` → `["a", "b c"]`; `/` → `[]`).
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The path to send upstream: each segment percent-encoded where needed.
    pub fn encoded(&self) -> String {
        if self.segments.is_empty() {
            return "/".to_owned();
        }
        let mut out = String::new();
        for s in &self.segments {
            out.push('/');
            encode_segment(s, &mut out);
        }
        out
    }

    /// Whether `raw` is exactly [`NormalPath::encoded`], decided without building
    /// the string: nearly every request arrives spelled that way, and the gateway
    /// asks on each one.
    pub fn is_encoded_as(&self, raw: &str) -> bool {
        if self.segments.is_empty() {
            return raw == "/";
        }
        let mut rest = raw.as_bytes();
        for s in &self.segments {
            let Some(after_slash) = rest.strip_prefix(b"/") else {
                return false;
            };
            rest = after_slash;
            // Most segments need no escape and arrive as they are: one comparison.
            if let Some(after) = rest.strip_prefix(s.as_bytes()) {
                if s.bytes().all(keep) {
                    rest = after;
                    continue;
                }
            }
            for b in s.bytes() {
                let (spelling, len) = spell(b);
                let Some(after) = rest.strip_prefix(&spelling[..len]) else {
                    return false;
                };
                rest = after;
            }
        }
        rest.is_empty()
    }
}

impl fmt::Display for NormalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encoded())
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one raw segment (already without `;parameters`).
fn decode_segment(raw: &[u8]) -> Result<String, PathError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'%' {
            let (Some(h), Some(l)) = (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            ) else {
                return Err(PathError::BadEscape);
            };
            let decoded = h * 16 + l;
            match decoded {
                b'/' => return Err(PathError::EncodedSlash),
                b'\\' => return Err(PathError::Backslash),
                b'%' => {
                    let next_is_escape = raw.get(i + 3).copied().and_then(hex).is_some()
                        && raw.get(i + 4).copied().and_then(hex).is_some();
                    if next_is_escape {
                        return Err(PathError::DoubleEncoding);
                    }
                }
                _ => {}
            }
            out.push(decoded);
            i += 3;
        } else {
            if b == b'\\' {
                return Err(PathError::Backslash);
            }
            out.push(b);
            i += 1;
        }
    }
    if out.iter().any(|&c| c < 0x20 || c == 0x7f) {
        return Err(PathError::ControlChar);
    }
    String::from_utf8(out).map_err(|_| PathError::InvalidUtf8)
}

/// Characters kept as they are in a path segment (RFC 3986 `pchar` minus `;`, `%` and
/// `=`, which upstreams may give meaning to).
fn keep(c: u8) -> bool {
    KEPT[usize::from(c)]
}

static KEPT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b':'
                    | b'@'
            );
        c += 1;
    }
    t
};

/// How byte `b` of a decoded segment is written in the canonical path: itself, or
/// `%XY` (upper-case hex); the first `len` bytes of the array.
fn spell(b: u8) -> ([u8; 3], usize) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if keep(b) {
        ([b, 0, 0], 1)
    } else {
        (
            [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]],
            3,
        )
    }
}

fn encode_segment(s: &str, out: &mut String) {
    for b in s.bytes() {
        let (spelling, len) = spell(b);
        out.extend(spelling[..len].iter().map(|&c| char::from(c)));
    }
}

/// Puts `raw` (the path of a request target, without the query) in canonical form.
pub fn normalize(raw: &str, case: CasePolicy) -> Result<NormalPath, PathError> {
    if raw.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong);
    }
    let rest = raw.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    if raw.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return Err(PathError::ControlChar);
    }
    let mut segments: Vec<String> = Vec::new();
    for raw_segment in rest.split('/') {
        // `;parameters` (Tomcat and others strip them; the upstream never sees them).
        let end = raw_segment
            .bytes()
            .position(|b| b == b';')
            .unwrap_or(raw_segment.len());
        let without_params = &raw_segment[..end];
        // Without an escape or a backslash there is nothing to decode: the whole path
        // was checked for control characters above, and a `str` is valid UTF-8.
        let mut segment = if without_params.bytes().any(|b| b == b'%' || b == b'\\') {
            decode_segment(without_params.as_bytes())?
        } else {
            without_params.to_owned()
        };
        if case == CasePolicy::Insensitive {
            segment = segment.to_lowercase();
        }
        match segment.as_str() {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(PathError::AboveRoot);
                }
            }
            _ => segments.push(segment),
        }
    }
    Ok(NormalPath { segments })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(p: &str) -> Result<String, PathError> {
        let normal = normalize(p, CasePolicy::Sensitive)?;
        let encoded = normal.encoded();
        // The shortcut answers exactly what comparing the full encoding would.
        assert_eq!(
            normal.is_encoded_as(p),
            encoded == p,
            "is_encoded_as({p:?})"
        );
        Ok(encoded)
    }

    #[test]
    fn canonical_spellings_are_recognised() {
        for p in [
            "/",
            "/api/customers/18",
            "/api/public/search",
            "/a-b/c_d/e.f~g",
            "/files/a%20b",
            "/files/caf%C3%A9",
        ] {
            let normal = normalize(p, CasePolicy::Sensitive).expect("path");
            assert!(normal.is_encoded_as(p), "{p}");
        }
        for p in [
            "/api/customers/18/",
            "/api//customers/18",
            "/api/./customers",
            "/api/customers;v=1",
            "/api/%63ustomers",
            "/files/caf%c3%a9",
            "/files/café",
            "/a/b/../c",
        ] {
            let normal = normalize(p, CasePolicy::Sensitive).expect("path");
            assert!(!normal.is_encoded_as(p), "{p}");
        }
        // A decoded segment that holds a byte needing an escape never matches its
        // raw bytes, even where the raw spelling starts with them.
        let percent = normalize("/files/50%25", CasePolicy::Sensitive).expect("path");
        assert!(percent.is_encoded_as("/files/50%25"));
        assert!(!percent.is_encoded_as("/files/50%"));
        assert!(!percent.is_encoded_as("/files/50%2"));
        let upper = normalize("/API/x", CasePolicy::Insensitive).expect("path");
        assert!(!upper.is_encoded_as("/API/x"));
        assert!(upper.is_encoded_as("/api/x"));
    }

    #[test]
    fn spellings_of_one_path_agree() {
        for p in [
            "/api/customers/18",
            "/api/customers/18/",
            "/api/customers/%31%38",
            "/api//customers/18",
            "/api/customers/17/../18",
            "/api/customers/./18",
            "/api/customers/18;x=1",
            "/api;v=2/customers/18",
            "/api/%63ustomers/18",
            "/api/customers/%2e/18",
            "/api/customers/17/%2e%2e/18",
            "//api///customers//18//",
        ] {
            assert_eq!(n(p).as_deref(), Ok("/api/customers/18"), "{p}");
        }
        assert_eq!(n("/").as_deref(), Ok("/"));
        assert_eq!(n("/a/..").as_deref(), Ok("/"));
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        assert_eq!(
            n("/api/customers/17%2f..%2f18"),
            Err(PathError::EncodedSlash)
        );
        assert_eq!(n("/api/customers/17%2F18"), Err(PathError::EncodedSlash));
        assert_eq!(n("/api\\customers"), Err(PathError::Backslash));
        assert_eq!(n("/api%5ccustomers"), Err(PathError::Backslash));
        assert_eq!(n("/api/%2531%2538"), Err(PathError::DoubleEncoding));
        assert_eq!(n("/api/%00"), Err(PathError::ControlChar));
        assert_eq!(n("/api/\n"), Err(PathError::ControlChar));
        assert_eq!(n("/api/%c0%ae%c0%ae"), Err(PathError::InvalidUtf8));
        assert_eq!(n("/api/%zz"), Err(PathError::BadEscape));
        assert_eq!(n("/api/%4"), Err(PathError::BadEscape));
        assert_eq!(n("/.."), Err(PathError::AboveRoot));
        assert_eq!(n("/a/../../etc/passwd"), Err(PathError::AboveRoot));
        assert_eq!(n("api"), Err(PathError::NotAbsolute));
        assert_eq!(n(&"/a".repeat(5000)), Err(PathError::TooLong));
    }

    #[test]
    fn canonical_encoding_round_trips() {
        assert_eq!(n("/files/a%20b").as_deref(), Ok("/files/a%20b"));
        assert_eq!(n("/files/caf%C3%A9").as_deref(), Ok("/files/caf%C3%A9"));
        assert_eq!(n("/files/café").as_deref(), Ok("/files/caf%C3%A9"));
        assert_eq!(n("/q/%3B%3D").as_deref(), Ok("/q/%3B%3D"));
        // A lone %25 (a literal percent sign) is data, not double encoding.
        assert_eq!(n("/p/100%25").as_deref(), Ok("/p/100%25"));
        let p = normalize("/a/b%20c", CasePolicy::Sensitive).expect("path");
        assert_eq!(p.segments(), ["a", "b c"]);
    }

    #[test]
    fn case_policy() {
        assert_eq!(n("/API/Customers/18").as_deref(), Ok("/API/Customers/18"));
        let p = normalize("/API/Customers/18", CasePolicy::Insensitive).expect("path");
        assert_eq!(p.encoded(), "/api/customers/18");
    }

    #[test]
    fn long_hostile_input_is_linear() {
        let dots = "/..".repeat(2000);
        assert_eq!(n(&format!("/a{dots}")), Err(PathError::AboveRoot));
        let slashes = "/".repeat(8000);
        assert_eq!(n(&slashes).as_deref(), Ok("/"));
    }
}
