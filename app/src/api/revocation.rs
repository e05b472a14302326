//! Server functions behind revocation: one certificate (its page), a batch (the admin screen) and its progress, the
//! off-boarding plan and off-boarding itself.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::{OffboardingReport, OwnerRevocationPlan, RevocationBatchView, RevocationReason, RevocationResult};

#[server(prefix = "/rpc", endpoint = "revoke_certificate", input = Rpc, output = Rpc)]
pub async fn revoke_certificate(id: uuid::Uuid, reason: RevocationReason) -> Result<RevocationResult, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.revoke_certificate(&request, id, reason).await)
}

#[server(prefix = "/rpc", endpoint = "owner_revocation_plan", input = Rpc, output = Rpc)]
pub async fn plan_owner_revocation(owner: String) -> Result<OwnerRevocationPlan, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.owner_revocation_plan(&request, owner).await)
}

#[server(prefix = "/rpc", endpoint = "offboard_person", input = Rpc, output = Rpc)]
pub async fn offboard_person(owner_id: uuid::Uuid, reason: RevocationReason) -> Result<OffboardingReport, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.offboard_person(&request, owner_id, reason).await)
}

#[server(prefix = "/rpc", endpoint = "revoke_certificates", input = Rpc, output = Rpc)]
pub async fn revoke_certificates(
    ids: Vec<uuid::Uuid>,
    reason: RevocationReason,
) -> Result<RevocationBatchView, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.revoke_certificates(&request, ids, reason).await)
}

#[server(prefix = "/rpc", endpoint = "revocation_batch", input = Rpc, output = Rpc)]
pub async fn revocation_batch(id: uuid::Uuid) -> Result<RevocationBatchView, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.revocation_batch(&request, id).await)
}
