//! Inspection throughput on benign input: a typical 1 KB JSON body and a 2 KB query
//! string through the full `inspect` (extraction, decoding, every detector).
//! Target: >= 100 MB/s per core. Run: `cargo bench -p centinela-bench --bench inspect`.

use centinela_core::inspect::{inspect, InspectPolicy, Request};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn json_body() -> Vec<u8> {
    let mut s = String::from("{\"customer\":{\"id\":48213,\"name\":\"María José O'Brien\",\"email\":\"maria.obrien@example.com\",\"phone\":\"+34 912 345 678\",\"address\":{\"street\":\"Calle de Alcalá 42, 3º B\",\"city\":\"Madrid\",\"zip\":\"28014\",\"country\":\"ES\"}},\"order\":{\"items\":[");
    let mut i = 0;
    while s.len() < 900 {
        s.push_str(&format!(
            "{{\"sku\":\"SKU-{i:05}\",\"qty\":{},\"note\":\"gift wrap, or leave at the door\"}},",
            i % 3 + 1
        ));
        i += 1;
    }
    s.pop();
    s.push_str("],\"comment\":\"Please select the blue one if available\"}}");
    s.into_bytes()
}

fn query_string() -> String {
    let mut q = String::new();
    let mut i = 0;
    while q.len() < 2000 {
        q.push_str(&format!(
            "field{i}=Valor+n%C3%BAmero+{i}+de+la+b%C3%BAsqueda&"
        ));
        i += 1;
    }
    q.push_str("sort=price&order=desc");
    q
}

fn bench(c: &mut Criterion) {
    let policy = InspectPolicy::default();
    let body = json_body();
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
    let q = query_string();
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
