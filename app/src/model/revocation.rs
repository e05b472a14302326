//! Wire types of revocation: the RFC 5280 reasons certdesk offers, what a revocation answers, and the plan for
//! revoking everything a person owns.

use serde::{Deserialize, Serialize};

/// RFC 5280 §5.3.1 reasons a person can choose. certificateHold is deliberately absent (a hold is not a
/// revocation, and relying parties handle it badly); cACompromise and privilegeWithdrawn are not a leaf owner's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum RevocationReason {
    #[serde(rename = "keyCompromise")]
    KeyCompromise,
    #[serde(rename = "affiliationChanged")]
    AffiliationChanged,
    #[serde(rename = "superseded")]
    Superseded,
    #[serde(rename = "cessationOfOperation")]
    CessationOfOperation,
    /// No reason given: what ACME clients send unless told otherwise (RFC 8555 §7.6, reason 0). Not offered in
    /// certdesk's own forms, which ask for a reason.
    #[serde(rename = "unspecified")]
    Unspecified,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 4] =
        [Self::Superseded, Self::CessationOfOperation, Self::AffiliationChanged, Self::KeyCompromise];

    /// The RFC 5280 name, as stored and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeyCompromise => "keyCompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::Unspecified => "unspecified",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().chain([Self::Unspecified]).find(|reason| reason.as_str() == name)
    }

    /// The reason of a CRLReason code (RFC 5280 §5.3.1) certdesk takes.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().chain([Self::Unspecified]).find(|reason| reason.code() == code)
    }

    /// The CRLReason code (RFC 5280 §5.3.1).
    pub fn code(self) -> u8 {
        match self {
            Self::KeyCompromise => 1,
            Self::AffiliationChanged => 3,
            Self::Superseded => 4,
            Self::CessationOfOperation => 5,
            Self::Unspecified => 0,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::KeyCompromise => "Key compromise",
            Self::AffiliationChanged => "Affiliation changed",
            Self::Superseded => "Superseded",
            Self::CessationOfOperation => "Cessation of operation",
            Self::Unspecified => "Not given",
        }
    }

    /// When to choose it, for the form.
    pub fn hint(self) -> &'static str {
        match self {
            Self::KeyCompromise => "The private key was (or may have been) exposed.",
            Self::AffiliationChanged => "The owner or organisation named in it changed.",
            Self::Superseded => "It was replaced by a newer certificate.",
            Self::CessationOfOperation => "The service it protects was shut down.",
            Self::Unspecified => "No reason was given.",
        }
    }
}

/// The label of a stored reason name; revocations found on an issuer's CRL may carry none.
pub fn reason_label(stored: Option<&str>) -> String {
    match stored {
        Some("unspecified") | None => "Not given".to_owned(),
        Some(name) => RevocationReason::parse(name).map(|reason| reason.label().to_owned()).unwrap_or(name.to_owned()),
    }
}

/// What `revoke` answers: the certificate is revoked (now, or already before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevocationResult {
    pub id: uuid::Uuid,
    pub common_name: String,
    pub serial: Option<String>,
    /// RFC 5280 name, or `None` when the revocation came from the issuer's CRL without a reason.
    pub reason: Option<String>,
    /// RFC 3339.
    pub revoked_at: String,
    /// It was revoked before this request; nothing changed.
    pub already_revoked: bool,
}

/// How a certificate came to be revoked, for its detail page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevocationView {
    /// RFC 3339.
    pub revoked_at: String,
    pub reason: Option<String>,
    /// Who revoked it; "the issuer's CRL" when certdesk learnt of it there.
    pub revoked_by: String,
}

/// Everything one person holds (off-boarding), for a confirmation with counts: the certificates that can still be
/// revoked, their live API tokens, and whether the account is already disabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OwnerRevocationPlan {
    pub owner_id: uuid::Uuid,
    pub owner_name: String,
    pub owner_email: Option<String>,
    pub certificates: Vec<RevocableCertificate>,
    #[serde(default)]
    pub live_tokens: u32,
    #[serde(default)]
    pub disabled: bool,
}

/// What off-boarding did: the account disabled and its sessions ended, its tokens revoked, and its certificates
/// queued for revocation in a batch (carried out in the background; follow it with `revocation_batch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OffboardingReport {
    pub owner_id: uuid::Uuid,
    pub owner_name: String,
    /// `false` when the account was already disabled by an earlier off-boarding.
    pub newly_disabled: bool,
    pub tokens_revoked: u32,
    /// `None` when they held no certificate that could still be revoked.
    pub revocations: Option<RevocationBatchView>,
}

/// Where one certificate of a revocation batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BatchItemState {
    /// Waiting for (or with) the background worker.
    Queued,
    Revoked,
    AlreadyRevoked,
    /// Nothing changed: it stays valid and can be revoked again (the message says why).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevocationBatchItem {
    pub certificate_id: uuid::Uuid,
    pub common_name: String,
    pub state: BatchItemState,
    pub message: Option<String>,
}

/// A bulk revocation (or an off-boarding's certificates), carried out one certificate at a time in the background:
/// each certificate's state, re-read until `done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevocationBatchView {
    pub id: uuid::Uuid,
    /// RFC 5280 name.
    pub reason: String,
    pub items: Vec<RevocationBatchItem>,
    /// Every item has its outcome.
    pub done: bool,
    /// Ids of the request that name no certificate the requester can see (only in the answer to the request).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<uuid::Uuid>,
}

impl RevocationBatchView {
    pub fn count(&self, state: BatchItemState) -> usize {
        self.items.iter().filter(|item| item.state == state).count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevocableCertificate {
    pub id: uuid::Uuid,
    pub common_name: String,
    pub serial: Option<String>,
    pub issuer_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_by_their_rfc_5280_names() {
        for reason in RevocationReason::ALL {
            assert_eq!(RevocationReason::parse(reason.as_str()), Some(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
        assert_eq!(RevocationReason::parse("certificateHold"), None);
        assert_eq!(RevocationReason::KeyCompromise.code(), 1);
    }

    #[test]
    fn a_missing_reason_reads_as_not_given() {
        assert_eq!(reason_label(None), "Not given");
        assert_eq!(reason_label(Some("keyCompromise")), "Key compromise");
    }
}
