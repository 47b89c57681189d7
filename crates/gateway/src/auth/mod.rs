//! Identity at the gateway: the login flow, sessions, API tokens and TOTP, over the
//! store. `service` holds the logic, `http` and `pages` the web side, `hashing` the
//! bounded Argon2 pool.

pub mod hashing;
pub mod http;
pub mod pages;
pub mod service;
