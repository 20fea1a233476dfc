//! `/api/v1/open311-clients`: the Open311 clients and their keys, managed by the system administrator
//! (reference data: every change audited). A key is shown once, at creation; the database keeps its
//! SM3 hash only, like API tokens. The handlers map HTTP to the commands of
//! [`crate::app::open311_clients`].

use crate::app::{open311_clients, Ctx};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, JsonBody};
use crate::AppState;
use axum::http::StatusCode;
use axum::Json;
use dangjian_store::open311::Open311Client;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A new client.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Open311ClientInput {
    /// Who the client is (at most 100 characters).
    pub name: Option<String>,
    /// Answer with mySociety's extended statuses (`in_progress`, `fixed`) instead of open/closed.
    #[serde(default)]
    pub extended_statuses: bool,
}

/// A new client with its key: shown this once, never again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewOpen311Client {
    pub client: Open311Client,
    pub api_key: String,
}

/// The Open311 clients (the system administrator), revoked ones included; never a key.
#[utoipa::path(get, path = "/api/v1/open311-clients", tag = "open311",
    responses((status = 200, body = Vec<Open311Client>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn list_clients(cx: Ctx) -> Result<Json<Vec<Open311Client>>, ApiError> {
    Ok(Json(open311_clients::list(&cx).await?))
}

/// Register an Open311 client (the system administrator; audited). Answers its key, once.
#[utoipa::path(post, path = "/api/v1/open311-clients", tag = "open311", request_body = Open311ClientInput,
    responses((status = 201, body = NewOpen311Client), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
async fn create_client(
    cx: Ctx,
    input: JsonBody<Open311ClientInput>,
) -> Result<(StatusCode, Json<NewOpen311Client>), ApiError> {
    let pending = open311_clients::begin_create(&cx).await?;
    let input = input.parse()?;
    let (client, api_key) = pending.save(input.name.as_deref().unwrap_or_default(), input.extended_statuses).await?;
    Ok((StatusCode::CREATED, Json(NewOpen311Client { client, api_key })))
}

/// Revoke an Open311 client (the system administrator; audited): its key opens nothing from now on;
/// the cases it filed stay.
#[utoipa::path(post, path = "/api/v1/open311-clients/{id}/revoke", tag = "open311", params(("id" = i64, Path)),
    responses((status = 200, body = Open311Client), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
async fn revoke_client(cx: Ctx, ApiPath(id): ApiPath<i64>) -> Result<Json<Open311Client>, ApiError> {
    Ok(Json(open311_clients::revoke(&cx, id).await?))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_clients, create_client)).routes(routes!(revoke_client))
}
