//! The CRLs and CA certificates this replica serves, kept in memory: once loaded, a request (and every 304) reads
//! no database. A CRL stored by any replica is dropped from every replica's memory when its transaction commits
//! (PostgreSQL `LISTEN`/`NOTIFY`, see `db::crls::listen`) and loaded again by the next request. Nothing is kept
//! while this replica's listener is not connected, so a change can never be missed, only read from the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::db;

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// One CRL as served, with the CA certificate that signed it; every encoding made once.
#[derive(Debug)]
pub struct ServedCrl {
    pub der: Bytes,
    pub pem: Bytes,
    /// Quoted, as sent in `ETag`.
    pub der_etag: String,
    pub pem_etag: String,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub signer_der: Bytes,
    pub signer_pem: Bytes,
    pub signer_etag: String,
}

impl From<db::crls::StoredCrl> for ServedCrl {
    fn from(stored: db::crls::StoredCrl) -> Self {
        let pem = pem::encode(&pem::Pem::new("X509 CRL", stored.der.clone()));
        let signer_pem = pem::encode(&pem::Pem::new("CERTIFICATE", stored.signer_der.clone()));
        let signer_etag = format!("\"{}\"", hex::encode(Sha256::digest(&stored.signer_der)));
        Self {
            der: Bytes::from(stored.der),
            pem: Bytes::from(pem),
            der_etag: format!("\"{}\"", stored.sha256),
            pem_etag: format!("\"{}-pem\"", stored.sha256),
            this_update: stored.this_update,
            next_update: stored.next_update,
            signer_der: Bytes::from(stored.signer_der),
            signer_pem: Bytes::from(signer_pem),
            signer_etag,
        }
    }
}

/// This replica's served CRLs. Cheap to clone.
#[derive(Clone, Default)]
pub struct ServedCrls {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: RwLock<HashMap<String, Arc<ServedCrl>>>,
    /// Bumped by every drop: a load that read the database before one must not put back what it read.
    generation: AtomicU64,
    /// Whether the listener is connected and listening; nothing is kept while it is not.
    listening: AtomicBool,
    listener_started: AtomicBool,
}

impl ServedCrls {
    /// The CRL stored as `name`, from memory or else from the database.
    pub async fn get(&self, pool: &PgPool, name: &str) -> Result<Option<Arc<ServedCrl>>, sqlx::Error> {
        self.start_listening(pool);
        if let Some(served) = self.cached(name) {
            return Ok(Some(served));
        }
        let generation = self.inner.generation.load(Ordering::Acquire);
        let listening = self.inner.listening.load(Ordering::Acquire);
        let Some(stored) = db::crls::get(pool, name).await? else { return Ok(None) };
        let served = Arc::new(ServedCrl::from(stored));
        if listening && let Ok(mut entries) = self.inner.entries.write() {
            // Checked under the lock that every drop takes: nothing was dropped since the read began.
            if self.inner.generation.load(Ordering::Acquire) == generation {
                entries.insert(name.to_owned(), served.clone());
            }
        }
        Ok(Some(served))
    }

    fn cached(&self, name: &str) -> Option<Arc<ServedCrl>> {
        self.inner.entries.read().ok()?.get(name).cloned()
    }

    /// Drops this replica's copy of `name` after it stored a new one itself (no need to wait for the NOTIFY).
    pub fn forget(&self, name: &str) {
        self.drop_kept(Some(name));
    }

    fn drop_kept(&self, name: Option<&str>) {
        if let Ok(mut entries) = self.inner.entries.write() {
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
            match name {
                Some(name) => {
                    entries.remove(name);
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
        let served = self.clone();
        let pool = pool.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = served.listen(&pool) => {}
                // The pool closed (a test ending): let go of the listening connection too.
                () = pool.close_event() => {}
            }
            served.inner.listening.store(false, Ordering::Release);
        });
    }

    async fn listen(&self, pool: &PgPool) {
        loop {
            match db::crls::listen(pool).await {
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
                                tracing::warn!(error = %error, "CRL change listener lost its connection");
                                break;
                            }
                        }
                    }
                    self.inner.listening.store(false, Ordering::Release);
                    self.drop_kept(None);
                }
                Err(error) => tracing::debug!(error = %error, "CRL change listener cannot connect yet"),
            }
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    }
}
