//! `audit mysql` against the real MariaDB of the test machine (127.0.0.1:3306, root,
//! empty password): bad accounts are created under unique names, each is seen
//! reported, and they are dropped again even when an assertion fails.

use std::process::Command;

use centinela_audit::mysql;

const ROOT_URL: &str = "mysql://root@127.0.0.1:3306";

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

/// Drops the accounts when the test ends, passed or not.
struct Accounts(Vec<String>);

impl Drop for Accounts {
    fn drop(&mut self) {
        for a in &self.0 {
            let _ = Command::new("mysql")
                .args([
                    "--protocol=tcp",
                    "-h127.0.0.1",
                    "-uroot",
                    "-e",
                    &format!("DROP USER IF EXISTS {a}"),
                ])
                .status();
        }
    }
}

#[tokio::test]
async fn bad_accounts_are_each_reported() {
    let tag = format!("{:08x}", std::process::id() ^ 0x5eed_0000);
    let empty = format!("'cn_empty_{tag}'@'localhost'");
    let anyhost = format!("'cn_any_{tag}'@'%'");
    let anon = "''@'cn-anon-host.invalid'".to_owned();
    let file = format!("'cn_file_{tag}'@'localhost'");
    let superp = format!("'cn_super_{tag}'@'localhost'");
    let grant = format!("'cn_grant_{tag}'@'localhost'");
    let all = format!("'cn_all_{tag}'@'localhost'");
    let process = format!("'cn_proc_{tag}'@'localhost'");
    let remote_root = format!("'root'@'cn-remote-{tag}.invalid'");
    let old = format!("'cn_old_{tag}'@'localhost'");
    let _cleanup = Accounts(vec![
        process.clone(),
        remote_root.clone(),
        old.clone(),
        empty.clone(),
        anyhost.clone(),
        anon.clone(),
        file.clone(),
        superp.clone(),
        grant.clone(),
        all.clone(),
    ]);
    admin(&format!("CREATE USER {empty}"));
    admin(&format!(
        "CREATE USER {anyhost} IDENTIFIED BY 'Long-enough-pass-1'"
    ));
    admin(&format!("CREATE USER {anon}"));
    admin(&format!(
        "CREATE USER {file} IDENTIFIED BY 'Long-enough-pass-1'"
    ));
    admin(&format!("GRANT FILE ON *.* TO {file}"));
    admin(&format!(
        "CREATE USER {superp} IDENTIFIED BY 'Long-enough-pass-1'"
    ));
    admin(&format!("GRANT SUPER ON *.* TO {superp}"));
    admin(&format!(
        "CREATE USER {grant} IDENTIFIED BY 'Long-enough-pass-1'"
    ));
    admin(&format!("GRANT SELECT ON *.* TO {grant} WITH GRANT OPTION"));
    admin(&format!(
        "CREATE USER {all} IDENTIFIED BY 'Long-enough-pass-1'"
    ));
    admin(&format!("GRANT ALL PRIVILEGES ON *.* TO {all}"));
    admin(&format!(
        "CREATE USER {process} IDENTIFIED BY 'Long-enough-pass-1'"
    ));
    admin(&format!("GRANT PROCESS ON *.* TO {process}"));
    admin(&format!(
        "CREATE USER {remote_root} IDENTIFIED BY 'Long-enough-pass-1'"
    ));
    // A pre-4.1 password hash: 16 hex digits, crackable in seconds.
    admin(&format!(
        "CREATE USER {old} IDENTIFIED VIA mysql_old_password USING '378b243e220ca493'"
    ));

    let report = mysql::scan(ROOT_URL, None).await;
    assert!(report.is_complete(), "{:?}", report.errors);
    let has = |id: &str, account: &str| {
        report
            .findings
            .iter()
            .any(|f| f.rule.id == id && f.location.object.as_deref() == Some(account))
    };
    let listing: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {}", f.rule.id, f.location))
        .collect();
    assert!(has("MYSQL-020", &empty), "{listing:#?}");
    assert!(has("MYSQL-022", &anyhost), "{listing:#?}");
    assert!(has("MYSQL-021", &anon), "{listing:#?}");
    assert!(has("MYSQL-020", &anon), "{listing:#?}");
    assert!(has("MYSQL-026", &file), "{listing:#?}");
    assert!(has("MYSQL-025", &superp), "{listing:#?}");
    assert!(has("MYSQL-028", &grant), "{listing:#?}");
    assert!(has("MYSQL-024", &all), "{listing:#?}");
    assert!(has("MYSQL-027", &process), "{listing:#?}");
    assert!(has("MYSQL-023", &remote_root), "{listing:#?}");
    assert!(has("MYSQL-029", &old), "{listing:#?}");
    // The machine's own root@localhost is a local administrator, not remote root.
    assert!(!has("MYSQL-023", "'root'@'localhost'"), "{listing:#?}");
    assert!(
        !has("MYSQL-020", &file),
        "an account with a password is not reported as empty"
    );
    // Server settings: the test machine runs MariaDB as Debian ships it plus the
    // `test` database the suites use, so these are known to be reported here.
    for (id, setting) in [
        ("MYSQL-001", "require_secure_transport"),
        ("MYSQL-014", "database test"),
    ] {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule.id == id && f.location.object.as_deref() == Some(setting)),
            "{id} {setting}: {listing:#?}"
        );
    }
    // Every finding names the audited server.
    assert!(report
        .findings
        .iter()
        .all(|f| f.location.artifact == ROOT_URL));
}

#[tokio::test]
async fn refused_credentials_and_unreachable_hosts_are_scan_errors() {
    let report = mysql::scan("mysql://cn_nobody_here:wrong@127.0.0.1:3306", None).await;
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].message.contains("cannot connect"),
        "{:?}",
        report.errors
    );
    assert!(
        !report.errors[0].target.contains("wrong"),
        "password leaked"
    );
    let report = mysql::scan("mysql://root@127.0.0.1:1", None).await;
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.exit_code(None), centinela_audit::exit::INCOMPLETE);
}
