//! The demo dataset: six fictional platform chains in seven sectors and seventeen provincial-level
//! units (the XPCC included), with franchisees, partners, sites, Party organizations and instructors.
//!
//! The data lives in `crates/cli/demo/*.psv` (pipe-separated, one record per line) and goes through the
//! same parsers and store imports as any uploaded file, so every registry rule applies to it. Units are
//! named by short keys there; each key becomes a site code or a generated USCC with a valid check
//! character. Everything is deterministic.

use crate::codes::generated_uscc;
use anyhow::{anyhow, bail, Context};
use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::{EntityDraft, FieldErrors, InstructorDraft, OrganizationDraft};
use dangjian_store::access::AccessFilter;
use dangjian_store::entities::EntityFilter;
use dangjian_store::instructors::InstructorFilter;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::{ImportSummary, Paging, Store, StoreError};
use std::collections::HashMap;

const ENTITIES: &str = include_str!("../demo/entities.psv");
const ORGANIZATIONS: &str = include_str!("../demo/organizations.psv");
const INSTRUCTORS: &str = include_str!("../demo/instructors.psv");

/// The parsed demo dataset, each record with the line it came from.
#[derive(Debug, Clone)]
pub struct DemoData {
    pub entities: Vec<(usize, EntityDraft)>,
    pub organizations: Vec<(usize, OrganizationDraft)>,
    pub instructors: Vec<(usize, InstructorDraft)>,
}

/// What loading the demo did: `None` for a kind whose table already held records and was left alone.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub entities: Option<ImportSummary>,
    pub organizations: Option<ImportSummary>,
    pub instructors: Option<ImportSummary>,
}

impl LoadReport {
    /// Whether anything was loaded in this run.
    pub fn loaded_anything(&self) -> bool {
        self.entities.is_some() || self.organizations.is_some() || self.instructors.is_some()
    }
}

/// Records of a `.psv` text: (1-based line, trimmed cells), skipping blank and `#` lines.
pub(crate) fn records(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('|').map(str::trim).collect()))
}

pub(crate) fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

pub(crate) fn cells<'a, const N: usize>(file: &str, line: usize, cells: &[&'a str]) -> anyhow::Result<[&'a str; N]> {
    <[&str; N]>::try_from(cells).map_err(|_| anyhow!("demo/{file}:{line}: expected {N} cells, found {}", cells.len()))
}

pub(crate) fn parsed<T>(file: &str, line: usize, r: Result<T, FieldErrors>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow!("demo/{file}:{line}: {e}"))
}

/// Parses the demo files into drafts, turning unit keys into codes.
pub fn dataset() -> anyhow::Result<DemoData> {
    let mut codes: HashMap<&str, String> = HashMap::new();
    let mut entities = Vec::new();
    for (serial, (line, c)) in records(ENTITIES).enumerate() {
        let [key, kind, name, sectors, parent, region, address, workers, members, probationary, est, closed, site] =
            cells::<13>("entities.psv", line, &c)?;
        let (uscc, site_code) = if site.is_empty() {
            let u = generated_uscc(region, 'A', serial as u64)
                .map_err(|e| anyhow!("demo/entities.psv:{line}: {}", e.message))?;
            (Some(u.to_string()), None)
        } else {
            (None, Some(site.to_owned()))
        };
        let code = uscc.clone().or_else(|| site_code.clone()).unwrap_or_default();
        if codes.insert(key, code).is_some() {
            bail!("demo/entities.psv:{line}: key {key} is used twice");
        }
        let parent_uscc = match parent {
            "" => None,
            p => {
                Some(codes.get(p).cloned().ok_or_else(|| anyhow!("demo/entities.psv:{line}: unknown parent key {p}"))?)
            }
        };
        let input = EntityInput {
            uscc,
            site_code,
            name: opt(name),
            kind: opt(kind),
            sectors: sectors.split('、').map(str::to_owned).collect(),
            parent_id: None,
            parent_uscc,
            region_code: opt(region),
            address: opt(address),
            workers: opt(workers),
            party_members: opt(members),
            probationary_members: opt(probationary),
            established_on: opt(est),
            closed_on: opt(closed),
        };
        entities.push((line, parsed("entities.psv", line, EntityDraft::parse(&input))?));
    }
    let unit_code = |file: &str, line: usize, key: &str| {
        codes.get(key).cloned().ok_or_else(|| anyhow!("demo/{file}:{line}: unknown unit key {key}"))
    };

    let mut organizations = Vec::new();
    for (line, c) in records(ORGANIZATIONS) {
        let [code, kind, name, parent, units, region, est, dissolved, term_start, term_end, secretary] =
            cells::<11>("organizations.psv", line, &c)?;
        let unit_codes = units
            .split('、')
            .filter(|k| !k.is_empty())
            .map(|k| unit_code("organizations.psv", line, k))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let input = OrganizationInput {
            code: opt(code),
            name: opt(name),
            kind: opt(kind),
            parent_id: None,
            parent_code: opt(parent),
            unit_ids: Vec::new(),
            unit_codes,
            region_code: opt(region),
            established_on: opt(est),
            dissolved_on: opt(dissolved),
            term_start: opt(term_start),
            term_end: opt(term_end),
            secretary: opt(secretary),
        };
        organizations.push((line, parsed("organizations.psv", line, OrganizationDraft::parse(&input))?));
    }

    // One instructor per mobile number, with every assignment row of that number, in file order.
    let mut instructors: Vec<(usize, InstructorInput)> = Vec::new();
    for (line, c) in records(INSTRUCTORS) {
        let [name, mobile, dispatching, region, unit, start, end] = cells::<7>("instructors.psv", line, &c)?;
        let assignment = AssignmentInput {
            entity_id: None,
            unit_code: Some(unit_code("instructors.psv", line, unit)?),
            start_on: opt(start),
            end_on: opt(end),
        };
        match instructors.iter_mut().find(|(_, i)| i.mobile.as_deref() == Some(mobile)) {
            Some((_, i)) => i.assignments.push(assignment),
            None => instructors.push((
                line,
                InstructorInput {
                    name: opt(name),
                    mobile: opt(mobile),
                    dispatching_org: opt(dispatching),
                    region_code: opt(region),
                    assignments: vec![assignment],
                },
            )),
        }
    }
    let instructors = instructors
        .into_iter()
        .map(|(line, i)| Ok((line, parsed("instructors.psv", line, InstructorDraft::parse(&i))?)))
        .collect::<anyhow::Result<Vec<_>>>()?;

    Ok(DemoData { entities, organizations, instructors })
}

/// A store error as a message; `line_of` turns the row numbers given to the store into file lines.
fn store_failure(file: &str, e: StoreError, line_of: impl Fn(usize) -> usize) -> anyhow::Error {
    match e {
        StoreError::ImportRows(rows) => {
            let lines: Vec<String> =
                rows.errors.iter().map(|(line, fe)| format!("demo/{file}:{}: {fe}", line_of(*line))).collect();
            anyhow!("the demo dataset does not pass the registry's checks:\n{}", lines.join("\n"))
        }
        e => anyhow::Error::new(e).context(format!("loading demo/{file}")),
    }
}

/// The units in the order an export lists them (platforms, franchisees, partners, sites; then by code),
/// numbered from 1 in that order, with the file line of each number. The store gives ids in the order
/// it inserts, and lists an organization's units and an instructor's same-day assignments by unit id,
/// so ids in export order make the demo's export → import elsewhere → export identical byte for byte.
fn in_export_order(rows: &[(usize, EntityDraft)]) -> (Vec<(usize, EntityDraft)>, Vec<usize>) {
    let mut sorted: Vec<&(usize, EntityDraft)> = rows.iter().collect();
    sorted.sort_by_key(|(_, d)| {
        let uscc = d.uscc.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default();
        let site = d.site_code.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default();
        (d.kind, uscc, site)
    });
    let lines = sorted.iter().map(|(line, _)| *line).collect();
    let numbered = sorted.into_iter().enumerate().map(|(i, (_, d))| (i + 1, d.clone())).collect();
    (numbered, lines)
}

/// Loads the demo dataset into a migrated database. Each kind is loaded only into an empty table, so
/// running the demo again keeps whatever was changed since (and an interrupted load resumes).
pub async fn load(store: &Store) -> anyhow::Result<LoadReport> {
    let data = dataset()?;
    let one = Paging::new(Some(1), Some(1));
    let all = &AccessFilter::unrestricted();
    let mut report = LoadReport::default();
    if store.list_entities(&EntityFilter::default(), one, all).await?.total == 0 {
        let (rows, lines) = in_export_order(&data.entities);
        let line_of = |n: usize| lines.get(n.wrapping_sub(1)).copied().unwrap_or(n);
        let s =
            store.import_entities(&rows, false, all).await.map_err(|e| store_failure("entities.psv", e, line_of))?;
        report.entities = Some(s);
    }
    if store.list_organizations(&OrgFilter::default(), one, all).await?.total == 0 {
        let s = store
            .import_organizations(&data.organizations, false, all)
            .await
            .map_err(|e| store_failure("organizations.psv", e, |n| n))?;
        report.organizations = Some(s);
    }
    if store.list_instructors(&InstructorFilter::default(), one, all).await?.total == 0 {
        let s = store
            .import_instructors(&data.instructors, false, all)
            .await
            .map_err(|e| store_failure("instructors.psv", e, |n| n))?;
        report.instructors = Some(s);
    }
    Ok(report)
}

/// How many units the database holds.
pub async fn unit_count(store: &Store) -> anyhow::Result<i64> {
    let one = Paging::new(Some(1), Some(1));
    Ok(store
        .list_entities(&EntityFilter::default(), one, &AccessFilter::unrestricted())
        .await
        .context("counting units")?
        .total)
}

/// How many records of each kind the database holds (units, organizations, instructors).
pub async fn counts(store: &Store) -> anyhow::Result<(i64, i64, i64)> {
    let one = Paging::new(Some(1), Some(1));
    let all = &AccessFilter::unrestricted();
    let e = store.list_entities(&EntityFilter::default(), one, all).await.context("counting units")?.total;
    let o = store.list_organizations(&OrgFilter::default(), one, all).await.context("counting organizations")?.total;
    let i = store.list_instructors(&InstructorFilter::default(), one, all).await.context("counting instructors")?.total;
    Ok((e, o, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dangjian_domain::{EntityKind, OrgKind};

    #[test]
    fn the_dataset_parses_and_is_deterministic() {
        let a = dataset();
        let b = dataset();
        let (Ok(a), Ok(b)) = (a, b) else { panic!("the demo dataset does not parse") };
        assert_eq!(a.entities, b.entities);
        let kinds = |k: EntityKind| a.entities.iter().filter(|(_, d)| d.kind == k).count();
        assert!(kinds(EntityKind::Platform) >= 5);
        assert!(kinds(EntityKind::Site) >= 15);
        assert!(a.entities.iter().any(|(_, d)| d.region_code.as_str() == "659001" && d.kind == EntityKind::Site));
        let sectors: std::collections::HashSet<&String> = a.entities.iter().flat_map(|(_, d)| &d.sectors).collect();
        assert!(sectors.len() >= 6);
        let provinces: std::collections::HashSet<&str> =
            a.entities.iter().map(|(_, d)| &d.region_code.as_str()[..2]).collect();
        assert!(provinces.len() >= 10, "{provinces:?}");
        // Party members are sparse at sites: most have 0–2, a few 3 or more.
        let sites: Vec<i64> =
            a.entities.iter().filter(|(_, d)| d.kind == EntityKind::Site).map(|(_, d)| d.party_members).collect();
        let sparse = sites.iter().filter(|&&m| m <= 2).count();
        assert!(sparse * 4 >= sites.len() * 3 && sparse < sites.len());
        for k in [OrgKind::GrassrootsCommittee, OrgKind::Branch, OrgKind::JointBranch, OrgKind::FloatingBranch] {
            assert!(a.organizations.iter().any(|(_, o)| o.kind == k), "{k:?}");
        }
        assert!(a
            .organizations
            .iter()
            .filter(|(_, o)| o.kind == OrgKind::JointBranch)
            .all(|(_, o)| { (2..=5).contains(&o.units.len()) }));
        assert!(a.instructors.iter().any(|(_, i)| i.assignments.len() > 1));
    }
}
