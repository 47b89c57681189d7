//! Policy evaluation over a small customers policy.

use super::*;

fn route(name: &str, pattern: &str, methods: &[&str], rules: Vec<Rule>) -> Route {
    Route {
        name: name.to_owned(),
        host: None,
        pattern: Pattern::parse(pattern, CasePolicy::Sensitive).expect("pattern"),
        methods: methods.iter().map(|m| (*m).to_owned()).collect(),
        upstream: "app".to_owned(),
        rules,
        csp: None,
        rate_limit: None,
        inspect: crate::inspect::InspectPolicy::default(),
    }
}

fn rule(who: Who) -> Rule {
    Rule {
        who,
        auth: AuthKind::Any,
        methods: vec![],
        networks: vec![],
        owner: None,
    }
}

fn roles(r: &[&str]) -> Who {
    Who::Roles(r.iter().map(|s| (*s).to_owned()).collect())
}

fn policy() -> Policy {
    let own = |source| Owner {
        source,
        attribute: Attribute::CustomerId,
    };
    Policy {
        case: CasePolicy::Sensitive,
        routes: vec![
            route("health", "/healthz", &["GET"], vec![rule(Who::Anyone)]),
            route(
                "customers",
                "/api/customers",
                &["GET"],
                vec![rule(roles(&["admin", "agent"]))],
            ),
            route(
                "customer",
                "/api/customers/{id}",
                &["GET", "PUT", "DELETE"],
                vec![
                    rule(roles(&["admin"])),
                    Rule {
                        methods: vec!["GET".into()],
                        ..rule(roles(&["agent"]))
                    },
                    Rule {
                        methods: vec!["GET".into(), "PUT".into()],
                        owner: Some(own(OwnerSource::PathParam("id".into()))),
                        ..rule(roles(&["customer"]))
                    },
                ],
            ),
            route(
                "order",
                "/api/orders/{order_id}",
                &["GET"],
                vec![Rule {
                    owner: Some(own(OwnerSource::Lookup {
                        lookup: "order_owner".into(),
                        param: "order_id".into(),
                    })),
                    ..rule(roles(&["customer"]))
                }],
            ),
            route(
                "search",
                "/api/invoices",
                &["GET", "POST"],
                vec![
                    Rule {
                        methods: vec!["GET".into()],
                        owner: Some(own(OwnerSource::Query("customer".into()))),
                        ..rule(roles(&["customer"]))
                    },
                    Rule {
                        methods: vec!["POST".into()],
                        owner: Some(own(OwnerSource::Json("/customer_id".into()))),
                        ..rule(roles(&["customer"]))
                    },
                ],
            ),
            route(
                "ops",
                "/ops/{*rest}",
                &[],
                vec![Rule {
                    networks: vec!["10.0.0.0/8".parse().expect("cidr")],
                    auth: AuthKind::Token,
                    ..rule(roles(&["ops"]))
                }],
            ),
        ],
    }
}

fn subject(role: &str, customer: Option<&str>) -> Subject {
    Subject {
        user_id: "u1".into(),
        username: "someone".into(),
        roles: vec![role.to_owned()],
        customer_id: customer.map(str::to_owned),
        via_token: false,
    }
}

fn eval_full(
    s: Option<&Subject>,
    method: &str,
    raw_path: &str,
    query: Option<&str>,
    ip: &str,
    body: Option<&serde_json::Value>,
    resolved: &Resolved,
) -> Decision {
    let path = normalize(raw_path, CasePolicy::Sensitive).expect("path");
    policy().evaluate(
        &Facts {
            method,
            host: Some("gw.example"),
            path: &path,
            query,
            client_ip: ip.parse().expect("ip"),
            subject: s,
            json_body: body,
        },
        resolved,
    )
}

fn eval(s: Option<&Subject>, method: &str, path: &str) -> Decision {
    eval_full(s, method, path, None, "192.0.2.1", None, &Resolved::new())
}

#[test]
fn deny_by_default() {
    let admin = subject("admin", None);
    let d = eval(Some(&admin), "GET", "/nowhere");
    assert!(matches!(d, Decision::Deny { route: None, .. }), "{d:?}");
    // Path matches but the method is not covered.
    let d = eval(Some(&admin), "POST", "/api/customers");
    assert!(
        matches!(&d, Decision::Deny { route: None, reason, .. } if reason.contains("method POST")),
        "{d:?}"
    );
    assert!(eval(None, "GET", "/healthz").is_allow());
}

#[test]
fn roles_and_methods() {
    let admin = subject("admin", None);
    let agent = subject("agent", None);
    assert!(eval(Some(&admin), "DELETE", "/api/customers/18").is_allow());
    assert!(eval(Some(&agent), "GET", "/api/customers/18").is_allow());
    assert!(!eval(Some(&agent), "PUT", "/api/customers/18").is_allow());
    assert!(!eval(Some(&agent), "DELETE", "/api/customers/18").is_allow());
    assert!(eval(Some(&agent), "GET", "/api/customers").is_allow());
    let anon = eval(None, "GET", "/api/customers");
    assert!(
        matches!(
            anon,
            Decision::Deny {
                sign_in_may_help: true,
                ..
            }
        ),
        "{anon:?}"
    );
}

#[test]
fn ownership_from_the_path() {
    let me = subject("customer", Some("18"));
    assert!(eval(Some(&me), "GET", "/api/customers/18").is_allow());
    assert!(eval(Some(&me), "PUT", "/api/customers/18").is_allow());
    assert!(!eval(Some(&me), "DELETE", "/api/customers/18").is_allow());
    assert!(!eval(Some(&me), "GET", "/api/customers").is_allow());
    for other in [
        "/api/customers/17",
        "/api/customers/18/../17",
        "/api/customers/%31%37",
        "/api//customers/17/",
        "/api/customers/17;id=18",
    ] {
        let d = eval(Some(&me), "GET", other);
        assert!(
            matches!(&d, Decision::Deny { reason, .. } if reason.contains("owner 17")),
            "{other}: {d:?}"
        );
    }
    // No customer id: never an owner.
    let orphan = subject("customer", None);
    assert!(!eval(Some(&orphan), "GET", "/api/customers/18").is_allow());
}

#[test]
fn ownership_through_a_lookup_fails_closed() {
    let me = subject("customer", Some("18"));
    let d = eval(Some(&me), "GET", "/api/orders/5");
    assert_eq!(
        d,
        Decision::NeedLookup {
            lookup: "order_owner".into(),
            key: "5".into()
        }
    );
    let mut resolved = Resolved::new();
    resolved.insert(("order_owner".into(), "5".into()), Some("18".into()));
    resolved.insert(("order_owner".into(), "6".into()), Some("17".into()));
    resolved.insert(("order_owner".into(), "7".into()), None);
    let go = |p: &str| eval_full(Some(&me), "GET", p, None, "192.0.2.1", None, &resolved);
    assert!(go("/api/orders/5").is_allow());
    assert!(!go("/api/orders/6").is_allow());
    assert!(!go("/api/orders/7").is_allow());
}

#[test]
fn ownership_from_query_and_json() {
    let me = subject("customer", Some("18"));
    let r = Resolved::new();
    let q = |q: &str| {
        eval_full(
            Some(&me),
            "GET",
            "/api/invoices",
            Some(q),
            "192.0.2.1",
            None,
            &r,
        )
    };
    assert!(q("customer=18").is_allow());
    assert!(!q("customer=17").is_allow());
    assert!(!q("customer=18&customer=17").is_allow());
    assert!(!q("other=18").is_allow());
    assert_eq!(
        eval_full(
            Some(&me),
            "POST",
            "/api/invoices",
            None,
            "192.0.2.1",
            None,
            &r
        ),
        Decision::NeedBody
    );
    let body = |v: serde_json::Value| {
        eval_full(
            Some(&me),
            "POST",
            "/api/invoices",
            None,
            "192.0.2.1",
            Some(&v),
            &r,
        )
    };
    assert!(body(serde_json::json!({"customer_id": "18"})).is_allow());
    assert!(body(serde_json::json!({"customer_id": 18})).is_allow());
    assert!(!body(serde_json::json!({"customer_id": 17})).is_allow());
    assert!(!body(serde_json::json!({"customer_id": ["18"]})).is_allow());
    assert!(!body(serde_json::json!({})).is_allow());
}

#[test]
fn networks_and_token_rules() {
    let mut ops = subject("ops", None);
    let r = Resolved::new();
    let at =
        |s: &Subject, ip: &str| eval_full(Some(s), "POST", "/ops/restart/now", None, ip, None, &r);
    assert!(!at(&ops, "10.1.2.3").is_allow(), "a session is not enough");
    ops.via_token = true;
    assert!(at(&ops, "10.1.2.3").is_allow());
    assert!(!at(&ops, "192.0.2.1").is_allow());
}

#[test]
fn explanations_name_the_rule() {
    let agent = subject("agent", None);
    let Decision::Deny { reason, .. } = eval(Some(&agent), "PUT", "/api/customers/3") else {
        panic!("expected a denial");
    };
    assert!(reason.contains("route \"customer\""), "{reason}");
    assert!(
        reason.contains("rule 2 (roles [agent], methods GET)"),
        "{reason}"
    );
    assert!(reason.contains("method PUT not allowed"), "{reason}");
}
