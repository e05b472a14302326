//! Shared fixtures for the policy tests: a realistic set of rules parsed from TOML the way the configuration
//! holds them.

mod evaluate;
mod summary;
mod validate;

use serde::Deserialize;

use super::{PolicyRule, RawPolicyRule, validate_rules};
use crate::config::ConfigError;

/// `platform` is the everyday rule; `platform-wildcards` grants what it refuses (wildcards) to fewer people for
/// less time; `devices` allows IP SANs from its ranges and client auth; `lab` is open to everyone signed in.
const RULES: &str = r#"
[[policy]]
name = "platform"
groups = ["platform-team"]
domains = ["cluster.local", "priv.example.test"]
max_validity_days = 90
key_types = ["ec-p256", "ec-p384"]

[[policy]]
name = "platform-wildcards"
groups = ["platform-leads"]
domains = ["cluster.local"]
allow_wildcards = true
max_validity_days = 30

[[policy]]
name = "devices"
groups = ["iot", "platform-leads"]
domains = ["devices.example.test"]
ip_ranges = ["10.20.0.0/16", "fd00:20::/32"]
allow_client_auth = true
max_validity_days = 365

[[policy]]
name = "lab"
groups = ["*"]
domains = ["lab.example.test"]
max_validity_days = 7
"#;

#[derive(Deserialize)]
struct Document {
    policy: Vec<RawPolicyRule>,
}

fn parse(toml: &str) -> Result<Vec<PolicyRule>, ConfigError> {
    let document: Document = toml::from_str(toml).map_err(|error| ConfigError::Parse(error.to_string()))?;
    validate_rules(document.policy, "issuers[0].policy")
}

fn rules() -> Vec<PolicyRule> {
    parse(RULES).unwrap()
}

fn groups(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}
