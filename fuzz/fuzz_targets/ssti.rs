//! Fuzz the template-injection detector (nested and unclosed delimiters).
#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = centinela_core::inspect::ssti::check(s);
});
