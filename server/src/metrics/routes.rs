//! `GET /metrics`: answered only when `[metrics]` is configured; with `bearer_token`, only to a scraper that
//! presents it (compared in constant time). The per-certificate expiry series carries names, serials and owners'
//! e-mail addresses, so it is served only behind the token (or with `expose_owners_without_token`); without
//! them a scrape has counts and aggregates only.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::exposition::Family;
use crate::db;
use crate::http::plain_text as text;
use crate::state::AppState;

const CONTENT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(config) = &state.config.metrics else {
        return text(StatusCode::NOT_FOUND, "metrics are not enabled (add [metrics] to the configuration)");
    };
    if let Some(expected) = &config.bearer_token {
        let presented = crate::auth::bearer::presented_token(&headers).unwrap_or_default();
        if !bool::from(presented.as_bytes().ct_eq(expected.expose_secret().as_bytes())) {
            let mut response =
                text(StatusCode::UNAUTHORIZED, "send the metrics token as `Authorization: Bearer <token>`");
            response.headers_mut().insert(WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer realm=\"metrics\""));
            return response;
        }
    }
    let mut body = match database_part(&state, config.per_certificate_series()).await {
        Ok(body) => body,
        Err(error) => {
            tracing::warn!(error = %error, "metrics: the database part is unavailable");
            return text(StatusCode::SERVICE_UNAVAILABLE, "the database is unavailable; retry shortly");
        }
    };
    if let Some(recorder) = super::recorder() {
        body.push_str(&recorder.render());
    }
    (StatusCode::OK, [(CONTENT_TYPE, CONTENT), (CACHE_CONTROL, "no-store")], body).into_response()
}

/// The gauges that come from PostgreSQL, so every replica reports the same inventory.
async fn database_part(state: &AppState, per_certificate: bool) -> Result<String, sqlx::Error> {
    let now = OffsetDateTime::now_utc();
    let mut out = String::new();
    let counts = db::metrics::counts_by_status(&state.pool).await?;
    let mut family =
        Family::gauge(&mut out, "certdesk_certificates", "Certificates in the inventory by issuer and status.");
    for count in &counts {
        family.sample(&[("issuer", &count.issuer_id), ("status", &count.status)], count.count as f64);
    }
    let expiring = db::metrics::issued_expiries(&state.pool).await?;
    let mut soonest = std::collections::BTreeMap::<&str, OffsetDateTime>::new();
    for certificate in &expiring {
        let at = soonest.entry(certificate.issuer_id.as_str()).or_insert(certificate.not_after);
        *at = (*at).min(certificate.not_after);
    }
    let mut family = Family::gauge(
        &mut out,
        "certdesk_certificate_soonest_expiry_seconds",
        "Seconds until the first issued certificate of an issuer expires (negative once expired).",
    );
    for (issuer, not_after) in &soonest {
        family.sample(&[("issuer", *issuer)], (*not_after - now).as_seconds_f64().round());
    }
    if per_certificate {
        per_certificate_expiries(&mut out, &expiring, now);
    }
    let crls = db::crls::list(&state.pool).await?;
    let mut family = Family::gauge(&mut out, "certdesk_crl_age_seconds", "Seconds since the served CRL's thisUpdate.");
    for crl in &crls {
        family.sample(&[("crl", &crl.name)], (now - crl.this_update).as_seconds_f64().round());
    }
    let mut family = Family::gauge(
        &mut out,
        "certdesk_crl_next_update_timestamp_seconds",
        "The served CRL's nextUpdate (Unix time).",
    );
    for crl in &crls {
        if let Some(next) = crl.next_update {
            family.sample(&[("crl", &crl.name)], next.unix_timestamp() as f64);
        }
    }
    let mut family = Family::gauge(&mut out, "certdesk_crl_entries", "Revoked certificates listed on the served CRL.");
    for crl in &crls {
        family.sample(&[("crl", &crl.name)], f64::from(crl.entry_count));
    }
    let status = state.crls.status();
    let mut family = Family::gauge(
        &mut out,
        "certdesk_crl_refresh_consecutive_failures",
        "Failed CRL refreshes in a row (0 when the last one succeeded).",
    );
    for (name, refresh) in &status {
        family.sample(&[("crl", name)], f64::from(refresh.consecutive_failures));
    }
    Ok(out)
}

/// One series per issued certificate, labelled with its names, serial and owner (behind the token only).
fn per_certificate_expiries(out: &mut String, expiring: &[db::metrics::Expiring], now: OffsetDateTime) {
    let mut family = Family::gauge(
        out,
        "certdesk_certificate_expiry_seconds",
        "Seconds until an issued certificate expires (negative once expired).",
    );
    for certificate in expiring {
        let id = certificate.id.to_string();
        family.sample(
            &[
                ("id", &id),
                ("subject_CN", &certificate.common_name),
                ("issuer", &certificate.issuer_id),
                ("serial_number", certificate.serial.as_deref().unwrap_or_default()),
                ("owner", &certificate.owner),
            ],
            (certificate.not_after - now).as_seconds_f64().round(),
        );
    }
}
