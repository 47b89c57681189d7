//! `audit code`: Python and JavaScript/TypeScript sources parsed with tree-sitter (real
//! syntax trees, not regular expressions), reporting dangerous sinks only where
//! non-constant data reaches them: `cursor.execute("SELECT 1")` is fine,
//! `cursor.execute(f"... {x}")` is not.
//!
//! "Constant" is decided on the tree: literals, and expressions built only from
//! literals and from names whose every assignment in the file is constant. For SQL the
//! test is stricter in the other direction: the query must be *built* (f-string, `%`,
//! `+`, `.format`, template literal) with a non-constant part, so a query passed in
//! from elsewhere is not guessed at.

pub mod rules;
mod templates;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tree_sitter::{Node, Parser};

use crate::finding::{Finding, Location, Rule};
use crate::report::Report;
use crate::suppress;
use rules::*;

/// Source files bigger than this are generated or bundled code; they are skipped
/// with an error rather than parsed at length.
const MAX_SOURCE: u64 = 2 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lang {
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    /// Jinja2 / Django templates (and HTML that may be one).
    Template,
}

/// True for the files `audit code` reads (by extension).
pub fn is_source(path: &Path) -> bool {
    lang_of(path).is_some()
}

fn lang_of(path: &Path) -> Option<Lang> {
    match path.extension()?.to_str()? {
        "py" => Some(Lang::Python),
        "js" | "jsx" | "mjs" | "cjs" => Some(Lang::JavaScript),
        "ts" | "mts" | "cts" => Some(Lang::TypeScript),
        "tsx" => Some(Lang::Tsx),
        "html" | "htm" | "jinja" | "jinja2" | "j2" | "djhtml" => Some(Lang::Template),
        _ => None,
    }
}

/// Scans every Python/JS/TS file named or found under `paths`.
pub fn scan(paths: &[PathBuf]) -> Report {
    let mut report = Report::new("code");
    let mut files = Vec::new();
    for root in paths {
        if root.is_file() {
            match lang_of(root) {
                Some(l) => files.push((root.clone(), l)),
                None => report.error(
                    root.display().to_string(),
                    "not a Python, JavaScript or TypeScript file",
                ),
            }
            continue;
        }
        if !root.exists() {
            report.error(root.display().to_string(), "no such file or directory");
            continue;
        }
        files.extend(
            crate::walk::files(root, &mut report)
                .into_iter()
                .filter_map(|p| lang_of(&p).map(|l| (p, l))),
        );
    }
    // Files are independent: parse them on every core, then merge in the walk's
    // order so the output does not depend on scheduling.
    for part in crate::par::map(&files, |(path, lang)| scan_file(path, *lang)) {
        report.findings.extend(part.findings);
        report.errors.extend(part.errors);
        report.scanned += part.scanned;
        report.inline_ignores.extend(part.inline_ignores);
    }
    report
}

/// Reads and scans one file into a report of its own.
fn scan_file(path: &Path, lang: Lang) -> Report {
    let mut report = Report::new("code");
    let shown = path.display().to_string();
    let text = match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_SOURCE => {
            Err("larger than 2 MiB: generated or bundled code is not scanned".to_owned())
        }
        Err(e) => Err(e.to_string()),
        Ok(_) => match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(_)) => Err("not UTF-8 text (binary file?)".to_owned()),
            Err(e) => Err(e.to_string()),
        },
    };
    match text {
        Ok(t) => scan_source(&shown, lang, &t, &mut report),
        Err(e) => report.error(shown, e),
    }
    report
}

fn scan_source(path: &str, lang: Lang, text: &str, report: &mut Report) {
    if lang == Lang::Template {
        report.scanned += 1;
        report
            .inline_ignores
            .extend(suppress::scan_inline(path, text));
        templates::scan(path, text, &mut report.findings);
        return;
    }
    let mut parser = Parser::new();
    let language: tree_sitter::Language = match lang {
        Lang::Template => return,
        Lang::Python => tree_sitter_python::LANGUAGE.into(),
        Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
        Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
    };
    if parser.set_language(&language).is_err() {
        report.error(path, "tree-sitter grammar version mismatch");
        return;
    }
    let Some(tree) = parser.parse(text, None) else {
        report.error(path, "the parser gave up on this file");
        return;
    };
    report.scanned += 1;
    let root = tree.root_node();
    if root.has_error() {
        // Still scan what parsed, but the run is incomplete: a syntax error may hide
        // a sink.
        let at = first_error(root).map(|n| n.start_position());
        let (l, c) = at.map_or((1, 1), |p| (p.row + 1, p.column + 1));
        report.error(
            format!("{path}:{l}:{c}"),
            "syntax error; the rest of the file was scanned",
        );
    }
    report
        .inline_ignores
        .extend(suppress::scan_inline(path, text));
    let mut cx = Cx {
        src: text.as_bytes(),
        path,
        assigns: HashMap::new(),
        const_names: RefCell::default(),
        built_names: RefCell::default(),
        findings: Vec::new(),
        python: lang == Lang::Python,
    };
    collect_assigns(root, &mut cx);
    visit(root, &mut cx);
    for f in cx.findings {
        report.push(f);
    }
}

/// The first error or missing node, descending only into subtrees that hold one.
fn first_error(root: Node<'_>) -> Option<Node<'_>> {
    let mut n = root;
    loop {
        if n.is_error() || n.is_missing() {
            return Some(n);
        }
        let mut cur = n.walk();
        let next = n
            .children(&mut cur)
            .find(|c| c.has_error() || c.is_missing());
        n = next?;
    }
}

/// Every named node under `root` in document order, without recursion: a file of
/// 10,000 nested brackets must not exhaust the stack.
fn preorder<'t>(root: Node<'t>, mut f: impl FnMut(Node<'t>)) {
    let mut cur = root.walk();
    loop {
        let n = cur.node();
        if n.is_named() {
            f(n);
        }
        if cur.goto_first_child() || cur.goto_next_sibling() {
            continue;
        }
        loop {
            if !cur.goto_parent() {
                return;
            }
            if cur.goto_next_sibling() {
                break;
            }
        }
    }
}

struct Cx<'a> {
    src: &'a [u8],
    path: &'a str,
    /// Name -> every value assigned to it in the file.
    assigns: HashMap<String, Vec<Node<'a>>>,
    /// Memo of `is_const` / `is_built` per name, so a file that reassigns one name
    /// thousands of times is judged in linear time. `None` while being computed: a
    /// name that depends on itself adds nothing (`q = 'a'; q = q + 'b'` is constant).
    const_names: RefCell<HashMap<&'a str, Option<bool>>>,
    built_names: RefCell<HashMap<&'a str, Option<bool>>>,
    findings: Vec<Finding>,
    python: bool,
}

impl<'a> Cx<'a> {
    fn text(&self, n: Node<'_>) -> &'a str {
        n.utf8_text(self.src).unwrap_or("")
    }

    fn report(&mut self, rule: &'static Rule, n: Node<'_>, msg: String) {
        let p = n.start_position();
        let line = u32::try_from(p.row + 1).unwrap_or(u32::MAX);
        let col = u32::try_from(p.column + 1).unwrap_or(u32::MAX);
        self.findings.push(Finding::new(
            rule,
            Location::file(self.path, line, col),
            msg,
        ));
    }
}

fn children<'t>(n: Node<'t>) -> Vec<Node<'t>> {
    let mut cur = n.walk();
    n.named_children(&mut cur).collect()
}

fn collect_assigns<'a>(root: Node<'a>, cx: &mut Cx<'a>) {
    preorder(root, |n| {
        let (name, value) = match n.kind() {
            "assignment" | "assignment_expression" => (
                n.child_by_field_name("left"),
                n.child_by_field_name("right"),
            ),
            "variable_declarator" => (
                n.child_by_field_name("name"),
                n.child_by_field_name("value"),
            ),
            _ => (None, None),
        };
        if let (Some(name), Some(value)) = (name, value) {
            if name.kind() == "identifier" {
                let key = cx.text(name).to_string();
                cx.assigns.entry(key).or_default().push(value);
            }
        }
    });
}

/// How deep `is_const` / `is_built` look through nested expressions and names;
/// deeper is judged "not constant" (and "not built"), which keeps hostile nesting
/// cheap.
const MAX_DEPTH: u8 = 16;

/// True when `n` can only ever hold a constant.
fn is_const(n: Node<'_>, cx: &Cx<'_>, depth: u8) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match n.kind() {
        "string" => !children(n).iter().any(|c| c.kind() == "interpolation"),
        "template_string" => !children(n)
            .iter()
            .any(|c| c.kind() == "template_substitution"),
        "integer" | "float" | "number" | "true" | "false" | "none" | "null" | "undefined"
        | "string_fragment" => true,
        "concatenated_string"
        | "parenthesized_expression"
        | "binary_operator"
        | "binary_expression"
        | "list"
        | "tuple"
        | "array" => children(n).iter().all(|c| is_const(*c, cx, depth + 1)),
        "identifier" => by_name(&cx.const_names, n, cx, true, |v| is_const(v, cx, depth + 1)),
        _ => false,
    }
}

/// Judges a name by every value assigned to it: constant when all are (`all`), built
/// when any is. A name never assigned in the file (a parameter, an import) is neither.
fn by_name<'a>(
    memo: &RefCell<HashMap<&'a str, Option<bool>>>,
    n: Node<'_>,
    cx: &Cx<'a>,
    all: bool,
    judge: impl Fn(Node<'a>) -> bool,
) -> bool {
    let name = cx.text(n);
    let Some(values) = cx.assigns.get(name) else {
        return false;
    };
    match memo.borrow().get(name) {
        Some(Some(known)) => return *known,
        // Being computed further up: a self-reference neither makes the name
        // non-constant nor built.
        Some(None) => return all,
        None => {}
    }
    memo.borrow_mut().insert(name, None);
    let verdict = if all {
        values.iter().all(|v| judge(*v))
    } else {
        values.iter().any(|v| judge(*v))
    };
    memo.borrow_mut().insert(name, Some(verdict));
    verdict
}

/// True when `n` is a string built by formatting with a non-constant part.
fn is_built(n: Node<'_>, cx: &Cx<'_>, depth: u8) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match n.kind() {
        "string" | "template_string" => !is_const(n, cx, depth),
        "binary_operator" | "binary_expression" => {
            let op = n
                .child_by_field_name("operator")
                .map(|o| cx.text(o))
                .unwrap_or("");
            matches!(op, "+" | "%") && !is_const(n, cx, depth)
        }
        "parenthesized_expression" | "concatenated_string" => {
            children(n).iter().any(|c| is_built(*c, cx, depth + 1))
        }
        "call" | "call_expression" => {
            // "...".format(x) / "...".concat(x) / "".join(parts)
            let f = n.child_by_field_name("function");
            let method = f
                .and_then(|f| {
                    f.child_by_field_name("attribute")
                        .or_else(|| f.child_by_field_name("property"))
                })
                .map(|m| cx.text(m));
            matches!(method, Some("format" | "concat" | "join"))
                && n.child_by_field_name("arguments")
                    .is_some_and(|a| !children(a).iter().all(|c| is_const(*c, cx, depth + 1)))
        }
        "identifier" => by_name(&cx.built_names, n, cx, false, |v| {
            is_built(v, cx, depth + 1)
        }),
        _ => false,
    }
}

/// Positional arguments (keyword arguments and spreads left out).
fn positional<'t>(args: Option<Node<'t>>) -> Vec<Node<'t>> {
    args.map(|a| {
        children(a)
            .into_iter()
            .filter(|c| {
                !matches!(
                    c.kind(),
                    "keyword_argument"
                        | "comment"
                        | "list_splat"
                        | "dictionary_splat"
                        | "spread_element"
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

fn keyword<'t>(args: Option<Node<'t>>, name: &str, cx: &Cx<'_>) -> Option<Node<'t>> {
    let a = args?;
    children(a).into_iter().find_map(|c| {
        (c.kind() == "keyword_argument"
            && c.child_by_field_name("name")
                .is_some_and(|k| cx.text(k) == name))
        .then(|| c.child_by_field_name("value"))
        .flatten()
    })
}

/// The value of `key` in a JS object literal (or Python dict) argument.
fn object_prop<'t>(obj: Node<'t>, key: &str, cx: &Cx<'_>) -> Option<Node<'t>> {
    if !matches!(obj.kind(), "object" | "dictionary") {
        return None;
    }
    children(obj).into_iter().find_map(|p| {
        let k = p.child_by_field_name("key")?;
        let name = cx.text(k).trim_matches(|c| c == '"' || c == '\'');
        (p.kind() == "pair" && name == key)
            .then(|| p.child_by_field_name("value"))
            .flatten()
    })
}

/// The dotted callee (`cursor.execute`, `yaml.load`) and its last segment.
fn callee(n: Node<'_>, cx: &Cx<'_>) -> (String, String) {
    let f = n
        .child_by_field_name("function")
        .or_else(|| n.child_by_field_name("constructor"));
    let full = f
        .map(|f| cx.text(f).split_whitespace().collect::<String>())
        .unwrap_or_default();
    let last = full.rsplit('.').next().unwrap_or("").to_string();
    (full, last)
}

fn visit<'a>(root: Node<'a>, cx: &mut Cx<'a>) {
    preorder(root, |n| match n.kind() {
        "call" | "call_expression" | "new_expression" => check_call(n, cx),
        "assignment_expression" | "augmented_assignment_expression" => check_js_assign(n, cx),
        "pair" => check_pair(n, cx),
        "assignment" | "variable_declarator" => check_secret(n, cx),
        _ => {}
    });
}

const SQL_METHODS: &[&str] = &[
    "execute",
    "executemany",
    "executescript",
    "raw",
    "query",
    "text",
    "exec_driver_sql",
    "unsafe",
    "$queryRawUnsafe",
    "$executeRawUnsafe",
];

fn check_call<'a>(n: Node<'a>, cx: &mut Cx<'a>) {
    let args = n.child_by_field_name("arguments");
    let pos = positional(args);
    let first = pos.first().copied();
    let (full, last) = callee(n, cx);
    let nonconst = |x: Option<Node<'_>>, cx: &Cx<'_>| x.is_some_and(|a| !is_const(a, cx, 0));

    // SQL
    if SQL_METHODS.contains(&last.as_str()) || (last == "extra" && cx.python) {
        if let Some(q) = first.filter(|q| is_built(*q, cx, 0)) {
            cx.report(
                &SQL_BUILT,
                q,
                format!("`{full}` runs SQL built from a variable"),
            );
        } else if last == "extra" {
            for kw in ["where", "select", "tables"] {
                if let Some(v) = keyword(args, kw, cx)
                    .filter(|v| children(*v).iter().any(|e| is_built(*e, cx, 0)))
                {
                    cx.report(
                        &SQL_BUILT,
                        v,
                        format!("`{full}({kw}=...)` adds SQL built from a variable"),
                    );
                }
            }
        }
    }
    if !cx.python
        && (last == "exec" || last == "execSync")
        && full.contains("exec")
        && !full.contains("regex")
        && !full.contains('/')
    {
        let shell = full.starts_with("child_process")
            || full == "exec"
            || full == "execSync"
            || full.ends_with("cp.exec")
            || full.ends_with("cp.execSync");
        if shell && nonconst(first, cx) {
            cx.report(
                &COMMAND,
                n,
                format!("`{full}` runs a shell command built from data"),
            );
        }
    }
    if cx.python {
        check_python_call(n, cx, &full, &last, args, first);
    } else {
        check_js_call(n, cx, &full, &last, args, &pos);
    }
}

fn check_python_call<'a>(
    n: Node<'a>,
    cx: &mut Cx<'a>,
    full: &str,
    last: &str,
    args: Option<Node<'a>>,
    first: Option<Node<'a>>,
) {
    let nonconst = first.is_some_and(|a| !is_const(a, cx, 0));
    let kw_is = |name: &str, val: &str, cx: &Cx<'_>| {
        keyword(args, name, cx).is_some_and(|v| cx.text(v) == val)
    };
    // Deserialization and evaluation of data.
    let deser = matches!(
        full,
        "pickle.loads"
            | "pickle.load"
            | "cPickle.loads"
            | "cPickle.load"
            | "_pickle.loads"
            | "dill.loads"
            | "dill.load"
            | "shelve.open"
            | "jsonpickle.decode"
            | "marshal.loads"
            | "marshal.load"
            | "yaml.unsafe_load"
            | "yaml.full_load"
            | "eval"
            | "exec"
    ) || matches!(last, "Unpickler");
    if deser && nonconst {
        cx.report(
            &DESERIALIZATION,
            n,
            format!("`{full}` on data that is not a constant"),
        );
    }
    if full == "yaml.load" || full == "yaml.load_all" {
        let loader = keyword(args, "Loader", cx)
            .map(|l| cx.text(l).to_string())
            .or_else(|| positional(args).get(1).map(|l| cx.text(*l).to_string()));
        let safe = loader.as_deref().is_some_and(|l| {
            l.ends_with("SafeLoader") || l.ends_with("CSafeLoader") || l.ends_with("BaseLoader")
        });
        if !safe && nonconst {
            cx.report(
                &DESERIALIZATION,
                n,
                format!("`{full}` without a safe Loader builds arbitrary Python objects"),
            );
        }
    }
    // XML
    if (full == "XMLParser" || (last == "XMLParser" && full.contains("etree")))
        && !kw_is("resolve_entities", "False", cx)
    {
        cx.report(
            &XXE,
            n,
            "lxml `XMLParser` resolves entities unless `resolve_entities=False`".into(),
        );
    }
    if last == "setFeature" {
        let p = positional(args);
        if p.len() == 2 && cx.text(p[0]).contains("external_ges") && cx.text(p[1]) == "True" {
            cx.report(
                &XXE,
                n,
                "`xml.sax` parser with external general entities turned on".into(),
            );
        }
    }
    if matches!(
        full,
        "pulldom.parse"
            | "pulldom.parseString"
            | "xml.dom.pulldom.parse"
            | "xml.dom.pulldom.parseString"
    ) && nonconst
    {
        cx.report(
            &XXE,
            n,
            format!("`{full}` parses data with the stdlib's entity-expanding parser"),
        );
    }
    // Shell
    let shell_true = kw_is("shell", "True", cx);
    if full.starts_with("subprocess.") && shell_true && nonconst {
        cx.report(
            &COMMAND,
            n,
            format!("`{full}(..., shell=True)` with a command built from data"),
        );
    }
    if matches!(full, "os.system" | "os.popen" | "commands.getoutput") && nonconst {
        cx.report(
            &COMMAND,
            n,
            format!("`{full}` runs a shell command built from data"),
        );
    }
    // TLS
    if kw_is("verify", "False", cx)
        && (full.starts_with("requests.")
            || full.starts_with("httpx.")
            || full.contains("session")
            || full.contains("client"))
    {
        cx.report(&TLS_VERIFY_OFF, n, format!("`{full}(..., verify=False)`"));
    }
    // JWT
    if full == "jwt.decode" {
        let off = kw_is("verify", "False", cx)
            || keyword(args, "options", cx)
                .and_then(|o| object_prop(o, "verify_signature", cx))
                .is_some_and(|v| cx.text(v) == "False");
        if off {
            cx.report(
                &JWT_NO_VERIFY,
                n,
                "`jwt.decode` with signature verification turned off".into(),
            );
        }
    }
    // XSS
    if matches!(last, "Markup" | "mark_safe") && nonconst {
        cx.report(&XSS, n, format!("`{full}` marks data as safe HTML"));
    }
    if matches!(last, "Environment" | "Jinja2Templates") && kw_is("autoescape", "False", cx) {
        cx.report(&XSS, n, "Jinja2 environment with `autoescape=False`".into());
    }
    // Password hashing
    if matches!(full, "hashlib.md5" | "hashlib.sha1" | "md5" | "sha1")
        && first.is_some_and(|a| looks_like_password(cx.text(a)))
    {
        cx.report(&WEAK_PASSWORD_HASH, n, format!("`{full}` over a password"));
    }
}

fn check_js_call<'a>(
    n: Node<'a>,
    cx: &mut Cx<'a>,
    full: &str,
    last: &str,
    _args: Option<Node<'a>>,
    pos: &[Node<'a>],
) {
    let first = pos.first().copied();
    let nonconst = first.is_some_and(|a| !is_const(a, cx, 0));
    let is_new = n.kind() == "new_expression";
    if (last == "unserialize" || full == "eval" || full == "Function") && nonconst {
        cx.report(
            &DESERIALIZATION,
            n,
            format!("`{full}` on data that is not a constant"),
        );
    }
    if full.starts_with("vm.")
        && matches!(
            last,
            "runInNewContext" | "runInThisContext" | "runInContext" | "Script" | "compileFunction"
        )
        && nonconst
    {
        cx.report(
            &DESERIALIZATION,
            n,
            format!("`{full}` runs code taken from data"),
        );
    }
    if matches!(last, "write" | "writeln") && full.starts_with("document.") && nonconst {
        cx.report(&XSS, n, format!("`{full}` writes data as HTML"));
    }
    if last == "insertAdjacentHTML" && pos.get(1).is_some_and(|a| !is_const(*a, cx, 0)) {
        cx.report(&XSS, n, "`insertAdjacentHTML` with data".into());
    }
    if matches!(full, "res.send" | "res.write" | "response.send")
        && first.is_some_and(|a| mentions_request(a, cx))
    {
        cx.report(
            &XSS,
            n,
            format!("`{full}` sends request data back as the response body"),
        );
    }
    // XML parsers with entity processing.
    if matches!(last, "parseXml" | "parseXmlString" | "parseXmlAsync")
        && pos.iter().any(|o| entity_options(*o, cx))
    {
        cx.report(
            &XXE,
            n,
            "libxmljs with `noent: true` expands external entities".into(),
        );
    }
    if is_new
        && matches!(last, "XMLParser" | "Parser" | "DOMParser")
        && pos.iter().any(|o| entity_options(*o, cx))
    {
        cx.report(&XXE, n, "XML parser options that process entities".into());
    }
    // JWT
    if matches!(full, "jwt.verify" | "jwt.decode")
        && pos
            .iter()
            .any(|o| object_prop(*o, "algorithms", cx).is_some_and(|v| lists_none_alg(cx.text(v))))
    {
        cx.report(
            &JWT_NO_VERIFY,
            n,
            "JWT accepted with the `none` algorithm".into(),
        );
    }
    // Password hashing: createHash('md5').update(password)
    if last == "update" && first.is_some_and(|a| looks_like_password(cx.text(a))) {
        let target = n
            .child_by_field_name("function")
            .map(|f| cx.text(f).to_ascii_lowercase())
            .unwrap_or_default();
        if target.contains("createhash('md5')")
            || target.contains("createhash('sha1')")
            || target.contains("createhash(\"md5\")")
            || target.contains("createhash(\"sha1\")")
        {
            cx.report(&WEAK_PASSWORD_HASH, n, "MD5/SHA-1 over a password".into());
        }
    }
}

/// An options object that turns on entity or DTD processing: libxmljs `noent`,
/// `dtdload`, `dtdvalid`; fast-xml-parser `processEntities`; and the same spelled
/// by wrappers.
fn entity_options(obj: Node<'_>, cx: &Cx<'_>) -> bool {
    [
        "noent",
        "dtdload",
        "dtdvalid",
        "processEntities",
        "resolveEntities",
    ]
    .iter()
    .any(|k| object_prop(obj, k, cx).is_some_and(|v| cx.text(v) == "true"))
}

/// `algorithms: ['none']` or any list that includes `none`.
fn lists_none_alg(list: &str) -> bool {
    let l = list.to_ascii_lowercase();
    l.contains("'none'") || l.contains("\"none\"") || l.contains("`none`")
}

fn mentions_request(n: Node<'_>, cx: &Cx<'_>) -> bool {
    let t = cx.text(n);
    t.starts_with("req.")
        || t.contains("req.query")
        || t.contains("req.body")
        || t.contains("req.params")
}

fn looks_like_password(t: &str) -> bool {
    let l = t.to_ascii_lowercase();
    l.contains("password") || l.contains("passwd") || l.contains("pwd")
}

fn check_js_assign<'a>(n: Node<'a>, cx: &mut Cx<'a>) {
    let (Some(left), Some(right)) = (
        n.child_by_field_name("left"),
        n.child_by_field_name("right"),
    ) else {
        return;
    };
    let prop = left
        .child_by_field_name("property")
        .map(|p| cx.text(p))
        .unwrap_or("");
    if matches!(prop, "innerHTML" | "outerHTML") && !is_const(right, cx, 0) {
        cx.report(&XSS, n, format!("`{}` set from data", cx.text(left)));
    }
}

fn check_pair<'a>(n: Node<'a>, cx: &mut Cx<'a>) {
    let (Some(k), Some(v)) = (n.child_by_field_name("key"), n.child_by_field_name("value")) else {
        return;
    };
    let key = cx.text(k).trim_matches(|c| c == '"' || c == '\'');
    if key == "rejectUnauthorized" && cx.text(v) == "false" {
        cx.report(
            &TLS_VERIFY_OFF,
            n,
            "`rejectUnauthorized: false` accepts any certificate".into(),
        );
    }
    if key == "__html" && !is_const(v, cx, 0) {
        // Inside `dangerouslySetInnerHTML={{ __html: ... }}`; a plain object key
        // named `__html` elsewhere is just as much a sink in React.
        cx.report(&XSS, n, "`dangerouslySetInnerHTML` with data".into());
    }
    if is_secret_name(key) && is_secret_literal(v, cx) {
        cx.report(
            &HARDCODED_SECRET,
            n,
            format!("`{key}` is a literal in the source"),
        );
    }
}

fn check_secret<'a>(n: Node<'a>, cx: &mut Cx<'a>) {
    let (name, value) = match n.kind() {
        "assignment" => (
            n.child_by_field_name("left"),
            n.child_by_field_name("right"),
        ),
        _ => (
            n.child_by_field_name("name"),
            n.child_by_field_name("value"),
        ),
    };
    let (Some(name), Some(value)) = (name, value) else {
        return;
    };
    let key = cx.text(name);
    if name.kind() == "identifier" && is_secret_name(key) && is_secret_literal(value, cx) {
        cx.report(
            &HARDCODED_SECRET,
            n,
            format!("`{key}` is a literal in the source"),
        );
    }
}

fn is_secret_name(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "private_key",
        "access_token",
        "auth_token",
    ]
    .iter()
    .any(|w| l.contains(w))
        && !l.contains("field")
        && !l.contains("label")
        && !l.contains("url")
}

/// A plain string literal that looks like a real value (not empty, not a placeholder).
fn is_secret_literal(v: Node<'_>, cx: &Cx<'_>) -> bool {
    if v.kind() != "string" || !is_const(v, cx, 0) {
        return false;
    }
    let t = cx
        .text(v)
        .trim_matches(|c| c == '"' || c == '\'' || c == '`');
    let l = t.to_ascii_lowercase();
    t.len() >= 8
        && !t.contains(' ')
        && ![
            "change",
            "example",
            "xxx",
            "placeholder",
            "your",
            "<",
            "${",
            "{{",
            "dummy",
            "test",
        ]
        .iter()
        .any(|p| l.contains(p))
}

#[cfg(test)]
mod tests;
