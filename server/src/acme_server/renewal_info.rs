//! ACME Renewal Information (RFC 9773): the suggested renewal window of a certificate, named by its ARI
//! identifier (`base64url(AKI keyIdentifier).base64url(serial)`), following certdesk's renewal policy — the
//! certificate's own renewal settings (a third of its lifetime left, unless set otherwise) — and at once for a
//! revoked certificate. Also how newOrder's `replaces` finds the certificate it replaces.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderValue;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::Directory;
use super::orders::rfc3339;
use super::problem::AcmeError;
use crate::bundle::{authority_key_identifier, serial_colon_of};
use crate::db;
use crate::db::acme_server_orders::ReplaceableCertificate;
use crate::issuance::renewal_settings::renewal_point;
use crate::state::AppState;

/// How often a client should ask again (RFC 9773 §4.3): windows change only when the policy or a revocation does.
const RETRY_AFTER_SECS: u32 = 6 * 3600;
/// The longest window: long enough for a fleet to spread its renewals, short enough to renew well before expiry.
const MAX_WINDOW: Duration = Duration::days(2);

pub async fn renewal_info(
    State(state): State<AppState>,
    Path((issuer, id)): Path<(String, String)>,
) -> Result<Response, AcmeError> {
    let directory = Directory::of(&state, &issuer)?;
    let certificate = find(&state, &directory, &id).await?;
    let (Some(not_before), Some(not_after)) = (certificate.not_before, certificate.not_after) else {
        return Err(AcmeError::NotFound(format!("no issued certificate has the renewal identifier {id}")));
    };
    let now = OffsetDateTime::now_utc();
    let (start, end) = window(&certificate, not_before, not_after, now);
    let body = json!({ "suggestedWindow": { "start": rfc3339(start), "end": rfc3339(end) } });
    let mut response = axum::Json(body).into_response();
    response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    Ok(response)
}

/// The suggested window: from the certificate's renewal point for half the time left then (at most two days); a
/// revoked certificate's lies in the past, so clients renew at once (RFC 9773 §4.2).
fn window(
    certificate: &ReplaceableCertificate,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> (OffsetDateTime, OffsetDateTime) {
    if certificate.status == "revoked" {
        return (now - Duration::hours(2), now - Duration::hours(1));
    }
    let percent = certificate.renew_remaining_percent.and_then(|percent| u8::try_from(percent).ok());
    let days = certificate.renew_before_days.and_then(|days| u32::try_from(days).ok());
    let start = renewal_point(not_before, not_after, percent, days);
    let half_of_what_is_left: Duration = (not_after - start) / 2;
    (start, start + half_of_what_is_left.min(MAX_WINDOW))
}

/// The certificate an ARI identifier names on this directory's issuer: serial and authority key identifier both
/// match, so an identifier made up from another CA's certificate finds nothing.
pub async fn find(state: &AppState, directory: &Directory, id: &str) -> Result<ReplaceableCertificate, AcmeError> {
    let unknown = || AcmeError::NotFound(format!("no certificate of this directory has the renewal identifier {id}"));
    let (key_identifier, serial) = id.split_once('.').ok_or_else(|| {
        AcmeError::malformed("a renewal identifier is base64url(authority key identifier) \".\" base64url(serial)")
    })?;
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('='));
    let (Ok(key_identifier), Ok(serial)) = (decode(key_identifier), decode(serial)) else {
        return Err(AcmeError::malformed("the renewal identifier's parts are not base64url"));
    };
    let certificate =
        db::acme_server_orders::replaceable_certificate(&state.pool, &directory.issuer_id, &serial_colon_of(&serial))
            .await?
            .ok_or_else(unknown)?;
    let leaf = certificate.leaf_pem.as_deref().and_then(|pem| pem::parse(pem).ok()).ok_or_else(unknown)?;
    if authority_key_identifier(leaf.contents()).as_deref() != Some(key_identifier.as_slice()) {
        return Err(unknown());
    }
    Ok(certificate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn certificate(status: &str, percent: Option<i16>) -> ReplaceableCertificate {
        ReplaceableCertificate {
            id: uuid::Uuid::nil(),
            owner_id: uuid::Uuid::nil(),
            status: status.into(),
            dns_names: vec![],
            leaf_pem: None,
            not_before: None,
            not_after: None,
            renew_remaining_percent: percent,
            renew_before_days: None,
            replaced: false,
        }
    }

    #[test]
    fn the_window_opens_at_the_renewal_point_and_a_revoked_certificates_lies_in_the_past() {
        let (start, end) = (datetime!(2026-01-01 00:00 UTC), datetime!(2026-01-31 00:00 UTC));
        let now = datetime!(2026-01-05 00:00 UTC);
        let (open, close) = window(&certificate("issued", None), start, end, now);
        assert_eq!(open, start + Duration::days(20), "a third of 30 days left");
        assert_eq!(close, open + Duration::days(2), "at most two days");
        let (open, close) = window(&certificate("issued", Some(10)), start, end, now);
        assert_eq!((open, close), (end - Duration::days(3), end - Duration::hours(36)), "half of what is left");
        let (open, close) = window(&certificate("revoked", None), start, end, now);
        assert!(open < close && close < now);
    }
}
