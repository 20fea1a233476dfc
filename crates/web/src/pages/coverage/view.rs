//! What the coverage pages show, assembled from the API's own functions (`api::coverage`): the roll-up
//! with names, the trend, the gap list — shaped for the templates, with the charts drawn.

use super::super::charts::{self, Bar, Series};
use crate::auth::Actor;
use crate::coverage::CoverageParams;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::views::coverage::{coverage_response, gap_items, gap_page, prepare, trend_points, GapItem, NamedChain};
use crate::AppState;
use chrono::NaiveDate;
use dangjian_domain::coverage::index::{Figures, GapOrder, RegionFigures, TrendPoint};
use dangjian_domain::EntityKind;
use dangjian_store::coverage::labels::Label;
use dangjian_store::regions::Region;
use serde::Serialize;

/// Months of the trend.
const TREND_MONTHS: u32 = 24;
/// Gaps on the dashboard; the rest are on the gap list.
const DASHBOARD_GAPS: usize = 20;
/// Platform chains on the dashboard.
const DASHBOARD_CHAINS: usize = 10;

/// One sector's line of the sector × tier table: a cell per tier (in `EntityKind::ALL` order).
#[derive(Debug, Serialize)]
pub struct SectorRow {
    pub sector: String,
    pub cells: Vec<Option<Figures>>,
    pub total: Figures,
}

/// Everything the dashboard and the platform page show.
#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub date: NaiveDate,
    pub region: Option<Region>,
    /// The regions from the province down to `region`.
    pub lineage: Vec<Region>,
    pub chain: Option<Label>,
    pub totals: Figures,
    pub sectors: Vec<SectorRow>,
    /// The table's last line: a cell per tier.
    pub tier_totals: Vec<Option<Figures>>,
    pub children: Vec<RegionFigures>,
    pub chains: Vec<NamedChain>,
    pub more_chains: bool,
    pub gaps: Vec<GapItem>,
    pub gap_total: usize,
    /// Inline SVG, escaped where it was drawn.
    pub trend_chart: String,
    pub children_chart: String,
}

/// The dashboard of `params` (a region, or a platform's chain when `params.chain` is set).
pub async fn dashboard(
    s: &AppState,
    actor: &Actor,
    params: &CoverageParams,
    lang: Lang,
) -> Result<Dashboard, ApiError> {
    let p = prepare(s, actor, params, "coverage.read").await?;
    let r = coverage_response(s, actor, &p).await?;
    let lineage = match &p.filter.region {
        Some(code) => s.store.region_lineage(code).await?,
        None => Vec::new(),
    };
    let points = trend_points(s, actor, &p, TREND_MONTHS).await?;
    let (gap_total, rows) = gap_page(s, actor, &p, None, GapOrder::Rule, 0, DASHBOARD_GAPS).await?;
    let gaps = gap_items(s, rows, lang).await?;
    let tiers: Vec<&str> = EntityKind::ALL.iter().map(|k| k.as_str()).collect();
    let tier_totals = tiers.iter().map(|t| r.by_tier.iter().find(|(k, _)| k == t).map(|(_, f)| f.clone())).collect();
    let sectors = r
        .by_sector
        .iter()
        .map(|(sector, total)| SectorRow {
            sector: sector.clone(),
            cells: EntityKind::ALL
                .iter()
                .map(|k| r.table.iter().find(|c| &c.sector == sector && c.tier == *k).map(|c| c.figures.clone()))
                .collect(),
            total: total.clone(),
        })
        .collect();
    let title = lang.t("coverage.children_chart", &[]);
    let children_chart = charts::bar_chart(&title, &bars(&r.children), &lang.t("coverage.no_data", &[]));
    let more_chains = r.chains.len() > DASHBOARD_CHAINS;
    Ok(Dashboard {
        date: r.date,
        region: r.region,
        lineage,
        chain: r.chain,
        totals: r.totals,
        sectors,
        tier_totals,
        children: r.children,
        chains: r.chains.into_iter().take(DASHBOARD_CHAINS).collect(),
        more_chains,
        gaps,
        gap_total,
        trend_chart: trend_chart(&points, lang),
        children_chart,
    })
}

/// The organizational coverage rate of each sub-region.
fn bars(children: &[RegionFigures]) -> Vec<Bar> {
    children
        .iter()
        .map(|c| {
            let f = &c.figures;
            Bar {
                label: c.name.clone(),
                rate: f.coverage_rate,
                note: format!("{} ({}/{})", charts::pct(f.coverage_rate), f.own + f.joint + f.chain, f.units),
            }
        })
        .collect()
}

/// The three rates, month by month.
pub fn trend_chart(points: &[TrendPoint], lang: Lang) -> String {
    let labels: Vec<String> = points.iter().map(|p| p.date.format("%Y-%m").to_string()).collect();
    let series = |key: &str, rate: fn(&Figures) -> Option<f64>| Series {
        name: lang.t(key, &[]),
        values: points.iter().map(|p| rate(&p.figures)).collect(),
    };
    let lines = [
        series("coverage.rate.coverage", |f| f.coverage_rate),
        series("coverage.rate.establishment", |f| f.establishment_rate),
        series("coverage.rate.work", |f| f.work_coverage_rate),
    ];
    charts::line_chart(&lang.t("coverage.trend", &[]), &labels, &lines, &lang.t("coverage.no_data", &[]))
}
