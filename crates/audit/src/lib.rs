//! Centinela's posture scanners (`centinela audit ...`).
//!
//! The scanners themselves land with the auditor work; this crate exists now so the
//! workspace has the shape the design sets and the dependency direction is fixed
//! (`audit` depends on `core`, never on `store` or `gateway`).
#![forbid(unsafe_code)]
