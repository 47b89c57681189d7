//! How "constant" and "built" are decided, on small snippets.

use super::{scan_source, Lang};
use crate::report::Report;

fn ids(lang: Lang, src: &str) -> Vec<&'static str> {
    let mut report = Report::new("code");
    scan_source("t", lang, src, &mut report);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report.findings.iter().map(|f| f.rule.id).collect()
}

fn py(src: &str) -> Vec<&'static str> {
    ids(Lang::Python, src)
}

fn js(src: &str) -> Vec<&'static str> {
    ids(Lang::JavaScript, src)
}

#[test]
fn a_name_is_constant_only_if_every_assignment_is() {
    assert!(py("q = 'SELECT 1'\ncur.execute(q)\n").is_empty());
    assert_eq!(
        py("q = 'SELECT 1'\nif x:\n    q = 'SELECT ' + x\ncur.execute(q)\n"),
        ["CODE-001"]
    );
    assert!(js("const A = 'a'; const B = A + 'b'; pool.query('SELECT ' + B);").is_empty());
}

#[test]
fn a_query_passed_in_is_not_guessed_at() {
    // Nothing shows how `q` was built: not reported (no false positive on wrappers).
    assert!(py("def run(cur, q):\n    cur.execute(q)\n").is_empty());
    assert!(js("function run(q) { return pool.query(q); }").is_empty());
}

#[test]
fn self_reference_does_not_loop() {
    assert_eq!(py("q = 'a'\nq = q + x\ncur.execute(q)\n"), ["CODE-001"]);
    assert!(py("q = q\ncur.execute(q)\n").is_empty());
}

#[test]
fn python_string_forms() {
    assert_eq!(py("cur.execute(f'SELECT {x}')\n"), ["CODE-001"]);
    assert!(py("cur.execute(f'SELECT 1')\n").is_empty());
    assert!(py("cur.execute('SELECT ' 'a')\n").is_empty());
    assert_eq!(py("cur.execute('SELECT %s' % (x,))\n"), ["CODE-001"]);
    assert_eq!(py("cur.execute('SELECT {}'.format(x))\n"), ["CODE-001"]);
    assert!(py("cur.execute('SELECT {}'.format('a'))\n").is_empty());
    // Parameters are the fix, not a finding.
    assert!(py("cur.execute('SELECT * FROM t WHERE id = %s', (x,))\n").is_empty());
}

#[test]
fn javascript_string_forms() {
    assert_eq!(js("db.query(`SELECT ${x}`)"), ["CODE-001"]);
    assert!(js("db.query(`SELECT 1`)").is_empty());
    assert_eq!(js("db.query('SELECT '.concat(x))"), ["CODE-001"]);
    assert!(js("db.query('SELECT ?', [x])").is_empty());
}

#[test]
fn yaml_loaders() {
    assert_eq!(py("yaml.load(s)\n"), ["CODE-003"]);
    assert_eq!(py("yaml.load(s, yaml.FullLoader)\n"), ["CODE-003"]);
    assert!(py("yaml.load(s, Loader=yaml.CSafeLoader)\n").is_empty());
    assert!(py("yaml.load(s, yaml.SafeLoader)\n").is_empty());
    assert!(py("yaml.safe_load(s)\n").is_empty());
}

#[test]
fn typescript_and_tsx_parse() {
    assert_eq!(
        ids(
            Lang::TypeScript,
            "const x: string = req.query.q as string;\nel.innerHTML = x;\n"
        ),
        ["CODE-004"]
    );
    assert_eq!(
        ids(
            Lang::Tsx,
            "const C = (p: {h: string}) => <i dangerouslySetInnerHTML={{ __html: p.h }} />;\n"
        ),
        ["CODE-004"]
    );
}

#[test]
fn secrets_need_a_real_looking_literal() {
    assert_eq!(py("SECRET_KEY = 'f3a9c0d1e2b4a5968776'\n"), ["CODE-009"]);
    assert!(py("SECRET_KEY = os.environ['SECRET_KEY']\n").is_empty());
    assert!(py("SECRET_KEY = ''\n").is_empty());
    assert!(py("password_label = 'Enter your password'\n").is_empty());
    assert!(js("const apiKey = 'your-api-key-here';").is_empty());
}

#[test]
fn hostile_input_does_not_panic() {
    let deep = format!("x = {}1{}\n", "(".repeat(5_000), ")".repeat(5_000));
    let mut report = Report::new("code");
    scan_source("deep.py", Lang::Python, &deep, &mut report);
    let mut report = Report::new("code");
    scan_source(
        "junk.js",
        Lang::JavaScript,
        "\u{0}\u{feff}`${`${`${",
        &mut report,
    );
    assert!(!report.errors.is_empty());
}
