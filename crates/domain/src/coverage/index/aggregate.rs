//! Partial sums for one day, kept current record by record: each region's subtree totals and its
//! distinct organizations and instructors, and for the nation, the provinces and the prefectures also
//! the tier, sector × tier and chain lines. A national or provincial roll-up on that day then adds up
//! a few dozen sums instead of scanning a million units.
//!
//! Every change to a unit's record or links goes through [`CoverageIndex::agg_unit`]: its old
//! contribution is taken out before the change and the new one put in after, so the sums always equal
//! what a scan would add up (the tests check this after random sequences of changes).

use super::{
    tier_index, Acc, Candidates, CoverageIndex, Filter, GapRow, Rollup, UnitRec, Visibility, VisibleScope, NONE,
};
use crate::coverage::gaps::GapRule;
use crate::coverage::state::{operating, state_at, CoverageState, LinkKind};
use crate::coverage::{day_of, Day};
use chrono::NaiveDate;
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// A gap of the day in the gap list's default order — rule, formal members (most first), unit id, the
/// unit's own rule before its organizations' (0, else the organization's slot + 1) — with the unit's
/// slot last, to build the row from.
pub(super) type GapEntry = (GapRule, Reverse<u32>, i64, u32, u32);

/// How far a walk of the kept gap list may go to fill a page of a small scope before a scan of the
/// scope is the cheaper way.
const GAP_WALK_BUDGET: u64 = 400_000;

/// Regions down to this depth (0 province, 1 prefecture) keep the tier, sector × tier and chain lines;
/// deeper ones hold few units, and a scan of them takes well under a millisecond.
const WIDE_DEPTH: u8 = 1;

/// The sums of one day; see the module documentation.
#[derive(Debug, Clone)]
pub(super) struct DayAggregate {
    pub(super) day: Day,
    /// The own-organization threshold in force on `day`.
    need: u32,
    /// Subtree totals by region slot; the nation at `regions.len()`.
    acc: Vec<Acc>,
    /// Distinct active organizations and instructors by region slot (the nation last).
    orgs: Vec<u32>,
    insts: Vec<u32>,
    /// (region slot or nation) << 32 | organization slot → how many operating units' active links.
    org_refs: FxHashMap<u64, u32>,
    inst_refs: FxHashMap<u64, u32>,
    /// For each region slot (the nation last): its entry in `wide`, or `NONE`.
    wide_slot: Vec<u32>,
    wide: Vec<Wide>,
    /// Each region's sub-regions one level down (the nation's: the provinces).
    children: Vec<Vec<u32>>,
    /// Every gap of the day, in the list's default order ([`GapEntry`]).
    gaps: BTreeSet<GapEntry>,
    /// Gaps by region subtree (the nation last) and rule (`GapRule as usize`).
    gap_counts: Vec<[u32; GapRule::ALL.len()]>,
}

#[derive(Debug, Clone)]
struct Wide {
    by_tier: [Acc; 4],
    /// Sector × tier, `sector * 4 + tier`.
    table: Vec<Acc>,
    /// By dense chain number.
    chains: FxHashMap<u32, Acc>,
}

/// Adding a unit's contribution, or taking it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sign {
    Add,
    Remove,
}

fn count(refs: &mut FxHashMap<u64, u32>, distinct: &mut [u32], region: u32, source: u32, sign: Sign) {
    let key = (u64::from(region) << 32) | u64::from(source);
    match sign {
        Sign::Add => {
            let n = refs.entry(key).or_insert(0);
            *n += 1;
            if *n == 1 {
                distinct[region as usize] += 1;
            }
        }
        Sign::Remove => {
            if let Some(n) = refs.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    refs.remove(&key);
                    distinct[region as usize] -= 1;
                }
            }
        }
    }
}

impl CoverageIndex {
    /// Whether each region's ancestors by `parent_code` are exactly the regions whose path is a prefix of
    /// its path (true of any consistent region table). Partial sums follow the first, a scan the
    /// second; where they could disagree the index keeps no sums and always scans.
    pub(super) fn lineage_matches_paths(&self) -> bool {
        let mut open: Vec<u32> = Vec::new();
        for (i, r) in self.regions.iter().enumerate() {
            let i = i as u32;
            while open.last().is_some_and(|&a| self.regions[a as usize].end <= i) {
                open.pop();
            }
            open.push(i);
            let lineage = self.lineage[i as usize];
            let known = lineage.iter().filter(|&&a| a != NONE).count();
            if known != open.len() || lineage[r.depth as usize] != i {
                return false;
            }
            let all_ancestors = lineage.iter().enumerate().filter(|(_, &a)| a != NONE).all(|(d, &a)| {
                let node = &self.regions[a as usize];
                node.depth as usize == d && a <= i && i < node.end
            });
            if !all_ancestors {
                return false;
            }
        }
        true
    }

    /// Keeps partial sums for `date` from now on (replacing those of another day): a roll-up of the
    /// nation, a province or a prefecture on that day, without sector, tier or chain filters, is then
    /// answered from them. Costs about one scan.
    pub fn prepare_day(&mut self, date: NaiveDate) {
        self.aggregate = None;
        if !self.lineage_ok {
            return;
        }
        let day = day_of(date);
        let n = self.regions.len();
        let n_sectors = self.sectors.len().min(64);
        let mut wide_slot = vec![NONE; n + 1];
        let mut wide = Vec::new();
        let mut children = vec![Vec::new(); n + 1];
        for (i, r) in self.regions.iter().enumerate() {
            if r.depth <= WIDE_DEPTH {
                wide_slot[i] = wide.len() as u32;
                wide.push(Wide {
                    by_tier: [Acc::default(); 4],
                    table: vec![Acc::default(); n_sectors * 4],
                    chains: Default::default(),
                });
            }
            let parent = if r.depth == 0 { n as u32 } else { self.lineage[i][r.depth as usize - 1] };
            if let Some(list) = children.get_mut(parent as usize) {
                list.push(i as u32);
            }
        }
        wide_slot[n] = wide.len() as u32;
        wide.push(Wide {
            by_tier: [Acc::default(); 4],
            table: vec![Acc::default(); n_sectors * 4],
            chains: Default::default(),
        });
        let mut agg = DayAggregate {
            day,
            need: self.rules.at(day).own_organization_min,
            acc: vec![Acc::default(); n + 1],
            orgs: vec![0; n + 1],
            insts: vec![0; n + 1],
            org_refs: Default::default(),
            inst_refs: Default::default(),
            wide_slot,
            wide,
            children,
            gaps: BTreeSet::new(),
            gap_counts: vec![[0; GapRule::ALL.len()]; n + 1],
        };
        for (slot, u) in self.units.iter().enumerate() {
            self.contribute(&mut agg, slot as u32, u, Sign::Add);
        }
        self.aggregate = Some(agg);
    }

    /// The day the index keeps partial sums for.
    pub fn prepared_day(&self) -> Option<NaiveDate> {
        self.aggregate.as_ref().map(|a| crate::coverage::date_of(a.day))
    }

    /// Puts a unit's contribution into the sums, or takes it out (see the module documentation).
    pub(super) fn agg_unit(&mut self, slot: u32, sign: Sign) {
        let Some(mut agg) = self.aggregate.take() else { return };
        if let Some(u) = self.units.get(slot as usize) {
            self.contribute(&mut agg, slot, u, sign);
        }
        self.aggregate = Some(agg);
    }

    fn contribute(&self, agg: &mut DayAggregate, slot: u32, u: &UnitRec, sign: Sign) {
        let day = agg.day;
        if !u.alive || !operating(u.established, u.closed, day) {
            return;
        }
        let links = self.links_of(u);
        let covered = if links.is_empty() { CoverageState::None } else { state_at(links, day) };
        self.contribute_gaps(agg, slot, u, covered, sign);
        let state = covered as usize;
        let needs_own = u.members >= agg.need;
        let mut one = Acc::default();
        one.add(state, u.members, u.workers, needs_own);
        let apply = |a: &mut Acc| match sign {
            Sign::Add => a.merge(&one),
            Sign::Remove => a.take(&one),
        };
        let nation = self.regions.len() as u32;
        let lineage = self.lineage[u.region as usize];
        let scopes = lineage.into_iter().filter(|&r| r != NONE).chain(std::iter::once(nation));
        let tier = tier_index(u.tier);
        let n_sectors = self.sectors.len().min(64);
        for r in scopes {
            apply(&mut agg.acc[r as usize]);
            let w = agg.wide_slot[r as usize];
            if w != NONE {
                let wide = &mut agg.wide[w as usize];
                apply(&mut wide.by_tier[tier]);
                let mut bits = u.sectors;
                while bits != 0 {
                    let s = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if s < n_sectors {
                        apply(&mut wide.table[s * 4 + tier]);
                    }
                }
                let line = wide.chains.entry(u.chain).or_default();
                apply(line);
                if sign == Sign::Remove && line.units() == 0 {
                    wide.chains.remove(&u.chain);
                }
            }
            for l in links {
                if !l.active(day) {
                    continue;
                }
                if l.kind == LinkKind::Instructor {
                    count(&mut agg.inst_refs, &mut agg.insts, r, l.source, sign);
                } else {
                    count(&mut agg.org_refs, &mut agg.orgs, r, l.source, sign);
                }
            }
        }
    }

    /// Puts the gaps of an operating unit into the kept list, or takes them out: the unit's own rule and
    /// the rules of each active organization whose home it is (as [`CoverageIndex::gaps_page`] lists
    /// them).
    fn contribute_gaps(&self, agg: &mut DayAggregate, slot: u32, u: &UnitRec, state: CoverageState, sign: Sign) {
        let day = agg.day;
        let t = self.rules.at(day);
        let mut entries: Vec<GapEntry> = Vec::new();
        self.unit_gaps(slot, u, state, day, t, |g, org| {
            let org = if org == NONE { 0 } else { org + 1 };
            entries.push((g, Reverse(u.members), u.id, org, slot));
        });
        if entries.is_empty() {
            return;
        }
        let nation = self.regions.len() as u32;
        let lineage = self.lineage[u.region as usize];
        for e in entries {
            let changed = match sign {
                Sign::Add => agg.gaps.insert(e),
                Sign::Remove => agg.gaps.remove(&e),
            };
            if !changed {
                continue;
            }
            for r in lineage.into_iter().filter(|&r| r != NONE).chain(std::iter::once(nation)) {
                let n = &mut agg.gap_counts[r as usize][e.0 as usize];
                *n = match sign {
                    Sign::Add => *n + 1,
                    Sign::Remove => n.saturating_sub(1),
                };
            }
        }
    }

    /// A page of the gap list in the default order from the kept list, when it answers it: kept for
    /// `date`, no sector, tier or chain filter, a reader who sees whole regions, and a page the walk
    /// reaches within [`GAP_WALK_BUDGET`] entries. The total comes from the counts by region, the page
    /// from walking the list in order and keeping the candidates' entries.
    pub(super) fn gaps_from_aggregate(
        &self,
        c: &Candidates<'_>,
        date: NaiveDate,
        rule: Option<GapRule>,
        offset: usize,
        limit: usize,
    ) -> Option<(usize, Vec<GapRow>)> {
        let agg = self.aggregate.as_ref()?;
        if agg.day != day_of(date) || c.sector_bit != 0 || c.tier.is_some() || c.chain.is_some() {
            return None;
        }
        let roots = c.subtree_roots()?;
        let count = |r: u32| -> u64 {
            let counts = &agg.gap_counts[r as usize];
            match rule {
                Some(g) => u64::from(counts[g as usize]),
                None => counts.iter().map(|&n| u64::from(n)).sum(),
            }
        };
        let total = roots.iter().map(|&r| count(r)).sum::<u64>() as usize;
        let end = offset.saturating_add(limit).min(total);
        if offset >= end {
            return Some((total, Vec::new()));
        }
        // The walk passes over the other scopes' entries: about `end` × (all gaps / the scope's).
        let everywhere = count(self.regions.len() as u32).max(1);
        if (end as u64).saturating_mul(everywhere) / (total as u64) > GAP_WALK_BUDGET {
            return None;
        }
        let entries: Box<dyn Iterator<Item = &GapEntry>> = match rule {
            Some(g) => Box::new(
                agg.gaps.range((g, Reverse(u32::MAX), i64::MIN, 0, 0)..=(g, Reverse(0), i64::MAX, u32::MAX, u32::MAX)),
            ),
            None => Box::new(agg.gaps.iter()),
        };
        let day = agg.day;
        let t = self.rules.at(day);
        let mut seen = 0usize;
        let mut rows = Vec::with_capacity(end - offset);
        for &(g, _, _, org, slot) in entries {
            let u = &self.units[slot as usize];
            if !c.accepts(u) {
                continue;
            }
            if seen >= offset {
                let org = (org != 0).then(|| self.orgs[(org - 1) as usize].id);
                let state = state_at(self.links_of(u), day);
                rows.push(self.gap_row(u, org, g, t.required(u.members), state));
            }
            seen += 1;
            if seen >= end {
                break;
            }
        }
        Some((total, rows))
    }

    /// The roll-up from the partial sums, when they answer it: kept for `date`, no sector, tier or chain
    /// filter, the nation or a region down to a prefecture, and a reader who sees all of it.
    pub(super) fn rollup_from_aggregate(&self, c: &Candidates<'_>, filter: &Filter, date: NaiveDate) -> Option<Rollup> {
        let agg = self.aggregate.as_ref()?;
        if agg.day != day_of(date) || filter.sector.is_some() || filter.tier.is_some() || filter.chain.is_some() {
            return None;
        }
        let scope = match &filter.region {
            None => self.regions.len() as u32,
            Some(_) => c.range.0,
        };
        let sees_all = match c.visible {
            Visibility::All => true,
            Visibility::Scopes(scopes) => scopes.iter().any(|s| match s {
                VisibleScope::Region(r) => {
                    self.regions.get(*r as usize).is_some_and(|node| *r <= c.range.0 && c.range.1 <= node.end)
                }
                _ => false,
            }),
        };
        let w = *agg.wide_slot.get(scope as usize)?;
        if !sees_all || w == NONE {
            return None;
        }
        let wide = &agg.wide[w as usize];
        let children = agg.children[scope as usize]
            .iter()
            .filter(|&&ch| agg.acc[ch as usize].units() > 0)
            .map(|&ch| {
                let i = ch as usize;
                (ch, agg.acc[i], u64::from(agg.orgs[i]), u64::from(agg.insts[i]))
            })
            .collect();
        let distinct = (u64::from(agg.orgs[scope as usize]), u64::from(agg.insts[scope as usize]));
        let chains = wide.chains.iter().map(|(&i, &a)| (i, a));
        Some(self.assemble(date, &wide.by_tier, &wide.table, distinct, children, chains))
    }
}
