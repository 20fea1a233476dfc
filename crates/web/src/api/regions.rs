//! `/api/v1/regions`: administrative regions (reference data; administrators may add, rename, delete).
//! The handlers map HTTP to the commands of [`crate::app::regions`].

use super::ListResponse;
use crate::app::{regions, Ctx};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::i18n::Message;
use crate::AppState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use dangjian_domain::RegionLevel;
use dangjian_store::regions::{Region, RegionFilter};
use dangjian_store::Paging;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RegionQuery {
    /// Direct children of this region (empty: provincial-level units). Without any filter: the provinces.
    pub parent: Option<String>,
    /// Everything below this region.
    pub within: Option<String>,
    /// `province`, `prefecture`, `county` or `township`.
    pub level: Option<String>,
    /// Name or code contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewRegion {
    pub code: String,
    pub name: String,
    /// Empty or absent for a provincial-level unit.
    pub parent_code: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegionRename {
    pub name: String,
    pub version: i64,
}

/// List regions: children of a region, a subtree, a level, or a text search.
#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", params(RegionQuery),
    responses((status = 200, body = ListResponse<Region>), (status = 400, body = ErrorEnvelope)))]
async fn list_regions(cx: Ctx, ApiQuery(q): ApiQuery<RegionQuery>) -> Result<Json<ListResponse<Region>>, ApiError> {
    let reading = regions::begin_read(&cx).await?;
    let level = match q.level.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => Some(
            RegionLevel::parse(l)
                .ok_or_else(|| ApiError::bad_request("level", Message::new("api.level_province_prefecture_county")))?,
        ),
        None => None,
    };
    let filter = RegionFilter {
        parent: q.parent.clone(),
        within: q.within.clone().filter(|w| !w.is_empty()),
        level,
        q: super::search_term(q.q.as_deref())?,
    };
    Ok(Json(reading.list(&filter, Paging::new(q.page, q.per_page)).await?.into()))
}

/// Add a region (e.g. a new township) under an existing parent (system administrators).
#[utoipa::path(post, path = "/api/v1/regions", tag = "regions", request_body = NewRegion,
    responses((status = 201, body = Region), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_region(cx: Ctx, r: JsonBody<NewRegion>) -> Result<impl IntoResponse, ApiError> {
    let pending = regions::begin_create(&cx).await?;
    let r = r.parse()?;
    let region = pending.save(&r.code, &r.name, r.parent_code.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(region)))
}

/// One region.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "regions", params(("code" = String, Path)),
    responses((status = 200, body = Region), (status = 404, body = ErrorEnvelope)))]
async fn get_region(cx: Ctx, ApiPath(code): ApiPath<String>) -> Result<Json<Region>, ApiError> {
    Ok(Json(regions::begin_read(&cx).await?.one(&code).await?))
}

/// Rename a region (system administrators).
#[utoipa::path(put, path = "/api/v1/regions/{code}", tag = "regions", params(("code" = String, Path)), request_body = RegionRename,
    responses((status = 200, body = Region), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn rename_region(
    cx: Ctx,
    ApiPath(code): ApiPath<String>,
    r: JsonBody<RegionRename>,
) -> Result<Json<Region>, ApiError> {
    let pending = regions::begin_rename(&cx, &code).await?;
    let r = r.parse()?;
    Ok(Json(pending.save(&r.name, r.version).await?))
}

/// Delete a region nothing refers to (system administrators).
#[utoipa::path(delete, path = "/api/v1/regions/{code}", tag = "regions", params(("code" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn delete_region(cx: Ctx, ApiPath(code): ApiPath<String>) -> Result<StatusCode, ApiError> {
    regions::delete(&cx, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The region and its ancestors, from the province down.
#[utoipa::path(get, path = "/api/v1/regions/{code}/lineage", tag = "regions", params(("code" = String, Path)),
    responses((status = 200, body = Vec<Region>), (status = 404, body = ErrorEnvelope)))]
async fn region_lineage(cx: Ctx, ApiPath(code): ApiPath<String>) -> Result<Json<Vec<Region>>, ApiError> {
    Ok(Json(regions::begin_read(&cx).await?.lineage(&code).await?))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions, create_region))
        .routes(routes!(get_region, rename_region, delete_region))
        .routes(routes!(region_lineage))
}
