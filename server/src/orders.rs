//! Certificates a CA finishes later: ACME orders (RFC 8555) driven to their end. The persisted order state
//! machine (`order`) and who drives it when (`driver`), the challenge answers (`challenges`, `dns`, and the
//! HTTP-01 `responder`). The CA itself, its account and its errors are `issuers::acme`; an order ends through
//! `issuance::record`, like every other request.

mod challenges;
mod dns;
pub mod driver;
pub mod order;
pub mod responder;

pub use driver::{ResumeOrders, resume_due, start};
pub use order::progress_of;
