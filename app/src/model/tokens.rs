//! Wire types of personal API tokens: scopes, the listed token, the creation request and its one-time secret.

use serde::{Deserialize, Serialize};

/// What a personal API token may do. Never more than its owner may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// List and download.
    Read,
    /// Also request, renew and revoke.
    ReadWrite,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Read => "Read only",
            Self::ReadWrite => "Read, request and revoke",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "read" => Some(Self::Read),
            "read_write" => Some(Self::ReadWrite),
            _ => None,
        }
    }
}

/// A personal API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenView {
    pub id: uuid::Uuid,
    pub name: String,
    pub scope: TokenScope,
    /// Created to download private keys (never implied by the scope).
    #[serde(default)]
    pub private_keys: bool,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// A token as an administrator sees it: with its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OwnedApiTokenView {
    pub token: ApiTokenView,
    pub owner_id: uuid::Uuid,
    pub owner_name: String,
    pub owner_email: Option<String>,
}

/// The request to create a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewApiToken {
    pub name: String,
    pub scope: TokenScope,
    pub expires_in_days: u32,
    /// The token may download private keys of its owner's certificates (PEM key, PKCS#12, Kubernetes Secret).
    #[serde(default)]
    pub private_keys: bool,
}

impl NewApiToken {
    pub const MAX_NAME_CHARS: usize = 64;
    pub const MAX_DAYS: u32 = 365;

    /// The rules the form checks as you type and the server enforces.
    pub fn validate(&self) -> Result<(), crate::error::AppError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(crate::error::AppError::invalid(
                "name",
                "Give the token a name, such as the job that uses it.",
            ));
        }
        if name.chars().count() > Self::MAX_NAME_CHARS {
            return Err(crate::error::AppError::invalid("name", "The name is longer than 64 characters."));
        }
        if name.chars().any(char::is_control) {
            return Err(crate::error::AppError::invalid("name", "The name contains control characters."));
        }
        if !(1..=Self::MAX_DAYS).contains(&self.expires_in_days) {
            return Err(crate::error::AppError::invalid("expires_in_days", "A token lives between 1 and 365 days."));
        }
        Ok(())
    }
}

/// A freshly created token: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    pub token: ApiTokenView,
    pub secret: String,
}
