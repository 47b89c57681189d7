//! One module per top-level subcommand.

pub mod advisories;
pub mod alerts;
pub mod audit;
pub mod audit_deps;
pub mod auditlog;
pub mod config;
pub mod inspect;
pub mod keys;
pub mod policy;
pub mod serve;
pub mod token;
pub mod user;
