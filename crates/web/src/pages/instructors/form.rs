//! `/instructors/new` and `/instructors/{id}/edit`: the instructor form with rows of assignments.
//! On edit the stored mobile number is never sent to the browser: a blank field keeps it.

use crate::app::permission::{self, Target};
use crate::app::{instructors, Ctx};
use crate::auth::Actor;
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::lists::PageQuery;
use crate::pages::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Action;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::Mobile;
use dangjian_store::instructors::Instructor;
use dangjian_store::StoreError;
use minijinja::context;
use serde::Serialize;

/// Blank assignment rows offered below the filled ones.
const SPARE_ROWS: usize = 1;

/// Most assignment rows read from one submission.
const MAX_ROWS: usize = 500;

#[derive(Debug, Default, Clone, Serialize)]
struct AssignmentRow {
    unit_code: String,
    start_on: String,
    end_on: String,
}

impl AssignmentRow {
    fn is_blank(&self) -> bool {
        self.unit_code.is_empty() && self.start_on.is_empty() && self.end_on.is_empty()
    }
}

#[derive(Debug, Default, Serialize)]
struct InstructorForm {
    name: String,
    /// As typed in this submission; empty on edit means "keep the stored number".
    mobile: String,
    dispatching_org: String,
    region_code: String,
    assignments: Vec<AssignmentRow>,
    version: Option<i64>,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl InstructorForm {
    fn from_form(f: &FormData) -> Self {
        let assignments = (0..MAX_ROWS)
            .take_while(|i| has_row(f, *i))
            .map(|i| {
                let key = |k: &str| format!("assignments[{i}].{k}");
                AssignmentRow {
                    unit_code: f.text(&key("unit_code")).to_uppercase(),
                    start_on: f.text(&key("start_on")),
                    end_on: f.text(&key("end_on")),
                }
            })
            .collect();
        InstructorForm {
            name: f.text("name"),
            mobile: f.text("mobile"),
            dispatching_org: f.text("dispatching_org"),
            region_code: f.text("region_code"),
            assignments,
            version: f.get("version").and_then(|v| v.parse().ok()),
        }
    }

    fn from_instructor(i: &Instructor) -> Self {
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
        InstructorForm {
            name: i.name.clone(),
            mobile: String::new(),
            dispatching_org: i.dispatching_org.clone().unwrap_or_default(),
            region_code: i.region_code.clone(),
            assignments: i
                .assignments
                .iter()
                .map(|a| AssignmentRow {
                    unit_code: a.entity_code.clone(),
                    start_on: date(Some(a.start_on)),
                    end_on: date(a.end_on),
                })
                .collect(),
            version: Some(i.version),
        }
    }

    /// Adds the spare rows the page offers for new assignments.
    fn with_spare_rows(mut self) -> Self {
        let blanks = self.assignments.iter().rev().take_while(|r| r.is_blank()).count();
        for _ in blanks..SPARE_ROWS {
            self.assignments.push(AssignmentRow::default());
        }
        self
    }

    /// The input for the domain, and for each assignment sent the form row it came from.
    fn to_input(&self, stored_mobile: Option<&str>) -> (InstructorInput, Vec<usize>) {
        let mut rows = Vec::new();
        let mut assignments = Vec::new();
        for (i, r) in self.assignments.iter().enumerate().filter(|(_, r)| !r.is_blank()) {
            rows.push(i);
            assignments.push(AssignmentInput {
                entity_id: None,
                unit_code: opt(&r.unit_code),
                start_on: opt(&r.start_on),
                end_on: opt(&r.end_on),
            });
        }
        let mobile = opt(&self.mobile).or_else(|| stored_mobile.map(str::to_owned));
        let input = InstructorInput {
            name: opt(&self.name),
            mobile,
            dispatching_org: opt(&self.dispatching_org),
            region_code: opt(&self.region_code),
            assignments,
        };
        (input, rows)
    }
}

/// Whether the form sent assignment row `i` at all (blank rows count: they keep the numbering).
fn has_row(f: &FormData, i: usize) -> bool {
    f.has_prefix(&format!("assignments[{i}]."))
}

/// The form input an error's field belongs to: assignment indexes are mapped back to form rows.
fn form_field(field: &str, rows: &[usize]) -> String {
    if let Some(rest) = field.strip_prefix("assignments[") {
        if let Some((n, sub)) = rest.split_once("].") {
            let row = n.parse::<usize>().ok().and_then(|n| rows.get(n).copied()).unwrap_or(0);
            let sub = if sub == "entity_id" { "unit_code" } else { sub };
            return format!("assignments[{row}].{sub}");
        }
    }
    field.to_owned()
}

fn render(
    ctx: &PageCtx,
    status: StatusCode,
    form: InstructorForm,
    problems: Problems,
    current: Option<&Instructor>,
) -> Response {
    let (action, masked) = match current {
        Some(i) => (format!("/instructors/{}/edit", i.id), Some(i.mobile_masked.clone())),
        None => ("/instructors/new".to_owned(), None),
    };
    let instructor = current.map(|i| context! { id => i.id, name => i.name.clone() });
    ctx.render_status(
        status,
        "instructors/form.html",
        context! { form => form.with_spare_rows(), problems, action, masked_mobile => masked, instructor },
    )
}

/// Saves the form as `actor`, whose write scopes are `access`.
async fn save(
    s: &AppState,
    pending: instructors::Pending,
    ctx: &PageCtx,
    form: InstructorForm,
    current: Option<Instructor>,
) -> Result<Response, Failed> {
    // A blank number on edit keeps the stored one, read only to be written back (never shown).
    let stored = match &current {
        Some(c) if form.mobile.trim().is_empty() => {
            Some(s.store.instructor_mobile(c.id).await.map_err(ctx.store_err())?)
        }
        _ => None,
    };
    let (input, rows) = form.to_input(stored.as_ref().map(Mobile::as_str));
    let saved = match pending.save(&input, form.version.unwrap_or(-1)).await {
        Ok(i) => Ok(i),
        Err(e) => Err(ctx.input_err(e)?),
    };
    match saved {
        Ok(i) => Ok(Redirect::to(&format!("/instructors/{}?saved=1", i.id)).into_response()),
        Err(StoreError::Invalid(errs)) => {
            let problems = Problems::from_errors(&errs, ctx, |f| form_field(f, &rows));
            Ok(render(ctx, StatusCode::UNPROCESSABLE_ENTITY, form, problems, current.as_ref()))
        }
        Err(StoreError::StaleVersion { current: v }) => {
            let message = ctx.lang.t("form.stale", &[("version", v.to_string())]);
            Ok(render(ctx, StatusCode::CONFLICT, form, Problems::whole_form(message), current.as_ref()))
        }
        Err(e) => Err(ctx.store_err()(e)),
    }
}

pub async fn new(State(s): State<AppState>, actor: Actor, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    permission::require(&s, &actor, Action::Write, "instructor.create").await.map_err(|r| r.page(&ctx))?;
    let mut form = InstructorForm::default();
    if let Some(unit) = q.id("unit") {
        permission::authorize(&s, &actor, Action::Read, Target::Entity(unit), "entity.read")
            .await
            .map_err(|r| r.page(&ctx))?;
        let u = s.store.entity(unit).await.map_err(ctx.store_err())?;
        form.region_code = u.region_code.clone();
        let today = chrono::Local::now().date_naive().format("%Y-%m-%d").to_string();
        form.assignments.push(AssignmentRow { unit_code: u.code().to_owned(), start_on: today, end_on: String::new() });
    }
    Ok(render(&ctx, StatusCode::OK, form, Problems::default(), None))
}

pub async fn create(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let pending = instructors::begin_create(&cx).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    save(&cx.state, pending, &ctx, InstructorForm::from_form(&data), None).await
}

pub async fn edit(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
) -> Result<Response, Failed> {
    permission::authorize(&s, &actor, Action::Write, Target::Instructor(id), "instructor.update")
        .await
        .map_err(|r| r.page(&ctx))?;
    let i = s.store.instructor(id).await.map_err(ctx.store_err())?;
    Ok(render(&ctx, StatusCode::OK, InstructorForm::from_instructor(&i), Problems::default(), Some(&i)))
}

pub async fn update(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    let pending = instructors::begin_update(&Ctx::new(&s, &actor), id).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let current = s.store.instructor(id).await.map_err(ctx.store_err())?;
    save(&s, pending, &ctx, InstructorForm::from_form(&data), Some(current)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_rows_are_skipped_and_errors_map_back() {
        let data = FormData::from_pairs(&[
            ("name", "李明"),
            ("assignments[0].unit_code", ""),
            ("assignments[0].start_on", ""),
            ("assignments[1].unit_code", "mt-1"),
            ("assignments[1].start_on", "2024-01-01"),
        ]);
        let f = InstructorForm::from_form(&data);
        assert_eq!(f.assignments.len(), 2);
        let (input, rows) = f.to_input(Some("13812341234"));
        assert_eq!(input.mobile.as_deref(), Some("13812341234"));
        assert_eq!(input.assignments.len(), 1);
        assert_eq!(input.assignments[0].unit_code.as_deref(), Some("MT-1"));
        assert_eq!(form_field("assignments[0].entity_id", &rows), "assignments[1].unit_code");
        assert_eq!(form_field("mobile", &rows), "mobile");
    }
}
