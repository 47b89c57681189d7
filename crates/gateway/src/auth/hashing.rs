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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use centinela_core::password::HashParams;

    use super::*;

    fn pool(workers: usize, queue: usize) -> HashPool {
        let cheap = HashParams {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        };
        HashPool::new(
            PasswordHasher::new(cheap).expect("valid params"),
            workers,
            queue,
        )
    }

    /// Runs a job on the pool that holds its worker until `release` is sent to.
    fn held(
        p: &HashPool,
    ) -> (
        mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), HashPoolError>>,
    ) {
        let (tx, rx) = mpsc::channel::<()>();
        let p = p.clone();
        let task = tokio::spawn(async move {
            p.run(move |_| {
                let _ = rx.recv_timeout(Duration::from_secs(10));
            })
            .await
        });
        (tx, task)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn callers_past_the_queue_are_told_busy_at_once() {
        let p = pool(1, 2);
        let (release, running) = held(&p);
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Two may wait for the one worker...
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.hash("a long password".into()).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // ...the next is refused without waiting.
        let refused = tokio::time::timeout(Duration::from_secs(1), p.hash("x".into()))
            .await
            .expect("answered at once");
        assert!(matches!(refused, Err(HashPoolError::Busy)), "{refused:?}");
        release.send(()).expect("release");
        running.await.expect("join").expect("ran");
        for w in waiting {
            let phc = w.await.expect("join").expect("hashed");
            assert!(phc.starts_with("$argon2id$"));
        }
        // With the queue drained, new callers are served again.
        assert!(p.hash("again".into()).await.is_ok());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn hashing_never_blocks_the_async_runtime() {
        let p = pool(1, 4);
        let (release, running) = held(&p);
        // On a single-threaded runtime, a timer still fires while the job holds its
        // (blocking) thread: other connections keep being served.
        let started = std::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        release.send(()).expect("release");
        running.await.expect("join").expect("ran");
    }
}
