//! The directory walk every file scanner shares: links are not followed (no loops,
//! nothing outside the tree), folders of installed copies, build output and VCS data
//! are pruned, entries come sorted by name so output is stable, and a folder that
//! cannot be read becomes a scan error while the rest is walked.

use std::path::{Path, PathBuf};

use crate::report::Report;

/// Folders that hold installed copies, build output or VCS data, never the
/// project's own sources or lockfiles.
pub const SKIP_DIRS: &[&str] = &[
    "node_modules",
    ".git",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    "dist",
    "build",
];

/// Every regular file under `root`, in walk order.
pub fn files(root: &Path, report: &mut Report) -> Vec<PathBuf> {
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            !(e.file_type().is_dir()
                && e.depth() > 0
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIP_DIRS.contains(&n)))
        });
    let mut out = Vec::new();
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => out.push(e.into_path()),
            Ok(_) => {}
            Err(e) => report.error(root.display().to_string(), e.to_string()),
        }
    }
    out
}
