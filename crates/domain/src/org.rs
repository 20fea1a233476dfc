//! Party organizations: kinds, how they nest, and what a registration must satisfy.

use crate::codes::OrgCode;
use crate::entity::{check_date_order, parse_optional_date, parse_required_text, parse_text, UnitRef};
use crate::error::{FieldError, FieldErrors};
use crate::region::RegionCode;
use crate::Message;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Kind of Party organization (Party Constitution art. 30; Regulations on the Work of Party Branches, 2018).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 基层党委
    GrassrootsCommittee,
    /// 党总支
    GeneralBranch,
    /// 党支部
    Branch,
    /// 联合党支部 — several units with fewer than 3 formal members each.
    JointBranch,
    /// 流动党员党支部 — members away from their home organization.
    FloatingBranch,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] =
        [Self::GrassrootsCommittee, Self::GeneralBranch, Self::Branch, Self::JointBranch, Self::FloatingBranch];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GrassrootsCommittee => "grassroots_committee",
            Self::GeneralBranch => "general_branch",
            Self::Branch => "branch",
            Self::JointBranch => "joint_branch",
            Self::FloatingBranch => "floating_branch",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::GrassrootsCommittee => "基层党委",
            Self::GeneralBranch => "党总支",
            Self::Branch => "党支部",
            Self::JointBranch => "联合党支部",
            Self::FloatingBranch => "流动党员党支部",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Self::GrassrootsCommittee => "Grassroots committee",
            Self::GeneralBranch => "General branch",
            Self::Branch => "Branch",
            Self::JointBranch => "Joint branch",
            Self::FloatingBranch => "Floating-member branch",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.name_zh() == s)
            .ok_or_else(|| FieldError::new("kind", "invalid_kind", Message::new("problem.invalid_kind").arg("s", s)))
    }

    /// Whether an organization of this kind may have organizations of `child` kind under it.
    pub fn may_lead(self, child: OrgKind) -> bool {
        match self {
            Self::GrassrootsCommittee => true,
            Self::GeneralBranch => matches!(child, Self::Branch | Self::JointBranch | Self::FloatingBranch),
            _ => false,
        }
    }

    /// Whether the organization's units are its members' units side by side (a joint branch), rather than
    /// one home unit with, optionally, units of its chain below it that it covers (every other kind).
    pub fn is_joint(self) -> bool {
        self == Self::JointBranch
    }
}

/// Checks the nesting of two organizations.
pub fn check_parent_org_kind(kind: OrgKind, parent: OrgKind) -> Result<(), FieldError> {
    if parent.may_lead(kind) {
        Ok(())
    } else {
        Err(FieldError::new(
            "parent_code",
            "invalid_parent_kind",
            Message::new("problem.invalid_parent_kind.organization")
                .arg_msg("parent", Message::dynamic(format!("org_kind_word.{}", parent.as_str())))
                .arg_msg("kind", Message::dynamic(format!("org_kind_word.{}", kind.as_str()))),
        ))
    }
}

/// An organization as it arrives from outside: text, not yet trusted.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct OrganizationInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub parent_id: Option<i64>,
    pub parent_code: Option<String>,
    /// Units by id (API, forms).
    #[serde(default)]
    pub unit_ids: Vec<i64>,
    /// Units by USCC or site code (imports).
    #[serde(default)]
    pub unit_codes: Vec<String>,
    pub region_code: Option<String>,
    pub established_on: Option<String>,
    pub dissolved_on: Option<String>,
    pub term_start: Option<String>,
    pub term_end: Option<String>,
    pub secretary: Option<String>,
}

/// How one organization refers to another in input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRef {
    Id(i64),
    Code(OrgCode),
}

/// An organization that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationDraft {
    pub code: OrgCode,
    pub name: String,
    pub kind: OrgKind,
    pub parent: Option<OrgRef>,
    pub units: Vec<UnitRef>,
    pub region_code: RegionCode,
    pub established_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub secretary: Option<String>,
}

/// The fields of an organization's input that refer to the database, as far as they parsed (see
/// [`crate::entity::EntityReferences`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationReferences {
    pub code: Option<OrgCode>,
    pub kind: Option<OrgKind>,
    pub parent: Option<OrgRef>,
    pub units: Vec<UnitRef>,
    pub region_code: Option<RegionCode>,
}

impl OrganizationReferences {
    /// The references of a draft (all of them parsed).
    pub fn of(d: &OrganizationDraft) -> Self {
        Self {
            code: Some(d.code.clone()),
            kind: Some(d.kind),
            parent: d.parent.clone(),
            units: d.units.clone(),
            region_code: Some(d.region_code.clone()),
        }
    }
}

impl OrganizationDraft {
    /// Checks everything that needs no database and reports every problem at once.
    pub fn parse(input: &OrganizationInput) -> Result<Self, FieldErrors> {
        Self::parse_or_references(input).map_err(|(errs, _)| errs)
    }

    /// [`Self::parse`], and on failure also the references that did parse.
    pub fn parse_or_references(input: &OrganizationInput) -> Result<Self, (FieldErrors, Box<OrganizationReferences>)> {
        let mut errs = FieldErrors::default();
        let code = match input.code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(c) => errs.take(OrgCode::parse(c)),
            None => {
                errs.push(FieldError::new("code", "required", Message::new("problem.required")));
                None
            }
        };
        let name = errs.take(parse_required_text(input.name.as_deref(), "name", 200));
        let kind = match input.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(k) => errs.take(OrgKind::parse(k)),
            None => {
                errs.push(FieldError::new("kind", "required", Message::new("problem.required")));
                None
            }
        };
        let parent = match (input.parent_id, input.parent_code.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
            (Some(id), _) => Some(OrgRef::Id(id)),
            (None, Some(c)) => errs.take(OrgCode::parse(c).map_err(|e| e.on_field("parent_code"))).map(OrgRef::Code),
            (None, None) => None,
        };
        let mut units: Vec<UnitRef> = input.unit_ids.iter().map(|&id| UnitRef::Id(id)).collect();
        for c in input.unit_codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            if let Some(u) = errs.take(UnitRef::parse_code(c, "units")) {
                units.push(u);
            }
        }
        units.dedup();
        if let Some(k) = kind {
            if k == OrgKind::JointBranch && units.len() < 2 {
                errs.push(FieldError::new(
                    "units",
                    "joint_branch_needs_units",
                    Message::new("problem.joint_branch_needs_units"),
                ));
            }
        }
        let region_code = match input.region_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(r) => errs.take(RegionCode::parse(r)),
            None => {
                errs.push(FieldError::new("region_code", "required", Message::new("problem.required")));
                None
            }
        };
        let established_on =
            errs.take(parse_optional_date(input.established_on.as_deref(), "established_on")).flatten();
        let dissolved_on = errs.take(parse_optional_date(input.dissolved_on.as_deref(), "dissolved_on")).flatten();
        let term_start = errs.take(parse_optional_date(input.term_start.as_deref(), "term_start")).flatten();
        let term_end = errs.take(parse_optional_date(input.term_end.as_deref(), "term_end")).flatten();
        errs.take(check_date_order(established_on, dissolved_on, "dissolved_on"));
        errs.take(check_date_order(term_start, term_end, "term_end"));
        if term_start.is_some() != term_end.is_some() {
            errs.push(FieldError::new("term_end", "term_incomplete", Message::new("problem.term_incomplete")));
        }
        let secretary = errs.take(parse_text(input.secretary.as_deref(), "secretary", 50)).flatten();
        match (code, name, kind, region_code) {
            (Some(code), Some(name), Some(kind), Some(region_code)) if errs.is_empty() => Ok(Self {
                code,
                name,
                kind,
                parent,
                units,
                region_code,
                established_on,
                dissolved_on,
                term_start,
                term_end,
                secretary,
            }),
            (code, _, kind, region_code) => {
                Err((errs, Box::new(OrganizationReferences { code, kind, parent, units, region_code })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joint() -> OrganizationInput {
        OrganizationInput {
            code: Some("JB-0001".into()),
            name: Some("望京外卖骑手联合党支部".into()),
            kind: Some("联合党支部".into()),
            parent_code: Some("GC-01".into()),
            unit_codes: vec!["MT-1".into(), "MT-2".into()],
            region_code: Some("110105".into()),
            term_start: Some("2023-01-01".into()),
            term_end: Some("2027-12-31".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_joint_branch_parses() {
        let d = OrganizationDraft::parse(&joint());
        assert!(d.is_ok(), "{d:?}");
        assert_eq!(d.map(|d| d.units.len()).ok(), Some(2));
    }

    #[test]
    fn unit_counts_by_kind() {
        let mut i = joint();
        i.unit_codes.pop();
        assert_eq!(
            OrganizationDraft::parse(&i).err().map(|e| e.0[0].code.clone()),
            Some("joint_branch_needs_units".into())
        );
        // A branch has one home unit and may cover units of its chain below it (checked by the store).
        let mut i = joint();
        i.kind = Some("branch".into());
        assert_eq!(OrganizationDraft::parse(&i).map(|d| d.units.len()).ok(), Some(2));
    }

    #[test]
    fn terms_and_dates() {
        let mut i = joint();
        i.term_end = Some("2022-01-01".into());
        i.dissolved_on = Some("not a date".into());
        let codes: Vec<String> =
            OrganizationDraft::parse(&i).err().map(|e| e.0.into_iter().map(|e| e.code).collect()).unwrap_or_default();
        assert_eq!(codes, vec!["invalid_date", "date_before_start"]);
        let mut i = joint();
        i.term_end = None;
        assert!(OrganizationDraft::parse(&i).is_err());
    }

    #[test]
    fn nesting() {
        use OrgKind::*;
        assert!(check_parent_org_kind(Branch, GrassrootsCommittee).is_ok());
        assert!(check_parent_org_kind(Branch, GeneralBranch).is_ok());
        assert!(check_parent_org_kind(GeneralBranch, GrassrootsCommittee).is_ok());
        assert!(check_parent_org_kind(GrassrootsCommittee, GrassrootsCommittee).is_ok());
        assert!(check_parent_org_kind(GeneralBranch, GeneralBranch).is_err());
        assert!(check_parent_org_kind(Branch, Branch).is_err());
        assert!(check_parent_org_kind(Branch, JointBranch).is_err());
    }

    #[test]
    fn kinds_parse_by_code_and_name() {
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.as_str()), Ok(k));
            assert_eq!(OrgKind::parse(k.name_zh()), Ok(k));
        }
        assert!(OrgKind::parse("党小组").is_err());
    }
}
