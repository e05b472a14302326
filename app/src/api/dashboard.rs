//! Server functions behind the dashboard.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;
use crate::model::{DashboardScope, DashboardSummary};

#[server(prefix = "/rpc", endpoint = "dashboard_summary", input = Json)]
pub async fn get_dashboard_summary(scope: DashboardScope) -> Result<DashboardSummary, AppError> {
    let request = crate::ssr::request_meta();
    crate::ssr::answered(crate::ssr::backend()?.dashboard_summary(&request, scope).await)
}
