//! Fuzz the server-side include detector.
#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = centinela_core::inspect::ssi::check(s);
});
