//! What every subcommand starts from: the configuration (file or quickstart defaults,
//! then environment overrides), the master key, the store and the password hasher.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::{bail, Context as _};
use centinela_core::config::{self, Config, MasterKeySource};
use centinela_core::password::{self, PasswordHasher};
use centinela_core::secret::SecretString;
use centinela_store::lookup::{AppLookups, LookupSpec};
use centinela_store::{DbOptions, MasterKey, Store};

use crate::args::ConfigArg;

/// The quickstart configuration: the customers example, built in.
pub const QUICKSTART: &str = include_str!("../../../examples/customers/centinela.toml");
/// What diagnostics call the built-in quickstart configuration.
pub const QUICKSTART_NAME: &str = "<quickstart: examples/customers/centinela.toml>";

/// Loads and validates the configuration: the file if given, else the quickstart
/// (the customers example); then `CENTINELA_DATABASE_URL` / `CENTINELA_MASTER_KEY`.
pub fn load_config(arg: &ConfigArg) -> anyhow::Result<Config> {
    let (text, name) = match &arg.config {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?,
            path.display().to_string(),
        ),
        None => (QUICKSTART.to_owned(), QUICKSTART_NAME.to_owned()),
    };
    let mut cfg = config::load_str(&text, &name)
        .map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
    cfg.apply_env_overrides(|k| std::env::var(k).ok())
        .map_err(|e| anyhow::anyhow!("invalid environment override:\n{e}"))?;
    Ok(cfg)
}

/// The master key: from the environment, or the key file (created with mode 0600 on
/// first use, with a loud note, when `create` allows it).
pub fn master_key(cfg: &Config) -> anyhow::Result<MasterKey> {
    match &cfg.keys.master_key {
        MasterKeySource::Env(text) => Ok(MasterKey::from_base64(text.expose())?),
        MasterKeySource::File(path) => {
            if path.exists() {
                Ok(MasterKey::load_file(path)?)
            } else {
                let key = MasterKey::create_file(path)?;
                eprintln!(
                    "centinela: generated a new master key in {} (mode 0600).\n\
                     centinela: it encrypts personal data at rest; back it up, or set \
                     CENTINELA_MASTER_KEY. Without it the encrypted data cannot be read.",
                    path.display()
                );
                Ok(key)
            }
        }
    }
}

/// Opens the store named by the configuration.
pub async fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    let key = master_key(cfg)?;
    let mut opts = DbOptions::new(cfg.database_url());
    opts.max_connections = cfg.database.max_connections;
    Store::open(&opts, &key)
        .await
        .with_context(|| format!("cannot open the database {}", cfg.database.redacted_url()))
}

/// The owner lookups of the policy, on the configured application databases
/// (connections open on first use).
pub fn app_lookups(cfg: &Config) -> anyhow::Result<AppLookups> {
    let specs: Vec<LookupSpec> = cfg
        .lookups
        .iter()
        .filter_map(|l| {
            let db = cfg.app_databases.iter().find(|d| d.name == l.database)?;
            Some(LookupSpec {
                name: l.name.clone(),
                url: db.url.expose().to_owned(),
                query: l.query.clone(),
                ttl: l.cache_ttl,
            })
        })
        .collect();
    Ok(AppLookups::new(&specs)?)
}

/// Store and hasher, ready for a subcommand.
#[derive(Debug)]
pub struct Context {
    pub store: Store,
    pub hasher: PasswordHasher,
}

impl Context {
    pub async fn open(arg: &ConfigArg) -> anyhow::Result<Self> {
        let config = load_config(arg)?;
        let store = open_store(&config).await?;
        let hasher = PasswordHasher::new(config.password.hash)?;
        Ok(Self { store, hasher })
    }
}

/// A new password for `username`: one line from stdin when stdin is not a terminal,
/// else typed twice at a prompt without echo. Never from the command line, where it
/// would sit in shell history and the process list.
pub fn read_new_password(username: &str) -> anyhow::Result<SecretString> {
    let stdin = std::io::stdin();
    let pw = if stdin.is_terminal() {
        let first = SecretString::new(rpassword::prompt_password(format!(
            "New password for {username}: "
        ))?);
        let second = SecretString::new(rpassword::prompt_password("Repeat it: ")?);
        if first.expose() != second.expose() {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let trimmed = line.trim_end_matches(['\n', '\r']).to_owned();
        zeroize::Zeroize::zeroize(&mut line);
        SecretString::new(trimmed)
    };
    if pw.expose().is_empty() {
        bail!("no password given on stdin; pipe it in, e.g. `printf '%s\\n' \"$PW\" | centinela user add ...`");
    }
    password::check_policy(pw.expose(), username).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(pw)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Records an administrative action in the audit log, as done from this command line
/// by the operating-system user running it. A failure to record is reported but does
/// not undo the action, which has already happened.
pub async fn record_admin(store: &Store, action: &str, target: &str, details: serde_json::Value) {
    record_admin_as(
        store,
        centinela_core::auditlog::Kind::AdminAction,
        action,
        target,
        details,
    )
    .await;
}

/// [`record_admin`] under a kind of its own (an MFA removal is an admin action that
/// alert rules and reviewers look for by name).
pub async fn record_admin_as(
    store: &Store,
    kind: centinela_core::auditlog::Kind,
    action: &str,
    target: &str,
    details: serde_json::Value,
) {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let mut e =
        centinela_core::auditlog::Event::new(kind, "success", unix_now().saturating_mul(1000))
            .actor(format!("cli:{who}"))
            .target(target)
            .detail("action", action);
    if let serde_json::Value::Object(m) = details {
        for (k, v) in m {
            e = e.detail(&k, v);
        }
    }
    if let Err(err) = store.append_audit(&[e]).await {
        eprintln!("centinela: warning: the action was done but could not be recorded in the audit log: {err}");
    }
}
