//! Certificate requests: checking what was asked (`request`), holding it against the person's quotas (`quota`),
//! issuing it exactly once (`flow`), recording how it ended (`record`), and resolving requests a crash left half-way (`reconcile`).

pub mod flow;
pub mod quota;
pub mod reconcile;
pub mod record;
pub mod request;
pub mod reused_key;

pub use flow::issue;
pub use request::check;
