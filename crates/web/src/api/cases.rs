//! `/api/v1/cases`: needs and rights cases. A worker files one, follows it by tracking code, adds to it
//! and rates it with no account (public, rate-limited per client address like every anonymous request);
//! the text fields are size-limited and every error names its field. Cadres handle cases in their
//! inbox: the cases of departments in their region scopes (handling is writing); the worker's contact in
//! full only for them, every view audited. The handlers map HTTP to the
//! commands of [`crate::app::cases`], where the deadline job lives too.

use super::ListResponse;
use crate::app::cases::{self, submit, worker_act};
pub use crate::app::cases::{CaseInput, HandlerStep, InboxQuery, WorkerStep};
use crate::app::{AppError, Ctx};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dangjian_store::cases::{Case, PublicCase, Submitted};
use dangjian_store::Paging;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// File a case — public, no sign-in. Answers the tracking code to follow it with.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = CaseInput, security(()),
    responses((status = 201, body = Submitted), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope)))]
async fn submit_case(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<CaseInput>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let new = input.to_new()?;
    let done = submit(&s, &new).await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// Follow a case by its tracking code — public, no sign-in: status, deadlines, the public part of the
/// history; the contact masked.
#[utoipa::path(get, path = "/api/v1/cases/track/{code}", tag = "cases", security(()),
    params(("code" = String, Path, description = "The tracking code, e.g. 7K3M-Q9PXA")),
    responses((status = 200, body = PublicCase), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope)))]
async fn track_case(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Result<Json<PublicCase>, ApiError> {
    Ok(Json(cases::track(&s, &code).await?))
}

/// The worker's step on their case by tracking code — public, no sign-in. Answers the case as on the
/// tracking page.
#[utoipa::path(post, path = "/api/v1/cases/track/{code}/actions", tag = "cases", request_body = WorkerStep,
    security(()), params(("code" = String, Path, description = "The tracking code")),
    responses((status = 200, body = PublicCase), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope)))]
async fn worker_step(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<WorkerStep>,
) -> Result<Json<PublicCase>, ApiError> {
    let step = input.to_step()?;
    let case = worker_act(&s, &code, &step).await?;
    Ok(Json(case))
}

/// The inbox: cases handled by departments in the caller's region scopes (handling a case is writing:
/// cadres), oldest acknowledgment deadline first; contacts masked.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(InboxQuery),
    responses((status = 200, body = ListResponse<Case>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn inbox(cx: Ctx, ApiQuery(q): ApiQuery<InboxQuery>) -> Result<Json<ListResponse<Case>>, ApiError> {
    let inbox = cases::begin_inbox(&cx).await?;
    let page = inbox.run(&q, Paging::new(q.page, q.per_page)).await.map_err(|e| match e {
        AppError::Invalid(errs) => {
            let mut e = ApiError::fields(&errs);
            e.status = StatusCode::BAD_REQUEST;
            e
        }
        e => e.into(),
    })?;
    Ok(Json(page.into()))
}

/// One case with its full history (internal notes included); the contact masked.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = Case), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn get_case(cx: Ctx, ApiPath(id): ApiPath<i64>) -> Result<Json<Case>, ApiError> {
    Ok(Json(cases::read(&cx, id).await?.0))
}

/// The worker's contact in full.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CaseContact {
    pub contact: Option<String>,
}

/// The worker's contact in full, for the handling department only (personal data: every view audited
/// as `case.read_contact`).
#[utoipa::path(get, path = "/api/v1/cases/{id}/contact", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseContact), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn case_contact(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CaseContact>, ApiError> {
    let contact = crate::app::personal::reveal_case_contact(&s, &actor, id).await?;
    Ok(Json(CaseContact { contact }))
}

/// A handler's step on a case (every step recorded with its time and audited as `case.<action>`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases", params(("id" = i64, Path)), request_body = HandlerStep,
    responses((status = 200, body = Case), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn act(cx: Ctx, ApiPath(id): ApiPath<i64>, input: JsonBody<HandlerStep>) -> Result<Json<Case>, ApiError> {
    let acting = cases::begin_act(&cx, id).await?;
    let input = input.parse()?;
    Ok(Json(acting.run(&input).await?))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_case, inbox))
        .routes(routes!(track_case))
        .routes(routes!(worker_step))
        .routes(routes!(get_case))
        .routes(routes!(case_contact))
        .routes(routes!(act))
}
