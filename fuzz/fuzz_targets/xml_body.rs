//! Fuzz the XML body path: extraction with limits, then every detector.
#![no_main]
use centinela_core::inspect::{inspect, InspectPolicy, Request};
libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    let headers = [("content-type", "application/xml")];
    let req = Request {
        method: "POST",
        path: "/",
        query: None,
        headers: &headers,
        body,
    };
    let _ = inspect(&req, &InspectPolicy::default());
});
