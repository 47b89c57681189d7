//! Runs `inspect` on the bench's benign requests N times, for instruction counts that
//! do not depend on machine load:
//!
//! ```sh
//! cargo build --release -p centinela-bench --bin inspect_loop
//! valgrind --tool=callgrind target/release/inspect_loop json 301
//! valgrind --tool=callgrind target/release/inspect_loop json 1   # start-up, to subtract
//! ```
//!
//! The difference of the two totals divided by 300 is the cost of one request. The
//! first argument is `json` (1 KB JSON order body), `feedback` (the 1 KB JSON form of
//! `bench/load/feedback.json`, mostly prose, which the load scripts post) or `query`
//! (2 KB query string).

use std::hint::black_box;
use std::process::ExitCode;

use centinela_bench::{inspect_json_body, inspect_query_string};
use centinela_core::inspect::{inspect, InspectPolicy, Request};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("json", String::as_str);
    let Some(n) = args
        .get(2)
        .map_or(Some(10_000), |s| s.parse::<usize>().ok())
    else {
        eprintln!("usage: inspect_loop json|feedback|query [N]");
        return ExitCode::from(2);
    };
    let policy = InspectPolicy::default();
    let body = inspect_json_body();
    let query = inspect_query_string();
    let feedback = include_bytes!("../../load/feedback.json");
    let headers = [
        ("content-type", "application/json"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ),
    ];
    let req = match which {
        "json" => Request {
            method: "POST",
            path: "/api/public/feedback",
            query: None,
            headers: &headers,
            body: &body,
        },
        "feedback" => Request {
            method: "POST",
            path: "/api/public/feedback",
            query: None,
            headers: &headers,
            body: feedback,
        },
        "query" => Request {
            method: "GET",
            path: "/api/public/search",
            query: Some(&query),
            headers: &[],
            body: b"",
        },
        _ => {
            eprintln!("usage: inspect_loop json|feedback|query [N]");
            return ExitCode::from(2);
        }
    };
    let start = std::time::Instant::now();
    for _ in 0..n {
        black_box(inspect(black_box(&req), &policy));
    }
    let secs = start.elapsed().as_secs_f64();
    let len = match which {
        "json" => body.len(),
        "feedback" => feedback.len(),
        _ => query.len(),
    };
    println!(
        "{which}: {n} requests of {len} bytes in {secs:.3} s ({:.1} MB/s)",
        (len * n) as f64 / secs / 1e6
    );
    ExitCode::SUCCESS
}
