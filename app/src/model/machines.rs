//! Wire types of the Machines page: the ACME directories a person can point a client at, the ACME accounts bound to
//! people's ACME account keys, and those accounts' recent orders.

use serde::{Deserialize, Serialize};

/// One issuer that enabled certdesk's ACME server, and where its directory is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeDirectoryView {
    pub issuer_id: String,
    pub display_name: String,
    /// `{public_url}/acme/{issuer}/directory`: what cert-manager's `server`, `certbot --server` and `lego --server`
    /// take.
    pub directory_url: String,
    /// Whether accounts need External Account Binding (an ACME account key) on this directory.
    pub eab_required: bool,
}

/// An ACME account on certdesk's ACME server, as the Machines page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeAccountView {
    pub id: uuid::Uuid,
    pub issuer_id: String,
    /// `valid` or `deactivated` (RFC 8555 §7.1.2).
    pub status: String,
    pub contact: Vec<String>,
    pub created_at: String,
    /// The ACME account key the account was bound with; `None` on a directory without External Account Binding.
    pub account_key: Option<AccountKeyRef>,
    /// The person the account belongs to (through its key); `None` like `account_key`.
    pub owner_name: Option<String>,
    /// Certificates ordered through the account that are issued and not expired.
    pub certificates: u32,
    /// Every order the account placed.
    pub orders: u32,
}

impl AcmeAccountView {
    pub fn is_valid(&self) -> bool {
        self.status == "valid"
    }
}

/// The ACME account key an account was bound with, by its name and EAB key id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountKeyRef {
    pub name: String,
    pub key_id: String,
}

/// One recent order of a listed account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeOrderView {
    pub id: uuid::Uuid,
    pub account_id: uuid::Uuid,
    /// The DNS names ordered, as asked.
    pub identifiers: Vec<String>,
    /// `pending`, `ready`, `processing`, `valid` or `invalid` (RFC 8555 §7.1.6).
    pub status: String,
    pub created_at: String,
    /// The certificate issued for the order, once there is one.
    pub certificate_id: Option<uuid::Uuid>,
}

/// The accounts the caller may see (their own; everyone's for admins) with their recent orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeAccountsView {
    /// Everyone's accounts (the caller is an admin): the page shows each account's owner.
    pub everyone: bool,
    /// Newest first.
    pub accounts: Vec<AcmeAccountView>,
    /// The few newest orders of each account, newest first.
    pub orders: Vec<AcmeOrderView>,
}
