//! Fuzz the line-break detectors: CRLF/header injection (which walks multi-byte
//! characters by their low byte) and mail command injection.
#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = centinela_core::inspect::crlf::check(s);
    let _ = centinela_core::inspect::mail::check(s);
});
