//! The ACME issuer as a `CertificateAuthority`: revocation through `revokeCert` with the RFC 5280 reason, signed
//! with the account that ordered the certificate. Issuance does not come through `sign`: an ACME certificate is
//! an order that finishes later (see `order`), so the issuance flow starts an order instead.

use async_trait::async_trait;
use instant_acme::{RevocationReason as AcmeReason, RevocationRequest};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;

use app::model::RevocationReason;

use super::account::AcmeIssuer;
use super::problem::short_type;
use crate::issuers::{CertificateAuthority, IssuerError, PublishedCrl, Signed, SigningRequest};

#[async_trait]
impl CertificateAuthority for AcmeIssuer {
    async fn sign(&self, _request: &SigningRequest<'_>) -> Result<Signed, IssuerError> {
        Err(IssuerError::NotConfigured {
            issuer: self.id.clone(),
            detail: "ACME certificates are issued through orders, not a direct signature".into(),
        })
    }

    /// Crashed ACME requests are resumed from their stored order, never looked up by key.
    async fn find_signed(&self, _public_key_der: &[u8], _since: OffsetDateTime) -> Result<Option<Signed>, IssuerError> {
        Ok(None)
    }

    async fn revoke(
        &self,
        _serial: &str,
        certificate_der: &[u8],
        reason: RevocationReason,
    ) -> Result<Option<OffsetDateTime>, IssuerError> {
        if certificate_der.is_empty() {
            return Err(IssuerError::Refused {
                issuer: self.id.clone(),
                message: "certdesk holds no copy of this certificate to send with revokeCert".into(),
            });
        }
        let account = self.account().await?;
        let certificate = CertificateDer::from(certificate_der.to_vec());
        let request = RevocationRequest { certificate: &certificate, reason: Some(acme_reason(reason)) };
        match account.revoke(&request).await {
            Ok(()) => Ok(None),
            // Revoking twice succeeds, as for every other issuer.
            Err(instant_acme::Error::Api(problem)) if short_type(&problem) == "alreadyRevoked" => Ok(None),
            Err(error) => Err(self.issuer_error(&error)),
        }
    }

    /// Public CAs publish their own CRLs (and OCSP); certdesk does not republish them.
    async fn crl(&self, _rebuild: bool) -> Result<Option<PublishedCrl>, IssuerError> {
        Ok(None)
    }
}

fn acme_reason(reason: RevocationReason) -> AcmeReason {
    match reason {
        RevocationReason::KeyCompromise => AcmeReason::KeyCompromise,
        RevocationReason::AffiliationChanged => AcmeReason::AffiliationChanged,
        RevocationReason::Superseded => AcmeReason::Superseded,
        RevocationReason::CessationOfOperation => AcmeReason::CessationOfOperation,
    }
}
