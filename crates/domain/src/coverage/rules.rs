//! Thresholds of the organization rules, each set with the date from which it applies (DOMAIN.md:
//! "every number is configuration with a date from which it applies").

use super::Day;
use crate::Message;
use crate::{FieldError, OrgKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The numbers the coverage rules use on a given day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Thresholds {
    /// A unit with at least this many formal members should have its own organization (3).
    pub own_organization_min: u32,
    /// A joint branch should group at most this many units (5).
    pub joint_branch_max_units: u32,
    /// More than this many formal members may form a general branch (50).
    pub general_branch_over: u32,
    /// This many formal members call for a grassroots committee (100; sources differ: ≥100 or >100).
    pub grassroots_committee_min: u32,
    /// Term of office in years, used when an organization records a term start but no end.
    pub term_years_grassroots_committee: u32,
    pub term_years_general_branch: u32,
    pub term_years_branch: u32,
}

/// A set of thresholds and the first day it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleVersion {
    pub effective_from: NaiveDate,
    #[serde(flatten)]
    pub thresholds: Thresholds,
}

/// Every version of the thresholds, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleSet {
    pub versions: Vec<RuleVersion>,
}

/// What a unit's formal membership calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// No formal members: work coverage (an instructor) is what is called for.
    Instructor,
    /// 1–2 formal members: membership of a joint branch.
    JointBranch,
    Branch,
    GeneralBranch,
    GrassrootsCommittee,
}

impl Requirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instructor => "instructor",
            Self::JointBranch => "joint_branch",
            Self::Branch => "branch",
            Self::GeneralBranch => "general_branch",
            Self::GrassrootsCommittee => "grassroots_committee",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Instructor => "选派党建指导员",
            Self::JointBranch => "联合党支部",
            Self::Branch => "党支部",
            Self::GeneralBranch => "党总支",
            Self::GrassrootsCommittee => "基层党委",
        }
    }

    /// The requirement an organization of `kind` meets.
    pub fn met_by(kind: OrgKind) -> Self {
        match kind {
            OrgKind::GrassrootsCommittee => Self::GrassrootsCommittee,
            OrgKind::GeneralBranch => Self::GeneralBranch,
            OrgKind::JointBranch => Self::JointBranch,
            OrgKind::Branch | OrgKind::FloatingBranch => Self::Branch,
        }
    }
}

impl Thresholds {
    /// What `formal` members call for.
    pub fn required(&self, formal: u32) -> Requirement {
        if formal >= self.grassroots_committee_min {
            Requirement::GrassrootsCommittee
        } else if formal > self.general_branch_over {
            Requirement::GeneralBranch
        } else if formal >= self.own_organization_min {
            Requirement::Branch
        } else if formal >= 1 {
            Requirement::JointBranch
        } else {
            Requirement::Instructor
        }
    }

    /// Term of office of an organization of `kind`, in years.
    pub fn term_years(&self, kind: OrgKind) -> u32 {
        match kind {
            OrgKind::GrassrootsCommittee => self.term_years_grassroots_committee,
            OrgKind::GeneralBranch => self.term_years_general_branch,
            _ => self.term_years_branch,
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.own_organization_min < 1 {
            return Err("own_organization_min must be at least 1".into());
        }
        if self.general_branch_over < self.own_organization_min {
            return Err("general_branch_over must not be below own_organization_min".into());
        }
        if self.grassroots_committee_min <= self.general_branch_over {
            return Err("grassroots_committee_min must be above general_branch_over".into());
        }
        if self.joint_branch_max_units < 2 {
            return Err("joint_branch_max_units must be at least 2".into());
        }
        let terms = [self.term_years_grassroots_committee, self.term_years_general_branch, self.term_years_branch];
        if terms.iter().any(|&t| !(1..=10).contains(&t)) {
            return Err("terms of office must be 1 to 10 years".into());
        }
        Ok(())
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl Default for RuleSet {
    /// The 2018 rules (Regulations on the Work of Party Branches, 2018-10-28: branches and general
    /// branches 3 years), then the 2022 Constitution revision (2022-10-22: 5 years for all three).
    fn default() -> Self {
        let base = Thresholds {
            own_organization_min: 3,
            joint_branch_max_units: 5,
            general_branch_over: 50,
            grassroots_committee_min: 100,
            term_years_grassroots_committee: 5,
            term_years_general_branch: 3,
            term_years_branch: 3,
        };
        let since_2022 = Thresholds { term_years_general_branch: 5, term_years_branch: 5, ..base.clone() };
        Self {
            versions: vec![
                RuleVersion { effective_from: date(2018, 10, 28), thresholds: base },
                RuleVersion { effective_from: date(2022, 10, 22), thresholds: since_2022 },
            ],
        }
    }
}

impl RuleSet {
    /// The thresholds in force on `day` (the oldest set for days before every version).
    pub fn at(&self, day: Day) -> &Thresholds {
        let mut current = &self.versions[0].thresholds;
        for v in &self.versions {
            if super::day_of(v.effective_from) <= day {
                current = &v.thresholds;
            }
        }
        current
    }

    /// Parses and checks a rule set written as JSON (the `coverage_rules` setting).
    pub fn from_json(text: &str) -> Result<Self, FieldError> {
        let bad = |why: String| {
            FieldError::new("coverage_rules", "invalid_rules", Message::new("problem.invalid_rules").arg("why", why))
        };
        let mut set: RuleSet = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        set.check().map_err(bad)?;
        set.versions.sort_by_key(|v| v.effective_from);
        Ok(set)
    }

    fn check(&self) -> Result<(), String> {
        if self.versions.is_empty() {
            return Err("at least one version is needed".into());
        }
        for v in &self.versions {
            v.thresholds.check().map_err(|e| format!("version from {}: {e}", v.effective_from))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::day_of;

    #[test]
    fn membership_calls_for_an_organization_by_size() {
        let t = RuleSet::default().at(day_of(date(2026, 1, 1))).clone();
        let cases = [
            (0, Requirement::Instructor),
            (1, Requirement::JointBranch),
            (2, Requirement::JointBranch),
            (3, Requirement::Branch),
            (50, Requirement::Branch),
            (51, Requirement::GeneralBranch),
            (99, Requirement::GeneralBranch),
            (100, Requirement::GrassrootsCommittee),
        ];
        for (members, want) in cases {
            assert_eq!(t.required(members), want, "{members}");
        }
        let strict = Thresholds { grassroots_committee_min: 101, ..t };
        assert_eq!(strict.required(100), Requirement::GeneralBranch);
    }

    #[test]
    fn terms_follow_the_date() {
        let rules = RuleSet::default();
        assert_eq!(rules.at(day_of(date(2020, 1, 1))).term_years(OrgKind::Branch), 3);
        assert_eq!(rules.at(day_of(date(2023, 1, 1))).term_years(OrgKind::Branch), 5);
        assert_eq!(rules.at(day_of(date(2010, 1, 1))).term_years(OrgKind::Branch), 3, "before every version");
    }

    #[test]
    fn a_rule_set_from_json_is_checked() {
        let json = serde_json::to_string(&RuleSet::default()).unwrap_or_default();
        assert_eq!(RuleSet::from_json(&json).ok(), Some(RuleSet::default()));
        let broken = json.replacen("\"own_organization_min\":3", "\"own_organization_min\":0", 1);
        assert!(RuleSet::from_json(&broken).is_err());
        assert!(RuleSet::from_json("{\"versions\":[]}").is_err());
        assert!(RuleSet::from_json("nonsense").is_err());
    }
}
