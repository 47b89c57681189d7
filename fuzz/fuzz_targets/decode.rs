//! Fuzz the decoders: every variant of arbitrary text, with and without `+` as space.
#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = centinela_core::inspect::decode::variants(s, true);
    let _ = centinela_core::inspect::decode::bytes_to_text(s.as_bytes());
});
