//! The `centinela` command: the gateway (`serve`), identity administration (`user`,
//! `token`, `keys`) and configuration checks, wired from the library crates.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod context;

use std::process::ExitCode;

use clap::Parser as _;

use args::{Cli, Command};

/// jemalloc instead of the system allocator: see the dependency's note in Cargo.toml.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("centinela: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("centinela: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Serve(args) => commands::serve::run(&args).await,
        Command::DemoUpstream { listen } => commands::serve::demo_upstream(listen).await,
        Command::User(c) => commands::user::run(c).await,
        Command::Token(c) => commands::token::run(c).await,
        Command::Keys(c) => commands::keys::run(c).await,
        Command::Config(c) => commands::config::run(c),
        Command::Policy(c) => commands::policy::run(c).await,
        Command::Audit(c) => commands::audit::run(c).await,
        Command::Advisories(c) => commands::advisories::run(c),
        Command::Inspect(c) => commands::inspect::run(c),
        Command::AuditLog(c) => commands::auditlog::run(c).await,
        Command::Alerts(c) => commands::alerts::run(c).await,
    }
}
