//! `/api/v1/case-notifications`: what the departments in the caller's region scopes should look at —
//! cases escalated to or away from them, transferred to them, added to or reopened by the worker. Read
//! and marked read by those who handle the cases (cadres: handling is writing).

use crate::app::{cases, Ctx};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery};
use crate::AppState;
use axum::http::StatusCode;
use axum::Json;
use dangjian_store::cases::Notification;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only those nobody has marked read yet.
    #[serde(default)]
    pub unread: bool,
    /// At most this many, newest first (1–500, default 50).
    pub limit: Option<i64>,
}

/// Notifications, newest first, with the number still unread.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    pub unread: i64,
    pub items: Vec<Notification>,
}

/// The notifications of the departments in the caller's region scopes.
#[utoipa::path(get, path = "/api/v1/case-notifications", tag = "cases", params(NotificationQuery),
    responses((status = 200, body = NotificationList), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn list(cx: Ctx, ApiQuery(q): ApiQuery<NotificationQuery>) -> Result<Json<NotificationList>, ApiError> {
    let inbox = cases::begin_notifications(&cx).await?;
    let (items, unread) = inbox.notifications(q.unread, q.limit.unwrap_or(50)).await?;
    Ok(Json(NotificationList { unread, items }))
}

/// Mark a notification read (for the whole department).
#[utoipa::path(post, path = "/api/v1/case-notifications/{id}/read", tag = "cases", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn mark_read(cx: Ctx, ApiPath(id): ApiPath<i64>) -> Result<StatusCode, ApiError> {
    cases::mark_notification_read(&cx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(mark_read))
}
