//! The `centinela` command.
#![forbid(unsafe_code)]

fn main() {}
