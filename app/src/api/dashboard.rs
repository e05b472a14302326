//! Server functions behind the dashboard.

use leptos::prelude::*;

use crate::api::codec::Rpc;
use crate::error::AppError;
use crate::model::{DashboardScope, DashboardSummary};

#[server(prefix = "/rpc", endpoint = "dashboard_summary", input = Rpc, output = Rpc)]
pub async fn get_dashboard_summary(scope: DashboardScope) -> Result<DashboardSummary, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.dashboard_summary(&request, scope).await)
}
