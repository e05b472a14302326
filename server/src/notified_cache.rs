//! A replica's in-memory copy of rows any replica may change: a value is loaded from the database on the first
//! request and served from memory after that, until a PostgreSQL `NOTIFY` on the cache's channel (sent in the
//! transaction that changes the row, see `db::change_notices`) names its key, on every replica. Nothing is kept
//! while this replica's listener is not connected, so a change can never be missed, only read from the database.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::PgPool;

use crate::db;

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Values by key, dropped by `NOTIFY channel, 'key'`. Cheap to clone.
pub struct NotifiedCache<V> {
    inner: Arc<Inner<V>>,
}

impl<V> Clone for NotifiedCache<V> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

struct Inner<V> {
    channel: &'static str,
    /// Past this many entries nothing more is kept (each further key is read from the database).
    capacity: usize,
    entries: RwLock<HashMap<String, Arc<V>>>,
    /// Bumped by every drop: a load that read the database before one must not put back what it read.
    generation: AtomicU64,
    /// Whether the listener is connected and listening; nothing is kept while it is not.
    listening: AtomicBool,
    listener_started: AtomicBool,
}

impl<V: Send + Sync + 'static> NotifiedCache<V> {
    pub fn new(channel: &'static str, capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                channel,
                capacity,
                entries: RwLock::default(),
                generation: AtomicU64::new(0),
                listening: AtomicBool::new(false),
                listener_started: AtomicBool::new(false),
            }),
        }
    }

    /// The value of `key`, from memory or else from `load` (whose `None`, "no such row", is never kept: another
    /// replica may insert it a moment later).
    pub async fn get<E, Load, Loading>(&self, pool: &PgPool, key: &str, load: Load) -> Result<Option<Arc<V>>, E>
    where
        Load: FnOnce() -> Loading,
        Loading: Future<Output = Result<Option<V>, E>>,
    {
        self.start_listening(pool);
        if let Some(kept) = self.kept(key) {
            return Ok(Some(kept));
        }
        let generation = self.inner.generation.load(Ordering::Acquire);
        let listening = self.inner.listening.load(Ordering::Acquire);
        let Some(loaded) = load().await? else { return Ok(None) };
        let loaded = Arc::new(loaded);
        if listening && let Ok(mut entries) = self.inner.entries.write() {
            // Checked under the lock that every drop takes: nothing was dropped since the read began.
            if self.inner.generation.load(Ordering::Acquire) == generation && entries.len() < self.inner.capacity {
                entries.insert(key.to_owned(), loaded.clone());
            }
        }
        Ok(Some(loaded))
    }

    fn kept(&self, key: &str) -> Option<Arc<V>> {
        self.inner.entries.read().ok()?.get(key).cloned()
    }

    /// Drops this replica's copy of `key` after it changed the row itself (no need to wait for the NOTIFY).
    pub fn forget(&self, key: &str) {
        self.drop_kept(Some(key));
    }

    fn drop_kept(&self, key: Option<&str>) {
        if let Ok(mut entries) = self.inner.entries.write() {
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
            match key {
                Some(key) => {
                    entries.remove(key);
                }
                None => entries.clear(),
            }
        }
    }

    /// Starts the listener once, on the first request.
    fn start_listening(&self, pool: &PgPool) {
        if self.inner.listener_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        let pool = pool.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = cache.listen(&pool) => {}
                // The pool closed (a test ending): let go of the listening connection too.
                () = pool.close_event() => {}
            }
            cache.inner.listening.store(false, Ordering::Release);
        });
    }

    async fn listen(&self, pool: &PgPool) {
        let channel = self.inner.channel;
        loop {
            match db::change_notices::listen(pool, channel).await {
                Ok(mut listener) => {
                    // Whatever is kept was loaded before this connection heard anything: drop it.
                    self.drop_kept(None);
                    self.inner.listening.store(true, Ordering::Release);
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notification)) => self.drop_kept(Some(notification.payload())),
                            // The connection was lost: notifications may have been missed. Start over on a new
                            // one, keeping nothing until it listens.
                            Ok(None) => break,
                            Err(error) => {
                                tracing::warn!(error = %error, channel, "change listener lost its connection");
                                break;
                            }
                        }
                    }
                    self.inner.listening.store(false, Ordering::Release);
                    self.drop_kept(None);
                }
                Err(error) => tracing::debug!(error = %error, channel, "change listener cannot connect yet"),
            }
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    }
}
