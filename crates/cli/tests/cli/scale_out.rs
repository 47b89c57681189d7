//! Three gateways on one MariaDB behave as one: they start together on an empty
//! database (each migration applied once), a session made on one is valid on all,
//! "log out everywhere" on one ends it on all, failed logins spread over the three
//! lock the account, the alert they raise is notified once, and the audit chain the
//! three wrote at the same time verifies.

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use reqwest::StatusCode;

use crate::util::{Db, Env, Server};

const PASSWORD: &str = "correct horse battery staple";

fn mysql_query(db_url: &str, sql: &str) -> String {
    let db = db_url.rsplit('/').next().expect("database name");
    let out = Command::new("mysql")
        .args([
            "--protocol=tcp",
            "-h127.0.0.1",
            "-uroot",
            "-N",
            "-B",
            db,
            "-e",
            sql,
        ])
        .output()
        .expect("mysql client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn three_instances_on_one_mariadb_behave_as_one() {
    let (hook, notified) = crate::alerts::webhook();
    let extra = format!(
        "[login]\nmax_failures = 10\nwindow = \"15m\"\nlockout = \"15m\"\n\n\
         [alerts]\nwebhook_url = \"http://127.0.0.1:{hook}/hook\"\n"
    );
    let first = Env::with_extra(Db::Mysql, &extra);
    // One master key for the deployment, as from one Secret.
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    std::fs::write(first.path().join("master.key"), key).expect("master key");
    let envs = [first.sibling(&extra), first.sibling(&extra)];
    let envs: Vec<&Env> = std::iter::once(&first).chain(envs.iter()).collect();

    // All three start at once on the empty database.
    let servers: Vec<Server> = std::thread::scope(|s| {
        let handles: Vec<_> = envs.iter().map(|e| s.spawn(|| e.start_server())).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("start"))
            .collect()
    });
    let applied = mysql_query(
        &first.db_url,
        "SELECT COUNT(*), COUNT(DISTINCT version) FROM _sqlx_migrations WHERE success = 1",
    );
    let (rows, distinct) = applied.split_once('\t').expect("two columns");
    assert_eq!(rows, distinct, "a migration was applied twice");
    assert!(distinct.parse::<u32>().expect("count") >= 3);

    first.add_user(
        "ana",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let clients: Vec<reqwest::Client> = envs.iter().map(|e| crate::login::client(e)).collect();
    let whoami = |i: usize, cookie: &str| {
        clients[i]
            .get(format!("{}/api/whoami", servers[i].base()))
            .header("cookie", format!("__Host-centinela={cookie}"))
            .send()
    };

    // A session from instance 0 works on 1 and 2.
    let cookie = crate::login::login_cookie(&clients[0], &servers[0], "ana", PASSWORD).await;
    for i in 0..3 {
        assert_eq!(
            whoami(i, &cookie).await.expect("whoami").status(),
            StatusCode::OK,
            "instance {i}"
        );
    }
    // "Log out everywhere" on instance 2 ends it on 0 and 1 at once.
    let out = clients[2]
        .post(format!(
            "{}/_centinela/api/logout-everywhere",
            servers[2].base()
        ))
        .header("cookie", format!("__Host-centinela={cookie}"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    for i in 0..2 {
        assert_eq!(
            whoami(i, &cookie).await.expect("whoami").status(),
            StatusCode::UNAUTHORIZED,
            "instance {i}"
        );
    }

    // Ten failures spread over the three instances lock the account on all.
    // Each instance takes its share at the same time as the others (4 + 3 + 3), so
    // the three also write the audit chain concurrently.
    let share = |i: usize, n: usize| {
        let (c, srv) = (&clients[i], &servers[i]);
        async move {
            for _ in 0..n {
                let r =
                    crate::login::api_login(c, srv, "ana", "not the password at all", None).await;
                assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            }
        }
    };
    tokio::join!(share(0, 4), share(1, 3), share(2, 3));
    for i in 0..3 {
        let r = crate::login::api_login(&clients[i], &servers[i], "ana", PASSWORD, None).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "instance {i}");
    }

    // The failed-logins alert is raised once, whichever instances counted.
    let seen = crate::alerts::wait_for_rule(&notified, "failed-logins-per-account")
        .await
        .len();
    // Let the other instances see the same events before counting duplicates.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen_after = crate::alerts::of_rule(&notified, "failed-logins-per-account").len();
    assert_eq!((seen, seen_after), (1, 1), "one notification for the alert");

    // The three wrote the audit log at the same time; the chain is whole.
    let verify = first.run(&["audit-log", "verify"], "");
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    for s in &servers {
        assert!(!s.log_text().contains("panicked"));
    }
}
