//! Roles from the provider's groups, re-evaluated at every sign-in.

use app::model::Role;

use crate::config::AuthConfig;

pub fn role_for(groups: &[String], config: &AuthConfig) -> Role {
    let member_of = |wanted: &[String]| groups.iter().any(|group| wanted.contains(group));
    if member_of(&config.admin_groups) {
        Role::Admin
    } else if member_of(&config.auditor_groups) {
        Role::Auditor
    } else {
        Role::User
    }
}
