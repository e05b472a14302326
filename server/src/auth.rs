//! Sign-in and request authentication: OpenID Connect login with enforced MFA, sessions with idle and absolute
//! timeouts, roles from groups, the gate that every non-public request passes, and CSRF protection.

pub mod bearer;
pub mod csrf;
pub mod gate;
pub mod mfa;
pub mod oidc;
mod page;
pub mod roles;
pub mod routes;
pub mod session;
pub mod step_up;
pub mod tokens;

pub use oidc::OidcClient;
