//! `/admin/case-settings`: the case rules for the system administrator — the categories with their
//! deadlines in working days, public holidays and make-up working days, how long closed cases keep
//! personal fields, after how many days an unrated resolved case closes — and the routing table
//! (category × sector × region level → department kind). Each problem is shown at its cell; nothing is
//! saved unless everything is right. Every change is audited.

use crate::app::{case_settings, Ctx};
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::lists::PageQuery;
use crate::pages::{Failed, PageCtx};
use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::Category;
use dangjian_domain::services::routing::{RoutingRule, DEPARTMENT_KINDS};
use dangjian_domain::services::workdays::WorkCalendar;
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors, RegionLevel};
use minijinja::context;
use serde::Serialize;
use std::collections::BTreeSet;

/// The form as typed: table rows and text boxes.
#[derive(Debug, Default, Serialize)]
struct SettingsForm {
    categories: Vec<[String; 5]>,
    holidays: String,
    workdays: String,
    retention_days: String,
    auto_close_days: String,
}

fn days_text(days: &BTreeSet<chrono::NaiveDate>) -> String {
    days.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
}

impl SettingsForm {
    fn of(s: &CaseSettings) -> Self {
        Self {
            categories: s
                .categories
                .iter()
                .map(|c| {
                    [
                        c.code.clone(),
                        c.name_zh.clone(),
                        c.name_en.clone(),
                        c.ack_days.to_string(),
                        c.resolve_days.to_string(),
                    ]
                })
                .collect(),
            holidays: days_text(&s.calendar.holidays),
            workdays: days_text(&s.calendar.workdays),
            retention_days: s.retention_days.to_string(),
            auto_close_days: s.auto_close_days.to_string(),
        }
    }

    fn from_form(f: &FormData) -> Self {
        let cols = ["cat_code", "cat_name_zh", "cat_name_en", "cat_ack_days", "cat_resolve_days"].map(|c| f.column(c));
        let rows = cols.iter().map(Vec::len).max().unwrap_or(0);
        let cell = |c: usize, r: usize| cols[c].get(r).cloned().unwrap_or_default();
        Self {
            categories: (0..rows)
                .map(|r| [cell(0, r), cell(1, r), cell(2, r), cell(3, r), cell(4, r)])
                // A blank row (the one offered for a new category, or one emptied to remove it) is no category.
                .filter(|row| row.iter().any(|v| !v.is_empty()))
                .collect(),
            holidays: f.text("holidays"),
            workdays: f.text("workdays"),
            retention_days: f.text("retention_days"),
            auto_close_days: f.text("auto_close_days"),
        }
    }

    /// The settings the form describes, or every problem, each naming its cell or box.
    fn parse(&self) -> Result<CaseSettings, FieldErrors> {
        let mut errs = FieldErrors::default();
        let mut number = |field: String, text: &str| -> u32 {
            text.parse::<u32>().unwrap_or_else(|_| {
                errs.push(FieldError::new(&field, "invalid", Message::new("problem.invalid.enter_whole_number")));
                0
            })
        };
        let categories: Vec<Category> = self
            .categories
            .iter()
            .enumerate()
            .map(|(i, [code, zh, en, ack, resolve])| Category {
                code: code.clone(),
                name_zh: zh.clone(),
                name_en: en.clone(),
                ack_days: number(format!("categories[{i}].ack_days"), ack),
                resolve_days: number(format!("categories[{i}].resolve_days"), resolve),
            })
            .collect();
        let retention_days = number("retention_days".into(), &self.retention_days);
        let auto_close_days = number("auto_close_days".into(), &self.auto_close_days);
        let mut days = |field: &str, text: &str| {
            WorkCalendar::parse_days(text).unwrap_or_else(|bad| {
                errs.push(FieldError::new(
                    field,
                    "invalid",
                    Message::new("problem.invalid.read_bad_write").arg("bad", bad),
                ));
                BTreeSet::new()
            })
        };
        let calendar =
            WorkCalendar { holidays: days("holidays", &self.holidays), workdays: days("workdays", &self.workdays) };
        let settings = CaseSettings { categories, calendar, retention_days, auto_close_days };
        // The settings' own checks, for the values that were numbers at all.
        if let Err(more) = settings.check() {
            for e in more.0 {
                if !errs.0.iter().any(|x| x.field == e.field) {
                    errs.push(e);
                }
            }
        }
        errs.into_result().map(|()| settings)
    }
}

/// The routing table as typed: one row per line, `[category, sector, level, department kind]`.
fn routing_rows(rules: &[RoutingRule]) -> Vec<[String; 4]> {
    rules
        .iter()
        .map(|r| {
            [
                r.category.clone().unwrap_or_default(),
                r.sector.clone().unwrap_or_default(),
                r.level.map(|l| l.as_str().to_owned()).unwrap_or_default(),
                r.department_kind.clone(),
            ]
        })
        .collect()
}

fn parse_routing(f: &FormData) -> (Vec<[String; 4]>, Result<Vec<RoutingRule>, FieldErrors>) {
    let cols = ["rule_category", "rule_sector", "rule_level", "rule_kind"].map(|c| f.column(c));
    let n = cols.iter().map(Vec::len).max().unwrap_or(0);
    let cell = |c: usize, r: usize| cols[c].get(r).cloned().unwrap_or_default();
    let rows: Vec<[String; 4]> = (0..n)
        .map(|r| [cell(0, r), cell(1, r), cell(2, r), cell(3, r)])
        .filter(|row| row.iter().any(|v| !v.is_empty()))
        .collect();
    let mut errs = FieldErrors::default();
    let blank = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
    let rules = rows
        .iter()
        .enumerate()
        .map(|(i, [category, sector, level, kind])| {
            if kind.is_empty() {
                errs.push(FieldError::new(
                    &format!("rules[{i}].department_kind"),
                    "required",
                    Message::new("problem.required.choose_kind"),
                ));
            }
            let level = match level.as_str() {
                "" => None,
                l => RegionLevel::parse(l).or_else(|| {
                    errs.push(FieldError::new(
                        &format!("rules[{i}].level"),
                        "unknown",
                        Message::new("problem.unknown.unknown_level"),
                    ));
                    None
                }),
            };
            RoutingRule { category: blank(category), sector: blank(sector), level, department_kind: kind.clone() }
        })
        .collect();
    (rows, errs.into_result().map(|()| rules))
}

#[derive(Debug, Serialize)]
struct Kind {
    code: &'static str,
    name: &'static str,
}

async fn render(
    s: &AppState,
    ctx: &PageCtx,
    status: StatusCode,
    form: SettingsForm,
    rules: Vec<[String; 4]>,
    problems: Problems,
    done: Option<String>,
) -> Result<Response, Failed> {
    let kinds: Vec<Kind> = DEPARTMENT_KINDS
        .iter()
        .map(|(code, zh, en)| Kind { code, name: if ctx.lang.code() == "en" { en } else { zh } })
        .collect();
    let sectors = s.store.list_sectors().await.map_err(ctx.store_err())?;
    let sectors: Vec<super::super::cases::Named> = sectors
        .into_iter()
        .map(|x| super::super::cases::Named { name: ctx.lang.pick(&x.name_zh, &x.name_en), code: x.code })
        .collect();
    let levels = ["province", "prefecture", "county", "township"];
    // Each table ends with a blank row for a new line.
    let mut category_rows = form.categories.clone();
    category_rows.push(Default::default());
    let mut rule_rows = rules;
    rule_rows.push(Default::default());
    Ok(ctx.render_status(
        status,
        "admin/case_settings.html",
        context! { form, category_rows, rule_rows, problems, done, kinds, sectors, levels },
    ))
}

async fn current(s: &AppState, ctx: &PageCtx) -> Result<(SettingsForm, Vec<[String; 4]>), Failed> {
    let settings = s.store.case_settings().await.map_err(ctx.store_err())?;
    let rules = s.store.routing_table().await.map_err(ctx.store_err())?;
    Ok((SettingsForm::of(&settings), routing_rows(&rules)))
}

pub async fn form(cx: Ctx, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    case_settings::read(&cx).await.map_err(ctx.app_err())?;
    let s = cx.state.clone();
    let (form, rules) = current(&s, &ctx).await?;
    let done =
        q.get("done").filter(|d| d == "settings" || d == "routing").map(|d| ctx.t(&format!("case_settings.saved_{d}")));
    render(&s, &ctx, StatusCode::OK, form, rules, Problems::default(), done).await
}

pub async fn save(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let s = &cx.state;
    let change = case_settings::begin_settings(&cx).await.map_err(ctx.app_err())?;
    let f = body.read().await?;
    let typed = SettingsForm::from_form(&f);
    let errs = match typed.parse() {
        Ok(settings) => match change.settings(&settings).await.map_err(|e| ctx.input_err(e)) {
            Ok(()) => return Ok(Redirect::to("/admin/case-settings?done=settings").into_response()),
            Err(Ok(dangjian_store::StoreError::Invalid(e))) => e,
            Err(Ok(e)) => return Err(ctx.store_err()(e)),
            Err(Err(failed)) => return Err(failed),
        },
        Err(e) => e,
    };
    let (_, rules) = current(s, &ctx).await?;
    let problems = Problems::from_errors(&errs, &ctx, str::to_owned);
    render(s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, typed, rules, problems, None).await
}

pub async fn save_routing(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let s = &cx.state;
    let change = case_settings::begin_routing(&cx).await.map_err(ctx.app_err())?;
    let f = body.read().await?;
    let (rows, parsed) = parse_routing(&f);
    let errs = match parsed {
        Ok(rules) => match change.routing(&rules).await.map_err(|e| ctx.input_err(e)) {
            Ok(()) => return Ok(Redirect::to("/admin/case-settings?done=routing").into_response()),
            Err(Ok(dangjian_store::StoreError::Invalid(e))) => e,
            Err(Ok(e)) => return Err(ctx.store_err()(e)),
            Err(Err(failed)) => return Err(failed),
        },
        Err(e) => e,
    };
    let (form, _) = current(s, &ctx).await?;
    let problems = Problems::from_errors(&errs, &ctx, str::to_owned);
    render(s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, form, rows, problems, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_back_what_it_shows() {
        let s = CaseSettings::default();
        let shown = SettingsForm::of(&s);
        let mut pairs: Vec<(String, String)> = Vec::new();
        for [code, zh, en, ack, resolve] in &shown.categories {
            for (k, v) in [
                ("cat_code", code),
                ("cat_name_zh", zh),
                ("cat_name_en", en),
                ("cat_ack_days", ack),
                ("cat_resolve_days", resolve),
            ] {
                pairs.push((k.into(), v.clone()));
            }
        }
        // The blank row offered for a new category.
        for k in ["cat_code", "cat_name_zh", "cat_name_en", "cat_ack_days", "cat_resolve_days"] {
            pairs.push((k.into(), String::new()));
        }
        pairs.push(("holidays".into(), "2026-10-01..2026-10-03".into()));
        pairs.push(("retention_days".into(), "365".into()));
        pairs.push(("auto_close_days".into(), "15".into()));
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let read = SettingsForm::from_form(&FormData::from_pairs(&refs)).parse();
        let read = read.as_ref().map_err(|e| format!("{e:?}"));
        assert_eq!(read.map(|r| (r.categories.len(), r.calendar.holidays.len())), Ok((9, 3)));
    }

    #[test]
    fn every_bad_cell_is_named() {
        let f = FormData::from_pairs(&[
            ("cat_code", "wage_arrears"),
            ("cat_name_zh", "欠薪"),
            ("cat_name_en", "Wage arrears"),
            ("cat_ack_days", "one"),
            ("cat_resolve_days", "10"),
            ("holidays", "2026-13-01"),
            ("retention_days", "5"),
            ("auto_close_days", "15"),
        ]);
        let errs = SettingsForm::from_form(&f).parse().err().map(|e| e.0).unwrap_or_default();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["categories[0].ack_days", "holidays", "retention_days"]);
    }

    #[test]
    fn routing_rows_need_a_kind_and_a_known_level() {
        let f = FormData::from_pairs(&[
            ("rule_category", "wage_arrears"),
            ("rule_sector", ""),
            ("rule_level", "galaxy"),
            ("rule_kind", "human_resources"),
            ("rule_category", ""),
            ("rule_sector", "courier"),
            ("rule_level", ""),
            ("rule_kind", ""),
        ]);
        let errs = parse_routing(&f).1.err().map(|e| e.0).unwrap_or_default();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["rules[0].level", "rules[1].department_kind"]);
    }
}
