//! `centinela user|token|keys|config`: administration through the binary, on SQLite and
//! on MariaDB.

use crate::util::{Db, Env};

const GOOD: &str = "correct horse battery staple";

/// A password from the shipped common list that is long enough to pass the length rule,
/// so only the list can refuse it.
fn common_long_password() -> &'static str {
    include_str!("../../../core/data/common-passwords.txt")
        .lines()
        .find(|l| l.chars().count() >= 12)
        .expect("the list has long entries")
}

fn users_and_passwords(db: Db) {
    let env = Env::new(db);
    let out = env.run(&["user", "add", "alice", "--role", "admin"], "short\n");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("12"),
        "{out:?}"
    );
    let out = env.run(
        &["user", "add", "alice", "--role", "admin"],
        &format!("{}\n", common_long_password()),
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("common"),
        "{out:?}"
    );
    let out = env.run(&["user", "add", "alice", "--role", "admin"], "");
    assert!(!out.status.success(), "an empty stdin is refused");

    env.add_user(
        "alice",
        GOOD,
        &[
            "--role",
            "admin",
            "--role",
            "agent",
            "--email",
            "alice@example.com",
        ],
    );
    env.add_user("bob", GOOD, &["--role", "customer", "--customer-id", "7"]);
    let dup = env.run(
        &["user", "add", "bob", "--role", "customer"],
        &format!("{GOOD}\n"),
    );
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let bad = env.run(
        &["user", "add", "x'; DROP TABLE users;--", "--role", "a"],
        &format!("{GOOD}\n"),
    );
    assert!(!bad.status.success());

    let list = env.ok(&["user", "list"], "");
    assert!(
        list.contains("alice\troles=admin,agent\tcustomer_id=-\tstatus=active"),
        "{list}"
    );
    assert!(
        list.contains("bob\troles=customer\tcustomer_id=7"),
        "{list}"
    );
    let json = env.ok(&["user", "list", "--json"], "");
    assert_eq!(json.lines().count(), 2);
    let show = env.ok(&["user", "show", "alice"], "");
    assert!(show.contains("alice@example.com"), "{show}");

    env.ok(&["user", "disable", "bob"], "");
    assert!(env.ok(&["user", "show", "bob"], "").contains("disabled"));
    env.ok(&["user", "enable", "bob"], "");
    assert!(env.ok(&["user", "show", "bob"], "").contains("active"));
    env.ok(&["user", "passwd", "bob"], "another long passphrase here\n");
    env.ok(&["user", "unlock", "bob"], "");
    env.ok(&["user", "revoke-sessions", "bob"], "");
    let missing = env.run(&["user", "show", "nobody"], "");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user named"));

    // The master key file was created private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.path().join("master.key"))
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

fn tokens(db: Db) {
    let env = Env::new(db);
    env.add_user("svc", GOOD, &["--role", "reporting", "--role", "agent"]);
    let token = env.ok(
        &[
            "token",
            "create",
            "--user",
            "svc",
            "--name",
            "nightly",
            "--role",
            "reporting",
            "--expires",
            "30d",
        ],
        "",
    );
    let token = token.trim();
    assert!(token.starts_with("cnt_"), "{token}");
    let list = env.ok(&["token", "list"], "");
    assert!(list.contains("name=nightly"), "{list}");
    assert!(!list.contains(token), "the secret is never listed");
    let id = list.split('\t').next().expect("id").to_owned();
    let escalate = env.run(
        &[
            "token", "create", "--user", "svc", "--name", "x", "--role", "admin",
        ],
        "",
    );
    assert!(!escalate.status.success());
    env.ok(&["token", "revoke", &id], "");
    let after = env.ok(&["token", "list"], "");
    assert!(!after.contains("revoked=-"), "{after}");
    assert!(!env.run(&["token", "revoke", &id], "").status.success());
}

fn key_rotation(db: Db) {
    let env = Env::new(db);
    env.add_user(
        "carol",
        GOOD,
        &["--role", "customer", "--email", "carol@example.com"],
    );
    let out = env.ok(&["keys", "rotate"], "");
    assert!(
        out.contains("data key 2 is now current; 1 field(s) re-encrypted, 0 left"),
        "{out}"
    );
    assert!(env
        .ok(&["user", "show", "carol"], "")
        .contains("carol@example.com"));
}

#[test]
fn users_and_passwords_sqlite() {
    users_and_passwords(Db::Sqlite);
}
#[test]
fn users_and_passwords_mysql() {
    users_and_passwords(Db::Mysql);
}
#[test]
fn tokens_sqlite() {
    tokens(Db::Sqlite);
}
#[test]
fn tokens_mysql() {
    tokens(Db::Mysql);
}
#[test]
fn key_rotation_sqlite() {
    key_rotation(Db::Sqlite);
}
#[test]
fn key_rotation_mysql() {
    key_rotation(Db::Mysql);
}

#[test]
fn config_check_points_at_file_line_and_key() {
    let env = Env::new(Db::Sqlite);
    let check = |name: &str, text: &str| {
        let bad = env.path().join(name);
        std::fs::write(&bad, text).expect("write");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_centinela"))
            .args(["config", "check", "--config"])
            .arg(&bad)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // Every value error is reported at once, each with file:line:column and key.
    let err = check(
        "values.toml",
        "[server]\nlisten = \"nonsense\"\n\n[session]\nidle_timeout = \"13h\"\nabsolute_timeout = \"12h\"\n",
    );
    assert!(err.contains("values.toml:2:"), "{err}");
    assert!(err.contains("server.listen"), "{err}");
    assert!(err.contains("values.toml:5:"), "{err}");
    assert!(err.contains("session.idle_timeout"), "{err}");
    // A misspelt key is refused, not ignored.
    let err = check(
        "unknown.toml",
        "[session]\nidle_timeout = \"1h\"\nbogus = 1\n",
    );
    assert!(err.contains("unknown.toml:3:"), "{err}");
    assert!(err.contains("bogus"), "{err}");
    let ok = env.ok(&["config", "check"], "");
    assert!(ok.contains(": ok"), "{ok}");
}

/// `CENTINELA_DATABASE_URL` and `CENTINELA_MASTER_KEY` override the config file, for the
/// CLI as for the server: no key file is written, and the users land in MariaDB.
#[test]
fn environment_overrides_database_and_key() {
    let mysql = Env::new(Db::Mysql);
    let env = Env::new(Db::Sqlite);
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let run = |args: &[&str], key: &str| {
        let mut child = env
            .cmd(args)
            .env("CENTINELA_DATABASE_URL", &mysql.db_url)
            .env("CENTINELA_MASTER_KEY", key)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        std::io::Write::write_all(
            &mut child.stdin.take().expect("stdin"),
            format!("{GOOD}\n").as_bytes(),
        )
        .expect("stdin");
        child.wait_with_output().expect("wait")
    };
    let out = run(
        &[
            "user",
            "add",
            "hana",
            "--role",
            "customer",
            "--email",
            "hana@example.com",
        ],
        key,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!env.path().join("master.key").exists());
    assert!(!env.path().join("centinela.db").exists());
    // The MariaDB database (through its own config) sees the user...
    let listed = run(&["user", "list"], key);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("hana"));
    // ...and a different key cannot open it: the data keys do not unwrap.
    let other = run(
        &["user", "show", "hana"],
        "HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=",
    );
    assert!(!other.status.success());
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(err.contains("key"), "{err}");
    // A malformed override is refused with the variable's name.
    let bad = run(&["user", "list"], "not base64!");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("CENTINELA_MASTER_KEY"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
