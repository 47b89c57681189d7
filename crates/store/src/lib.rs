//! Centinela's persistence layer.
#![forbid(unsafe_code)]
