//! Fuzz the scanner and callback-domain detector.
#![no_main]
use centinela_core::inspect::{scanner, Source};
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = scanner::check(s, Source::Header);
    let _ = scanner::check(s, Source::Query);
});
