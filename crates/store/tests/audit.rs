//! The audit log's hash chain on SQLite and MariaDB: appends verify, any edit or
//! deletion is found at its place, concurrent writers (several store handles, as
//! several gateway instances) keep one unbroken chain, and pruning keeps the rest
//! verifiable behind a signed checkpoint.

mod common;

use centinela_core::auditlog::{Event, Kind};
use common::TestDb;

fn event(i: i64, at_ms: i64) -> Event {
    Event::new(Kind::LoginFailure, "failure", at_ms)
        .actor(format!("user{i}"))
        .client("192.0.2.7")
        .detail("n", i)
}

async fn chain_verifies_and_tampering_is_found(db: &TestDb) {
    let s = &db.store;
    assert_eq!(s.verify_audit().await.expect("verify"), Ok(0));
    let batch: Vec<Event> = (1..=5).map(|i| event(i, 1_000 + i)).collect();
    assert_eq!(s.append_audit(&batch).await.expect("append"), 5);
    assert_eq!(s.append_audit(&[event(6, 2_000)]).await.expect("append"), 6);
    assert_eq!(s.verify_audit().await.expect("verify"), Ok(6));
    let got = s.audit_events(0, 0, 100).await.expect("read");
    assert_eq!(got.len(), 6);
    assert_eq!(got[0].kind, "login-failure");
    assert_eq!(got[5].actor.as_deref(), Some("user6"));

    // Someone edits a record in the database.
    sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
        .execute(s.pool())
        .await
        .expect("tamper");
    let b = s.verify_audit().await.expect("verify").expect_err("broken");
    assert_eq!(b.seq, 3, "{b}");
    sqlx::query("UPDATE audit_events SET actor = 'user3' WHERE seq = 3")
        .execute(s.pool())
        .await
        .expect("restore");
    assert_eq!(s.verify_audit().await.expect("verify"), Ok(6));

    // Someone deletes one.
    sqlx::query("DELETE FROM audit_events WHERE seq = 4")
        .execute(s.pool())
        .await
        .expect("delete");
    let b = s.verify_audit().await.expect("verify").expect_err("broken");
    assert_eq!(b.seq, 4, "{b}");
}

async fn concurrent_writers_keep_one_chain(db: &TestDb) {
    let mut handles = Vec::new();
    for instance in 0..3 {
        let store = db.reopen(&db.master).await.expect("second handle");
        for task in 0..3 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                for i in 0..10 {
                    let e = event(instance * 100 + task * 10 + i, 5_000);
                    store.append_audit(&[e.clone(), e]).await.expect("append");
                }
            }));
        }
    }
    for h in handles {
        h.await.expect("task");
    }
    assert_eq!(db.store.verify_audit().await.expect("verify"), Ok(180));
    assert_eq!(db.store.audit_head().await.expect("head").0, 180);
}

async fn pruning_keeps_the_rest_verifiable(db: &TestDb) {
    let s = &db.store;
    let events: Vec<Event> = (1..=10).map(|i| event(i, i * 1_000)).collect();
    s.append_audit(&events).await.expect("append");
    let report = s.prune_audit(4_500).await.expect("prune");
    assert_eq!((report.deleted, report.checkpoint), (4, Some(4)));
    assert_eq!(s.verify_audit().await.expect("verify"), Ok(6));
    s.append_audit(&[event(11, 11_000)]).await.expect("append");
    assert_eq!(s.verify_audit().await.expect("verify"), Ok(7));
    // A hand-made checkpoint (to hide deleted events) is refused.
    sqlx::query("UPDATE audit_checkpoints SET seq = 5")
        .execute(s.pool())
        .await
        .expect("forge");
    let b = s.verify_audit().await.expect("verify").expect_err("forged");
    assert!(b.reason.contains("signature"), "{b}");
}

both_backends!(
    chain_verifies_and_tampering_is_found,
    concurrent_writers_keep_one_chain,
    pruning_keeps_the_rest_verifiable,
);
