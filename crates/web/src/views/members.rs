//! The dues calculator's and the development checker's answers, as the API sends them and the pages
//! show them: amounts as decimal strings, messages in the request's language.

use crate::error::ApiError;
use crate::i18n::Lang;
use axum::http::StatusCode;
use chrono::NaiveDate;
use dangjian_domain::members::development::Violation;
use dangjian_domain::members::dues::{rate_fraction, rate_percent, DuesCategory, DuesOutcome, DuesParams};
use dangjian_domain::FieldErrors;
use serde::Serialize;

/// One month's dues.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DuesAnswer {
    pub category: DuesCategory,
    /// The monthly income the rate applies to, in yuan (`"4700.00"`); null for a fixed amount.
    pub base: Option<String>,
    /// The rate as a decimal fraction (`"0.015"` is 1.5%); null for a fixed amount.
    pub rate: Option<String>,
    /// The dues, in yuan, rounded half-up to the fen (`"47.00"`).
    pub amount: String,
    /// The rule applied: `dues.wage.3000-5000`, `dues.gig.0-3000`, `dues.retiree.5000+`,
    /// `dues.fixed.student`, `dues.farmer` …
    pub rule: String,
    /// The first day of the version of the rules applied.
    pub rule_version: NaiveDate,
    /// The rule in words, in the request's language.
    pub rule_text: String,
    /// The rate as a percentage (`"1.5%"`), for display.
    #[serde(skip)]
    pub rate_percent: Option<String>,
}

impl DuesAnswer {
    pub fn new(o: &DuesOutcome, lang: Lang) -> Self {
        Self {
            category: o.category,
            base: o.base.map(|b| b.to_string()),
            rate: o.rate_bp.map(rate_fraction),
            amount: o.amount.to_string(),
            rule: o.rule.id.clone(),
            rule_version: o.rule.version,
            rule_text: lang.say(&o.describe()),
            rate_percent: o.rate_bp.map(rate_percent),
        }
    }
}

/// The query string of a calculation as its parameters (the first of a repeated one).
pub struct DuesQuery(Vec<(String, String)>);

impl DuesQuery {
    pub fn new(raw: &str) -> Self {
        Self(url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect())
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    pub fn params(&self) -> DuesParams<'_> {
        DuesParams {
            category: self.get("category"),
            monthly_income: self.get("monthly_income"),
            previous_quarter: self.get("previous_quarter"),
            farmer_amount: self.get("farmer_amount"),
            on: self.get("on"),
        }
    }
}

/// Problems of query parameters: 400, the first parameter named, all of them in the details.
pub fn bad_parameters(errs: &FieldErrors) -> ApiError {
    let mut e = ApiError::fields(errs);
    e.status = StatusCode::BAD_REQUEST;
    e.code = "invalid_parameter".into();
    e
}

/// One rule a development record breaks.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ViolationView {
    /// Stable rule id, e.g. `development.min_activist_months`.
    pub rule: &'static str,
    /// What is wrong, in the request's language.
    pub message: String,
    /// The dates involved.
    pub dates: Vec<NaiveDate>,
}

impl ViolationView {
    pub fn new(v: &Violation, lang: Lang) -> Self {
        Self { rule: v.rule, message: lang.say(&v.message), dates: v.dates.clone() }
    }
}

/// The checker's answer: `{"violations": [...]}` (empty: the record breaks no rule).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckAnswer {
    pub violations: Vec<ViolationView>,
}
