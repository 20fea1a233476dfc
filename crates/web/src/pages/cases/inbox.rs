//! The handling departments' pages: `/cases`, the inbox (cases of the departments in the cadre's region
//! scopes, oldest deadline first, overdue ones marked) with the departments' unread notifications; and
//! `/cases/{id}`, one case with its whole history (internal notes included) and the handler's steps.
//! Handling a case is writing, so these pages need `Action::Write`; the worker's contact shows masked,
//! in full only after a deliberate, audited click.

use super::{category_name, china_time_text, Named};
use crate::app::cases::{self, HandlerStep, InboxQuery};
use crate::app::{AppError, Ctx};
use crate::auth::Actor;
use crate::pages::form::{FormBody, Problems};
use crate::pages::lists::{PageQuery, Pager};
use crate::pages::{Failed, PageCtx, PageId};
use crate::security_headers::no_store;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::SecondsFormat;
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::CaseStatus;
use dangjian_store::cases::{Case, Notification};
use dangjian_store::{Disclosure, StoreError};
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;

/// A case as the inbox and the case page show it.
#[derive(Debug, Serialize)]
struct CaseView {
    #[serde(flatten)]
    case: Case,
    category_name: String,
    region_name: String,
    created: String,
    /// The deadline that runs now (acknowledge while submitted, resolve while acknowledged).
    due_text: Option<String>,
    overdue: bool,
}

impl CaseView {
    fn new(case: Case, category_name: String, region_name: String, now: &str) -> Self {
        let due = match case.status {
            CaseStatus::Submitted => Some(&case.ack_due),
            CaseStatus::Acknowledged => Some(&case.resolve_due),
            _ => None,
        };
        Self {
            category_name,
            region_name,
            created: china_time_text(&case.created_at),
            due_text: due.map(|d| china_time_text(d)),
            overdue: due.is_some_and(|d| d.as_str() < now),
            case,
        }
    }
}

fn now_text(s: &AppState) -> String {
    s.clock.now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Full region names by code, each looked up once per page (a region missing from the reference shows
/// its code).
#[derive(Default)]
struct RegionNames(HashMap<String, String>);

impl RegionNames {
    async fn of(&mut self, s: &AppState, code: &str) -> String {
        if let Some(name) = self.0.get(code) {
            return name.clone();
        }
        let name = s.store.region_full_name(code).await.unwrap_or_else(|_| code.to_owned());
        self.0.insert(code.to_owned(), name.clone());
        name
    }
}

async fn view(s: &AppState, ctx: &PageCtx, settings: &CaseSettings, regions: &mut RegionNames, case: Case) -> CaseView {
    let region_name = regions.of(s, &case.region_code).await;
    let category = category_name(settings, &case.category, ctx.lang);
    CaseView::new(case, category, region_name, &now_text(s))
}

/// A notification as the inbox lists it.
#[derive(Debug, Serialize)]
struct NotificationView {
    #[serde(flatten)]
    n: Notification,
    at: String,
}

const STATUSES: [&str; 4] = ["submitted", "acknowledged", "resolved", "closed"];

/// `GET /cases`: the inbox.
pub async fn list(cx: Ctx, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    let s = &cx.state;
    let inbox = cases::begin_inbox(&cx).await.map_err(ctx.app_err())?;
    let settings = s.store.case_settings().await.map_err(ctx.store_err())?;
    let query = InboxQuery {
        status: q.get("status"),
        category: q.get("category"),
        overdue: q.get("overdue"),
        ..Default::default()
    };
    let page = inbox.run(&query, q.paging()).await.map_err(|e| match e {
        AppError::Invalid(errs) => {
            ctx.bad_request(errs.0.first().map(|e| e.message_in(ctx.lang.code()).to_owned()).unwrap_or_default())
        }
        e => e.page(&ctx),
    })?;
    let pager = Pager::of(&page);
    let mut regions = RegionNames::default();
    let mut cases = Vec::with_capacity(page.items.len());
    for c in page.items {
        cases.push(view(s, &ctx, &settings, &mut regions, c).await);
    }
    let (notes, unread) = inbox.notifications(true, 20).await.map_err(ctx.app_err())?;
    let notifications: Vec<NotificationView> =
        notes.into_iter().map(|n| NotificationView { at: china_time_text(&n.created_at), n }).collect();
    let total = page.total;
    Ok(ctx.render(
        "cases/inbox.html",
        context! {
            cases, pager, total, notifications, unread, statuses => STATUSES, query => q.0,
            categories => super::category_options(&settings, ctx.lang),
        },
    ))
}

/// The steps a handler may take on a case in `status`.
fn steps_for(status: CaseStatus) -> &'static [&'static str] {
    match status {
        CaseStatus::Submitted => &["acknowledge", "assign", "note", "transfer", "resolve"],
        CaseStatus::Acknowledged => &["assign", "note", "transfer", "resolve"],
        CaseStatus::Resolved => &["note", "reopen"],
        CaseStatus::Closed => &[],
    }
}

/// How the case page answers: its status, the problems of a refused step, or the step just done.
struct Answer {
    status: StatusCode,
    problems: Problems,
    done: Option<String>,
}

async fn render_case(
    s: &AppState,
    actor: &Actor,
    ctx: &PageCtx,
    case: Case,
    answer: Answer,
) -> Result<Response, Failed> {
    let Answer { status, problems, done } = answer;
    let id = case.id;
    let steps = steps_for(case.status);
    let departments: Vec<Named> = s
        .store
        .departments()
        .await
        .map_err(ctx.store_err())?
        .into_iter()
        .filter(|d| d.id != case.department_id)
        .map(|d| Named { code: d.id.to_string(), name: d.name })
        .collect();
    let sector_name = match &case.sector {
        None => None,
        Some(code) => Some(
            s.store
                .list_sectors()
                .await
                .map_err(ctx.store_err())?
                .into_iter()
                .find(|x| &x.code == code)
                .map_or_else(|| code.clone(), |x| ctx.lang.pick(&x.name_zh, &x.name_en)),
        ),
    };
    let may_reveal = case.contact.is_some() && crate::app::personal::may_reveal_case_contact(s, actor, id).await;
    let events: Vec<_> = case
        .events
        .iter()
        .map(|e| context! { at => china_time_text(&e.at), actor => e.actor, action => e.action, note => e.note, public => e.public })
        .collect();
    let settings = s.store.case_settings().await.map_err(ctx.store_err())?;
    let c = view(s, ctx, &settings, &mut RegionNames::default(), case).await;
    let mut r = ctx.render_status(
        status,
        "cases/case.html",
        context! { c, events, steps, departments, may_reveal, problems, done, sector_name },
    );
    no_store(r.headers_mut());
    Ok(r)
}

/// `GET /cases/{id}`: one case with its history and the handler's steps.
pub async fn show(cx: Ctx, ctx: PageCtx, PageId(id): PageId, q: PageQuery) -> Result<Response, Failed> {
    let (s, actor) = (&cx.state, &cx.actor);
    let (case, _) = cases::read(&cx, id).await.map_err(ctx.app_err())?;
    let done = q.get("done").filter(|d| steps_for(CaseStatus::Submitted).contains(&d.as_str()) || d == "reopen");
    let done = done.map(|d| ctx.t(&format!("cases.done.{d}")));
    render_case(s, actor, &ctx, case, Answer { status: StatusCode::OK, problems: Problems::default(), done }).await
}

/// `POST /cases/{id}`: a handler's step (audited as `case.<action>`); back to the case.
pub async fn act(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    let (s, actor) = (&cx.state, &cx.actor);
    let acting = cases::begin_act(&cx, id).await.map_err(ctx.app_err())?;
    let access = acting.access().clone();
    let f = body.read().await?;
    let action = f.text("action");
    let input = HandlerStep {
        version: f.get("version").and_then(|v| v.parse().ok()).unwrap_or(0),
        action: action.clone(),
        note: f.get("note"),
        public: f.get("public").is_some(),
        department_id: f.get("department_id").and_then(|v| v.parse().ok()),
        assignee: f.get("assignee"),
    };
    let problems = match acting.run(&input).await {
        Ok(_) => return Ok(Redirect::to(&format!("/cases/{id}?done={action}")).into_response()),
        Err(AppError::Invalid(errs) | AppError::Store(StoreError::Invalid(errs))) => {
            Problems::from_errors(&errs, &ctx, str::to_owned)
        }
        Err(AppError::Store(StoreError::StaleVersion { .. })) => Problems::whole_form(ctx.t("cases.stale")),
        Err(e) => return Err(e.page(&ctx)),
    };
    let case = s.store.case(id, &access, Disclosure::Masked).await.map_err(ctx.store_err())?;
    let answer = Answer { status: StatusCode::UNPROCESSABLE_ENTITY, problems, done: None };
    render_case(s, actor, &ctx, case, answer).await
}

/// `POST /cases/{id}/contact`: the worker's contact in full, on a page of its own (audited; never cached).
pub async fn reveal_contact(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    crate::app::personal::permit_case_contact(&s, &actor, id).await.map_err(|r| r.page(&ctx))?;
    body.read().await?;
    let contact = crate::app::personal::reveal_case_contact(&s, &actor, id).await.map_err(|r| r.page(&ctx))?;
    let mut r = ctx.render("cases/contact.html", context! { id, contact });
    no_store(r.headers_mut());
    Ok(r)
}

/// `POST /cases/notifications/{id}/read`: marks a notification read; back to the inbox.
pub async fn mark_read(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    let marking = cases::begin_mark_read(&cx, id).await.map_err(ctx.app_err())?;
    body.read().await?;
    marking.run().await.map_err(ctx.app_err())?;
    Ok(Redirect::to("/cases").into_response())
}
