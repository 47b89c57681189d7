//! The rules of `audit code` (`CODE-0xx`). Ids are stable: never renumber, only add.

use crate::finding::Rule;

pub static RULES: &[&Rule] = &[];
