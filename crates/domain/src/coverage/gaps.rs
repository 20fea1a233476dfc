//! The gap list: which rule a unit or an organization breaks on a day, and what would fix it
//! (DOMAIN.md, "Gap list").
//!
//! Not evaluated here: "≥7 members, no branch committee" needs committee records, which come with the
//! members issue.

use super::rules::{Requirement, Thresholds};
use super::state::CoverageState;
use super::Day;
use crate::OrgKind;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// A rule broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GapRule {
    /// ≥3 formal members, no organization of its own.
    NoOwnOrganization,
    /// 1–2 formal members, not in a joint branch (nor covered otherwise), no instructor.
    NotInJointBranch,
    /// No coverage of any kind.
    NoCoverage,
    /// Its own organization is of a kind below what its membership calls for (e.g. ≥100 members, a branch).
    OrganizationBelowSize,
    /// The organization's term of office has ended with no new term recorded.
    TermExpired,
    /// A joint branch groups more units than it should.
    JointBranchTooLarge,
}

impl GapRule {
    pub const ALL: [GapRule; 6] = [
        Self::NoOwnOrganization,
        Self::NotInJointBranch,
        Self::NoCoverage,
        Self::OrganizationBelowSize,
        Self::TermExpired,
        Self::JointBranchTooLarge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoOwnOrganization => "no_own_organization",
            Self::NotInJointBranch => "not_in_joint_branch",
            Self::NoCoverage => "no_coverage",
            Self::OrganizationBelowSize => "organization_below_size",
            Self::TermExpired => "term_expired",
            Self::JointBranchTooLarge => "joint_branch_too_large",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The rule, as a cadre reads it.
    pub fn text(self, lang: &str) -> &'static str {
        let zh = lang != "en";
        match self {
            Self::NoOwnOrganization => {
                if zh {
                    "正式党员3名以上，未单独建立党组织"
                } else {
                    "3 or more formal members, no organization of its own"
                }
            }
            Self::NotInJointBranch => {
                if zh {
                    "正式党员1至2名，未纳入联合党支部，也无党建指导员"
                } else {
                    "1–2 formal members, not in a joint branch, no instructor"
                }
            }
            Self::NoCoverage => {
                if zh {
                    "党的组织和工作均未覆盖"
                } else {
                    "no coverage of any kind"
                }
            }
            Self::OrganizationBelowSize => {
                if zh {
                    "党组织设置与党员人数不相适应"
                } else {
                    "its organization is of a kind below what its membership calls for"
                }
            }
            Self::TermExpired => {
                if zh {
                    "党组织任期届满未换届"
                } else {
                    "term of office expired, no new term recorded"
                }
            }
            Self::JointBranchTooLarge => {
                if zh {
                    "联合党支部覆盖单位超过规定数量"
                } else {
                    "joint branch groups more units than allowed"
                }
            }
        }
    }

    /// What would fix it; `requirement` is what the unit's membership calls for.
    pub fn fix(self, requirement: Requirement, lang: &str) -> String {
        let zh = lang != "en";
        match (self, zh) {
            (Self::NoOwnOrganization, true) => format!("单独建立{}", requirement.name_zh()),
            (Self::NoOwnOrganization, false) => format!("establish its own {}", requirement.as_str().replace('_', " ")),
            (Self::NotInJointBranch, true) => "纳入或组建联合党支部，或选派党建指导员".into(),
            (Self::NotInJointBranch, false) => "join or form a joint branch, or assign an instructor".into(),
            (Self::NoCoverage, true) => "选派党建指导员，开展党的工作".into(),
            (Self::NoCoverage, false) => "assign an instructor to carry Party work there".into(),
            (Self::OrganizationBelowSize, true) => format!("按党员人数调整为{}", requirement.name_zh()),
            (Self::OrganizationBelowSize, false) => {
                format!("re-establish as a {}", requirement.as_str().replace('_', " "))
            }
            (Self::TermExpired, true) => "按期进行换届选举".into(),
            (Self::TermExpired, false) => "hold the election for a new term".into(),
            (Self::JointBranchTooLarge, true) => "拆分联合党支部，或为党员较多的单位单独建立组织".into(),
            (Self::JointBranchTooLarge, false) => {
                "split the joint branch, or give units with more members their own organization".into()
            }
        }
    }
}

/// The rule an operating unit breaks on a day, if any: `formal` members, its `state`, and the kind of
/// its own organization when it has one.
pub fn unit_gap(formal: u32, state: CoverageState, own_kind: Option<OrgKind>, t: &Thresholds) -> Option<GapRule> {
    let required = t.required(formal);
    if state == CoverageState::Own {
        let kind = own_kind?;
        let met = Requirement::met_by(kind);
        return (required >= Requirement::GeneralBranch && met < required).then_some(GapRule::OrganizationBelowSize);
    }
    if formal >= t.own_organization_min {
        return Some(GapRule::NoOwnOrganization);
    }
    if state != CoverageState::None {
        return None;
    }
    Some(if formal == 0 { GapRule::NoCoverage } else { GapRule::NotInJointBranch })
}

/// When an organization's term ends: the recorded end, else the start plus the term of its kind.
pub fn term_end(kind: OrgKind, start: Option<NaiveDate>, end: Option<NaiveDate>, t: &Thresholds) -> Option<NaiveDate> {
    end.or_else(|| {
        let s = start?;
        let years = t.term_years(kind) as i32;
        NaiveDate::from_ymd_opt(s.year() + years, s.month(), s.day())
            .or_else(|| NaiveDate::from_ymd_opt(s.year() + years, s.month(), 28))
    })
}

/// The rules an organization active on `day` breaks: a term ended before `day` (`term_end_day`), or a
/// joint branch over the unit limit.
pub fn organization_gaps(
    kind: OrgKind,
    term_end_day: Option<Day>,
    units: usize,
    day: Day,
    t: &Thresholds,
) -> Vec<GapRule> {
    let mut out = Vec::new();
    if term_end_day.is_some_and(|end| end < day) {
        out.push(GapRule::TermExpired);
    }
    if kind.is_joint() && units > t.joint_branch_max_units as usize {
        out.push(GapRule::JointBranchTooLarge);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::rules::RuleSet;

    fn t() -> Thresholds {
        RuleSet::default().versions[1].thresholds.clone()
    }

    #[test]
    fn each_unit_rule_from_the_domain_list() {
        let t = t();
        assert_eq!(unit_gap(3, CoverageState::Joint, None, &t), Some(GapRule::NoOwnOrganization));
        assert_eq!(unit_gap(5, CoverageState::None, None, &t), Some(GapRule::NoOwnOrganization));
        assert_eq!(unit_gap(2, CoverageState::None, None, &t), Some(GapRule::NotInJointBranch));
        assert_eq!(unit_gap(2, CoverageState::InstructorOnly, None, &t), None);
        assert_eq!(unit_gap(1, CoverageState::Joint, None, &t), None);
        assert_eq!(unit_gap(0, CoverageState::None, None, &t), Some(GapRule::NoCoverage));
        assert_eq!(unit_gap(0, CoverageState::Chain, None, &t), None);
        assert_eq!(unit_gap(3, CoverageState::Own, Some(OrgKind::Branch), &t), None);
        assert_eq!(unit_gap(120, CoverageState::Own, Some(OrgKind::Branch), &t), Some(GapRule::OrganizationBelowSize));
        assert_eq!(unit_gap(120, CoverageState::Own, Some(OrgKind::GrassrootsCommittee), &t), None);
        assert_eq!(unit_gap(60, CoverageState::Own, Some(OrgKind::GrassrootsCommittee), &t), None);
    }

    #[test]
    fn terms_and_joint_branch_size() {
        let t = t();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(term_end(OrgKind::Branch, d("2023-03-01"), None, &t), d("2028-03-01"));
        assert_eq!(term_end(OrgKind::Branch, d("2024-02-29"), None, &t), d("2029-02-28"));
        assert_eq!(term_end(OrgKind::Branch, d("2023-03-01"), d("2026-03-01"), &t), d("2026-03-01"));
        assert_eq!(term_end(OrgKind::Branch, None, None, &t), None);
        assert_eq!(organization_gaps(OrgKind::Branch, Some(10), 1, 11, &t), vec![GapRule::TermExpired]);
        assert!(organization_gaps(OrgKind::Branch, Some(10), 1, 10, &t).is_empty(), "the last day of the term");
        assert_eq!(organization_gaps(OrgKind::JointBranch, None, 6, 0, &t), vec![GapRule::JointBranchTooLarge]);
        assert!(organization_gaps(OrgKind::JointBranch, None, 5, 0, &t).is_empty());
    }

    #[test]
    fn every_rule_has_text_and_a_fix_in_both_languages() {
        for r in GapRule::ALL {
            assert_eq!(GapRule::parse(r.as_str()), Some(r));
            assert!(!r.text("zh").is_empty() && !r.text("en").is_empty());
            assert!(!r.fix(Requirement::Branch, "zh").is_empty() && !r.fix(Requirement::Branch, "en").is_empty());
        }
    }
}
