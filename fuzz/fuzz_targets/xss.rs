//! Fuzz the XSS detector.
#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = centinela_core::inspect::xss::check(s);
});
