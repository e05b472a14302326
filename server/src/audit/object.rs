//! What an audit event is about, typed, and rendered as the stored `kind:id` reference in one place.

use uuid::Uuid;

/// The object of an audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// The event concerns nothing in particular (a sign-in, a refused request before any object was known).
    Nothing,
    Certificate(Uuid),
    User(Uuid),
    ApiToken(Uuid),
    /// An account on certdesk's ACME server.
    AcmeAccount(Uuid),
    /// A person's ACME account key (External Account Binding credentials).
    AcmeAccountKey(Uuid),
    /// An order on certdesk's ACME server.
    AcmeOrder(Uuid),
    RevocationBatch(Uuid),
    /// A served CRL, by its name in `/crl/{name}.crl`.
    Crl(String),
    /// The audit log itself (exports).
    AuditLog,
    /// The path of a refused request, cut to 200 characters (it comes from anyone).
    RequestPath(String),
}

impl Object {
    /// The path of `uri`, short enough to store whatever a client sent.
    pub fn request_path(path: &str) -> Self {
        Self::RequestPath(path.chars().take(200).collect())
    }

    /// The stored reference, e.g. `certificate:<uuid>`; empty for `Nothing`.
    pub fn reference(&self) -> String {
        match self {
            Self::Nothing => String::new(),
            Self::Certificate(id) => format!("certificate:{id}"),
            Self::User(id) => format!("user:{id}"),
            Self::ApiToken(id) => format!("api_token:{id}"),
            Self::AcmeAccount(id) => format!("acme_account:{id}"),
            Self::AcmeAccountKey(id) => format!("acme_account_key:{id}"),
            Self::AcmeOrder(id) => format!("acme_order:{id}"),
            Self::RevocationBatch(id) => format!("revocation_batch:{id}"),
            Self::Crl(name) => format!("crl:{name}"),
            Self::AuditLog => "audit_log".to_owned(),
            Self::RequestPath(path) => path.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_keep_the_stored_shape() {
        let id = Uuid::nil();
        assert_eq!(Object::Certificate(id).reference(), format!("certificate:{id}"));
        assert_eq!(Object::User(id).reference(), format!("user:{id}"));
        assert_eq!(Object::ApiToken(id).reference(), format!("api_token:{id}"));
        assert_eq!(Object::Crl("private".into()).reference(), "crl:private");
        assert_eq!(Object::Nothing.reference(), "");
        assert_eq!(Object::request_path(&"x".repeat(300)).reference().len(), 200);
    }
}
