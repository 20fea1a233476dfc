//! `/api/v1/organizations`: Party organizations.

use super::entities::etag;
use super::{date_or_today, ListResponse, VersionQuery};
use crate::app::permission::{self};
use crate::app::{organizations, Ctx};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery, JsonBody, QueryLater};
use crate::i18n::Message;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use dangjian_domain::access::Action;
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::OrgKind;
use dangjian_store::organizations::{OrgFilter, Organization};
use dangjian_store::Paging;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct OrgQuery {
    /// Region code: the region and its whole subtree.
    pub region: Option<String>,
    /// `grassroots_committee`, `general_branch`, `branch`, `joint_branch` or `floating_branch`.
    pub kind: Option<String>,
    /// Organizations attached to this unit (id).
    pub unit: Option<i64>,
    /// Organizations attached to units of this platform's chain (platform id).
    pub root: Option<i64>,
    /// Organizations attached to units of this sector.
    pub sector: Option<String>,
    /// Direct sub-organizations of this organization (id).
    pub parent: Option<i64>,
    /// Name, code or secretary contains.
    pub q: Option<String>,
    /// `active`, `dissolved` or `all` (default).
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl OrgQuery {
    pub fn to_filter(&self) -> Result<OrgFilter, ApiError> {
        let kind = match self.kind.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => Some(OrgKind::parse(k).map_err(|e| ApiError::bad_request("kind", e.message))?),
            None => None,
        };
        let dissolved = match self.status.as_deref().unwrap_or("all") {
            "" | "all" => None,
            "active" => Some(false),
            "dissolved" => Some(true),
            _ => return Err(ApiError::bad_request("status", Message::new("api.status_active_dissolved_all"))),
        };
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        Ok(OrgFilter {
            region: nonempty(&self.region),
            kind,
            unit: self.unit,
            root: self.root,
            sector: nonempty(&self.sector),
            parent: self.parent,
            q: super::search_term(self.q.as_deref())?,
            dissolved,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OrganizationUpdate {
    /// The version the client last read; a stale one gets 409.
    pub version: i64,
    #[serde(flatten)]
    pub fields: OrganizationInput,
}

/// List organizations, of those in the caller's scopes.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(OrgQuery),
    responses((status = 200, body = ListResponse<Organization>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn list_organizations(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> Result<Json<ListResponse<Organization>>, ApiError> {
    let access = permission::require(&s, &actor, Action::Read, "organization.list").await?;
    let filter = q.to_filter()?;
    let page =
        s.store.list_organizations(&filter, Paging::new(q.page, q.per_page), &access).await.map_err(ApiError::from)?;
    Ok(Json(page.into()))
}

/// Register an organization; it must lie inside the caller's scopes.
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = OrganizationInput,
    responses((status = 201, body = Organization), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_organization(cx: Ctx, input: JsonBody<OrganizationInput>) -> Result<impl IntoResponse, ApiError> {
    let pending = organizations::begin_create(&cx).await?;
    let input = input.parse()?;
    let o = pending.save(&input, 0).await?;
    let location = [(header::LOCATION, format!("/api/v1/organizations/{}", o.id))];
    Ok((StatusCode::CREATED, location, etag(o.version), Json(o)))
}

/// One organization.
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path)),
    responses((status = 200, body = Organization), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn get_organization(cx: Ctx, ApiPath(id): ApiPath<i64>) -> Result<impl IntoResponse, ApiError> {
    let o = organizations::read(&cx, id).await?;
    Ok((etag(o.version), Json(o)))
}

/// Replace an organization's fields; `version` must be the one last read, and the organization must
/// stay inside the caller's scopes.
#[utoipa::path(put, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path)), request_body = OrganizationUpdate,
    responses((status = 200, body = Organization), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_organization(
    cx: Ctx,
    ApiPath(id): ApiPath<i64>,
    u: JsonBody<OrganizationUpdate>,
) -> Result<impl IntoResponse, ApiError> {
    let pending = organizations::begin_update(&cx, id).await?;
    let u = u.parse()?;
    let o = pending.save(&u.fields, u.version).await?;
    Ok((etag(o.version), Json(o)))
}

/// Dissolve an organization (撤销) on a date; the record stays for history.
#[utoipa::path(delete, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, body = Organization), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn dissolve_organization(
    cx: Ctx,
    ApiPath(id): ApiPath<i64>,
    q: QueryLater<VersionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let pending = organizations::begin_dissolve(&cx, id).await?;
    let q = q.parse()?;
    let on = date_or_today(q.on.as_deref(), "on").map_err(|e| ApiError::fields(&e.into()))?;
    let o = pending.dissolve(on, q.version).await?;
    Ok((etag(o.version), Json(o)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_organizations, create_organization)).routes(routes!(
        get_organization,
        update_organization,
        dissolve_organization
    ))
}
