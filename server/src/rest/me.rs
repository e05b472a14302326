//! `GET /api/v1/me`: who the token speaks for, and what it may do.

use app::model::{Role, TokenScope};
use app::ssr::Credential;
use axum::Json;
use serde::Serialize;

use super::ApiError;
use super::openapi::Refusals;
use crate::http::RequestContext;

/// The person behind the token and the token's reach.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user_id: uuid::Uuid,
    pub name: String,
    pub role: Role,
    /// `read` or `read_write`.
    pub token_scope: Option<TokenScope>,
    /// The token may download private keys of its owner's certificates.
    pub private_keys: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "session",
    summary = "Who the token speaks for",
    responses((status = 200, description = "The token's owner and reach", body = Me), Refusals)
)]
pub async fn me(context: RequestContext) -> Result<Json<Me>, ApiError> {
    let caller = context.meta.caller()?;
    Ok(Json(Me {
        user_id: caller.user_id,
        name: caller.display_name.clone(),
        role: caller.role,
        token_scope: match caller.credential {
            Credential::Token { scope, .. } => Some(scope),
            Credential::Session => None,
        },
        private_keys: matches!(caller.credential, Credential::Token { private_keys: true, .. }),
    }))
}
