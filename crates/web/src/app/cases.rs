//! Needs and rights cases: the commands the case API, the worker's phone pages, the handlers' inbox
//! pages, Open311 and the deadline job share. Filing and the worker's steps are public (the tracking
//! code is the worker's key); a handler's step is permitted first ([`begin_act`]: handling is writing
//! in the scope of the handling department's region), then parsed, stored and audited as
//! `case.<action>`; the deadline job's steps are audited as the system's.

use super::permission::{self, Target};
use super::{AppResult, Ctx};
use crate::AppState;
use dangjian_domain::access::Action;
use dangjian_domain::services::cases::{CaseAction, CaseStatus};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors};
use dangjian_store::cases::{Case, CaseStep, InboxFilter, NewCase, Notification, PublicCase, Submitted};
use dangjian_store::{AccessFilter, Disclosure, Page, Paging};
use serde::Deserialize;

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

/// Files `new` at the state's clock under the case rules in force. Every way in (this API, the phone
/// page, Open311) goes through here.
pub async fn submit(s: &AppState, new: &NewCase) -> dangjian_store::StoreResult<Submitted> {
    let settings = s.store.case_settings().await?;
    s.store.submit_case(new, &settings, s.clock.now()).await
}

/// The worker's `step` on the case behind tracking `code`, at the state's clock.
pub async fn worker_act(s: &AppState, code: &str, step: &CaseStep) -> dangjian_store::StoreResult<PublicCase> {
    let settings = s.store.case_settings().await?;
    s.store.worker_act(code, step, &settings, s.clock.now()).await
}

/// The case behind tracking `code`, as the worker sees it.
pub async fn track(s: &AppState, code: &str) -> AppResult<PublicCase> {
    Ok(s.store.track_case(code).await?)
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

/// The inbox the actor may read, waiting for its filter (a refusal is audited as `case.list`).
pub async fn begin_inbox(cx: &Ctx) -> AppResult<Inbox> {
    let access = permission::require(&cx.state, &cx.actor, Action::Write, "case.list").await?;
    Ok(Inbox { cx: cx.clone(), access })
}

/// The departments' notifications the actor may read (a refusal is audited as
/// `case_notification.list`): the inbox's filter, without its cases.
pub async fn begin_notifications(cx: &Ctx) -> AppResult<Inbox> {
    let access = permission::require(&cx.state, &cx.actor, Action::Write, "case_notification.list").await?;
    Ok(Inbox { cx: cx.clone(), access })
}

/// A permitted inbox.
#[must_use]
pub struct Inbox {
    cx: Ctx,
    access: AccessFilter,
}

impl Inbox {
    /// The filter the actor may read.
    pub fn access(&self) -> &AccessFilter {
        &self.access
    }

    /// The cases of `query` at the state's clock, oldest acknowledgment deadline first; a bad
    /// parameter is `AppError::Invalid` naming it.
    pub async fn run(&self, query: &InboxQuery, paging: Paging) -> AppResult<Page<Case>> {
        let s = &self.cx.state;
        let settings = s.store.case_settings().await?;
        let codes: Vec<String> = settings.categories.into_iter().map(|c| c.code).collect();
        let filter = query.to_filter(&codes, s.clock.now()).map_err(|e| FieldErrors(vec![e]))?;
        Ok(s.store.case_inbox(&self.access, &filter, paging).await?)
    }

    /// The departments' notifications: newest first, at most `limit`, with the number unread.
    pub async fn notifications(&self, unread_only: bool, limit: i64) -> AppResult<(Vec<Notification>, i64)> {
        Ok(self.cx.state.store.case_notifications(&self.access, unread_only, limit).await?)
    }
}

/// May the actor mark notification `id` read? (A refusal is audited as `case_notification.read`; a
/// notification of another department's does not exist for them.)
pub async fn begin_mark_read(cx: &Ctx, id: i64) -> AppResult<MarkRead> {
    let access = permission::require(&cx.state, &cx.actor, Action::Write, "case_notification.read").await?;
    if !cx.state.store.case_notification_visible(id, &access).await? {
        return Err(super::AppError::NotFound);
    }
    Ok(MarkRead { cx: cx.clone(), access, id })
}

/// A permitted marking of a notification as read.
#[must_use]
pub struct MarkRead {
    cx: Ctx,
    access: AccessFilter,
    id: i64,
}

impl MarkRead {
    /// Marks the notification read for the whole department.
    pub async fn run(self) -> AppResult<()> {
        let at = self.cx.state.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(self.cx.state.store.mark_notification_read(self.id, &self.access, &self.cx.actor.name(), &at).await?)
    }
}

/// Marks notification `id` read for the whole department.
pub async fn mark_notification_read(cx: &Ctx, id: i64) -> AppResult<()> {
    begin_mark_read(cx, id).await?.run().await
}

/// One case with its full history, the contact masked (a refusal is audited as `case.read`).
/// Answers the filter it was read under, for what the page shows with it.
pub async fn read(cx: &Ctx, id: i64) -> AppResult<(Case, AccessFilter)> {
    let access = permission::authorize(&cx.state, &cx.actor, Action::Write, Target::Case(id), "case.read").await?;
    let case = cx.state.store.case(id, &access, Disclosure::Masked).await?;
    Ok((case, access))
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

/// A handler's step the actor may take on case `id`, waiting for its input (a refusal is audited
/// as `case.act`).
pub async fn begin_act(cx: &Ctx, id: i64) -> AppResult<Acting> {
    let access = permission::authorize(&cx.state, &cx.actor, Action::Write, Target::Case(id), "case.act").await?;
    Ok(Acting { cx: cx.clone(), access, id })
}

/// A permitted handler's step.
#[must_use]
pub struct Acting {
    cx: Ctx,
    access: AccessFilter,
    id: i64,
}

impl Acting {
    /// The filter the step was permitted under.
    pub fn access(&self) -> &AccessFilter {
        &self.access
    }

    /// Takes `input` at the state's clock under the case rules in force, audited as `case.<action>`.
    pub async fn run(self, input: &HandlerStep) -> AppResult<Case> {
        let step = input.to_step().map_err(|e| FieldErrors(vec![e]))?;
        let (s, actor, id) = (&self.cx.state, &self.cx.actor, self.id);
        let result = match s.store.case_settings().await {
            Ok(settings) => {
                s.store
                    .act_on_case(id, input.version, &step, &actor.name(), &self.access, &settings, s.clock.now())
                    .await
            }
            Err(e) => Err(e),
        };
        permission::audit_write(s, actor, &format!("case.{}", input.action), Some(Target::Case(id).object()), &result)
            .await;
        Ok(result?)
    }
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
