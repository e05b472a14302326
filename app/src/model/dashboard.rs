//! Wire types of the dashboard: counts by status and issuer, the 90-day expiry timeline, and what expires soon.

use serde::{Deserialize, Serialize};

use super::{CertStatus, IssuerSummary};

/// Whose certificates the dashboard counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DashboardScope {
    /// Every certificate (admins and auditors).
    All,
    /// The caller's own.
    #[default]
    Mine,
}

/// What the dashboard shows; every number comes from PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DashboardSummary {
    /// Whose certificates these are.
    pub scope: DashboardScope,
    /// The caller may switch to every certificate (admins and auditors).
    pub can_see_all: bool,
    pub certificates_total: i64,
    pub issued: i64,
    pub expiring_within_30_days: i64,
    pub revoked: i64,
    pub failed: i64,
    /// Every status with its count, in `CertStatus::ALL` order (zeros included).
    pub by_status: Vec<StatusCount>,
    /// Per configured issuer (and issuers no longer configured that still hold certificates).
    pub by_issuer: Vec<IssuerCounts>,
    /// Issued certificates expiring in each week of the next 90 days, soonest first.
    pub timeline: Vec<ExpiryWeek>,
    /// Issued certificates expiring within 30 days (or already expired), soonest first, at most a handful.
    pub expiring_soon: Vec<ExpiringCertificate>,
    pub users: i64,
    pub audit_events: i64,
    pub issuers: Vec<IssuerSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusCount {
    pub status: CertStatus,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssuerCounts {
    pub issuer_id: String,
    pub display_name: String,
    pub total: i64,
    pub issued: i64,
    pub expiring_within_30_days: i64,
}

/// One bar of the timeline: issued certificates whose expiry falls in `[from_day, to_day)` days from now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExpiryWeek {
    pub from_day: u32,
    pub to_day: u32,
    /// First and last calendar day of the window (UTC), such as "2 Dec" and "8 Dec".
    pub first: String,
    pub last: String,
    pub count: i64,
}

impl ExpiryWeek {
    /// "2 Dec – 8 Dec".
    pub fn range(&self) -> String {
        format!("{} – {}", self.first, self.last)
    }

    /// The inventory filtered to this window, soonest first.
    pub fn href(&self) -> String {
        format!("/certificates?status=issued&expiring_after={}&expiring={}&sort=expiry", self.from_day, self.to_day)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExpiringCertificate {
    pub id: uuid::Uuid,
    pub common_name: String,
    pub issuer_name: String,
    pub owner_name: String,
    /// Whole days until expiry; negative once expired.
    pub days_left: i64,
    /// RFC 3339.
    pub not_after: String,
}
