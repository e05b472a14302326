//! The PKI ceremony: an offline root CA made by certdesk itself, the intermediate it signs for a Vault/OpenBao
//! PKI mount, the root's CRL, and the bootstrap that wires the mount, its roles and certdesk's AppRole.
//!
//! Everything here is usable without certdesk's configuration file: the ceremony happens before there is one.

pub mod bootstrap;
pub mod command;
mod der;
mod files;
pub mod intermediate;
mod names;
mod policy;
pub mod roles;
pub mod root;
pub mod root_crl;
mod root_signer;
mod serial;
mod vault;

pub use bootstrap::{BootstrapError, BootstrapOptions, bootstrap};
pub use intermediate::{IntermediateError, IntermediateOptions, SignedIntermediate, sign_intermediate};
pub use roles::{KeyFamily, role_name};
pub use root::{RootCa, RootError, RootOptions, init_root};
pub use root_crl::{OfflineRootCrlError, RevokedEntry, RootCrlOptions, parse_revocation, root_crl};
pub use root_signer::{RootSigner, RootSignerError};

/// Path, under the portal's public URL, where certdesk serves the root CA's CRL (DER).
pub const ROOT_CRL_PATH: &str = "/crl/root.crl";
/// Path, under the portal's public URL, where certdesk serves the root CA certificate (DER).
pub const ROOT_CERT_PATH: &str = "/ca/root.der";

/// URL of a mount's issuing CA certificate (DER), written into leaves as AIA caIssuers.
pub fn mount_cert_path(mount: &str) -> String {
    format!("/ca/{mount}.der")
}

/// URL path of a mount's CRL (DER), written into leaves as the CRL distribution point.
pub fn mount_crl_path(mount: &str) -> String {
    format!("/crl/{mount}.crl")
}

/// `base` + `path` without a doubled slash (public URLs are often configured with a trailing one).
pub fn public_link(base: &reqwest::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}
