//! Case reference data: the categories (public: the worker's form needs them), the departments that
//! handle cases and the routing table (read by anyone signed in, changed by the system administrator).

use crate::app::permission;
use crate::app::{case_settings, Ctx};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::JsonBody;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dangjian_domain::access::Action;
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::Category;
use dangjian_domain::services::routing::RoutingRule;
use dangjian_domain::FieldError;
use dangjian_domain::Message;
use dangjian_store::cases::Department;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The case categories in force with their deadlines in working days — public, no sign-in.
#[utoipa::path(get, path = "/api/v1/case-categories", tag = "cases", security(()),
    responses((status = 200, body = Vec<Category>)))]
async fn categories(State(s): State<AppState>) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(s.store.case_settings().await?.categories))
}

/// The case rules in force: categories with their deadlines, the holiday calendar (public holidays and
/// make-up working days), how long closed cases keep personal fields, and after how many days a
/// resolved case nobody rated closes.
#[utoipa::path(get, path = "/api/v1/case-settings", tag = "cases",
    responses((status = 200, body = CaseSettings), (status = 403, body = ErrorEnvelope)))]
async fn case_settings(State(s): State<AppState>, actor: Actor) -> Result<Json<CaseSettings>, ApiError> {
    permission::require(&s, &actor, Action::ReadReference, "case_settings.read").await?;
    Ok(Json(s.store.case_settings().await.map_err(ApiError::from)?))
}

/// Replace the case rules (the system administrator; audited). Every value is checked and each
/// problem names its field (`categories[2].ack_days`); on any problem nothing changes. They apply from
/// the next step on any case: deadlines already set stay.
#[utoipa::path(put, path = "/api/v1/case-settings", tag = "cases", request_body = CaseSettings,
    responses((status = 200, body = CaseSettings), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn replace_case_settings(cx: Ctx, input: JsonBody<CaseSettings>) -> Result<Json<CaseSettings>, ApiError> {
    let change = case_settings::begin_settings(&cx).await?;
    let input = input.parse()?;
    change.settings(&input).await?;
    Ok(Json(cx.state.store.case_settings().await.map_err(ApiError::from)?))
}

/// The departments that handle cases.
#[utoipa::path(get, path = "/api/v1/departments", tag = "cases",
    responses((status = 200, body = Vec<Department>), (status = 403, body = ErrorEnvelope)))]
async fn list_departments(State(s): State<AppState>, actor: Actor) -> Result<Json<Vec<Department>>, ApiError> {
    permission::require(&s, &actor, Action::ReadReference, "department.read").await?;
    Ok(Json(s.store.departments().await.map_err(ApiError::from)?))
}

/// A new department.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DepartmentInput {
    pub code: Option<String>,
    pub name: Option<String>,
    /// A department kind (`human_resources`, `postal`, …).
    pub kind: Option<String>,
    pub region_code: Option<String>,
}

/// Register a department (the system administrator).
#[utoipa::path(post, path = "/api/v1/departments", tag = "cases", request_body = DepartmentInput,
    responses((status = 201, body = Department), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_department(
    State(s): State<AppState>,
    actor: Actor,
    input: JsonBody<DepartmentInput>,
) -> Result<(StatusCode, Json<Department>), ApiError> {
    let pending = case_settings::begin_create_department(&Ctx::new(&s, &actor)).await?;
    let input = input.parse()?;
    let mut errs = dangjian_domain::FieldErrors::default();
    let mut field = |name: &str, v: &Option<String>| {
        let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        if v.is_none() {
            errs.0.push(FieldError::new(name, "required", Message::new("problem.required")));
        }
        v.unwrap_or_default()
    };
    let (code, name) = (field("code", &input.code), field("name", &input.name));
    let (kind, region) = (field("kind", &input.kind), field("region_code", &input.region_code));
    errs.into_result()?;
    Ok((StatusCode::CREATED, Json(pending.save(&code, &name, &kind, &region).await?)))
}

/// The routing table in force (the built-in defaults until one is stored).
#[utoipa::path(get, path = "/api/v1/routing-rules", tag = "cases",
    responses((status = 200, body = Vec<RoutingRule>), (status = 403, body = ErrorEnvelope)))]
async fn routing_rules(State(s): State<AppState>, actor: Actor) -> Result<Json<Vec<RoutingRule>>, ApiError> {
    permission::require(&s, &actor, Action::ReadReference, "routing.read").await?;
    Ok(Json(s.store.routing_table().await.map_err(ApiError::from)?))
}

/// Replace the routing table (the system administrator): lines in order, an empty column matches
/// anything, the most specific matching line wins; end it with a catch-all line.
#[utoipa::path(put, path = "/api/v1/routing-rules", tag = "cases", request_body = Vec<RoutingRule>,
    responses((status = 200, body = Vec<RoutingRule>), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn replace_routing_rules(cx: Ctx, rules: JsonBody<Vec<RoutingRule>>) -> Result<Json<Vec<RoutingRule>>, ApiError> {
    let change = case_settings::begin_routing(&cx).await?;
    let rules = rules.parse()?;
    change.routing(&rules).await?;
    Ok(Json(cx.state.store.routing_table().await.map_err(ApiError::from)?))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(categories))
        .routes(routes!(case_settings, replace_case_settings))
        .routes(routes!(list_departments, create_department))
        .routes(routes!(routing_rules, replace_routing_rules))
}
