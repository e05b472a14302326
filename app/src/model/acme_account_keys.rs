//! Wire types of a person's ACME account keys (External Account Binding credentials for certdesk's ACME server):
//! the listed key, the creation request, and the one answer that carries the HMAC key.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// An ACME account key as listed (never its HMAC key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeAccountKeyView {
    pub id: uuid::Uuid,
    pub name: String,
    /// The EAB key id ACME clients send (`--eab-kid`, cert-manager's `keyID`).
    pub key_id: String,
    pub owner_id: uuid::Uuid,
    pub owner_name: String,
    /// Names (or `*.suffix` patterns) accounts bound to this key may order; empty: whatever the owner may.
    pub allowed_names: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
    /// ACME accounts bound to the key that are still valid.
    pub accounts: u32,
}

/// The request to create an ACME account key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAcmeAccountKey {
    pub name: String,
    pub expires_in_days: u32,
    #[serde(default)]
    pub allowed_names: Vec<String>,
}

impl NewAcmeAccountKey {
    pub const MAX_NAME_CHARS: usize = 64;
    pub const MAX_DAYS: u32 = 365;
    pub const MAX_ALLOWED_NAMES: usize = 50;

    /// The rules the form checks as you type and the server enforces.
    pub fn validate(&self) -> Result<(), AppError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(AppError::invalid("name", "Give the key a name, such as the cluster or host that uses it."));
        }
        if name.chars().count() > Self::MAX_NAME_CHARS {
            return Err(AppError::invalid("name", "The name is longer than 64 characters."));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::invalid("name", "The name contains control characters."));
        }
        if !(1..=Self::MAX_DAYS).contains(&self.expires_in_days) {
            return Err(AppError::invalid("expires_in_days", "An ACME account key lives between 1 and 365 days."));
        }
        if self.allowed_names.len() > Self::MAX_ALLOWED_NAMES {
            return Err(AppError::invalid("allowed_names", "At most 50 names or patterns."));
        }
        if let Some(bad) = self.allowed_names.iter().find(|name| !is_name_or_pattern(name)) {
            return Err(AppError::invalid(
                "allowed_names",
                format!(
                    "`{}` is neither a DNS name nor a `*.suffix` pattern.",
                    bad.chars().take(64).collect::<String>()
                ),
            ));
        }
        Ok(())
    }
}

/// `www.example.com` or `*.example.com`: lower-case letters, digits and hyphens in dot-separated labels.
fn is_name_or_pattern(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        })
}

/// A freshly created key: the only time its HMAC key is shown. `Debug` never prints the HMAC key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedAcmeAccountKey {
    pub key: AcmeAccountKeyView,
    /// base64url without padding, 256 bits: what cert-manager's Secret, `certbot --eab-hmac-key` and
    /// `lego --eab --hmac` take.
    pub hmac_key: String,
}

impl std::fmt::Debug for CreatedAcmeAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedAcmeAccountKey").field("key", &self.key).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(names: &[&str]) -> NewAcmeAccountKey {
        NewAcmeAccountKey {
            name: "cluster".into(),
            expires_in_days: 90,
            allowed_names: names.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    #[test]
    fn names_and_patterns_are_checked() {
        assert_eq!(new(&["www.example.test", "*.svc.cluster.local"]).validate(), Ok(()));
        for bad in ["", "*.", "WWW.example.test", "a..b", "*.*.example.test", "-a.example", "a b"] {
            assert!(new(&[bad]).validate().is_err(), "{bad}");
        }
        let mut too_long = new(&[]);
        too_long.expires_in_days = 366;
        assert!(too_long.validate().is_err());
    }

    #[test]
    fn the_hmac_key_never_prints() {
        let created = CreatedAcmeAccountKey {
            key: AcmeAccountKeyView {
                id: uuid::Uuid::nil(),
                name: "n".into(),
                key_id: "kid".into(),
                owner_id: uuid::Uuid::nil(),
                owner_name: "o".into(),
                allowed_names: vec![],
                created_at: String::new(),
                expires_at: String::new(),
                last_used_at: None,
                revoked: false,
                accounts: 0,
            },
            hmac_key: "very-secret-hmac".into(),
        };
        assert!(!format!("{created:?}").contains("very-secret-hmac"));
    }
}
