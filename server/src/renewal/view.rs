//! Renewal as a certificate's page shows it: the settings, the renewal point, the last failure, and the line of
//! certificates it belongs to.

use app::model::{CertStatus, CertificateVersion, RenewalView};
use app::ssr::Caller;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::RenewalSettings;
use crate::auth::roles::authority_over;
use crate::db;
use crate::db::certificates::stored_status;
use crate::error::ServerError;

fn rfc3339(time: time::OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

pub async fn view(
    pool: &sqlx::PgPool,
    caller: &Caller,
    id: Uuid,
    owner_id: Uuid,
    status: CertStatus,
    acme_account: Option<String>,
) -> Result<RenewalView, ServerError> {
    let Some(row) = db::renewal::find(pool, id).await? else { return Ok(RenewalView::default()) };
    let settings = RenewalSettings::of(&row);
    let versions: Vec<CertificateVersion> = db::renewal::versions(pool, id)
        .await?
        .into_iter()
        .map(|version| CertificateVersion {
            this_one: version.id == id,
            id: version.id,
            status: stored_status(&version.status),
            serial: version.serial,
            not_after: version.not_after.map(rfc3339),
            created_at: rfc3339(version.created_at),
        })
        .collect();
    // Only an issued renewal supersedes; one still being ordered does not yet.
    let superseded_by = versions
        .iter()
        .skip_while(|version| !version.this_one)
        .nth(1)
        .filter(|_| status == CertStatus::Superseded)
        .map(|version| version.id);
    let in_flight = versions.iter().any(|version| version.status == CertStatus::Pending && !version.this_one);
    let current_and_auto = settings.auto && status == CertStatus::Issued;
    let ca_window = match (row.ari_window_start, row.ari_window_end) {
        (Some(start), Some(end)) if current_and_auto => Some((rfc3339(start), rfc3339(end))),
        _ => None,
    };
    Ok(RenewalView {
        auto: settings.auto,
        when: settings.describe(),
        reuse_key: settings.reuse_key,
        renew_at: row.renew_at.filter(|_| current_and_auto).map(rfc3339),
        ca_window_explanation: row.ari_explanation_url.filter(|_| ca_window.is_some()),
        ca_window,
        attempts: row.renewal_attempts,
        retry_at: row.renewal_retry_at.filter(|_| status == CertStatus::Issued).map(rfc3339),
        last_error: row.renewal_last_error.filter(|_| status == CertStatus::Issued),
        renewed_from: row.renewed_from,
        superseded_by,
        // A machine's certificate is renewed by its machine, which holds the key and installs what it gets.
        can_renew: status == CertStatus::Issued
            && !in_flight
            && acme_account.is_none()
            && authority_over(caller, owner_id).is_some(),
        by_machine: acme_account,
        versions: if versions.len() > 1 { versions } else { Vec::new() },
    })
}
