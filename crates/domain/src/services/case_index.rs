//! Case statistics in memory (issue part 7 at national scale): one compact record per case — nothing
//! personal, only what [`super::case_stats`] counts — and the statistics of any filter and scope in one
//! pass over them, with exactly the figures of counting case by case: the same groups, the same
//! nearest-rank percentiles (found by [`super::case_stats::summarize`] on each group's durations).
//!
//! Regions are kept sorted by path, so a region's subtree is a contiguous run of region slots and "filed
//! in the subtree of /44/" is a range test on the case's region slot. Categories, sectors and units are
//! interned to small numbers. A query marks the region slots it admits (the selected region, the reader's
//! scopes) and which line of the region grouping each falls on, then passes over the cases once to count
//! and once more to lay each line's durations out contiguously, where the percentiles are selected in place.

use super::case_stats::{figures, CaseCounts, CaseFigures};
use super::cases::CaseStatus;
use std::collections::HashMap;
use std::ops::Range;

/// A case as the statistics see it. Times are Unix seconds; durations whole seconds from filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub id: i64,
    pub category: String,
    pub sector: Option<String>,
    pub platform_id: Option<i64>,
    pub region_code: String,
    pub status: CaseStatus,
    pub created: i64,
    pub ack_due: i64,
    pub resolve_due: i64,
    /// Escalated at least once.
    pub escalated: bool,
    /// 1 to 5.
    pub rating: Option<u8>,
    pub ack_seconds: Option<i64>,
    pub resolve_seconds: Option<i64>,
}

/// A region as the index places it: its code and its path (`/44/4403/440305/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionPath {
    pub code: String,
    pub path: String,
}

/// One of the reader's scopes, as the statistics apply it: cases filed in the subtree whose paths start
/// with `prefix`, and of `sector` when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePart {
    pub prefix: String,
    pub sector: Option<String>,
}

/// Which cases a query counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseQuery {
    /// `None`: every case; otherwise the cases inside any of the parts (none when empty).
    pub scopes: Option<Vec<ScopePart>>,
    /// The selected region's path prefix (`/44/`); `None`: the whole country (prefix `/`).
    pub region_prefix: Option<String>,
    /// Filed at or after (Unix seconds).
    pub from: Option<i64>,
    /// Filed before (Unix seconds).
    pub before: Option<i64>,
    pub category: Option<String>,
    pub sector: Option<String>,
    pub platform_id: Option<i64>,
    /// The moment "overdue" is judged at (Unix seconds).
    pub now: i64,
}

/// The figures of a query: the totals and the lines of each grouping that has cases.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedFigures {
    pub total: CaseFigures,
    pub by_category: Vec<(String, CaseFigures)>,
    /// `None`: cases giving no sector.
    pub by_sector: Vec<(Option<String>, CaseFigures)>,
    /// `None`: cases naming no unit.
    pub by_platform: Vec<(Option<i64>, CaseFigures)>,
    /// The code of the selected region's child holding the cases; `""` for cases filed at the selected
    /// region itself.
    pub by_region: Vec<(String, CaseFigures)>,
}

/// "No duration" in a record.
const NONE: i64 = i64::MIN;
/// A freed record slot's status.
const FREE: u8 = u8::MAX;

#[derive(Debug, Clone, Copy)]
struct Rec {
    created: i64,
    ack_due: i64,
    resolve_due: i64,
    ack: i64,
    resolve: i64,
    region: u32,
    platform: u32,
    category: u32,
    sector: u32,
    status: u8,
    escalated: bool,
    rating: u8,
}

/// Values numbered in the order first seen.
#[derive(Debug, Clone, Default)]
struct Interner<T: std::hash::Hash + Eq + Clone> {
    values: Vec<T>,
    ids: HashMap<T, u32>,
}

impl<T: std::hash::Hash + Eq + Clone> Interner<T> {
    fn id(&mut self, v: &T) -> u32 {
        if let Some(&id) = self.ids.get(v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(v.clone(), id);
        id
    }

    fn find(&self, v: &T) -> Option<u32> {
        self.ids.get(v).copied()
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

fn status_code(s: CaseStatus) -> u8 {
    match s {
        CaseStatus::Submitted => 0,
        CaseStatus::Acknowledged => 1,
        CaseStatus::Resolved => 2,
        CaseStatus::Closed => 3,
    }
}

/// Every case's statistics facts, kept in memory.
#[derive(Debug, Clone, Default)]
pub struct CaseIndex {
    /// Sorted by path.
    regions: Vec<RegionPath>,
    region_slot: HashMap<String, u32>,
    categories: Interner<String>,
    sectors: Interner<Option<String>>,
    platforms: Interner<Option<i64>>,
    recs: Vec<Rec>,
    slot_of: HashMap<i64, u32>,
    free: Vec<u32>,
}

/// A grouping's lines while counting: counts and how many durations of each kind.
struct Lines {
    counts: Vec<CaseCounts>,
    acks: Vec<usize>,
    resolves: Vec<usize>,
}

impl Lines {
    fn new(n: usize) -> Self {
        Self { counts: vec![CaseCounts::default(); n], acks: vec![0; n], resolves: vec![0; n] }
    }

    fn add(&mut self, line: usize, r: &Rec, now: i64) {
        let c = &mut self.counts[line];
        c.cases += 1;
        match r.status {
            0 => {
                c.open += 1;
                c.overdue += i64::from(r.ack_due < now);
            }
            1 => {
                c.open += 1;
                c.overdue += i64::from(r.resolve_due < now);
            }
            2 => c.resolved += 1,
            _ => {
                c.resolved += 1;
                c.closed += 1;
            }
        }
        c.escalated += i64::from(r.escalated);
        if (1..=5).contains(&r.rating) {
            c.ratings[usize::from(r.rating - 1)] += 1;
        }
        self.acks[line] += usize::from(r.ack != NONE);
        self.resolves[line] += usize::from(r.resolve != NONE);
    }

    /// Adds line `from` of `other` to `line`.
    fn merge(&mut self, line: usize, other: &Lines, from: usize) {
        self.counts[line].add(&other.counts[from]);
        self.acks[line] += other.acks[from];
        self.resolves[line] += other.resolves[from];
    }
}

/// At most this many (category × sector × region line) cells are counted per case and folded into the
/// three groupings afterwards, rather than counting each case on each grouping's line.
const MAX_CELLS: usize = 1 << 20;

/// One grouping's durations laid out line after line: `starts[line]..starts[line + 1]`.
struct Layout {
    values: Vec<i64>,
    starts: Vec<usize>,
    next: Vec<usize>,
}

impl Layout {
    fn new(sizes: &[usize]) -> Self {
        let mut starts = Vec::with_capacity(sizes.len() + 1);
        let mut at = 0;
        for s in sizes {
            starts.push(at);
            at += s;
        }
        starts.push(at);
        let next = starts[..sizes.len()].to_vec();
        Self { values: vec![0; at], starts, next }
    }

    fn put(&mut self, line: usize, v: i64) {
        self.values[self.next[line]] = v;
        self.next[line] += 1;
    }

    fn line(&mut self, line: usize) -> &mut [i64] {
        &mut self.values[self.starts[line]..self.starts[line + 1]]
    }
}

impl CaseIndex {
    /// An empty index over `regions` (in any order).
    pub fn new(mut regions: Vec<RegionPath>) -> Self {
        regions.sort_by(|a, b| a.path.cmp(&b.path));
        let region_slot = regions.iter().enumerate().map(|(i, r)| (r.code.clone(), i as u32)).collect();
        Self { regions, region_slot, ..Self::default() }
    }

    /// How many cases it holds.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// Adds a case or replaces the one with its id. A case whose region is unknown is left out (the
    /// statistics count a case through its region).
    pub fn upsert(&mut self, c: &CaseFacts) {
        let Some(&region) = self.region_slot.get(&c.region_code) else {
            self.remove(c.id);
            return;
        };
        let rec = Rec {
            created: c.created,
            ack_due: c.ack_due,
            resolve_due: c.resolve_due,
            ack: c.ack_seconds.unwrap_or(NONE),
            resolve: c.resolve_seconds.unwrap_or(NONE),
            region,
            platform: self.platforms.id(&c.platform_id),
            category: self.categories.id(&c.category),
            sector: self.sectors.id(&c.sector),
            status: status_code(c.status),
            escalated: c.escalated,
            rating: c.rating.unwrap_or(0),
        };
        match self.slot_of.get(&c.id) {
            Some(&slot) => self.recs[slot as usize] = rec,
            None => {
                let slot = match self.free.pop() {
                    Some(s) => {
                        self.recs[s as usize] = rec;
                        s
                    }
                    None => {
                        self.recs.push(rec);
                        (self.recs.len() - 1) as u32
                    }
                };
                self.slot_of.insert(c.id, slot);
            }
        }
    }

    /// Forgets a case (deleted, or its region unknown).
    pub fn remove(&mut self, id: i64) {
        if let Some(slot) = self.slot_of.remove(&id) {
            self.recs[slot as usize].status = FREE;
            self.free.push(slot);
        }
    }

    /// The region slots whose paths start with `prefix`.
    fn subtree(&self, prefix: &str) -> Range<usize> {
        let lo = self.regions.partition_point(|r| r.path.as_str() < prefix);
        let hi = lo + self.regions[lo..].partition_point(|r| r.path.starts_with(prefix));
        lo..hi
    }

    /// The statistics of the cases `q` selects.
    pub fn statistics(&self, q: &CaseQuery) -> GroupedFigures {
        self.statistics_with(q, MAX_CELLS)
    }

    fn statistics_with(&self, q: &CaseQuery, max_cells: usize) -> GroupedFigures {
        let empty = GroupedFigures {
            total: figures(&CaseCounts::default(), &mut [], &mut []),
            by_category: Vec::new(),
            by_sector: Vec::new(),
            by_platform: Vec::new(),
            by_region: Vec::new(),
        };
        // Filters naming a value no case has select nothing.
        let category = match &q.category {
            Some(c) => match self.categories.find(c) {
                Some(id) => Some(id),
                None => return empty,
            },
            None => None,
        };
        let sector = match &q.sector {
            Some(s) => match self.sectors.find(&Some(s.clone())) {
                Some(id) => Some(id),
                None => return empty,
            },
            None => None,
        };
        let platform = match q.platform_id {
            Some(p) => match self.platforms.find(&Some(p)) {
                Some(id) => Some(id),
                None => return empty,
            },
            None => None,
        };

        // Per region slot: the line of the region grouping (u32::MAX: not admitted), and whether the
        // reader's sector-bound scopes must be checked case by case.
        let prefix = q.region_prefix.as_deref().unwrap_or("/");
        let selected = self.subtree(prefix);
        let mut line_of = vec![u32::MAX; self.regions.len()];
        let mut check_sector = vec![false; self.regions.len()];
        let mut scope_parts: Vec<(Range<usize>, Option<u32>)> = Vec::new();
        match &q.scopes {
            None => line_of[selected.clone()].fill(0),
            Some(parts) => {
                for p in parts {
                    let sector = match &p.sector {
                        Some(s) => match self.sectors.find(&Some(s.clone())) {
                            Some(id) => Some(id),
                            None => continue,
                        },
                        None => None,
                    };
                    let r = self.subtree(&p.prefix);
                    let r = r.start.max(selected.start)..r.end.min(selected.end);
                    for slot in r.clone() {
                        if sector.is_none() {
                            line_of[slot] = 0;
                            check_sector[slot] = false;
                        } else if line_of[slot] == u32::MAX {
                            line_of[slot] = 0;
                            check_sector[slot] = true;
                        }
                    }
                    if sector.is_some() {
                        scope_parts.push((r, sector));
                    }
                }
            }
        }
        let mut child_codes: Vec<String> = Vec::new();
        let mut child_ids: HashMap<&str, u32> = HashMap::new();
        for slot in selected {
            if line_of[slot] == u32::MAX {
                continue;
            }
            let rest = self.regions[slot].path.get(prefix.len()..).unwrap_or_default();
            let child = rest.split('/').next().unwrap_or_default();
            let next = child_codes.len() as u32;
            line_of[slot] = *child_ids.entry(child).or_insert_with(|| {
                child_codes.push(child.to_owned());
                next
            });
        }

        let admits = |r: &Rec| -> bool {
            let slot = r.region as usize;
            r.status != FREE
                && line_of[slot] != u32::MAX
                && category.is_none_or(|c| c == r.category)
                && sector.is_none_or(|s| s == r.sector)
                && platform.is_none_or(|p| p == r.platform)
                && q.from.is_none_or(|f| r.created >= f)
                && q.before.is_none_or(|b| r.created < b)
                && (!check_sector[slot]
                    || scope_parts.iter().any(|(range, s)| range.contains(&slot) && *s == Some(r.sector)))
        };

        let mut lines = [
            Lines::new(self.categories.len()),
            Lines::new(self.sectors.len()),
            Lines::new(self.platforms.len()),
            Lines::new(child_codes.len()),
        ];
        let line_ids = |r: &Rec| {
            [r.category as usize, r.sector as usize, r.platform as usize, line_of[r.region as usize] as usize]
        };
        let mut matched: Vec<u32> = Vec::new();
        let (ns, nr) = (self.sectors.len(), child_codes.len());
        let cells = self.categories.len().checked_mul(ns).and_then(|n| n.checked_mul(nr)).filter(|&n| n <= max_cells);
        if let Some(cells) = cells {
            // Each case counted twice (its cell and its unit's line) rather than four times.
            let mut fine = Lines::new(cells);
            for (i, r) in self.recs.iter().enumerate() {
                if !admits(r) {
                    continue;
                }
                matched.push(i as u32);
                let [c, s, p, l] = line_ids(r);
                fine.add((c * ns + s) * nr + l, r, q.now);
                lines[2].add(p, r, q.now);
            }
            for cell in (0..cells).filter(|&k| fine.counts[k].cases > 0) {
                lines[0].merge(cell / (ns * nr), &fine, cell);
                lines[1].merge(cell / nr % ns, &fine, cell);
                lines[3].merge(cell % nr, &fine, cell);
            }
        } else {
            for (i, r) in self.recs.iter().enumerate() {
                if !admits(r) {
                    continue;
                }
                matched.push(i as u32);
                for (g, line) in line_ids(r).into_iter().enumerate() {
                    lines[g].add(line, r, q.now);
                }
            }
        }
        if matched.is_empty() {
            return empty;
        }

        let mut acks: Vec<Layout> = lines.iter().map(|l| Layout::new(&l.acks)).collect();
        let mut resolves: Vec<Layout> = lines.iter().map(|l| Layout::new(&l.resolves)).collect();
        for &i in &matched {
            let r = &self.recs[i as usize];
            let ids = line_ids(r);
            if r.ack != NONE {
                for (layout, line) in acks.iter_mut().zip(ids) {
                    layout.put(line, r.ack);
                }
            }
            if r.resolve != NONE {
                for (layout, line) in resolves.iter_mut().zip(ids) {
                    layout.put(line, r.resolve);
                }
            }
        }

        let mut grouped: Vec<Vec<(usize, CaseFigures)>> = Vec::new();
        let mut total = CaseCounts::default();
        for (g, l) in lines.iter().enumerate() {
            let mut out = Vec::new();
            for (line, counts) in l.counts.iter().enumerate() {
                if counts.cases == 0 {
                    continue;
                }
                if g == 0 {
                    total.add(counts);
                }
                let f = figures(counts, acks[g].line(line), resolves[g].line(line));
                out.push((line, f));
            }
            grouped.push(out);
        }
        // Every counted case is on one category line, so the category layout holds all the durations
        // (reordered within lines, which does not matter to the totals).
        let total = figures(&total, &mut acks[0].values, &mut resolves[0].values);
        let mut grouped = grouped.into_iter();
        let mut next = || grouped.next().unwrap_or_default();
        let (cat, sec, plat, reg) = (next(), next(), next(), next());
        GroupedFigures {
            total,
            by_category: cat.into_iter().map(|(i, f)| (self.categories.values[i].clone(), f)).collect(),
            by_sector: sec.into_iter().map(|(i, f)| (self.sectors.values[i].clone(), f)).collect(),
            by_platform: plat.into_iter().map(|(i, f)| (self.platforms.values[i], f)).collect(),
            by_region: reg.into_iter().map(|(i, f)| (child_codes[i].clone(), f)).collect(),
        }
    }
}

#[cfg(test)]
mod tests;
