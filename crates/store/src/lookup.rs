//! Ownership lookups on the protected application's own MySQL database: a configured,
//! read-only `SELECT owner FROM … WHERE id = ?` with the key always bound, answers
//! cached for a short, configured time.
//!
//! This is not Centinela's store: the connection is the operator's (ideally a
//! read-only account), opened lazily so the gateway starts even when that database is
//! down, and every failure is reported so the policy can fail closed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::Row;

use crate::error::{Result, StoreError};

/// Answers kept per lookup before the cache is cleared, so a scan over many ids
/// cannot grow memory without bound.
const MAX_CACHED: usize = 10_000;

/// One configured lookup.
#[derive(Clone, Debug)]
pub struct LookupSpec {
    /// Name rules refer to.
    pub name: String,
    /// The connection URL of its database (`mysql://…`).
    pub url: String,
    /// The query; one `?`.
    pub query: String,
    /// Cache lifetime.
    pub ttl: Duration,
}

struct Entry {
    owner: Option<String>,
    at: Instant,
}

struct Lookup {
    pool: MySqlPool,
    /// Operator configuration, validated at load: one SELECT, one placeholder.
    query: String,
    ttl: Duration,
    cache: Mutex<HashMap<String, Entry>>,
}

/// Every configured lookup, by name.
pub struct AppLookups {
    lookups: HashMap<String, Lookup>,
}

impl std::fmt::Debug for AppLookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppLookups")
            .field("lookups", &self.lookups.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl AppLookups {
    /// Prepares the lookups; connections open on first use. Lookups naming the same
    /// URL share one pool.
    pub fn new(specs: &[LookupSpec]) -> Result<Self> {
        let mut pools: HashMap<String, MySqlPool> = HashMap::new();
        let mut lookups = HashMap::new();
        for s in specs {
            let pool = match pools.get(&s.url) {
                Some(p) => p.clone(),
                None => {
                    let url = s.url.replacen("mariadb://", "mysql://", 1);
                    let p = MySqlPoolOptions::new()
                        .max_connections(8)
                        .acquire_timeout(Duration::from_secs(3))
                        .test_before_acquire(true)
                        // Defence in depth behind the load-time check of the query:
                        // the session itself refuses writes, whatever the account's
                        // grants are.
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                sqlx::query("SET SESSION TRANSACTION READ ONLY")
                                    .execute(&mut *conn)
                                    .await
                                    .map(|_| ())
                            })
                        })
                        .connect_lazy(&url)
                        .map_err(|e| {
                            StoreError::InvalidUrl(format!(
                                "lookup \"{}\": {}",
                                s.name,
                                crate::db::redact_url(&e.to_string())
                            ))
                        })?;
                    pools.insert(s.url.clone(), p.clone());
                    p
                }
            };
            lookups.insert(
                s.name.clone(),
                Lookup {
                    pool,
                    query: s.query.clone(),
                    ttl: s.ttl,
                    cache: Mutex::new(HashMap::new()),
                },
            );
        }
        Ok(Self { lookups })
    }

    /// True when no lookup is configured.
    pub fn is_empty(&self) -> bool {
        self.lookups.is_empty()
    }

    /// The owner of record `key` according to lookup `name`; `Ok(None)` when the
    /// record does not exist. Errors mean "unknown" and must deny.
    pub async fn owner(&self, name: &str, key: &str) -> Result<Option<String>> {
        let l = self
            .lookups
            .get(name)
            .ok_or_else(|| StoreError::NotFound(format!("lookup {name}")))?;
        if let Ok(cache) = l.cache.lock() {
            if let Some(e) = cache.get(key) {
                if e.at.elapsed() < l.ttl {
                    return Ok(e.owner.clone());
                }
            }
        }
        // sql-hygiene: configured lookup, validated at load as one SELECT with one placeholder; the key is bound
        let row = sqlx::query(l.query.as_str())
            .bind(key)
            .fetch_optional(&l.pool)
            .await?;
        let owner = match row {
            None => None,
            Some(r) => {
                if let Ok(v) = r.try_get::<Option<String>, _>(0) {
                    v
                } else if let Ok(v) = r.try_get::<Option<i64>, _>(0) {
                    v.map(|n| n.to_string())
                } else if let Ok(v) = r.try_get::<Option<u64>, _>(0) {
                    v.map(|n| n.to_string())
                } else {
                    return Err(StoreError::Invalid(format!(
                        "lookup {name}: the first column is neither text nor an integer"
                    )));
                }
            }
        };
        if let Ok(mut cache) = l.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(
                key.to_owned(),
                Entry {
                    owner: owner.clone(),
                    at: Instant::now(),
                },
            );
        }
        Ok(owner)
    }
}
