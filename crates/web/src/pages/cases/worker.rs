//! The worker's pages, built for a phone and used with no account: `/report` files a case (anonymously
//! if the worker wishes; the place is a typed district, never a position), and `/track/{code}` follows
//! it — status, deadlines, the department's public replies — where the worker adds information, rates
//! the outcome or reopens it. The tracking code is the only key; nothing identifies the visitor.

use super::{category_name, category_options, china_time_text, Named};
use crate::app::cases::{CaseInput, WorkerStep};
use crate::pages::form::{anonymous_csrf, with_cookie, FormData, Problems};
use crate::pages::lists::PageQuery;
use crate::pages::{Failed, PageCtx};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::services::cases::{parse_tracking_code, CaseStatus};
use dangjian_domain::Message;
use dangjian_domain::{EntityKind, FieldError, FieldErrors};
use dangjian_store::cases::PublicCase;
use dangjian_store::entities::EntityFilter;
use dangjian_store::{AccessFilter, Paging, StoreError};
use minijinja::context;
use serde::Serialize;

/// What the worker typed into the report form.
#[derive(Debug, Default, Serialize)]
struct ReportForm {
    category: String,
    sector: String,
    platform_id: String,
    district: String,
    region_code: String,
    description: String,
    contact: String,
    anonymous: bool,
}

impl ReportForm {
    fn from_form(f: &FormData) -> Self {
        Self {
            category: f.text("category"),
            sector: f.text("sector"),
            platform_id: f.text("platform_id"),
            district: f.text("district"),
            region_code: f.text("region_code"),
            description: f.text("description"),
            contact: f.text("contact"),
            anonymous: f.get("anonymous").is_some(),
        }
    }
}

/// A region the typed district may mean, with its full name (`广东省深圳市南山区`).
#[derive(Debug, Serialize)]
struct RegionChoice {
    code: String,
    full_name: String,
}

/// What a typed district names: one region, several to choose from, or none.
enum Place {
    One(String),
    Choose(Vec<RegionChoice>),
    Unknown,
}

/// Resolves a typed district: an exact name wins (if only one region has it), else the only match;
/// otherwise the worker chooses among at most ten, best matches first.
async fn resolve_district(s: &AppState, text: &str) -> Result<Place, StoreError> {
    let found = s.store.regions_named(text).await?;
    let exact = found.iter().filter(|r| r.name == text).count();
    if exact == 1 || found.len() == 1 {
        return Ok(Place::One(found[0].code.clone()));
    }
    if found.is_empty() {
        return Ok(Place::Unknown);
    }
    let mut choices = Vec::new();
    for r in found.iter().take(if exact > 1 { exact.min(10) } else { 10 }) {
        choices.push(RegionChoice { code: r.code.clone(), full_name: s.store.region_full_name(&r.code).await? });
    }
    Ok(Place::Choose(choices))
}

/// The sectors and the registered platforms, named for the form.
async fn form_options(s: &AppState, ctx: &PageCtx) -> Result<(Vec<Named>, Vec<Named>), Failed> {
    let sectors = s.store.list_sectors().await.map_err(ctx.store_err())?;
    let sectors =
        sectors.into_iter().map(|x| Named { name: ctx.lang.pick(&x.name_zh, &x.name_en), code: x.code }).collect();
    // Platform names are public; every worker may name one.
    let filter = EntityFilter { kind: Some(EntityKind::Platform), closed: Some(false), ..Default::default() };
    let platforms = s
        .store
        .list_entities(&filter, Paging::new(Some(1), Some(500)), &AccessFilter::unrestricted())
        .await
        .map_err(ctx.store_err())?
        .items;
    let platforms = platforms.into_iter().map(|p| Named { code: p.id.to_string(), name: p.name }).collect();
    Ok((sectors, platforms))
}

async fn render_report(
    s: &AppState,
    mut ctx: PageCtx,
    headers: &HeaderMap,
    status: StatusCode,
    form: ReportForm,
    problems: Problems,
    choices: Vec<RegionChoice>,
) -> Result<Response, Failed> {
    let settings = s.store.case_settings().await.map_err(ctx.store_err())?;
    let (sectors, platforms) = form_options(s, &ctx).await?;
    let new_cookie = anonymous_csrf(s, headers, &mut ctx).await;
    let page = context! {
        form, problems, choices, sectors, platforms,
        categories => category_options(&settings, ctx.lang),
    };
    Ok(with_cookie(ctx.render_status(status, "cases/report.html", page), new_cookie))
}

/// `GET /report`: the form.
pub async fn report_form(State(s): State<AppState>, ctx: PageCtx, headers: HeaderMap) -> Result<Response, Failed> {
    render_report(&s, ctx, &headers, StatusCode::OK, ReportForm::default(), Problems::default(), Vec::new()).await
}

/// The form's input name for a field of the API or the store.
fn report_field(field: &str) -> String {
    match field {
        "region_code" => "district".into(),
        other => other.into(),
    }
}

/// `POST /report`: files the case and goes to its tracking page, or shows the form again with every
/// problem next to its field (and, for an ambiguous district, the places it may mean).
pub async fn report_submit(
    State(s): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    f: FormData,
) -> Result<Response, Failed> {
    let mut form = ReportForm::from_form(&f);
    let mut errs = FieldErrors::default();
    let mut choices = Vec::new();
    if form.region_code.is_empty() && !form.district.is_empty() {
        match resolve_district(&s, &form.district).await.map_err(ctx.store_err())? {
            Place::One(code) => form.region_code = code,
            Place::Choose(c) => {
                choices = c;
                errs.push(FieldError::new("district", "ambiguous", Message::new("problem.ambiguous")));
            }
            Place::Unknown => {
                errs.push(FieldError::new("district", "unknown", Message::new("problem.unknown.no_district_street")))
            }
        }
    }
    // Checked here too, so that one answer names every problem.
    let settings = s.store.case_settings().await.map_err(ctx.store_err())?;
    if !form.category.is_empty() && settings.category(&form.category).is_none() {
        errs.push(FieldError::new("category", "unknown", Message::new("problem.unknown.choose_category_list")));
    }
    let platform_id = match form.platform_id.as_str() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errs.push(FieldError::new(
                    "platform_id",
                    "invalid",
                    Message::new("problem.invalid.choose_platform_list"),
                ));
                None
            }
        },
    };
    let input = CaseInput {
        category: Some(form.category.clone()),
        sector: Some(form.sector.clone()),
        platform_id,
        region_code: Some(form.region_code.clone()),
        description: Some(form.description.clone()),
        contact: Some(form.contact.clone()),
        anonymous: form.anonymous,
    };
    let new = match input.to_new() {
        // The district's own problem says more than "region required".
        Err(e) => {
            errs.0.extend(e.0.into_iter().filter(|e| e.field != "region_code" || form.district.is_empty()));
            None
        }
        Ok(new) => Some(new),
    };
    let problems = |errs: &FieldErrors| Problems::from_errors(errs, &ctx, report_field);
    let Some(new) = new.filter(|_| errs.is_empty()) else {
        let p = problems(&errs);
        return render_report(&s, ctx, &headers, StatusCode::UNPROCESSABLE_ENTITY, form, p, choices).await;
    };
    match crate::app::cases::submit(&s, &new).await {
        Ok(done) => Ok(Redirect::to(&format!("/track/{}?filed=1", done.tracking_code)).into_response()),
        Err(StoreError::Invalid(e)) => {
            let p = problems(&e);
            render_report(&s, ctx, &headers, StatusCode::UNPROCESSABLE_ENTITY, form, p, choices).await
        }
        Err(StoreError::Conflict { message, .. }) => {
            let p = Problems::whole_form(ctx.lang.say(&message));
            render_report(&s, ctx, &headers, StatusCode::CONFLICT, form, p, choices).await
        }
        Err(e) => Err(ctx.store_err()(e)),
    }
}

/// `GET /track`: the form to type a tracking code; `?code=` goes to the case.
pub async fn track_lookup(ctx: PageCtx, q: PageQuery) -> Response {
    let Some(typed) = q.get("code") else {
        return ctx.render("cases/track_lookup.html", context! { code => "", problem => None::<String> });
    };
    match parse_tracking_code(&typed) {
        Ok(code) => Redirect::to(&format!("/track/{code}")).into_response(),
        Err(e) => ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "cases/track_lookup.html",
            context! { code => typed, problem => e.message_in(ctx.lang.code()) },
        ),
    }
}

/// One line of the public history.
#[derive(Debug, Serialize)]
struct EventView {
    at: String,
    action: String,
    by_worker: bool,
    note: Option<String>,
}

/// The case as its tracking page shows it.
#[derive(Debug, Serialize)]
struct TrackView {
    #[serde(flatten)]
    case: PublicCase,
    category_name: String,
    region_name: String,
    created: String,
    ack_due_text: String,
    resolve_due_text: String,
    history: Vec<EventView>,
    may_add: bool,
    may_rate: bool,
}

async fn track_view(s: &AppState, ctx: &PageCtx, case: PublicCase) -> Result<TrackView, Failed> {
    let settings = s.store.case_settings().await.map_err(ctx.store_err())?;
    let region_name = s.store.region_full_name(&case.region_code).await.unwrap_or_else(|_| case.region_code.clone());
    let history = case
        .events
        .iter()
        .map(|e| EventView {
            at: china_time_text(&e.at),
            action: e.action.clone(),
            by_worker: e.actor == dangjian_store::cases::WORKER,
            note: e.note.clone(),
        })
        .collect();
    Ok(TrackView {
        category_name: category_name(&settings, &case.category, ctx.lang),
        region_name,
        created: china_time_text(&case.created_at),
        ack_due_text: china_time_text(&case.ack_due),
        resolve_due_text: china_time_text(&case.resolve_due),
        history,
        may_add: case.status != CaseStatus::Closed,
        may_rate: case.status == CaseStatus::Resolved,
        case,
    })
}

async fn render_track(
    s: &AppState,
    mut ctx: PageCtx,
    headers: &HeaderMap,
    status: StatusCode,
    case: PublicCase,
    problems: Problems,
    notice: Option<String>,
) -> Result<Response, Failed> {
    let view = track_view(s, &ctx, case).await?;
    let new_cookie = anonymous_csrf(s, headers, &mut ctx).await;
    let page = context! { c => view, problems, notice };
    let mut r = ctx.render_status(status, "cases/track.html", page);
    // The page holds the case's text: never kept by a shared cache or the browser's.
    crate::security_headers::no_store(r.headers_mut());
    Ok(with_cookie(r, new_cookie))
}

/// `GET /track/{code}`: the case as the worker may see it.
pub async fn track_page(
    State(s): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(code): Path<String>,
    q: PageQuery,
) -> Result<Response, Failed> {
    let case = s.store.track_case(&code).await.map_err(|e| match e {
        StoreError::Invalid(_) => ctx.not_found(),
        e => ctx.store_err()(e),
    })?;
    let notice = if q.get("filed").is_some() {
        Some("filed")
    } else {
        q.get("done").and_then(|d| ["add_info", "rate", "reopen"].into_iter().find(|a| *a == d))
    };
    let notice = notice.map(|n| ctx.t(&format!("track.done.{n}")));
    render_track(&s, ctx, &headers, StatusCode::OK, case, Problems::default(), notice).await
}

/// `POST /track/{code}`: the worker adds information, rates (1–5) or reopens.
pub async fn track_act(
    State(s): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(code): Path<String>,
    f: FormData,
) -> Result<Response, Failed> {
    let action = f.text("action");
    let rating = match f.get("rating") {
        None => None,
        Some(r) => r.parse::<i64>().ok().or(Some(0)),
    };
    let step = WorkerStep { action: action.clone(), note: f.get("note"), rating }.to_step();
    let result = match step {
        Ok(step) => crate::app::cases::worker_act(&s, &code, &step).await,
        Err(e) => Err(StoreError::Invalid(FieldErrors(vec![e]))),
    };
    match result {
        Ok(case) => Ok(Redirect::to(&format!("/track/{}?done={action}", case.tracking_code)).into_response()),
        Err(StoreError::Invalid(errs)) => {
            let case = s.store.track_case(&code).await.map_err(ctx.store_err())?;
            let p = Problems::from_errors(&errs, &ctx, str::to_owned);
            render_track(&s, ctx, &headers, StatusCode::UNPROCESSABLE_ENTITY, case, p, None).await
        }
        Err(e) => Err(ctx.store_err()(e)),
    }
}
