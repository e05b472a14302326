//! Public certificates over ACME (RFC 8555) with instant-acme: the issuer and its sealed account (`account`), the
//! persisted order state machine (`order`) and who drives it when (`driver`), the challenge answers (`challenges`,
//! `dns`, `responder`), and what the CA's errors mean (`problem`). Revocation goes through `revokeCert`
//! (`revoke`).

mod account;
pub mod ari;
mod challenges;
mod dns;
pub mod driver;
mod http_client;
pub mod order;
mod problem;
pub mod responder;
mod revoke;

pub use account::AcmeIssuer;
pub use challenges::choose as challenge_for;
pub use driver::{ResumeOrders, resume_due, start};
pub use order::progress_of;
