//! The ACME issuer as a `CertificateAuthority`: a request is an order, held with its intent and finished later by
//! the `orders` module; names no challenge rule can prove are refused up front; revocation goes through `revokeCert`
//! with the RFC 5280 reason, signed with the account that ordered the certificate; renewal windows come from the
//! CA's renewal information (RFC 9773).

use async_trait::async_trait;
use instant_acme::{RevocationReason as AcmeReason, RevocationRequest};
use rustls_pki_types::CertificateDer;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use app::model::RevocationReason;

use super::account::AcmeIssuer;
use super::problem::short_type;
use super::renewal_info::identifier_of;
use crate::db;
use crate::issuers::{CertificateAuthority, Issued, IssuerError, PublishedCrl, RenewalInfo, Signed, SigningRequest};
use crate::names::DnsName;

#[async_trait]
impl CertificateAuthority for AcmeIssuer {
    fn refusal_of_name(&self, name: &DnsName) -> Option<String> {
        super::challenge_for(&self.config, name.as_str()).err()
    }

    /// The order row, committed with the intent: the order is driven (placed at the CA, its challenges answered)
    /// by whichever replica gets to it first, even if this one stops right after the commit.
    async fn hold(&self, tx: &mut PgConnection, certificate_id: Uuid, now: OffsetDateTime) -> Result<(), sqlx::Error> {
        db::acme::insert_order(tx, certificate_id, &self.id, now, now + self.config.order_timeout).await
    }

    /// The order is already held (`hold`); the CA finishes it later.
    async fn issue(&self, _request: &SigningRequest<'_>) -> Result<Issued, IssuerError> {
        Ok(Issued::Ordered)
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

    fn offers_renewal_info(&self) -> bool {
        true
    }

    async fn renewal_info(&self, leaf_pem: &str) -> RenewalInfo {
        // No authority key identifier: the CA cannot be asked about it.
        let Some(identifier) = identifier_of(leaf_pem) else { return RenewalInfo::Unsupported };
        let account = match self.account().await {
            Ok(account) => account,
            Err(error) => return RenewalInfo::Failed(error.to_string()),
        };
        match account.renewal_info(&identifier).await {
            Ok((info, retry_after)) => RenewalInfo::Window {
                start: info.suggested_window.start,
                end: info.suggested_window.end,
                explanation_url: info.explanation_url,
                retry_after,
            },
            Err(instant_acme::Error::Unsupported(_)) => RenewalInfo::Unsupported,
            Err(error) => RenewalInfo::Failed(self.issuer_error(&error).to_string()),
        }
    }
}

fn acme_reason(reason: RevocationReason) -> AcmeReason {
    match reason {
        RevocationReason::KeyCompromise => AcmeReason::KeyCompromise,
        RevocationReason::AffiliationChanged => AcmeReason::AffiliationChanged,
        RevocationReason::Superseded => AcmeReason::Superseded,
        RevocationReason::CessationOfOperation => AcmeReason::CessationOfOperation,
        RevocationReason::Unspecified => AcmeReason::Unspecified,
    }
}
