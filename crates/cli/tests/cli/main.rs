//! End-to-end tests of the `centinela` binary: real processes, real sockets, real
//! SQLite files and a real MariaDB.

mod util;

mod admin_cli;
mod alerts;
mod assertion;
mod audit;
mod audit_log;
mod audit_repo;
mod console;
mod db_outage;
mod deploy;
mod forward_auth;
mod headers;
mod inspection;
mod login;
mod metrics;
mod monitoring;
mod mysql_tls;
mod ownership_lookup;
mod policy_cli;
mod policy_matrix;
mod quickstart;
mod rate_limits;
mod scale_out;
mod timeouts;
mod tls_clients;
mod websocket;
