//! The CRLs and CA certificates this replica serves, kept in memory (`NotifiedCache`): once loaded, a request (and
//! every 304) reads no database. A CRL stored by any replica is dropped from every replica's memory when its
//! transaction commits and loaded again by the next request.

use std::sync::Arc;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::db;
use crate::notified_cache::NotifiedCache;

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

/// This replica's served CRLs, by stored name. Cheap to clone.
#[derive(Clone)]
pub struct ServedCrls {
    kept: NotifiedCache<ServedCrl>,
}

impl Default for ServedCrls {
    fn default() -> Self {
        // A handful of issuers and the root: the bound only guards against a configuration of thousands.
        Self { kept: NotifiedCache::new(db::crls::CHANGED_CHANNEL, 1_024) }
    }
}

impl ServedCrls {
    /// The CRL stored as `name`, from memory or else from the database.
    pub async fn get(&self, pool: &PgPool, name: &str) -> Result<Option<Arc<ServedCrl>>, sqlx::Error> {
        self.kept.get(pool, name, || async { Ok(db::crls::get(pool, name).await?.map(ServedCrl::from)) }).await
    }

    /// Drops this replica's copy of `name` after it stored a new one itself (no need to wait for the NOTIFY).
    pub fn forget(&self, name: &str) {
        self.kept.forget(name);
    }
}
