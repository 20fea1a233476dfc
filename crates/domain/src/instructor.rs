//! Party-building instructors (党建指导员) and their assignments to units.

use crate::codes::Mobile;
use crate::entity::{check_date_order, parse_optional_date, parse_required_text, parse_text, UnitRef};
use crate::error::{FieldError, FieldErrors};
use crate::region::RegionCode;
use crate::Message;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An assignment as it arrives from outside.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AssignmentInput {
    pub entity_id: Option<i64>,
    /// USCC or site code (imports).
    pub unit_code: Option<String>,
    pub start_on: Option<String>,
    pub end_on: Option<String>,
}

/// An instructor as it arrives from outside.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct InstructorInput {
    pub name: Option<String>,
    pub mobile: Option<String>,
    /// The organization or department that dispatched the instructor (派出单位).
    pub dispatching_org: Option<String>,
    pub region_code: Option<String>,
    #[serde(default)]
    pub assignments: Vec<AssignmentInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentDraft {
    pub unit: UnitRef,
    pub start_on: NaiveDate,
    pub end_on: Option<NaiveDate>,
}

impl AssignmentDraft {
    /// Whether the assignment is in force on `date`.
    pub fn active_on(&self, date: NaiveDate) -> bool {
        self.start_on <= date && self.end_on.is_none_or(|e| date <= e)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstructorDraft {
    pub name: String,
    pub mobile: Mobile,
    pub dispatching_org: Option<String>,
    pub region_code: RegionCode,
    pub assignments: Vec<AssignmentDraft>,
}

/// The fields of an instructor's input that the registry checks, as far as they parsed (see
/// [`crate::entity::EntityReferences`]): the region, the mobile number (one instructor each) and each
/// assignment's unit by its position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstructorReferences {
    pub region_code: Option<RegionCode>,
    pub mobile: Option<Mobile>,
    pub units: Vec<(usize, UnitRef)>,
}

impl InstructorReferences {
    /// The references of a draft (all of them parsed).
    pub fn of(d: &InstructorDraft) -> Self {
        Self {
            region_code: Some(d.region_code.clone()),
            mobile: Some(d.mobile.clone()),
            units: d.assignments.iter().enumerate().map(|(i, a)| (i, a.unit.clone())).collect(),
        }
    }
}

/// The field an assignment's unit is named in: by id (API, forms) or by code (imports).
pub fn assignment_unit_field(index: usize, unit: &UnitRef) -> String {
    let name = if matches!(unit, UnitRef::Id(_)) { "entity_id" } else { "unit_code" };
    format!("assignments[{index}].{name}")
}

impl InstructorDraft {
    /// Checks everything that needs no database and reports every problem at once.
    pub fn parse(input: &InstructorInput) -> Result<Self, FieldErrors> {
        Self::parse_or_references(input).map_err(|(errs, _)| errs)
    }

    /// [`Self::parse`], and on failure also the references that did parse.
    pub fn parse_or_references(input: &InstructorInput) -> Result<Self, (FieldErrors, Box<InstructorReferences>)> {
        let mut errs = FieldErrors::default();
        let name = errs.take(parse_required_text(input.name.as_deref(), "name", 50));
        let mobile = match input.mobile.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(m) => errs.take(Mobile::parse(m)),
            None => {
                errs.push(FieldError::new("mobile", "required", Message::new("problem.required")));
                None
            }
        };
        let dispatching_org = errs.take(parse_text(input.dispatching_org.as_deref(), "dispatching_org", 200)).flatten();
        let region_code = match input.region_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(r) => errs.take(RegionCode::parse(r)),
            None => {
                errs.push(FieldError::new("region_code", "required", Message::new("problem.required")));
                None
            }
        };
        let mut assignments = Vec::new();
        let mut units = Vec::new();
        for (i, a) in input.assignments.iter().enumerate() {
            let field = |f: &str| format!("assignments[{i}].{f}");
            let unit = match (a.entity_id, a.unit_code.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
                (Some(id), _) => Some(UnitRef::Id(id)),
                (None, Some(c)) => errs.take(UnitRef::parse_code(c, &field("unit_code"))),
                (None, None) => {
                    errs.push(FieldError::new(&field("unit_code"), "required", Message::new("problem.required")));
                    None
                }
            };
            let start = match a.start_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(_) => errs.take(parse_optional_date(a.start_on.as_deref(), &field("start_on"))).flatten(),
                None => {
                    errs.push(FieldError::new(&field("start_on"), "required", Message::new("problem.required")));
                    None
                }
            };
            let end = errs.take(parse_optional_date(a.end_on.as_deref(), &field("end_on"))).flatten();
            errs.take(check_date_order(start, end, &field("end_on")));
            if let Some(unit) = &unit {
                units.push((i, unit.clone()));
            }
            if let (Some(unit), Some(start_on)) = (unit, start) {
                assignments.push(AssignmentDraft { unit, start_on, end_on: end });
            }
        }
        match (name, mobile, region_code) {
            (Some(name), Some(mobile), Some(region_code)) if errs.is_empty() => {
                Ok(Self { name, mobile, dispatching_org, region_code, assignments })
            }
            (_, mobile, region_code) => Err((errs, Box::new(InstructorReferences { region_code, mobile, units }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instructor_with_assignments() {
        let input = InstructorInput {
            name: Some("李明".into()),
            mobile: Some("13912345678".into()),
            dispatching_org: Some("朝阳区委社会工作部".into()),
            region_code: Some("110105".into()),
            assignments: vec![AssignmentInput {
                unit_code: Some("MT-1".into()),
                start_on: Some("2024-01-01".into()),
                ..Default::default()
            }],
        };
        let d = InstructorDraft::parse(&input);
        assert!(d.is_ok(), "{d:?}");
        let a = d.map(|d| d.assignments[0].clone()).ok();
        let on = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        assert_eq!(a.as_ref().map(|a| a.active_on(on("2024-06-01"))), Some(true));
        assert_eq!(a.map(|a| a.active_on(on("2023-06-01"))), Some(false));
    }

    #[test]
    fn bad_mobile_and_assignment_dates() {
        let input = InstructorInput {
            name: Some("李明".into()),
            mobile: Some("1391234567".into()),
            region_code: Some("110105".into()),
            assignments: vec![AssignmentInput {
                unit_code: Some("MT-1".into()),
                start_on: Some("2024-01-01".into()),
                end_on: Some("2023-01-01".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let fields: Vec<String> = InstructorDraft::parse(&input)
            .err()
            .map(|e| e.0.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec!["mobile", "assignments[0].end_on"]);
    }
}
