//! `/api/v1/entities`: units of the platform chain.

use super::{date_or_today, ListResponse, VersionQuery};
use crate::app::permission::{self, Target};
use crate::app::{entities, Ctx};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::ApiPath;
use crate::extract::{ApiQuery, JsonBody, QueryLater};
use crate::i18n::Message;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use dangjian_domain::access::Action;
use dangjian_domain::entity::EntityInput;
use dangjian_domain::EntityKind;
use dangjian_store::entities::{Chain, ChainFilter, Entity, EntityFilter};
use dangjian_store::Paging;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct EntityQuery {
    /// Region code: the region and its whole subtree.
    pub region: Option<String>,
    /// Sector code.
    pub sector: Option<String>,
    /// `platform`, `franchisee`, `partner` or `site`.
    pub kind: Option<String>,
    /// Chain root: a platform's id.
    pub root: Option<i64>,
    /// Name, USCC, site code or address contains, literally (`%` and `_` are no wildcards); at most 100
    /// characters.
    pub q: Option<String>,
    /// `operating`, `closed` or `all` (default).
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl EntityQuery {
    /// The store filter, or a 400 naming the parameter that is off.
    pub fn to_filter(&self) -> Result<EntityFilter, ApiError> {
        let kind = match self.kind.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => Some(EntityKind::parse(k).map_err(|e| ApiError::bad_request("kind", e.message))?),
            None => None,
        };
        let closed = match self.status.as_deref().unwrap_or("all") {
            "" | "all" => None,
            "operating" => Some(false),
            "closed" => Some(true),
            _ => return Err(ApiError::bad_request("status", Message::new("api.status_operating_closed_all"))),
        };
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        Ok(EntityFilter {
            region: nonempty(&self.region),
            sector: nonempty(&self.sector),
            kind,
            root: self.root,
            q: super::search_term(self.q.as_deref())?,
            closed,
        })
    }
}

/// A full replacement of a unit, with the version the client read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EntityUpdate {
    /// The version the client last read; a stale one gets 409.
    pub version: i64,
    #[serde(flatten)]
    pub fields: EntityInput,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChainQuery {
    /// Descendants per page (1–500, default 50); `limit` is the older name.
    pub per_page: Option<i64>,
    pub limit: Option<i64>,
    /// Page of the descendants (from 1).
    pub page: Option<i64>,
    /// Only descendants of this tier: `franchisee`, `partner` or `site`.
    pub tier: Option<String>,
    /// Only descendants whose name, code or address contains this.
    pub q: Option<String>,
}

pub(crate) fn etag(version: i64) -> [(header::HeaderName, String); 1] {
    [(header::ETAG, format!("\"{version}\""))]
}

/// List units, filtered by region subtree, sector, kind, chain root and text — of those in the
/// caller's scopes.
#[utoipa::path(get, path = "/api/v1/entities", tag = "entities", params(EntityQuery),
    responses((status = 200, body = ListResponse<Entity>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn list_entities(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<EntityQuery>,
) -> Result<Json<ListResponse<Entity>>, ApiError> {
    let access = permission::require(&s, &actor, Action::Read, "entity.list").await?;
    let filter = q.to_filter()?;
    let total = crate::coverage::registered_total(&s, &actor, &filter).await;
    let page = s.store.list_entities_counted(&filter, Paging::new(q.page, q.per_page), &access, total).await?;
    Ok(Json(page.into()))
}

/// Register a unit; it must lie inside the caller's scopes.
#[utoipa::path(post, path = "/api/v1/entities", tag = "entities", request_body = EntityInput,
    responses((status = 201, body = Entity), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_entity(cx: Ctx, input: JsonBody<EntityInput>) -> Result<impl IntoResponse, ApiError> {
    let pending = entities::begin_create(&cx).await?;
    let input = input.parse()?;
    let e = pending.save(&input, 0).await?;
    let location = [(header::LOCATION, format!("/api/v1/entities/{}", e.id))];
    Ok((StatusCode::CREATED, location, etag(e.version), Json(e)))
}

/// One unit.
#[utoipa::path(get, path = "/api/v1/entities/{id}", tag = "entities", params(("id" = i64, Path)),
    responses((status = 200, body = Entity), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn get_entity(cx: Ctx, ApiPath(id): ApiPath<i64>) -> Result<impl IntoResponse, ApiError> {
    let e = entities::read(&cx, id).await?;
    Ok((etag(e.version), Json(e)))
}

/// Replace a unit's fields; `version` must be the one last read, and the unit must stay inside the
/// caller's scopes.
#[utoipa::path(put, path = "/api/v1/entities/{id}", tag = "entities", params(("id" = i64, Path)), request_body = EntityUpdate,
    responses((status = 200, body = Entity), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_entity(
    cx: Ctx,
    ApiPath(id): ApiPath<i64>,
    u: JsonBody<EntityUpdate>,
) -> Result<impl IntoResponse, ApiError> {
    let pending = entities::begin_update(&cx, id).await?;
    let u = u.parse()?;
    let e = pending.save(&u.fields, u.version).await?;
    Ok((etag(e.version), Json(e)))
}

/// Close a unit (注销) on a date; the record stays for history.
#[utoipa::path(delete, path = "/api/v1/entities/{id}", tag = "entities", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, body = Entity), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn close_entity(
    cx: Ctx,
    ApiPath(id): ApiPath<i64>,
    q: QueryLater<VersionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let pending = entities::begin_close(&cx, id).await?;
    let q = q.parse()?;
    let on = date_or_today(q.on.as_deref(), "on").map_err(|e| ApiError::fields(&e.into()))?;
    let e = pending.close(on, q.version).await?;
    Ok((etag(e.version), Json(e)))
}

/// A unit's chain: its ancestors up to the platform and its descendants — of those, the ones in the
/// caller's scopes.
#[utoipa::path(get, path = "/api/v1/entities/{id}/chain", tag = "entities", params(("id" = i64, Path), ChainQuery),
    responses((status = 200, body = Chain), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn entity_chain(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ChainQuery>,
) -> Result<Json<Chain>, ApiError> {
    let access = permission::authorize(&s, &actor, Action::Read, Target::Entity(id), "entity.read").await?;
    let tier = match q.tier.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(EntityKind::parse(t).map_err(|e| ApiError::bad_request("tier", e.message))?),
        None => None,
    };
    let filter = ChainFilter { tier, q: super::search_term(q.q.as_deref())? };
    let paging = Paging::new(q.page, q.per_page.or(q.limit));
    let counts = crate::coverage::chain_tier_counts(&s, &actor, id).await;
    let c = s.store.entity_chain_page(id, &filter, paging, &access, counts).await?;
    Ok(Json(c))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_entities, create_entity))
        .routes(routes!(get_entity, update_entity, close_entity))
        .routes(routes!(entity_chain))
}
