//! Centinela's gateway server.
#![forbid(unsafe_code)]
