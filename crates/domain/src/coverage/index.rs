//! An in-memory index over every unit and organization, answering roll-ups, trends and gap lists by
//! scanning compact records: a region's subtree is a run of regions in path order, each with the list
//! of its units, so a national table over a million units is one pass over integers.
//!
//! The index is kept current record by record ([`CoverageIndex::upsert_unit`] and friends): the store
//! feeds it every change from its change feed before a read, so a write shows in every roll-up at once.

use super::gaps::{organization_gaps, term_end, unit_gap, GapRule};
use super::rules::{Requirement, RuleSet, Thresholds};
use super::state::{operating, state_at, CoverageState, Link, LinkKind, ALWAYS, OPEN};
use super::{date_of, day_of, Day};
use crate::access::Scope;
use crate::{EntityKind, OrgKind, RegionLevel};
use aggregate::Sign;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

const NONE: u32 = u32::MAX;

/// A region as the store gives it.
#[derive(Debug, Clone)]
pub struct RegionInput {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
    /// Materialized path, e.g. `/11/1101/110105/`.
    pub path: String,
}

/// A unit as the store gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitInput {
    pub id: i64,
    pub region_code: String,
    pub kind: EntityKind,
    pub root_id: Option<i64>,
    pub sectors: Vec<String>,
    /// Formal members (正式党员).
    pub members: u32,
    pub workers: u32,
    pub established: Option<NaiveDate>,
    pub closed: Option<NaiveDate>,
}

/// An organization as the store gives it, with its units: (unit id, covered through the chain).
#[derive(Debug, Clone, PartialEq)]
pub struct OrgInput {
    pub id: i64,
    pub kind: OrgKind,
    pub parent_id: Option<i64>,
    pub region_code: String,
    pub established: Option<NaiveDate>,
    pub dissolved: Option<NaiveDate>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub units: Vec<(i64, bool)>,
}

/// An instructor's assignment to a unit; `end` is the last day (inclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentInput {
    pub instructor_id: i64,
    pub entity_id: i64,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
struct RegionNode {
    code: String,
    name: String,
    level: RegionLevel,
    /// Depth: 0 province … 3 township.
    depth: u8,
    /// Ancestors by depth (self included at its own depth), `NONE` below.
    lineage: [u32; 4],
    /// One past the last region of this one's subtree, in path order.
    end: u32,
}

#[derive(Debug, Clone)]
struct UnitRec {
    id: i64,
    region: u32,
    tier: EntityKind,
    sectors: u64,
    root: i64,
    /// Dense index of `root` in `chain_roots`.
    chain: u32,
    members: u32,
    workers: u32,
    established: Day,
    closed: Day,
    /// Where the unit's links sit in the index's link pool.
    link_start: u32,
    link_len: u32,
    alive: bool,
}

/// What a unit's links are made from, kept apart from the records a roll-up scans.
#[derive(Debug, Clone, Default)]
struct UnitCold {
    /// Organization slots the unit belongs to.
    orgs: Vec<u32>,
    /// (instructor slot, first day, day after the last).
    assignments: Vec<(u32, Day, Day)>,
}

#[derive(Debug, Clone)]
struct OrgRec {
    id: i64,
    kind: OrgKind,
    parent: Option<i64>,
    region: u32,
    established: Day,
    dissolved: Day,
    term_start: Option<NaiveDate>,
    term_end: Option<NaiveDate>,
    units: Vec<(u32, bool)>,
    /// The unit its gaps are listed under ([`OrgRec::home`]), kept because a chain organization may
    /// have a hundred thousand units to look through.
    home: u32,
    alive: bool,
}

impl OrgRec {
    fn active(&self, day: Day) -> bool {
        self.alive && self.established <= day && day < self.dissolved
    }

    /// The unit a gap of the organization is listed under: its home unit, else its first.
    fn home(&self) -> Option<u32> {
        (self.home != NONE).then_some(self.home)
    }

    fn home_of(units: &[(u32, bool)]) -> u32 {
        units.iter().find(|(_, chain)| !chain).or(units.first()).map_or(NONE, |(u, _)| *u)
    }
}

/// Who may see which units: everything, or the union of scopes.
#[derive(Debug, Clone)]
pub enum Visibility {
    All,
    Scopes(Vec<VisibleScope>),
}

/// A scope resolved against the index.
#[derive(Debug, Clone)]
pub enum VisibleScope {
    Region(u32),
    Chain(i64),
    SectorInRegion(u64, u32),
    Units(HashSet<u32>),
}

/// The filters of a roll-up, trend or gap list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A region code; `None` is the whole country.
    pub region: Option<String>,
    pub sector: Option<String>,
    pub tier: Option<EntityKind>,
    /// A platform's id: its chain only.
    pub chain: Option<i64>,
}

/// Why a filter cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown region {0}")]
    UnknownRegion(String),
    #[error("unknown sector {0}")]
    UnknownSector(String),
    #[error("unit {0} is not a platform enterprise")]
    NotAPlatform(i64),
}

/// Counts and rates over a set of operating units.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Operating units (established and not closed on the date).
    pub units: u64,
    pub own: u64,
    pub joint: u64,
    pub chain: u64,
    pub instructor_only: u64,
    pub none: u64,
    /// Formal members in those units.
    pub members: u64,
    pub workers: u64,
    /// Units whose membership calls for their own organization (≥3 formal members).
    pub units_needing_own: u64,
    /// Distinct active organizations attached to those units (totals and sub-regions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizations: Option<u64>,
    /// Distinct instructors with an active assignment to those units (totals and sub-regions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructors: Option<u64>,
    /// (own + joint + chain) ÷ units.
    pub coverage_rate: Option<f64>,
    /// own ÷ units.
    pub establishment_rate: Option<f64>,
    /// (own + joint + chain + instructor only) ÷ units.
    pub work_coverage_rate: Option<f64>,
}

impl Figures {
    fn add(&mut self, state: CoverageState, members: u32, workers: u32, needs_own: bool) {
        self.units += 1;
        match state {
            CoverageState::Own => self.own += 1,
            CoverageState::Joint => self.joint += 1,
            CoverageState::Chain => self.chain += 1,
            CoverageState::InstructorOnly => self.instructor_only += 1,
            CoverageState::None => self.none += 1,
        }
        self.members += u64::from(members);
        self.workers += u64::from(workers);
        self.units_needing_own += u64::from(needs_own);
    }

    /// Fills in the rates from the counts.
    pub fn finish(&mut self) {
        let rate = |n: u64| (self.units > 0).then(|| n as f64 / self.units as f64);
        self.coverage_rate = rate(self.own + self.joint + self.chain);
        self.establishment_rate = rate(self.own);
        self.work_coverage_rate = rate(self.own + self.joint + self.chain + self.instructor_only);
    }
}

/// A lean accumulator for the scan; turned into [`Figures`] at the end.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    /// Units by state, in [`CoverageState`] order.
    states: [u32; 5],
    members: u64,
    workers: u64,
    needing: u32,
}

impl Acc {
    #[inline]
    fn add(&mut self, state: usize, members: u32, workers: u32, needs_own: bool) {
        self.states[state] += 1;
        self.members += u64::from(members);
        self.workers += u64::from(workers);
        self.needing += u32::from(needs_own);
    }

    fn take(&mut self, o: &Acc) {
        for (a, b) in self.states.iter_mut().zip(o.states) {
            *a -= b;
        }
        self.members -= o.members;
        self.workers -= o.workers;
        self.needing -= o.needing;
    }

    fn merge(&mut self, o: &Acc) {
        for (a, b) in self.states.iter_mut().zip(o.states) {
            *a += b;
        }
        self.members += o.members;
        self.workers += o.workers;
        self.needing += o.needing;
    }

    fn units(&self) -> u64 {
        self.states.iter().map(|&n| u64::from(n)).sum()
    }

    fn figures(&self) -> Figures {
        let n = |i: usize| u64::from(self.states[i]);
        let mut f = Figures {
            units: self.units(),
            own: n(0),
            joint: n(1),
            chain: n(2),
            instructor_only: n(3),
            none: n(4),
            members: self.members,
            workers: self.workers,
            units_needing_own: u64::from(self.needing),
            ..Default::default()
        };
        f.finish();
        f
    }
}

/// One cell of the sector × tier table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cell {
    pub sector: String,
    #[schema(value_type = String)]
    pub tier: EntityKind,
    pub figures: Figures,
}

/// A sub-region's line of the drill-down.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RegionFigures {
    pub code: String,
    pub name: String,
    #[schema(value_type = String)]
    pub level: RegionLevel,
    pub figures: Figures,
}

/// A platform chain's line.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChainFigures {
    pub root_id: i64,
    pub figures: Figures,
}

/// Everything a dashboard shows for one scope on one date.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rollup {
    pub date: NaiveDate,
    pub totals: Figures,
    /// Per sector (a unit in several sectors counts in each).
    pub by_sector: Vec<(String, Figures)>,
    #[schema(value_type = Vec<(String, Figures)>)]
    pub by_tier: Vec<(EntityKind, Figures)>,
    /// Sector × tier, only cells with units.
    pub table: Vec<Cell>,
    /// The regions one level down, only those with units.
    pub children: Vec<RegionFigures>,
    /// Platform chains, most units first.
    pub chains: Vec<ChainFigures>,
}

/// Registered units, whatever their dates ([`CoverageIndex::registered_units`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Registered {
    pub total: u64,
    /// Every tier, in `EntityKind::ALL` order.
    pub by_tier: Vec<(EntityKind, u64)>,
    /// The regions one level down with any unit, by code.
    pub children: Vec<(String, u64)>,
}

/// A gap as the paged list first finds it: enough to order it, and where to find the rest.
#[derive(Debug, Clone, Copy)]
struct GapKey {
    rule: GapRule,
    members: u32,
    unit_id: i64,
    unit: u32,
    /// The organization's slot for an organization rule, else `NONE`.
    org: u32,
}

impl GapKey {
    /// Unit rules come before organization rules of the same unit, as the full list found them.
    fn found_before(&self, other: &GapKey) -> std::cmp::Ordering {
        (self.org != NONE, self.org).cmp(&(other.org != NONE, other.org))
    }
}

/// One point of a trend.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    pub date: NaiveDate,
    pub figures: Figures,
}

/// One line of the gap list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GapRow {
    pub unit_id: i64,
    /// The organization the rule is about (term and size rules).
    pub organization_id: Option<i64>,
    pub rule: GapRule,
    /// What the unit's membership calls for.
    pub requirement: Requirement,
    pub state: CoverageState,
    pub members: u32,
    pub region_code: String,
    #[schema(value_type = String)]
    pub tier: EntityKind,
}

/// How to order the gap list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GapOrder {
    /// By rule, then most members first.
    #[default]
    Rule,
    /// Most members first.
    Members,
    /// By region code.
    Region,
}

/// A unit's coverage on a day, for its page.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnitCoverage {
    pub operating: bool,
    pub state: CoverageState,
    pub requirement: Requirement,
    pub gap: Option<GapRule>,
}

/// The index; see the module documentation.
#[derive(Debug, Clone)]
pub struct CoverageIndex {
    rules: RuleSet,
    regions: Vec<RegionNode>,
    region_slot: HashMap<String, u32>,
    path_slot: HashMap<String, u32>,
    /// Each region's ancestors by depth (dense, for the scan).
    lineage: Vec<[u32; 4]>,
    sectors: Vec<String>,
    units: Vec<UnitRec>,
    cold: Vec<UnitCold>,
    /// Every unit's links, side by side (see [`CoverageIndex::compact_links`]).
    link_pool: Vec<Link>,
    unit_slot: HashMap<i64, u32>,
    units_by_region: Vec<Vec<u32>>,
    /// Registered units by region (not subtree), tier and whether they have a closing date: what the
    /// registry's counts add up without reading a unit.
    region_counts: Vec<RegionCount>,
    chains: HashMap<i64, Vec<u32>>,
    chain_roots: Vec<i64>,
    chain_index: HashMap<i64, u32>,
    orgs: Vec<OrgRec>,
    org_slot: HashMap<i64, u32>,
    orgs_by_region: Vec<Vec<u32>>,
    instructor_slot: HashMap<i64, u32>,
    /// Units waiting for a region the index does not know (none in a consistent database).
    pub skipped: u64,
    /// Partial sums for one day ([`CoverageIndex::prepare_day`]).
    aggregate: Option<aggregate::DayAggregate>,
    /// Whether the regions' parents agree with their paths (else no partial sums are kept).
    lineage_ok: bool,
}

fn day_or(d: Option<NaiveDate>, default: Day) -> Day {
    d.map(day_of).unwrap_or(default)
}

fn remove_value(v: &mut Vec<u32>, x: u32) {
    if let Some(i) = v.iter().position(|&y| y == x) {
        v.swap_remove(i);
    }
}

/// A set of small integers.
struct BitSet(Vec<u64>);

impl BitSet {
    fn new(n: usize) -> Self {
        Self(vec![0; n.div_ceil(64)])
    }
    fn insert(&mut self, i: u32) {
        let (w, b) = ((i / 64) as usize, i % 64);
        if let Some(word) = self.0.get_mut(w) {
            *word |= 1 << b;
        }
    }
    fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

/// Registered units of one region by tier (in `EntityKind::ALL` order) and by whether they have a
/// closing date.
#[derive(Debug, Clone, Copy, Default)]
struct RegionCount([[u32; 2]; 4]);

impl RegionCount {
    fn add(&mut self, tier: EntityKind, closed: bool, delta: i32) {
        let n = &mut self.0[tier_index(tier)][usize::from(closed)];
        *n = n.saturating_add_signed(delta);
    }

    fn count(&self, tier: Option<EntityKind>, closed: Option<bool>) -> u64 {
        let tiers = match tier {
            Some(t) => tier_index(t)..tier_index(t) + 1,
            None => 0..4,
        };
        self.0[tiers]
            .iter()
            .map(|c| match closed {
                None => u64::from(c[0]) + u64::from(c[1]),
                Some(want) => u64::from(c[usize::from(want)]),
            })
            .sum()
    }
}

/// The static part of a query: which units are candidates, whatever the date.
struct Candidates<'a> {
    index: &'a CoverageIndex,
    range: (u32, u32),
    sector_bit: u64,
    tier: Option<EntityKind>,
    chain: Option<i64>,
    visible: &'a Visibility,
    /// Depth of the regions one level down (the drill-down), or `None` at township level.
    child_depth: Option<usize>,
}

impl Candidates<'_> {
    fn accepts(&self, u: &UnitRec) -> bool {
        u.alive
            && u.region >= self.range.0
            && u.region < self.range.1
            && (self.sector_bit == 0 || u.sectors & self.sector_bit != 0)
            && self.tier.is_none_or(|t| t == u.tier)
            && self.chain.is_none_or(|c| c == u.root)
            && self.index.visible(u, self.visible)
    }

    /// Calls `f` with each candidate unit's slot.
    fn each(&self, mut f: impl FnMut(u32, &UnitRec)) {
        let idx = self.index;
        if let Some(root) = self.chain {
            for &slot in idx.chains.get(&root).map(Vec::as_slice).unwrap_or_default() {
                let u = &idx.units[slot as usize];
                if self.accepts(u) {
                    f(slot, u);
                }
            }
            return;
        }
        // A reader whose every scope is a platform's chain reads only those chains' units.
        if let Some(roots) = self.chain_scopes() {
            for root in roots {
                for &slot in idx.chains.get(&root).map(Vec::as_slice).unwrap_or_default() {
                    let u = &idx.units[slot as usize];
                    if self.accepts(u) {
                        f(slot, u);
                    }
                }
            }
            return;
        }
        for (from, to) in self.region_runs() {
            for r in from..to {
                for &slot in &idx.units_by_region[r as usize] {
                    let u = &idx.units[slot as usize];
                    if self.accepts(u) {
                        f(slot, u);
                    }
                }
            }
        }
    }

    /// The region slots to read: the filter's range, narrowed to the reader's regions when every scope
    /// of theirs lies in a region (a provincial cadre's national list reads one province, not the
    /// country). Sorted and disjoint.
    fn region_runs(&self) -> Vec<(u32, u32)> {
        let whole = vec![self.range];
        let Visibility::Scopes(scopes) = self.visible else { return whole };
        let mut runs = Vec::with_capacity(scopes.len());
        for s in scopes {
            let r = match s {
                VisibleScope::Region(r) => *r,
                VisibleScope::SectorInRegion(_, r) if *r != NONE - 1 => *r,
                _ => return whole,
            };
            let Some(node) = self.index.regions.get(r as usize) else { continue };
            let (from, to) = (r.max(self.range.0), node.end.min(self.range.1));
            if from < to {
                runs.push((from, to));
            }
        }
        runs.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(runs.len());
        for (from, to) in runs {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        merged
    }

    /// The region slots whose every registered unit is a candidate, when the candidates are exactly
    /// those (no sector or chain filter, and a reader who sees whole regions); else `None`. The tier
    /// filter is left to the caller.
    fn whole_region_runs(&self) -> Option<Vec<(u32, u32)>> {
        if self.sector_bit != 0 || self.chain.is_some() {
            return None;
        }
        if let Visibility::Scopes(scopes) = self.visible {
            if !scopes.iter().all(|s| matches!(s, VisibleScope::Region(_))) {
                return None;
            }
        }
        Some(self.region_runs())
    }

    /// The regions (slots; the nation is `regions.len()`) whose whole subtrees are exactly the regions
    /// the candidates lie in, none inside another — when the reader sees whole regions (everything, or
    /// region scopes only); else `None`. Sector, tier and chain filters are left to the caller.
    fn subtree_roots(&self) -> Option<Vec<u32>> {
        let idx = self.index;
        let nation = idx.regions.len() as u32;
        let filter_root = if self.range == (0, nation) { nation } else { self.range.0 };
        let scopes = match self.visible {
            Visibility::All => return Some(vec![filter_root]),
            Visibility::Scopes(scopes) => scopes,
        };
        let end_of = |r: u32| if r == nation { nation } else { idx.regions[r as usize].end };
        let mut roots = Vec::new();
        for s in scopes {
            let VisibleScope::Region(r) = s else { return None };
            if idx.regions.get(*r as usize).is_none() {
                continue;
            }
            let (r, r_end) = (*r, end_of(*r));
            if filter_root == nation || (r >= filter_root && r < end_of(filter_root)) {
                roots.push(r);
            } else if filter_root >= r && filter_root < r_end {
                roots.push(filter_root);
            }
        }
        roots.sort_unstable();
        roots.dedup();
        let mut out: Vec<u32> = Vec::with_capacity(roots.len());
        for r in roots {
            if out.last().is_some_and(|&last| r < end_of(last)) {
                continue;
            }
            out.push(r);
        }
        Some(out)
    }

    /// The chains of a reader whose every scope is a platform's chain (a platform committee), else
    /// `None`.
    fn chain_scopes(&self) -> Option<Vec<i64>> {
        let Visibility::Scopes(scopes) = self.visible else { return None };
        if scopes.is_empty() {
            return None;
        }
        let mut roots = Vec::with_capacity(scopes.len());
        for s in scopes {
            match s {
                VisibleScope::Chain(root) => roots.push(*root),
                _ => return None,
            }
        }
        roots.sort_unstable();
        roots.dedup();
        Some(roots)
    }
}

impl CoverageIndex {
    /// An empty index over the regions and sectors (up to 64 sectors; more are not told apart).
    pub fn new(mut regions: Vec<RegionInput>, sectors: Vec<String>, rules: RuleSet) -> Self {
        regions.sort_by(|a, b| a.path.cmp(&b.path));
        let region_slot: HashMap<String, u32> =
            regions.iter().enumerate().map(|(i, r)| (r.code.clone(), i as u32)).collect();
        let path_slot = regions.iter().enumerate().map(|(i, r)| (r.path.clone(), i as u32)).collect();
        let depth_of = |l: RegionLevel| match l {
            RegionLevel::Province => 0u8,
            RegionLevel::Prefecture => 1,
            RegionLevel::County => 2,
            RegionLevel::Township => 3,
        };
        let mut nodes: Vec<RegionNode> = regions
            .iter()
            .map(|r| RegionNode {
                code: r.code.clone(),
                name: r.name.clone(),
                level: r.level,
                depth: depth_of(r.level),
                lineage: [NONE; 4],
                end: 0,
            })
            .collect();
        for i in 0..regions.len() {
            let mut lineage = [NONE; 4];
            let mut cur = Some(i as u32);
            let mut guard = 0;
            while let (Some(c), true) = (cur, guard < 8) {
                let d = nodes[c as usize].depth as usize;
                lineage[d] = c;
                cur = regions[c as usize].parent_code.as_ref().and_then(|p| region_slot.get(p).copied());
                guard += 1;
            }
            nodes[i].lineage = lineage;
            let prefix = &regions[i].path;
            let end = regions[i..].partition_point(|r| r.path.starts_with(prefix.as_str()));
            nodes[i].end = (i + end) as u32;
        }
        let n = nodes.len();
        let lineage = nodes.iter().map(|r| r.lineage).collect();
        let mut index = Self {
            rules,
            lineage,
            regions: nodes,
            region_slot,
            path_slot,
            sectors,
            units: Vec::new(),
            cold: Vec::new(),
            link_pool: Vec::new(),
            unit_slot: HashMap::new(),
            units_by_region: vec![Vec::new(); n],
            region_counts: vec![RegionCount::default(); n],
            chains: HashMap::new(),
            chain_roots: Vec::new(),
            chain_index: HashMap::new(),
            orgs: Vec::new(),
            org_slot: HashMap::new(),
            orgs_by_region: vec![Vec::new(); n],
            instructor_slot: HashMap::new(),
            skipped: 0,
            aggregate: None,
            lineage_ok: false,
        };
        index.lineage_ok = index.lineage_matches_paths();
        index
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Replaces the rules (partial sums kept for a day are recomputed under them).
    pub fn set_rules(&mut self, rules: RuleSet) {
        self.rules = rules;
        if let Some(day) = self.prepared_day() {
            self.prepare_day(day);
        }
    }

    /// The day an organization's term ends (the recorded end, else its start plus the term of its kind
    /// under the rules in force at the start).
    fn term_end_day(&self, o: &OrgRec) -> Option<Day> {
        let at = day_or(o.term_start, day_or(o.term_end, 0));
        term_end(o.kind, o.term_start, o.term_end, self.rules.at(at)).map(day_of)
    }

    /// How many live units and organizations the index holds.
    pub fn len(&self) -> (usize, usize) {
        (self.units.iter().filter(|u| u.alive).count(), self.orgs.iter().filter(|o| o.alive).count())
    }

    pub fn is_empty(&self) -> bool {
        self.unit_slot.is_empty()
    }

    /// The sector codes the index tells apart, in bit order.
    pub fn sectors(&self) -> &[String] {
        &self.sectors
    }

    fn sector_bits(&self, codes: &[String]) -> u64 {
        codes.iter().filter_map(|c| self.sectors.iter().position(|s| s == c)).fold(0, |acc, i| acc | (1u64 << (i % 64)))
    }

    /// Adds or replaces a unit (its organizations and assignments stay).
    pub fn upsert_unit(&mut self, u: UnitInput) {
        let Some(&region) = self.region_slot.get(&u.region_code) else {
            self.skipped += 1;
            return;
        };
        let sectors = self.sector_bits(&u.sectors);
        let root = u.root_id.unwrap_or(0);
        let chain = match self.chain_index.get(&root) {
            Some(&c) => c,
            None => {
                let c = self.chain_roots.len() as u32;
                self.chain_roots.push(root);
                self.chain_index.insert(root, c);
                c
            }
        };
        let established = day_or(u.established, ALWAYS);
        let closed = day_or(u.closed, OPEN);
        match self.unit_slot.get(&u.id).copied() {
            Some(slot) => {
                self.agg_unit(slot, Sign::Remove);
                let rec = &self.units[slot as usize];
                if rec.alive {
                    let (r, t, c) = (rec.region, rec.tier, rec.closed != OPEN);
                    self.region_counts[r as usize].add(t, c, -1);
                }
                self.region_counts[region as usize].add(u.kind, closed != OPEN, 1);
                let rec = &mut self.units[slot as usize];
                let (old_region, old_root, was_alive) = (rec.region, rec.root, rec.alive);
                rec.region = region;
                rec.tier = u.kind;
                rec.sectors = sectors;
                rec.root = root;
                rec.chain = chain;
                rec.members = u.members;
                rec.workers = u.workers;
                rec.established = established;
                rec.closed = closed;
                rec.alive = true;
                if !was_alive || old_region != region {
                    if was_alive {
                        remove_value(&mut self.units_by_region[old_region as usize], slot);
                    }
                    self.units_by_region[region as usize].push(slot);
                }
                if !was_alive || old_root != root {
                    if was_alive {
                        if let Some(v) = self.chains.get_mut(&old_root) {
                            remove_value(v, slot);
                        }
                    }
                    self.chains.entry(root).or_default().push(slot);
                }
                self.agg_unit(slot, Sign::Add);
            }
            None => {
                let slot = self.units.len() as u32;
                self.units.push(UnitRec {
                    id: u.id,
                    region,
                    tier: u.kind,
                    sectors,
                    root,
                    chain,
                    members: u.members,
                    workers: u.workers,
                    established,
                    closed,
                    link_start: 0,
                    link_len: 0,
                    alive: true,
                });
                self.cold.push(UnitCold::default());
                self.unit_slot.insert(u.id, slot);
                self.units_by_region[region as usize].push(slot);
                self.region_counts[region as usize].add(u.kind, closed != OPEN, 1);
                self.chains.entry(root).or_default().push(slot);
                self.agg_unit(slot, Sign::Add);
            }
        }
    }

    /// Adds many units, in region order: a region's units then sit side by side in memory, so that a
    /// roll-up reads them in sequence.
    pub fn load_units(&mut self, mut units: Vec<UnitInput>) {
        units.sort_by_cached_key(|u| (self.region_slot.get(&u.region_code).copied().unwrap_or(NONE), u.id));
        self.units.reserve(units.len());
        self.cold.reserve(units.len());
        for u in units {
            self.upsert_unit(u);
        }
    }

    fn links_of(&self, u: &UnitRec) -> &[Link] {
        let start = u.link_start as usize;
        self.link_pool.get(start..start + u.link_len as usize).unwrap_or_default()
    }

    /// Rewrites the link pool in unit order, dropping what updates left behind, so that a scan reads
    /// links in sequence (after a bulk load).
    pub fn compact_links(&mut self) {
        let mut pool = Vec::with_capacity(self.units.iter().map(|u| u.link_len as usize).sum());
        for u in &mut self.units {
            let start = u.link_start as usize;
            let links = self.link_pool.get(start..start + u.link_len as usize).unwrap_or_default();
            u.link_start = pool.len() as u32;
            pool.extend_from_slice(links);
        }
        self.link_pool = pool;
    }

    /// Removes a unit (deleted from the registry).
    pub fn remove_unit(&mut self, id: i64) {
        let Some(&slot) = self.unit_slot.get(&id) else { return };
        if !self.units[slot as usize].alive {
            return;
        }
        self.agg_unit(slot, Sign::Remove);
        let rec = &mut self.units[slot as usize];
        rec.alive = false;
        let (region, root) = (rec.region, rec.root);
        let (tier, closed) = (rec.tier, rec.closed != OPEN);
        self.region_counts[region as usize].add(tier, closed, -1);
        remove_value(&mut self.units_by_region[region as usize], slot);
        if let Some(v) = self.chains.get_mut(&root) {
            remove_value(v, slot);
        }
    }

    /// Replaces every assignment of unit `entity_id` (assignments of unknown units are ignored).
    pub fn set_assignments(&mut self, entity_id: i64, assignments: &[AssignmentInput]) {
        let Some(&slot) = self.unit_slot.get(&entity_id) else { return };
        let mut list = Vec::with_capacity(assignments.len());
        for a in assignments {
            let next = self.instructor_slot.len() as u32;
            let inst = *self.instructor_slot.entry(a.instructor_id).or_insert(next);
            let to = a.end.and_then(|e| e.succ_opt()).map(day_of).unwrap_or(OPEN);
            list.push((inst, day_of(a.start), to));
        }
        self.cold[slot as usize].assignments = list;
        self.relink(slot);
    }

    /// Adds or replaces an organization with its units.
    pub fn upsert_org(&mut self, o: OrgInput) {
        let region = self.region_slot.get(&o.region_code).copied().unwrap_or(NONE);
        let units: Vec<(u32, bool)> =
            o.units.iter().filter_map(|(id, chain)| self.unit_slot.get(id).map(|&s| (s, *chain))).collect();
        let rec = OrgRec {
            id: o.id,
            kind: o.kind,
            parent: o.parent_id,
            region,
            established: day_or(o.established, ALWAYS),
            dissolved: day_or(o.dissolved, OPEN),
            term_start: o.term_start,
            term_end: o.term_end,
            home: OrgRec::home_of(&units),
            units,
            alive: true,
        };
        let slot = match self.org_slot.get(&o.id).copied() {
            Some(slot) => {
                self.detach_org(slot);
                self.orgs[slot as usize] = rec;
                slot
            }
            None => {
                let slot = self.orgs.len() as u32;
                self.orgs.push(rec);
                self.org_slot.insert(o.id, slot);
                slot
            }
        };
        if region != NONE {
            self.orgs_by_region[region as usize].push(slot);
        }
        let units = self.orgs[slot as usize].units.clone();
        for (u, _) in units {
            self.cold[u as usize].orgs.push(slot);
            self.relink(u);
        }
    }

    /// Removes an organization (deleted from the registry).
    pub fn remove_org(&mut self, id: i64) {
        let Some(&slot) = self.org_slot.get(&id) else { return };
        self.detach_org(slot);
        self.orgs[slot as usize].alive = false;
        self.orgs[slot as usize].units.clear();
        self.orgs[slot as usize].home = NONE;
    }

    /// Takes an organization off its region list and its units.
    fn detach_org(&mut self, slot: u32) {
        let (region, units) = {
            let o = &self.orgs[slot as usize];
            (o.region, o.units.clone())
        };
        if region != NONE {
            remove_value(&mut self.orgs_by_region[region as usize], slot);
        }
        for (u, _) in units {
            remove_value(&mut self.cold[u as usize].orgs, slot);
            self.relink(u);
        }
    }

    /// Rebuilds a unit's links from its organizations and assignments.
    fn relink(&mut self, slot: u32) {
        let mut links = Vec::new();
        for &o in &self.cold[slot as usize].orgs {
            let org = &self.orgs[o as usize];
            let via_chain = org.units.iter().find(|(u, _)| *u == slot).is_some_and(|(_, c)| *c);
            let kind = if org.kind.is_joint() {
                LinkKind::Joint
            } else if via_chain {
                LinkKind::Chain
            } else {
                LinkKind::Own
            };
            links.push(Link { kind, from: org.established, to: org.dissolved, source: o });
        }
        for &(inst, from, to) in &self.cold[slot as usize].assignments {
            links.push(Link { kind: LinkKind::Instructor, from, to, source: inst });
        }
        self.agg_unit(slot, Sign::Remove);
        let rec = &mut self.units[slot as usize];
        let (start, old_len) = (rec.link_start as usize, rec.link_len as usize);
        if links.len() <= old_len {
            self.link_pool[start..start + links.len()].copy_from_slice(&links);
        } else {
            rec.link_start = self.link_pool.len() as u32;
            self.link_pool.extend_from_slice(&links);
        }
        rec.link_len = links.len() as u32;
        self.agg_unit(slot, Sign::Add);
    }

    /// Resolves access scopes against the index (unknown paths see nothing).
    pub fn visibility(&self, unrestricted: bool, scopes: &[Scope]) -> Visibility {
        if unrestricted {
            return Visibility::All;
        }
        let region = |path: &str| -> Option<u32> {
            if path == "/" {
                None
            } else {
                Some(self.path_slot.get(path).copied().unwrap_or(NONE))
            }
        };
        let mut out = Vec::new();
        for s in scopes {
            match s {
                Scope::Region { path } => match region(path) {
                    None => return Visibility::All,
                    Some(r) => out.push(VisibleScope::Region(r)),
                },
                Scope::Chain { root_id } => out.push(VisibleScope::Chain(*root_id)),
                Scope::SectorInRegion { sector, path } => {
                    let bit = self.sector_bits(std::slice::from_ref(sector));
                    out.push(VisibleScope::SectorInRegion(bit, region(path).unwrap_or(NONE - 1)));
                }
                Scope::Organization { org_id } => out.push(VisibleScope::Units(self.units_of_org_subtree(*org_id))),
            }
        }
        Visibility::Scopes(out)
    }

    fn units_of_org_subtree(&self, org_id: i64) -> HashSet<u32> {
        let mut ids = vec![org_id];
        let mut i = 0;
        while i < ids.len() {
            let parent = ids[i];
            ids.extend(self.orgs.iter().filter(|o| o.alive && o.parent == Some(parent)).map(|o| o.id));
            i += 1;
        }
        ids.iter()
            .filter_map(|id| self.org_slot.get(id))
            .flat_map(|&s| self.orgs[s as usize].units.iter().map(|(u, _)| *u))
            .collect()
    }

    fn in_region(&self, unit_region: u32, region: u32) -> bool {
        region == NONE - 1 || {
            let r = &self.regions.get(region as usize);
            r.is_some_and(|r| unit_region >= region && unit_region < r.end)
        }
    }

    fn visible(&self, u: &UnitRec, v: &Visibility) -> bool {
        match v {
            Visibility::All => true,
            Visibility::Scopes(scopes) => scopes.iter().any(|s| match s {
                VisibleScope::Region(r) => self.in_region(u.region, *r),
                VisibleScope::Chain(root) => u.root == *root,
                VisibleScope::SectorInRegion(bit, r) => u.sectors & bit != 0 && self.in_region(u.region, *r),
                VisibleScope::Units(set) => self.unit_slot.get(&u.id).is_some_and(|s| set.contains(s)),
            }),
        }
    }

    fn candidates<'a>(&'a self, f: &Filter, visible: &'a Visibility) -> Result<Candidates<'a>, FilterError> {
        let (range, child_depth) = match &f.region {
            None => ((0, self.regions.len() as u32), Some(0)),
            Some(code) => {
                let slot = *self.region_slot.get(code).ok_or_else(|| FilterError::UnknownRegion(code.clone()))?;
                let node = &self.regions[slot as usize];
                let depth = node.depth as usize;
                ((slot, node.end), (depth < 3).then_some(depth + 1))
            }
        };
        let sector_bit = match &f.sector {
            None => 0,
            Some(s) => match self.sectors.iter().position(|x| x == s) {
                Some(i) => 1u64 << (i % 64),
                None => return Err(FilterError::UnknownSector(s.clone())),
            },
        };
        if let Some(root) = f.chain {
            let is_platform = self
                .unit_slot
                .get(&root)
                .is_some_and(|&s| self.units[s as usize].tier == EntityKind::Platform && self.units[s as usize].alive);
            if !is_platform {
                return Err(FilterError::NotAPlatform(root));
            }
        }
        Ok(Candidates { index: self, range, sector_bit, tier: f.tier, chain: f.chain, visible, child_depth })
    }

    /// The roll-up for `filter` on `date`, over what `visible` lets the reader see: from the day's
    /// partial sums when the index keeps them for `date` and the query is one they answer (see
    /// [`CoverageIndex::prepare_day`]), else by a scan. Both give the same numbers.
    pub fn rollup(&self, filter: &Filter, date: NaiveDate, visible: &Visibility) -> Result<Rollup, FilterError> {
        let c = self.candidates(filter, visible)?;
        if let Some(r) = self.rollup_from_aggregate(&c, filter, date) {
            return Ok(r);
        }
        Ok(self.scan_rollup(&c, date))
    }

    /// The roll-up by a scan over every candidate unit, whatever partial sums the index keeps (the
    /// obvious way, kept for the benchmark and the tests that check the sums against it).
    pub fn rollup_by_scan(
        &self,
        filter: &Filter,
        date: NaiveDate,
        visible: &Visibility,
    ) -> Result<Rollup, FilterError> {
        let c = self.candidates(filter, visible)?;
        Ok(self.scan_rollup(&c, date))
    }

    fn scan_rollup(&self, c: &Candidates<'_>, date: NaiveDate) -> Rollup {
        let day = day_of(date);
        let t = self.rules.at(day);
        let need = t.own_organization_min;
        let n_sectors = self.sectors.len().min(64);
        let mut table = vec![Acc::default(); n_sectors * 4];
        let mut by_tier = [Acc::default(); 4];
        let mut chains = vec![Acc::default(); self.chain_roots.len()];
        // Sub-regions: a dense number for each, found through a table over all regions.
        let mut child_number = vec![NONE; if c.child_depth.is_some() { self.regions.len() } else { 0 }];
        let mut children: Vec<(u32, Acc, BitSet, BitSet)> = Vec::new();
        let mut org_seen = BitSet::new(self.orgs.len());
        let mut inst_seen = BitSet::new(self.instructor_slot.len());
        c.each(|_, u| {
            if !operating(u.established, u.closed, day) {
                return;
            }
            let state = if u.link_len == 0 { CoverageState::None } else { state_at(self.links_of(u), day) } as usize;
            let needs_own = u.members >= need;
            let tier = tier_index(u.tier);
            by_tier[tier].add(state, u.members, u.workers, needs_own);
            let mut bits = u.sectors;
            while bits != 0 {
                let s = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if s < n_sectors {
                    table[s * 4 + tier].add(state, u.members, u.workers, needs_own);
                }
            }
            chains[u.chain as usize].add(state, u.members, u.workers, needs_own);
            let child = c.child_depth.map(|d| self.lineage[u.region as usize][d]).filter(|&x| x != NONE);
            let mut child_entry = child.map(|ch| {
                let n = &mut child_number[ch as usize];
                if *n == NONE {
                    *n = children.len() as u32;
                    children.push((
                        ch,
                        Acc::default(),
                        BitSet::new(self.orgs.len()),
                        BitSet::new(self.instructor_slot.len()),
                    ));
                }
                &mut children[*n as usize]
            });
            if let Some((_, f, _, _)) = child_entry.as_mut() {
                f.add(state, u.members, u.workers, needs_own);
            }
            if u.link_len == 0 {
                return;
            }
            for l in self.links_of(u) {
                if !l.active(day) {
                    continue;
                }
                if l.kind == LinkKind::Instructor {
                    inst_seen.insert(l.source);
                    if let Some((_, _, _, i)) = child_entry.as_mut() {
                        i.insert(l.source);
                    }
                } else {
                    org_seen.insert(l.source);
                    if let Some((_, _, o, _)) = child_entry.as_mut() {
                        o.insert(l.source);
                    }
                }
            }
        });
        let children: Vec<(u32, Acc, u64, u64)> =
            children.into_iter().map(|(slot, acc, orgs, insts)| (slot, acc, orgs.len(), insts.len())).collect();
        let chains = chains.into_iter().enumerate().map(|(i, a)| (i as u32, a));
        self.assemble(date, &by_tier, &table, (org_seen.len(), inst_seen.len()), children, chains)
    }

    /// The roll-up from its sums: by tier, sector × tier, (organizations, instructors) in the totals,
    /// sub-regions with their distinct counts, and chains by dense chain number.
    fn assemble(
        &self,
        date: NaiveDate,
        by_tier: &[Acc; 4],
        table: &[Acc],
        distinct: (u64, u64),
        children: Vec<(u32, Acc, u64, u64)>,
        chains: impl Iterator<Item = (u32, Acc)>,
    ) -> Rollup {
        let n_sectors = self.sectors.len().min(64);
        let mut total = Acc::default();
        for a in by_tier {
            total.merge(a);
        }
        let mut totals = total.figures();
        totals.organizations = Some(distinct.0);
        totals.instructors = Some(distinct.1);
        let mut by_sector = Vec::new();
        let mut cells = Vec::new();
        for (s, code) in self.sectors.iter().enumerate().take(n_sectors) {
            let mut sum = Acc::default();
            for (ti, tier) in EntityKind::ALL.into_iter().enumerate() {
                let a = &table[s * 4 + ti];
                if a.units() == 0 {
                    continue;
                }
                sum.merge(a);
                cells.push(Cell { sector: code.clone(), tier, figures: a.figures() });
            }
            if sum.units() > 0 {
                by_sector.push((code.clone(), sum.figures()));
            }
        }
        let by_tier: Vec<(EntityKind, Figures)> = EntityKind::ALL
            .into_iter()
            .zip(by_tier)
            .filter(|(_, a)| a.units() > 0)
            .map(|(k, a)| (k, a.figures()))
            .collect();
        let mut children: Vec<RegionFigures> = children
            .into_iter()
            .map(|(slot, acc, orgs, insts)| {
                let mut f = acc.figures();
                f.organizations = Some(orgs);
                f.instructors = Some(insts);
                f.finish();
                let r = &self.regions[slot as usize];
                RegionFigures { code: r.code.clone(), name: r.name.clone(), level: r.level, figures: f }
            })
            .collect();
        children.sort_by(|a, b| a.code.cmp(&b.code));
        let mut chains: Vec<ChainFigures> = chains
            .filter(|(i, a)| self.chain_roots[*i as usize] != 0 && a.units() > 0)
            .map(|(i, a)| ChainFigures { root_id: self.chain_roots[i as usize], figures: a.figures() })
            .collect();
        chains.sort_by(|a, b| b.figures.units.cmp(&a.figures.units).then(a.root_id.cmp(&b.root_id)));
        Rollup { date, totals, by_sector, by_tier, table: cells, children, chains }
    }

    /// The totals on each of `dates` (any order; answered in that order). Distinct organization and
    /// instructor counts are left out of trends.
    pub fn trend(
        &self,
        filter: &Filter,
        dates: &[NaiveDate],
        visible: &Visibility,
    ) -> Result<Vec<TrendPoint>, FilterError> {
        let c = self.candidates(filter, visible)?;
        let mut order: Vec<usize> = (0..dates.len()).collect();
        order.sort_by_key(|&i| dates[i]);
        let days: Vec<Day> = order.iter().map(|&i| day_of(dates[i])).collect();
        let needs: Vec<u32> = days.iter().map(|&d| self.rules.at(d).own_organization_min).collect();
        let k = days.len();
        let mut points = vec![Figures::default(); k];
        // Units with no links are in state None whenever they operate: add them over their operating
        // span through difference arrays instead of date by date.
        let mut diff_units = vec![0i64; k + 1];
        let mut diff_members = vec![0i64; k + 1];
        let mut diff_workers = vec![0i64; k + 1];
        let mut linkless: Vec<(usize, usize, u32)> = Vec::new();
        c.each(|_, u| {
            let first = days.partition_point(|&d| d < u.established);
            let end = days.partition_point(|&d| d < u.closed);
            if first >= end {
                return;
            }
            if u.link_len == 0 {
                diff_units[first] += 1;
                diff_units[end] -= 1;
                diff_members[first] += i64::from(u.members);
                diff_members[end] -= i64::from(u.members);
                diff_workers[first] += i64::from(u.workers);
                diff_workers[end] -= i64::from(u.workers);
                linkless.push((first, end, u.members));
            } else {
                for i in first..end {
                    let state = state_at(self.links_of(u), days[i]);
                    points[i].add(state, u.members, u.workers, u.members >= needs[i]);
                }
            }
        });
        let (mut units, mut members, mut workers) = (0i64, 0i64, 0i64);
        for i in 0..k {
            units += diff_units[i];
            members += diff_members[i];
            workers += diff_workers[i];
            let p = &mut points[i];
            p.units += units as u64;
            p.none += units as u64;
            p.members += members as u64;
            p.workers += workers as u64;
        }
        // Units needing their own organization among the linkless ones depend on the threshold of each date.
        let mut diff_needing = vec![0i64; k + 1];
        let same_threshold = needs.windows(2).all(|w| w[0] == w[1]);
        if same_threshold {
            let need = needs.first().copied().unwrap_or(3);
            for &(first, end, m) in &linkless {
                if m >= need {
                    diff_needing[first] += 1;
                    diff_needing[end] -= 1;
                }
            }
            let mut acc = 0i64;
            for i in 0..k {
                acc += diff_needing[i];
                points[i].units_needing_own += acc as u64;
            }
        } else {
            for &(first, end, m) in &linkless {
                for i in first..end {
                    points[i].units_needing_own += u64::from(m >= needs[i]);
                }
            }
        }
        let mut out: Vec<(usize, TrendPoint)> = order
            .iter()
            .zip(points)
            .map(|(&i, mut figures)| {
                figures.finish();
                (i, TrendPoint { date: dates[i], figures })
            })
            .collect();
        out.sort_by_key(|(i, _)| *i);
        Ok(out.into_iter().map(|(_, p)| p).collect())
    }

    /// The gap list on `date`, ordered by `order`: every unit rule and every organization rule broken.
    pub fn gaps(
        &self,
        filter: &Filter,
        date: NaiveDate,
        visible: &Visibility,
        rule: Option<GapRule>,
        order: GapOrder,
    ) -> Result<Vec<GapRow>, FilterError> {
        Ok(self.gaps_page(filter, date, visible, rule, order, 0, usize::MAX)?.1)
    }

    /// One page of [`CoverageIndex::gaps`] — the rows `offset .. offset + limit` in the same order — and
    /// how many rows there are in all. The rows are found as small keys, only the page's are ordered
    /// in full (a selection, not a sort of every gap) and only they become [`GapRow`]s, so a page of a
    /// national list of hundreds of thousands of gaps costs about one pass over the units.
    #[expect(clippy::too_many_arguments, reason = "the gap list's filter, date, scope, rule, order and page")]
    pub fn gaps_page(
        &self,
        filter: &Filter,
        date: NaiveDate,
        visible: &Visibility,
        rule: Option<GapRule>,
        order: GapOrder,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<GapRow>), FilterError> {
        let c = self.candidates(filter, visible)?;
        if order == GapOrder::Rule {
            if let Some(page) = self.gaps_from_aggregate(&c, date, rule, offset, limit) {
                return Ok(page);
            }
        }
        let day = day_of(date);
        let t = self.rules.at(day);
        let wanted = |g: GapRule| rule.is_none_or(|r| r == g);
        let mut keys: Vec<GapKey> = Vec::new();
        c.each(|slot, u| {
            if !operating(u.established, u.closed, day) {
                return;
            }
            let state = state_at(self.links_of(u), day);
            self.unit_gaps(slot, u, state, day, t, |g, org| {
                if wanted(g) {
                    keys.push(GapKey { rule: g, members: u.members, unit_id: u.id, unit: slot, org });
                }
            });
        });
        let total = keys.len();
        let cmp = |a: &GapKey, b: &GapKey| match order {
            GapOrder::Rule => a.rule.cmp(&b.rule).then(b.members.cmp(&a.members)).then(a.unit_id.cmp(&b.unit_id)),
            GapOrder::Members => b.members.cmp(&a.members).then(a.unit_id.cmp(&b.unit_id)),
            GapOrder::Region => self.regions[self.units[a.unit as usize].region as usize]
                .code
                .cmp(&self.regions[self.units[b.unit as usize].region as usize].code)
                .then(a.unit_id.cmp(&b.unit_id)),
        };
        let end = offset.saturating_add(limit).min(total);
        if offset >= end {
            return Ok((total, Vec::new()));
        }
        // Ties keep the order they were found in, as a stable sort of the whole list would.
        let cmp = |a: &GapKey, b: &GapKey| cmp(a, b).then(a.found_before(b));
        if end < total {
            keys.select_nth_unstable_by(end, cmp);
            keys.truncate(end);
        }
        keys.sort_unstable_by(cmp);
        let rows = keys[offset..end]
            .iter()
            .map(|k| {
                let u = &self.units[k.unit as usize];
                let org = (k.org != NONE).then(|| self.orgs[k.org as usize].id);
                let state = state_at(self.links_of(u), day);
                self.gap_row(u, org, k.rule, t.required(u.members), state)
            })
            .collect();
        Ok((total, rows))
    }

    /// The gaps of operating unit `slot` on `day`, as the gap list lists them: the unit's own rule (with
    /// `NONE` for the organization), then the rules of each active organization whose home (or first)
    /// unit it is, each organization once (with its slot). An organization's home links to it while it is
    /// active, so every organization some candidate links to is found at its home without collecting
    /// every link.
    fn unit_gaps(
        &self,
        slot: u32,
        u: &UnitRec,
        state: CoverageState,
        day: Day,
        t: &Thresholds,
        mut found: impl FnMut(GapRule, u32),
    ) {
        let links = self.links_of(u);
        // The kind of its own organization matters only to a unit its own organization covers.
        let own_kind = if state == CoverageState::Own {
            links
                .iter()
                .filter(|l| l.kind == LinkKind::Own && l.active(day))
                .map(|l| self.orgs[l.source as usize].kind)
                .max_by_key(|k| Requirement::met_by(*k))
        } else {
            None
        };
        if let Some(g) = unit_gap(u.members, state, own_kind, t) {
            found(g, NONE);
        }
        for (i, l) in links.iter().enumerate() {
            if l.kind == LinkKind::Instructor || !l.active(day) {
                continue;
            }
            let o = &self.orgs[l.source as usize];
            let repeated = links[..i].iter().any(|p| p.kind != LinkKind::Instructor && p.source == l.source);
            if o.home() != Some(slot) || repeated || !o.active(day) {
                continue;
            }
            for g in organization_gaps(o.kind, self.term_end_day(o), o.units.len(), day, t) {
                found(g, l.source);
            }
        }
    }

    fn gap_row(
        &self,
        u: &UnitRec,
        org: Option<i64>,
        rule: GapRule,
        requirement: Requirement,
        state: CoverageState,
    ) -> GapRow {
        GapRow {
            unit_id: u.id,
            organization_id: org,
            rule,
            requirement,
            state,
            members: u.members,
            region_code: self.regions[u.region as usize].code.clone(),
            tier: u.tier,
        }
    }

    /// One unit's coverage on `date`.
    pub fn unit(&self, id: i64, date: NaiveDate) -> Option<UnitCoverage> {
        let u = &self.units[*self.unit_slot.get(&id)? as usize];
        if !u.alive {
            return None;
        }
        let day = day_of(date);
        let t = self.rules.at(day);
        let state = state_at(self.links_of(u), day);
        let operating = operating(u.established, u.closed, day);
        let own_kind = self
            .links_of(u)
            .iter()
            .filter(|l| l.kind == LinkKind::Own && l.active(day))
            .map(|l| self.orgs[l.source as usize].kind)
            .max_by_key(|k| Requirement::met_by(*k));
        let gap = if operating { unit_gap(u.members, state, own_kind, t) } else { None };
        Some(UnitCoverage { operating, state, requirement: t.required(u.members), gap })
    }

    /// Units registered (whatever their dates) in `region` (the nation when `None`) that `visible` lets
    /// the reader see: how many in all, of each tier, and in each region one level below (those with
    /// any, by code). For the pages that list the registry rather than the figures of a date.
    pub fn registered_units(&self, region: Option<&str>, visible: &Visibility) -> Result<Registered, FilterError> {
        let f = Filter { region: region.map(str::to_owned), ..Default::default() };
        let c = self.candidates(&f, visible)?;
        let mut tiers = [0u64; 4];
        let mut by_child: HashMap<u32, u64> = HashMap::new();
        let depth = c.child_depth;
        if let Some(runs) = c.whole_region_runs() {
            // Whole regions: add up their counts instead of reading their units.
            for (from, to) in runs {
                for r in from..to {
                    let counts = &self.region_counts[r as usize];
                    let n = counts.count(None, None);
                    if n == 0 {
                        continue;
                    }
                    for (i, t) in EntityKind::ALL.into_iter().enumerate() {
                        tiers[i] += counts.count(Some(t), None);
                    }
                    if let Some(d) = depth {
                        let child = self.lineage[r as usize][d];
                        if child != NONE {
                            *by_child.entry(child).or_default() += n;
                        }
                    }
                }
            }
        } else {
            c.each(|_, u| {
                tiers[tier_index(u.tier)] += 1;
                if let Some(d) = depth {
                    let child = self.lineage[u.region as usize][d];
                    if child != NONE {
                        *by_child.entry(child).or_default() += 1;
                    }
                }
            });
        }
        let mut children: Vec<(String, u64)> =
            by_child.into_iter().map(|(slot, n)| (self.regions[slot as usize].code.clone(), n)).collect();
        children.sort();
        Ok(Registered {
            total: tiers.iter().sum(),
            by_tier: EntityKind::ALL.into_iter().zip(tiers).collect(),
            children,
        })
    }

    /// How many units registered (whatever their dates) match `filter` and, when `closed` is given, have
    /// (`Some(true)`) or have not (`Some(false)`) a closing date — of those `visible` lets the reader
    /// see. The same number as a `COUNT(*)` of the registry list with those filters, from memory.
    pub fn count_registered(
        &self,
        filter: &Filter,
        closed: Option<bool>,
        visible: &Visibility,
    ) -> Result<u64, FilterError> {
        let c = self.candidates(filter, visible)?;
        if let Some(runs) = c.whole_region_runs() {
            let counts = &self.region_counts;
            return Ok(runs
                .iter()
                .flat_map(|&(a, b)| a..b)
                .map(|r| counts[r as usize].count(filter.tier, closed))
                .sum());
        }
        let mut n = 0u64;
        c.each(|_, u| {
            if closed.is_none_or(|want| want == (u.closed != OPEN)) {
                n += 1;
            }
        });
        Ok(n)
    }

    /// The earliest establishment date among the units (for the default span of a trend).
    pub fn earliest(&self) -> Option<NaiveDate> {
        self.units.iter().filter(|u| u.alive && u.established != ALWAYS).map(|u| u.established).min().map(date_of)
    }

    /// A rough count of the bytes the index holds, for the memory figure.
    pub fn approximate_bytes(&self) -> usize {
        let units = self.units.len() * std::mem::size_of::<UnitRec>()
            + self.link_pool.capacity() * std::mem::size_of::<Link>()
            + self.cold.iter().map(|c| 48 + c.orgs.capacity() * 4 + c.assignments.capacity() * 12).sum::<usize>();
        let orgs = self.orgs.len() * std::mem::size_of::<OrgRec>()
            + self.orgs.iter().map(|o| o.units.capacity() * 8).sum::<usize>();
        let lists = self.units_by_region.iter().map(|v| v.capacity() * 4 + 24).sum::<usize>()
            + self.orgs_by_region.iter().map(|v| v.capacity() * 4 + 24).sum::<usize>();
        let maps = (self.unit_slot.capacity() + self.org_slot.capacity() + self.instructor_slot.capacity()) * 24;
        units + orgs + lists + maps + self.regions.len() * (std::mem::size_of::<RegionNode>() + 40)
    }
}

fn tier_index(k: EntityKind) -> usize {
    match k {
        EntityKind::Platform => 0,
        EntityKind::Franchisee => 1,
        EntityKind::Partner => 2,
        EntityKind::Site => 3,
    }
}

mod aggregate;
#[cfg(test)]
mod tests;
