//! Fuzz the LDAP filter-injection detector.
#![no_main]
libfuzzer_sys::fuzz_target!(|s: &str| {
    let _ = centinela_core::inspect::ldap::check(s);
});
