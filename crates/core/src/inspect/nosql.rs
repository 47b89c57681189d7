//! NoSQL injection: MongoDB-style query operators smuggled into a document the
//! application builds from user input, and server-side JavaScript that breaks out
//! of a `$where` expression.
//!
//! Three shapes:
//! - an operator where a plain value was expected: a JSON key that *is* `$ne`,
//!   `$gt`, `$where`…, a bracketed `user[$ne]=` in a query or form name (which
//!   PHP and Express's `qs` turn into a nested object), or `$op:` inside a value that
//!   is itself a document fragment (`', $or: [ {}, {…`);
//! - a Mongo shell call (`db.users.find(`, `db.dropDatabase(`);
//! - a JavaScript statement after a break-out of the literal a `$where` string was
//!   holding (`0;var d=new Date(); do{…}while(…)`, `';return true;var x='`).
//!
//! Dollar signs alone are everywhere (prices, shell variables, templates), so an
//! operator name counts only with the punctuation that makes it a key.

use super::prefilter::ByteSet;
use super::{severity, Detector, Hit, Source};

/// Query and update operators that change what a filter matches or run code.
const OPERATORS: &[&str] = &[
    "where",
    "ne",
    "eq",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "nin",
    "regex",
    "or",
    "and",
    "nor",
    "not",
    "exists",
    "expr",
    "elemmatch",
    "function",
    "accumulator",
    "type",
    "size",
    "all",
    "mod",
    "text",
    "jsonschema",
    "options",
    "lookup",
    "set",
    "unset",
    "inc",
    "push",
    "rename",
];

/// Mongo shell collection and database methods that read, change or drop data.
const SHELL_METHODS: &[&str] = &[
    "find",
    "findone",
    "insert",
    "insertone",
    "insertmany",
    "update",
    "updateone",
    "updatemany",
    "remove",
    "deleteone",
    "deletemany",
    "drop",
    "dropdatabase",
    "aggregate",
    "count",
    "getcollection",
    "getcollectionnames",
    "mapreduce",
    "eval",
    "runcommand",
    "createuser",
    "save",
    "replaceone",
    "findandmodify",
];

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Nosql,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form of a value.
pub fn check(s: &str, source: Source) -> Option<Hit> {
    check_set(s, source, &ByteSet::of(s.as_bytes()))
}

/// `$` (operators), `.` (shell calls), `;` (JavaScript break-outs).
const TRIGGERS: ByteSet = ByteSet::from_bytes(b"$.;|&");

/// [`check`] with the byte set of `s` already computed.
pub fn check_set(s: &str, source: Source, set: &ByteSet) -> Option<Hit> {
    if !set.intersects(&TRIGGERS) {
        return None;
    }
    let b = s.as_bytes();
    if set.has(b'$') {
        if let Some(h) = operator(b, source) {
            return Some(h);
        }
    }
    if set.has(b'.') && set.has(b'(') {
        if let Some(h) = shell_call(b) {
            return Some(h);
        }
    }
    if set.has(b';') {
        if let Some(h) = js_breakout(b) {
            return Some(h);
        }
    }
    if set.has(b'=') && (set.has(b'|') || set.has(b'&')) {
        return js_tautology(b);
    }
    None
}

/// The operator name at `b[i..]` (just after a `$`), and where it ends.
fn operator_at(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while j < b.len() && b[j].is_ascii_alphabetic() && j - i <= 12 {
        j += 1;
    }
    let name = &b[i..j];
    if name.is_empty() || (j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_')) {
        return None;
    }
    OPERATORS
        .iter()
        .any(|o| name.eq_ignore_ascii_case(o.as_bytes()))
        .then_some(j)
}

fn operator(b: &[u8], source: Source) -> Option<Hit> {
    // A JSON key that is exactly an operator: `{"password": {"$ne": ""}}`.
    if source == Source::JsonKey && b.first() == Some(&b'$') && operator_at(b, 1) == Some(b.len()) {
        return hit(severity::CRITICAL, "operator-key");
    }
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'$', &b[i..]) {
        let p = i + off;
        i = p + 1;
        let Some(end) = operator_at(b, p + 1) else {
            continue;
        };
        let before = if p == 0 { None } else { Some(b[p - 1]) };
        // `user[$ne]=1`: qs/PHP bracket syntax builds `{user: {$ne: 1}}`.
        if before == Some(b'[') && b.get(end) == Some(&b']') {
            return hit(severity::CRITICAL, "operator-bracket");
        }
        // `$where: '…'`, `"$gt": ""`, `{$or: [`: the operator used as a key.
        let mut k = end;
        if matches!(b.get(k), Some(b'"' | b'\'')) {
            k += 1;
        }
        while matches!(b.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        let key_start = matches!(
            before,
            None | Some(b'{' | b',' | b' ' | b'\t' | b'\n' | b'"' | b'\'' | b'[')
        );
        if key_start && b.get(k) == Some(&b':') {
            return hit(severity::CRITICAL, "operator-in-value");
        }
    }
    None
}

/// `db.<collection>.<method>(` or `db.<method>(`.
fn shell_call(b: &[u8]) -> Option<Hit> {
    let mut i = 0;
    while let Some(off) = memchr::memmem::find(&b[i..], b"db.") {
        let p = i + off;
        i = p + 3;
        if p > 0 && (b[p - 1].is_ascii_alphanumeric() || matches!(b[p - 1], b'_' | b'.' | b'-')) {
            continue;
        }
        let mut j = p + 3;
        let mut last = j;
        // Up to two dotted names: `db.users.find` or `db.dropDatabase`.
        for _ in 0..2 {
            last = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') && j - last < 64 {
                j += 1;
            }
            if b.get(j) != Some(&b'.') {
                break;
            }
            j += 1;
        }
        let method = &b[last..j];
        let mut k = j;
        while matches!(b.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        if b.get(k) == Some(&b'(')
            && SHELL_METHODS
                .iter()
                .any(|m| method.eq_ignore_ascii_case(m.as_bytes()))
        {
            return hit(severity::CRITICAL, "mongo-shell");
        }
    }
    None
}

/// A short literal, then `;`, then a JavaScript statement: the shape of closing the
/// expression a `$where` string holds and running code of one's own.
fn js_breakout(b: &[u8]) -> Option<Hit> {
    let semi = memchr::memchr(b';', b)?;
    let prefix = &b[..semi];
    // What the value closes: nothing, a number, or a quoted word — never prose.
    if prefix.len() > 24
        || !prefix.iter().all(|&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'\'' | b'"' | b')' | b' ' | b'_' | b'-')
        })
        || prefix.trim_ascii().contains(&b' ')
    {
        return None;
    }
    let rest = b[semi + 1..].trim_ascii_start();
    let word_end = rest
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let (word, after) = rest.split_at(word_end);
    let after_t = after.trim_ascii_start();
    let statement = match word {
        b"var" | b"let" | b"const" => {
            // `var name =`
            let n = after_t
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$'))
                .unwrap_or(after_t.len());
            n > 0 && after_t[n..].trim_ascii_start().first() == Some(&b'=')
        }
        b"do" => after_t.first() == Some(&b'{'),
        b"while" | b"for" | b"if" | b"function" => after_t.first() == Some(&b'('),
        b"return" => {
            let t = after_t;
            t.starts_with(b"true") || t.starts_with(b"1") || t.starts_with(b"this")
        }
        b"sleep" => after_t.first() == Some(&b'('),
        _ => false,
    };
    statement.then(|| hit(severity::CRITICAL, "js-breakout"))?
}

/// `' || '1'=='1` / `" && this.password.match(/.*/)//`: a quote closed, then a
/// JavaScript boolean operator and an equality that only JavaScript spells `==`.
fn js_tautology(b: &[u8]) -> Option<Hit> {
    let q = memchr::memchr2(b'\'', b'"', b)?;
    if b[..q].contains(&b' ') {
        return None;
    }
    let rest = b[q + 1..].trim_ascii_start();
    if !(rest.starts_with(b"||") || rest.starts_with(b"&&")) {
        return None;
    }
    memchr::memmem::find(rest, b"==").map(|_| Hit {
        detector: Detector::Nosql,
        severity: severity::CRITICAL,
        reason: "js-tautology",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sev(s: &str, src: Source) -> u32 {
        check(s, src).map_or(0, |h| h.severity)
    }

    #[test]
    fn operators_where_values_belong() {
        assert_eq!(sev("$ne", Source::JsonKey), severity::CRITICAL);
        assert_eq!(sev("$where", Source::JsonKey), severity::CRITICAL);
        assert_eq!(sev("user[$ne]", Source::QueryName), severity::CRITICAL);
        assert_eq!(
            sev("password[$regex]", Source::FormName),
            severity::CRITICAL
        );
        for s in [
            "true, $where: '1 == 1'",
            "', $or: [ {}, { 'a':'a",
            r#"{"$gt": ""}"#,
            r#"{"username": {"$ne": null}}"#,
            "{$nin: [1]}",
            "[$GT]",
        ] {
            assert_eq!(sev(s, Source::Query), severity::CRITICAL, "{s}");
        }
    }

    #[test]
    fn shell_calls_and_javascript() {
        for s in [
            "db.injection.insert({success:1});",
            "db.users.find()",
            "x; db.dropDatabase()",
            "db.getCollection ('users')",
            ";var date = new Date(); do{curDate = new Date();}while(curDate-date<1)",
            "0;var date=new Date(); do{}while(1)",
            "1';return true;var x='",
            "'; while(true){}",
            "' || '1'=='1",
            "\" && this.password.match(/.*/)//==",
            "';sleep(5000);'",
        ] {
            assert_eq!(sev(s, Source::Query), severity::CRITICAL, "{s}");
        }
    }

    #[test]
    fn benign_look_alikes() {
        for (s, src) in [
            ("$5 or less", Source::Query),
            ("price in $: 10", Source::Query),
            ("costs $in total", Source::Query),
            ("${HOME}/bin", Source::Query),
            ("$ne", Source::Json),
            ("currency", Source::JsonKey),
            ("$amount", Source::JsonKey),
            ("db.example.com", Source::Query),
            ("see db.find_docs for details", Source::Query),
            (
                "for (var i = 0; i < n; i++) { total += a[i]; }",
                Source::Query,
            ),
            ("Hello; var is a keyword", Source::Query),
            ("ok; do you (really) want it?", Source::Query),
            ("a || b == c", Source::Query),
            ("O'Brien && sons == family", Source::Query),
            ("items[$0]", Source::QueryName),
        ] {
            assert_eq!(sev(s, src), 0, "{s}");
        }
    }
}
