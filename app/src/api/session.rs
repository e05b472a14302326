//! Who is signed in, for the header's user menu. Public: answers `None` before sign-in.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::SessionView;

/// The signed-in person as the header reads it: one resource made by the layout and shared by its parts.
pub type SessionResource = Resource<Result<Option<SessionView>, AppError>>;

#[server(prefix = "/rpc", endpoint = "session", input = Rpc, output = Rpc)]
pub async fn get_session() -> Result<Option<SessionView>, AppError> {
    Ok(crate::ssr::request_meta().caller.map(|caller| SessionView {
        display_name: caller.display_name,
        role: caller.role,
        csrf_token: caller.csrf_token,
    }))
}
