//! What every certificate authority behind certdesk does, whatever its protocol: issue for a checked CSR (in one
//! of two shapes: signed at once, or an order the CA finishes later), revoke a certificate, hand over its current
//! CRL, and say when its certificates should be renewed. The private PKI (Vault/OpenBao) and ACME implement
//! `CertificateAuthority`; issuance, renewal, revocation and the CRLs only see this trait.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use app::model::RevocationReason;

use crate::keys::KeyFamily;
use crate::names::DnsName;

/// A CSR that already passed certdesk's own checks and policy.
#[derive(Debug, Clone)]
pub struct SigningRequest<'a> {
    pub csr_pem: &'a str,
    /// The subject common name to ask for; `None` leaves it out (the first name is longer than a common name may
    /// be), the names being in the subjectAltName either way.
    pub common_name: Option<&'a str>,
    pub key_family: KeyFamily,
    pub client_auth: bool,
    pub validity: Duration,
}

/// The issued certificate and the chain above it, as the issuer returned them (leaf first, no root required).
#[derive(Debug, Clone)]
pub struct Signed {
    pub leaf_der: Vec<u8>,
    /// Intermediates, nearest first, then the root when the issuer returns it.
    pub chain_der: Vec<Vec<u8>>,
}

/// What a CA does with a request: the two shapes of issuance.
#[derive(Debug, Clone)]
pub enum Issued {
    /// Signed at once (Vault/OpenBao): verified and recorded while the requester waits.
    Signed(Signed),
    /// An order the CA finishes later (ACME): kept with the intent (`hold`) and driven in the background; the
    /// request is answered as pending and its page shows the order's progress.
    Ordered,
}

/// What a CA suggests about renewing one of its certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewalInfo {
    /// Renew inside `[start, end)`; ask again after `retry_after`.
    Window { start: OffsetDateTime, end: OffsetDateTime, explanation_url: Option<String>, retry_after: Duration },
    /// The CA does not say (no renewal information, or the certificate cannot be named to it).
    Unsupported,
    /// Asking failed; ask again later.
    Failed(String),
}

/// A CRL as the issuer publishes it, with the CA certificate whose key signed it (both DER, both unverified).
#[derive(Debug, Clone)]
pub struct PublishedCrl {
    pub crl_der: Vec<u8>,
    pub signer_der: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// The issuer could not be reached or answered with a server error: worth retrying later.
    #[error("{issuer} is unavailable: {detail}")]
    Unavailable { issuer: String, detail: String },
    #[error("{issuer} is sealed")]
    Sealed { issuer: String },
    /// The issuer looked at the request and said no; its message is meant for the requester.
    #[error("{issuer} refused the request: {message}")]
    Refused { issuer: String, message: String },
    /// certdesk's credentials or configuration for this issuer do not work.
    #[error("{issuer} is not set up for issuance: {detail}")]
    NotConfigured { issuer: String, detail: String },
    /// The issuer answered with something that is not a usable certificate.
    #[error("{issuer} returned an unusable answer: {detail}")]
    BadAnswer { issuer: String, detail: String },
}

#[async_trait]
pub trait CertificateAuthority: Send + Sync + std::fmt::Debug {
    /// Why this CA cannot take `name` (ACME: no challenge rule proves it), asked before anything is stored;
    /// `None` when it can.
    fn refusal_of_name(&self, _name: &DnsName) -> Option<String> {
        None
    }

    /// In the new request's intent transaction: what this CA keeps with it (an ACME order row, so the order is
    /// driven even if certdesk stops right after the commit). Nothing for a CA that signs at once.
    async fn hold(
        &self,
        _tx: &mut PgConnection,
        _certificate_id: Uuid,
        _now: OffsetDateTime,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Issues for a request whose intent is committed: the signed certificate, or `Ordered`.
    async fn issue(&self, request: &SigningRequest<'_>) -> Result<Issued, IssuerError>;

    /// After a crash between signing and recording: the certificate this issuer signed for the key with
    /// `public_key_der` (SubjectPublicKeyInfo) no earlier than `since`, if any.
    async fn find_signed(&self, public_key_der: &[u8], since: OffsetDateTime) -> Result<Option<Signed>, IssuerError>;

    /// Revokes the certificate with this serial ("3a:0f:01") and DER (ACME's `revokeCert` takes the certificate
    /// itself); revoking one already revoked succeeds. Answers the revocation time the issuer recorded, when it says.
    async fn revoke(
        &self,
        serial: &str,
        certificate_der: &[u8],
        reason: RevocationReason,
    ) -> Result<Option<OffsetDateTime>, IssuerError>;

    /// The issuer's current CRL, rebuilt first when `rebuild` is set; `None` for CAs that publish their CRLs
    /// themselves (public ACME CAs), which certdesk does not republish.
    async fn crl(&self, rebuild: bool) -> Result<Option<PublishedCrl>, IssuerError>;

    /// Whether this CA may say when to renew (`renewal_info`); those that cannot are never asked.
    fn offers_renewal_info(&self) -> bool {
        false
    }

    /// The CA's suggested renewal window for the certificate `leaf_pem`.
    async fn renewal_info(&self, _leaf_pem: &str) -> RenewalInfo {
        RenewalInfo::Unsupported
    }
}
