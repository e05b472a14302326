//! Server functions: the RPC surface the pages call. Each body is "find the backend, call one method".

mod certificates;
mod dashboard;

pub use certificates::*;
pub use dashboard::*;
