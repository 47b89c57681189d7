//! `centinela policy explain` and `centinela policy test` on the customers example.

use crate::util::{Db, Env};

const PASSWORD: &str = "correct horse battery staple";

#[test]
fn policy_test_runs_the_example_cases() {
    let env = Env::new(Db::Sqlite);
    let cases = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/customers/policy-cases.toml"
    );
    let out = env.ok(&["policy", "test", cases], "");
    assert!(out.contains("15 case(s), 15 passed, 0 failed"), "{out}");

    // A wrong expectation fails the run and says what the policy did instead.
    let bad = env.path().join("bad-cases.toml");
    std::fs::write(
        &bad,
        "[[case]]\nroles = [\"customer\"]\ncustomer_id = \"2\"\npath = \"/api/customers/3\"\nexpect = \"allow\"\n",
    )
    .expect("write");
    let out = env.run(&["policy", "test", &bad.display().to_string()], "");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL") && text.contains("owner 3 is not the caller's customer_id 2"),
        "{text}"
    );

    // A malformed cases file is an error, not a pass.
    std::fs::write(&bad, "[[case]]\npath = \"/\"\nexpect = \"maybe\"\n").expect("write");
    let out = env.run(&["policy", "test", &bad.display().to_string()], "");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn policy_explain_names_the_deciding_rule() {
    let env = Env::new(Db::Sqlite);
    env.add_user(
        "bruno",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let ok = env.run(
        &[
            "policy",
            "explain",
            "--user",
            "bruno",
            "--method",
            "PATCH",
            "--path",
            "/api//customers/%32/",
        ],
        "",
    );
    assert!(ok.status.success());
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(text.contains("ALLOW by route \"customer\""), "{text}");
    assert!(
        text.contains(
            "rule 3 (roles [customer], methods GET/HEAD/PUT/PATCH, owner {id} = user.customer_id)"
        ),
        "{text}"
    );
    assert!(text.contains("params id=2"), "{text}");

    let no = env.run(
        &[
            "policy",
            "explain",
            "--user",
            "bruno",
            "--path",
            "/api/customers/3",
        ],
        "",
    );
    assert_eq!(no.status.code(), Some(1));
    let text = String::from_utf8_lossy(&no.stdout);
    assert!(text.contains("DENY: route \"customer\""), "{text}");
    assert!(
        text.contains("owner 3 is not the caller's customer_id 2"),
        "{text}"
    );

    let anon = env.run(&["policy", "explain", "--path", "/api/customers"], "");
    assert_eq!(anon.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&anon.stdout).contains("not signed in"));

    let unknown = env.run(
        &["policy", "explain", "--user", "nobody", "--path", "/"],
        "",
    );
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn config_check_reports_policy_warnings_with_locations() {
    let env = Env::new(Db::Sqlite);
    let risky = env.path().join("risky.toml");
    std::fs::write(
        &risky,
        "[[upstream]]\nname = \"demo\"\nurl = \"http://127.0.0.1:5080\"\n\
         [[route]]\nname = \"all\"\npath = \"/api/{*rest}\"\n[[route.allow]]\nanyone = true\n\
         [[route]]\nname = \"late\"\npath = \"/api/customers/{id}\"\n[[route.allow]]\nroles = [\"admin\"]\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_centinela"))
        .args(["config", "check", "--config"])
        .arg(&risky)
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: ") && err.contains("risky.toml:7:1: route[0].allow[0]"),
        "{err}"
    );
    assert!(err.contains("anonymous callers"), "{err}");
    assert!(
        err.contains("risky.toml:9:1: route[1]") && err.contains("shadowed"),
        "{err}"
    );

    // A route without any rule, and an upstream no route uses.
    let idle = env.path().join("idle.toml");
    std::fs::write(
        &idle,
        "[[upstream]]\nname = \"demo\"\nurl = \"http://127.0.0.1:5080\"\n\
         [[upstream]]\nname = \"legacy\"\nurl = \"http://127.0.0.1:5081\"\n\
         [[route]]\nname = \"locked\"\npath = \"/api/{*rest}\"\nupstream = \"demo\"\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_centinela"))
        .args(["config", "check", "--config"])
        .arg(&idle)
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("idle.toml:4:1: upstream[1]") && err.contains("\"legacy\" is not used"),
        "{err}"
    );
    assert!(
        err.contains("idle.toml:7:1: route[0]") && err.contains("no [[route.allow]] rule"),
        "{err}"
    );
}
