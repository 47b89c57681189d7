//! `centinela advisories import|status`: fills and describes the offline advisory
//! database that `audit deps` reads. Nothing here touches the network: the user
//! brings the data (OSV zip exports or directories, a RustSec advisory-db checkout,
//! the Node.js security WG's npm advisories).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use centinela_audit::advisories::{Db, DbError};
use centinela_audit::deps;
use clap::Subcommand;

/// Where the database lives unless `--db` or `CENTINELA_ADVISORY_DB` says otherwise:
/// next to the gateway's quickstart data.
pub const DEFAULT_DB: &str = "centinela-data/advisories.json";

#[derive(Debug, Subcommand)]
pub enum AdvisoriesCommand {
    /// Import OSV data (zip export, directory or file of JSON/YAML records), a RustSec
    /// advisory-db checkout, or Node.js security WG npm advisories.
    Import {
        /// The export, checkout or file to read.
        #[arg(value_name = "PATH")]
        path: PathBuf,
        /// The advisory database file.
        #[arg(long, env = "CENTINELA_ADVISORY_DB", default_value = DEFAULT_DB)]
        db: PathBuf,
    },
    /// Show what the database holds, from where, and how old it is.
    Status {
        #[arg(long, env = "CENTINELA_ADVISORY_DB", default_value = DEFAULT_DB)]
        db: PathBuf,
    },
}

pub fn run(cmd: AdvisoriesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AdvisoriesCommand::Import { path, db } => {
            let mut store = match Db::load(&db) {
                Ok(s) => s,
                Err(DbError::Missing(_)) => Db::default(),
                Err(e) => return Err(e.into()),
            };
            let read = store
                .import(&path, deps::now())
                .map_err(anyhow::Error::msg)?;
            for (file, why) in read.errors.iter().take(20) {
                eprintln!("skipped {file}: {why}");
            }
            if read.errors.len() > 20 {
                eprintln!("... and {} more skipped files", read.errors.len() - 20);
            }
            store
                .save(&db)
                .with_context(|| format!("cannot write {}", db.display()))?;
            println!(
                "imported {} advisories ({}) from {}; {} file(s) skipped; database {} now holds {}",
                read.advisories,
                read.kind,
                read.path,
                read.errors.len(),
                db.display(),
                store.advisories.len()
            );
            // Some files could not be read: the import is usable but incomplete.
            Ok(if read.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(centinela_audit::exit::INCOMPLETE)
            })
        }
        AdvisoriesCommand::Status { db } => {
            let store = Db::load(&db)?;
            println!("{}: {} advisories", db.display(), store.advisories.len());
            for s in &store.sources {
                println!(
                    "  {} {}: {} advisories, imported {} ({} skipped)",
                    s.kind, s.path, s.advisories, s.imported_date, s.skipped
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
