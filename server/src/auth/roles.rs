//! Roles from the provider's groups (as of the last sign-in, re-evaluated on every request and token use), whether
//! those groups grant access at all, and what each role may see.

use app::model::Role;
use app::ssr::Caller;
use uuid::Uuid;

use crate::config::AuthConfig;

fn member_of(groups: &[String], wanted: &[String]) -> bool {
    groups.iter().any(|group| wanted.contains(group))
}

pub fn role_for(groups: &[String], config: &AuthConfig) -> Role {
    let member_of = |wanted: &[String]| member_of(groups, wanted);
    if member_of(&config.admin_groups) {
        Role::Admin
    } else if member_of(&config.auditor_groups) {
        Role::Auditor
    } else {
        Role::User
    }
}

/// Whether these groups let a person use certdesk: always when `user_groups` is empty, else a member of it or of
/// the admin or auditor groups.
pub fn grants_access(groups: &[String], config: &AuthConfig) -> bool {
    config.user_groups.is_empty()
        || [&config.user_groups, &config.admin_groups, &config.auditor_groups]
            .into_iter()
            .any(|wanted| member_of(groups, wanted))
}

/// Whose certificates a caller sees: admins and auditors everyone's (`None`), everyone else their own.
pub fn owner_scope(caller: &app::ssr::Caller) -> Option<uuid::Uuid> {
    match caller.role {
        Role::Admin | Role::Auditor => None,
        Role::User => Some(caller.user_id),
    }
}

/// On what grounds the caller may act on (revoke, renew) a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    Owner,
    /// An admin revoking someone else's certificate: needs step-up.
    Admin,
}

/// Owners act on their own; admins on anyone's; auditors (who see everything) only on their own.
pub fn authority_over(caller: &Caller, owner_id: Uuid) -> Option<Authority> {
    if caller.user_id == owner_id {
        Some(Authority::Owner)
    } else if caller.role == Role::Admin {
        Some(Authority::Admin)
    } else {
        None
    }
}
