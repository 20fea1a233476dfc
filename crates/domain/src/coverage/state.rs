//! The coverage state of one unit on one day.

use super::Day;
use serde::Serialize;

/// Open end of an interval.
pub const OPEN: Day = Day::MAX;
/// Unknown start of an interval (a unit without an establishment date has always existed).
pub const ALWAYS: Day = Day::MIN;

/// How a unit is reached, best first. `Own`, `Joint` and `Chain` are organizational coverage; with
/// `InstructorOnly` they are work coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CoverageState {
    /// Its own Party organization.
    Own,
    /// One of the units of a joint branch.
    Joint,
    /// Covered by an organization of its chain (the organization lists it below its home unit).
    Chain,
    /// No organization, but an active instructor assignment.
    InstructorOnly,
    /// Nothing.
    None,
}

impl CoverageState {
    pub const ALL: [CoverageState; 5] = [Self::Own, Self::Joint, Self::Chain, Self::InstructorOnly, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Own => "own",
            Self::Joint => "joint",
            Self::Chain => "chain",
            Self::InstructorOnly => "instructor_only",
            Self::None => "none",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Own => "单独建立组织",
            Self::Joint => "联合党支部覆盖",
            Self::Chain => "产业链党组织覆盖",
            Self::InstructorOnly => "仅党建指导员",
            Self::None => "未覆盖",
        }
    }

    pub fn is_organizational(self) -> bool {
        matches!(self, Self::Own | Self::Joint | Self::Chain)
    }

    pub fn is_work(self) -> bool {
        self != Self::None
    }
}

/// What reaches a unit, and when: `[from, to)` in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub kind: LinkKind,
    pub from: Day,
    pub to: Day,
    /// The organization slot (organization links) or the instructor's id (instructor links).
    pub source: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkKind {
    Own,
    Joint,
    Chain,
    Instructor,
}

impl Link {
    pub fn active(&self, day: Day) -> bool {
        self.from <= day && day < self.to
    }
}

/// Whether a unit established on `established` and closed on `closed` operates on `day` (a unit closes
/// at the start of its closing day).
pub fn operating(established: Day, closed: Day, day: Day) -> bool {
    established <= day && day < closed
}

/// The state a unit's links give it on `day`: the best of those active.
pub fn state_at(links: &[Link], day: Day) -> CoverageState {
    let mut best = CoverageState::None;
    for l in links {
        if l.active(day) {
            let s = match l.kind {
                LinkKind::Own => CoverageState::Own,
                LinkKind::Joint => CoverageState::Joint,
                LinkKind::Chain => CoverageState::Chain,
                LinkKind::Instructor => CoverageState::InstructorOnly,
            };
            best = best.min(s);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(kind: LinkKind, from: Day, to: Day) -> Link {
        Link { kind, from, to, source: 0 }
    }

    #[test]
    fn the_best_active_link_wins() {
        let links = [link(LinkKind::Instructor, 0, 100), link(LinkKind::Joint, 50, OPEN), link(LinkKind::Own, 80, 90)];
        assert_eq!(state_at(&links, -1), CoverageState::None);
        assert_eq!(state_at(&links, 10), CoverageState::InstructorOnly);
        assert_eq!(state_at(&links, 50), CoverageState::Joint);
        assert_eq!(state_at(&links, 85), CoverageState::Own);
        assert_eq!(state_at(&links, 90), CoverageState::Joint, "dissolved on day 90: not active that day");
        assert_eq!(state_at(&links, 1000), CoverageState::Joint);
        assert_eq!(state_at(&[], 5), CoverageState::None);
    }

    #[test]
    fn operating_means_established_and_not_yet_closed() {
        assert!(operating(ALWAYS, OPEN, 0));
        assert!(operating(10, 20, 10));
        assert!(!operating(10, 20, 20));
        assert!(!operating(10, 20, 9));
    }

    #[test]
    fn states_order_best_first() {
        assert!(CoverageState::Own < CoverageState::Joint && CoverageState::InstructorOnly < CoverageState::None);
        assert!(CoverageState::Chain.is_organizational() && !CoverageState::InstructorOnly.is_organizational());
        assert!(CoverageState::InstructorOnly.is_work() && !CoverageState::None.is_work());
    }
}
