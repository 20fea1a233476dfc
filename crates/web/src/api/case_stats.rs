//! `/api/v1/cases/stats` and `/api/v1/cases/stats/export`: case statistics (issue part 7) — by
//! category, sector, platform and region; times to acknowledge and to resolve; overdue, escalated;
//! satisfaction — as JSON and as a workbook with one sheet per grouping and Chinese headers.
//!
//! Reading them needs a role that reads the registry; what each scope sees is the store's rule
//! ([`dangjian_store::cases::stats`]: by where cases happened; chain and organization scopes see none).
//! A bad filter is a 400 naming its parameter.

use crate::app::{transfer, Ctx};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::ApiQuery;
use crate::views::case_stats::blank;
pub use crate::views::case_stats::{statistics, CaseStatsParams};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use dangjian_domain::access::Action;
use dangjian_domain::services::case_stats::CaseFigures;
use dangjian_ingest::{write_xlsx_workbook, CellType, ExportColumn, ExportSheet, IngestError};
use dangjian_store::cases::stats::{CaseStatistics, StatsRow};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Case statistics: totals, and the same figures by category, sector, platform and region.
#[utoipa::path(get, path = "/api/v1/cases/stats", tag = "cases", params(CaseStatsParams),
    responses((status = 200, body = CaseStatistics), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn case_stats(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<CaseStatsParams>,
) -> Result<Json<CaseStatistics>, ApiError> {
    Ok(Json(statistics(&s, &actor, &q, Action::Read, "case.stats").await?))
}

/// The columns of every grouping's sheet.
const COLUMNS: [(&str, CellType); 22] = [
    ("代码", CellType::Text),
    ("名称", CellType::Text),
    ("诉求数", CellType::Integer),
    ("未办结", CellType::Integer),
    ("已办结", CellType::Integer),
    ("其中已关闭", CellType::Integer),
    ("超期未办", CellType::Integer),
    ("曾升级", CellType::Integer),
    ("已受理数", CellType::Integer),
    ("受理用时中位数（小时）", CellType::Decimal),
    ("受理用时第90百分位（小时）", CellType::Decimal),
    ("已办结数（有办结时间）", CellType::Integer),
    ("办结用时中位数（小时）", CellType::Decimal),
    ("办结用时第90百分位（小时）", CellType::Decimal),
    ("评价数", CellType::Integer),
    ("平均评分", CellType::Decimal),
    ("满意率（4—5分占比）", CellType::Decimal),
    ("1分", CellType::Integer),
    ("2分", CellType::Integer),
    ("3分", CellType::Integer),
    ("4分", CellType::Integer),
    ("5分", CellType::Integer),
];

fn decimal(v: Option<f64>, places: usize) -> String {
    v.filter(|v| v.is_finite()).map(|v| format!("{v:.places$}")).unwrap_or_default()
}

/// A sheet line: code, name, then the figures in [`COLUMNS`] order.
fn line(code: &str, name: &str, f: &CaseFigures) -> Vec<String> {
    let mut out = vec![
        code.to_owned(),
        name.to_owned(),
        f.cases.to_string(),
        f.open.to_string(),
        f.resolved.to_string(),
        f.closed.to_string(),
        f.overdue.to_string(),
        f.escalated.to_string(),
        f.to_acknowledge.count.to_string(),
        decimal(f.to_acknowledge.median_hours, 2),
        decimal(f.to_acknowledge.p90_hours, 2),
        f.to_resolve.count.to_string(),
        decimal(f.to_resolve.median_hours, 2),
        decimal(f.to_resolve.p90_hours, 2),
        f.satisfaction.rated.to_string(),
        decimal(f.satisfaction.mean, 2),
        decimal(f.satisfaction.share_satisfied, 4),
    ];
    out.extend(f.satisfaction.distribution.iter().map(i64::to_string));
    out
}

fn rows(rows: &[StatsRow]) -> Vec<Vec<String>> {
    rows.iter().map(|r| line(&r.code, &r.name_zh, &r.figures)).collect()
}

/// The workbook: the filters, the totals, then one sheet per grouping; every cell a value, never a
/// formula (names come from the registry and are written as text).
pub fn workbook(stats: &CaseStatistics, filter: &[(&str, String)]) -> Result<Vec<u8>, IngestError> {
    let columns: Vec<ExportColumn> = COLUMNS.iter().map(|&(header, ty)| ExportColumn { header, ty }).collect();
    let about_columns =
        [ExportColumn { header: "项目", ty: CellType::Text }, ExportColumn { header: "值", ty: CellType::Text }];
    let mut about: Vec<Vec<String>> = filter.iter().map(|(k, v)| vec![(*k).to_owned(), v.clone()]).collect();
    about.push(vec!["统计时间（UTC）".into(), stats.at.clone()]);
    about.push(vec!["百分位算法".into(), "最近秩法（nearest-rank）".into()]);
    let totals = vec![line("", "合计", &stats.totals)];
    let (c, s, p, r) =
        (rows(&stats.by_category), rows(&stats.by_sector), rows(&stats.by_platform), rows(&stats.by_region));
    let mut sheets = vec![ExportSheet { name: "筛选条件", columns: &about_columns, rows: &about }];
    for (name, rows) in [("合计", &totals), ("按类别", &c), ("按行业", &s), ("按平台", &p), ("按地区", &r)]
    {
        sheets.push(ExportSheet { name, columns: &columns, rows });
    }
    write_xlsx_workbook(&sheets)
}

/// Case statistics as a workbook (XLSX): the filters, the totals, and one sheet per grouping, with
/// Chinese headers. Audited as `export.case_stats`.
#[utoipa::path(get, path = "/api/v1/cases/stats/export", tag = "cases", params(CaseStatsParams),
    responses((status = 200, description = "the workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn export_case_stats(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<CaseStatsParams>,
) -> Result<impl IntoResponse, ApiError> {
    let export = transfer::begin_report(&Ctx::new(&s, &actor), "export.case_stats").await?;
    let stats = statistics(&s, &actor, &q, Action::Export, "export.case_stats").await?;
    let show = |v: &Option<String>| blank(v).unwrap_or_else(|| "全部".into());
    let filter = [
        ("开始日期", show(&q.from)),
        ("结束日期", show(&q.to)),
        ("地区", show(&q.region)),
        ("类别", show(&q.category)),
        ("行业", show(&q.sector)),
        ("平台（单位编号）", q.platform_id.map_or_else(|| "全部".into(), |p| p.to_string())),
    ];
    let bytes = workbook(&stats, &filter).map_err(|e| ApiError::bad_request("format", e.message()))?;
    let detail = filter.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    export.finish(detail).await;
    let date = crate::coverage::today(&s);
    let disposition = format!("attachment; filename=\"case-stats-{date}.xlsx\"");
    let ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    Ok(([(header::CONTENT_TYPE, ct.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(case_stats)).routes(routes!(export_case_stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_blanks() {
        let p = CaseStatsParams { from: Some("2026-11-01".into()), to: Some(" ".into()), ..Default::default() };
        let f = p.parse().ok();
        assert_eq!(f.as_ref().and_then(|f| f.from).map(|d| d.to_string()).as_deref(), Some("2026-11-01"));
        assert_eq!(f.and_then(|f| f.to), None);
        let bad = CaseStatsParams { to: Some("yesterday".into()), ..Default::default() };
        assert_eq!(bad.parse().err().map(|e| e.field), Some("to".into()));
    }

    #[test]
    fn a_line_holds_every_column() {
        let f = dangjian_domain::services::case_stats::figures(
            &dangjian_domain::services::case_stats::CaseCounts {
                cases: 2,
                ratings: [0, 0, 0, 1, 1],
                ..Default::default()
            },
            &mut [3600, 7200],
            &mut [],
        );
        let l = line("x", "名", &f);
        assert_eq!(l.len(), COLUMNS.len());
        assert_eq!(&l[8..14], ["2", "1.00", "2.00", "0", "", ""]);
        assert_eq!(&l[14..], ["2", "4.50", "1.0000", "0", "0", "0", "1", "1"]);
    }
}
