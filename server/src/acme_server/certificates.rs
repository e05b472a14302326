//! Certificate download (RFC 8555 §7.4.2): the order's certificate as `application/pem-certificate-chain`, the
//! leaf followed by the intermediates up to (not including) the root the clients trust; only the account that
//! ordered it may fetch it, and each fetch is audited like a person's download.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use serde_json::json;
use time::OffsetDateTime;

use super::Directory;
use super::orders::{self, owner_of, require_post_as_get};
use super::problem::AcmeError;
use super::request::Posted;
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::http::RequestContext;
use crate::state::AppState;

pub async fn certificate(
    State(state): State<AppState>,
    Path((issuer, id)): Path<(String, String)>,
    context: RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let (account, jws) = posted.verify_account(&state, &directory, now).await?;
    require_post_as_get(&jws.payload, "a certificate")?;
    let owner_id = owner_of(&account)?;
    let order = orders::find(&state, &directory, &account, &id).await?.order;
    let not_yet = || AcmeError::NotFound(format!("order {id} has no certificate (it is {})", order.status));
    let certificate_id = order.certificate_id.filter(|_| order.status == "valid").ok_or_else(not_yet)?;
    let record =
        db::certificates::find_visible(&state.pool, certificate_id, Some(owner_id)).await?.ok_or_else(not_yet)?;
    let (Some(leaf), chain) = (&record.leaf_pem, record.chain_pem.as_deref().unwrap_or_default()) else {
        return Err(not_yet());
    };
    let body = format!("{}\n{}", leaf.trim_end(), chain.trim_end()).trim_end().to_owned() + "\n";
    let details = json!({ "format": "acme", "owner": owner_id, "serial": record.serial, "acme_account": account.id });
    let entry = Actor::person(&context.meta, owner_id)
        .did(Action::CertificateDownloaded)
        .on(Object::Certificate(certificate_id));
    audit::record(&state.pool, &state.chain_key, &entry.with(details), now).await?;
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/pem-certificate-chain"));
    Ok(response)
}
