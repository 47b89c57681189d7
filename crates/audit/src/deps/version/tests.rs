//! Version ordering and range tests per ecosystem.

use super::*;

fn sv(s: &str) -> semver::Version {
    parse_semver_loose(s).expect("test input")
}

fn npm(range: &str, v: &str) -> bool {
    NpmRange::parse(range).expect("test input").matches(&sv(v))
}

#[test]
fn npm_caret_tilde_x_and_hyphen() {
    assert!(npm("^1.2.3", "1.9.0"));
    assert!(!npm("^1.2.3", "2.0.0"));
    assert!(!npm("^0.2.3", "0.3.0"));
    assert!(npm("^0.2.3", "0.2.9"));
    assert!(!npm("^0.0.3", "0.0.4"));
    assert!(npm("~1.2.3", "1.2.9"));
    assert!(!npm("~1.2.3", "1.3.0"));
    assert!(npm("1.x", "1.5.0"));
    assert!(!npm("1.x", "2.0.0"));
    assert!(npm("1.2.3 - 2.3", "2.3.9"));
    assert!(!npm("1.2.3 - 2.3", "2.4.0"));
    assert!(npm("*", "0.0.1"));
    assert!(npm("<=1.0.0", "1.0.0"));
    assert!(npm(">= 1.0.0 < 1.4.2 || >=2.0.0 <2.0.3", "2.0.2"));
    assert!(!npm(">= 1.0.0 < 1.4.2 || >=2.0.0 <2.0.3", "1.4.2"));
    assert!(npm("<1.2", "1.1.9"));
    assert!(!npm("<1.2", "1.2.0"));
    assert!(npm(">1.2", "1.3.0"));
    assert!(!npm(">1.2", "1.2.5"));
    assert!(NpmRange::parse(">=1.0.0 ?? 2").is_err());
}

#[test]
fn loose_semver_pads_and_strips() {
    assert_eq!(sv("v1.2"), semver::Version::new(1, 2, 0));
    assert_eq!(sv("=3"), semver::Version::new(3, 0, 0));
    assert!(parse_semver_loose("not-a-version").is_none());
}

#[test]
fn pep440_ordering_epochs_pre_post_dev() {
    let p = |s| Version::parse(Ecosystem::PyPi, s).expect("test input");
    assert!(p("1.0.dev1") < p("1.0a1"));
    assert!(p("1.0a1") < p("1.0rc1"));
    assert!(p("1.0rc1") < p("1.0"));
    assert!(p("1.0") < p("1.0.post1"));
    assert!(p("2.0") < p("1!0.1"));
    assert_eq!(p("1.0"), p("1.0.0"));
    assert!(Version::parse(Ecosystem::Crates, "1.0")
        .expect("test input")
        .compare(&p("1.0"))
        .is_none());
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.compare(other)
    }
}

#[test]
fn cargo_requirements_and_floors() {
    assert!(cargo_req_matches(">= 1.18.4, < 1.19.0", &sv("1.18.5")).expect("test input"));
    assert!(!cargo_req_matches(">= 1.23.1", &sv("1.20.0")).expect("test input"));
    assert!(!cargo_req_matches(">= 1.0.0", &sv("1.0.0-rc.1")).expect("test input"));
    assert!(cargo_req_matches("^0.4.2", &sv("0.4.9")).expect("test input"));
    assert_eq!(cargo_req_floor(">= 1.18.4, < 1.19.0"), Some(sv("1.18.4")));
    assert_eq!(cargo_req_floor("^0.3.1"), Some(sv("0.3.1")));
    assert_eq!(cargo_req_floor("< 0.1"), None);
}

#[test]
fn pypi_names_normalise() {
    assert_eq!(Ecosystem::PyPi.normalize_name("Foo_Bar.baz"), "foo-bar-baz");
    assert_eq!(Ecosystem::Npm.normalize_name("@Scope/x"), "@Scope/x");
}
