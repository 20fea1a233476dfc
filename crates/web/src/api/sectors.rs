//! `/api/v1/sectors`: the seven built-in sectors and any an administrator adds. The handlers map HTTP to
//! the commands of [`crate::app::sectors`].

use crate::app::{sectors, Ctx};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, JsonBody};
use crate::AppState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
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
async fn list_sectors(cx: Ctx) -> Result<Json<super::ListResponse<Sector>>, ApiError> {
    let items = sectors::list(&cx).await?;
    let total = items.len() as i64;
    Ok(Json(super::ListResponse { items, meta: super::ListMeta { total, page: 1, per_page: total.max(1) } }))
}

/// Add a sector (system administrators).
#[utoipa::path(post, path = "/api/v1/sectors", tag = "sectors", request_body = SectorInput,
    responses((status = 201, body = Sector), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_sector(cx: Ctx, input: JsonBody<SectorInput>) -> Result<impl IntoResponse, ApiError> {
    let pending = sectors::begin_create(&cx).await?;
    let input = input.parse()?;
    let sector = pending.save(&input, 0).await?;
    Ok((StatusCode::CREATED, Json(sector)))
}

/// One sector.
#[utoipa::path(get, path = "/api/v1/sectors/{code}", tag = "sectors", params(("code" = String, Path)),
    responses((status = 200, body = Sector), (status = 404, body = ErrorEnvelope)))]
async fn get_sector(cx: Ctx, ApiPath(code): ApiPath<String>) -> Result<Json<Sector>, ApiError> {
    Ok(Json(sectors::read(&cx, &code).await?))
}

/// Rename a sector or change its stage (system administrators).
#[utoipa::path(put, path = "/api/v1/sectors/{code}", tag = "sectors", params(("code" = String, Path)), request_body = SectorUpdate,
    responses((status = 200, body = Sector), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_sector(
    cx: Ctx,
    ApiPath(code): ApiPath<String>,
    u: JsonBody<SectorUpdate>,
) -> Result<Json<Sector>, ApiError> {
    let pending = sectors::begin_update(&cx, &code).await?;
    let u = u.parse()?;
    Ok(Json(pending.save(&u.fields, u.version).await?))
}

/// Delete an added sector no unit uses (system administrators).
#[utoipa::path(delete, path = "/api/v1/sectors/{code}", tag = "sectors", params(("code" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn delete_sector(cx: Ctx, ApiPath(code): ApiPath<String>) -> Result<StatusCode, ApiError> {
    sectors::delete(&cx, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_sectors, create_sector)).routes(routes!(
        get_sector,
        update_sector,
        delete_sector
    ))
}
