//! The configurable rules of needs and rights cases: the categories with their deadlines, the holiday
//! calendar deadlines are counted in, how long a closed case keeps its personal fields, and after how
//! many days a resolved case the worker never rated closes by itself. Administrators change them; the
//! defaults are DOMAIN.md's.

use super::cases::{default_categories, Category};
use super::workdays::WorkCalendar;
use crate::Message;
use crate::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Retention of closed cases' personal fields, in days: the default and the bounds an administrator
/// may choose within (a month at least, so a worker can still add to a closed case's record; ten years
/// at most).
pub const DEFAULT_RETENTION_DAYS: u32 = 365;
pub const RETENTION_DAYS_RANGE: (u32, u32) = (30, 3650);
/// Days after resolution when an unrated case closes by itself.
pub const DEFAULT_AUTO_CLOSE_DAYS: u32 = 15;
pub const AUTO_CLOSE_DAYS_RANGE: (u32, u32) = (1, 90);
/// Working days a category may allow, to acknowledge or to resolve.
pub const DEADLINE_DAYS_RANGE: (u32, u32) = (1, 120);

/// The case rules in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseSettings {
    pub categories: Vec<Category>,
    /// Public holidays and make-up working days.
    pub calendar: WorkCalendar,
    pub retention_days: u32,
    pub auto_close_days: u32,
}

impl Default for CaseSettings {
    fn default() -> Self {
        Self {
            categories: default_categories(),
            calendar: WorkCalendar::default(),
            retention_days: DEFAULT_RETENTION_DAYS,
            auto_close_days: DEFAULT_AUTO_CLOSE_DAYS,
        }
    }
}

fn out_of_range(field: &str, (lo, hi): (u32, u32)) -> FieldError {
    FieldError::new(field, "out_of_range", Message::new("problem.out_of_range.must_lo_hi").arg("lo", lo).arg("hi", hi))
}

/// Whether `code` is a usable category code: lower-case ASCII letters, digits and `_`, starting with a
/// letter, at most 40 characters.
fn is_code(code: &str) -> bool {
    code.len() <= 40
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl CaseSettings {
    /// The category with `code`.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// Every problem, each naming its field (`categories[2].ack_days`, `retention_days`, …).
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errs = FieldErrors::default();
        if self.categories.is_empty() {
            errs.0.push(FieldError::new("categories", "required", Message::new("problem.required.least_one_category")));
        }
        let mut seen = HashSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            let at = |f: &str| format!("categories[{i}].{f}");
            if !is_code(&c.code) {
                errs.0.push(FieldError::new(
                    &at("code"),
                    "invalid",
                    Message::new("problem.invalid.lower_case_letters"),
                ));
            } else if !seen.insert(c.code.as_str()) {
                errs.0.push(FieldError::new(
                    &at("code"),
                    "duplicate",
                    Message::new("problem.duplicate.code_used_twice"),
                ));
            }
            for (field, name) in [("name_zh", &c.name_zh), ("name_en", &c.name_en)] {
                let n = name.trim().chars().count();
                if n == 0 || n > 60 {
                    errs.0.push(FieldError::new(&at(field), "invalid", Message::new("problem.invalid.characters")));
                }
            }
            for (field, days) in [("ack_days", c.ack_days), ("resolve_days", c.resolve_days)] {
                if !(DEADLINE_DAYS_RANGE.0..=DEADLINE_DAYS_RANGE.1).contains(&days) {
                    errs.0.push(out_of_range(&at(field), DEADLINE_DAYS_RANGE));
                }
            }
            if c.resolve_days < c.ack_days {
                errs.0.push(FieldError::new(&at("resolve_days"), "too_short", Message::new("problem.too_short")));
            }
        }
        if let Some(d) = self.calendar.holidays.intersection(&self.calendar.workdays).next() {
            errs.0.push(FieldError::new("calendar", "conflict", Message::new("problem.conflict").arg("d", d)));
        }
        if !(RETENTION_DAYS_RANGE.0..=RETENTION_DAYS_RANGE.1).contains(&self.retention_days) {
            errs.0.push(out_of_range("retention_days", RETENTION_DAYS_RANGE));
        }
        if !(AUTO_CLOSE_DAYS_RANGE.0..=AUTO_CLOSE_DAYS_RANGE.1).contains(&self.auto_close_days) {
            errs.0.push(out_of_range("auto_close_days", AUTO_CLOSE_DAYS_RANGE));
        }
        errs.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn defaults_are_valid_and_carry_domain_md_categories() {
        let s = CaseSettings::default();
        assert!(s.check().is_ok());
        assert_eq!(s.category("wage_arrears").map(|c| (c.ack_days, c.resolve_days)), Some((1, 10)));
        assert_eq!(s.retention_days, 365);
    }

    fn fields(s: &CaseSettings) -> Vec<String> {
        s.check().err().map(|e| e.0.into_iter().map(|f| f.field).collect()).unwrap_or_default()
    }

    #[test]
    fn every_problem_names_its_field() {
        let mut s = CaseSettings::default();
        s.categories[1].code = "wage_arrears".into();
        s.categories[2].code = "Bad Code".into();
        s.categories[3].name_en = " ".into();
        s.categories[4].ack_days = 0;
        s.categories[5].ack_days = 5;
        s.categories[5].resolve_days = 4;
        s.retention_days = 7;
        s.auto_close_days = 0;
        let day = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default();
        s.calendar.holidays.insert(day);
        s.calendar.workdays.insert(day);
        assert_eq!(
            fields(&s),
            [
                "categories[1].code",
                "categories[2].code",
                "categories[3].name_en",
                "categories[4].ack_days",
                "categories[5].resolve_days",
                "calendar",
                "retention_days",
                "auto_close_days",
            ]
        );
    }

    #[test]
    fn no_categories_is_refused() {
        let s = CaseSettings { categories: Vec::new(), ..CaseSettings::default() };
        assert_eq!(fields(&s), ["categories"]);
    }

    #[test]
    fn bounds_are_inclusive() {
        let mut s = CaseSettings { retention_days: 30, auto_close_days: 90, ..CaseSettings::default() };
        s.categories[0].ack_days = 120;
        s.categories[0].resolve_days = 120;
        assert!(s.check().is_ok());
        s.retention_days = 3651;
        assert_eq!(fields(&s), ["retention_days"]);
    }
}
