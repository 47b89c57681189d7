//! `deploy/monitoring/` names only metrics the gateway really exports.

use std::collections::BTreeSet;

use crate::util::{wait_for_port, Db, Env};

/// Metric names (`centinela_…`) in a text, with the suffixes Prometheus derives from a
/// family (`_total`, `_bucket`, …) kept as written.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("centinela_") {
        let start = i + pos;
        let preceded_ok = start == 0
            || !(bytes[start - 1].is_ascii_alphanumeric()
                || bytes[start - 1] == b'_'
                || bytes[start - 1] == b'-');
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if preceded_ok {
            out.insert(text[start..end].to_owned());
        }
        i = end;
    }
    out
}

#[tokio::test]
async fn dashboards_and_rules_name_exported_metrics() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/monitoring/");
    let rules = std::fs::read_to_string(format!("{root}prometheus-rules.yaml")).expect("rules");
    let dashboard =
        std::fs::read_to_string(format!("{root}grafana-dashboard.json")).expect("dashboard");
    let _: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let mut wanted = names(&rules);
    wanted.extend(names(&dashboard));
    wanted.remove("centinela_");
    assert!(wanted.len() >= 8, "{wanted:?}");

    let env = Env::new(Db::Sqlite);
    let admin = crate::metrics::with_admin(&env);
    let server = env.start_server();
    wait_for_port(admin);
    // One request so the per-request families have a sample.
    let r = crate::login::client(&env)
        .get(format!("{}/", server.base()))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let text = reqwest::get(format!("http://127.0.0.1:{admin}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    // Families are listed by "# TYPE" even before any sample exists.
    let exported: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    for name in &wanted {
        let family = ["_total", "_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        assert!(
            exported.contains(family) || exported.contains(name.as_str()),
            "{name} is used in deploy/monitoring but not exported; exported: {exported:?}"
        );
    }
}
