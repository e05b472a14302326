//! Certificate requests: checking what was asked (`request`), then issuing it exactly once (`flow`).

pub mod flow;
pub mod request;

pub use flow::issue;
pub use request::check;
