//! Integration tests against the real PostgreSQL of the test stack (`DATABASE_URL`; a fresh database per test
//! via `#[sqlx::test]`) and the real `certdesk` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod acme;
mod acme_server;
mod acme_validation;
mod api_tokens;
mod audit_chain;
mod audit_viewer;
mod binary;
mod body_limit;
mod ceremony;
mod cli;
mod crl;
mod crl_served;
mod dashboard;
mod dns_update;
mod http;
mod http01_served;
mod inventory;
mod issuance;
mod issuance_input;
mod issuer_sealed;
mod jobs;
mod key_access;
mod key_rotation;
mod local_totp;
mod metrics;
mod migrations;
mod notifications;
mod offboarding;
mod oidc_tokens;
mod openapi;
mod quotas;
mod rate_limits;
mod refusals;
mod renewal;
mod revocation;
mod revocation_intents;
mod step_up;
mod support;
mod vault_issuer;
