//! The audit log's hash chain on SQLite and MariaDB: appends verify, any edit or
//! deletion is found at its place, concurrent writers (several store handles, as
//! several gateway instances) keep one unbroken chain, and pruning keeps the rest
//! verifiable behind a signed checkpoint; searches filter and page newest first and
//! histograms bucket the same way on both backends.

mod common;

use centinela_core::auditlog::{Event, Kind};
use centinela_store::audit_query::AuditFilter;
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

async fn search_filters_and_pages_newest_first(db: &TestDb) {
    let s = &db.store;
    let mut events = Vec::new();
    for i in 0..30 {
        let kind = if i % 3 == 0 {
            Kind::InspectionBlocked
        } else {
            Kind::LoginFailure
        };
        events.push(
            Event::new(kind, "failure", 1_000 + i)
                .target(if i % 2 == 0 { "ana" } else { "bob" })
                .client(if i < 15 { "192.0.2.1" } else { "192.0.2.2" })
                .detail("route", if i == 7 { "100%_off" } else { "search" }),
        );
    }
    s.append_audit(&events).await.expect("append");
    let all = s
        .search_audit(&AuditFilter::default(), 10)
        .await
        .expect("search");
    assert_eq!(all.len(), 10);
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq));
    let next = s
        .search_audit(
            &AuditFilter {
                before_seq: Some(all[9].seq),
                ..AuditFilter::default()
            },
            100,
        )
        .await
        .expect("page 2");
    assert_eq!(next.len(), 20);
    let blocked = AuditFilter {
        kind: Some("inspection-blocked".into()),
        client_ip: Some("192.0.2.2".into()),
        ..AuditFilter::default()
    };
    let got = s.search_audit(&blocked, 100).await.expect("kind+ip");
    assert_eq!(got.len(), 5);
    let ana = AuditFilter {
        user: Some("ana".into()),
        since_ms: Some(1_010),
        until_ms: Some(1_020),
        ..AuditFilter::default()
    };
    assert_eq!(s.search_audit(&ana, 100).await.expect("user").len(), 5);
    // `%` and `_` in the text are literal, not wildcards.
    let text = AuditFilter {
        text: Some("100%_".into()),
        ..AuditFilter::default()
    };
    assert_eq!(s.search_audit(&text, 100).await.expect("text").len(), 1);
    let text = AuditFilter {
        text: Some("1%f".into()),
        ..AuditFilter::default()
    };
    assert!(s.search_audit(&text, 100).await.expect("text").is_empty());
}

async fn histogram_counts_per_bucket_and_kind(db: &TestDb) {
    let s = &db.store;
    let events: Vec<Event> = [
        (0, Kind::LoginFailure),
        (5, Kind::LoginFailure),
        (15, Kind::LoginFailure),
        (25, Kind::LoginSuccess),
        (99, Kind::LoginSuccess),
    ]
    .into_iter()
    .map(|(t, k)| Event::new(k, "x", 10_000 + t))
    .collect();
    s.append_audit(&events).await.expect("append");
    let h = s
        .event_histogram(&["login-failure", "login-success"], 10_000, 10, 3)
        .await
        .expect("histogram");
    assert_eq!(h, vec![vec![2, 1, 0], vec![0, 0, 1]]);
}

both_backends!(
    search_filters_and_pages_newest_first,
    histogram_counts_per_bucket_and_kind,
    chain_verifies_and_tampering_is_found,
    concurrent_writers_keep_one_chain,
    pruning_keeps_the_rest_verifiable,
);
