//! The audit vocabulary: every action certdesk records, its one past-tense name, the outcome it always has, and how
//! names written by earlier versions read today.

use super::Outcome;

macro_rules! actions {
    ($($variant:ident => $name:literal, $outcome:ident;)*) => {
        /// Something certdesk records. The name is rendered here and nowhere else.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            /// Every action, in the order they are declared (for the viewer's suggestions and tests).
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The dotted name stored in the log: `<object kind>.<what happened>`, past tense.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// The outcome this action always has: a refusal is its own action (`…_denied`), so a name never
            /// means two things.
            pub fn outcome(self) -> Outcome {
                match self {
                    $(Action::$variant => Outcome::$outcome,)*
                }
            }
        }
    };
}

actions! {
    CertificateRequested => "certificate.requested", Success;
    CertificateIssued => "certificate.issued", Success;
    CertificateRenewed => "certificate.renewed", Success;
    CertificateFailed => "certificate.failed", Failure;
    CertificateDenied => "certificate.denied", Denied;
    CertificateRenewalFailed => "certificate.renewal_failed", Failure;
    CertificateRevokeRequested => "certificate.revoke_requested", Success;
    CertificateRevoked => "certificate.revoked", Success;
    CertificateRevokeFailed => "certificate.revoke_failed", Failure;
    CertificateRevokeDenied => "certificate.revoke_denied", Denied;
    CertificateDownloaded => "certificate.downloaded", Success;
    CertificateKeyDownloaded => "certificate.key_downloaded", Success;
    CertificateKeyExportedOnBehalf => "certificate.key_exported_on_behalf", Success;
    CertificateKeyDownloadDenied => "certificate.key_download_denied", Denied;
    AcmeOrderCreated => "acme.order_created", Success;
    AcmeAccountCreated => "acme_account.created", Success;
    AcmeAccountDeactivated => "acme_account.deactivated", Success;
    AcmeAccountKeyChanged => "acme_account.key_changed", Success;
    AcmeAccountDeactivatedInPortal => "acme_account.deactivated_in_portal", Success;
    AcmeAccountKeyCreated => "acme_account_key.created", Success;
    AcmeAccountKeyRevoked => "acme_account_key.revoked", Success;
    AcmeServerOrderCreated => "acme_order.created", Success;
    AcmeServerChallengeValidated => "acme_order.challenge_validated", Success;
    AcmeServerChallengeFailed => "acme_order.challenge_failed", Failure;
    AcmeServerAuthorizationDeactivated => "acme_order.authorization_deactivated", Success;
    RevocationBatchRequested => "revocation.batch_requested", Success;
    CrlUpdated => "crl.updated", Success;
    ApiTokenCreated => "api_token.created", Success;
    ApiTokenRevoked => "api_token.revoked", Success;
    ApiAccessDenied => "api.access_denied", Denied;
    AuthSignedIn => "auth.signed_in", Success;
    AuthSignInDenied => "auth.sign_in_denied", Denied;
    AuthSteppedUp => "auth.stepped_up", Success;
    AuthSignedOut => "auth.signed_out", Success;
    AuthSignOutDenied => "auth.sign_out_denied", Denied;
    MfaEnrolled => "mfa.enrolled", Success;
    MfaVerified => "mfa.verified", Success;
    MfaFailed => "mfa.failed", Denied;
    CrossSiteRequestDenied => "request.cross_site_denied", Denied;
    NotificationSettingsChanged => "notifications.settings_changed", Success;
    UserDisabled => "user.disabled", Success;
    UserSessionsEnded => "user.sessions_ended", Success;
    AuditExported => "audit.exported", Success;
}

/// Names that earlier versions stored, with the outcome that tells two of today's actions apart where one old name
/// covered both (`None`: any outcome). Stored events are never rewritten (their hashes cover the name), so the viewer
/// reads them through this table instead of a migration.
const FORMER_NAMES: &[(&str, Option<Outcome>, Action)] = &[
    ("api_token.create", None, Action::ApiTokenCreated),
    ("api_token.revoke", None, Action::ApiTokenRevoked),
    ("api.auth", None, Action::ApiAccessDenied),
    ("auth.login", Some(Outcome::Success), Action::AuthSignedIn),
    ("auth.login", Some(Outcome::Denied), Action::AuthSignInDenied),
    ("auth.login", Some(Outcome::Failure), Action::AuthSignInDenied),
    ("auth.step_up", None, Action::AuthSteppedUp),
    ("auth.logout", Some(Outcome::Success), Action::AuthSignedOut),
    ("auth.logout", Some(Outcome::Denied), Action::AuthSignOutDenied),
    ("auth.logout", Some(Outcome::Failure), Action::AuthSignOutDenied),
    ("request.csrf", None, Action::CrossSiteRequestDenied),
];

impl Action {
    /// Today's action for a stored name and outcome, whichever version wrote it; `None` for a name certdesk never
    /// wrote (shown as stored).
    pub fn of_stored(name: &str, outcome: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|action| action.name() == name).or_else(|| {
            FORMER_NAMES
                .iter()
                .find(|(former, split, _)| *former == name && split.is_none_or(|split| split.as_str() == outcome))
                .map(|(_, _, action)| *action)
        })
    }

    /// What an exact action filter must match in the store for `typed` (today's name or a former one): today's name,
    /// plus former names, those that covered two actions as `name/outcome`. `None` when `typed` is no action certdesk
    /// knows (matched as typed).
    pub fn stored_forms(typed: &str) -> Option<Vec<String>> {
        let wanted: Vec<Action> = match Action::ALL.iter().find(|action| action.name() == typed) {
            Some(action) => vec![*action],
            None => FORMER_NAMES.iter().filter(|(former, ..)| *former == typed).map(|(.., action)| *action).collect(),
        };
        if wanted.is_empty() {
            return None;
        }
        let mut forms: Vec<String> = wanted.iter().map(|action| action.name().to_owned()).collect();
        for (former, split, action) in FORMER_NAMES {
            if wanted.contains(action) {
                forms.push(match split {
                    Some(outcome) => format!("{former}/{}", outcome.as_str()),
                    None => (*former).to_owned(),
                });
            }
        }
        forms.sort();
        forms.dedup();
        Some(forms)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_dotted_and_past_tense() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|action| action.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len(), "one name per action");
        for name in names {
            let (kind, verb) = name.split_once('.').expect("kind.verb");
            assert!(!kind.is_empty() && !verb.contains('.'), "{name}");
            assert!(verb.split('_').any(|word| word.ends_with("ed")), "{name} is past tense");
        }
    }

    #[test]
    fn refusals_and_failures_say_so_in_their_names() {
        for action in Action::ALL {
            match action.outcome() {
                Outcome::Denied => assert!(
                    action.name().ends_with("_denied")
                        || *action == Action::MfaFailed
                        || *action == Action::CertificateDenied,
                    "{action}"
                ),
                Outcome::Failure => assert!(action.name().ends_with("failed"), "{action}"),
                Outcome::Success => assert!(!action.name().ends_with("denied"), "{action}"),
            }
        }
    }

    #[test]
    fn former_names_read_as_todays_actions() {
        assert_eq!(Action::of_stored("auth.login", "success"), Some(Action::AuthSignedIn));
        assert_eq!(Action::of_stored("auth.login", "denied"), Some(Action::AuthSignInDenied));
        assert_eq!(Action::of_stored("auth.logout", "denied"), Some(Action::AuthSignOutDenied));
        assert_eq!(Action::of_stored("api_token.create", "success"), Some(Action::ApiTokenCreated));
        assert_eq!(Action::of_stored("certificate.issued", "success"), Some(Action::CertificateIssued));
        assert_eq!(Action::of_stored("certificate.issue", "success"), None, "never written: shown as stored");
        for (former, ..) in FORMER_NAMES {
            assert!(Action::ALL.iter().all(|action| action.name() != *former), "{former} is not reused");
        }
    }

    #[test]
    fn a_filter_finds_old_and_new_names_alike() {
        assert_eq!(
            Action::stored_forms("auth.signed_in"),
            Some(vec!["auth.login/success".to_owned(), "auth.signed_in".to_owned()])
        );
        assert_eq!(
            Action::stored_forms("api_token.created"),
            Some(vec!["api_token.create".to_owned(), "api_token.created".to_owned()])
        );
        let login = Action::stored_forms("auth.login").unwrap();
        assert!(login.contains(&"auth.signed_in".to_owned()) && login.contains(&"auth.sign_in_denied".to_owned()));
        assert_eq!(Action::stored_forms("crl.updated"), Some(vec!["crl.updated".to_owned()]));
        assert_eq!(Action::stored_forms("nothing.here"), None);
    }
}
