//! Inspection throughput on benign input: a typical 1 KB JSON body and a 2 KB query
//! string through the full `inspect` (extraction, decoding, every detector).
//! Target: >= 100 MB/s per core. Run: `cargo bench -p centinela-bench --bench inspect`.

use centinela_bench::{inspect_json_body, inspect_query_string};
use centinela_core::inspect::{inspect, InspectPolicy, Request};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let policy = InspectPolicy::default();
    let body = inspect_json_body();
    let headers = [
        ("content-type", "application/json"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ),
    ];
    let mut g = c.benchmark_group("inspect");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("json_1k", |b| {
        b.iter(|| {
            let req = Request {
                method: "POST",
                path: "/api/public/feedback",
                query: None,
                headers: &headers,
                body: &body,
            };
            black_box(inspect(black_box(&req), &policy))
        })
    });
    let q = inspect_query_string();
    g.throughput(Throughput::Bytes(q.len() as u64));
    g.bench_function("query_2k", |b| {
        b.iter(|| {
            let req = Request {
                method: "GET",
                path: "/api/public/search",
                query: Some(&q),
                headers: &[],
                body: b"",
            };
            black_box(inspect(black_box(&req), &policy))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
