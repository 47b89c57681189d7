//! Opens a fresh store on each backend for the shared test suite.
//!
//! SQLite: a file in a temporary directory. MySQL/MariaDB: a new database named
//! `centinela_t_<random>` on the server at `CENTINELA_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`), dropped when the test ends. The MySQL half fails
//! loudly when the server is unreachable rather than passing without having run.

use centinela_store::{DbOptions, MasterKey, Store};
use sqlx::Connection;

#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    pub master: MasterKey,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    mysql_db: Option<(String, String)>,
}

pub fn mysql_base_url() -> String {
    std::env::var("CENTINELA_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/centinela.db", dir.path().display());
        let master = MasterKey::generate();
        let store = Store::open(&DbOptions::new(&url), &master)
            .await
            .expect("open sqlite store");
        Self {
            store,
            master,
            url,
            _dir: Some(dir),
            mysql_db: None,
        }
    }

    pub async fn mysql() -> Self {
        let base = mysql_base_url();
        let mut admin = sqlx::MySqlConnection::connect(&base)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "MariaDB/MySQL is not reachable at {base}: {e}. Start it (see .ci/run) or set \
                 CENTINELA_TEST_MYSQL_URL"
                )
            });
        let name = format!("centinela_t_{:016x}", rand::random::<u64>());
        // Identifiers cannot be bound as parameters; the name is generated above.
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = format!("{base}/{name}");
        let master = MasterKey::generate();
        let store = Store::open(&DbOptions::new(&url), &master)
            .await
            .expect("open mysql store");
        Self {
            store,
            master,
            url,
            _dir: None,
            mysql_db: Some((base, name)),
        }
    }

    /// Opens a second handle on the same database (another process, in effect).
    pub async fn reopen(&self, master: &MasterKey) -> Result<Store, centinela_store::StoreError> {
        Store::open(&DbOptions::new(&self.url), master).await
    }

    pub async fn drop_db(self) {
        self.store.close().await;
        if let Some((base, name)) = self.mysql_db {
            if let Ok(mut admin) = sqlx::MySqlConnection::connect(&base).await {
                let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&mut admin)
                    .await;
            }
        }
    }
}

/// Runs one async test body against both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.drop_db().await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::mysql().await;
                    super::$name(&db).await;
                    db.drop_db().await;
                }
            )*
        }
    };
}
