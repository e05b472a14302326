//! What every certificate authority behind certdesk does, whatever its protocol: sign a checked CSR, revoke a
//! certificate, and hand over its current CRL. The private PKI (Vault/OpenBao) and ACME implement
//! `CertificateAuthority`; the issuance, revocation and CRL code only see this trait.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use app::model::RevocationReason;

use crate::keys::KeyFamily;

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
    async fn sign(&self, request: &SigningRequest<'_>) -> Result<Signed, IssuerError>;

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
}
