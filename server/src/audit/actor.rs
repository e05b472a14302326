//! Who an audit event is attributed to (a person, signed in or through one of their API tokens; one of certdesk's
//! jobs; a client nobody could identify) and the one builder every module writes its events with.

use app::ssr::{Caller, Credential, RequestMeta};
use uuid::Uuid;

use super::{Action, AuditEntry};

/// The author of audit events, with the request they came in (empty for jobs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    who: Who,
    request_id: String,
    client_addr: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Who {
    /// A person; `token` when they act through an API token (named in each event's details).
    Person {
        user_id: Uuid,
        token: Option<Uuid>,
    },
    /// Someone the identity provider vouched for, refused before they became a certdesk person.
    ProviderIdentity {
        issuer: String,
        subject: String,
    },
    /// A background job of certdesk itself.
    Job(&'static str),
    Anonymous,
}

impl Actor {
    /// The caller of a request: a person in a browser session or through one of their API tokens.
    pub fn caller(meta: &RequestMeta, caller: &Caller) -> Self {
        let token = match caller.credential {
            Credential::Token { id, .. } => Some(id),
            Credential::Session => None,
        };
        Self::of_request(meta, Who::Person { user_id: caller.user_id, token })
    }

    /// A person known before they are a caller: while signing in and proving their second factor.
    pub fn person(meta: &RequestMeta, user_id: Uuid) -> Self {
        Self::of_request(meta, Who::Person { user_id, token: None })
    }

    /// Someone the identity provider vouched for (issuer and subject), refused before they became a person here.
    pub fn provider_identity(meta: &RequestMeta, issuer: &str, subject: &str) -> Self {
        Self::of_request(meta, Who::ProviderIdentity { issuer: issuer.to_owned(), subject: subject.to_owned() })
    }

    /// One of certdesk's background jobs (`renewal`, `crl`, `revocations`…), stored as `system:<job>`.
    pub fn job(name: &'static str) -> Self {
        Self { who: Who::Job(name), request_id: String::new(), client_addr: String::new() }
    }

    /// A client nobody could identify (refused before or instead of signing in).
    pub fn anonymous(meta: &RequestMeta) -> Self {
        Self::of_request(meta, Who::Anonymous)
    }

    fn of_request(meta: &RequestMeta, who: Who) -> Self {
        Self { who, request_id: meta.request_id.clone(), client_addr: meta.client_addr.clone() }
    }

    /// The request the actor's events belong to (empty for jobs), for logs beside the events.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    pub fn is_anonymous(&self) -> bool {
        self.who == Who::Anonymous
    }

    /// The stored actor: `user:<uuid>`, `oidc:<issuer>#<subject>`, `system:<job>` or `anonymous`.
    pub fn reference(&self) -> String {
        match &self.who {
            Who::Person { user_id, .. } => format!("user:{user_id}"),
            Who::ProviderIdentity { issuer, subject } => format!("oidc:{issuer}#{subject}"),
            Who::Job(name) => format!("system:{name}"),
            Who::Anonymous => "anonymous".to_owned(),
        }
    }

    /// An event of this actor doing `action`, with the outcome the action always has; add `.on(object)` and
    /// `.with(details)`.
    pub fn did(&self, action: Action) -> AuditEntry {
        let token = match self.who {
            Who::Person { token, .. } => token,
            Who::ProviderIdentity { .. } | Who::Job(_) | Who::Anonymous => None,
        };
        AuditEntry {
            actor: self.reference(),
            token,
            action: action.name().to_owned(),
            object: String::new(),
            outcome: action.outcome(),
            request_id: self.request_id.clone(),
            client_addr: self.client_addr.clone(),
            details: serde_json::json!({}),
        }
    }
}
