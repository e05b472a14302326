//! Certificate requests: checking what was asked (`request`, with its renewal settings in `renewal_settings`),
//! holding it against the person's quotas (`quota`), issuing it exactly once (`pipeline`), recording how it ended
//! (`record`), telling the modules above what happened (through `events`), and resolving requests a crash left
//! half-way (`reconcile`).

pub mod pipeline;
pub mod quota;
pub mod reconcile;
pub mod record;
pub mod renewal_settings;
pub mod request;
pub mod reused_key;

pub use pipeline::issue;
pub use request::check;
