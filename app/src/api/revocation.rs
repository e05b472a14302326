//! Server functions behind revocation: one certificate (its page, and each row of the admin screen's batch), the
//! off-boarding plan and off-boarding itself.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::{OffboardingReport, OwnerRevocationPlan, RevocationReason, RevocationResult};

#[server(prefix = "/rpc", endpoint = "revoke_certificate", input = Json)]
pub async fn revoke_certificate(id: uuid::Uuid, reason: RevocationReason) -> Result<RevocationResult, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.revoke_certificate(&request, id, reason).await)
}

#[server(prefix = "/rpc", endpoint = "owner_revocation_plan", input = Json)]
pub async fn plan_owner_revocation(owner: String) -> Result<OwnerRevocationPlan, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.owner_revocation_plan(&request, owner).await)
}

#[server(prefix = "/rpc", endpoint = "offboard_person", input = Json)]
pub async fn offboard_person(owner_id: uuid::Uuid, reason: RevocationReason) -> Result<OffboardingReport, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.offboard_person(&request, owner_id, reason).await)
}
