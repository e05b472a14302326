//! Wire types shared by the server and the browser: what pages display and server functions return.

use serde::{Deserialize, Serialize};

/// Counts shown on the dashboard; every number comes from PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DashboardSummary {
    pub certificates_total: i64,
    pub issued: i64,
    pub expiring_within_30_days: i64,
    pub revoked: i64,
    pub failed: i64,
    pub users: i64,
    pub audit_events: i64,
    pub issuers: Vec<IssuerSummary>,
}

/// An issuer as configured (private PKI in OpenBao/Vault, or an ACME CA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerSummary {
    pub id: String,
    pub display_name: String,
    pub kind: IssuerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerKind {
    Vault,
    Acme,
}

impl IssuerKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Vault => "Private PKI (OpenBao/Vault)",
            Self::Acme => "Public CA (ACME)",
        }
    }
}

/// Lifecycle of a certificate in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    Pending,
    Issued,
    Failed,
    Revoked,
    Superseded,
}

impl CertStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Issued => "Issued",
            Self::Failed => "Failed",
            Self::Revoked => "Revoked",
            Self::Superseded => "Superseded",
        }
    }
}

/// One row of the certificate list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSummary {
    pub id: uuid::Uuid,
    pub common_name: String,
    pub issuer_id: String,
    pub status: CertStatus,
    pub serial: Option<String>,
    /// RFC 3339, so the wire form stays readable and time-zone explicit.
    pub not_after: Option<String>,
}

/// What a signed-in person may do beyond their own certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Auditor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Auditor => "Auditor",
            Self::Admin => "Administrator",
        }
    }
}

/// The signed-in person as the UI shows them, plus the token their HTML forms must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub display_name: String,
    pub role: Role,
    pub csrf_token: String,
}
