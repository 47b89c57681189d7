//! Matching tests: OSV events, RustSec requirements, npm ranges; merge and dates.

use super::*;

fn osv_adv(eco: Ecosystem, pkg: &str, events: Vec<Event>, versions: Vec<&str>) -> Advisory {
    Advisory {
        id: "TEST-1".into(),
        aliases: vec!["CVE-2000-1".into()],
        summary: String::new(),
        severity: None,
        cvss: None,
        informational: None,
        url: None,
        withdrawn: false,
        modified: None,
        source: "t".into(),
        affected: vec![Affected {
            ecosystem: eco,
            package: pkg.into(),
            ranges: vec![Range::Events { events }],
            versions: versions.into_iter().map(String::from).collect(),
        }],
    }
}

fn check(a: &Advisory, eco: Ecosystem, v: &str) -> Option<Option<String>> {
    let ver = Version::parse(eco, v).expect("test input");
    affected(eco, &a.affected[0], &ver).expect("test input")
}

#[test]
fn osv_events_with_several_introduced_and_fixed() {
    let a = osv_adv(
        Ecosystem::Crates,
        "tokio",
        vec![
            Event::Introduced("1.7.0".into()),
            Event::Fixed("1.18.4".into()),
            Event::Introduced("1.19.0".into()),
            Event::Fixed("1.20.3".into()),
        ],
        vec![],
    );
    assert_eq!(check(&a, Ecosystem::Crates, "1.6.9"), None);
    assert_eq!(
        check(&a, Ecosystem::Crates, "1.7.0"),
        Some(Some("1.18.4".into()))
    );
    assert_eq!(check(&a, Ecosystem::Crates, "1.18.4"), None);
    assert_eq!(
        check(&a, Ecosystem::Crates, "1.19.5"),
        Some(Some("1.20.3".into()))
    );
    assert_eq!(check(&a, Ecosystem::Crates, "1.21.0"), None);
}

#[test]
fn osv_pep440_ranges_and_last_affected() {
    let a = osv_adv(
        Ecosystem::PyPi,
        "Django",
        vec![
            Event::Introduced("0".into()),
            Event::Fixed("3.2.0rc1".into()),
        ],
        vec![],
    );
    assert!(check(&a, Ecosystem::PyPi, "3.2.0b1").is_some());
    assert!(check(&a, Ecosystem::PyPi, "3.2").is_none());
    assert!(check(&a, Ecosystem::PyPi, "1!0.1").is_none());
    let b = osv_adv(
        Ecosystem::PyPi,
        "x",
        vec![
            Event::Introduced("1.0".into()),
            Event::LastAffected("1.4.post1".into()),
        ],
        vec![],
    );
    assert_eq!(check(&b, Ecosystem::PyPi, "1.4.post1"), Some(None));
    assert!(check(&b, Ecosystem::PyPi, "1.4.post2").is_none());
    let c = osv_adv(Ecosystem::PyPi, "x", vec![], vec!["2.0.1"]);
    assert!(check(&c, Ecosystem::PyPi, "2.0.1.0").is_some());
}

#[test]
fn rustsec_patched_and_unaffected() {
    let mut a = osv_adv(Ecosystem::Crates, "tokio", vec![], vec![]);
    a.affected[0].ranges = vec![Range::CargoPatched {
        patched: vec![">= 1.18.4, < 1.19.0".into(), ">= 1.23.1".into()],
        unaffected: vec!["< 1.7.0".into()],
    }];
    assert_eq!(
        check(&a, Ecosystem::Crates, "1.18.0"),
        Some(Some("1.18.4".into()))
    );
    assert_eq!(
        check(&a, Ecosystem::Crates, "1.20.0"),
        Some(Some("1.23.1".into()))
    );
    assert_eq!(check(&a, Ecosystem::Crates, "1.6.0"), None);
    assert_eq!(check(&a, Ecosystem::Crates, "1.18.5"), None);
}

#[test]
fn npm_legacy_ranges() {
    let mut a = osv_adv(Ecosystem::Npm, "lodash", vec![], vec![]);
    a.affected[0].ranges = vec![Range::Npm {
        vulnerable: "<4.17.5".into(),
        patched: Some(">=4.17.5".into()),
    }];
    assert_eq!(
        check(&a, Ecosystem::Npm, "4.17.4"),
        Some(Some("4.17.5".into()))
    );
    assert_eq!(check(&a, Ecosystem::Npm, "4.17.5"), None);
}

#[test]
fn index_normalises_pypi_names_and_skips_withdrawn() {
    let mut db = Db::default();
    let a = osv_adv(
        Ecosystem::PyPi,
        "PyYAML",
        vec![Event::Introduced("0".into()), Event::Fixed("5.4".into())],
        vec![],
    );
    let mut w = a.clone();
    w.id = "TEST-2".into();
    w.withdrawn = true;
    let src = Source {
        kind: "osv".into(),
        path: "/x".into(),
        imported_at: 0,
        imported_date: date_of(0),
        advisories: 2,
        skipped: 0,
        newest_record: None,
    };
    db.merge(src, vec![a, w]);
    let idx = db.index();
    let (hits, errs) = idx.lookup(Ecosystem::PyPi, "pyyaml", "5.3.1");
    assert!(errs.is_empty());
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].fixed.as_deref(), Some("5.4"));
    let (_, errs) = idx.lookup(Ecosystem::PyPi, "pyyaml", "not a version!");
    assert_eq!(errs.len(), 1);
}

#[test]
fn merge_replaces_same_source_and_duplicate_ids() {
    let mut db = Db::default();
    let src = |kind: &str, path: &str| Source {
        kind: kind.into(),
        path: path.into(),
        imported_at: 1,
        imported_date: date_of(1),
        advisories: 1,
        skipped: 0,
        newest_record: None,
    };
    let a = osv_adv(Ecosystem::Crates, "tokio", vec![], vec![]);
    db.merge(src("rustsec", "/a"), vec![a.clone()]);
    db.merge(src("rustsec", "/a"), vec![a.clone()]);
    assert_eq!(db.advisories.len(), 1);
    db.merge(src("osv", "/b"), vec![a]);
    assert_eq!(db.advisories.len(), 1);
    assert_eq!(db.sources.len(), 2);
}

#[test]
fn dates() {
    assert_eq!(date_of(0), "1970-01-01");
    assert_eq!(date_of(951_782_400), "2000-02-29");
    assert_eq!(date_of(1_704_067_200), "2024-01-01");
}

#[test]
fn dates_round_trip_and_bad_dates_are_refused() {
    for unix in [
        0,
        86_400 * 365,
        1_780_000_000 / 86_400 * 86_400,
        951_782_400,
    ] {
        assert_eq!(unix_of_date(&date_of(unix)), Some(unix), "{unix}");
    }
    assert_eq!(unix_of_date("2024-02-29T10:00:00Z"), Some(1_709_164_800));
    for bad in ["2024-13-01", "2024-00-10", "yesterday", "2024-1-1"] {
        assert_eq!(unix_of_date(bad), None, "{bad}");
    }
}
