//! Which kind of department answers a case: a routing table of (category, sector, region level) →
//! department kind, where an empty column matches anything and the most specific matching line wins
//! (ties: the first line). The defaults follow DOMAIN.md: labour rights to human resources and social
//! security; otherwise by sector — courier to the postal administration, food delivery to market
//! regulation, ride-hailing and freight to transport, live streaming to the cyberspace office; the
//! rest to the social work department.

use crate::RegionLevel;
use serde::{Deserialize, Serialize};

/// Kinds of department that handle cases.
pub const DEPARTMENT_KINDS: [(&str, &str, &str); 8] = [
    ("social_work", "社会工作部", "Social work department"),
    ("organization", "组织部", "Organization department"),
    ("postal", "邮政管理局", "Postal administration"),
    ("market_regulation", "市场监督管理局", "Market regulation"),
    ("transport", "交通运输局", "Transport"),
    ("cyberspace", "网信办", "Cyberspace office"),
    ("human_resources", "人力资源和社会保障局", "Human resources and social security"),
    ("commerce", "商务局", "Commerce"),
];

/// One line of the routing table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoutingRule {
    pub category: Option<String>,
    pub sector: Option<String>,
    #[schema(value_type = Option<String>)]
    pub level: Option<RegionLevel>,
    /// A department kind of [`DEPARTMENT_KINDS`].
    pub department_kind: String,
}

fn rule(category: Option<&str>, sector: Option<&str>, kind: &str) -> RoutingRule {
    RoutingRule {
        category: category.map(Into::into),
        sector: sector.map(Into::into),
        level: None,
        department_kind: kind.into(),
    }
}

/// The default routing table.
pub fn default_table() -> Vec<RoutingRule> {
    vec![
        rule(Some("wage_arrears"), None, "human_resources"),
        rule(Some("occupational_injury"), None, "human_resources"),
        rule(Some("social_insurance"), None, "human_resources"),
        rule(None, Some("courier"), "postal"),
        rule(None, Some("food_delivery"), "market_regulation"),
        rule(None, Some("ride_hailing"), "transport"),
        rule(None, Some("road_freight"), "transport"),
        rule(None, Some("live_streaming"), "cyberspace"),
        rule(None, Some("social_commerce"), "commerce"),
        rule(None, None, "social_work"),
    ]
}

/// The department kind for a case, or `None` when no line matches (a table should end with a
/// catch-all line).
pub fn route<'a>(
    table: &'a [RoutingRule],
    category: &str,
    sector: Option<&str>,
    level: RegionLevel,
) -> Option<&'a RoutingRule> {
    let matches = |r: &RoutingRule| {
        r.category.as_deref().is_none_or(|c| c == category)
            && r.sector.as_deref().is_none_or(|s| Some(s) == sector)
            && r.level.is_none_or(|l| l == level)
    };
    let specificity = |r: &RoutingRule| {
        u8::from(r.category.is_some()) * 4 + u8::from(r.sector.is_some()) * 2 + u8::from(r.level.is_some())
    };
    let mut best: Option<&RoutingRule> = None;
    for r in table.iter().filter(|r| matches(r)) {
        if best.is_none_or(|b| specificity(r) > specificity(b)) {
            best = Some(r);
        }
    }
    best
}

/// Whether `kind` is a known department kind.
pub fn is_department_kind(kind: &str) -> bool {
    DEPARTMENT_KINDS.iter().any(|(k, _, _)| *k == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(category: &str, sector: Option<&str>) -> Option<String> {
        route(&default_table(), category, sector, RegionLevel::County).map(|r| r.department_kind.clone())
    }

    #[test]
    fn the_defaults_of_the_domain() {
        assert_eq!(kind("wage_arrears", Some("courier")).as_deref(), Some("human_resources"));
        assert_eq!(kind("algorithmic_dispatch", Some("courier")).as_deref(), Some("postal"));
        assert_eq!(kind("algorithmic_dispatch", Some("food_delivery")).as_deref(), Some("market_regulation"));
        assert_eq!(kind("traffic_safety", Some("ride_hailing")).as_deref(), Some("transport"));
        assert_eq!(kind("other", Some("live_streaming")).as_deref(), Some("cyberspace"));
        assert_eq!(kind("rest_facilities", None).as_deref(), Some("social_work"));
        assert!(default_table().iter().all(|r| is_department_kind(&r.department_kind)));
    }

    #[test]
    fn the_most_specific_line_wins() {
        let mut table = default_table();
        table.push(RoutingRule {
            category: Some("wage_arrears".into()),
            sector: Some("courier".into()),
            level: Some(RegionLevel::Township),
            department_kind: "social_work".into(),
        });
        assert_eq!(
            route(&table, "wage_arrears", Some("courier"), RegionLevel::Township).map(|r| r.department_kind.as_str()),
            Some("social_work")
        );
        assert_eq!(
            route(&table, "wage_arrears", Some("courier"), RegionLevel::County).map(|r| r.department_kind.as_str()),
            Some("human_resources")
        );
        assert_eq!(route(&[], "other", None, RegionLevel::County), None);
    }
}
