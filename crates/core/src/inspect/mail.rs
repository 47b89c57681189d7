//! Mail command and header injection: line breaks in a value that an application
//! passes to an SMTP or IMAP conversation, or writes into a message's headers.
//!
//! After a line break, three shapes are an attack:
//! - an SMTP command (`RCPT TO:`, `MAIL FROM:`, or a bare upper-case verb such as
//!   `QUIT`, `DATA`, `RSET` on a line of its own);
//! - an IMAP command with its tag (`A1 FETCH 1:*`, `V100 CAPABILITY`);
//! - a recipient header (`Bcc:`, `Cc:`, `To:`) with an address, which turns a contact
//!   form into a relay.
//!
//! Commands are matched in upper case only where they are also English words
//! (`Quit`, `Data`), because mail clients and attack tools send them that way and
//! prose does not.

use super::prefilter::ByteSet;
use super::{severity, Detector, Hit};

/// SMTP verbs that take no argument, or whose argument is free text.
const SMTP_VERBS: &[&str] = &[
    "QUIT", "DATA", "RSET", "NOOP", "HELO", "EHLO", "VRFY", "EXPN", "STARTTLS", "AUTH", "TURN",
];

/// IMAP commands sent after a tag.
const IMAP_COMMANDS: &[&str] = &[
    "CAPABILITY",
    "LOGIN",
    "LOGOUT",
    "AUTHENTICATE",
    "SELECT",
    "EXAMINE",
    "CREATE",
    "DELETE",
    "RENAME",
    "SUBSCRIBE",
    "LIST",
    "LSUB",
    "STATUS",
    "APPEND",
    "CHECK",
    "CLOSE",
    "EXPUNGE",
    "SEARCH",
    "FETCH",
    "STORE",
    "COPY",
    "MOVE",
    "UID",
    "NOOP",
    "IDLE",
];

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Mail,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form of a value.
pub fn check(s: &str) -> Option<Hit> {
    check_set(s, &ByteSet::of(s.as_bytes()))
}

const TRIGGERS: ByteSet = ByteSet::from_bytes(b"\r\n");

/// [`check`] with the byte set of `s` already computed: every shape follows a CR or LF.
pub fn check_set(s: &str, set: &ByteSet) -> Option<Hit> {
    if !set.intersects(&TRIGGERS) {
        return None;
    }
    let b = s.as_bytes();
    let mut best = None;
    // Each line that follows a break (the first line is not one).
    let mut i = 0;
    while let Some(off) = memchr::memchr2(b'\r', b'\n', &b[i..]) {
        let mut j = i + off;
        while matches!(b.get(j), Some(b'\r' | b'\n')) {
            j += 1;
        }
        let end = memchr::memchr2(b'\r', b'\n', &b[j..]).map_or(b.len(), |o| j + o);
        let line = &b[j..end];
        if let Some(h) = judge_line(line) {
            if h.severity >= severity::CRITICAL {
                return Some(h);
            }
            best = Some(h);
        }
        i = end;
        if i >= b.len() {
            break;
        }
    }
    best
}

fn judge_line(line: &[u8]) -> Option<Hit> {
    let word_end = |from: usize| {
        let mut k = from;
        while k < line.len() && (line[k].is_ascii_alphanumeric() || line[k] == b'-') {
            k += 1;
        }
        k
    };
    let w1 = word_end(0);
    let first = &line[..w1];
    if first.is_empty() {
        return None;
    }
    let rest = &line[w1..];
    // SMTP envelope commands with their colon: `RCPT TO:`, `MAIL FROM:`.
    for (verb, arg) in [
        (&b"RCPT"[..], &b"TO"[..]),
        (b"MAIL", b"FROM"),
        (b"SEND", b"FROM"),
    ] {
        if first.eq_ignore_ascii_case(verb) {
            let r = rest.trim_ascii_start();
            if r.len() > arg.len()
                && r[..arg.len()].eq_ignore_ascii_case(arg)
                && r[arg.len()..].trim_ascii_start().first() == Some(&b':')
            {
                return hit(severity::CRITICAL, "smtp-command");
            }
        }
    }
    let is_upper = first.iter().all(|c| c.is_ascii_uppercase());
    if is_upper && SMTP_VERBS.iter().any(|v| first == v.as_bytes()) {
        let r = rest.trim_ascii();
        // `QUIT` alone, or `HELO host` / `VRFY user` with one argument.
        if r.is_empty() || !r.contains(&b' ') {
            return hit(severity::CRITICAL, "smtp-command");
        }
    }
    // IMAP: `<tag> <COMMAND>` with an alphanumeric tag.
    if rest.first() == Some(&b' ')
        && first.len() <= 12
        && first.iter().all(u8::is_ascii_alphanumeric)
    {
        let w2 = word_end(w1 + 1);
        let cmd = &line[w1 + 1..w2];
        let after = line.get(w2).copied();
        if matches!(after, None | Some(b' '))
            && IMAP_COMMANDS.iter().any(|c| cmd == c.as_bytes())
            && first.iter().any(u8::is_ascii_digit)
        {
            return hit(severity::CRITICAL, "imap-command");
        }
    }
    // Recipient headers with an address.
    for name in [&b"bcc"[..], b"cc", b"to", b"reply-to"] {
        if first.eq_ignore_ascii_case(name) {
            let r = rest.trim_ascii_start();
            if r.first() == Some(&b':') && r.contains(&b'@') {
                let sev = if name == b"to" || name == b"reply-to" {
                    severity::WARNING
                } else {
                    severity::CRITICAL
                };
                return hit(sev, "mail-header");
            }
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
    fn injections() {
        for s in [
            "\r\nV100 CAPABILITY\r\nV101 FETCH 4791",
            "\r\nQUIT\r\n",
            "\nRCPT TO: test@evil.com\n",
            "x\r\nmail from:<a@b.c>",
            "me@x.com\nBcc: victim@example.com",
            "subject\r\nCc:a@b.c",
            "\nA1 LOGIN user pass",
            "\r\nHELO evil.com",
        ] {
            assert_eq!(sev(s), severity::CRITICAL, "{s:?}");
        }
        assert_eq!(sev("hi\nTo: someone@example.com"), severity::WARNING);
    }

    #[test]
    fn benign_look_alikes() {
        for s in [
            "QUIT",
            "I want to\nquit smoking",
            "Data\nwas lost",
            "Dear team,\nto: whom it may concern",
            "Note\nDATA CENTER MOVED TO MADRID",
            "Step 1 SELECT a size\nStep 2 LIST price",
            "line\nA FETCH of water",
            "Cc: the manager",
        ] {
            assert_eq!(sev(s), 0, "{s:?}");
        }
    }
}
