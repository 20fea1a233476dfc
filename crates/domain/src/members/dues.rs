//! Party dues: how much a member pays a month. The rates are the Central Organization Department's
//! 2008 rules (《关于中国共产党党费收缴、使用和管理的规定》, in force from 2008-04-01; DOMAIN.md
//! "Party dues"), held as a dated version so that a later change is a new version, not an edit:
//!
//! | monthly income after tax (yuan) | rate |
//! |---|---|
//! | up to and including 3,000 | 0.5% |
//! | over 3,000, up to and including 5,000 | 1% |
//! | over 5,000, up to and including 10,000 | 1.5% |
//! | over 10,000 | 2% |
//!
//! Gig workers without a monthly wage pay on the previous quarter's average monthly income; retirees
//! 0.5% up to 5,000 and 1% above; students, the unemployed and those on relief 0.20 yuan; farmers 0.20
//! to 1.00 yuan. Amounts are exact ([`Money`]); an amount is rounded half-up to the fen. A reduction or
//! waiver is a decision with an approval ([`Relief`]), recorded by the ledger against the amount the rule
//! gives — the calculator shows the rule's amount.

use super::money::Money;
use crate::{FieldError, FieldErrors, Message};
use chrono::NaiveDate;
use serde::Serialize;

/// What a member's dues are based on (DOMAIN.md "Party dues").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuesCategory {
    /// A monthly wage: the brackets on after-tax income.
    Wage,
    /// No monthly wage (most gig workers): the brackets on the previous quarter's average.
    Gig,
    /// Retirees: their own two brackets on the pension.
    Retiree,
    Student,
    Unemployed,
    /// Members living on minimum-subsistence relief (低保).
    Relief,
    /// Farmers: a fixed amount within a range.
    Farmer,
}

impl DuesCategory {
    pub const ALL: [DuesCategory; 7] =
        [Self::Wage, Self::Gig, Self::Retiree, Self::Student, Self::Unemployed, Self::Relief, Self::Farmer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wage => "wage",
            Self::Gig => "gig",
            Self::Retiree => "retiree",
            Self::Student => "student",
            Self::Unemployed => "unemployed",
            Self::Relief => "relief",
            Self::Farmer => "farmer",
        }
    }

    pub fn parse(s: &str, field: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim()).ok_or_else(|| {
            FieldError::new(
                field,
                "invalid_category",
                Message::new("problem.invalid_dues_category").arg("s", crate::text::shown(s)),
            )
        })
    }

    /// The category's name, for pages.
    pub fn name(self) -> Message {
        match self {
            Self::Wage => Message::new("dues.category.wage"),
            Self::Gig => Message::new("dues.category.gig"),
            Self::Retiree => Message::new("dues.category.retiree"),
            Self::Student => Message::new("dues.category.student"),
            Self::Unemployed => Message::new("dues.category.unemployed"),
            Self::Relief => Message::new("dues.category.relief"),
            Self::Farmer => Message::new("dues.category.farmer"),
        }
    }

    /// Whether the category's dues depend on a stated monthly income.
    pub fn needs_monthly_income(self) -> bool {
        matches!(self, Self::Wage | Self::Retiree)
    }
}

/// One bracket: incomes up to and including `up_to` (no bound for the last), at `rate_bp` basis points
/// (150 = 1.5%).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bracket {
    pub up_to: Option<Money>,
    pub rate_bp: u32,
}

/// The dues rules from one day on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuesVersion {
    pub effective_from: NaiveDate,
    /// Brackets of wage earners and gig workers, lowest first, inclusive at the top.
    pub wage: Vec<Bracket>,
    /// Brackets of retirees.
    pub retiree: Vec<Bracket>,
    /// What students, the unemployed and those on relief pay.
    pub fixed: Money,
    /// The range of a farmer's amount; the least is the default.
    pub farmer_min: Money,
    pub farmer_max: Money,
    /// Months a gig worker's base averages (the previous quarter).
    pub gig_months: usize,
}

/// Every version of the dues rules, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuesRules {
    pub versions: Vec<DuesVersion>,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl DuesVersion {
    /// The 2008 rules (Central Organization Department, 2008-02-28, in force from 2008-04-01).
    pub fn rules_2008() -> Self {
        let b = |up_to: Option<i64>, rate_bp| Bracket { up_to: up_to.map(Money::from_yuan), rate_bp };
        Self {
            effective_from: date(2008, 4, 1),
            wage: vec![b(Some(3_000), 50), b(Some(5_000), 100), b(Some(10_000), 150), b(None, 200)],
            retiree: vec![b(Some(5_000), 50), b(None, 100)],
            fixed: Money::from_fen(20),
            farmer_min: Money::from_fen(20),
            farmer_max: Money::from_fen(100),
            gig_months: 3,
        }
    }
}

impl Default for DuesRules {
    fn default() -> Self {
        Self { versions: vec![DuesVersion::rules_2008()] }
    }
}

impl DuesRules {
    /// The version in force on `day`; none before the first.
    pub fn at(&self, day: NaiveDate) -> Option<&DuesVersion> {
        self.versions.iter().rev().find(|v| v.effective_from <= day)
    }
}

/// A reduction or waiver of a member's dues: decided by the branch and approved by the higher
/// organization (2008 rules: “确有困难的，经支部委员会研究，报上级党委批准，可以少交或免交”). The ledger
/// records it against a month; the calculator only ever shows the rule's amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relief {
    /// The amount owed after the decision (zero: waived).
    pub amount: Money,
    /// The approving organization's reference (document number or minutes).
    pub approval_ref: String,
    pub approved_on: NaiveDate,
}

/// What to calculate: a parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuesInput {
    pub category: DuesCategory,
    pub monthly_income: Option<Money>,
    /// A gig worker's incomes of the previous quarter's months.
    pub previous_quarter: Option<Vec<Money>>,
    /// A farmer's chosen amount (default: the least).
    pub farmer_amount: Option<Money>,
    /// The day whose rules apply.
    pub on: NaiveDate,
}

/// The raw parameters of a calculation, as a query string or a form gives them.
#[derive(Debug, Clone, Default)]
pub struct DuesParams<'a> {
    pub category: Option<&'a str>,
    pub monthly_income: Option<&'a str>,
    /// Comma-separated amounts.
    pub previous_quarter: Option<&'a str>,
    pub farmer_amount: Option<&'a str>,
    /// `YYYY-MM-DD`; default `today`.
    pub on: Option<&'a str>,
}

fn blank(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

impl DuesInput {
    /// Every problem of the parameters at once, each naming its parameter.
    pub fn parse(p: &DuesParams<'_>, today: NaiveDate) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::default();
        let required = |f: &str| FieldError::new(f, "required", Message::new("problem.required"));
        let category = match blank(p.category) {
            Some(c) => errs.take(DuesCategory::parse(c, "category")),
            None => {
                errs.push(required("category"));
                None
            }
        };
        let monthly_income = blank(p.monthly_income).and_then(|s| errs.take(Money::parse(s, "monthly_income")));
        let previous_quarter = match blank(p.previous_quarter) {
            None => None,
            Some(s) => {
                let parts: Vec<&str> = s.split([',', '，']).collect();
                let parsed: Vec<Option<Money>> =
                    parts.iter().map(|part| errs.take(Money::parse(part, "previous_quarter"))).collect();
                if parts.len() != 3 {
                    errs.push(FieldError::new(
                        "previous_quarter",
                        "three_months",
                        Message::new("problem.previous_quarter_three").arg("n", parts.len()),
                    ));
                }
                parsed.into_iter().collect::<Option<Vec<Money>>>().filter(|v| v.len() == 3)
            }
        };
        let farmer_amount = blank(p.farmer_amount).and_then(|s| errs.take(Money::parse(s, "farmer_amount")));
        let on = match blank(p.on) {
            Some(s) => errs.take(crate::parse_flexible_date(s, "on")),
            None => Some(today),
        };
        if let Some(c) = category {
            if c.needs_monthly_income() && blank(p.monthly_income).is_none() {
                errs.push(required("monthly_income"));
            }
            if c == DuesCategory::Gig && blank(p.previous_quarter).is_none() {
                errs.push(required("previous_quarter"));
            }
            if c != DuesCategory::Gig && blank(p.previous_quarter).is_some() {
                errs.push(FieldError::new(
                    "previous_quarter",
                    "not_applicable",
                    Message::new("problem.previous_quarter_gig_only"),
                ));
            }
            if c != DuesCategory::Farmer && blank(p.farmer_amount).is_some() {
                errs.push(FieldError::new(
                    "farmer_amount",
                    "not_applicable",
                    Message::new("problem.farmer_amount_farmer_only"),
                ));
            }
        }
        match (category, on, errs.is_empty()) {
            (Some(category), Some(on), true) => {
                Ok(Self { category, monthly_income, previous_quarter, farmer_amount, on })
            }
            _ => Err(errs),
        }
    }
}

/// Which rule gave an amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DuesRule {
    /// Stable id: `dues.wage.3000-5000`, `dues.gig.0-3000`, `dues.retiree.5000+`, `dues.fixed.student`,
    /// `dues.farmer` …
    pub id: String,
    /// The first day of the version of the rules applied.
    pub version: NaiveDate,
    /// The bracket's bounds: over `over`, up to and including `up_to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub over: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub up_to: Option<Money>,
}

/// The dues of one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuesOutcome {
    pub category: DuesCategory,
    /// The income the rate applies to (none for a fixed amount).
    pub base: Option<Money>,
    /// The rate in basis points (none for a fixed amount).
    pub rate_bp: Option<u32>,
    pub amount: Money,
    pub rule: DuesRule,
}

/// A rate in basis points as a decimal fraction: 150 → `0.015`.
pub fn rate_fraction(bp: u32) -> String {
    let s = format!("{}.{:04}", bp / 10_000, bp % 10_000);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A rate in basis points as a percentage: 150 → `1.5%`.
pub fn rate_percent(bp: u32) -> String {
    let s = format!("{}.{:02}", bp / 100, bp % 100);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

fn bracket_of(brackets: &[Bracket], base: Money) -> (Option<Money>, Bracket) {
    let mut over = None;
    for b in brackets {
        match b.up_to {
            Some(top) if base > top => over = Some(top),
            _ => return (over, *b),
        }
    }
    // A version's last bracket is open; a malformed one charges nothing above its last bound.
    (over, Bracket { up_to: None, rate_bp: 0 })
}

fn label(over: Option<Money>, up_to: Option<Money>) -> String {
    let yuan = |m: Money| (m.fen() / 100).to_string();
    match up_to {
        Some(top) => format!("{}-{}", over.map_or_else(|| "0".to_owned(), yuan), yuan(top)),
        None => format!("{}+", over.map_or_else(|| "0".to_owned(), yuan)),
    }
}

impl DuesRules {
    /// The dues of `input` under the version in force on its day. Refused: a day before every version
    /// (`on`), a farmer's amount outside the range (`farmer_amount`), a gig quarter of the wrong length.
    pub fn calculate(&self, input: &DuesInput) -> Result<DuesOutcome, FieldError> {
        let v = self.at(input.on).ok_or_else(|| {
            FieldError::new("on", "no_rules", Message::new("problem.no_dues_rules").arg("d", input.on))
        })?;
        let required = |f: &str| FieldError::new(f, "required", Message::new("problem.required"));
        let fixed = |id: &str, amount: Money| DuesOutcome {
            category: input.category,
            base: None,
            rate_bp: None,
            amount,
            rule: DuesRule { id: id.to_owned(), version: v.effective_from, over: None, up_to: None },
        };
        let by_brackets = |kind: &str, brackets: &[Bracket], base: Money| {
            let (over, b) = bracket_of(brackets, base);
            DuesOutcome {
                category: input.category,
                base: Some(base),
                rate_bp: Some(b.rate_bp),
                amount: base.times_basis_points(b.rate_bp),
                rule: DuesRule {
                    id: format!("dues.{kind}.{}", label(over, b.up_to)),
                    version: v.effective_from,
                    over,
                    up_to: b.up_to,
                },
            }
        };
        match input.category {
            DuesCategory::Wage => {
                Ok(by_brackets("wage", &v.wage, input.monthly_income.ok_or_else(|| required("monthly_income"))?))
            }
            DuesCategory::Retiree => {
                Ok(by_brackets("retiree", &v.retiree, input.monthly_income.ok_or_else(|| required("monthly_income"))?))
            }
            DuesCategory::Gig => {
                let months = input.previous_quarter.as_deref().ok_or_else(|| required("previous_quarter"))?;
                if months.len() != v.gig_months {
                    return Err(FieldError::new(
                        "previous_quarter",
                        "three_months",
                        Message::new("problem.previous_quarter_three").arg("n", months.len()),
                    ));
                }
                Ok(by_brackets("gig", &v.wage, Money::average(months)))
            }
            DuesCategory::Student => Ok(fixed("dues.fixed.student", v.fixed)),
            DuesCategory::Unemployed => Ok(fixed("dues.fixed.unemployed", v.fixed)),
            DuesCategory::Relief => Ok(fixed("dues.fixed.relief", v.fixed)),
            DuesCategory::Farmer => {
                let amount = input.farmer_amount.unwrap_or(v.farmer_min);
                if amount < v.farmer_min || amount > v.farmer_max {
                    return Err(FieldError::new(
                        "farmer_amount",
                        "out_of_range",
                        Message::new("problem.out_of_range.must_lo_hi").arg("lo", v.farmer_min).arg("hi", v.farmer_max),
                    ));
                }
                Ok(fixed("dues.farmer", amount))
            }
        }
    }
}

impl DuesOutcome {
    /// The rule in words, for pages: the category, the bracket or the fixed amount, the version's date.
    pub fn describe(&self) -> Message {
        let version = self.rule.version.to_string();
        let who = self.category.name();
        match (self.rate_bp, self.rule.over, self.rule.up_to) {
            (Some(bp), None, Some(top)) => Message::new("dues.rule.up_to")
                .arg_msg("who", who)
                .arg("hi", top)
                .arg("rate", rate_percent(bp))
                .arg("version", version),
            (Some(bp), Some(low), Some(top)) => Message::new("dues.rule.between")
                .arg_msg("who", who)
                .arg("lo", low)
                .arg("hi", top)
                .arg("rate", rate_percent(bp))
                .arg("version", version),
            (Some(bp), low, None) => Message::new("dues.rule.over")
                .arg_msg("who", who)
                .arg("lo", low.unwrap_or(Money::ZERO))
                .arg("rate", rate_percent(bp))
                .arg("version", version),
            (None, _, _) => Message::new("dues.rule.fixed").arg_msg("who", who).arg("version", version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        date(2026, 12, 1)
    }

    fn calc(
        category: &str,
        income: Option<&str>,
        quarter: Option<&str>,
        farmer: Option<&str>,
    ) -> Result<DuesOutcome, Vec<String>> {
        let p = DuesParams {
            category: Some(category),
            monthly_income: income,
            previous_quarter: quarter,
            farmer_amount: farmer,
            on: None,
        };
        let input = DuesInput::parse(&p, day())
            .map_err(|e| e.0.into_iter().map(|f| format!("{}:{}", f.field, f.code)).collect::<Vec<_>>())?;
        DuesRules::default().calculate(&input).map_err(|f| vec![format!("{}:{}", f.field, f.code)])
    }

    fn shown(o: &DuesOutcome) -> (String, String, String, String) {
        (
            o.base.map(|b| b.to_string()).unwrap_or_default(),
            o.rate_bp.map(rate_fraction).unwrap_or_default(),
            o.amount.to_string(),
            o.rule.id.clone(),
        )
    }

    /// DOMAIN.md "Party dues", the 2008 table: each bracket's edges, inclusive at the top
    /// (valid, boundary; 3,000.00 is 0.5%, 3,000.01 is 1%).
    #[test]
    fn wage_brackets_of_the_2008_rules() {
        let table = [
            ("0", "0.00", "0.005", "0.00", "dues.wage.0-3000"),
            ("1000", "1000.00", "0.005", "5.00", "dues.wage.0-3000"),
            ("3000", "3000.00", "0.005", "15.00", "dues.wage.0-3000"),
            ("3000.01", "3000.01", "0.01", "30.00", "dues.wage.3000-5000"),
            ("4700", "4700.00", "0.01", "47.00", "dues.wage.3000-5000"),
            ("5000", "5000.00", "0.01", "50.00", "dues.wage.3000-5000"),
            ("5000.01", "5000.01", "0.015", "75.00", "dues.wage.5000-10000"),
            ("8000", "8000.00", "0.015", "120.00", "dues.wage.5000-10000"),
            ("10000", "10000.00", "0.015", "150.00", "dues.wage.5000-10000"),
            ("10000.01", "10000.01", "0.02", "200.00", "dues.wage.10000+"),
            ("12345.67", "12345.67", "0.02", "246.91", "dues.wage.10000+"),
            ("2999.99", "2999.99", "0.005", "15.00", "dues.wage.0-3000"),
            ("3333.33", "3333.33", "0.01", "33.33", "dues.wage.3000-5000"),
        ];
        for (income, base, rate, amount, rule) in table {
            let o = calc("wage", Some(income), None, None);
            assert_eq!(o.map(|o| shown(&o)), Ok((base.into(), rate.into(), amount.into(), rule.into())), "{income}");
        }
    }

    /// DOMAIN.md "Party dues": gig workers pay on the previous quarter's average monthly income, which
    /// is rounded half-up to the fen before the bracket is chosen.
    #[test]
    fn gig_workers_pay_on_the_quarter_average() {
        let table = [
            ("2800,3200,3000", "3000.00", "0.005", "15.00", "dues.gig.0-3000"),
            ("3000,3000,3000.03", "3000.01", "0.01", "30.00", "dues.gig.3000-5000"),
            ("3000,3000,3000.01", "3000.00", "0.005", "15.00", "dues.gig.0-3000"),
            ("4000,6000,8000", "6000.00", "0.015", "90.00", "dues.gig.5000-10000"),
            ("0,0,31000", "10333.33", "0.02", "206.67", "dues.gig.10000+"),
        ];
        for (q, base, rate, amount, rule) in table {
            let o = calc("gig", None, Some(q), None);
            assert_eq!(o.map(|o| shown(&o)), Ok((base.into(), rate.into(), amount.into(), rule.into())), "{q}");
        }
    }

    /// DOMAIN.md "Party dues": retirees 0.5% up to 5,000 (inclusive) and 1% above.
    #[test]
    fn retirees_have_two_brackets() {
        let table = [
            ("3000", "15.00", "dues.retiree.0-5000"),
            ("5000", "25.00", "dues.retiree.0-5000"),
            ("5000.01", "50.00", "dues.retiree.5000+"),
            ("12000", "120.00", "dues.retiree.5000+"),
        ];
        for (income, amount, rule) in table {
            let o = calc("retiree", Some(income), None, None);
            assert_eq!(o.map(|o| (o.amount.to_string(), o.rule.id)), Ok((amount.into(), rule.into())), "{income}");
        }
    }

    /// DOMAIN.md "Party dues": students, the unemployed and those on relief 0.20 yuan; farmers 0.20–1.00
    /// (default 0.20; the bounds valid, outside them refused).
    #[test]
    fn fixed_amounts() {
        for (c, id) in [
            ("student", "dues.fixed.student"),
            ("unemployed", "dues.fixed.unemployed"),
            ("relief", "dues.fixed.relief"),
        ] {
            let o = calc(c, None, None, None);
            assert_eq!(
                o.map(|o| (o.base, o.rate_bp, o.amount.to_string(), o.rule.id)),
                Ok((None, None, "0.20".into(), id.into()))
            );
        }
        // An income given to a fixed category does not change the amount.
        assert_eq!(calc("student", Some("9000"), None, None).map(|o| o.amount.to_string()), Ok("0.20".into()));
        for (farmer, want) in [
            (None, Ok("0.20".to_owned())),
            (Some("0.2"), Ok("0.20".into())),
            (Some("1.00"), Ok("1.00".into())),
            (Some("0.5"), Ok("0.50".into())),
        ] {
            assert_eq!(calc("farmer", None, None, farmer).map(|o| o.amount.to_string()), want, "{farmer:?}");
        }
        for farmer in ["0.19", "1.01"] {
            assert_eq!(
                calc("farmer", None, None, Some(farmer)).map(|o| o.amount),
                Err(vec!["farmer_amount:out_of_range".into()])
            );
        }
    }

    /// Invalid requests: every problem named by its parameter, all at once.
    #[test]
    fn bad_parameters_name_themselves() {
        let err = |c, i, q, f| calc(c, i, q, f).err().unwrap_or_default();
        assert_eq!(err("worker", Some("1"), None, None), ["category:invalid_category"]);
        assert_eq!(err("wage", Some("abc"), None, None), ["monthly_income:invalid_amount"]);
        assert_eq!(err("wage", Some("-1"), None, None), ["monthly_income:negative"]);
        assert_eq!(err("wage", Some("1.234"), None, None), ["monthly_income:too_many_decimals"]);
        assert_eq!(err("wage", None, None, None), ["monthly_income:required"]);
        assert_eq!(err("retiree", None, None, None), ["monthly_income:required"]);
        assert_eq!(err("gig", None, None, None), ["previous_quarter:required"]);
        assert_eq!(err("gig", None, Some("1,2"), None), ["previous_quarter:three_months"]);
        assert_eq!(err("gig", None, Some("1,2,3,4"), None), ["previous_quarter:three_months"]);
        assert_eq!(err("gig", None, Some("1,x,3"), None), ["previous_quarter:invalid_amount"]);
        assert_eq!(err("wage", Some("1"), Some("1,2,3"), None), ["previous_quarter:not_applicable"]);
        assert_eq!(err("wage", Some("1"), None, Some("0.5")), ["farmer_amount:not_applicable"]);
        assert_eq!(
            err("wage", Some("x"), Some("1,2"), None),
            ["monthly_income:invalid_amount", "previous_quarter:three_months", "previous_quarter:not_applicable"]
        );
        let p = DuesParams { category: None, on: Some("2026-02-30"), ..Default::default() };
        let fields: Vec<String> =
            DuesInput::parse(&p, day()).err().map(|e| e.0.into_iter().map(|f| f.field).collect()).unwrap_or_default();
        assert_eq!(fields, ["category", "on"]);
    }

    /// The versions are dated: a day before 2008-04-01 has no rules here; a later version applies from
    /// its first day.
    #[test]
    fn versions_apply_from_their_day() {
        let p = |on| DuesParams {
            category: Some("wage"),
            monthly_income: Some("4000"),
            on: Some(on),
            ..Default::default()
        };
        let input = |on| DuesInput::parse(&p(on), day()).ok();
        let rules = DuesRules::default();
        let before = input("2008-03-31").map(|i| rules.calculate(&i).map_err(|e| e.code));
        assert_eq!(before, Some(Err("no_rules".into())));
        let from = input("2008-04-01").map(|i| rules.calculate(&i).map(|o| o.amount.to_string()));
        assert_eq!(from, Some(Ok("40.00".into())));
        let mut later = DuesVersion { effective_from: date(2030, 1, 1), ..DuesVersion::rules_2008() };
        later.wage[1].rate_bp = 80;
        let rules = DuesRules { versions: vec![DuesVersion::rules_2008(), later] };
        let on = |d| {
            input(d).and_then(|i| rules.calculate(&i).ok()).map(|o| (o.amount.to_string(), o.rule.version.to_string()))
        };
        assert_eq!(on("2029-12-31"), Some(("40.00".into(), "2008-04-01".into())));
        assert_eq!(on("2030-01-01"), Some(("32.00".into(), "2030-01-01".into())));
    }

    #[test]
    fn rates_are_written_exactly() {
        assert_eq!([50, 100, 150, 200].map(rate_fraction), ["0.005", "0.01", "0.015", "0.02"]);
        assert_eq!([50, 100, 150, 200].map(rate_percent), ["0.5%", "1%", "1.5%", "2%"]);
    }
}
