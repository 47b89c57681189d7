//! Ownership lookups against the real MariaDB: answers, unknown records, and the
//! read-only session that refuses writes even when the query and the account would
//! allow them (the load-time check of the query is the first line, this the second).

use std::process::Command;
use std::time::Duration;

use centinela_store::lookup::{AppLookups, LookupSpec};

fn admin(sql: &str) {
    let out = Command::new("mysql")
        .args(["--protocol=tcp", "-h127.0.0.1", "-uroot", "-e", sql])
        .output()
        .expect("mysql client");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct DropDb(String);

impl Drop for DropDb {
    fn drop(&mut self) {
        let _ = Command::new("mysql")
            .args(["--protocol=tcp", "-h127.0.0.1", "-uroot", "-e"])
            .arg(format!("DROP DATABASE IF EXISTS {}", self.0))
            .status();
    }
}

fn spec(name: &str, db: &str, query: &str) -> LookupSpec {
    LookupSpec {
        name: name.to_owned(),
        url: format!("mysql://root@127.0.0.1:3306/{db}"),
        query: query.to_owned(),
        ttl: Duration::from_secs(30),
    }
}

#[tokio::test]
async fn lookups_answer_and_cannot_write() {
    let db = format!("cn_lookup_{:016x}", rand::random::<u64>());
    let _drop = DropDb(db.clone());
    admin(&format!(
        "CREATE DATABASE {db}; CREATE TABLE {db}.orders (id INT PRIMARY KEY, customer_id INT); \
         INSERT INTO {db}.orders VALUES (1, 7)"
    ));
    let lookups = AppLookups::new(&[
        spec("owner", &db, "SELECT customer_id FROM orders WHERE id = ?"),
        // Never accepted by the config loader; built here directly to show the
        // session refuses it anyway.
        spec(
            "write",
            &db,
            "UPDATE orders SET customer_id = 99 WHERE id = ?",
        ),
    ])
    .expect("lookups");
    assert_eq!(
        lookups.owner("owner", "1").await.expect("owner"),
        Some("7".into())
    );
    assert_eq!(lookups.owner("owner", "2").await.expect("none"), None);
    let refused = lookups.owner("write", "1").await;
    assert!(
        refused.is_err(),
        "a write through a lookup session must fail: {refused:?}"
    );
    let still = Command::new("mysql")
        .args(["--protocol=tcp", "-h127.0.0.1", "-uroot", "-N", "-e"])
        .arg(format!("SELECT customer_id FROM {db}.orders WHERE id = 1"))
        .output()
        .expect("mysql");
    assert_eq!(String::from_utf8_lossy(&still.stdout).trim(), "7");
}
