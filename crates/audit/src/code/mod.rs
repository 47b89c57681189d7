//! `audit code`: Python and JavaScript/TypeScript sources parsed with tree-sitter,
//! reporting dangerous sinks only where non-constant data reaches them.

pub mod rules;
