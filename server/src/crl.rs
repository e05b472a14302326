//! CRL publication: each private issuer's CRL fetched from OpenBao/Vault (rebuilt after every revocation and
//! well before its nextUpdate), checked against its CA and the pinned root, stored in PostgreSQL and served at
//! stable URLs; and the offline root's CRL, signed at the ceremony and published with `certdesk crl publish`.

pub mod checked;
pub mod refresh_status;
pub mod refresher;
pub mod root;
pub mod routes;
pub mod served;
pub mod store;

pub use refresh_status::{CrlRefresher, RefreshStatus};
pub use served::ServedCrls;

use crate::audit::AuditError;
use crate::issuers::IssuerError;

/// The stored and published name of the offline root's CRL (`/crl/root.crl`).
pub const ROOT: &str = "root";

#[derive(Debug, thiserror::Error)]
pub enum CrlError {
    #[error(transparent)]
    Issuer(#[from] IssuerError),
    #[error("{0}")]
    Check(#[from] checked::CrlCheckError),
    #[error("the {name} CRL number went backwards: stored {stored}, fetched {fetched}; keeping the stored CRL")]
    NumberNotIncreasing { name: String, stored: String, fetched: String },
    #[error("{0}")]
    Input(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
}
