//! Command-line arguments (clap). Every subcommand takes `--config FILE`; without it the
//! same quickstart defaults apply as for `serve`, so the CLI and the server always meet
//! in the same store under the same keys.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Centinela: a security gateway and auditor for web services.
#[derive(Debug, Parser)]
#[command(name = "centinela", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand that reads the configuration.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArg {
    /// Configuration file (TOML). Without it, the quickstart defaults apply.
    #[arg(long, short = 'c', global = true, env = "CENTINELA_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `centinela serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub cfg: ConfigArg,
    /// HTTPS address to listen on, instead of `server.listen`.
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Admin address (/metrics, /healthz, /readyz), instead of `server.admin_listen`.
    #[arg(long)]
    pub admin_listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (quickstart when no config file is given).
    Serve(ServeArgs),
    /// Run the demo customers API that examples and tests protect.
    DemoUpstream {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:5080")]
        listen: std::net::SocketAddr,
    },
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for machine clients.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the encryption keys of personal data.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Ask the access policy: explain one decision, or run a table of cases.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run request inspection outside the gateway.
    #[command(subcommand)]
    Inspect(InspectCommand),
    /// Audit Kubernetes manifests, lockfiles, source code, a MySQL server or an
    /// HTTPS endpoint.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Import and inspect the offline advisory database that `audit deps` reads.
    #[command(subcommand)]
    Advisories(crate::commands::advisories::AdvisoriesCommand),
    /// Verify, export or prune the tamper-evident audit log.
    #[command(subcommand, name = "audit-log")]
    AuditLog(AuditLogCommand),
    /// List and acknowledge alerts; lift automatic address blocks.
    #[command(subcommand)]
    Alerts(AlertsCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from stdin (or prompted for on a terminal).
    Add {
        #[command(flatten)]
        cfg: ConfigArg,
        /// Login name.
        username: String,
        /// Role (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The customer record this user owns (ownership rules bind to it).
        #[arg(long)]
        customer_id: Option<String>,
        /// Email address (stored encrypted).
        #[arg(long)]
        email: Option<String>,
        /// Name shown in pages (defaults to the username).
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// List users.
    List {
        #[command(flatten)]
        cfg: ConfigArg,
        /// Output as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Show one user.
    Show {
        #[command(flatten)]
        cfg: ConfigArg,
        username: String,
    },
    /// Disable a user: login refused, sessions and tokens stop working at once.
    Disable {
        #[command(flatten)]
        cfg: ConfigArg,
        username: String,
    },
    /// Replace a user's roles. A privilege change: the user's sessions end at once
    /// (they sign in again under a new session id), and their API tokens keep only
    /// the roles the user still holds.
    Roles {
        #[command(flatten)]
        cfg: ConfigArg,
        username: String,
        /// Role (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Remove a user's second factor and recovery codes (a lost phone) and end their
    /// sessions; they sign in with the password alone and enrol again.
    ResetMfa {
        #[command(flatten)]
        cfg: ConfigArg,
        username: String,
    },
    /// Re-enable a disabled or locked user.
    Enable {
        #[command(flatten)]
        cfg: ConfigArg,
        username: String,
    },
    /// Set a new password (from stdin or a prompt); ends the user's sessions.
    Passwd {
        #[command(flatten)]
        cfg: ConfigArg,
        username: String,
    },
    /// Lift a login lockout (failed-attempt lock or an administrative lock).
    Unlock {
        #[command(flatten)]
        cfg: ConfigArg,
        username: String,
    },
    /// End every session of a user.
    RevokeSessions {
        #[command(flatten)]
        cfg: ConfigArg,
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; it is printed once and cannot be shown again.
    Create {
        #[command(flatten)]
        cfg: ConfigArg,
        /// Owner of the token.
        #[arg(long)]
        user: String,
        /// A label to recognise the token by.
        #[arg(long)]
        name: String,
        /// Role granted to the token (repeat; each must be one of the owner's).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Lifetime, e.g. 30d, 12h; omit for no expiry.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        cfg: ConfigArg,
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        cfg: ConfigArg,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt all personal data under a new data key; the server keeps serving.
    Rotate {
        #[command(flatten)]
        cfg: ConfigArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and report every problem with file, line and key.
    Check {
        #[command(flatten)]
        cfg: ConfigArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show whether a request would be allowed, and which rule decides.
    Explain {
        #[command(flatten)]
        cfg: ConfigArg,
        /// The caller: a user in the store; omit for an anonymous request.
        #[arg(long)]
        user: Option<String>,
        /// The caller uses an API token (rules with auth = "token").
        #[arg(long)]
        token: bool,
        /// HTTP method.
        #[arg(long, default_value = "GET")]
        method: String,
        /// Request path as the client would send it (before normalisation).
        #[arg(long)]
        path: String,
        /// Query string, without '?'.
        #[arg(long)]
        query: Option<String>,
        /// Host the request names.
        #[arg(long)]
        host: Option<String>,
        /// Client address.
        #[arg(long, default_value = "127.0.0.1")]
        ip: std::net::IpAddr,
        /// JSON body, for rules that read a field of it.
        #[arg(long)]
        json: Option<String>,
    },
    /// Run a TOML table of cases (caller, method, path, expected outcome); exit 1 on
    /// any mismatch.
    Test {
        #[command(flatten)]
        cfg: ConfigArg,
        /// The cases file.
        cases: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum InspectCommand {
    /// Inspect one raw HTTP/1.1 request read from stdin and print the report as JSON
    /// (exit 1 when it would be blocked or flagged).
    Request {
        #[command(flatten)]
        cfg: ConfigArg,
        /// Use this route's inspection settings (default: the [inspect] defaults).
        #[arg(long)]
        route: Option<String>,
    },
    /// Score a corpus in the gotestwaf format (a `testcases/` tree of YAML cases, or
    /// a folder holding one): per category, the share of attacks blocked and of
    /// benign requests passed.
    Eval {
        #[command(flatten)]
        cfg: ConfigArg,
        /// The corpus folder.
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
        /// Use this route's inspection settings (default: the [inspect] defaults).
        #[arg(long)]
        route: Option<String>,
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
        /// Also print the first N wrong verdicts (attacks passed, benign blocked), to
        /// tune exclusions or report a miss (text format).
        #[arg(long, default_value_t = 0, value_name = "N")]
        show_misses: usize,
    },
}

/// Output options shared by every `audit` scanner.
#[derive(Debug, Args, Clone)]
pub struct AuditOutput {
    /// Output format: text, json or sarif.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Exit 1 when a finding has at least this severity (info, low, medium, high,
    /// critical), or `none` to never fail on findings.
    #[arg(long, default_value = "low", value_name = "SEVERITY")]
    pub fail_on: String,
    /// Suppression file (default: .centinela-audit.toml when present).
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Kubernetes manifests and RBAC: files, directories, or `-` for stdin.
    K8s {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// List the subjects the manifests allow to do VERB on RESOURCE.
        #[arg(long, num_args = 2, value_names = ["VERB", "RESOURCE"])]
        rbac_who_can: Option<Vec<String>>,
        #[command(flatten)]
        out: AuditOutput,
    },
    /// Lockfiles (Cargo, npm, yarn, pnpm, pip, Poetry, Pipenv, uv) against the offline
    /// advisory database.
    Deps(crate::commands::audit_deps::DepsArgs),
    /// Python and JavaScript/TypeScript sources: injection, XXE, deserialization, XSS
    /// and other sinks reached by non-constant data.
    Code(crate::commands::audit_deps::CodeArgs),
    /// A whole repository: every scanner that applies (k8s manifests, lockfiles,
    /// sources), then an OWASP Top 10 scorecard.
    All(crate::commands::audit_deps::AllArgs),
    /// A live MySQL/MariaDB server (read-only): accounts, privileges, settings.
    Mysql {
        /// mysql://user[:password]@host[:port]; the password may come from
        /// CENTINELA_AUDIT_MYSQL_PASSWORD instead, so it stays out of argv.
        url: String,
        #[command(flatten)]
        out: AuditOutput,
    },
    /// A live HTTPS endpoint: TLS versions and ciphers, certificate, headers, cookies.
    #[command(alias = "http")]
    Https {
        /// https://host[:port]/path
        url: String,
        /// Extra CA certificate (PEM) to trust, e.g. a private CA.
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
        /// Plain-HTTP URL that should redirect to HTTPS (default: http://HOST:80/).
        #[arg(long, value_name = "URL")]
        http_url: Option<String>,
        #[command(flatten)]
        out: AuditOutput,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditLogCommand {
    /// Check the hash chain; names the first broken link and exits 1 if there is one.
    Verify {
        #[command(flatten)]
        cfg: ConfigArg,
    },
    /// Print events as JSON lines with ECS field names (for a SIEM).
    Export {
        #[command(flatten)]
        cfg: ConfigArg,
        /// Only events at or after this point: a date, a UTC time or an age (24h, 7d).
        #[arg(long)]
        since: Option<String>,
        /// Only events of this kind (e.g. login-failure, inspection-blocked).
        #[arg(long)]
        kind: Option<String>,
    },
    /// Delete events older than a point (e.g. 90d), keeping the rest verifiable.
    Prune {
        #[command(flatten)]
        cfg: ConfigArg,
        /// A date, a UTC time or an age such as 90d.
        #[arg(long)]
        before: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Alerts, newest first.
    List {
        #[command(flatten)]
        cfg: ConfigArg,
        /// Only alerts in this state: firing, acknowledged or resolved.
        #[arg(long)]
        state: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a firing alert (someone is on it).
    Ack {
        #[command(flatten)]
        cfg: ConfigArg,
        id: String,
    },
    /// Lift an automatic block of a client address before it expires.
    Unblock {
        #[command(flatten)]
        cfg: ConfigArg,
        ip: String,
    },
}
