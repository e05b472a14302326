//! certdesk's server: configuration, the HTTP surface around the Leptos app, PostgreSQL, the audit log,
//! issuers, keys and certificate formats, the PKI ceremony, and the command line.

pub mod audit;
pub mod audit_viewer;
pub mod auth;
pub mod backend;
pub mod bundle;
pub mod ceremony;
pub mod cli;
pub mod config;
pub mod crl;
pub mod dashboard;
pub mod db;
pub mod dns_update;
pub mod downloads;
pub mod error;
pub mod events;
pub mod http;
pub mod inventory;
pub mod issuance;
pub mod issuers;
pub mod jobs;
pub mod keys;
pub mod listeners;
pub mod metrics;
pub mod names;
pub mod notifications;
pub mod orders;
pub mod policy;
pub mod renewal;
pub mod rest;
pub mod revocation;
pub mod schedule;
pub mod sealing;
pub mod serve;
pub mod state;
pub mod telemetry;
