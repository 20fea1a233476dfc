//! What the coverage API and the coverage pages share: the request's preparation (permission, then
//! parameters), the figures and the gap list with names, in the reader's language.

use crate::app::permission::{self, Target};
use crate::auth::Actor;
use crate::coverage::{bad_filter, bad_param, today, visibility, CoverageParams, GapParams};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;
use chrono::NaiveDate;
use dangjian_domain::access::Action;
use dangjian_domain::coverage::gaps::GapRule;
use dangjian_domain::coverage::index::{
    Cell, ChainFigures, Figures, Filter, GapOrder, GapRow, RegionFigures, TrendPoint,
};
use dangjian_domain::coverage::month_ends;
use dangjian_domain::coverage::rules::Requirement;
use dangjian_domain::coverage::state::CoverageState;
use dangjian_ingest::write::{write_csv, write_xlsx_typed, ExportColumn};
use dangjian_ingest::CellType;
use dangjian_store::coverage::labels::Label;
use dangjian_store::coverage::{CoverageRead, ReadIfReady};
use dangjian_store::regions::Region;
use serde::{Deserialize, Serialize};

/// Most platform chains listed beside a roll-up.
const MAX_CHAINS: usize = 50;
/// Most rows of a gap-list export.
pub const MAX_GAP_EXPORT_ROWS: usize = 200_000;

/// A platform chain's line, named.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NamedChain {
    pub root_id: i64,
    pub name: String,
    pub code: String,
    pub figures: Figures,
}

/// The figures of one scope on one date.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CoverageResponse {
    pub date: NaiveDate,
    /// The region asked for (absent: the whole country).
    pub region: Option<Region>,
    /// The platform asked for.
    pub chain: Option<Label>,
    pub totals: Figures,
    pub by_sector: Vec<(String, Figures)>,
    pub by_tier: Vec<(String, Figures)>,
    pub table: Vec<Cell>,
    pub children: Vec<RegionFigures>,
    pub chains: Vec<NamedChain>,
}

/// A monthly series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrendResponse {
    pub points: Vec<TrendPoint>,
}

/// One line of the gap list, with what a cadre needs to act on it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GapItem {
    pub unit_id: i64,
    pub unit_name: String,
    pub unit_code: String,
    pub organization_id: Option<i64>,
    pub organization_name: Option<String>,
    pub rule: GapRule,
    /// The rule, in the reader's language.
    pub rule_text: String,
    /// What would fix it.
    pub fix: String,
    pub requirement: Requirement,
    pub state: CoverageState,
    pub members: u32,
    pub region_code: String,
    pub region_name: String,
    pub tier: String,
    /// The unit's page.
    pub href: String,
}

/// `?format=` of the gap-list export.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct GapExportParams {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

/// Everything a coverage request needs before asking the index.
pub struct Prepared {
    pub filter: Filter,
    pub date: NaiveDate,
}

/// Checks the reader, the query and, for a chain, that the platform is visible (else 404).
pub async fn prepare(
    s: &AppState,
    actor: &Actor,
    params: &CoverageParams,
    audit_action: &str,
) -> Result<Prepared, ApiError> {
    permission::require(s, actor, Action::Read, audit_action).await?;
    let (filter, date) = params.parse(today(s)).map_err(bad_param)?;
    if let Some(chain) = filter.chain {
        permission::authorize(s, actor, Action::Read, Target::Entity(chain), audit_action).await?;
    }
    Ok(Prepared { filter, date })
}

/// The coverage index, current — or a 503 with `Retry-After` while it is being built (the other pages
/// answer meanwhile; docs/coverage.md, "Start-up").
pub async fn coverage_index(s: &AppState) -> Result<CoverageRead<'_>, ApiError> {
    match s.coverage.read_if_ready().await.map_err(store_error)? {
        ReadIfReady::Ready(read) => Ok(read),
        ReadIfReady::Building { retry_after } => Err(ApiError::coverage_building(retry_after)),
    }
}

fn store_error(e: dangjian_store::StoreError) -> ApiError {
    ApiError::from(e)
}

/// The roll-up with names, for the API and the pages.
pub async fn coverage_response(s: &AppState, actor: &Actor, p: &Prepared) -> Result<CoverageResponse, ApiError> {
    let rollup = {
        let index = coverage_index(s).await?;
        let visible = visibility(&index, actor);
        index.rollup(&p.filter, p.date, &visible).map_err(bad_filter)?
    };
    let region = match &p.filter.region {
        Some(code) => Some(s.store.region(code).await.map_err(store_error)?),
        None => None,
    };
    let mut chain_ids: Vec<i64> = rollup.chains.iter().take(MAX_CHAINS).map(|c| c.root_id).collect();
    chain_ids.extend(p.filter.chain);
    let labels = s.store.unit_labels(&chain_ids).await.map_err(store_error)?;
    let chain = p.filter.chain.and_then(|c| labels.get(&c).cloned());
    let chains = rollup
        .chains
        .into_iter()
        .take(MAX_CHAINS)
        .map(|ChainFigures { root_id, figures }| {
            let l = labels.get(&root_id).cloned().unwrap_or(Label { name: String::new(), code: String::new() });
            NamedChain { root_id, name: l.name, code: l.code, figures }
        })
        .collect();
    Ok(CoverageResponse {
        date: rollup.date,
        region,
        chain,
        totals: rollup.totals,
        by_sector: rollup.by_sector,
        by_tier: rollup.by_tier.into_iter().map(|(k, f)| (k.as_str().to_owned(), f)).collect(),
        table: rollup.table,
        children: rollup.children,
        chains,
    })
}

/// The points of a monthly trend, for the API and the pages.
pub async fn trend_points(s: &AppState, actor: &Actor, p: &Prepared, months: u32) -> Result<Vec<TrendPoint>, ApiError> {
    let dates = month_ends(p.date, months);
    let index = coverage_index(s).await?;
    let key = format!("{:?}|{dates:?}|{:?}", p.filter, crate::app::permission::filter(actor, Action::Read).scopes());
    let version = index.version();
    if let Some(points) = version.and_then(|v| s.trends.get(&key, v)) {
        return Ok(points);
    }
    let visible = visibility(&index, actor);
    let points = index.trend(&p.filter, &dates, &visible).map_err(bad_filter)?;
    if let Some(v) = version {
        s.trends.put(key, v, points.clone());
    }
    Ok(points)
}

pub fn gap_options(g: &GapParams) -> Result<(Option<GapRule>, GapOrder), ApiError> {
    Ok((g.rule().map_err(bad_param)?, g.order().map_err(bad_param)?))
}

/// Every gap row of the query, ordered.
pub async fn gap_rows(
    s: &AppState,
    actor: &Actor,
    p: &Prepared,
    rule: Option<GapRule>,
    order: GapOrder,
) -> Result<Vec<GapRow>, ApiError> {
    let index = coverage_index(s).await?;
    let visible = visibility(&index, actor);
    index.gaps(&p.filter, p.date, &visible, rule, order).map_err(bad_filter)
}

/// One page of the gap list (`offset`, at most `limit` rows) and how many gaps there are in all.
pub async fn gap_page(
    s: &AppState,
    actor: &Actor,
    p: &Prepared,
    rule: Option<GapRule>,
    order: GapOrder,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<GapRow>), ApiError> {
    let index = coverage_index(s).await?;
    let visible = visibility(&index, actor);
    index.gaps_page(&p.filter, p.date, &visible, rule, order, offset, limit).map_err(bad_filter)
}

/// Gap rows with the names and codes of their units and organizations.
pub async fn gap_items(s: &AppState, rows: Vec<GapRow>, lang: Lang) -> Result<Vec<GapItem>, ApiError> {
    let unit_ids: Vec<i64> = rows.iter().map(|r| r.unit_id).collect();
    let org_ids: Vec<i64> = rows.iter().filter_map(|r| r.organization_id).collect();
    let units = s.store.unit_labels(&unit_ids).await.map_err(store_error)?;
    let orgs = s.store.organization_labels(&org_ids).await.map_err(store_error)?;
    let mut region_codes: Vec<String> = rows.iter().map(|r| r.region_code.clone()).collect();
    region_codes.sort();
    region_codes.dedup();
    let regions = s.store.region_names(&region_codes).await.map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let unit = units.get(&r.unit_id).cloned().unwrap_or(Label { name: String::new(), code: String::new() });
            GapItem {
                unit_id: r.unit_id,
                unit_name: unit.name,
                unit_code: unit.code,
                organization_id: r.organization_id,
                organization_name: r.organization_id.and_then(|o| orgs.get(&o)).map(|l| l.name.clone()),
                rule: r.rule,
                rule_text: r.rule.text(lang.code()).to_owned(),
                fix: r.rule.fix(r.requirement, lang.code()),
                requirement: r.requirement,
                state: r.state,
                members: r.members,
                region_name: regions.get(&r.region_code).cloned().unwrap_or_default(),
                region_code: r.region_code,
                tier: r.tier.as_str().to_owned(),
                href: format!("/entities/{}", r.unit_id),
            }
        })
        .collect())
}

/// The gap list as a file and its number of rows (at most [`MAX_GAP_EXPORT_ROWS`]).
pub async fn gap_file(
    s: &AppState,
    actor: &Actor,
    p: &Prepared,
    rule: Option<GapRule>,
    order: GapOrder,
    xlsx: bool,
) -> Result<(Vec<u8>, usize), ApiError> {
    let mut rows = gap_rows(s, actor, p, rule, order).await?;
    rows.truncate(MAX_GAP_EXPORT_ROWS);
    let items = gap_items(s, rows, Lang::Zh).await?;
    let headers =
        ["单位名称", "单位代码", "层级", "行政区划代码", "正式党员数", "覆盖状态", "问题", "整改建议", "党组织"];
    let lines: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.unit_name.clone(),
                i.unit_code.clone(),
                tier_zh(&i.tier).to_owned(),
                i.region_code.clone(),
                i.region_name.clone(),
                i.members.to_string(),
                i.state.name_zh().to_owned(),
                i.rule_text.clone(),
                i.fix.clone(),
                i.organization_name.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = if xlsx {
        let columns: Vec<ExportColumn> = headers
            .iter()
            .enumerate()
            .map(|(n, &header)| ExportColumn { header, ty: if n == 5 { CellType::Integer } else { CellType::Text } })
            .collect();
        write_xlsx_typed("问题清单", &columns, &lines).map_err(|e| ApiError::bad_request("format", e.message()))?
    } else {
        write_csv(&headers, &lines)
    };
    Ok((bytes, items.len()))
}

fn tier_zh(tier: &str) -> &'static str {
    match tier {
        "platform" => "平台企业",
        "franchisee" => "加盟企业",
        "partner" => "合作企业",
        _ => "站点",
    }
}
