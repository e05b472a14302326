//! Wire types of the audit log: its filters, rows, the chain's state and one event in full.

use serde::{Deserialize, Serialize};

/// What an audit event records as its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Failure,
    Denied,
}

impl AuditOutcome {
    pub const ALL: [AuditOutcome; 3] = [AuditOutcome::Success, AuditOutcome::Failure, AuditOutcome::Denied];

    /// The stored and wire name, as in the database and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|outcome| outcome.as_str() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::Failure => "Failure",
            Self::Denied => "Denied",
        }
    }
}

/// Filters and position in the audit log, as typed: the server validates every field and names the one that is
/// wrong, so a hand-edited URL gets a clear 400 instead of a silently ignored filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditQuery {
    /// `user:<uuid>`, `system`, `token:<uuid>`…, a user id, or part of a person's name or e-mail.
    #[serde(default)]
    pub actor: String,
    /// An exact action (`auth.login`), or a prefix ending in `.` or `*` (`certificate.`).
    #[serde(default)]
    pub action: String,
    /// An exact object such as `certificate:<uuid>`.
    #[serde(default)]
    pub object: String,
    /// `success`, `failure` or `denied`; empty for any.
    #[serde(default)]
    pub outcome: String,
    /// Inclusive lower bound: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` (UTC) or RFC 3339.
    #[serde(default)]
    pub from: String,
    /// Inclusive upper bound at the precision given (a day, a minute, a second).
    #[serde(default)]
    pub to: String,
    /// Opaque cursor from the previous page.
    #[serde(default)]
    pub before: Option<String>,
}

impl AuditQuery {
    /// Whether any filter is set (the position alone is not a filter).
    pub fn is_filtered(&self) -> bool {
        [&self.actor, &self.action, &self.object, &self.outcome, &self.from, &self.to]
            .iter()
            .any(|value| !value.trim().is_empty())
    }

    /// The filters as URL query pairs (empty ones left out), for links and the export form.
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("object", &self.object),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name, value.clone()))
        .collect()
    }
}

/// One row of the audit log list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEventSummary {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The stored actor (`user:<uuid>`, `system`…).
    pub actor: String,
    /// The person's name when the actor is a known user.
    pub actor_name: Option<String>,
    pub action: String,
    pub object: String,
    pub outcome: String,
}

/// Whether the audit hash chain verified, as the banner shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChainState {
    /// Every event up to this one verified (0 for an empty log).
    pub verified_through: i64,
    /// Where the chain breaks, in words; `None` when it verified.
    pub broken: Option<String>,
    /// RFC 3339 time of the check.
    pub checked_at: String,
}

/// One page of the audit log, with the chain's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditListing {
    pub rows: Vec<AuditEventSummary>,
    pub next: Option<String>,
    pub chain: ChainState,
}

/// Everything stored about one audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEventView {
    pub seq: i64,
    /// RFC 3339, UTC, microseconds.
    pub at: String,
    pub actor: String,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    /// Today's name of the action, whichever version recorded the event.
    pub action: String,
    /// The name as stored, when an earlier version recorded the event under another name (the seal covers that
    /// one).
    #[serde(default)]
    pub recorded_action: Option<String>,
    pub object: String,
    pub outcome: String,
    pub request_id: String,
    pub client_addr: String,
    /// The details JSON, pretty-printed.
    pub details: String,
    /// Hex of the predecessor's seal and of this event's seal.
    pub prev_hash: String,
    pub hash: String,
}
