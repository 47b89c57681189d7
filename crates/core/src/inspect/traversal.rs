//! Path traversal and local/remote file inclusion.
//!
//! Looks for `../` and `..\` sequences (including Tomcat's `..;/` and filter-dodging
//! `....//`, which still contain the pair), paths of files attackers read first
//! (`/etc/passwd`, `win.ini`, `/proc/self/environ`…), stream wrappers that turn an
//! include into code execution (`php://filter`, `expect://`, `phar://`…), and NUL
//! bytes that truncate an extension check. One linear pass per pattern family.

use std::sync::LazyLock;

use super::prefilter::{has_dotted_name, ByteSet, Patterns};
use super::{severity, Detector, Hit};

/// Files whose path in a parameter only makes sense as an attack.
const SENSITIVE: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/hosts",
    "/etc/issue",
    "/etc/motd",
    "/etc/crontab",
    "/etc/sudoers",
    "/etc/fstab",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/proc/self/",
    "/proc/version",
    "/proc/cpuinfo",
    "/proc/1/",
    "/var/log/",
    "/root/",
    "/.ssh/",
    "id_rsa",
    "authorized_keys",
    ".bash_history",
    "/.htaccess",
    "/.htpasswd",
    "web.config",
    "wp-config.php",
    "/.git/",
    "/.env",
    "/.aws/credentials",
    "/web-inf/",
    "/meta-inf/",
    "boot.ini",
    "win.ini",
    "system.ini",
    "\\windows\\",
    "/windows/",
    "\\system32\\",
    "/system32/",
    "\\winnt\\",
    "/winnt/",
    "c:\\",
    "/var/run/secrets/",
    "/etc/kubernetes/",
    "/.docker/",
    "/etc/nginx/",
    "/etc/apache2/",
    "/etc/httpd/",
    "/etc/mysql/",
    "/usr/local/etc/",
    "/bin/sh",
    "/bin/bash",
    "/dev/tcp/",
    "/etc/profile",
    "/.bashrc",
    "/.profile",
    "/etc/security/",
    "ntuser.dat",
    "\\windows\\repair\\",
    "\\config\\sam",
];

/// Stream wrappers and schemes that read local files or run code when included.
const WRAPPERS: &[&str] = &[
    "php://",
    "file://",
    "zip://",
    "phar://",
    "expect://",
    "glob://",
    "data://",
    "compress.zlib://",
    "compress.bzip2://",
    "ogg://",
    "rar://",
    "ssh2.",
    "jar:file:",
    "jar:http",
    "netdoc:",
];

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Traversal,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form. `path_segment` is true for URL path segments, where a
/// segment that *is* `..` can only be traversal (the gateway canonicalised the path
/// it routed on, so one reaching here came double-encoded).
pub fn check(s: &str, path_segment: bool) -> Option<Hit> {
    check_set(s, path_segment, &ByteSet::of(s.as_bytes()))
}

/// Bytes one of which every pattern here needs: `.` (dot-dot, `win.ini`), `/` and
/// `\` (paths), `:` (wrappers, `c:\`), `_` (`id_rsa`, `authorized_keys`), NUL.
const TRIGGERS: ByteSet = ByteSet::from_bytes(b"./\\:_\0");

/// [`check`] with the byte set of `s` already computed.
pub fn check_set(s: &str, path_segment: bool, set: &ByteSet) -> Option<Hit> {
    if !set.intersects(&TRIGGERS) {
        return None;
    }
    let b = s.as_bytes();
    if path_segment && (s == ".." || s.starts_with("../") || s.starts_with("..\\")) {
        return hit(severity::CRITICAL, "dot-dot-segment");
    }
    let mut dots = 0usize;
    let mut i = 0;
    // `..` found from its first `.` (memchr), not a substring searcher per call.
    while let Some(off) = memchr::memchr(b'.', &b[i..]) {
        let p = i + off;
        if b.get(p + 1) != Some(&b'.') {
            i = p + 1;
            continue;
        }
        let next = b.get(p + 2).copied();
        let prev = if p == 0 { None } else { Some(b[p - 1]) };
        let sep_after = matches!(next, Some(b'/' | b'\\'))
            || (next == Some(b';') && b.get(p + 3) == Some(&b'/'));
        let sep_before = matches!(
            prev,
            None | Some(b'/' | b'\\' | b'=' | b'.' | b'"' | b'\'' | b':')
        );
        if sep_after && sep_before {
            dots += 1;
        }
        i = p + 2;
    }
    if dots >= 2 {
        return hit(severity::CRITICAL, "dot-dot-sequence");
    }
    static WRAPPER_SET: LazyLock<Patterns> = LazyLock::new(|| Patterns::new(WRAPPERS, true));
    static SENSITIVE_SET: LazyLock<Patterns> = LazyLock::new(|| Patterns::new(SENSITIVE, true));
    if may_hold_wrapper(set) && WRAPPER_SET.is_match(b) {
        return hit(severity::CRITICAL, "stream-wrapper");
    }
    if may_hold_sensitive(b, set) && SENSITIVE_SET.is_match(b) {
        // A known file reached by traversal or as an absolute path.
        return hit(severity::CRITICAL, "sensitive-file");
    }
    if let Some(h) = unc_path(b) {
        return Some(h);
    }
    if dots == 1 {
        return hit(severity::WARNING, "dot-dot-sequence");
    }
    if b.contains(&0) {
        return hit(severity::WARNING, "nul-byte");
    }
    None
}

/// Necessary for any of [`WRAPPERS`] to occur: each has a `:` but `ssh2.`, which has
/// a `2`. Skips the automaton on prose, where it would cost more than the rest of
/// the traversal check.
fn may_hold_wrapper(set: &ByteSet) -> bool {
    set.has(b':') || set.has(b'2')
}

/// Necessary for any of [`SENSITIVE`] to occur: a path separator, a `_` (`id_rsa`),
/// or a dotted file name (`win.ini`, `web.config`).
fn may_hold_sensitive(b: &[u8], set: &ByteSet) -> bool {
    set.has(b'/') || set.has(b'\\') || set.has(b'_') || has_dotted_name(b)
}

/// `\\host\c$\…`, `\\127.0.0.1\share\x`, `//::1/admin$/`: a UNC path, which makes
/// a Windows server open a file on another host (or its own administrative share)
/// and hand over its credentials to it.
fn unc_path(b: &[u8]) -> Option<Hit> {
    let t = b.trim_ascii_start();
    let sep = *t.first()?;
    if !matches!(sep, b'\\' | b'/') || t.get(1) != Some(&sep) {
        return None;
    }
    let host_start = 2;
    let mut j = host_start;
    while j < t.len()
        && (t[j].is_ascii_alphanumeric() || matches!(t[j], b'.' | b'-' | b':' | b'_' | b'[' | b']'))
    {
        j += 1;
    }
    if j == host_start || t.get(j) != Some(&b'\\') && !(sep == b'/' && t.get(j) == Some(&b'/')) {
        return None;
    }
    let share_start = j + 1;
    let mut k = share_start;
    while k < t.len() && (t[k].is_ascii_alphanumeric() || matches!(t[k], b'$' | b'-' | b'_')) {
        k += 1;
    }
    let share = &t[share_start..k];
    // Administrative shares (`c$`, `admin$`, `ipc$`) are never a resource a user
    // names; any other share is suspicious only with backslashes, which URLs lack.
    if share.last() == Some(&b'$') {
        return hit(severity::CRITICAL, "unc-admin-share");
    }
    if sep == b'\\' && !share.is_empty() {
        return hit(severity::WARNING, "unc-path");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_gates_admit_every_pattern() {
        for p in WRAPPERS {
            for form in [p.to_string(), p.to_ascii_uppercase()] {
                assert!(may_hold_wrapper(&ByteSet::of(form.as_bytes())), "{form}");
            }
        }
        for p in SENSITIVE {
            for form in [p.to_string(), p.to_ascii_uppercase()] {
                let b = form.as_bytes();
                assert!(may_hold_sensitive(b, &ByteSet::of(b)), "{form}");
            }
        }
        let prose = b"The lace arrived torn. Could you send another one? Thanks.";
        let set = ByteSet::of(prose);
        assert!(!may_hold_wrapper(&set) && !may_hold_sensitive(prose, &set));
    }

    fn sev(s: &str) -> u32 {
        check(s, false).map_or(0, |h| h.severity)
    }

    #[test]
    fn attacks() {
        for s in [
            "../../../../etc/passwd",
            "..\\..\\windows\\win.ini",
            "....//....//etc/hosts",
            "/etc/passwd",
            "php://filter/convert.base64-encode/resource=index.php",
            "file:///etc/shadow",
            "..;/..;/WEB-INF/web.xml",
            "C:\\boot.ini",
            "/proc/self/environ",
            "\\\\::1\\c$\\users\\default\\ntuser.dat",
            "\\\\10.0.0.5\\admin$\\x",
            "//evil.example/c$/x",
        ] {
            assert_eq!(sev(s), severity::CRITICAL, "{s}");
        }
        assert_eq!(
            check("..", true).map(|h| h.severity),
            Some(severity::CRITICAL)
        );
    }

    #[test]
    fn benign() {
        for s in [
            "Wait... what?",
            "v1.2..3",
            "see ../docs",
            "etc/passwords are secret",
            "1..10",
            "a.b.c",
            "docs/index.html",
            "//cdn.example.com/lib.js",
            "\\\\ escaped backslashes",
        ] {
            assert!(sev(s) < severity::CRITICAL, "{s}");
        }
    }
}
