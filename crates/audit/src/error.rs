//! Errors of the audit crate. A failure on one file or target is not an `Error`: it
//! becomes a [`crate::ScanError`] in the report and the scan goes on; `Error` is for
//! what stops a command as a whole (bad arguments, an unreadable suppression file,
//! output that cannot be written).

use std::path::PathBuf;

/// What stops an audit command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// The suppression file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The suppression file is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    ConfigParse { path: PathBuf, message: String },
    /// Writing the report failed.
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
    /// Serialising the report failed.
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
}
