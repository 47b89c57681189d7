//! Centinela's gateway server. The transport layer lives here: TLS termination
//! ([`tls`]), the HTTPS and redirect listeners ([`server`], [`redirect`]), the
//! [`Handler`] seam that application layers plug into, the reverse proxy ([`proxy`],
//! over keep-alive upstream connections from `pool`) and the bundled demo upstream
//! ([`demo`]). Above it sit the identity endpoints ([`auth`]), the admin console
//! ([`console`]) and the top-level handler tying them to the proxy ([`app`]).
#![forbid(unsafe_code)]

pub mod admin;
pub mod alerting;
pub mod app;
pub mod assertion;
pub mod audit_sink;
pub mod auth;
pub mod console;
pub mod demo;
pub mod error;
pub mod handler;
mod hardening;
pub mod limiter;
pub mod metrics;
mod pool;
pub mod proxy;
pub mod redirect;
pub mod server;
pub mod tls;

pub use app::{Gateway, GatewayParts};
pub use error::{BoxError, GatewayError};
pub use handler::{Body, BoxFuture, Handler};
pub use proxy::{ProxyConfig, ProxyHandler, Upstream};
pub use server::{bind, serve, serve_on, BoundServer, Limits, ServerConfig, TlsFiles};
pub use tls::{ensure_dev_certificate, load_server_config, ReloadableTls};
