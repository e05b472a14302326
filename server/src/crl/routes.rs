//! Public CRL and CA endpoints, reachable without signing in (relying parties fetch them):
//! - `GET /crl` an index of every CRL with its number, thisUpdate, nextUpdate and entry count;
//! - `GET /crl/{name}.crl` (DER, `application/pkix-crl`) and `/crl/{name}.pem`, where `name` is an issuer id,
//!   `root`, or a Vault mount (the CRL distribution point `vault bootstrap` writes into leaves);
//! - `GET /ca/{name}.der` and `/ca/{name}.pem`: the CA certificate that signs that CRL (the AIA caIssuers URL).
//!
//! Responses carry an ETag and Last-Modified, answer 304 to conditional requests, and may be cached at most until
//! the CRL's nextUpdate (and never longer than a few minutes, so a revocation reaches caches quickly). The bytes
//! come from this replica's memory (`served`), so neither a download nor a 304 reads the database.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use http::{HeaderMap, HeaderValue, StatusCode};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::auth::page::{document, escape};
use crate::config::IssuerKindConfig;
use crate::db;
use crate::http::plain_text as text;
use crate::state::AppState;

/// Upper bound of `max-age`: a cache may keep a CRL this long even when its nextUpdate is days away.
const MAX_AGE_SECS: i64 = 300;

pub fn routes() -> Router<AppState> {
    Router::new().route("/crl", get(index)).route("/crl/{file}", get(crl_file)).route("/ca/{file}", get(ca_file))
}

/// The stored name for a published name: an issuer id, `root`, or an issuer's Vault mount.
pub fn stored_name(state: &AppState, name: &str) -> Option<String> {
    if name == super::ROOT {
        return Some(super::ROOT.to_owned());
    }
    state
        .issuers
        .iter()
        .find(|issuer| {
            issuer.config.id == name
                || matches!(&issuer.config.kind, IssuerKindConfig::Vault { mount, .. } if mount == name)
        })
        .filter(|issuer| matches!(issuer.config.kind, IssuerKindConfig::Vault { .. }))
        .map(|issuer| issuer.config.id.clone())
}

fn split(file: &str) -> Option<(&str, &str)> {
    file.rsplit_once('.').filter(|(name, _)| !name.is_empty())
}

async fn crl_file(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((name, extension @ ("crl" | "pem"))) = split(&file) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("no CRL at /crl/{file}: CRLs are /crl/NAME.crl or .pem (see /crl)"),
        );
    };
    let Some(stored) = stored_name(&state, name) else {
        return text(StatusCode::NOT_FOUND, format!("no CRL is published for `{name}` (see /crl)"));
    };
    let crl = match state.served_crls.get(&state.pool, &stored).await {
        Ok(Some(crl)) => crl,
        Ok(None) => {
            return text(StatusCode::NOT_FOUND, format!("the CRL of `{name}` has not been fetched or published yet"));
        }
        Err(error) => {
            tracing::warn!(error = %error, "cannot read a CRL from the database");
            return text(StatusCode::SERVICE_UNAVAILABLE, "the CRL store is unavailable; retry shortly");
        }
    };
    let (body, content_type, etag) = if extension == "crl" {
        (crl.der.clone(), "application/pkix-crl", &crl.der_etag)
    } else {
        (crl.pem.clone(), "application/x-pem-file", &crl.pem_etag)
    };
    cacheable(&headers, body, content_type, etag, crl.this_update, crl.next_update, OffsetDateTime::now_utc())
}

async fn ca_file(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((name, extension @ ("der" | "crt" | "pem"))) = split(&file) else {
        return text(StatusCode::NOT_FOUND, format!("no CA certificate at /ca/{file}: use /ca/NAME.der or .pem"));
    };
    let Some(stored) = stored_name(&state, name) else {
        return text(StatusCode::NOT_FOUND, format!("no CA certificate is published for `{name}`"));
    };
    // The CA that signs a CRL is the one certdesk verified when it stored that CRL.
    let crl = match state.served_crls.get(&state.pool, &stored).await {
        Ok(Some(crl)) => crl,
        Ok(None) => return text(StatusCode::NOT_FOUND, format!("the CA certificate of `{name}` is not known yet")),
        Err(_) => return text(StatusCode::SERVICE_UNAVAILABLE, "the CA store is unavailable; retry shortly"),
    };
    let (body, content_type) = if extension == "pem" {
        (crl.signer_pem.clone(), "application/x-pem-file")
    } else {
        (crl.signer_der.clone(), "application/pkix-cert")
    };
    let etag = crl.signer_etag.clone();
    let cache_control = format!("public, max-age={MAX_AGE_SECS}");
    if etag_matches(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(ETAG, etag), (CACHE_CONTROL, cache_control)]).into_response();
    }
    (StatusCode::OK, [(CONTENT_TYPE, content_type.to_owned()), (ETAG, etag), (CACHE_CONTROL, cache_control)], body)
        .into_response()
}

/// A CRL response with validators and caching bounded by nextUpdate; 304 when the client's copy is current.
pub fn cacheable(
    headers: &HeaderMap,
    body: Bytes,
    content_type: &str,
    etag: &str,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Response {
    let last_modified = http_date(this_update);
    let cache_control = match next_update.map(|next| (next - now).whole_seconds()) {
        Some(left) if left <= 0 => "no-cache".to_owned(),
        Some(left) => format!("public, max-age={}", left.min(MAX_AGE_SECS)),
        None => format!("public, max-age={MAX_AGE_SECS}"),
    };
    let mut response_headers = HeaderMap::new();
    for (name, value) in [(ETAG, etag.to_owned()), (LAST_MODIFIED, last_modified), (CACHE_CONTROL, cache_control)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response_headers.insert(name, value);
        }
    }
    // RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only counts without it.
    let not_modified = if headers.contains_key(IF_NONE_MATCH) {
        etag_matches(headers, etag)
    } else {
        headers
            .get(IF_MODIFIED_SINCE)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_http_date)
            .is_some_and(|since| this_update.unix_timestamp() <= since.unix_timestamp())
    };
    if not_modified {
        return (StatusCode::NOT_MODIFIED, response_headers).into_response();
    }
    response_headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    (StatusCode::OK, response_headers, body).into_response()
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(IF_NONE_MATCH).iter().filter_map(|value| value.to_str().ok()).any(|list| {
        list.split(',').map(str::trim).any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
    })
}

/// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(time: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time.to_offset(time::UtcOffset::UTC).format(FORMAT).unwrap_or_default()
}

fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    // RFC 2822 accepts the IMF-fixdate form once "GMT" is spelled as an offset.
    let normalised = value.trim().strip_suffix("GMT").map(|rest| format!("{rest}+0000"))?;
    OffsetDateTime::parse(&normalised, &Rfc2822).ok()
}

async fn index(State(state): State<AppState>) -> Response {
    let crls = match db::crls::list(&state.pool).await {
        Ok(crls) => crls,
        Err(_) => return text(StatusCode::SERVICE_UNAVAILABLE, "the CRL store is unavailable; retry shortly"),
    };
    let base = state.config.server.public_url.as_str().trim_end_matches('/').to_owned();
    let day = |time: OffsetDateTime| http_date(time);
    let rows: String = crls
        .iter()
        .map(|crl| {
            let name = escape(&crl.name);
            format!(
                r#"<tr><th scope="row">{name}</th><td><a href="/crl/{name}.crl">{base}/crl/{name}.crl</a> · <a href="/crl/{name}.pem">PEM</a></td><td>{number}</td><td>{this}</td><td>{next}</td><td>{entries}</td></tr>"#,
                base = escape(&base),
                number = escape(&crl.crl_number),
                this = day(crl.this_update),
                next = crl.next_update.map(day).unwrap_or_else(|| "—".into()),
                entries = crl.entry_count,
            )
        })
        .collect();
    let body = if crls.is_empty() {
        r#"<h1>Certificate revocation lists</h1><p>No CRL has been published yet.</p>"#.to_owned()
    } else {
        format!(
            r#"<h1>Certificate revocation lists</h1>
<p>Every CRL certdesk publishes, checked against its issuing CA before it is served.</p>
<div class="table-wrap"><table><caption class="sr-only">Published CRLs</caption><thead><tr><th scope="col">CRL</th><th scope="col">URL</th><th scope="col">Number</th><th scope="col">This update</th><th scope="col">Next update</th><th scope="col">Entries</th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    let mut response = document(StatusCode::OK, "Certificate revocation lists", &body);
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    #[test]
    fn http_dates_round_trip() {
        let time = at(784_111_777);
        assert_eq!(http_date(time), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(time));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn conditional_requests_get_304_and_others_the_body() {
        let (this, next, now) = (at(1_000_000), Some(at(1_000_000 + 86_400)), at(1_000_100));
        let fresh = cacheable(
            &HeaderMap::new(),
            Bytes::from_static(b"crl"),
            "application/pkix-crl",
            "\"abc\"",
            this,
            next,
            now,
        );
        assert_eq!(fresh.status(), StatusCode::OK);
        assert_eq!(fresh.headers()[CACHE_CONTROL], "public, max-age=300");
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"zzz\", W/\"abc\""));
        let cached =
            cacheable(&headers, Bytes::from_static(b"crl"), "application/pkix-crl", "\"abc\"", this, next, now);
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        let mut headers = HeaderMap::new();
        headers.insert(IF_MODIFIED_SINCE, HeaderValue::from_str(&http_date(this)).unwrap());
        let cached =
            cacheable(&headers, Bytes::from_static(b"crl"), "application/pkix-crl", "\"abc\"", this, next, now);
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn caching_never_outlives_next_update() {
        let (this, next) = (at(1_000_000), Some(at(1_000_060)));
        let soon = cacheable(&HeaderMap::new(), Bytes::new(), "x", "\"a\"", this, next, at(1_000_000));
        assert_eq!(soon.headers()[CACHE_CONTROL], "public, max-age=60");
        let late = cacheable(&HeaderMap::new(), Bytes::new(), "x", "\"a\"", this, next, at(1_000_100));
        assert_eq!(late.headers()[CACHE_CONTROL], "no-cache");
    }
}
