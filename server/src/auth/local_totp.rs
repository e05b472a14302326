//! The certdesk-managed second factor (`auth.local_totp`), for identity providers that cannot assert MFA: after
//! the provider signs a person in without proof of MFA, they enrol a TOTP authenticator (QR code, recovery
//! codes) or type a code, and only then get a session.

pub mod codes;
mod pages;
pub mod routes;
