//! `centinela audit mysql URL`: a live MySQL or MariaDB server's accounts, privileges
//! and security settings, read through a read-only session.
//!
//! The auditor only reads: the session is set `READ ONLY` before the first query,
//! and every statement is a constant `SELECT`/`SHOW`. A check that cannot run (say,
//! the account may not read `mysql.user`) becomes a scan error and the others go on.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{ConnectOptions as _, Connection as _, Row as _};

use crate::finding::{Finding, Location, Rule, Severity};
use crate::report::Report;

const TIMEOUT: Duration = Duration::from_secs(10);

rule!(INSECURE_TRANSPORT, "MYSQL-001", High, A3SensitiveDataExposure,
    "Unencrypted connections accepted",
    "With `require_secure_transport` off, clients may connect without TLS and send passwords and data in clear.",
    "Configure TLS certificates and set `require_secure_transport = ON`.");
rule!(NO_TLS, "MYSQL-002", High, A3SensitiveDataExposure,
    "TLS not available",
    "The server has no TLS configured (`have_ssl` is not YES), so no client can encrypt its connection.",
    "Set `ssl_cert`, `ssl_key` (and `ssl_ca`) and restart the server.");
rule!(
    OLD_TLS,
    "MYSQL-003",
    Medium,
    A3SensitiveDataExposure,
    "Old TLS versions enabled",
    "TLS 1.0 and 1.1 are deprecated (RFC 8996) and allow downgrade to weak ciphers.",
    "Set `tls_version = TLSv1.2,TLSv1.3`."
);
rule!(LOCAL_INFILE, "MYSQL-010", Medium, A6SecurityMisconfiguration,
    "LOAD DATA LOCAL enabled",
    "With `local_infile` on, a malicious or compromised server (or SQL injection) can make clients send local files.",
    "Set `local_infile = OFF`.");
rule!(SECURE_FILE_PRIV, "MYSQL-011", High, A6SecurityMisconfiguration,
    "File import/export not restricted",
    "An empty `secure_file_priv` lets accounts with FILE read and write files anywhere the server can (`SELECT ... INTO OUTFILE`, `LOAD_FILE`).",
    "Set `secure_file_priv` to a dedicated directory, or to NULL to disable file operations.");
rule!(NAME_RESOLVE, "MYSQL-012", Low, A6SecurityMisconfiguration,
    "Host names resolved for authentication",
    "Without `skip_name_resolve`, account host matching depends on DNS, which an attacker controlling reverse DNS can spoof; it also slows connections.",
    "Set `skip_name_resolve = ON` and use IP addresses in account hosts.");
rule!(NO_AUDIT_LOG, "MYSQL-013", Low, A10InsufficientLogging,
    "No audit logging",
    "Neither the audit plugin nor the general log records connections and statements, so abuse leaves no trace on the database side.",
    "Enable the server audit plugin (`server_audit_logging = ON` on MariaDB, an audit log component on MySQL) for connections and DDL/DCL.");
rule!(TEST_DB, "MYSQL-014", Low, A6SecurityMisconfiguration,
    "`test` database present",
    "Default installs give every account access to the `test` database (and `test_%`), a writable place for anyone who logs in.",
    "Drop the `test` database and remove grants on `test` and `test\\_%` from mysql.db.");
rule!(VERSION_EOL, "MYSQL-015", High, A9VulnerableComponents,
    "Server version out of support",
    "This server release no longer receives security fixes.",
    "Upgrade to a supported release (MariaDB 10.6, 10.11, 11.4 or newer LTS; MySQL 8.4 LTS or newer).");
rule!(
    EMPTY_PASSWORD,
    "MYSQL-020",
    Critical,
    A2BrokenAuthentication,
    "Account without password",
    "Anyone who can reach the server can log in as this account.",
    "Set a strong password (`ALTER USER ... IDENTIFIED BY ...`), or lock the account."
);
rule!(
    ANONYMOUS,
    "MYSQL-021",
    High,
    A2BrokenAuthentication,
    "Anonymous account",
    "An account with an empty user name matches any user name, so anyone can log in with it.",
    "`DROP USER ''@'host'` for every anonymous account."
);
rule!(
    ANY_HOST,
    "MYSQL-022",
    Medium,
    A5BrokenAccessControl,
    "Account accepted from any host",
    "A `%` host lets the account log in from anywhere the port is reachable.",
    "Restrict the host to the application's addresses or subnet."
);
rule!(REMOTE_ROOT, "MYSQL-023", High, A5BrokenAccessControl,
    "root reachable remotely",
    "`root` may log in from a non-local host: the most powerful account is exposed to the network.",
    "Drop root accounts whose host is not localhost, 127.0.0.1 or ::1; administer locally or through a named admin account.");
rule!(
    ALL_PRIVILEGES,
    "MYSQL-024",
    High,
    A5BrokenAccessControl,
    "Account with ALL PRIVILEGES",
    "A non-root account with every global privilege is an administrator under another name.",
    "Grant only the privileges the account needs, on the databases it uses."
);
rule!(
    SUPER_PRIV,
    "MYSQL-025",
    High,
    A5BrokenAccessControl,
    "Account with SUPER",
    "SUPER lets the account change server variables, kill sessions and bypass `read_only`.",
    "Revoke SUPER; grant the specific administrative privilege needed instead."
);
rule!(
    FILE_PRIV,
    "MYSQL-026",
    High,
    A5BrokenAccessControl,
    "Account with FILE",
    "FILE lets the account read and write files on the server host (within `secure_file_priv`).",
    "Revoke FILE."
);
rule!(
    PROCESS_PRIV,
    "MYSQL-027",
    Medium,
    A3SensitiveDataExposure,
    "Account with PROCESS",
    "PROCESS shows every session's running statement, including other users' data and literals.",
    "Revoke PROCESS from application accounts."
);
rule!(
    GRANT_OPTION,
    "MYSQL-028",
    Medium,
    A5BrokenAccessControl,
    "Account with GRANT OPTION",
    "GRANT OPTION lets the account pass its privileges to other accounts.",
    "Revoke GRANT OPTION; manage grants from an administrative account."
);
rule!(OLD_AUTH, "MYSQL-029", Medium, A2BrokenAuthentication,
    "Old authentication plugin",
    "The account authenticates with a weak or deprecated plugin (`mysql_old_password`, or SHA-1 based `mysql_native_password` on MySQL 8+).",
    "`ALTER USER ... IDENTIFIED WITH caching_sha2_password` (MySQL) or `ed25519` (MariaDB).");

pub static RULES: &[&Rule] = &[
    &INSECURE_TRANSPORT,
    &NO_TLS,
    &OLD_TLS,
    &LOCAL_INFILE,
    &SECURE_FILE_PRIV,
    &NAME_RESOLVE,
    &NO_AUDIT_LOG,
    &TEST_DB,
    &VERSION_EOL,
    &EMPTY_PASSWORD,
    &ANONYMOUS,
    &ANY_HOST,
    &REMOTE_ROOT,
    &ALL_PRIVILEGES,
    &SUPER_PRIV,
    &FILE_PRIV,
    &PROCESS_PRIV,
    &GRANT_OPTION,
    &OLD_AUTH,
];

/// `mysql://user@host:port`, never with the password, for locations and messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, hostpart) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    let host = hostpart.split(['/', '?']).next().unwrap_or(hostpart);
    match auth {
        Some(a) => {
            let user = a.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        None => format!("{scheme}://{host}"),
    }
}

/// Support status of a server version string (`10.11.19-MariaDB-...`, `8.0.36`).
/// Returns a reason when the release line is out of support.
pub fn version_status(version: &str) -> Option<String> {
    let mariadb = version.to_ascii_lowercase().contains("mariadb");
    let mut nums = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse::<u32>().ok());
    let (major, minor) = (nums.next()?, nums.next()?);
    let line = format!("{major}.{minor}");
    let eol = if mariadb {
        // Long-term lines still maintained: 10.6, 10.11, 11.4, 11.8 and later LTS;
        // short-term lines between them end within a year.
        !matches!((major, minor), (10, 6) | (10, 11) | (11, 4) | (11, 8))
            && (major, minor) < (12, 0)
    } else {
        (major, minor) < (8, 0)
    };
    eol.then(|| {
        format!(
            "{} {line} is out of support",
            if mariadb { "MariaDB" } else { "MySQL" }
        )
    })
}

async fn connect(url: &str, password: Option<&str>) -> Result<MySqlConnection, String> {
    let mut opts = MySqlConnectOptions::from_str(url).map_err(|e| format!("bad URL: {e}"))?;
    if let Some(p) = password {
        opts = opts.password(p);
    }
    let opts = opts.disable_statement_logging();
    let mut conn = tokio::time::timeout(TIMEOUT, opts.connect())
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|e| format!("cannot connect: {e}"))?;
    // Belt and braces: the statements are all reads, and the session refuses writes.
    sqlx::query("SET SESSION TRANSACTION READ ONLY")
        .execute(&mut conn)
        .await
        .map_err(|e| format!("cannot make the session read-only: {e}"))?;
    Ok(conn)
}

fn text(row: &MySqlRow, idx: usize) -> Option<String> {
    row.try_get::<Option<String>, _>(idx).ok().flatten()
}

async fn rows(conn: &mut MySqlConnection, sql: &'static str) -> Result<Vec<MySqlRow>, String> {
    tokio::time::timeout(TIMEOUT, sqlx::query(sql).fetch_all(conn))
        .await
        .map_err(|_| "query timed out".to_owned())?
        .map_err(|e| e.to_string())
}

/// Scans the server at `url` (`password` overrides the URL's, so it can stay out of
/// argv).
pub async fn scan(url: &str, password: Option<&str>) -> Report {
    let mut report = Report::new("mysql");
    let target = redact(url);
    report.scanned = 1;
    let mut conn = match connect(url, password).await {
        Ok(c) => c,
        Err(e) => {
            report.error(target, e);
            return report;
        }
    };
    let at = |object: &str| Location::target(target.clone()).with_object(object.to_owned());

    // === version ===
    let version = match rows(&mut conn, "SELECT CAST(VERSION() AS CHAR)").await {
        Ok(r) => r.first().and_then(|r| text(r, 0)).unwrap_or_default(),
        Err(e) => {
            report.error(format!("{target} (version)"), e);
            String::new()
        }
    };
    let mariadb = version.to_ascii_lowercase().contains("mariadb");
    if let Some(why) = version_status(&version) {
        report.push(Finding::new(
            &VERSION_EOL,
            at("version"),
            format!("{why} ({version})"),
        ));
    }

    // === variables ===
    let vars: std::collections::HashMap<String, String> = match rows(
        &mut conn,
        "SELECT CAST(VARIABLE_NAME AS CHAR), CAST(VARIABLE_VALUE AS CHAR) \
         FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME IN \
         ('REQUIRE_SECURE_TRANSPORT','HAVE_SSL','TLS_VERSION','LOCAL_INFILE', \
          'SECURE_FILE_PRIV','SKIP_NAME_RESOLVE','GENERAL_LOG','SERVER_AUDIT_LOGGING', \
          'LOG_ERROR')",
    )
    .await
    {
        Ok(r) => r
            .iter()
            .filter_map(|r| {
                Some((
                    text(r, 0)?.to_ascii_lowercase(),
                    text(r, 1).unwrap_or_default(),
                ))
            })
            .collect(),
        Err(_) => {
            // MySQL 5.7+ moved them to performance_schema; SHOW works on both.
            match rows(&mut conn, "SHOW GLOBAL VARIABLES").await {
                Ok(r) => r
                    .iter()
                    .filter_map(|r| {
                        Some((
                            text(r, 0)?.to_ascii_lowercase(),
                            text(r, 1).unwrap_or_default(),
                        ))
                    })
                    .collect(),
                Err(e) => {
                    report.error(format!("{target} (variables)"), e);
                    Default::default()
                }
            }
        }
    };
    let var = |name: &str| vars.get(name).map(String::as_str);
    let on = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("on") || v == "1");
    let session_tls = rows(&mut conn, "SHOW SESSION STATUS LIKE 'Ssl_version'")
        .await
        .ok()
        .and_then(|r| r.first().and_then(|r| text(r, 1)))
        .filter(|v| !v.is_empty());
    if !vars.is_empty() {
        if !on(var("require_secure_transport")) {
            report.push(Finding::new(
                &INSECURE_TRANSPORT,
                at("require_secure_transport"),
                format!(
                    "require_secure_transport is {}; this audit connection used {}",
                    var("require_secure_transport").unwrap_or("absent"),
                    session_tls.as_deref().unwrap_or("no TLS"),
                ),
            ));
        }
        if var("have_ssl").is_some_and(|v| !v.eq_ignore_ascii_case("yes")) {
            report.push(Finding::new(
                &NO_TLS,
                at("have_ssl"),
                format!("have_ssl is {}", var("have_ssl").unwrap_or_default()),
            ));
        } else if let Some(tls) = var("tls_version") {
            let old: Vec<&str> = tls
                .split(',')
                .map(str::trim)
                .filter(|v| *v == "TLSv1" || *v == "TLSv1.0" || *v == "TLSv1.1")
                .collect();
            if !old.is_empty() {
                report.push(Finding::new(
                    &OLD_TLS,
                    at("tls_version"),
                    format!("tls_version enables {}", old.join(", ")),
                ));
            }
        }
        if on(var("local_infile")) {
            report.push(Finding::new(
                &LOCAL_INFILE,
                at("local_infile"),
                "local_infile is ON",
            ));
        }
        if var("secure_file_priv") == Some("") {
            report.push(Finding::new(
                &SECURE_FILE_PRIV,
                at("secure_file_priv"),
                "secure_file_priv is empty: file operations may touch any path",
            ));
        }
        if !on(var("skip_name_resolve")) {
            report.push(Finding::new(
                &NAME_RESOLVE,
                at("skip_name_resolve"),
                "skip_name_resolve is OFF",
            ));
        }
        if !on(var("server_audit_logging")) && !on(var("general_log")) {
            report.push(Finding::new(
                &NO_AUDIT_LOG,
                at("server_audit_logging"),
                "no audit plugin logging and the general log is off",
            ));
        }
    }

    // === test database ===
    match rows(&mut conn, "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'test'").await {
        Ok(r) if !r.is_empty() => report.push(Finding::new(&TEST_DB, at("database test"), "the `test` database exists")),
        Ok(_) => {}
        Err(e) => report.error(format!("{target} (databases)"), e),
    }

    // === accounts ===
    // MariaDB 10.4+ keeps the lock flag in mysql.global_priv's JSON, not in the
    // mysql.user view.
    let sql: &'static str = if mariadb {
        "SELECT CAST(u.User AS CHAR), CAST(u.Host AS CHAR), CAST(u.plugin AS CHAR), \
         CAST(u.authentication_string AS CHAR), \
         CAST(IF(JSON_VALUE(g.Priv, '$.account_locked') IN ('true', '1'), 'Y', 'N') AS CHAR), CAST(u.is_role AS CHAR), \
         CAST(u.Super_priv AS CHAR), CAST(u.File_priv AS CHAR), CAST(u.Process_priv AS CHAR), \
         CAST(u.Grant_priv AS CHAR), CAST(u.Select_priv AS CHAR), CAST(u.Insert_priv AS CHAR), \
         CAST(u.Drop_priv AS CHAR), CAST(u.Shutdown_priv AS CHAR), CAST(u.Create_user_priv AS CHAR), \
         CAST(u.Reload_priv AS CHAR) FROM mysql.user u \
         LEFT JOIN mysql.global_priv g ON g.User = u.User AND g.Host = u.Host"
    } else {
        "SELECT CAST(User AS CHAR), CAST(Host AS CHAR), CAST(plugin AS CHAR), \
         CAST(authentication_string AS CHAR), CAST(account_locked AS CHAR), 'N', \
         CAST(Super_priv AS CHAR), CAST(File_priv AS CHAR), CAST(Process_priv AS CHAR), \
         CAST(Grant_priv AS CHAR), CAST(Select_priv AS CHAR), CAST(Insert_priv AS CHAR), \
         CAST(Drop_priv AS CHAR), CAST(Shutdown_priv AS CHAR), CAST(Create_user_priv AS CHAR), \
         CAST(Reload_priv AS CHAR) FROM mysql.user"
    };
    match rows(&mut conn, sql).await {
        Ok(accounts) => {
            for row in &accounts {
                check_account(&mut report, &target, row, mariadb, &version);
            }
        }
        Err(e) => report.error(
            format!("{target} (accounts)"),
            format!("cannot read mysql.user: {e}"),
        ),
    }
    let _ = conn.close().await;
    report
}

fn check_account(report: &mut Report, target: &str, row: &MySqlRow, mariadb: bool, version: &str) {
    let user = text(row, 0).unwrap_or_default();
    let host = text(row, 1).unwrap_or_default();
    let plugin = text(row, 2).unwrap_or_default();
    let auth = text(row, 3).unwrap_or_default();
    let locked = text(row, 4).is_some_and(|v| v == "Y");
    let is_role = text(row, 5).is_some_and(|v| v == "Y");
    let yes = |i: usize| text(row, i).is_some_and(|v| v == "Y");
    if is_role || locked {
        return; // nobody logs in as a role or a locked account
    }
    let account = format!("'{user}'@'{host}'");
    let at = || Location::target(target.to_owned()).with_object(account.clone());
    let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1");

    // Socket authentication and similar plugins have no password by design.
    let password_plugin = matches!(
        plugin.as_str(),
        "" | "mysql_native_password"
            | "mysql_old_password"
            | "caching_sha2_password"
            | "sha256_password"
            | "ed25519"
    );
    if password_plugin && auth.is_empty() {
        report.push(Finding::new(
            &EMPTY_PASSWORD,
            at(),
            format!("{account} has an empty password"),
        ));
    }
    if user.is_empty() {
        report.push(Finding::new(
            &ANONYMOUS,
            at(),
            format!("anonymous account {account}"),
        ));
    }
    if host.contains('%') {
        report.push(Finding::new(
            &ANY_HOST,
            at(),
            format!("{account} may connect from host pattern `{host}`"),
        ));
    }
    if user == "root" && !local {
        report.push(Finding::new(
            &REMOTE_ROOT,
            at(),
            format!("root may log in from `{host}`"),
        ));
    }
    if plugin == "mysql_old_password" {
        report.push(
            Finding::new(&OLD_AUTH, at(), format!("{account} uses {plugin}"))
                .with_severity(Severity::High),
        );
    } else if !mariadb && plugin == "mysql_native_password" && !version.starts_with("5.") {
        report.push(Finding::new(
            &OLD_AUTH,
            at(),
            format!("{account} uses {plugin}"),
        ));
    }

    // The local administrators an install creates (root, and MariaDB's `mysql` for
    // socket login) hold every privilege by design; everyone else is judged.
    if (user == "root" || user == "mysql") && local {
        return;
    }
    // ALL PRIVILEGES does not include GRANT OPTION (column 9), so it is left out here
    // and reported on its own.
    let all = (6..=15).filter(|i| *i != 9).all(yes);
    if all {
        report.push(Finding::new(
            &ALL_PRIVILEGES,
            at(),
            format!("{account} has ALL PRIVILEGES on *.*"),
        ));
    }
    for (idx, rule, name) in [
        (6, &SUPER_PRIV, "SUPER"),
        (7, &FILE_PRIV, "FILE"),
        (8, &PROCESS_PRIV, "PROCESS"),
        (9, &GRANT_OPTION, "GRANT OPTION"),
    ] {
        // Under ALL, the separate privileges would only repeat the same finding.
        if yes(idx) && (idx == 9 || !all) {
            report.push(Finding::new(
                rule,
                at(),
                format!("{account} has global {name}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact("mysql://root:pw@127.0.0.1:3306/db?x=1"),
            "mysql://root@127.0.0.1:3306"
        );
        assert_eq!(redact("mysql://127.0.0.1"), "mysql://127.0.0.1");
        assert_eq!(redact("mysql://u:p@ss@h"), "mysql://u@h");
    }

    #[test]
    fn version_lines() {
        assert!(version_status("10.11.19-MariaDB-0+deb12u1").is_none());
        assert!(version_status("10.5.2-MariaDB").is_some());
        assert!(version_status("11.1.0-MariaDB").is_some());
        assert!(version_status("5.7.44").is_some());
        assert!(version_status("8.0.36").is_none());
    }
}
