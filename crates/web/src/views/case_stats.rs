//! What the case statistics API and page share: the filters and the one function that reads the
//! figures inside the reader's scopes.

use crate::app::permission;
use crate::auth::Actor;
use crate::coverage::bad_param;
use crate::error::ApiError;
use crate::AppState;
use dangjian_domain::access::Action;
use dangjian_domain::FieldError;
use dangjian_store::cases::stats::{CaseStatistics, CaseStatsFilter};
use dangjian_store::StoreError;
use serde::Deserialize;

/// The filters of the statistics.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseStatsParams {
    /// Cases filed on or after this China date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Cases filed on or before this China date (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// Cases filed in this region's subtree (province, prefecture, county or township code); absent: the
    /// whole country. `by_region` then lists its children.
    pub region: Option<String>,
    /// A category code (`wage_arrears`, …).
    pub category: Option<String>,
    /// A sector code (`courier`, …).
    pub sector: Option<String>,
    /// Cases naming this registered unit (its id).
    pub platform_id: Option<i64>,
}

pub(crate) fn blank(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl CaseStatsParams {
    /// The store's filter, or the first parameter that is not a date where one is needed.
    pub fn parse(&self) -> Result<CaseStatsFilter, FieldError> {
        let date = |v: &Option<String>, field: &str| {
            blank(v).map(|d| dangjian_domain::parse_flexible_date(&d, field)).transpose()
        };
        Ok(CaseStatsFilter {
            from: date(&self.from, "from")?,
            to: date(&self.to, "to")?,
            region: blank(&self.region),
            category: blank(&self.category),
            sector: blank(&self.sector),
            platform_id: self.platform_id,
        })
    }
}

/// The statistics of `params` inside the actor's scopes for `action`, at the state's clock: for the
/// API, the export and the page. A bad filter is a 400 naming its parameter.
pub async fn statistics(
    s: &AppState,
    actor: &Actor,
    params: &CaseStatsParams,
    action: Action,
    audit_action: &str,
) -> Result<CaseStatistics, ApiError> {
    let access = permission::require(s, actor, action, audit_action).await?;
    let filter = params.parse().map_err(bad_param)?;
    s.store.case_statistics(&access, &filter, s.clock.now()).await.map_err(|e| match e {
        StoreError::Invalid(errs) if !errs.0.is_empty() => bad_param(errs.0[0].clone()),
        e => ApiError::from(e),
    })
}
