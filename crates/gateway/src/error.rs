//! The gateway's single error type. Every message names what failed and what the
//! operator can do about it, because these surface on the console at startup.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Boxed error used in streamed bodies, where the failure may come from hyper, a
/// timeout or a handler and the server only needs to know that the stream broke.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the gateway crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The assertion-signing key could not be built.
    #[error("cannot build the assertion-signing key: {0}")]
    SigningKey(String),

    /// A listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}; choose another address or stop the process that holds it")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    /// A certificate or key file could not be read.
    #[error(
        "cannot read {path}: {source}; check that the file exists and is readable by this user"
    )]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A certificate or key file could not be written.
    #[error("cannot write {path}: {source}; check that the directory exists and is writable by this user")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A PEM file held something other than what was expected.
    #[error("{path} is not usable: {reason}")]
    Pem { path: PathBuf, reason: String },

    /// The certificate and key were each readable but do not form a usable pair.
    #[error("certificate {cert} and key {key} cannot be used together: {reason}; check that the key is the one the certificate was issued for")]
    KeyPair {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },

    /// rustls refused the TLS configuration.
    #[error("TLS configuration refused: {0}")]
    Tls(String),

    /// Only one of the two development certificate files exists.
    #[error("{present} exists but {missing} does not; delete {present} so that a new development certificate and key are generated together")]
    DevCertIncomplete { present: PathBuf, missing: PathBuf },

    /// Certificate generation failed.
    #[error("cannot generate the development certificate: {0}")]
    CertGeneration(String),

    /// The upstream URL cannot be used.
    #[error("upstream URL {url:?} is not usable: {reason}")]
    Upstream { url: String, reason: String },

    /// A signal handler could not be installed.
    #[error("cannot install the {signal} handler: {source}")]
    Signal {
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
}
