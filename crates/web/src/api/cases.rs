//! `/api/v1/cases`: needs and rights cases. A worker files one, follows it by tracking code, adds to it
//! and rates it with no account (public, rate-limited per client address like every anonymous request);
//! the text fields are size-limited and every error names its field. Cadres handle cases in their
//! inbox: the cases of departments in their region scopes (handling is writing); the worker's contact in
//! full only for them, every view audited. The deadline job ([`deadline_job`]) runs in the server.

use super::ListResponse;
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, JsonBody};
use crate::scope::{self, Target};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dangjian_domain::access::Action;
use dangjian_domain::services::cases::{CaseAction, CaseStatus};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors};
use dangjian_store::cases::{Case, CaseStep, InboxFilter, NewCase, PublicCase, Submitted};
use dangjian_store::{Disclosure, Paging};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A case as a worker files it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CaseInput {
    /// A category code (`wage_arrears`, `occupational_injury`, …).
    pub category: Option<String>,
    /// The worker's sector code (`courier`, `food_delivery`, …), if they give it.
    pub sector: Option<String>,
    /// The platform concerned (a registered unit's id), if the worker names one.
    pub platform_id: Option<i64>,
    /// Where it happened: a region code (county or township).
    pub region_code: Option<String>,
    /// What happened (at most 4,000 characters).
    pub description: Option<String>,
    /// How to reach the worker (at most 100 characters); ignored when `anonymous`.
    pub contact: Option<String>,
    #[serde(default)]
    pub anonymous: bool,
}

fn required(field: &str) -> FieldError {
    FieldError::new(field, "required", Message::new("problem.required"))
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl CaseInput {
    pub(crate) fn to_new(&self) -> Result<NewCase, FieldErrors> {
        let mut errs = FieldErrors::default();
        let category = non_empty(&self.category);
        let region = non_empty(&self.region_code);
        let description = non_empty(&self.description);
        for (field, v) in [("category", &category), ("region_code", &region), ("description", &description)] {
            if v.is_none() {
                errs.0.push(required(field));
            }
        }
        errs.into_result()?;
        Ok(NewCase {
            category: category.unwrap_or_default(),
            sector: non_empty(&self.sector),
            platform_id: self.platform_id,
            region_code: region.unwrap_or_default(),
            description: description.unwrap_or_default(),
            contact: if self.anonymous { None } else { non_empty(&self.contact) },
            anonymous: self.anonymous,
            open311_client_id: None,
        })
    }
}

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

/// Files `new` at the state's clock under the case rules in force. Every way in (this API, the phone
/// page, Open311) goes through here.
pub(crate) async fn submit(s: &AppState, new: &NewCase) -> dangjian_store::StoreResult<Submitted> {
    let settings = s.store.case_settings().await?;
    s.store.submit_case(new, &settings, s.clock.now()).await
}

/// The worker's `step` on the case behind tracking `code`, at the state's clock.
pub(crate) async fn worker_act(s: &AppState, code: &str, step: &CaseStep) -> dangjian_store::StoreResult<PublicCase> {
    let settings = s.store.case_settings().await?;
    s.store.worker_act(code, step, &settings, s.clock.now()).await
}

/// A handler's `step` on case `id` (already authorized: `access`), audited as `case.<action>`.
pub(crate) async fn handler_act(
    s: &AppState,
    actor: &Actor,
    access: &dangjian_store::access::AccessFilter,
    id: i64,
    version: i64,
    action: &str,
    step: &CaseStep,
) -> dangjian_store::StoreResult<Case> {
    let result = match s.store.case_settings().await {
        Ok(settings) => s.store.act_on_case(id, version, step, &actor.name(), access, &settings, s.clock.now()).await,
        Err(e) => Err(e),
    };
    scope::audit_write(s, actor, &format!("case.{action}"), Some(Target::Case(id).object()), &result).await;
    result
}

/// Follow a case by its tracking code — public, no sign-in: status, deadlines, the public part of the
/// history; the contact masked.
#[utoipa::path(get, path = "/api/v1/cases/track/{code}", tag = "cases", security(()),
    params(("code" = String, Path, description = "The tracking code, e.g. 7K3M-Q9PXA")),
    responses((status = 200, body = PublicCase), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope)))]
async fn track_case(State(s): State<AppState>, ApiPath(code): ApiPath<String>) -> Result<Json<PublicCase>, ApiError> {
    Ok(Json(s.store.track_case(&code).await?))
}

/// What the worker does on their case: add information, rate the outcome (1–5) or reopen it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WorkerStep {
    /// `add_info`, `rate` or `reopen`.
    pub action: String,
    /// The information added, or why it is reopened (at most 4,000 characters).
    pub note: Option<String>,
    /// For `rate`: 1 to 5.
    pub rating: Option<i64>,
}

impl WorkerStep {
    pub(crate) fn to_step(&self) -> Result<CaseStep, FieldError> {
        let action = match self.action.as_str() {
            "add_info" => CaseAction::AddInfo,
            "rate" => CaseAction::Rate,
            "reopen" => CaseAction::Reopen,
            _ => return Err(FieldError::new("action", "unknown", Message::new("problem.unknown"))),
        };
        Ok(CaseStep { note: non_empty(&self.note), rating: self.rating, public: true, ..CaseStep::new(action) })
    }
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

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// `submitted`, `acknowledged`, `resolved` or `closed` (default: all).
    pub status: Option<String>,
    /// A category code (default: all).
    pub category: Option<String>,
    /// `true`: only cases past the deadline of their current step now.
    pub overdue: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl InboxQuery {
    /// The store's filter at `now`, or the first bad parameter, named. `categories` are the codes in force.
    pub(crate) fn to_filter(
        &self,
        categories: &[String],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<InboxFilter, FieldError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let status =
            match given(&self.status) {
                None => None,
                Some(v) => Some(CaseStatus::parse(&v).ok_or_else(|| {
                    FieldError::new("status", "unknown", Message::new("problem.unknown.unknown_status"))
                })?),
            };
        let category = given(&self.category);
        if category.as_ref().is_some_and(|c| !categories.contains(c)) {
            return Err(FieldError::new("category", "unknown", Message::new("problem.unknown.unknown_category")));
        }
        let overdue = match given(&self.overdue).as_deref() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(_) => return Err(FieldError::new("overdue", "invalid", Message::new("problem.invalid"))),
        };
        Ok(InboxFilter { status, category, overdue_at: overdue.then_some(now) })
    }
}

/// The inbox: cases handled by departments in the caller's region scopes (handling a case is writing:
/// cadres), oldest acknowledgment deadline first; contacts masked.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(InboxQuery),
    responses((status = 200, body = ListResponse<Case>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn inbox(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> Result<Json<ListResponse<Case>>, ApiError> {
    let access = scope::require(&s, &actor, Action::Write, "case.list").await?;
    let settings = s.store.case_settings().await?;
    let codes: Vec<String> = settings.categories.into_iter().map(|c| c.code).collect();
    let filter = q.to_filter(&codes, s.clock.now()).map_err(|e| {
        let mut e = ApiError::fields(&FieldErrors(vec![e]));
        e.status = StatusCode::BAD_REQUEST;
        e
    })?;
    let page = s.store.case_inbox(&access, &filter, Paging::new(q.page, q.per_page)).await?;
    Ok(Json(page.into()))
}

/// One case with its full history (internal notes included); the contact masked.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = Case), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn get_case(State(s): State<AppState>, actor: Actor, ApiPath(id): ApiPath<i64>) -> Result<Json<Case>, ApiError> {
    let access = scope::authorize(&s, &actor, Action::Write, Target::Case(id), "case.read").await?;
    Ok(Json(s.store.case(id, &access, Disclosure::Masked).await?))
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
    let contact = crate::personal::reveal_case_contact(&s, &actor, id).await?;
    Ok(Json(CaseContact { contact }))
}

/// A handler's step on a case.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HandlerStep {
    /// The version the handler last read.
    pub version: i64,
    /// `acknowledge`, `assign`, `note`, `transfer`, `resolve` or `reopen`.
    pub action: String,
    /// A note (at most 4,000 characters): internal unless `public`.
    pub note: Option<String>,
    #[serde(default)]
    pub public: bool,
    /// `transfer`: the receiving department.
    pub department_id: Option<i64>,
    /// `assign`: the handler's name.
    pub assignee: Option<String>,
}

impl HandlerStep {
    pub(crate) fn to_step(&self) -> Result<CaseStep, FieldError> {
        let action = match self.action.as_str() {
            "acknowledge" => CaseAction::Acknowledge,
            "assign" => CaseAction::Assign,
            "note" => CaseAction::Note,
            "transfer" => CaseAction::Transfer,
            "resolve" => CaseAction::Resolve,
            "reopen" => CaseAction::Reopen,
            _ => {
                return Err(FieldError::new(
                    "action",
                    "unknown",
                    Message::new("problem.unknown.one_acknowledge_assign"),
                ))
            }
        };
        Ok(CaseStep {
            note: non_empty(&self.note),
            public: self.public,
            department_id: self.department_id,
            assignee: non_empty(&self.assignee),
            ..CaseStep::new(action)
        })
    }
}

/// A handler's step on a case (every step recorded with its time and audited as `case.<action>`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases", params(("id" = i64, Path)), request_body = HandlerStep,
    responses((status = 200, body = Case), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn act(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    input: JsonBody<HandlerStep>,
) -> Result<Json<Case>, ApiError> {
    let access = scope::authorize(&s, &actor, Action::Write, Target::Case(id), "case.act").await?;
    let input = input.parse()?;
    let step = input.to_step()?;
    let result = handler_act(&s, &actor, &access, id, input.version, &input.action, &step).await;
    Ok(Json(result?))
}

/// How often the server runs [`deadline_tick`].
pub const DEADLINE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// What one run of the deadline job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadlineRun {
    pub escalated: Vec<i64>,
    pub auto_closed: Vec<i64>,
    pub erased: u64,
}

/// One run of the deadline job at the state's clock, under the case settings in force: overdue cases
/// escalate (the departments on both sides are notified; audited as `case.escalate`), resolved cases
/// the worker never rated close after `auto_close_days` (audited as `case.auto_close`), and closed
/// cases past `retention_days` lose their personal fields. Driven only by what is stored, so a
/// restarted server picks up where it left off.
pub async fn deadline_tick(state: &AppState) -> dangjian_store::StoreResult<DeadlineRun> {
    let now = state.clock.now();
    let settings = state.store.case_settings().await?;
    let escalated = state.store.escalate_overdue(&settings, now).await?;
    audit_system(state, "case.escalate", &escalated).await;
    let auto_closed = state.store.close_unrated(&settings, now).await?;
    audit_system(state, "case.auto_close", &auto_closed).await;
    let erased = state.store.erase_expired_cases(settings.retention_days, now).await?;
    if erased > 0 {
        tracing::info!(cases = erased, "erased personal fields of closed cases past retention");
    }
    Ok(DeadlineRun { escalated, auto_closed, erased })
}

/// Records the deadline job's `action` on each of `cases` in the audit log.
async fn audit_system(state: &AppState, action: &str, cases: &[i64]) {
    for id in cases {
        let entry = dangjian_store::audit::AuditEntry {
            actor: dangjian_store::cases::SYSTEM.into(),
            action: action.into(),
            object_type: Some("case".into()),
            object_id: Some(id.to_string()),
            outcome: "ok".into(),
            ..Default::default()
        };
        if let Err(e) = state.store.append_audit(&entry).await {
            tracing::error!(error = %e, case = id, action, "cannot record the deadline job's step");
        }
    }
}

/// The deadline job of the server process: [`deadline_tick`] now and every [`DEADLINE_INTERVAL`].
pub async fn deadline_job(state: AppState) {
    let mut every = tokio::time::interval(DEADLINE_INTERVAL);
    loop {
        every.tick().await;
        if let Err(e) = deadline_tick(&state).await {
            tracing::error!(error = %e, "case deadline job failed; retried at the next run");
        }
    }
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
