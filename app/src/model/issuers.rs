//! Wire types of issuers: what the UI and the API say about a configured CA.

use serde::{Deserialize, Serialize};

/// An issuer as configured (private PKI in OpenBao/Vault, or an ACME CA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssuerSummary {
    pub id: String,
    pub display_name: String,
    pub kind: IssuerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
