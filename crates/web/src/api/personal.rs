//! Personal data in full, one audited request at a time (see [`crate::personal`]):
//! `GET /api/v1/instructors/{id}/mobile`. Answers are never cached (`Cache-Control: no-store`).

use crate::app::personal::reveal_instructor_mobile;
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::ApiPath;
use crate::security_headers::no_store;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// An instructor's mobile number in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MobileReveal {
    /// 11 digits, e.g. `13812341234`.
    pub mobile: String,
}

/// An instructor's whole mobile number, for roles that may read personal data in the instructor's scope
/// (department cadre, platform committee, branch secretary). Every request is written to the audit log
/// (`instructor.read_personal`) before the number is sent; the answer is never cached.
#[utoipa::path(get, path = "/api/v1/instructors/{id}/mobile", tag = "instructors", params(("id" = i64, Path)),
    responses((status = 200, body = MobileReveal), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn instructor_mobile(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let mobile = reveal_instructor_mobile(&s, &actor, id).await?;
    let mut response = Json(MobileReveal { mobile: mobile.as_str().to_owned() }).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(instructor_mobile))
}
