//! What the coverage API and the dashboard pages share: reading the query (region, sector, tier,
//! platform chain, date) into the engine's filter, with an error naming the field, and the reader's
//! visibility from their grants.

use crate::auth::Actor;
use chrono::NaiveDate;
use dangjian_domain::access::Action;
use dangjian_domain::coverage::gaps::GapRule;
use dangjian_domain::coverage::index::{CoverageIndex, Filter, FilterError, GapOrder, Visibility};
use dangjian_domain::Message;
use dangjian_domain::{EntityKind, FieldError};
use serde::Deserialize;

/// Longest trend, in months.
pub const MAX_TREND_MONTHS: u32 = 240;

/// The query of every coverage view.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct CoverageParams {
    /// Region code (province, prefecture, county or township); absent: the whole country.
    pub region: Option<String>,
    /// Sector code, e.g. `courier`.
    pub sector: Option<String>,
    /// Chain tier: `platform`, `franchisee`, `partner` or `site`.
    pub tier: Option<String>,
    /// A platform's id: its chain only.
    pub chain: Option<i64>,
    /// The date of the figures (`YYYY-MM-DD`); absent: today.
    pub date: Option<String>,
}

/// The trend's span.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct TrendParams {
    /// Number of monthly points (1–240, default 24), the last one on `date`.
    pub months: Option<u32>,
}

/// The gap list's options.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct GapParams {
    /// Only this rule (`no_own_organization`, `not_in_joint_branch`, `no_coverage`,
    /// `organization_below_size`, `term_expired`, `joint_branch_too_large`).
    pub rule: Option<String>,
    /// `rule` (default), `members` or `region`.
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl CoverageParams {
    /// The engine's filter and the date; `today` is the default date.
    pub fn parse(&self, today: NaiveDate) -> Result<(Filter, NaiveDate), FieldError> {
        let tier = match blank(&self.tier) {
            Some(t) => Some(EntityKind::parse(t).map_err(|e| e.on_field("tier"))?),
            None => None,
        };
        let date = match blank(&self.date) {
            Some(d) => dangjian_domain::parse_flexible_date(d, "date")?,
            None => today,
        };
        let filter = Filter {
            region: blank(&self.region).map(str::to_owned),
            sector: blank(&self.sector).map(str::to_owned),
            tier,
            chain: self.chain,
        };
        Ok((filter, date))
    }
}

impl TrendParams {
    pub fn months(&self) -> Result<u32, FieldError> {
        match self.months {
            None => Ok(24),
            Some(m) if (1..=MAX_TREND_MONTHS).contains(&m) => Ok(m),
            Some(_) => Err(FieldError::new(
                "months",
                "out_of_range",
                Message::new("problem.out_of_range").arg("max", MAX_TREND_MONTHS),
            )),
        }
    }
}

impl GapParams {
    pub fn rule(&self) -> Result<Option<GapRule>, FieldError> {
        match blank(&self.rule) {
            None => Ok(None),
            Some(r) => GapRule::parse(r).map(Some).ok_or_else(|| {
                FieldError::new("rule", "unknown_rule", Message::new("problem.unknown_rule").arg("r", r))
            }),
        }
    }

    pub fn order(&self) -> Result<GapOrder, FieldError> {
        match blank(&self.sort) {
            None | Some("rule") => Ok(GapOrder::Rule),
            Some("members") => Ok(GapOrder::Members),
            Some("region") => Ok(GapOrder::Region),
            Some(s) => Err(FieldError::new("sort", "unknown_sort", Message::new("problem.unknown_sort").arg("s", s))),
        }
    }
}

/// What the actor may see of the figures: the scopes of their read grants.
pub fn visibility(index: &CoverageIndex, actor: &Actor) -> Visibility {
    let filter = crate::app::permission::filter(actor, Action::Read);
    index.visibility(filter.is_unrestricted(), filter.scopes())
}

/// A filter error as a 400 naming its parameter.
pub fn bad_filter(e: FilterError) -> crate::error::ApiError {
    bad_param(filter_error(e))
}

/// A filter error as a field error.
pub fn filter_error(e: FilterError) -> FieldError {
    match e {
        FilterError::UnknownRegion(c) => {
            FieldError::new("region", "unknown_region", Message::new("problem.unknown_region").arg("c", c))
        }
        FilterError::UnknownSector(c) => {
            FieldError::new("sector", "unknown_sector", Message::new("problem.unknown_sector").arg("c", c))
        }
        FilterError::NotAPlatform(id) => {
            FieldError::new("chain", "not_a_platform", Message::new("problem.not_a_platform").arg("id", id))
        }
    }
}

/// Today in China (UTC+8), by the app's clock.
pub fn today(state: &crate::AppState) -> NaiveDate {
    (state.clock.now() + chrono::Duration::hours(8)).date_naive()
}

/// A field error as a 400 in the API's shape.
pub fn bad_param(e: FieldError) -> crate::error::ApiError {
    crate::error::ApiError::bad_request(&e.field, e.message)
}

/// How many registered units match a unit list's filter, counted by the coverage index in memory —
/// or `None` when the filter has a text search (which the index does not hold), the index cannot
/// answer it or is still being built, and the list must count in the database. A `COUNT(*)` over a province's or a sector's
/// hundreds of thousands of units is what made deep lists slow; the index holds the same units with
/// the same scopes.
pub async fn registered_total(
    state: &crate::AppState,
    actor: &Actor,
    f: &dangjian_store::entities::EntityFilter,
) -> Option<i64> {
    if f.q.is_some() {
        return None;
    }
    let dangjian_store::coverage::ReadIfReady::Ready(index) = state.coverage.read_if_ready().await.ok()? else {
        return None;
    };
    let visible = visibility(&index, actor);
    let filter = Filter { region: f.region.clone(), sector: f.sector.clone(), tier: f.kind, chain: f.root };
    index.count_registered(&filter, f.closed, &visible).ok().and_then(|n| i64::try_from(n).ok())
}

/// How many units of each tier lie below platform `root` in its chain that the reader may see, counted
/// by the coverage index — `None` for a unit that does not head a chain (its subtree is counted in the
/// database) or when the index cannot answer.
pub async fn chain_tier_counts(
    state: &crate::AppState,
    actor: &Actor,
    root: i64,
) -> Option<Vec<dangjian_store::entities::TierCount>> {
    let dangjian_store::coverage::ReadIfReady::Ready(index) = state.coverage.read_if_ready().await.ok()? else {
        return None;
    };
    let visible = visibility(&index, actor);
    let mut out = Vec::new();
    for tier in EntityKind::ALL.into_iter().filter(|k| *k != EntityKind::Platform) {
        let f = Filter { chain: Some(root), tier: Some(tier), ..Default::default() };
        let count = i64::try_from(index.count_registered(&f, None, &visible).ok()?).ok()?;
        if count > 0 {
            out.push(dangjian_store::entities::TierCount { tier, count });
        }
    }
    Some(out)
}

/// Trends already computed, each with the state of the index it was computed from. A trend is a pass
/// over the scope's units for every month (tens of milliseconds for the nation); until a change reaches
/// the index the same question gets the same answer, so dashboards opened again need not pay for it.
#[derive(Debug, Default, Clone)]
pub struct TrendCache(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, CachedTrend>>>);

type CachedTrend = (dangjian_store::coverage::IndexVersion, Vec<dangjian_domain::coverage::index::TrendPoint>);

/// Distinct trends kept at most; past it the cache starts afresh.
const TREND_CACHE_ENTRIES: usize = 512;

impl TrendCache {
    /// The trend for `key` computed from the index at `version`, if there is one.
    pub fn get(
        &self,
        key: &str,
        version: dangjian_store::coverage::IndexVersion,
    ) -> Option<Vec<dangjian_domain::coverage::index::TrendPoint>> {
        let map = self.0.lock().ok()?;
        map.get(key).filter(|(v, _)| *v == version).map(|(_, points)| points.clone())
    }

    pub fn put(
        &self,
        key: String,
        version: dangjian_store::coverage::IndexVersion,
        points: Vec<dangjian_domain::coverage::index::TrendPoint>,
    ) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= TREND_CACHE_ENTRIES || map.values().any(|(v, _)| *v != version) {
                map.retain(|_, (v, _)| *v == version);
                if map.len() >= TREND_CACHE_ENTRIES {
                    map.clear();
                }
            }
            map.insert(key, (version, points));
        }
    }
}
