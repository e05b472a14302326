//! Roles from the provider's groups, re-evaluated at every sign-in, and what each role may see.

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

/// Whose certificates a caller sees: admins and auditors everyone's (`None`), everyone else their own.
pub fn owner_scope(caller: &app::ssr::Caller) -> Option<uuid::Uuid> {
    match caller.role {
        Role::Admin | Role::Auditor => None,
        Role::User => Some(caller.user_id),
    }
}
