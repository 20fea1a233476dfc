//! `/dues/calculator` and `/development/check`: the members' rules for every signed-in role — one
//! month's dues, and the rules a development record's dates break. The same commands as the API
//! ([`crate::app::members`]), so a page and the API cannot differ.

page_routes! {
    "/dues/calculator" => get(dues_calculator),
    "/development/check" => get(development_form).post(development_check),
}

use crate::app::{members, Ctx};
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::{Failed, PageCtx};
use crate::views::members::{DuesAnswer, DuesQuery, ViolationView};
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Response;
use dangjian_domain::members::development::{DevelopmentInput, Introducer, Vote};
use dangjian_domain::members::dues::DuesCategory;
use dangjian_domain::{FieldError, FieldErrors, Message};
use minijinja::context;
use serde::Serialize;
use std::collections::BTreeMap;

fn categories() -> Vec<&'static str> {
    DuesCategory::ALL.iter().map(|c| c.as_str()).collect()
}

/// The calculator: the form, and with a `category` in the query, the result or the problems.
pub(super) async fn dues_calculator(cx: Ctx, ctx: PageCtx, RawQuery(raw): RawQuery) -> Result<Response, Failed> {
    let rules = members::begin(&cx).await.map_err(ctx.app_err())?;
    let query = DuesQuery::new(raw.as_deref().unwrap_or_default());
    let p = query.params();
    let form: BTreeMap<&str, &str> = ["category", "monthly_income", "previous_quarter", "farmer_amount", "on"]
        .into_iter()
        .map(|k| (k, query.get(k).unwrap_or_default()))
        .collect();
    let (mut result, mut problems, mut status) = (None, Problems::default(), StatusCode::OK);
    if p.category.is_some() {
        match rules.dues(&p) {
            Ok(o) => result = Some(DuesAnswer::new(&o, ctx.lang)),
            Err(errs) => {
                problems = Problems::from_errors(&errs, &ctx, str::to_owned);
                status = StatusCode::BAD_REQUEST;
            }
        }
    }
    let rate_percent = result.as_ref().and_then(|r| r.rate_percent.clone());
    Ok(ctx.render_status(
        status,
        "members/dues.html",
        context! { form, result, rate_percent, problems, categories => categories(), today => rules.today },
    ))
}

/// The date fields of the development form, in the order of the steps.
const DATE_FIELDS: [&str; 9] = [
    "birth_date",
    "applied_on",
    "talked_on",
    "activist_on",
    "target_on",
    "review_done_on",
    "admitted_on",
    "approved_on",
    "full_on",
];

/// The other fields of the development form.
const OTHER_FIELDS: [&str; 9] = [
    "assessments",
    "training_hours",
    "introducer_1",
    "introducer_2",
    "vote_present",
    "vote_eligible",
    "vote_for",
    "approval_extended",
    "extension_months",
];

#[derive(Debug, Default, Serialize)]
struct DevelopmentForm {
    fields: BTreeMap<&'static str, String>,
}

impl DevelopmentForm {
    fn from_form(f: &FormData) -> Self {
        Self { fields: DATE_FIELDS.iter().chain(OTHER_FIELDS.iter()).map(|k| (*k, f.text(k))).collect() }
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.fields.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The checker's input, or the problems of the fields that are not numbers or choices.
    fn input(&self) -> Result<DevelopmentInput, FieldErrors> {
        let mut errs = FieldErrors::default();
        let date = |k: &str| self.get(k).map(str::to_owned);
        let number = |k: &str, errs: &mut FieldErrors| -> Option<u32> {
            let v = self.get(k)?;
            errs.take(
                v.parse::<u32>()
                    .map_err(|_| FieldError::new(k, "invalid", Message::new("problem.invalid.enter_whole_number"))),
            )
        };
        let training_hours = number("training_hours", &mut errs);
        let extension_months = number("extension_months", &mut errs);
        let counts = ["vote_present", "vote_eligible", "vote_for"];
        let vote = if counts.iter().any(|k| self.get(k).is_some()) {
            let [present, eligible, votes_for] = counts.map(|k| {
                if self.get(k).is_none() {
                    errs.push(FieldError::new(k, "required", Message::new("problem.required")));
                }
                number(k, &mut errs)
            });
            match (present, eligible, votes_for) {
                (Some(present), Some(eligible), Some(votes_for)) => Some(Vote { present, eligible, votes_for }),
                _ => None,
            }
        } else {
            None
        };
        let introducers = ["introducer_1", "introducer_2"]
            .iter()
            .filter_map(|k| match self.get(k) {
                Some("full") => Some(Introducer { full_member: true }),
                Some(_) => Some(Introducer { full_member: false }),
                None => None,
            })
            .collect();
        let assessments = self
            .get("assessments")
            .map(|s| {
                s.split([',', '，', '\n', ';', '；', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let input = DevelopmentInput {
            birth_date: date("birth_date"),
            applied_on: date("applied_on"),
            talked_on: date("talked_on"),
            activist_on: date("activist_on"),
            assessments,
            target_on: date("target_on"),
            review_done_on: date("review_done_on"),
            training_hours,
            introducers,
            vote,
            admitted_on: date("admitted_on"),
            approved_on: date("approved_on"),
            approval_extended: self.get("approval_extended").is_some(),
            full_on: date("full_on"),
            extension_months,
        };
        errs.into_result().map(|()| input)
    }
}

/// The form field an error of the record belongs to (`vote.present` → `vote_present`,
/// `assessments[1]` → `assessments`).
fn development_field(field: &str) -> String {
    match field.split('[').next().unwrap_or(field) {
        f if f.starts_with("vote.") => f.replacen("vote.", "vote_", 1),
        f => f.to_owned(),
    }
}

fn render_development(
    ctx: &PageCtx,
    status: StatusCode,
    form: &DevelopmentForm,
    problems: &Problems,
    violations: Option<Vec<ViolationView>>,
    today: chrono::NaiveDate,
) -> Response {
    ctx.render_status(
        status,
        "members/development.html",
        context! { form, problems, violations, today, date_fields => DATE_FIELDS },
    )
}

pub(super) async fn development_form(cx: Ctx, ctx: PageCtx) -> Result<Response, Failed> {
    let rules = members::begin(&cx).await.map_err(ctx.app_err())?;
    let form = DevelopmentForm::default();
    Ok(render_development(&ctx, StatusCode::OK, &form, &Problems::default(), None, rules.today))
}

pub(super) async fn development_check(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let rules = members::begin(&cx).await.map_err(ctx.app_err())?;
    let form = DevelopmentForm::from_form(&body.read().await?);
    let record = form.input().and_then(|input| input.parse());
    Ok(match record {
        Ok(record) => {
            let violations = rules.check(&record).iter().map(|v| ViolationView::new(v, ctx.lang)).collect();
            render_development(&ctx, StatusCode::OK, &form, &Problems::default(), Some(violations), rules.today)
        }
        Err(errs) => {
            let problems = Problems::from_errors(&errs, &ctx, development_field);
            render_development(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &form, &problems, None, rules.today)
        }
    })
}
