//! What the coverage API and the dashboard pages share: reading the query (region, sector, tier,
//! platform chain, date) into the engine's filter, with an error naming the field, and the reader's
//! visibility from their grants.

use crate::auth::Actor;
use crate::i18n::Lang;
use chrono::NaiveDate;
use dangjian_domain::access::Action;
use dangjian_domain::coverage::gaps::GapRule;
use dangjian_domain::coverage::index::{CoverageIndex, Filter, FilterError, GapOrder, Visibility};
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
                format!("months is 1 to {MAX_TREND_MONTHS}"),
                format!("months 应为 1 至 {MAX_TREND_MONTHS}"),
            )),
        }
    }
}

impl GapParams {
    pub fn rule(&self) -> Result<Option<GapRule>, FieldError> {
        match blank(&self.rule) {
            None => Ok(None),
            Some(r) => GapRule::parse(r).map(Some).ok_or_else(|| {
                FieldError::new("rule", "unknown_rule", format!("unknown rule {r}"), format!("未知规则“{r}”"))
            }),
        }
    }

    pub fn order(&self) -> Result<GapOrder, FieldError> {
        match blank(&self.sort) {
            None | Some("rule") => Ok(GapOrder::Rule),
            Some("members") => Ok(GapOrder::Members),
            Some("region") => Ok(GapOrder::Region),
            Some(s) => Err(FieldError::new(
                "sort",
                "unknown_sort",
                format!("sort is rule, members or region, not {s}"),
                format!("sort 应为 rule、members 或 region，而不是“{s}”"),
            )),
        }
    }
}

/// What the actor may see of the figures: the scopes of their read grants.
pub fn visibility(index: &CoverageIndex, actor: &Actor) -> Visibility {
    let filter = crate::scope::filter(actor, Action::Read);
    index.visibility(filter.is_unrestricted(), filter.scopes())
}

/// A filter error as a 400 naming its parameter.
pub fn bad_filter(e: FilterError, lang: Lang) -> crate::error::ApiError {
    bad_param(filter_error(e), lang)
}

/// A filter error as a field error.
pub fn filter_error(e: FilterError) -> FieldError {
    match e {
        FilterError::UnknownRegion(c) => FieldError::new(
            "region",
            "unknown_region",
            format!("no region has the code {c}"),
            format!("行政区划代码{c}不存在"),
        ),
        FilterError::UnknownSector(c) => {
            FieldError::new("sector", "unknown_sector", format!("no sector {c}"), format!("行业“{c}”不存在"))
        }
        FilterError::NotAPlatform(id) => FieldError::new(
            "chain",
            "not_a_platform",
            format!("unit {id} is not a platform enterprise"),
            format!("单位{id}不是平台企业"),
        ),
    }
}

/// Today in China (UTC+8), by the app's clock.
pub fn today(state: &crate::AppState) -> NaiveDate {
    (state.clock.now() + chrono::Duration::hours(8)).date_naive()
}

/// A field error as a 400 in the API's shape.
pub fn bad_param(e: FieldError, lang: Lang) -> crate::error::ApiError {
    crate::error::ApiError::bad_request(&e.field, e.message_in(lang.code()).to_owned())
}
