//! Arguments and scan entry points of `centinela audit deps`, `audit code` and
//! `audit all`; the
//! shared output path (suppressions, renderers, exit code) stays in
//! [`super::audit`].

use std::path::PathBuf;

use centinela_audit::advisories::Db;
use centinela_audit::{all, code, deps, Report};
use clap::Args;

use crate::args::AuditOutput;

/// Where the advisory data is and how old it may be.
#[derive(Debug, Args)]
pub struct AdvisoryDbArgs {
    /// The advisory database written by `centinela advisories import`.
    #[arg(long, env = "CENTINELA_ADVISORY_DB", default_value = super::advisories::DEFAULT_DB)]
    pub db: PathBuf,
    /// Warn (DEPS-003) when the newest advisory record is older than this many days.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub max_age_days: u64,
}

/// `audit deps`.
#[derive(Debug, Args)]
pub struct DepsArgs {
    /// Lockfiles, or directories to search for them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub advisories: AdvisoryDbArgs,
    #[command(flatten)]
    pub out: AuditOutput,
}

/// `audit all`.
#[derive(Debug, Args)]
pub struct AllArgs {
    /// Repository roots (or files) to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub advisories: AdvisoryDbArgs,
    #[command(flatten)]
    pub out: AuditOutput,
}

/// `audit code`.
#[derive(Debug, Args)]
pub struct CodeArgs {
    /// Source files, or directories to search for .py/.js/.jsx/.ts/.tsx/.mjs/.cjs and
    /// Jinja2/Django templates (.html/.jinja/.j2).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub out: AuditOutput,
}

/// Runs the dependency scan; a missing or unreadable database stops the command
/// (exit 2): a scan with nothing to compare against must not look clean.
pub fn deps(paths: &[PathBuf], db: &std::path::Path, max_age_days: u64) -> anyhow::Result<Report> {
    let store = Db::load(db)?;
    let options = deps::Options {
        max_age_days,
        now: deps::now(),
    };
    let report = deps::scan(paths, &store, &options);
    if report
        .findings
        .iter()
        .any(|f| f.rule.id == deps::STALE_DB.id)
    {
        eprintln!(
            "warning: the advisory data in {} is older than {max_age_days} days; import current data",
            db.display()
        );
    }
    Ok(report)
}

pub fn code(paths: &[PathBuf]) -> Report {
    code::scan(paths)
}

/// Runs `audit all`. A missing advisory database does not stop the other scanners:
/// the lockfiles found are reported as not scanned (exit 3), with the reason.
pub fn all(
    paths: &[PathBuf],
    db: &std::path::Path,
    max_age_days: u64,
    progress: bool,
) -> (Report, Vec<all::Scanner>) {
    let loaded = Db::load(db);
    let advisories = match &loaded {
        Ok(store) => all::Advisories::Loaded(
            store,
            deps::Options {
                max_age_days,
                now: deps::now(),
            },
        ),
        Err(e) => all::Advisories::Unavailable(e.to_string()),
    };
    all::scan(paths, &advisories, progress)
}
