//! `/api/v1/development/check`: the member-development checker — every rule a record's dates break
//! (`dangjian_domain::members::development`). Pure: nothing sent is stored or logged. For every
//! signed-in role.

use crate::app::{members, Ctx};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::JsonBody;
use crate::i18n::Lang;
use crate::views::members::{CheckAnswer, ViolationView};
use crate::AppState;
use axum::Json;
use dangjian_domain::members::development::DevelopmentInput;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Checks a development record: `birth_date` and `applied_on` are required, everything else optional.
/// The answer lists every rule broken, with its id, a message and the dates involved (empty: none).
#[utoipa::path(post, path = "/api/v1/development/check", tag = "members", request_body = DevelopmentInput,
    responses((status = 200, body = CheckAnswer), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn check(cx: Ctx, lang: Lang, body: JsonBody<DevelopmentInput>) -> Result<Json<CheckAnswer>, ApiError> {
    let rules = members::begin(&cx).await?;
    let record = body.parse()?.parse().map_err(|e| ApiError::fields(&e))?;
    let violations = rules.check(&record).iter().map(|v| ViolationView::new(v, lang)).collect();
    Ok(Json(CheckAnswer { violations }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check))
}
