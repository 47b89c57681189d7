//! Centinela's pure logic: the config model and its validation, identity rules
//! (password policy and hashing, TOTP, throttling), and later policy and inspection.
//!
//! Nothing here opens a socket, touches a database or needs an async runtime, so every
//! decision the gateway makes can be tested as a plain function call.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod auditlog;
pub mod config;
pub mod headers;
pub mod inspect;
pub mod password;
pub mod policy;
pub mod ratelimit;
pub mod recovery;
pub mod secret;
pub mod throttle;
pub mod timefmt;
pub mod token;
pub mod totp;
