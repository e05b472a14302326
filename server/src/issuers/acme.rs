//! An ACME CA (RFC 8555) as a certdesk issuer, with instant-acme: the issuer and its sealed account (`account`),
//! the `CertificateAuthority` it is (`authority`: orders held with the intent, `revokeCert`, renewal information),
//! which challenge proves which name (`challenge_choice`), the HTTP client that keeps the CA's `Retry-After`
//! (`http_client`), what the CA's errors mean (`problem`), and how RFC 9773 names a certificate
//! (`renewal_info`). The orders themselves are driven by the `orders` module.

mod account;
mod authority;
pub mod challenge_choice;
pub mod http_client;
pub mod problem;
pub mod renewal_info;

pub use account::AcmeIssuer;
pub use challenge_choice::{Choice, choose as challenge_for};
