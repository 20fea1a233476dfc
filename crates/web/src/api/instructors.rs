//! `/api/v1/instructors`: Party-building instructors and their assignments.

use super::entities::etag;
use super::{ListResponse, VersionQuery};
use crate::app::permission::{self};
use crate::app::{instructors, Ctx};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery, JsonBody, QueryLater};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use dangjian_domain::access::Action;
use dangjian_domain::instructor::InstructorInput;
use dangjian_store::instructors::{Instructor, InstructorFilter};
use dangjian_store::Paging;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct InstructorQuery {
    /// Region code: the region and its whole subtree.
    pub region: Option<String>,
    /// Instructors assigned to this unit (id).
    pub unit: Option<i64>,
    /// Instructors assigned to units of this platform's chain (platform id).
    pub root: Option<i64>,
    /// Name or dispatching organization contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl InstructorQuery {
    /// The store's filter; a bad `q` is a 400 naming it.
    pub fn to_filter(&self) -> Result<InstructorFilter, ApiError> {
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        Ok(InstructorFilter {
            region: nonempty(&self.region),
            unit: self.unit,
            root: self.root,
            q: super::search_term(self.q.as_deref())?,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InstructorUpdate {
    /// The version the client last read; a stale one gets 409.
    pub version: i64,
    #[serde(flatten)]
    pub fields: InstructorInput,
}

/// List instructors, of those in the caller's scopes.
#[utoipa::path(get, path = "/api/v1/instructors", tag = "instructors", params(InstructorQuery),
    responses((status = 200, body = ListResponse<Instructor>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn list_instructors(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<InstructorQuery>,
) -> Result<Json<ListResponse<Instructor>>, ApiError> {
    let access = permission::require(&s, &actor, Action::Read, "instructor.list").await?;
    let filter = q.to_filter()?;
    let page =
        s.store.list_instructors(&filter, Paging::new(q.page, q.per_page), &access).await.map_err(ApiError::from)?;
    Ok(Json(page.into()))
}

/// Register an instructor with their assignments; they must lie inside the caller's scopes.
#[utoipa::path(post, path = "/api/v1/instructors", tag = "instructors", request_body = InstructorInput,
    responses((status = 201, body = Instructor), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_instructor(cx: Ctx, input: JsonBody<InstructorInput>) -> Result<impl IntoResponse, ApiError> {
    let pending = instructors::begin_create(&cx).await?;
    let input = input.parse()?;
    let i = pending.save(&input, 0).await?;
    let location = [(header::LOCATION, format!("/api/v1/instructors/{}", i.id))];
    Ok((StatusCode::CREATED, location, etag(i.version), Json(i)))
}

/// One instructor.
#[utoipa::path(get, path = "/api/v1/instructors/{id}", tag = "instructors", params(("id" = i64, Path)),
    responses((status = 200, body = Instructor), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn get_instructor(cx: Ctx, ApiPath(id): ApiPath<i64>) -> Result<impl IntoResponse, ApiError> {
    let i = instructors::read(&cx, id).await?;
    Ok((etag(i.version), Json(i)))
}

/// Replace an instructor's fields and assignments; `version` must be the one last read, and the
/// instructor must stay inside the caller's scopes.
#[utoipa::path(put, path = "/api/v1/instructors/{id}", tag = "instructors", params(("id" = i64, Path)), request_body = InstructorUpdate,
    responses((status = 200, body = Instructor), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_instructor(
    cx: Ctx,
    ApiPath(id): ApiPath<i64>,
    u: JsonBody<InstructorUpdate>,
) -> Result<impl IntoResponse, ApiError> {
    let pending = instructors::begin_update(&cx, id).await?;
    let u = u.parse()?;
    let i = pending.save(&u.fields, u.version).await?;
    Ok((etag(i.version), Json(i)))
}

/// Remove an instructor and their assignments.
#[utoipa::path(delete, path = "/api/v1/instructors/{id}", tag = "instructors", params(("id" = i64, Path), VersionQuery),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn delete_instructor(
    cx: Ctx,
    ApiPath(id): ApiPath<i64>,
    q: QueryLater<VersionQuery>,
) -> Result<StatusCode, ApiError> {
    let pending = instructors::begin_delete(&cx, id).await?;
    let q = q.parse()?;
    pending.delete(q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_instructors, create_instructor)).routes(routes!(
        get_instructor,
        update_instructor,
        delete_instructor
    ))
}
