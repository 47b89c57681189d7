//! Fuzz the decoders: every variant of arbitrary text, with and without `+` as space,
//! and check the Unicode step's shortcuts against the full normalisation.
#![no_main]
use centinela_core::inspect::decode;

libfuzzer_sys::fuzz_target!(|s: &str| {
    assert_eq!(decode::unicode(s), decode::unicode_full(s).as_str());
    let _ = decode::variants(s, true);
    let _ = decode::bytes_to_text(s.as_bytes());
});
