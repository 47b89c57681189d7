//! Tests for the inspection pipeline as a whole.
use super::*;
