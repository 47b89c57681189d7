//! Markers of serialized objects that unsafe deserializers turn into code execution:
//! Java serialization (raw `AC ED 00 05`, base64 `rO0AB`, hex `aced0005`), PHP
//! `O:<n>:"Class"` objects, Python pickle (raw protocol headers, base64 `gASV`,
//! text-protocol `cos\nsystem`), YAML language tags (`!!python/object`, `!ruby/`,
//! `!!javax…`), .NET `$type` and BinaryFormatter (`AAEAAAD/////`), fastjson/Jackson
//! `@type`, and node-serialize's `_$$ND_FUNC$$_`.
//!
//! None of these shapes occurs in ordinary form or JSON values, so each is critical.

use std::sync::LazyLock;

use super::prefilter::{ByteSet, Patterns};
use super::{severity, Detector, Hit};

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Deser,
        severity: sev,
        reason,
    })
}

/// Checks one form of a value. `decoded` forms come from the decoders (so a base64
/// payload has already been unwrapped if it was text).
pub fn check(s: &str, decoded: bool) -> Option<Hit> {
    check_set(s, decoded, &ByteSet::of(s.as_bytes()))
}

/// Class names of well-known gadget chains; none occurs in ordinary text.
const GADGETS: &[&str] = &[
    "ObjectDataProvider",
    "System.Diagnostics.Process",
    "TypeConfuseDelegate",
    "System.Windows.Data",
    "javax.script.ScriptEngineManager",
    "com.sun.rowset.JdbcRowSetImpl",
    "java.lang.Runtime",
    "org.apache.commons.collections",
    "ysoserial",
];

/// [`check`] with the byte set of `s` already computed: the marker families that
/// need a particular byte (`$`, `:`, `!`, newline) are only searched when it is there.
pub fn check_set(s: &str, _decoded: bool, set: &ByteSet) -> Option<Hit> {
    let t = s.trim_start();
    let b = t.as_bytes();
    if b.len() < 4 {
        return None;
    }
    // Base64 and hex prefixes of binary formats (the text decoder skips binary
    // results); each starts with one of these letters.
    if matches!(b[0], b'r' | b'a' | b'A' | b'g') {
        if t.starts_with("rO0AB") {
            return hit(severity::CRITICAL, "java-serialized");
        }
        if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"aced0005") {
            return hit(severity::CRITICAL, "java-serialized");
        }
        if ["gASV", "gAJj", "gANj", "gAJ9", "gAN9", "gAVj", "gAWV"]
            .iter()
            .any(|p| t.starts_with(p))
        {
            return hit(severity::CRITICAL, "python-pickle");
        }
        if t.starts_with("AAEAAAD/////") {
            return hit(severity::CRITICAL, "dotnet-binaryformatter");
        }
    }
    if java_raw(s.as_bytes()) {
        return hit(severity::CRITICAL, "java-serialized");
    }
    if set.has(b'$') && memchr::memmem::find(b, b"_$$ND_FUNC$$_").is_some() {
        return hit(severity::CRITICAL, "node-serialize");
    }
    if set.has(b':') && php_object(b) {
        return hit(severity::CRITICAL, "php-object");
    }
    if set.has(b'!') {
        for tag in [
            "!!python/",
            "!ruby/",
            "!!ruby/",
            "!!java",
            "!!com.",
            "!!org.",
            "!!sun.",
            "!!net.",
            "!!jdk.",
            "!<tag:yaml.org,2002:python/",
        ] {
            if memchr::memmem::find(b, tag.as_bytes()).is_some() {
                return hit(severity::CRITICAL, "yaml-language-tag");
            }
        }
    }
    if set.has(b'$') || set.has(b'@') {
        // Json.NET `$type` and fastjson `@type` name the class to instantiate.
        for key in ["\"$type\"", "\"@type\"", "'$type'", "'@type'"] {
            if memchr::memmem::find(b, key.as_bytes()).is_some() {
                return hit(severity::CRITICAL, "type-directive");
            }
        }
        if t == "$type" || t == "@type" {
            return hit(severity::CRITICAL, "type-directive");
        }
    }
    static GADGET_SET: LazyLock<Patterns> = LazyLock::new(|| Patterns::new(GADGETS, false));
    // Gadget names are at least 9 bytes; all but three are dotted, and those three
    // are searched directly instead of running the automaton on every word.
    let gadget = if set.has(b'.') {
        GADGET_SET.is_match(b)
    } else {
        b.len() >= 9 && undotted_gadget(b)
    };
    if gadget {
        return hit(severity::CRITICAL, "gadget-class");
    }
    // Every text-protocol opcode sequence below holds a newline.
    if set.has(b'\n') && pickle_text(b) {
        return hit(severity::CRITICAL, "python-pickle");
    }
    None
}

/// The gadget names without a dot, found from their first letters (one memchr
/// pass) rather than with a searcher built per call.
fn undotted_gadget(b: &[u8]) -> bool {
    const NAMES: [&[u8]; 3] = [b"ObjectDataProvider", b"TypeConfuseDelegate", b"ysoserial"];
    let mut i = 0;
    while let Some(off) = memchr::memchr3(b'O', b'T', b'y', &b[i..]) {
        let p = i + off;
        i = p + 1;
        if NAMES.iter().any(|n| b[p..].starts_with(n)) {
            return true;
        }
    }
    false
}

/// Raw Java stream magic. Bodies reach the detectors as lossy UTF-8, where `AC ED`
/// became two replacement characters, so look for that too.
fn java_raw(b: &[u8]) -> bool {
    b.starts_with(&[0xAC, 0xED, 0x00, 0x05])
        || b.starts_with("\u{FFFD}\u{FFFD}\u{0}\u{5}".as_bytes())
        || b.starts_with("\u{AC}\u{ED}\u{0}\u{5}".as_bytes())
}

/// Checks raw body bytes (before any text conversion).
pub fn check_bytes(b: &[u8]) -> Option<Hit> {
    if b.starts_with(&[0xAC, 0xED, 0x00, 0x05]) {
        return hit(severity::CRITICAL, "java-serialized");
    }
    // Pickle protocol 2+ starts with PROTO (0x80) and the version.
    if b.len() > 2 && b[0] == 0x80 && (2..=5).contains(&b[1]) && b.contains(&b'.') {
        return hit(severity::CRITICAL, "python-pickle");
    }
    if b.starts_with(&[0x00, 0x01, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF]) {
        return hit(severity::CRITICAL, "dotnet-binaryformatter");
    }
    None
}

/// PHP `O:8:"stdClass":1:{` (also `C:` custom-serialized). The digits, quoted name
/// and colon must all line up, which prose never does.
fn php_object(b: &[u8]) -> bool {
    let mut i = 0;
    while i + 4 < b.len() {
        let Some(off) = memchr::memchr2(b'O', b'C', &b[i..]) else {
            return false;
        };
        let p = i + off;
        i = p + 1;
        if b.get(p + 1) != Some(&b':') {
            continue;
        }
        let mut j = p + 2;
        if b.get(j) == Some(&b'+') {
            j += 1; // `O:+8:` dodges naive filters and PHP accepts it
        }
        let ds = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == ds || b.get(j) != Some(&b':') || b.get(j + 1) != Some(&b'"') {
            continue;
        }
        let Some(close) = memchr::memchr(b'"', &b[j + 2..]) else {
            continue;
        };
        let name = &b[j + 2..j + 2 + close];
        if !name.is_empty()
            && name
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'\\')
            && b.get(j + 2 + close + 1) == Some(&b':')
        {
            return true;
        }
    }
    false
}

/// Text-protocol pickle: a GLOBAL opcode `c<module>\n<name>\n` naming something that
/// runs commands, followed by a REDUCE somewhere.
fn pickle_text(b: &[u8]) -> bool {
    static PICKLE_SET: LazyLock<Patterns> = LazyLock::new(|| {
        Patterns::new(
            &[
                "cos\nsystem",
                "cposix\nsystem",
                "c__builtin__\n",
                "cbuiltins\n",
                "csubprocess\n",
                "cnt\nsystem",
                "cos\npopen",
                "c__builtin__\neval",
            ],
            false,
        )
    });
    PICKLE_SET.is_match(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        for s in [
            "rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZQ==",
            "aced00057372",
            "O:4:\"User\":2:{s:4:\"name\";s:5:\"admin\";}",
            "a:1:{i:0;O:+8:\"stdClass\":0:{}}",
            "gASVJQAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOUjAJpZJSFlFKULg==",
            "cos\nsystem\n(S'id'\ntR.",
            "!!python/object/apply:os.system [\"id\"]",
            "--- !ruby/object:Gem::Installer\ni: x",
            "{\"$type\":\"System.Windows.Data.ObjectDataProvider, PresentationFramework\"}",
            "{\"@type\":\"com.sun.rowset.JdbcRowSetImpl\"}",
            "{\"rce\":\"_$$ND_FUNC$$_function(){require('child_process').exec('id')}()\"}",
            "AAEAAAD/////AQAAAAAAAAAMAgAAAF",
            "$type",
        ] {
            assert!(check(s, false).is_some(), "{s}");
        }
        assert!(check_bytes(&[0xAC, 0xED, 0x00, 0x05, 0x73]).is_some());
        assert!(check_bytes(&[0x80, 0x04, 0x95, 0x2e]).is_some());
    }

    #[test]
    fn benign() {
        for s in [
            "Order: 4 items",
            "O:4 is a score",
            "type",
            "price is $type-dependent",
            "python is nice",
            "!!! wow",
            "rO0 is not base64 java",
            "C:\\Users\\ana",
        ] {
            assert!(check(s, false).is_none(), "{s}");
        }
    }
}
