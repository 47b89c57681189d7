//! The configuration of `centinela serve` and the CLI: TOML in, a typed [`Config`] out.
//!
//! Loading follows cargo-deny's pattern. The TOML is first deserialized into a raw form
//! that keeps each value's byte span (`toml::Spanned`) and refuses unknown keys, so a
//! misspelt key is an error instead of a silently ignored setting. Then [`load_str`]
//! validates every value and cross-field rule, collecting *all* problems as
//! [`Diagnostic`]s that name the file, line, column and key, so `centinela config check`
//! can report everything wrong in one pass and each message says what to change.
//!
//! Every section and key is optional; an empty file gives [`Config::default`], the
//! quickstart configuration. Relative paths are kept as written (the CLI decides what
//! they are relative to; the defaults are relative to the working directory).
//!
//! Secrets that may sit in the configuration (a database URL with a password, a master
//! key given through the environment) are held as [`SecretString`] and redacted in
//! `Debug`, so logging the configuration cannot leak them.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

mod alerts;
mod headers;
mod inspection;
mod limits;
mod routes;

pub use routes::{AppDatabase, Lookup};

use crate::headers::HeaderPolicy;
use crate::password::HashParams;
use crate::policy::Policy;
use crate::ratelimit::RateLimits;
use crate::secret::SecretString;
use crate::throttle::ThrottlePolicy;

/// Environment variable that replaces `database.url`.
pub const ENV_DATABASE_URL: &str = "CENTINELA_DATABASE_URL";
/// Environment variable that supplies the master key (base64 of 32 bytes) instead of
/// `keys.master_key_file`.
pub const ENV_MASTER_KEY: &str = "CENTINELA_MASTER_KEY";

/// Argon2 floor we accept (OWASP Password Storage Cheat Sheet, m = 19 MiB with t = 2).
const MIN_ARGON2_MEMORY_KIB: i64 = 19_456;
const MIN_ARGON2_ITERATIONS: i64 = 2;
/// Ceilings that catch a typo (an extra zero) before it makes every login allocate
/// gigabytes or take seconds: 1 GiB, 32 passes, 16 lanes.
const MAX_ARGON2_MEMORY_KIB: i64 = 1024 * 1024;
const MAX_ARGON2_ITERATIONS: i64 = 32;
const MAX_ARGON2_PARALLELISM: i64 = 16;
const MAX_HASH_WORKERS: i64 = 1024;
const MAX_DB_CONNECTIONS: i64 = 1000;
const MAX_ISSUER_CHARS: usize = 64;
const MAX_UPSTREAM_NAME_CHARS: usize = 64;

// ---------------------------------------------------------------------------------
// Diagnostics

/// One problem in a configuration, located in its file.
///
/// Displays as `file:line:column: key: message`. Problems that come from the
/// environment rather than a file have `line == 0` and display as `file: key: message`;
/// problems not tied to a key (some TOML syntax errors) have an empty `key` and display
/// as `file:line:column: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line, or 0 when the problem is not in a file.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Dotted key path such as `session.idle_timeout` or `upstream[1].url`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: ", self.file)?;
        } else {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a configuration, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// 1-based line and column (in characters) of byte `offset` in `source`.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

// ---------------------------------------------------------------------------------
// The typed configuration

/// A validated configuration. Build it with [`load_str`] or [`Config::default`].
#[derive(Clone, Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub database: DatabaseConfig,
    pub keys: KeysConfig,
    pub session: SessionConfig,
    pub login: LoginConfig,
    pub password: PasswordConfig,
    /// The `[[upstream]]` entries, in file order; names are unique.
    pub upstreams: Vec<Upstream>,
    /// `[policy]` and the `[[route]]`s: who may reach what.
    pub policy: Policy,
    /// `[[lookup]]`s for ownership rules.
    pub lookups: Vec<Lookup>,
    /// `[[app_database]]`s the lookups run on.
    pub app_databases: Vec<AppDatabase>,
    /// `[inspect]`: the inspection settings every route starts from.
    pub inspect_defaults: crate::inspect::InspectPolicy,
    /// `[headers]`: response hardening.
    pub headers: HeaderPolicy,
    /// `[rate_limit]`: per address and per user (routes add their own).
    pub rate_limits: RateLimits,
    /// `[alerts]`: where alert notifications go.
    pub alerts: AlertsConfig,
    /// `[audit_log]`: how long security events are kept.
    pub audit_log: AuditLogConfig,
    /// Findings that do not stop the load but probably need attention (shadowed
    /// routes, anonymous write access, ...); `config check` prints them.
    pub warnings: Vec<Diagnostic>,
}

/// `[audit_log]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditLogConfig {
    /// Events older than this are pruned behind a signed checkpoint (checked hourly);
    /// `None` (`retention = "forever"`, the default) keeps everything.
    pub retention: Option<Duration>,
}

/// `[alerts]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertsConfig {
    /// Evaluate the alert rules (and take their automatic responses).
    pub enabled: bool,
    /// POST each alert here (JSON), besides the log.
    pub webhook_url: Option<String>,
    /// Send Slack's `{"text": ...}` shape.
    pub webhook_slack: bool,
    /// Prefix of runbook links in notifications (e.g. the repository's URL).
    pub runbook_base_url: String,
    /// How often the gateway verifies the whole audit chain (a break raises the
    /// `audit-chain-broken` alert).
    pub chain_check_interval: Duration,
    /// The rules in force: the built-in ones as tuned by `[[alerts.rule]]`, minus the
    /// disabled ones, plus the ones the configuration adds.
    pub rules: Vec<crate::alerts::Rule>,
}

/// `[server]`: where Centinela listens and keeps its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// HTTPS listener.
    pub listen: SocketAddr,
    /// Plain-HTTP listener that only redirects to HTTPS; `None` disables it.
    pub http_redirect_listen: Option<SocketAddr>,
    /// Admin/metrics listener; `None` disables it.
    pub admin_listen: Option<SocketAddr>,
    /// The URL people use to reach the gateway (`https://…`, no trailing slash);
    /// `None` means "derive it from `listen`", see [`Config::effective_public_url`].
    pub public_url: Option<String>,
    /// Directory for the SQLite database, master key and development certificate.
    pub data_dir: PathBuf,
    /// Proxies in front of the gateway (load balancers, an ingress calling
    /// forward-auth) whose `X-Forwarded-For` is believed; from anyone else it is dropped.
    pub trusted_proxies: Vec<crate::policy::Cidr>,
    /// Longest time to receive a request head (also bounds idle HTTP/1.1 keep-alive);
    /// a client that trickles bytes is cut here.
    pub header_read_timeout: Duration,
    /// A connection with nothing in flight for this long is closed.
    pub idle_timeout: Duration,
    /// Longest time to receive a request body the gateway reads before forwarding
    /// (for inspection and ownership checks); a client that trickles its body is
    /// answered 408 here.
    pub body_read_timeout: Duration,
    /// Largest request head in bytes.
    pub max_header_bytes: usize,
    /// Most request header fields.
    pub max_headers: usize,
}

/// `[tls]`: the certificate the HTTPS listener presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsConfig {
    /// No files configured: generate (once) and use a self-signed development
    /// certificate under `data_dir`; see [`Config::dev_tls_paths`].
    SelfSigned,
    /// PEM files supplied by the operator.
    Files {
        cert_file: PathBuf,
        key_file: PathBuf,
    },
}

/// The database flavour, from the URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Mysql,
}

/// `[database]`.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// `sqlite:…` or `mysql://…`; secret because a MySQL URL may carry a password.
    pub url: SecretString,
    /// Upper bound of the connection pool.
    pub max_connections: u32,
}

impl DatabaseConfig {
    /// SQLite or MySQL, from the URL's scheme (validated at load time).
    pub fn kind(&self) -> DatabaseKind {
        if self.url.expose().starts_with("mysql:") {
            DatabaseKind::Mysql
        } else {
            DatabaseKind::Sqlite
        }
    }

    /// The URL with any password replaced by `***`, for logs and `config check`.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose())
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.redacted_url())
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Replaces the password in `scheme://user:password@host/…` by `***`.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:***{}",
        &url[..scheme_end + 3],
        &userinfo[..colon],
        &rest[at..]
    )
}

/// Where the master key comes from.
#[derive(Clone, Debug)]
pub enum MasterKeySource {
    /// A file holding the base64 key (created by the CLI on first start if missing).
    File(PathBuf),
    /// `CENTINELA_MASTER_KEY`: the base64 text, already checked to decode to 32 bytes.
    Env(SecretString),
}

/// `[keys]`.
#[derive(Clone, Debug)]
pub struct KeysConfig {
    pub master_key: MasterKeySource,
}

/// `[session]`: how long a login lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after login, however active.
    pub absolute_timeout: Duration,
}

/// `[login]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginConfig {
    /// `max_failures`, `window` and `lockout`; delays keep their defaults.
    pub throttle: ThrottlePolicy,
    /// Issuer shown in authenticator apps.
    pub totp_issuer: String,
}

/// `[password]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordConfig {
    pub hash: HashParams,
    /// Size of the bounded hashing pool; 0 means half the CPUs (at least one), see
    /// [`PasswordConfig::hash_workers_for`].
    pub hash_workers: usize,
}

impl PasswordConfig {
    /// The pool size to use on a machine with `cpus` CPUs (the caller finds that out,
    /// e.g. with `std::thread::available_parallelism`, since this crate does no I/O).
    pub fn hash_workers_for(&self, cpus: usize) -> usize {
        if self.hash_workers == 0 {
            // Half, so a login flood leaves the other half to proxied traffic.
            cpus.div_ceil(2).max(1)
        } else {
            self.hash_workers
        }
    }
}

/// One `[[upstream]]`: a service behind the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// Name used by routes to refer to it; unique, `[A-Za-z0-9_.-]`.
    pub name: String,
    /// Base URL, `http://` or `https://` with a host, without credentials.
    pub url: String,
    /// Longest wait for a TCP connection to the upstream (then 504).
    pub connect_timeout: Duration,
    /// Longest wait for the upstream's response head (then 504).
    pub response_timeout: Duration,
    /// Longest pause between two chunks of a body, either way (the stream is cut).
    pub body_idle_timeout: Duration,
    /// Where the `[[upstream]]` entry is in the file (byte range), for diagnostics.
    pub span: std::ops::Range<usize>,
}

impl Config {
    /// The database URL (may contain a password: do not log it; see
    /// [`DatabaseConfig::redacted_url`]).
    pub fn database_url(&self) -> &str {
        self.database.url.expose()
    }

    /// `server.public_url` if set; otherwise `https://localhost:PORT` when listening on a
    /// loopback or unspecified address (what the development certificate is made for),
    /// or `https://ADDR` for a specific address.
    pub fn effective_public_url(&self) -> String {
        if let Some(url) = &self.server.public_url {
            return url.clone();
        }
        let ip = self.server.listen.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            format!("https://localhost:{}", self.server.listen.port())
        } else {
            format!("https://{}", self.server.listen)
        }
    }

    /// Where the self-signed development certificate and its key live (PEM), used
    /// when [`TlsConfig::SelfSigned`].
    pub fn dev_tls_paths(&self) -> (PathBuf, PathBuf) {
        (
            self.server.data_dir.join("dev-cert.pem"),
            self.server.data_dir.join("dev-key.pem"),
        )
    }

    /// Applies `CENTINELA_DATABASE_URL` and `CENTINELA_MASTER_KEY`, read through `get`
    /// (pass `|k| std::env::var(k).ok()`; tests pass a map). A variable that is unset
    /// or empty changes nothing. A value that is set but invalid is an error naming the
    /// variable, and nothing is changed.
    pub fn apply_env_overrides(
        &mut self,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigErrors> {
        let env_diag = |key: &str, message: String| Diagnostic {
            file: "environment".to_owned(),
            line: 0,
            column: 0,
            key: key.to_owned(),
            message,
        };
        let mut errors = Vec::new();
        let mut new_url = None;
        let mut new_key = None;
        if let Some(url) = get(ENV_DATABASE_URL).filter(|v| !v.trim().is_empty()) {
            let url = url.trim().to_owned();
            match check_database_url(&url) {
                Ok(()) => new_url = Some(SecretString::new(url)),
                Err(message) => errors.push(env_diag(ENV_DATABASE_URL, message)),
            }
        }
        if let Some(key) = get(ENV_MASTER_KEY).filter(|v| !v.trim().is_empty()) {
            let key = key.trim().to_owned();
            match check_master_key(&key) {
                Ok(()) => new_key = Some(SecretString::new(key)),
                Err(message) => errors.push(env_diag(ENV_MASTER_KEY, message)),
            }
        }
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        if let Some(url) = new_url {
            self.database.url = url;
        }
        if let Some(key) = new_key {
            self.keys.master_key = MasterKeySource::Env(key);
        }
        Ok(())
    }
}

impl Default for Config {
    /// The quickstart configuration: every key at its default.
    fn default() -> Self {
        // An empty document has nothing to misparse and every default is valid (the
        // `empty_file_is_the_default_config` test pins this), so this cannot fail.
        load_str("", "<defaults>").expect("the built-in defaults are a valid configuration")
    }
}

fn check_database_url(url: &str) -> Result<(), String> {
    if url.starts_with("sqlite:") || url.starts_with("mysql:") {
        Ok(())
    } else {
        Err(format!(
            "unsupported database URL \"{}\"; use \"sqlite://PATH\" (embedded) or \
             \"mysql://USER:PASSWORD@HOST/DB\" (MySQL or MariaDB)",
            redact_url(url)
        ))
    }
}

fn check_master_key(text: &str) -> Result<(), String> {
    // Standard base64 with padding, the form the key file holds and
    // `head -c32 /dev/urandom | base64` prints.
    match data_encoding::BASE64.decode(text.as_bytes()) {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        Ok(bytes) => Err(format!(
            "the master key decodes to {} bytes; it must be exactly 32 \
             (make one with `head -c32 /dev/urandom | base64`)",
            bytes.len()
        )),
        Err(_) => Err(
            "the master key is not valid base64; expected 32 random bytes in \
                       standard base64 (make one with `head -c32 /dev/urandom | base64`)"
                .to_owned(),
        ),
    }
}

// ---------------------------------------------------------------------------------
// Durations

/// Parses `"30s"`, `"15m"`, `"12h"`, `"7d"`: a whole number and one unit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let help = "write a whole number and a unit (s, m, h or d), e.g. \"30m\"";
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("\"{text}\" is not a duration; {help}")),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration; {help}"))?;
    value
        .checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("\"{text}\" is too long a duration; {help}"))
}

/// Formats a duration the way [`parse_duration`] reads it, in the largest exact unit.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs != 0 && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

// ---------------------------------------------------------------------------------
// The raw, span-carrying form

type Sp<T> = Option<Spanned<T>>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAuditLog {
    retention: Sp<String>,
}

/// Shortest retention accepted: pruning faster than alert windows and incident
/// reviews can look back would destroy the evidence they need.
const MIN_RETENTION: Duration = Duration::from_secs(7 * 86_400);

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    tls: RawTls,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    keys: RawKeys,
    #[serde(default)]
    session: RawSession,
    #[serde(default)]
    login: RawLogin,
    #[serde(default)]
    password: RawPassword,
    #[serde(default)]
    upstream: Vec<Spanned<RawUpstream>>,
    #[serde(default)]
    policy: routes::RawPolicy,
    #[serde(default)]
    route: Vec<Spanned<routes::RawRoute>>,
    #[serde(default)]
    lookup: Vec<Spanned<routes::RawLookup>>,
    #[serde(default)]
    app_database: Vec<Spanned<routes::RawAppDatabase>>,
    #[serde(default)]
    headers: headers::RawHeaders,
    #[serde(default)]
    rate_limit: limits::RawRateLimit,
    #[serde(default)]
    alerts: alerts::RawAlerts,
    #[serde(default)]
    audit_log: RawAuditLog,
    inspect: Option<Spanned<toml::Table>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Sp<String>,
    http_redirect_listen: Sp<String>,
    admin_listen: Sp<String>,
    public_url: Sp<String>,
    data_dir: Sp<String>,
    trusted_proxies: Sp<Vec<String>>,
    header_read_timeout: Sp<String>,
    idle_timeout: Sp<String>,
    body_read_timeout: Sp<String>,
    max_header_bytes: Sp<i64>,
    max_headers: Sp<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: Sp<String>,
    key_file: Sp<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Sp<String>,
    max_connections: Sp<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    master_key_file: Sp<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSession {
    idle_timeout: Sp<String>,
    absolute_timeout: Sp<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLogin {
    max_failures: Sp<i64>,
    window: Sp<String>,
    lockout: Sp<String>,
    totp_issuer: Sp<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPassword {
    argon2_memory_kib: Sp<i64>,
    argon2_iterations: Sp<i64>,
    argon2_parallelism: Sp<i64>,
    hash_workers: Sp<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstream {
    name: Sp<String>,
    url: Sp<String>,
    connect_timeout: Sp<String>,
    response_timeout: Sp<String>,
    body_idle_timeout: Sp<String>,
}

// ---------------------------------------------------------------------------------
// Loading and validation

/// Parses and validates `source`; `file_name` is what diagnostics call the file.
pub fn load_str(source: &str, file_name: &str) -> Result<Config, ConfigErrors> {
    let raw: RawConfig = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            let (line, column) = line_column(source, span.start);
            // Some `toml` messages span lines ("invalid array\nexpected `]`"); one
            // diagnostic is one line.
            let mut message = err
                .message()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            if message.starts_with("unknown field") {
                message.push_str("; remove it or fix its spelling");
            }
            return Err(ConfigErrors(vec![Diagnostic {
                file: file_name.to_owned(),
                line,
                column,
                key: key_at(source, &span, err.message()),
                message,
            }]));
        }
    };
    let mut v = Validator {
        source,
        file: file_name,
        diagnostics: Vec::new(),
        warnings: Vec::new(),
    };
    let mut config = v.config(&raw);
    if v.diagnostics.is_empty() {
        v.warnings.sort_by_key(|d| (d.line, d.column));
        config.warnings = v.warnings;
        Ok(config)
    } else {
        v.diagnostics.sort_by_key(|d| (d.line, d.column));
        // A bad [inspect] default is met once per route; report it once.
        v.diagnostics.dedup();
        Err(ConfigErrors(v.diagnostics))
    }
}

/// Best-effort dotted key for a deserialization error at `span`, since `toml` reports
/// only a span and a message: the key named in an "unknown field" message or written
/// before `=` on the error's line, prefixed by the enclosing `[table]` header (with an
/// index for `[[array]]` tables).
fn key_at(source: &str, span: &Range<usize>, message: &str) -> String {
    let start = span.start.min(source.len());
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let line = &source[line_start..line_end];

    if let Some((name, is_array)) = header_of(line) {
        // The error is about a table header itself.
        return if is_array {
            format!("{name}[{}]", array_index(source, line_start, &name))
        } else {
            name
        };
    }
    let key = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned)
        .or_else(|| line.find('=').map(|eq| line[..eq].trim().to_owned()))
        .unwrap_or_default();
    // The nearest header above this line.
    let mut table = String::new();
    let mut end = line_start;
    while end > 0 {
        let newline = end - 1;
        let start_of_line = source[..newline].rfind('\n').map_or(0, |i| i + 1);
        if let Some((name, is_array)) = header_of(&source[start_of_line..newline]) {
            table = if is_array {
                format!("{name}[{}]", array_index(source, start_of_line, &name))
            } else {
                name
            };
            break;
        }
        end = start_of_line;
    }
    match (table.is_empty(), key.is_empty()) {
        (true, _) => key,
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

/// `Some((name, is_array))` if `line` is a `[name]` or `[[name]]` table header.
fn header_of(line: &str) -> Option<(String, bool)> {
    let line = line.split('#').next().unwrap_or("").trim();
    let (inner, is_array) = if let Some(inner) = line.strip_prefix("[[") {
        (inner.strip_suffix("]]")?, true)
    } else {
        (line.strip_prefix('[')?.strip_suffix(']')?, false)
    };
    let name: String = inner
        .split('.')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(".");
    let plausible = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'' | ' '));
    plausible.then_some((name, is_array))
}

/// 0-based index of the `[[name]]` header starting at byte `header_start`.
fn array_index(source: &str, header_start: usize, name: &str) -> usize {
    source[..header_start]
        .lines()
        .filter(|l| matches!(header_of(l), Some((n, true)) if n == name))
        .count()
}

struct Validator<'a> {
    source: &'a str,
    file: &'a str,
    diagnostics: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn report(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let (line, column) = line_column(self.source, span.start);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            key: key.to_owned(),
            message: message.into(),
        });
    }

    /// Converts an optional raw value with `parse`; a missing value gives `default`,
    /// a bad one is reported and also gives `default` so validation can go on.
    fn field<R, T>(
        &mut self,
        raw: &Sp<R>,
        key: &str,
        default: T,
        parse: impl FnOnce(&R) -> Result<T, String>,
    ) -> T {
        let Some(spanned) = raw else {
            return default;
        };
        match parse(spanned.get_ref()) {
            Ok(value) => value,
            Err(message) => {
                self.report(&spanned.span(), key, message);
                default
            }
        }
    }

    fn config(&mut self, raw: &RawConfig) -> Config {
        let server = self.server(&raw.server);
        let tls = self.tls(&raw.tls);
        let database = self.database(&raw.database, &server);
        let keys = self.keys(&raw.keys, &server);
        let session = self.session(&raw.session);
        let login = self.login(&raw.login);
        let password = self.password(&raw.password);
        let upstreams = self.upstreams(&raw.upstream);
        let sections = self.policy_sections(
            &raw.policy,
            &raw.route,
            &raw.lookup,
            &raw.app_database,
            &upstreams,
            raw.inspect.as_ref(),
        );
        Config {
            server,
            tls,
            database,
            keys,
            session,
            login,
            password,
            upstreams,
            policy: sections.policy,
            lookups: sections.lookups,
            app_databases: sections.app_databases,
            inspect_defaults: sections.inspect_defaults,
            headers: self.headers(&raw.headers),
            rate_limits: self.rate_limits(&raw.rate_limit),
            alerts: self.alerts(&raw.alerts),
            audit_log: AuditLogConfig {
                retention: self.field(&raw.audit_log.retention, "audit_log.retention", None, |s| {
                    if s == "forever" {
                        return Ok(None);
                    }
                    match parse_duration(s)? {
                        d if d < MIN_RETENTION => Err(format!(
                            "\"{s}\" is shorter than 7 days; keep events at least a week \
                                 (incident reviews need them), or use \"forever\""
                        )),
                        d => Ok(Some(d)),
                    }
                }),
            },
            warnings: Vec::new(),
        }
    }

    fn server(&mut self, raw: &RawServer) -> ServerConfig {
        let default_listen = SocketAddr::from(([127, 0, 0, 1], 8443));
        let listen = self.field(&raw.listen, "server.listen", default_listen, |s| {
            parse_socket_addr(s)
        });
        let http_redirect_listen = self.field(
            &raw.http_redirect_listen,
            "server.http_redirect_listen",
            None,
            |s| parse_socket_addr(s).map(Some),
        );
        let admin_listen = self.field(&raw.admin_listen, "server.admin_listen", None, |s| {
            parse_socket_addr(s).map(Some)
        });
        // Two listeners on one address would fail at bind time with a less clear error.
        let mut seen = vec![("server.listen", Some(listen))];
        for (key, raw_addr, addr) in [
            (
                "server.http_redirect_listen",
                &raw.http_redirect_listen,
                http_redirect_listen,
            ),
            ("server.admin_listen", &raw.admin_listen, admin_listen),
        ] {
            if let (Some(addr), Some(spanned)) = (addr, raw_addr) {
                if let Some((other, _)) = seen.iter().find(|(_, a)| *a == Some(addr)) {
                    let message =
                        format!("{addr} is also used by {other}; give each listener its own port");
                    self.report(&spanned.span(), key, message);
                }
                seen.push((key, Some(addr)));
            }
        }
        let public_url = self.field(&raw.public_url, "server.public_url", None, |s| {
            parse_public_url(s).map(Some)
        });
        let data_dir = self.field(
            &raw.data_dir,
            "server.data_dir",
            PathBuf::from("./centinela-data"),
            |s| non_empty_path(s, "a directory such as \"/var/lib/centinela\""),
        );
        let trusted_proxies = self.field(
            &raw.trusted_proxies,
            "server.trusted_proxies",
            Vec::new(),
            |list| list.iter().map(|s| s.parse()).collect(),
        );
        let header_read_timeout = self.duration(
            &raw.header_read_timeout,
            "server.header_read_timeout",
            Duration::from_secs(10),
        );
        let idle_timeout = self.duration(
            &raw.idle_timeout,
            "server.idle_timeout",
            Duration::from_secs(60),
        );
        let body_read_timeout = self.duration(
            &raw.body_read_timeout,
            "server.body_read_timeout",
            Duration::from_secs(30),
        );
        let max_header_bytes = self.field(
            &raw.max_header_bytes,
            "server.max_header_bytes",
            32 * 1024,
            |n| in_range(*n, 8 * 1024, 1024 * 1024, "bytes"),
        );
        let max_headers = self.field(&raw.max_headers, "server.max_headers", 100, |n| {
            in_range(*n, 16, 1000, "header fields")
        });
        ServerConfig {
            listen,
            http_redirect_listen,
            admin_listen,
            public_url,
            data_dir,
            trusted_proxies,
            header_read_timeout,
            idle_timeout,
            body_read_timeout,
            max_header_bytes,
            max_headers,
        }
    }

    fn tls(&mut self, raw: &RawTls) -> TlsConfig {
        let hint = "the path of a PEM file";
        let cert = self.field(&raw.cert_file, "tls.cert_file", None, |s| {
            non_empty_path(s, hint).map(Some)
        });
        let key = self.field(&raw.key_file, "tls.key_file", None, |s| {
            non_empty_path(s, hint).map(Some)
        });
        match (&raw.cert_file, &raw.key_file) {
            (Some(c), None) => self.report(
                &c.span(),
                "tls.key_file",
                "tls.cert_file is set but tls.key_file is not; set both (the certificate and \
                 its private key) or neither (a self-signed development certificate is used)",
            ),
            (None, Some(k)) => self.report(
                &k.span(),
                "tls.cert_file",
                "tls.key_file is set but tls.cert_file is not; set both (the certificate and \
                 its private key) or neither (a self-signed development certificate is used)",
            ),
            _ => {}
        }
        match (cert, key) {
            (Some(cert_file), Some(key_file)) => TlsConfig::Files {
                cert_file,
                key_file,
            },
            _ => TlsConfig::SelfSigned,
        }
    }

    fn database(&mut self, raw: &RawDatabase, server: &ServerConfig) -> DatabaseConfig {
        let default_url = format!("sqlite://{}/centinela.db", server.data_dir.display());
        let url = self.field(&raw.url, "database.url", default_url.clone(), |s| {
            check_database_url(s).map(|()| s.clone())
        });
        let max_connections =
            self.field(&raw.max_connections, "database.max_connections", 10, |n| {
                in_range(*n, 1, MAX_DB_CONNECTIONS, "connections")
            });
        DatabaseConfig {
            url: SecretString::new(url),
            max_connections,
        }
    }

    fn keys(&mut self, raw: &RawKeys, server: &ServerConfig) -> KeysConfig {
        let path = self.field(
            &raw.master_key_file,
            "keys.master_key_file",
            server.data_dir.join("master.key"),
            |s| non_empty_path(s, "the path of the key file"),
        );
        KeysConfig {
            master_key: MasterKeySource::File(path),
        }
    }

    fn duration(&mut self, raw: &Sp<String>, key: &str, default: Duration) -> Duration {
        self.field(raw, key, default, |s| match parse_duration(s)? {
            d if d.is_zero() => Err(format!(
                "\"{s}\" is zero; give a positive duration such as \"15m\""
            )),
            d => Ok(d),
        })
    }

    fn session(&mut self, raw: &RawSession) -> SessionConfig {
        let idle_timeout = self.duration(
            &raw.idle_timeout,
            "session.idle_timeout",
            Duration::from_secs(30 * 60),
        );
        let absolute_timeout = self.duration(
            &raw.absolute_timeout,
            "session.absolute_timeout",
            Duration::from_secs(12 * 3_600),
        );
        if idle_timeout > absolute_timeout {
            let message = format!(
                "the idle timeout ({}) is longer than the absolute timeout ({}), so it would \
                 never apply; make session.idle_timeout at most session.absolute_timeout",
                format_duration(idle_timeout),
                format_duration(absolute_timeout)
            );
            // Point at whichever of the two the file sets (the idle one if both).
            if let Some(s) = &raw.idle_timeout {
                self.report(&s.span(), "session.idle_timeout", message);
            } else if let Some(s) = &raw.absolute_timeout {
                self.report(&s.span(), "session.absolute_timeout", message);
            }
        }
        SessionConfig {
            idle_timeout,
            absolute_timeout,
        }
    }

    fn login(&mut self, raw: &RawLogin) -> LoginConfig {
        let defaults = ThrottlePolicy::default();
        let max_failures = self.field(
            &raw.max_failures,
            "login.max_failures",
            defaults.max_failures,
            |n| in_range(*n, 1, 1_000, "failures"),
        );
        let window = self.duration(
            &raw.window,
            "login.window",
            Duration::from_secs(defaults.window_secs),
        );
        let lockout = self.duration(
            &raw.lockout,
            "login.lockout",
            Duration::from_secs(defaults.lock_secs),
        );
        let totp_issuer = self.field(
            &raw.totp_issuer,
            "login.totp_issuer",
            "Centinela".to_owned(),
            |s| check_issuer(s).map(|()| s.clone()),
        );
        LoginConfig {
            throttle: ThrottlePolicy {
                max_failures,
                window_secs: window.as_secs(),
                lock_secs: lockout.as_secs(),
                ..defaults
            },
            totp_issuer,
        }
    }

    fn password(&mut self, raw: &RawPassword) -> PasswordConfig {
        let d = HashParams::default();
        let m_cost_kib = self.field(
            &raw.argon2_memory_kib,
            "password.argon2_memory_kib",
            d.m_cost_kib,
            |n| {
                if *n < MIN_ARGON2_MEMORY_KIB {
                    Err(format!(
                        "{n} KiB is below the OWASP minimum for Argon2id; set at least \
                     {MIN_ARGON2_MEMORY_KIB} (19 MiB)"
                    ))
                } else {
                    in_range(*n, MIN_ARGON2_MEMORY_KIB, MAX_ARGON2_MEMORY_KIB, "KiB")
                }
            },
        );
        let t_cost = self.field(
            &raw.argon2_iterations,
            "password.argon2_iterations",
            d.t_cost,
            |n| {
                if *n < MIN_ARGON2_ITERATIONS {
                    Err(format!(
                        "{n} is below the OWASP minimum for Argon2id at this memory; set at least \
                     {MIN_ARGON2_ITERATIONS}"
                    ))
                } else {
                    in_range(
                        *n,
                        MIN_ARGON2_ITERATIONS,
                        MAX_ARGON2_ITERATIONS,
                        "iterations",
                    )
                }
            },
        );
        let p_cost = self.field(
            &raw.argon2_parallelism,
            "password.argon2_parallelism",
            d.p_cost,
            |n| in_range(*n, 1, MAX_ARGON2_PARALLELISM, "lanes"),
        );
        let hash_workers = self.field(&raw.hash_workers, "password.hash_workers", 0, |n| {
            in_range(*n, 0, MAX_HASH_WORKERS, "workers (0 means half the CPUs)")
        });
        PasswordConfig {
            hash: HashParams {
                m_cost_kib,
                t_cost,
                p_cost,
            },
            hash_workers,
        }
    }

    fn upstreams(&mut self, raw: &[Spanned<RawUpstream>]) -> Vec<Upstream> {
        let mut out = Vec::with_capacity(raw.len());
        // name -> line of its first definition, to point duplicates at it.
        let mut names: HashMap<String, usize> = HashMap::new();
        for (i, entry) in raw.iter().enumerate() {
            let prefix = format!("upstream[{i}]");
            let up = entry.get_ref();
            let name = match &up.name {
                None => {
                    self.report(
                        &entry.span(),
                        &format!("{prefix}.name"),
                        "this upstream has no name; add name = \"…\" (routes refer to it by name)",
                    );
                    None
                }
                Some(n) => match check_upstream_name(n.get_ref()) {
                    Err(message) => {
                        self.report(&n.span(), &format!("{prefix}.name"), message);
                        None
                    }
                    Ok(()) => {
                        let (line, _) = line_column(self.source, n.span().start);
                        if let Some(first) = names.get(n.get_ref()) {
                            let message = format!(
                                "upstream \"{}\" is already defined on line {first}; give each \
                                 upstream its own name",
                                n.get_ref()
                            );
                            self.report(&n.span(), &format!("{prefix}.name"), message);
                        } else {
                            names.insert(n.get_ref().clone(), line);
                        }
                        Some(n.get_ref().clone())
                    }
                },
            };
            let url = match &up.url {
                None => {
                    self.report(
                        &entry.span(),
                        &format!("{prefix}.url"),
                        "this upstream has no url; add url = \"http://HOST:PORT\"",
                    );
                    None
                }
                Some(u) => match check_upstream_url(u.get_ref()) {
                    Err(message) => {
                        self.report(&u.span(), &format!("{prefix}.url"), message);
                        None
                    }
                    Ok(()) => Some(u.get_ref().clone()),
                },
            };
            if let (Some(name), Some(url)) = (name, url) {
                let connect_timeout = self.duration(
                    &up.connect_timeout,
                    &format!("{prefix}.connect_timeout"),
                    Duration::from_secs(5),
                );
                let response_timeout = self.duration(
                    &up.response_timeout,
                    &format!("{prefix}.response_timeout"),
                    Duration::from_secs(60),
                );
                let body_idle_timeout = self.duration(
                    &up.body_idle_timeout,
                    &format!("{prefix}.body_idle_timeout"),
                    Duration::from_secs(60),
                );
                out.push(Upstream {
                    name,
                    url,
                    connect_timeout,
                    response_timeout,
                    body_idle_timeout,
                    span: entry.span(),
                });
            }
        }
        out
    }
}

fn in_range<T: TryFrom<i64>>(n: i64, min: i64, max: i64, unit: &str) -> Result<T, String> {
    if (min..=max).contains(&n) {
        T::try_from(n).map_err(|_| format!("{n} is out of range; use {min} to {max} {unit}"))
    } else {
        Err(format!("{n} is out of range; use {min} to {max} {unit}"))
    }
}

fn parse_socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| {
        format!(
            "\"{s}\" is not an IP address and port; write IP:PORT, e.g. \"127.0.0.1:8443\", \
             \"0.0.0.0:8443\" or \"[::]:8443\" (host names are not resolved here)"
        )
    })
}

fn non_empty_path(s: &str, what: &str) -> Result<PathBuf, String> {
    if s.trim().is_empty() {
        Err(format!("the path is empty; give {what}"))
    } else {
        Ok(PathBuf::from(s))
    }
}

/// `https://HOST[:PORT][/PATH]`, returned without a trailing slash.
fn parse_public_url(s: &str) -> Result<String, String> {
    let Some(rest) = s.strip_prefix("https://") else {
        return Err(format!(
            "\"{s}\" must start with https://; sessions use Secure cookies, which browsers \
             only send over HTTPS"
        ));
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..host_end];
    if authority.is_empty()
        || authority.contains('@')
        || s.contains(['?', '#'])
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "\"{s}\" is not a usable public URL; write https://HOST[:PORT][/PATH] without \
             credentials, query or fragment, e.g. \"https://gateway.example.com\""
        ));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

fn check_issuer(s: &str) -> Result<(), String> {
    let chars = s.chars().count();
    if s.trim().is_empty() || chars > MAX_ISSUER_CHARS {
        return Err(format!(
            "the issuer must be 1 to {MAX_ISSUER_CHARS} characters; authenticator apps show it \
             next to each code, e.g. \"Centinela\" or \"ACME staging\""
        ));
    }
    if s.contains(':') || s.chars().any(char::is_control) {
        return Err(
            "the issuer must not contain ':' or control characters (':' separates \
                    issuer and account in authenticator labels)"
                .to_owned(),
        );
    }
    Ok(())
}

fn check_upstream_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.chars().count() <= MAX_UPSTREAM_NAME_CHARS
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{s}\" is not a valid upstream name; use 1 to {MAX_UPSTREAM_NAME_CHARS} letters, \
             digits, '_', '-' or '.'"
        ))
    }
}

fn check_upstream_url(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("\"{s}\" must start with http:// or https://, e.g. \"http://127.0.0.1:8081\"")
        })?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.is_empty() || authority.starts_with(':') {
        return Err(format!("\"{s}\" has no host; write http://HOST:PORT"));
    }
    if authority.contains('@') {
        return Err(format!(
            "\"{}\" contains credentials; remove them (they would end up in logs), and have \
             the upstream trust the gateway's identity headers instead",
            redact_url(s)
        ));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "\"{s}\" contains spaces or control characters; remove them"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"# A complete configuration.
[server]
listen = "0.0.0.0:443"
http_redirect_listen = "0.0.0.0:80"
admin_listen = "127.0.0.1:9090"
public_url = "https://gateway.example.com/"
data_dir = "/var/lib/centinela"

[tls]
cert_file = "/etc/centinela/cert.pem"
key_file = "/etc/centinela/key.pem"

[database]
url = "mysql://centinela:s3cret-pw@db.internal:3306/centinela"
max_connections = 20

[keys]
master_key_file = "/etc/centinela/master.key"

[session]
idle_timeout = "15m"
absolute_timeout = "8h"

[login]
max_failures = 5
window = "10m"
lockout = "1h"
totp_issuer = "ACME staging"

[password]
argon2_memory_kib = 47104
argon2_iterations = 3
argon2_parallelism = 2
hash_workers = 4

[[upstream]]
name = "app"
url = "http://127.0.0.1:8081"

[[upstream]]
name = "billing"
url = "https://billing.internal"
"#;

    fn errors(source: &str) -> Vec<Diagnostic> {
        match load_str(source, "centinela.toml") {
            Ok(_) => panic!("expected errors for:\n{source}"),
            Err(ConfigErrors(d)) => d,
        }
    }

    /// The only diagnostic for `source`, as (line, key).
    fn one_error(source: &str) -> (usize, String, String) {
        let d = errors(source);
        assert_eq!(d.len(), 1, "{d:#?}");
        (d[0].line, d[0].key.clone(), d[0].message.clone())
    }

    #[test]
    fn full_config_is_read() {
        let c = load_str(FULL, "centinela.toml").expect("valid");
        assert_eq!(c.server.listen, "0.0.0.0:443".parse().expect("addr"));
        assert_eq!(
            c.server.http_redirect_listen,
            Some("0.0.0.0:80".parse().expect("addr"))
        );
        assert_eq!(
            c.server.admin_listen,
            Some("127.0.0.1:9090".parse().expect("addr"))
        );
        assert_eq!(
            c.server.public_url.as_deref(),
            Some("https://gateway.example.com")
        );
        assert_eq!(c.effective_public_url(), "https://gateway.example.com");
        assert_eq!(c.server.data_dir, PathBuf::from("/var/lib/centinela"));
        assert_eq!(
            c.tls,
            TlsConfig::Files {
                cert_file: "/etc/centinela/cert.pem".into(),
                key_file: "/etc/centinela/key.pem".into()
            }
        );
        assert_eq!(
            c.database_url(),
            "mysql://centinela:s3cret-pw@db.internal:3306/centinela"
        );
        assert_eq!(c.database.kind(), DatabaseKind::Mysql);
        assert_eq!(c.database.max_connections, 20);
        assert!(matches!(&c.keys.master_key,
            MasterKeySource::File(p) if p == &PathBuf::from("/etc/centinela/master.key")));
        assert_eq!(c.session.idle_timeout, Duration::from_secs(900));
        assert_eq!(c.session.absolute_timeout, Duration::from_secs(8 * 3600));
        assert_eq!(
            c.login.throttle,
            ThrottlePolicy {
                max_failures: 5,
                window_secs: 600,
                lock_secs: 3600,
                base_delay_ms: 250,
                max_delay_ms: 5000
            }
        );
        assert_eq!(c.login.totp_issuer, "ACME staging");
        assert_eq!(
            c.password.hash,
            HashParams {
                m_cost_kib: 47104,
                t_cost: 3,
                p_cost: 2
            }
        );
        assert_eq!(c.password.hash_workers_for(8), 4);
        let names: Vec<(&str, &str)> = c
            .upstreams
            .iter()
            .map(|u| (u.name.as_str(), u.url.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("app", "http://127.0.0.1:8081"),
                ("billing", "https://billing.internal")
            ]
        );
        assert_eq!(c.upstreams[0].connect_timeout, Duration::from_secs(5));
        assert_eq!(c.upstreams[0].response_timeout, Duration::from_secs(60));
    }

    #[test]
    fn empty_file_is_the_default_config() {
        let c = load_str("", "empty.toml").expect("empty config is valid");
        let d = Config::default();
        assert_eq!(format!("{c:?}"), format!("{d:?}"));
        assert_eq!(c.server.listen, SocketAddr::from(([127, 0, 0, 1], 8443)));
        assert_eq!(c.server.http_redirect_listen, None);
        assert_eq!(c.server.admin_listen, None);
        assert_eq!(c.effective_public_url(), "https://localhost:8443");
        assert_eq!(c.server.data_dir, PathBuf::from("./centinela-data"));
        assert_eq!(c.tls, TlsConfig::SelfSigned);
        assert_eq!(
            c.dev_tls_paths().0,
            PathBuf::from("./centinela-data/dev-cert.pem")
        );
        assert_eq!(c.database_url(), "sqlite://./centinela-data/centinela.db");
        assert_eq!(c.database.kind(), DatabaseKind::Sqlite);
        assert_eq!(c.database.max_connections, 10);
        assert!(matches!(&c.keys.master_key,
            MasterKeySource::File(p) if p == &PathBuf::from("./centinela-data/master.key")));
        assert_eq!(c.session.idle_timeout, Duration::from_secs(1800));
        assert_eq!(c.session.absolute_timeout, Duration::from_secs(43_200));
        assert_eq!(c.login.throttle, ThrottlePolicy::default());
        assert_eq!(c.login.totp_issuer, "Centinela");
        assert_eq!(c.password.hash, HashParams::default());
        assert_eq!(c.password.hash_workers, 0);
        assert_eq!(c.password.hash_workers_for(6), 3);
        assert_eq!(c.password.hash_workers_for(1), 1);
        assert!(c.upstreams.is_empty());
    }

    #[test]
    fn data_dir_moves_the_default_database_and_key() {
        let c = load_str("[server]\ndata_dir = \"/srv/c\"\n", "c.toml").expect("valid");
        assert_eq!(c.database_url(), "sqlite:///srv/c/centinela.db");
        assert!(matches!(&c.keys.master_key,
            MasterKeySource::File(p) if p == &PathBuf::from("/srv/c/master.key")));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        for bad in [
            "", "30", "m", "1.5h", "-1m", "+1m", " 1m", "1m ", "1 m", "1M", "1w", "1h30m", "１m",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("999999999999999999d")
            .expect_err("overflows")
            .contains("too long"));
        assert_eq!(format_duration(Duration::from_secs(900)), "15m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(172_800)), "2d");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn bad_duration_names_line_and_key() {
        let (line, key, msg) = one_error("\n[session]\nidle_timeout = \"half an hour\"\n");
        assert_eq!((line, key.as_str()), (3, "session.idle_timeout"));
        assert!(msg.contains("\"half an hour\" is not a duration"), "{msg}");
        let (line, key, _) = one_error("[login]\nlockout = \"0m\"\n");
        assert_eq!((line, key.as_str()), (2, "login.lockout"));
    }

    #[test]
    fn idle_longer_than_absolute() {
        let src = "[session]\nabsolute_timeout = \"1h\"\nidle_timeout = \"2h\"\n";
        let (line, key, msg) = one_error(src);
        assert_eq!((line, key.as_str()), (3, "session.idle_timeout"));
        assert!(msg.contains("(2h)") && msg.contains("(1h)"), "{msg}");
        // Only the absolute one set, below the default idle of 30m: points at it.
        let (line, key, _) = one_error("[session]\nabsolute_timeout = \"10m\"\n");
        assert_eq!((line, key.as_str()), (2, "session.absolute_timeout"));
    }

    #[test]
    fn weak_argon2_params_name_their_key() {
        let src = "[password]\nargon2_memory_kib = 4096\nargon2_iterations = 1\nargon2_parallelism = 0\nhash_workers = -1\n";
        let d = errors(src);
        let got: Vec<(usize, &str)> = d.iter().map(|d| (d.line, d.key.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (2, "password.argon2_memory_kib"),
                (3, "password.argon2_iterations"),
                (4, "password.argon2_parallelism"),
                (5, "password.hash_workers"),
            ]
        );
        assert!(d[0].message.contains("19456"), "{}", d[0].message);
        let (_, key, msg) = one_error("[password]\nargon2_memory_kib = 194560000\n");
        assert_eq!(key, "password.argon2_memory_kib");
        assert!(msg.contains("out of range"), "{msg}");
    }

    #[test]
    fn database_url_scheme_is_checked() {
        let (line, key, msg) = one_error("[database]\n\nurl = \"postgres://u:hunter2@h/db\"\n");
        assert_eq!((line, key.as_str()), (3, "database.url"));
        assert!(
            !msg.contains("hunter2"),
            "the password must not be echoed: {msg}"
        );
        assert!(
            msg.contains("sqlite://") && msg.contains("mysql://"),
            "{msg}"
        );
        let (_, key, _) = one_error("[database]\nmax_connections = 0\n");
        assert_eq!(key, "database.max_connections");
        let c = load_str("[database]\nurl = \"sqlite::memory:\"\n", "c").expect("valid");
        assert_eq!(c.database.kind(), DatabaseKind::Sqlite);
    }

    #[test]
    fn listeners_must_be_socket_addresses_and_distinct() {
        let (line, key, msg) = one_error("[server]\nlisten = \"localhost:8443\"\n");
        assert_eq!((line, key.as_str()), (2, "server.listen"));
        assert!(msg.contains("IP:PORT"), "{msg}");
        let (line, key, _) =
            one_error("[server]\nlisten = \"127.0.0.1:8443\"\nadmin_listen = \"127.0.0.1:8443\"\n");
        assert_eq!((line, key.as_str()), (3, "server.admin_listen"));
        let (line, key, _) = one_error("[server]\nhttp_redirect_listen = \"127.0.0.1:8443\"\n");
        assert_eq!((line, key.as_str()), (2, "server.http_redirect_listen"));
        let (_, key, _) = one_error("[server]\npublic_url = \"http://example.com\"\n");
        assert_eq!(key, "server.public_url");
        let (_, key, _) = one_error("[server]\ndata_dir = \"\"\n");
        assert_eq!(key, "server.data_dir");
    }

    #[test]
    fn tls_needs_both_files() {
        let (line, key, msg) = one_error("[tls]\ncert_file = \"c.pem\"\n");
        assert_eq!((line, key.as_str()), (2, "tls.key_file"));
        assert!(msg.contains("set both"), "{msg}");
        let (line, key, _) = one_error("[tls]\n# comment\nkey_file = \"k.pem\"\n");
        assert_eq!((line, key.as_str()), (3, "tls.cert_file"));
    }

    #[test]
    fn upstream_rules() {
        let src = r#"[[upstream]]
name = "app"
url = "http://127.0.0.1:8081"

[[upstream]]
name = "app"
url = "ftp://files"

[[upstream]]
url = "http://user:pw@host"

[[upstream]]
name = "bad name"
"#;
        let d = errors(src);
        let got: Vec<(usize, &str)> = d.iter().map(|d| (d.line, d.key.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (6, "upstream[1].name"),
                (7, "upstream[1].url"),
                (9, "upstream[2].name"),
                (10, "upstream[2].url"),
                (12, "upstream[3].url"),
                (13, "upstream[3].name"),
            ]
        );
        assert!(
            d[0].message.contains("already defined on line 2"),
            "{}",
            d[0].message
        );
        assert!(!d[3].message.contains("pw@"), "{}", d[3].message);
    }

    #[test]
    fn issuer_rules() {
        let (line, key, _) = one_error("[login]\ntotp_issuer = \"ACME: prod\"\n");
        assert_eq!((line, key.as_str()), (2, "login.totp_issuer"));
        let (_, key, _) = one_error("[login]\ntotp_issuer = \"\"\n");
        assert_eq!(key, "login.totp_issuer");
        let (_, key, _) = one_error("[login]\nmax_failures = 0\n");
        assert_eq!(key, "login.max_failures");
    }

    #[test]
    fn all_problems_are_reported_together_in_file_order() {
        let src = "[session]\nidle_timeout = \"x\"\n[server]\nlisten = \"nope\"\n[database]\nurl = \"redis://\"\n";
        let d = errors(src);
        let got: Vec<(usize, &str)> = d.iter().map(|d| (d.line, d.key.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (2, "session.idle_timeout"),
                (4, "server.listen"),
                (6, "database.url")
            ]
        );
    }

    #[test]
    fn unknown_key_is_reported_with_its_line() {
        let src = "[server]\nlisten = \"127.0.0.1:8443\"\nlisen = \"127.0.0.1:1\"\n";
        let d = errors(src);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].line, d[0].column), (3, 1));
        assert_eq!(d[0].key, "server.lisen");
        assert!(
            d[0].message.contains("unknown field `lisen`"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("fix its spelling"));

        let (line, key, _) = one_error("\n\n[sesion]\nidle_timeout = \"1m\"\n");
        assert_eq!((line, key.as_str()), (3, "sesion"));

        let (line, key, _) = one_error(
            "[[upstream]]\nname = \"a\"\nurl = \"http://a\"\n[[upstream]]\nnmae = \"b\"\n",
        );
        assert_eq!((line, key.as_str()), (5, "upstream[1].nmae"));
    }

    #[test]
    fn syntax_and_type_errors_have_lines() {
        let (line, key, _) = one_error("[server]\n\nlisten = \"127.0.0.1:8443\n");
        assert_eq!((line, key.as_str()), (3, "server.listen"));
        let d = errors("[server\nlisten = 1\n");
        assert_eq!(d[0].line, 1);
        let d = errors("x = [\n");
        assert_eq!(d[0].line, 2);
        assert!(!d[0].message.contains('\n'), "{}", d[0].message);
        let (line, key, msg) = one_error("[database]\nmax_connections = \"ten\"\n");
        assert_eq!((line, key.as_str()), (2, "database.max_connections"));
        assert!(msg.contains("invalid type"), "{msg}");
        let (line, _, _) = one_error("[login]\nmax_failures = 3\nmax_failures = 4\n");
        assert_eq!(line, 3);
    }

    #[test]
    fn display_format() {
        let d = errors("# é\n[server]\n  listen = \"x\"\n");
        assert_eq!(
            d[0].to_string(),
            format!("centinela.toml:3:12: server.listen: {}", d[0].message)
        );
        let all = ConfigErrors(vec![d[0].clone(), d[0].clone()]).to_string();
        assert_eq!(all.lines().count(), 2);
        let env = Diagnostic {
            file: "environment".into(),
            line: 0,
            column: 0,
            key: ENV_MASTER_KEY.into(),
            message: "bad".into(),
        };
        assert_eq!(env.to_string(), "environment: CENTINELA_MASTER_KEY: bad");
    }

    #[test]
    fn line_column_counts_characters() {
        let s = "ab\nñé x\n";
        assert_eq!(line_column(s, 0), (1, 1));
        assert_eq!(line_column(s, 3), (2, 1));
        assert_eq!(line_column(s, 8), (2, 4)); // after "ñé " (5 bytes)
        assert_eq!(line_column(s, 4), (2, 1)); // inside 'ñ': clamped back
        assert_eq!(line_column(s, 999), (3, 1));
    }

    #[test]
    fn env_overrides() {
        let key_b64 = data_encoding::BASE64.encode(&[7u8; 32]);
        let env: HashMap<&str, String> = [
            (ENV_DATABASE_URL, "mysql://u:pw@db/c".to_owned()),
            (ENV_MASTER_KEY, format!("{key_b64}\n")),
        ]
        .into();
        let mut c = Config::default();
        c.apply_env_overrides(|k| env.get(k).cloned())
            .expect("valid env");
        assert_eq!(c.database_url(), "mysql://u:pw@db/c");
        assert!(matches!(&c.keys.master_key, MasterKeySource::Env(k) if k.expose() == key_b64));

        // Unset or empty: nothing changes.
        let mut c = Config::default();
        c.apply_env_overrides(|k| (k == ENV_DATABASE_URL).then(String::new))
            .expect("empty is ignored");
        assert_eq!(c.database_url(), "sqlite://./centinela-data/centinela.db");
        assert!(matches!(c.keys.master_key, MasterKeySource::File(_)));
    }

    #[test]
    fn invalid_env_overrides_are_errors_and_change_nothing() {
        let short = data_encoding::BASE64.encode(&[7u8; 16]);
        let env: HashMap<&str, String> = [
            (ENV_DATABASE_URL, "postgres://u:hunter2@db/c".to_owned()),
            (ENV_MASTER_KEY, short),
        ]
        .into();
        let mut c = Config::default();
        let err = c
            .apply_env_overrides(|k| env.get(k).cloned())
            .expect_err("invalid env");
        let keys: Vec<&str> = err.0.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, vec![ENV_DATABASE_URL, ENV_MASTER_KEY]);
        assert!(
            err.0[1].message.contains("16 bytes"),
            "{}",
            err.0[1].message
        );
        assert!(!err.to_string().contains("hunter2"));
        assert_eq!(c.database_url(), "sqlite://./centinela-data/centinela.db");

        let mut c = Config::default();
        let err = c
            .apply_env_overrides(|k| (k == ENV_MASTER_KEY).then(|| "not base64!".to_owned()))
            .expect_err("invalid key");
        assert!(err.0[0].message.contains("not valid base64"));
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = load_str(FULL, "c.toml").expect("valid");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret-pw"), "{dbg}");
        assert!(
            dbg.contains("mysql://centinela:***@db.internal:3306/centinela"),
            "{dbg}"
        );
        let key_b64 = data_encoding::BASE64.encode(&[9u8; 32]);
        let mut c = Config::default();
        c.apply_env_overrides(|k| (k == ENV_MASTER_KEY).then(|| key_b64.clone()))
            .expect("valid");
        assert!(!format!("{c:?}").contains(&key_b64));
    }

    #[test]
    fn url_redaction() {
        assert_eq!(redact_url("mysql://u:p@h/db"), "mysql://u:***@h/db");
        assert_eq!(
            redact_url("mysql://u:p:q@x@h:1/db?a=b"),
            "mysql://u:***@h:1/db?a=b"
        );
        assert_eq!(redact_url("mysql://u@h/db"), "mysql://u@h/db");
        assert_eq!(redact_url("mysql://h/db@x"), "mysql://h/db@x");
        assert_eq!(redact_url("sqlite://./a.db"), "sqlite://./a.db");
        assert_eq!(redact_url("no scheme"), "no scheme");
    }
}
