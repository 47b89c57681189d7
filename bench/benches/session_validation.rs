//! Session validations per second on SQLite, on one core.
//!
//! Every function runs on a tokio `current_thread` runtime (one executor thread) and
//! looks up a different live session each iteration, cycling through 1,000 sessions
//! in shuffled order. Throughput is reported per lookup (`Throughput::Elements(1)`).
//!
//! - `store_lookup`: `Store::lookup_session(&digest, 1800)`, what the gateway calls.
//! - `gateway_path`: cookie shape check + SHA-256 digest + `Store::lookup_session`.
//! - `cookie_check_and_digest`: the shape check and SHA-256 alone, no database.
//! - `raw_any_pool`: the same SELECT through the store's own `AnyPool`, no timeout
//!   logic: the cost of the query through sqlx's `Any` driver alone.
//! - `raw_sqlite_pool/ping_on_acquire`: the same SELECT through a plain
//!   `sqlx::SqlitePool` configured like the store's (`test_before_acquire(true)`).
//! - `raw_sqlite_pool/no_ping`: the same, with `test_before_acquire(false)`.
//! - `raw_sqlite_conn`: the same SELECT on one `sqlx::SqliteConnection`, no pool.
//! - `rusqlite_sync`: the same SELECT with `rusqlite` (cached prepared statement,
//!   synchronous, on the calling thread): the SQLite engine's own cost, the floor
//!   under every sqlx variant.
//!
//! Run: `cargo bench -p centinela-bench --bench session_validation`
#![forbid(unsafe_code)]

use std::cell::Cell;
use std::hint::black_box;

use centinela_bench::{digest_hex, session_fixture, IDLE_TIMEOUT_SECS, LOOKUP_SQL};
use centinela_core::token;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sqlx::{Connection, Row};

const SESSIONS: usize = 1_000;

/// Round-robin over a pre-shuffled list: a "random existing session" per iteration
/// without paying for a random number generator inside the measured loop.
struct Cycle(Cell<usize>, usize);

impl Cycle {
    fn new(len: usize) -> Self {
        Self(Cell::new(0), len)
    }
    fn next(&self) -> usize {
        let i = self.0.get();
        self.0.set((i + 1) % self.1);
        i
    }
}

/// Reads the row the way `lookup_session` does, so the raw variants do the same
/// decoding work.
fn decode<R: Row>(
    row: &R,
) -> (
    String,
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
)
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (
        row.try_get("user_id").expect("user_id"),
        row.try_get("mfa_pending").expect("mfa_pending"),
        row.try_get("created_at").expect("created_at"),
        row.try_get("last_seen_at").expect("last_seen_at"),
        row.try_get("expires_at").expect("expires_at"),
        row.try_get("username").expect("username"),
        row.try_get("roles").expect("roles"),
        row.try_get("customer_id").expect("customer_id"),
        row.try_get("status").expect("status"),
    )
}

fn session_validation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("current_thread runtime");
    let fx = rt.block_on(session_fixture(SESSIONS));

    // Sanity: every session is live, and a forged cookie is refused before the lookup.
    rt.block_on(async {
        for d in &fx.digests {
            let found = fx
                .store
                .lookup_session(d, IDLE_TIMEOUT_SECS)
                .await
                .expect("lookup");
            assert!(found.is_some(), "a fixture session did not resolve");
        }
    });
    let raw_ping = rt.block_on(fx.raw_sqlite_pool(true));
    let raw_no_ping = rt.block_on(fx.raw_sqlite_pool(false));
    let hex: Vec<String> = fx.digests.iter().map(digest_hex).collect();

    let mut g = c.benchmark_group("session_validation");
    g.throughput(Throughput::Elements(1));

    let cycle = Cycle::new(SESSIONS);
    g.bench_function("store_lookup", |b| {
        b.to_async(&rt).iter(|| {
            let d = &fx.digests[cycle.next()];
            let store = &fx.store;
            async move {
                black_box(
                    store
                        .lookup_session(black_box(d), IDLE_TIMEOUT_SECS)
                        .await
                        .expect("lookup"),
                )
            }
        });
    });

    g.bench_function("gateway_path", |b| {
        b.to_async(&rt).iter(|| {
            let cookie = fx.cookies[cycle.next()].expose();
            let store = &fx.store;
            async move {
                let cookie = black_box(cookie);
                if !token::looks_like_session_id(cookie) {
                    return None;
                }
                let d = token::digest(cookie);
                black_box(
                    store
                        .lookup_session(&d, IDLE_TIMEOUT_SECS)
                        .await
                        .expect("lookup"),
                )
            }
        });
    });

    g.bench_function("cookie_check_and_digest", |b| {
        b.iter(|| {
            let cookie = black_box(fx.cookies[cycle.next()].expose());
            token::looks_like_session_id(cookie).then(|| token::digest(cookie))
        });
    });

    g.bench_function("raw_any_pool", |b| {
        b.to_async(&rt).iter(|| {
            let key = hex[cycle.next()].as_str();
            let pool = fx.store.pool();
            async move {
                let row = sqlx::query(LOOKUP_SQL)
                    .bind(black_box(key))
                    .fetch_optional(pool)
                    .await
                    .expect("query");
                black_box(row.as_ref().map(decode))
            }
        });
    });

    for (name, pool) in [
        ("raw_sqlite_pool/ping_on_acquire", &raw_ping),
        ("raw_sqlite_pool/no_ping", &raw_no_ping),
    ] {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                let key = hex[cycle.next()].as_str();
                async move {
                    let row = sqlx::query(LOOKUP_SQL)
                        .bind(black_box(key))
                        .fetch_optional(pool)
                        .await
                        .expect("query");
                    black_box(row.as_ref().map(decode))
                }
            });
        });
    }
    let conn = tokio::sync::Mutex::new(
        rt.block_on(sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            fx.db_path.display()
        )))
        .expect("open a raw SQLite connection"),
    );
    g.bench_function("raw_sqlite_conn", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (conn, hex, cycle) = (&conn, &hex, &cycle);
            async move {
                let mut conn = conn.lock().await;
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    let key = hex[cycle.next()].as_str();
                    let row = sqlx::query(LOOKUP_SQL)
                        .bind(black_box(key))
                        .fetch_optional(&mut *conn)
                        .await
                        .expect("query");
                    black_box(row.as_ref().map(decode));
                }
                start.elapsed()
            }
        });
    });

    let lite = rusqlite::Connection::open(&fx.db_path).expect("open with rusqlite");
    g.bench_function("rusqlite_sync", |b| {
        let mut stmt = lite.prepare_cached(LOOKUP_SQL).expect("prepare");
        b.iter(|| {
            let key = hex[cycle.next()].as_str();
            let row = stmt
                .query_row([black_box(key)], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, String>(8)?,
                    ))
                })
                .expect("query");
            black_box(row)
        });
    });
    g.finish();

    rt.block_on(async {
        conn.into_inner().close().await.expect("close");
        raw_ping.close().await;
        raw_no_ping.close().await;
        fx.store.close().await;
    });
}

criterion_group!(benches, session_validation);
criterion_main!(benches);
