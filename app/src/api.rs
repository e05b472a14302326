//! Server functions: the RPC surface the pages call. Each body is "find the backend, call one method".
//! All take JSON input: the server refuses other content types on `/rpc/*` as a CSRF defence.

mod acme_account_keys;
mod audit;
mod certificates;
pub mod codec;
mod dashboard;
mod machines;
mod notifications;
mod renewal;
mod revocation;
mod session;
mod tokens;

pub use acme_account_keys::*;
pub use audit::*;
pub use certificates::*;
pub use dashboard::*;
pub use machines::*;
pub use notifications::*;
pub use renewal::*;
pub use revocation::*;
pub use session::*;
pub use tokens::*;
