//! Each lockfile format against its fixture in tests/fixtures/deps/.

use super::*;

fn fixture(rel: &str) -> Vec<Package> {
    let path = format!("{}/tests/fixtures/deps/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("test input");
    let name = rel.rsplit('/').next().expect("test input");
    parse(Kind::of(name).expect("test input"), name, &text).expect("test input")
}

fn triples(p: &[Package]) -> Vec<(String, String, Scope)> {
    p.iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.scope))
        .collect()
}

fn t(n: &str, v: &str, s: Scope) -> (String, String, Scope) {
    (n.into(), v.into(), s)
}

#[test]
fn cargo_lock_skips_workspace_crates() {
    let p = fixture("rust/Cargo.lock");
    assert_eq!(
        triples(&p),
        vec![
            t("smallvec", "1.6.0", Scope::Normal),
            t("tokio", "1.18.0", Scope::Normal)
        ]
    );
    assert_eq!(p[1].line, 17);
}

#[test]
fn npm_v1_nested_and_dev() {
    let p = fixture("npm-v1/package-lock.json");
    assert_eq!(
        triples(&p),
        vec![
            t("lodash", "4.17.4", Scope::Normal),
            t("minimist", "0.0.8", Scope::Dev),
            t("mocha", "5.0.0", Scope::Dev)
        ]
    );
}

#[test]
fn npm_v3_flat_with_scopes_and_links() {
    let p = fixture("npm-v3/package-lock.json");
    assert_eq!(
        triples(&p),
        vec![
            t("@scope/pkg", "1.0.0", Scope::Normal),
            t("chokidar", "3.5.3", Scope::DevOptional),
            t("fsevents", "2.3.2", Scope::Optional),
            t("jest", "29.0.0", Scope::Dev),
            t("lodash", "4.17.20", Scope::Normal),
            t("minimist", "1.2.0", Scope::Normal),
        ]
    );
    assert_eq!(p[4].line, 8);
}

#[test]
fn yarn_classic_and_berry() {
    let c = fixture("yarn-classic/yarn.lock");
    assert_eq!(
        triples(&c),
        vec![
            t("@babel/code-frame", "7.12.13", Scope::Normal),
            t("lodash", "4.17.4", Scope::Normal)
        ]
    );
    assert_eq!(c[1].line, 9);
    let b = fixture("yarn-berry/yarn.lock");
    assert_eq!(triples(&b), vec![t("lodash", "4.17.20", Scope::Normal)]);
}

#[test]
fn pnpm_v6_and_v9() {
    let six = fixture("pnpm-v6/pnpm-lock.yaml");
    assert_eq!(
        triples(&six),
        vec![
            t("lodash", "4.17.20", Scope::Normal),
            t("minimist", "1.2.0", Scope::Dev)
        ]
    );
    let nine = fixture("pnpm-v9/pnpm-lock.yaml");
    assert_eq!(
        triples(&nine),
        vec![
            t("@scope/pkg", "1.0.0", Scope::Normal),
            t("minimist", "1.2.0", Scope::Dev)
        ]
    );
    assert_eq!(
        pnpm_key("/foo/1.0.0_bar@2.0.0", 5),
        Some(("foo".into(), "1.0.0".into()))
    );
    assert_eq!(
        pnpm_key("/@a/b/2.1.0", 5),
        Some(("@a/b".into(), "2.1.0".into()))
    );
}

#[test]
fn python_formats() {
    let r = fixture("python/requirements.txt");
    assert_eq!(
        triples(&r),
        vec![
            t("Django", "3.1.0", Scope::Normal),
            t("PyYAML", "5.3.1", Scope::Normal)
        ]
    );
    assert_eq!(r[1].line, 4);
    let d = fixture("python/requirements-dev.txt");
    assert_eq!(triples(&d), vec![t("pytest", "6.0.0", Scope::Dev)]);
    let p = fixture("poetry/poetry.lock");
    assert_eq!(
        triples(&p),
        vec![
            t("django", "3.1.0", Scope::Normal),
            t("pytest", "6.0.0", Scope::Dev),
            t("pyyaml", "5.3.1", Scope::Optional)
        ]
    );
    let pf = fixture("pipenv/Pipfile.lock");
    assert_eq!(
        triples(&pf),
        vec![
            t("django", "3.1.0", Scope::Normal),
            t("pytest", "6.0.0", Scope::Dev)
        ]
    );
    let uv = fixture("uv/uv.lock");
    assert_eq!(
        triples(&uv),
        vec![
            t("django", "3.1.0", Scope::Normal),
            t("pytest", "6.0.0", Scope::Dev),
            t("pyyaml", "5.3.1", Scope::Optional)
        ]
    );
}

#[test]
fn unknown_versions_and_garbage_are_errors() {
    assert!(parse(
        Kind::NpmLock,
        "package-lock.json",
        r#"{"lockfileVersion": 7, "packages": {}}"#
    )
    .is_err());
    assert!(parse(Kind::Cargo, "Cargo.lock", "version = 9\n").is_err());
    assert!(parse(Kind::Pnpm, "pnpm-lock.yaml", "lockfileVersion: '3.0'\n").is_err());
    assert!(parse(Kind::Yarn, "yarn.lock", "hello: world\n").is_err());
    assert!(parse(Kind::Uv, "uv.lock", "version = 2\n").is_err());
    assert!(parse(Kind::Poetry, "poetry.lock", "[[package]\n").is_err());
}
