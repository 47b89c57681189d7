//! Jinja2 and Django templates: `{{ value|safe }}` on a variable and
//! `{% autoescape false %}` / `{% autoescape off %}` blocks switch off the escaping
//! that keeps data from becoming markup.
//!
//! Templates are not Python, and no tree-sitter grammar for them is maintained, so
//! this reads the template syntax itself: the `{{ … }}` and `{% … %}` delimiters, the
//! filter chain, and string literals inside them. Text outside the delimiters is
//! never looked at.

use crate::finding::{Finding, Location};

use super::rules::XSS;

/// Every `{{ … }}` / `{% … %}` tag of `text`, with its byte offset.
fn tags(text: &str) -> impl Iterator<Item = (usize, &str, bool)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let rest = text.get(at..)?;
        let open = rest.find('{')?;
        let start = at + open;
        let kind = text.as_bytes().get(start + 1).copied();
        let close = match kind {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            _ => {
                at = start + 1;
                continue;
            }
        };
        let body_start = start + 2;
        let len = text.get(body_start..).and_then(|r| r.find(close))?;
        at = body_start + len + 2;
        let body = text.get(body_start..body_start + len)?;
        return Some((
            start,
            body.trim_matches(['-', '+', ' ', '\t', '\n']),
            kind == Some(b'{'),
        ));
    })
}

/// Splits a filter chain on `|` outside string literals.
fn filters(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut last = 0;
    for (i, c) in expr.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '|') => {
                out.push(expr[last..i].trim());
                last = i + 1;
            }
            _ => {}
        }
    }
    out.push(expr[last..].trim());
    out
}

fn is_literal(expr: &str) -> bool {
    let e = expr.trim();
    (e.len() >= 2
        && ((e.starts_with('"') && e.ends_with('"')) || (e.starts_with('\'') && e.ends_with('\''))))
        || e.parse::<f64>().is_ok()
}

fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

pub fn scan(path: &str, text: &str, out: &mut Vec<Finding>) {
    for (offset, body, is_output) in tags(text) {
        let (line, col) = line_col(text, offset);
        let at = || Location::file(path, line, col);
        if is_output {
            let chain = filters(body);
            let value = chain.first().copied().unwrap_or("");
            let safe = chain
                .iter()
                .skip(1)
                .any(|f| f.split(['(', ' ']).next() == Some("safe"));
            if safe && !is_literal(value) {
                out.push(Finding::new(
                    &XSS,
                    at(),
                    format!("`{value}|safe` writes the value as markup, unescaped"),
                ));
            }
        } else {
            let mut words = body.split_whitespace();
            if words.next() == Some("autoescape")
                && matches!(words.next(), Some("false" | "off" | "False"))
            {
                out.push(Finding::new(
                    &XSS,
                    at(),
                    format!("`{{% {body} %}}` turns off escaping for the block"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        scan("t.html", text, &mut out);
        out.iter().filter_map(|f| f.location.line).collect()
    }

    #[test]
    fn safe_on_variables_and_autoescape_off() {
        let t = "<p>{{ comment.body|safe }}</p>\n\
                 <p>{{ user.name }}</p>\n\
                 <p>{{ 'literal <b>'|safe }}</p>\n\
                 <p>{{- bio | striptags | safe -}}</p>\n\
                 {% autoescape off %}{{ x }}{% endautoescape %}\n\
                 {% autoescape true %}{{ x }}{% endautoescape %}\n\
                 <p>{{ 'a|safe' }} {{ x|safeseq }}</p>\n\
                 { not a tag } {{ unterminated";
        assert_eq!(lines(t), [1, 4, 5]);
    }
}
