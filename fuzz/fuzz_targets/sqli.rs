//! Fuzz the SQL tokenizer and judge, and check that the inert shortcut never hides
//! a match the full judge would report.
#![no_main]
use centinela_core::inspect::sqli;

libfuzzer_sys::fuzz_target!(|s: &str| {
    let full = sqli::detect_ungated(s);
    if sqli::inert(s) {
        assert!(full.is_none(), "inert value matched: {s:?}");
    }
    assert_eq!(sqli::detect(s), full);
});
