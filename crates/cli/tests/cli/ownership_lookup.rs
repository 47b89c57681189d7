//! Record ownership the path does not carry: `/api/orders/{order_id}` is checked
//! through a lookup in the application's own MariaDB database
//! (`SELECT customer_id FROM orders WHERE id = ?`), answers cached briefly, and the
//! request refused (503) when the lookup cannot be made.

use reqwest::StatusCode;

use crate::util::{mysql_admin, mysql_base_url, Db, Env};

const PASSWORD: &str = "correct horse battery staple";

/// Drops the application database when the test ends, passed or not.
struct AppDb(String);

impl Drop for AppDb {
    fn drop(&mut self) {
        let _ = std::process::Command::new("mysql")
            .args(["--protocol=tcp", "-h127.0.0.1", "-uroot", "-e"])
            .arg(format!("DROP DATABASE IF EXISTS {}", self.0))
            .status();
    }
}

#[tokio::test]
async fn orders_are_checked_through_the_application_database() {
    let name = format!("cn_shop_{:016x}", rand::random::<u64>());
    let _drop = AppDb(name.clone());
    mysql_admin(&format!(
        "CREATE DATABASE {name}; \
         CREATE TABLE {name}.orders (id INT PRIMARY KEY, customer_id VARCHAR(16)); \
         INSERT INTO {name}.orders VALUES (10, '2'), (11, '3'), (12, '2'), (13, '2')"
    ));
    let env = Env::with_extra(
        Db::Sqlite,
        &format!(
            "[[app_database]]\nname = \"shop\"\nurl = \"{}/{name}\"\n\n\
             [[lookup]]\nname = \"order_owner\"\nquery = \"SELECT customer_id FROM orders WHERE id = ?\"\ncache = \"30s\"\n\n\
             [[route]]\nname = \"order\"\npath = \"/api/orders/{{order_id}}\"\nmethods = [\"GET\"]\nupstream = \"demo\"\n\
             [[route.allow]]\nroles = [\"customer\"]\nowner = {{ lookup = \"order_owner\", param = \"order_id\", attribute = \"customer_id\" }}\n\
             [[route.allow]]\nroles = [\"admin\"]\n",
            mysql_base_url()
        ),
    );
    env.add_user(
        "bruno",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let server = env.start_server();
    let c = crate::login::client(&env);
    let cookie = crate::login::login_cookie(&c, &server, "bruno", PASSWORD).await;
    let get = |path: String| {
        c.get(format!("{}{path}", server.base()))
            .header("cookie", format!("__Host-centinela={cookie}"))
            .send()
    };
    // Forwarded: the demo upstream has no orders API and answers 404 itself, after
    // the gateway let the request through.
    let own = get("/api/orders/10".into()).await.expect("own");
    assert_eq!(
        own.status(),
        StatusCode::NOT_FOUND,
        "own order is forwarded"
    );
    let other = get("/api/orders/11".into()).await.expect("other");
    assert_eq!(
        other.status(),
        StatusCode::FORBIDDEN,
        "another customer's order"
    );
    let missing = get("/api/orders/99".into()).await.expect("missing");
    assert_eq!(
        missing.status(),
        StatusCode::FORBIDDEN,
        "an unknown order has no owner"
    );
    // Tampered ids are just other keys, bound as parameters.
    let sqli = get("/api/orders/10%20OR%201=1".into()).await.expect("sqli");
    assert!(
        matches!(
            sqli.status(),
            StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST
        ),
        "{}",
        sqli.status()
    );

    // Answers are cached: order 12 is looked up once, then the database goes away.
    assert_eq!(
        get("/api/orders/12".into()).await.expect("12").status(),
        StatusCode::NOT_FOUND
    );
    mysql_admin(&format!(
        "RENAME TABLE {name}.orders TO {name}.orders_moved"
    ));
    assert_eq!(
        get("/api/orders/12".into()).await.expect("cached").status(),
        StatusCode::NOT_FOUND,
        "a cached answer is reused"
    );
    // A lookup that cannot be made fails closed: refused, never forwarded.
    let down = get("/api/orders/13".into()).await.expect("down");
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!server.log_text().contains("panicked"));
}
