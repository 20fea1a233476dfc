//! `/cases/stats`: case statistics for a region (or the country) over a date range, a category and a
//! sector — headline figures, bar charts drawn on the server, a table per grouping, and the same as a
//! workbook through the API's export. The figures come from the API's own function over the reader's
//! scope; a filter it cannot read shows its message above the filters, with a 400.

page_routes! {
    "/cases/stats" => get(show),
}

use super::charts::{count_chart, pct, CountBar};
use super::lists::{sectors, PageQuery};
use super::{Failed, PageCtx, PageError};
use crate::auth::Actor;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::views::case_stats::{statistics, CaseStatsParams};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dangjian_domain::access::Action;
use dangjian_domain::services::case_stats::{CaseFigures, DurationSummary};
use dangjian_store::cases::stats::{CaseStatistics, StatsRow};
use dangjian_store::regions::Region;
use minijinja::context;
use serde::Serialize;

/// A group's figures as the page shows them: counts, hours with one decimal, the satisfaction.
#[derive(Debug, Serialize)]
struct Cells {
    cases: i64,
    open: i64,
    resolved: i64,
    overdue: i64,
    escalated: i64,
    ack_median: String,
    ack_p90: String,
    resolve_median: String,
    resolve_p90: String,
    rated: i64,
    mean: String,
    satisfied: String,
}

fn hours(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite()).map_or_else(|| "—".to_owned(), |h| format!("{h:.1}"))
}

fn cells(f: &CaseFigures) -> Cells {
    let (a, r): (&DurationSummary, &DurationSummary) = (&f.to_acknowledge, &f.to_resolve);
    Cells {
        cases: f.cases,
        open: f.open,
        resolved: f.resolved,
        overdue: f.overdue,
        escalated: f.escalated,
        ack_median: hours(a.median_hours),
        ack_p90: hours(a.p90_hours),
        resolve_median: hours(r.median_hours),
        resolve_p90: hours(r.p90_hours),
        rated: f.satisfaction.rated,
        mean: f.satisfaction.mean.map_or_else(|| "—".to_owned(), |m| format!("{m:.2}")),
        satisfied: pct(f.satisfaction.share_satisfied),
    }
}

#[derive(Debug, Serialize)]
struct Line {
    code: String,
    name: String,
    c: Cells,
}

#[derive(Debug, Serialize)]
struct Group {
    key: &'static str,
    title: String,
    lines: Vec<Line>,
}

/// Everything the page shows.
#[derive(Debug, Serialize)]
struct View {
    at: String,
    region: Option<Region>,
    /// From the province down to the selected region.
    lineage: Vec<Region>,
    totals: Cells,
    /// The sub-regions, for the region select.
    children: Vec<(String, String)>,
    groups: Vec<Group>,
    /// Inline SVG, escaped where it was drawn.
    category_chart: String,
    region_chart: String,
    satisfaction_chart: String,
}

fn name(r: &StatsRow, lang: Lang) -> String {
    lang.pick(&r.name_zh, &r.name_en)
}

/// The table lines of a grouping: those with cases (the category chart still shows every category).
fn lines(rows: &[StatsRow], lang: Lang) -> Vec<Line> {
    rows.iter()
        .filter(|r| r.figures.cases > 0)
        .map(|r| Line { code: r.code.clone(), name: name(r, lang), c: cells(&r.figures) })
        .collect()
}

fn bars(rows: &[StatsRow], lang: Lang) -> Vec<CountBar> {
    rows.iter().map(|r| CountBar { label: name(r, lang), count: r.figures.cases }).collect()
}

async fn view(s: &AppState, stats: CaseStatistics, region: Option<&str>, lang: Lang) -> Result<View, ApiError> {
    let t = |k: &str| lang.t(k, &[]);
    let (region, lineage) = match region {
        Some(code) => {
            let lineage = s.store.region_lineage(code).await?;
            (lineage.last().cloned(), lineage)
        }
        None => (None, Vec::new()),
    };
    let own = region.as_ref().map(|r| r.code.clone());
    let children = stats
        .by_region
        .iter()
        .filter(|r| Some(&r.code) != own.as_ref())
        .map(|r| (r.code.clone(), name(r, lang)))
        .collect();
    let distribution: Vec<CountBar> = (1..=5)
        .zip(&stats.totals.satisfaction.distribution)
        .map(|(n, c)| CountBar { label: lang.t("stats.stars", &[("n", n.to_string())]), count: *c })
        .collect();
    let no_data = t("stats.no_data");
    Ok(View {
        at: super::cases::china_time_text(&stats.at),
        region,
        lineage,
        totals: cells(&stats.totals),
        children,
        category_chart: count_chart(&t("stats.chart_category"), &bars(&stats.by_category, lang), &no_data),
        region_chart: count_chart(&t("stats.chart_region"), &bars(&stats.by_region, lang), &no_data),
        satisfaction_chart: count_chart(&t("stats.chart_satisfaction"), &distribution, &no_data),
        groups: vec![
            Group { key: "category", title: t("stats.by_category"), lines: lines(&stats.by_category, lang) },
            Group { key: "sector", title: t("stats.by_sector"), lines: lines(&stats.by_sector, lang) },
            Group { key: "platform", title: t("stats.by_platform"), lines: lines(&stats.by_platform, lang) },
            Group { key: "region", title: t("stats.by_region"), lines: lines(&stats.by_region, lang) },
        ],
    })
}

/// A category for the filter's select, named in the page's language.
#[derive(Serialize)]
struct CategoryOption {
    code: String,
    name: String,
}

async fn show(State(s): State<AppState>, actor: Actor, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    let params = CaseStatsParams {
        from: q.get("from"),
        to: q.get("to"),
        region: q.get("region"),
        category: q.get("category"),
        sector: q.get("sector"),
        platform_id: q.id("platform_id"),
    };
    let lang = ctx.lang;
    let loaded = match statistics(&s, &actor, &params, Action::Read, "case.stats").await {
        Ok(stats) => view(&s, stats, params.region.as_deref(), lang).await.map(Some),
        Err(e) => Err(e),
    };
    let (status, v, problem) = match loaded {
        Ok(v) => (StatusCode::OK, v, None),
        Err(e) if e.status == StatusCode::BAD_REQUEST => (StatusCode::BAD_REQUEST, None, Some(e.message_in(ctx.lang))),
        Err(e) if matches!(e.status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED) => {
            return Err(Failed(ctx.clone(), PageError::Forbidden))
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => return Err(ctx.not_found()),
        Err(_) => return Err(Failed(ctx.clone(), PageError::Internal)),
    };
    let (sector_options, _) = sectors(&s.store, &ctx).await.map_err(ctx.store_err())?;
    let categories: Vec<CategoryOption> = s
        .store
        .case_categories()
        .await
        .map_err(ctx.store_err())?
        .into_iter()
        .map(|c| CategoryOption { name: lang.pick(&c.name_zh, &c.name_en), code: c.code })
        .collect();
    Ok(ctx.render_status(
        status,
        "case_stats.html",
        context! { v, problem, query => q.0, categories, sector_options, may_export => actor.may(Action::Export) },
    ))
}
