//! The JSON API under `/api/v1/`: one module per resource, routes and OpenAPI declared together.
//! Conventions are in `docs/api.md`.

pub mod case_notifications;
pub(crate) mod case_setup;
pub mod case_stats;
pub mod cases;
pub mod coverage;
pub mod development;
pub mod dues;
pub mod entities;
mod health;
pub mod instructors;
pub(crate) mod open311_clients;
pub mod organizations;
pub(crate) mod personal;
pub(crate) mod regions;
pub(crate) mod sectors;
pub mod stations;
pub(crate) mod transfer;

use crate::error::ApiError;
use crate::AppState;
use dangjian_domain::SearchTerm;
use serde::Serialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Dangjian API",
        description = "Party-building in the platform economy and among new employment groups: registry of regions, sectors, platform chains, Party organizations and instructors."
    ),
    components(schemas(crate::error::ErrorEnvelope))
)]
struct ApiDoc;

/// The whole API with its OpenAPI document: the cross-cutting routes listed here (health, Open311's
/// GeoReport router), then every registered feature's ([`crate::features`]).
pub fn router() -> OpenApiRouter<AppState> {
    let listed = OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(health::router()).merge(crate::open311::router());
    crate::features().iter().fold(listed, |r, f| r.merge((f.api)()))
}

/// Paging facts of a list response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListMeta {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The list envelope: `{"items": [...], "meta": {...}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub meta: ListMeta,
}

impl<T> From<dangjian_store::Page<T>> for ListResponse<T> {
    fn from(p: dangjian_store::Page<T>) -> Self {
        Self { items: p.items, meta: ListMeta { total: p.total, page: p.page, per_page: p.per_page } }
    }
}

/// The `q` parameter of a list: blank is none; an over-long term or one with control characters is a 400
/// naming `q`.
pub(crate) fn search_term(q: Option<&str>) -> Result<Option<SearchTerm>, ApiError> {
    SearchTerm::parse(q.unwrap_or_default(), "q").map_err(|e| ApiError::bad_request("q", e.message))
}

/// `?version=` for deletes and closes (optimistic concurrency).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct VersionQuery {
    /// The version the client last read.
    pub version: i64,
    /// The date of closing or dissolution (default today).
    pub on: Option<String>,
}

/// Parses an optional `on=` date, defaulting to today.
pub(crate) fn date_or_today(on: Option<&str>, field: &str) -> Result<chrono::NaiveDate, dangjian_domain::FieldError> {
    match on {
        Some(s) if !s.trim().is_empty() => dangjian_domain::parse_flexible_date(s, field),
        _ => Ok(chrono::Local::now().date_naive()),
    }
}
