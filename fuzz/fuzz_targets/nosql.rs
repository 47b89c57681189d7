//! Fuzz the NoSQL detector, as a value and as a JSON key / query name.
#![no_main]
use centinela_core::inspect::{nosql, Source};
libfuzzer_sys::fuzz_target!(|s: &str| {
    for src in [Source::Query, Source::JsonKey, Source::QueryName] {
        let _ = nosql::check(s, src);
    }
});
