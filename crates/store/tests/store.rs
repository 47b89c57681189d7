//! The store test suite, run against SQLite and MariaDB alike.

mod common;

use centinela_store::{NewApiToken, NewUser, Store, StoreError, UserStatus};
use common::TestDb;
use sqlx::Row;

fn new_user(name: &str, email: Option<&str>) -> NewUser {
    NewUser {
        username: name.to_owned(),
        display_name: format!("{name} O'Brien \"quoted\"; DROP TABLE users; --"),
        email: email.map(str::to_owned),
        roles: vec!["customer".to_owned()],
        customer_id: Some("42".to_owned()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
            .to_owned(),
    }
}

fn digest(n: u8) -> [u8; 32] {
    [n; 32]
}

async fn users_round_trip(db: &TestDb) {
    let s = &db.store;
    let u = s
        .create_user(new_user("alice", Some("Alice@Example.com")))
        .await
        .expect("create");
    assert_eq!(u.username, "alice");
    assert_eq!(u.email.as_deref(), Some("Alice@Example.com"));
    assert_eq!(u.roles, vec!["customer"]);
    assert_eq!(u.customer_id.as_deref(), Some("42"));
    assert_eq!(u.status, UserStatus::Active);
    assert!(
        u.display_name.contains("DROP TABLE users"),
        "stored verbatim"
    );

    let by_name = s
        .user_by_username("alice")
        .await
        .expect("q")
        .expect("found");
    assert_eq!(by_name.id, u.id);
    let by_email = s
        .user_by_email("  alice@EXAMPLE.com ")
        .await
        .expect("q")
        .expect("email lookup is case-insensitive");
    assert_eq!(by_email.id, u.id);
    assert!(s
        .user_by_email("bob@example.com")
        .await
        .expect("q")
        .is_none());
    assert!(s
        .user_by_username("alice' OR '1'='1")
        .await
        .expect("q")
        .is_none());

    let dup = s.create_user(new_user("alice", None)).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let dup_email = s
        .create_user(new_user("alice2", Some("alice@example.com")))
        .await;
    assert!(
        matches!(dup_email, Err(StoreError::Conflict(_))),
        "{dup_email:?}"
    );
    let bad = s.create_user(new_user("bad name", None)).await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));

    s.set_user_status(&u.id, UserStatus::Disabled)
        .await
        .expect("status");
    let list = s.list_users().await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, UserStatus::Disabled);
    s.set_email(&u.id, Some("new@example.com"))
        .await
        .expect("email");
    assert!(s
        .user_by_email("alice@example.com")
        .await
        .expect("q")
        .is_none());
    assert!(s
        .user_by_email("new@example.com")
        .await
        .expect("q")
        .is_some());
    assert!(s
        .replace_password_hash(&u.id, "not-the-current-hash", "x")
        .await
        .expect("q")
        .eq(&false));
    assert!(matches!(
        s.set_user_status("missing", UserStatus::Active).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn no_plaintext_at_rest(db: &TestDb) {
    let s = &db.store;
    let u = s
        .create_user(new_user("carol", Some("carol.secret@example.org")))
        .await
        .expect("create");
    s.set_totp_secret(&u.id, Some(b"TOTPSECRETBYTES12345"), true)
        .await
        .expect("totp");
    let row = sqlx::query("SELECT email_ct, email_idx, totp_secret_ct FROM users WHERE id = ?")
        .bind(&u.id)
        .fetch_one(s.pool())
        .await
        .expect("row");
    let email_ct: Vec<u8> = row.try_get(0).expect("ct");
    let email_idx: String = row.try_get(1).expect("idx");
    let totp_ct: Vec<u8> = row.try_get(2).expect("ct");
    let hay = |b: &[u8], needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    assert!(!hay(&email_ct, b"carol.secret"));
    assert!(!email_idx.contains("carol"));
    assert_eq!(email_idx.len(), 64);
    assert!(!hay(&totp_ct, b"TOTPSECRET"));
    // The ciphertext is bound to its row: moving it to another user fails to decrypt.
    let v = s
        .create_user(new_user("victim", None))
        .await
        .expect("create");
    sqlx::query("UPDATE users SET email_ct = ? WHERE id = ?")
        .bind(email_ct)
        .bind(&v.id)
        .execute(s.pool())
        .await
        .expect("tamper");
    assert!(matches!(
        s.user_by_id(&v.id).await,
        Err(StoreError::Decrypt(_))
    ));
}

async fn wrong_master_key_is_refused(db: &TestDb) {
    let other = centinela_store::MasterKey::generate();
    let err = db.reopen(&other).await.expect_err("must refuse");
    assert!(matches!(err, StoreError::Key(_)), "{err}");
    // The right key reopens fine and migrations are idempotent.
    let again = db.reopen(&db.master).await.expect("reopen");
    again.close().await;
}

async fn sessions_lifecycle(db: &TestDb) {
    let s = &db.store;
    let u = s.create_user(new_user("dave", None)).await.expect("create");
    s.create_session(&digest(1), &u.id, false, 3600, Some("127.0.0.1"))
        .await
        .expect("session");
    let rec = s
        .lookup_session(&digest(1), 1800)
        .await
        .expect("q")
        .expect("live");
    assert_eq!(rec.user_id, u.id);
    assert_eq!(rec.username, "dave");
    assert_eq!(rec.customer_id.as_deref(), Some("42"));
    assert!(!rec.mfa_pending);
    assert!(s
        .lookup_session(&digest(2), 1800)
        .await
        .expect("q")
        .is_none());

    // Idle timeout of zero: the session has been idle too long and is removed.
    assert!(s.lookup_session(&digest(1), 0).await.expect("q").is_none());
    assert!(s
        .lookup_session(&digest(1), 1800)
        .await
        .expect("q")
        .is_none());

    // Absolute timeout.
    s.create_session(&digest(3), &u.id, false, 0, None)
        .await
        .expect("s");
    assert!(s
        .lookup_session(&digest(3), 1800)
        .await
        .expect("q")
        .is_none());

    // Rotation: the old id stops working, the new one works, expiry kept.
    s.create_session(&digest(4), &u.id, true, 3600, None)
        .await
        .expect("s");
    let before = s
        .lookup_session(&digest(4), 1800)
        .await
        .expect("q")
        .expect("live");
    assert!(before.mfa_pending);
    s.rotate_session(&digest(4), &digest(5), false)
        .await
        .expect("rotate");
    assert!(s
        .lookup_session(&digest(4), 1800)
        .await
        .expect("q")
        .is_none());
    let after = s
        .lookup_session(&digest(5), 1800)
        .await
        .expect("q")
        .expect("live");
    assert!(!after.mfa_pending);
    assert_eq!(after.expires_at, before.expires_at);
    assert!(matches!(
        s.rotate_session(&digest(4), &digest(6), false).await,
        Err(StoreError::NotFound(_))
    ));

    // A disabled user's sessions stop working at once.
    s.create_session(&digest(7), &u.id, false, 3600, None)
        .await
        .expect("s");
    s.set_user_status(&u.id, UserStatus::Disabled)
        .await
        .expect("disable");
    assert!(s
        .lookup_session(&digest(7), 1800)
        .await
        .expect("q")
        .is_none());
    s.set_user_status(&u.id, UserStatus::Active)
        .await
        .expect("enable");
    assert!(s
        .lookup_session(&digest(7), 1800)
        .await
        .expect("q")
        .is_some());

    // Log out everywhere.
    assert_eq!(s.count_user_sessions(&u.id).await.expect("n"), 2);
    assert_eq!(s.delete_user_sessions(&u.id).await.expect("n"), 2);
    assert!(s
        .lookup_session(&digest(5), 1800)
        .await
        .expect("q")
        .is_none());
    assert!(!s.delete_session(&digest(5)).await.expect("q"));

    // Only digests are stored.
    let ids: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_all(s.pool())
        .await
        .expect("q");
    assert!(ids.iter().all(|i| i.len() == 64));
}

async fn api_tokens(db: &TestDb) {
    let s = &db.store;
    let mut nu = new_user("svc", None);
    nu.roles = vec!["agent".into(), "reporting".into()];
    let u = s.create_user(nu).await.expect("create");
    let t = s
        .create_api_token(
            &NewApiToken {
                user_id: u.id.clone(),
                name: "ci job".into(),
                roles: vec!["reporting".into()],
                expires_at: None,
            },
            &digest(9),
        )
        .await
        .expect("token");
    assert!(t.id.starts_with("tok_"));
    let auth = s
        .authenticate_api_token(&digest(9))
        .await
        .expect("q")
        .expect("valid");
    assert_eq!(auth.roles, vec!["reporting"]);
    assert_eq!(auth.username, "svc");
    assert!(s
        .authenticate_api_token(&digest(8))
        .await
        .expect("q")
        .is_none());

    // A token cannot carry a role its owner lacks.
    let escalate = s
        .create_api_token(
            &NewApiToken {
                user_id: u.id.clone(),
                name: "x".into(),
                roles: vec!["admin".into()],
                expires_at: None,
            },
            &digest(10),
        )
        .await;
    assert!(matches!(escalate, Err(StoreError::Invalid(_))));

    // Expired tokens are refused.
    s.create_api_token(
        &NewApiToken {
            user_id: u.id.clone(),
            name: "old".into(),
            roles: vec![],
            expires_at: Some(1),
        },
        &digest(11),
    )
    .await
    .expect("token");
    assert!(s
        .authenticate_api_token(&digest(11))
        .await
        .expect("q")
        .is_none());

    assert_eq!(s.list_api_tokens(Some(&u.id)).await.expect("list").len(), 2);
    assert!(s.revoke_api_token(&t.id).await.expect("revoke"));
    assert!(!s.revoke_api_token(&t.id).await.expect("revoke twice"));
    assert!(s
        .authenticate_api_token(&digest(9))
        .await
        .expect("q")
        .is_none());
}

async fn throttling_counts_and_locks(db: &TestDb) {
    let s = &db.store;
    for i in 1..=4u32 {
        let st = s
            .record_failure("user:eve", 900, 5, 600)
            .await
            .expect("fail");
        assert_eq!(st.failures, i);
        assert!(st.locked_until.is_none());
    }
    let st = s
        .record_failure("user:eve", 900, 5, 600)
        .await
        .expect("fail");
    assert_eq!(st.failures, 5);
    assert!(st.locked_until.is_some(), "locked after 5");
    assert_eq!(
        s.throttle_state("ip:10.0.0.1", 900)
            .await
            .expect("q")
            .failures,
        0
    );
    // An expired window reads as zero.
    assert_eq!(
        s.throttle_state("user:eve", 0).await.expect("q").failures,
        0
    );
    s.clear_throttle("user:eve").await.expect("clear");
    let st = s.throttle_state("user:eve", 900).await.expect("q");
    assert_eq!(st.failures, 0);
    assert!(st.locked_until.is_none());
    // The key itself is not stored in clear.
    s.record_failure("user:mallory", 900, 5, 600)
        .await
        .expect("fail");
    let keys: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM login_throttle")
        .fetch_all(s.pool())
        .await
        .expect("q");
    assert!(keys.iter().all(|k| !k.contains("mallory")));
}

async fn totp_and_recovery_codes(db: &TestDb) {
    let s = &db.store;
    let u = s
        .create_user(new_user("frank", None))
        .await
        .expect("create");
    assert!(s.totp_secret(&u.id).await.expect("q").is_none());
    s.set_totp_secret(&u.id, Some(&[1, 2, 3, 4]), false)
        .await
        .expect("set");
    let (secret, last) = s.totp_secret(&u.id).await.expect("q").expect("some");
    assert_eq!(secret.as_slice(), &[1, 2, 3, 4]);
    assert_eq!(last, None);
    assert!(
        !s.user_by_id(&u.id)
            .await
            .expect("q")
            .expect("u")
            .totp_enabled
    );
    s.enable_totp(&u.id).await.expect("enable");
    assert!(
        s.user_by_id(&u.id)
            .await
            .expect("q")
            .expect("u")
            .totp_enabled
    );

    assert!(s.consume_totp_step(&u.id, 100).await.expect("q"));
    assert!(!s.consume_totp_step(&u.id, 100).await.expect("q"), "replay");
    assert!(!s.consume_totp_step(&u.id, 99).await.expect("q"), "older");
    assert!(s.consume_totp_step(&u.id, 101).await.expect("q"));

    s.replace_recovery_codes(&u.id, &["abcde12345", "fghij67890"])
        .await
        .expect("codes");
    assert_eq!(s.recovery_codes_left(&u.id).await.expect("n"), 2);
    assert!(s.use_recovery_code(&u.id, "abcde12345").await.expect("q"));
    assert!(
        !s.use_recovery_code(&u.id, "abcde12345").await.expect("q"),
        "single use"
    );
    assert!(!s.use_recovery_code(&u.id, "nope").await.expect("q"));
    assert_eq!(s.recovery_codes_left(&u.id).await.expect("n"), 1);

    s.set_totp_secret(&u.id, None, false).await.expect("clear");
    assert!(
        !s.user_by_id(&u.id)
            .await
            .expect("q")
            .expect("u")
            .totp_enabled
    );
}

async fn key_rotation_reencrypts_while_others_read(db: &TestDb) {
    let s = &db.store;
    let mut ids = Vec::new();
    for i in 0..5 {
        let u = s
            .create_user(new_user(
                &format!("user{i}"),
                Some(&format!("u{i}@example.com")),
            ))
            .await
            .expect("create");
        s.set_totp_secret(&u.id, Some(&[i; 20]), true)
            .await
            .expect("totp");
        ids.push(u.id);
    }
    // A second process (think: the running server) opened before the rotation.
    let server = db.reopen(&db.master).await.expect("reopen");
    let report = s
        .rotate_keys(std::time::Duration::ZERO)
        .await
        .expect("rotate");
    assert_eq!(report.new_key_id, 2);
    assert_eq!(report.reencrypted, 10);
    assert_eq!(report.remaining, 0);
    let key_ids: Vec<Vec<u8>> = sqlx::query_scalar("SELECT email_ct FROM users")
        .fetch_all(s.pool())
        .await
        .expect("q");
    assert!(key_ids.iter().all(|ct| ct[1..5] == 2u32.to_be_bytes()));
    // The other process decrypts rows made under a key it had never loaded.
    for (i, id) in ids.iter().enumerate() {
        let u = server.user_by_id(id).await.expect("q").expect("u");
        assert_eq!(
            u.email.as_deref(),
            Some(format!("u{i}@example.com").as_str())
        );
        let (secret, _) = server.totp_secret(id).await.expect("q").expect("s");
        assert_eq!(secret.as_slice(), &[u8::try_from(i).expect("small"); 20]);
    }
    assert!(server
        .user_by_email("u3@example.com")
        .await
        .expect("q")
        .is_some());
    server.close().await;
}

async fn health(db: &TestDb) {
    assert!(db.store.ping().await);
    assert_eq!(db.store.count_users().await.expect("n"), 0);
    let _: &Store = &db.store;
}

both_backends!(
    users_round_trip,
    no_plaintext_at_rest,
    wrong_master_key_is_refused,
    sessions_lifecycle,
    api_tokens,
    throttling_counts_and_locks,
    totp_and_recovery_codes,
    key_rotation_reencrypts_while_others_read,
    health,
);
