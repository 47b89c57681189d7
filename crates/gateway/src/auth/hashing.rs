//! A bounded pool for Argon2id work.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU. Running it on the async
//! runtime would stall every connection on that worker; running it unbounded on the
//! blocking pool would let a login flood take every core. So hashes run on tokio's
//! blocking threads but at most `workers` at a time, and at most `queue` callers may
//! wait: past that the caller is told the service is busy (a 503), rather than queueing
//! without limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use centinela_core::password::{PasswordHasher, Verification};
use tokio::sync::Semaphore;

/// Why a hashing job did not run.
#[derive(Debug, thiserror::Error)]
pub enum HashPoolError {
    /// Too many logins are already waiting.
    #[error("too many password checks are in progress; retry in a moment")]
    Busy,
    /// The hasher failed (bad parameters) or its thread panicked.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Runs password hashing off the async runtime, a bounded number at a time.
#[derive(Clone, Debug)]
pub struct HashPool {
    hasher: PasswordHasher,
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    queue: usize,
}

impl HashPool {
    /// `workers` concurrent hashes (0 = half the CPUs, at least one, so the proxy keeps
    /// a core under a login flood), and at most `queue` waiting callers.
    pub fn new(hasher: PasswordHasher, workers: usize, queue: usize) -> Self {
        let workers = if workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get().div_ceil(2))
                .unwrap_or(1)
        } else {
            workers
        };
        Self {
            hasher,
            permits: Arc::new(Semaphore::new(workers.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue: queue.max(1),
        }
    }

    /// The hasher (for its parameters).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    async fn run<T, F>(&self, job: F) -> Result<T, HashPoolError>
    where
        T: Send + 'static,
        F: FnOnce(&PasswordHasher) -> T + Send + 'static,
    {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(HashPoolError::Busy);
        }
        let guard = Waiting(&self.waiting);
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| HashPoolError::Failed("the hashing pool is closed".to_owned()))?;
        drop(guard);
        let hasher = self.hasher.clone();
        tokio::task::spawn_blocking(move || {
            let out = job(&hasher);
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashPoolError::Failed(e.to_string()))
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, HashPoolError> {
        let password = zeroize::Zeroizing::new(password);
        self.run(move |h| h.hash(&password))
            .await?
            .map_err(|e| HashPoolError::Failed(e.to_string()))
    }

    /// Verifies a password against a stored PHC string.
    pub async fn verify(
        &self,
        password: String,
        phc: String,
    ) -> Result<Verification, HashPoolError> {
        let password = zeroize::Zeroizing::new(password);
        self.run(move |h| h.verify(&password, &phc)).await
    }

    /// Spends the same work as a verification, for unknown users.
    pub async fn verify_dummy(&self, password: String) -> Result<(), HashPoolError> {
        let password = zeroize::Zeroizing::new(password);
        self.run(move |h| h.verify_dummy(&password)).await
    }
}
