//! Unit tests for the SQL tokenizer and judge.
use super::*;
