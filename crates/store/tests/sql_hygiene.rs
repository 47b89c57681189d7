//! Measure 1 applied to ourselves: every SQL statement in the product's sources is a
//! fixed string with bound parameters. This test reads every `.rs` file under
//! `crates/*/src` and fails on SQL text built with `format!`-style macros, string
//! concatenation or `push_str`, and on query calls whose SQL is not a literal or a
//! named constant.

use std::path::{Path, PathBuf};

use regex::Regex;

/// `// sql-hygiene: configured <reason>` on the line above a query call exempts that
/// call's non-constant SQL (never concatenation or formatting, which stay refused).
const ALLOW_MARKER: &str = "// sql-hygiene: configured";

struct Checker {
    sql_text: Regex,
    formatting: Regex,
    concat: Regex,
    dynamic_query: Regex,
}

impl Checker {
    fn new() -> Self {
        Self {
            sql_text: Regex::new(
                r"(?i)\b(select\b[^;]*\bfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|drop\s+(table|database)|create\s+(table|database|index)|alter\s+table|\bwhere\s+\w+\s*(=|like|in\b))",
            )
            .expect("regex"),
            formatting: Regex::new(r"\b(format|format_args|write|writeln|concat)!\s*\(").expect("regex"),
            concat: Regex::new(r#"("\s*\+|\+\s*"|\+\s*&|push_str\s*\()"#).expect("regex"),
            dynamic_query: Regex::new(
                r"\b(query|query_as|query_scalar|raw_sql|query_with)\s*(::<[^>]*>)?\s*\(\s*(&|format!|[a-z_]+\s*\.|[a-z_]+\s*\()",
            )
            .expect("regex"),
        }
    }

    /// Problems in one file's text, as `line: reason`.
    fn check(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            if let Some(m) = self.formatting.find(line) {
                // A macro call may span lines: check its arguments up to the closing paren.
                let rest = lines[i..].join("\n");
                let args = balanced_call(&rest[m.end() - 1..]);
                if self.sql_text.is_match(args) {
                    out.push(format!("{}: SQL text in a formatting macro", i + 1));
                }
            }
            if self.sql_text.is_match(line) && self.concat.is_match(line) {
                out.push(format!("{}: SQL text assembled by concatenation", i + 1));
            }
            // The one sanctioned exception: SQL that is operator configuration (validated
            // at load, parameters still bound), marked with a reason on the line above.
            let allowed = i > 0 && lines[i - 1].trim_start().starts_with(ALLOW_MARKER) && {
                let reason = lines[i - 1].trim_start()[ALLOW_MARKER.len()..].trim();
                reason.len() >= 20
            };
            if self.dynamic_query.is_match(line) && !allowed {
                out.push(format!("{}: query built from a non-constant string", i + 1));
            }
        }
        out
    }
}

/// The text of a call from its opening parenthesis to the matching close (string
/// literals are skipped so parentheses inside them do not count).
fn balanced_call(text: &str) -> &str {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &text[..=i];
                }
            }
            _ => {}
        }
    }
    text
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_checker_catches_what_it_should() {
    let c = Checker::new();
    let bad = [
        r#"let q = format!("SELECT * FROM users WHERE name = '{name}'");"#,
        r#"let q = "DELETE FROM sessions WHERE id = '" + id + "'";"#,
        r#"sql.push_str(" WHERE username = "); let x = "SELECT a FROM b";"#,
        r#"sqlx::query(&format!("SELECT {c} FROM t")).fetch_all(&pool)"#,
        r#"sqlx::query(&q).execute(&pool)"#,
        "// sql-hygiene: configured\nsqlx::query(l.query.as_str())",
        "// sql-hygiene: configured because\nsqlx::query(&format!(\"SELECT a FROM t WHERE b = {b}\"))",
        "let q = format!(\n    \"UPDATE users SET status = {}\",\n    s);",
    ];
    for b in bad {
        assert!(!c.check(b).is_empty(), "not caught: {b}");
    }
    let good = [
        r#"sqlx::query("SELECT id FROM users WHERE username = ?").bind(name)"#,
        r#"sqlx::query(USER_BY_ID).bind(id)"#,
        r#"let msg = format!("user {name} not found");"#,
        r#"sqlx::query_scalar("SELECT COUNT(*) FROM users")"#,
        "// sql-hygiene: configured lookup validated at load, key bound\nsqlx::query(l.query.as_str())",
    ];
    for g in good {
        assert!(c.check(g).is_empty(), "false alarm: {g}: {:?}", c.check(g));
    }
}

#[test]
fn product_sql_is_never_assembled_from_strings() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates dir")
        .to_path_buf();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("read crates").flatten() {
        rust_sources(&krate.path().join("src"), &mut files);
    }
    assert!(files.len() > 10, "found only {} source files", files.len());
    let c = Checker::new();
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read source");
        // Unit tests inside src may build fixtures; only product code is held to this.
        let product = text.split("#[cfg(test)]").next().unwrap_or("");
        for p in c.check(product) {
            problems.push(format!("{}:{p}", f.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "SQL must be a fixed string with bound parameters:\n{}",
        problems.join("\n")
    );
}
