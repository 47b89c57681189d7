//! Fuzz the SQL tokenizer and judge.
#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = centinela_core::inspect::sqli::detect(s);
});
