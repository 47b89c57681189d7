//! `centinela config check`: validates the configuration and lists every problem with
//! its file, line and key.

use std::process::ExitCode;

use crate::args::ConfigCommand;
use crate::context::load_config;

pub fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::Check { cfg } => match load_config(&cfg) {
            Ok(c) => {
                let source = cfg.config.as_ref().map_or_else(
                    || "quickstart defaults".to_owned(),
                    |p| p.display().to_string(),
                );
                for w in &c.warnings {
                    eprintln!("warning: {w}");
                }
                println!(
                    "{source}: ok (listen {}, database {}, {} route(s), {} warning(s))",
                    c.server.listen,
                    c.database.redacted_url(),
                    c.policy.routes.len(),
                    c.warnings.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{e:#}");
                Ok(ExitCode::from(2))
            }
        },
    }
}
