//! `/api/v1/sectors`: the seven built-in sectors and any an administrator adds.

use crate::app::permission::{self, Object};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use dangjian_domain::access::Action;
use dangjian_store::sectors::{Sector, SectorInput};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SectorUpdate {
    pub version: i64,
    #[serde(flatten)]
    pub fields: SectorInput,
}

/// Every sector, in the policy's order.
#[utoipa::path(get, path = "/api/v1/sectors", tag = "sectors", responses((status = 200, body = super::ListResponse<Sector>)))]
async fn list_sectors(State(s): State<AppState>, actor: Actor) -> Result<Json<super::ListResponse<Sector>>, ApiError> {
    permission::require(&s, &actor, Action::ReadReference, "sector.read").await?;
    let items = s.store.list_sectors().await.map_err(ApiError::from)?;
    let total = items.len() as i64;
    Ok(Json(super::ListResponse { items, meta: super::ListMeta { total, page: 1, per_page: total.max(1) } }))
}

/// Add a sector (system administrators).
#[utoipa::path(post, path = "/api/v1/sectors", tag = "sectors", request_body = SectorInput,
    responses((status = 201, body = Sector), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_sector(
    State(s): State<AppState>,
    actor: Actor,
    input: JsonBody<SectorInput>,
) -> Result<impl IntoResponse, ApiError> {
    permission::require(&s, &actor, Action::ManageReference, "sector.create").await?;
    let input = input.parse()?;
    let result = s.store.create_sector(&input).await;
    let code = input.code.clone().unwrap_or_default();
    permission::audit_write(&s, &actor, "sector.create", Some(Object::new("sector", code)), &result).await;
    let sector = result.map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, Json(sector)))
}

/// One sector.
#[utoipa::path(get, path = "/api/v1/sectors/{code}", tag = "sectors", params(("code" = String, Path)),
    responses((status = 200, body = Sector), (status = 404, body = ErrorEnvelope)))]
async fn get_sector(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Sector>, ApiError> {
    permission::require(&s, &actor, Action::ReadReference, "sector.read").await?;
    Ok(Json(s.store.sector(&code).await.map_err(ApiError::from)?))
}

/// Rename a sector or change its stage (system administrators).
#[utoipa::path(put, path = "/api/v1/sectors/{code}", tag = "sectors", params(("code" = String, Path)), request_body = SectorUpdate,
    responses((status = 200, body = Sector), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_sector(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(code): ApiPath<String>,
    u: JsonBody<SectorUpdate>,
) -> Result<Json<Sector>, ApiError> {
    permission::require(&s, &actor, Action::ManageReference, "sector.update").await?;
    let u = u.parse()?;
    let result = s.store.update_sector(&code, &u.fields, u.version).await;
    permission::audit_write(&s, &actor, "sector.update", Some(Object::new("sector", &code)), &result).await;
    Ok(Json(result.map_err(ApiError::from)?))
}

/// Delete an added sector no unit uses (system administrators).
#[utoipa::path(delete, path = "/api/v1/sectors/{code}", tag = "sectors", params(("code" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn delete_sector(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(code): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    permission::require(&s, &actor, Action::ManageReference, "sector.delete").await?;
    let result = s.store.delete_sector(&code).await;
    permission::audit_write(&s, &actor, "sector.delete", Some(Object::new("sector", &code)), &result).await;
    result.map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_sectors, create_sector)).routes(routes!(
        get_sector,
        update_sector,
        delete_sector
    ))
}
