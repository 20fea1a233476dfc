//! Case statistics (issue part 7): cases by category, sector, platform and region; times to acknowledge
//! and to resolve (median and 90th percentile, nearest-rank); overdue and escalated counts; satisfaction.
//!
//! **Who sees what.** Statistics are about where cases happened, not who handles them (that is the
//! inbox's rule, [`crate::access`]): a region scope sees the cases filed in its subtree, whichever
//! department now holds them (escalated or transferred ones included); a sector-in-region scope (a
//! regulator) the cases of its sector filed in its subtree. Chain and organization scopes see none: a
//! platform, its franchisees or a branch at one of them are the party complained about, and with
//! filters down to one day, one township and one unit even a count can single out the worker who
//! complained — so platform committees and branch secretaries get empty statistics, as they get an
//! empty inbox. Nothing personal (description, contact, notes, tracking code) is read here at all.
//!
//! **How.** From the in-memory index ([`crate::cases::stats_index`], kept current from the change feed
//! before every read): the domain's [`dangjian_domain::services::case_index::CaseIndex`] counts the cases
//! the filter and scope select, and the lines are named and ordered here. Durations are the stored whole
//! seconds (`ack_seconds`, `resolve_seconds`), written with the step that sets them.
//! [`Store::case_statistics_sql`] keeps the earlier single SQL query as the comparison for the benchmark
//! and the tests; both give identical statistics.

use crate::access::{path_prefix, AccessFilter};
use crate::error::{StoreError, StoreResult};
use crate::query::Where;
use crate::regions::Region;
use crate::sectors::Sector;
use crate::{DbKind, Store};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone as _, Utc};
use dangjian_domain::access::Scope;
use dangjian_domain::services::case_index::{CaseQuery, ScopePart};
use dangjian_domain::services::case_stats::{figures, CaseCounts, CaseFigures};
use dangjian_domain::services::cases::Category;
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors};
use serde::Serialize;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

impl Store {
    /// The case categories statistics are named and ordered by: the configured list
    /// ([`Store::case_settings`]).
    pub async fn case_categories(&self) -> StoreResult<Vec<Category>> {
        Ok(self.case_settings().await?.categories)
    }
}

/// Which cases to count. Dates are China dates, both ends included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseStatsFilter {
    /// Filed on or after this date.
    pub from: Option<NaiveDate>,
    /// Filed on or before this date.
    pub to: Option<NaiveDate>,
    /// Filed in this region's subtree; absent: the whole country.
    pub region: Option<String>,
    pub category: Option<String>,
    pub sector: Option<String>,
    /// Naming this unit.
    pub platform_id: Option<i64>,
}

/// One line of a grouping: its code (empty for "not given"), its names, its figures.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatsRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub figures: CaseFigures,
}

/// The statistics of the cases a filter selects, inside the reader's scopes.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseStatistics {
    /// The moment "overdue" is judged at (UTC).
    pub at: String,
    pub totals: CaseFigures,
    /// Every category (those with no case too), then any other code found.
    pub by_category: Vec<StatsRow>,
    /// Sectors with cases, in the sectors' order; cases giving none last (code `""`).
    pub by_sector: Vec<StatsRow>,
    /// Units named by cases, most cases first; cases naming none last (code `""`).
    pub by_platform: Vec<StatsRow>,
    /// The children of the selected region (provinces for the whole country) with cases, by code; a
    /// case filed at the selected region itself counts on a line of that region's own code.
    pub by_region: Vec<StatsRow>,
}

/// The counts and durations of one group while summing.
#[derive(Default)]
struct Acc {
    counts: CaseCounts,
    ack: Vec<i64>,
    resolve: Vec<i64>,
}

impl Acc {
    fn finish(mut self) -> CaseFigures {
        figures(&self.counts, &mut self.ack, &mut self.resolve)
    }
}

/// The four groupings and the totals.
#[derive(Default)]
struct Groups {
    total: Acc,
    category: BTreeMap<String, Acc>,
    sector: BTreeMap<Option<String>, Acc>,
    platform: BTreeMap<Option<i64>, Acc>,
    region: BTreeMap<String, Acc>,
}

impl Groups {
    fn each(&mut self, key: Key, mut f: impl FnMut(&mut Acc)) {
        f(&mut self.total);
        f(self.category.entry(key.category).or_default());
        f(self.sector.entry(key.sector).or_default());
        f(self.platform.entry(key.platform).or_default());
        f(self.region.entry(key.child).or_default());
    }
}

/// Where a case falls in each grouping.
struct Key {
    category: String,
    sector: Option<String>,
    platform: Option<i64>,
    /// The child region (code) whose subtree holds the case, or the selected region itself.
    child: String,
}

fn utc_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The first instant of China date `d`, as stored (UTC text).
fn china_midnight(d: NaiveDate) -> String {
    let local = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    utc_text(Utc.from_utc_datetime(&(local - Duration::hours(8))))
}

/// Whether a scope sees any case in the statistics: region and sector-in-region scopes do; chain and
/// organization scopes do not (see the module docs).
pub fn scope_sees_cases(scope: &Scope) -> bool {
    matches!(scope, Scope::Region { .. } | Scope::SectorInRegion { .. })
}

/// The case is inside a scope by where it happened: its region (and sector, for a sector scope).
fn scope_cond(w: &mut Where, scope: &Scope) -> String {
    match scope {
        Scope::Region { path } => {
            let n = w.text(path_prefix(path));
            format!("c.region_code IN (SELECT code FROM regions WHERE path LIKE ${n})")
        }
        Scope::SectorInRegion { sector, path } => {
            let s = w.text(sector.clone());
            let n = w.text(path_prefix(path));
            format!("(c.sector = ${s} AND c.region_code IN (SELECT code FROM regions WHERE path LIKE ${n}))")
        }
        Scope::Chain { .. } | Scope::Organization { .. } => "1 = 0".into(),
    }
}

fn restrict(access: &AccessFilter, w: &mut Where) {
    if access.is_unrestricted() {
        return;
    }
    let parts: Vec<String> = access.scopes().iter().map(|s| scope_cond(w, s)).collect();
    if parts.is_empty() {
        w.cond("1 = 0");
    } else {
        w.cond(format!("({})", parts.join(" OR ")));
    }
}

/// The code of the child region holding the case: the segment of `r.path` after `prefix` (empty when
/// the case is at the selected region itself), computed by the database so that counting can group by it.
fn child_expr(kind: DbKind, prefix: &str) -> String {
    let k = prefix.len() + 1;
    match kind {
        DbKind::Sqlite => format!(
            "CASE WHEN length(r.path) <= {p} THEN '' ELSE substr(r.path, {k}, instr(substr(r.path, {k}), '/') - 1) END",
            p = prefix.len()
        ),
        DbKind::Postgres => format!("split_part(substr(r.path, {k}), '/', 1)"),
    }
}

/// Seconds from `created_at` to `column` (NULL when that is NULL), computed by the database.
fn seconds_since_filed(kind: DbKind, column: &str) -> String {
    match kind {
        // Julian days are doubles good to well under a millisecond here; rounding gives whole seconds.
        DbKind::Sqlite => {
            format!("CAST(round((julianday(c.{column}) - julianday(c.created_at)) * 86400) AS INTEGER)")
        }
        DbKind::Postgres => format!(
            "CAST(EXTRACT(EPOCH FROM (CAST(c.{column} AS TIMESTAMPTZ) - CAST(c.created_at AS TIMESTAMPTZ))) AS BIGINT)"
        ),
    }
}

/// The non-NULL values of `expr` in a group, as one comma-separated text (NULL when there are none): a
/// group's durations come back in one row rather than a row per case.
fn list_of(kind: DbKind, expr: &str) -> String {
    match kind {
        DbKind::Sqlite => format!("group_concat({expr}, ',')"),
        DbKind::Postgres => format!("string_agg(CAST({expr} AS TEXT), ',')"),
    }
}

/// The numbers of a list made by [`list_of`].
fn parse_list(list: Option<String>) -> StoreResult<Vec<i64>> {
    let Some(list) = list else { return Ok(Vec::new()) };
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim().parse::<i64>().map_err(|_| StoreError::Conflict {
                code: "bad_duration",
                message: Message::new("conflict.bad_duration").arg("s", s),
            })
        })
        .collect()
}

fn unknown(field: &str, message: Message) -> FieldError {
    FieldError::new(field, "unknown", message)
}

const NOT_GIVEN_ZH: &str = "未注明";
const NOT_GIVEN_EN: &str = "Not given";

/// A filter checked against what exists: the category list, the sectors and the selected region.
struct Checked {
    categories: Vec<Category>,
    sectors: Vec<Sector>,
    region: Option<Region>,
}

impl Checked {
    /// The selected region's path prefix (`/` for the whole country) and own code (`""` then).
    fn prefix_and_own(&self) -> (String, String) {
        let prefix = self.region.as_ref().map_or_else(|| "/".to_owned(), |r| path_prefix(&r.path).replace('%', ""));
        (prefix, self.region.as_ref().map_or_else(String::new, |r| r.code.clone()))
    }
}

/// The totals and the lines of each grouping with cases, before they are named and ordered.
struct Finished {
    total: CaseFigures,
    category: BTreeMap<String, CaseFigures>,
    sector: BTreeMap<Option<String>, CaseFigures>,
    platform: BTreeMap<Option<i64>, CaseFigures>,
    region: BTreeMap<String, CaseFigures>,
}

/// The figures of a group without cases.
fn no_cases() -> CaseFigures {
    Acc::default().finish()
}

/// Unix seconds of a stored-format time.
fn unix(t: &str) -> i64 {
    DateTime::parse_from_rfc3339(t).map(|t| t.timestamp()).unwrap_or_default()
}

impl Store {
    /// The statistics of the cases `filter` selects inside `access` (see the module docs for what a
    /// scope sees), with "overdue" judged at `now`. A filter naming an unknown region, category, sector
    /// or unit, or a `from` after `to`, is an error naming that field. Counted from the in-memory index
    /// ([`Store::case_index`]), brought up to date first.
    pub async fn case_statistics(
        &self,
        access: &AccessFilter,
        filter: &CaseStatsFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<CaseStatistics> {
        let checked = self.check_stats_filter(filter).await?;
        let (prefix, own) = checked.prefix_and_own();
        let scopes = (!access.is_unrestricted()).then(|| {
            access
                .scopes()
                .iter()
                .filter_map(|s| match s {
                    Scope::Region { path } => {
                        Some(ScopePart { prefix: path_prefix(path).replace('%', ""), sector: None })
                    }
                    Scope::SectorInRegion { sector, path } => {
                        Some(ScopePart { prefix: path_prefix(path).replace('%', ""), sector: Some(sector.clone()) })
                    }
                    Scope::Chain { .. } | Scope::Organization { .. } => None,
                })
                .collect()
        });
        let at = utc_text(now);
        let query = CaseQuery {
            scopes,
            region_prefix: checked.region.as_ref().map(|_| prefix),
            from: filter.from.map(|d| unix(&china_midnight(d))),
            before: filter.to.and_then(|d| d.succ_opt()).map(|d| unix(&china_midnight(d))),
            category: filter.category.clone(),
            sector: filter.sector.clone(),
            platform_id: filter.platform_id,
            now: unix(&at),
        };
        let g = {
            let read = self.case_index().await?;
            match read.index() {
                Some(index) => index.statistics(&query),
                None => return Err(StoreError::NotFound),
            }
        };
        let finished = Finished {
            total: g.total,
            category: g.by_category.into_iter().collect(),
            sector: g.by_sector.into_iter().collect(),
            platform: g.by_platform.into_iter().collect(),
            region: g
                .by_region
                .into_iter()
                .map(|(child, f)| (if child.is_empty() { own.clone() } else { child }, f))
                .collect(),
        };
        self.name_statistics(at, &checked, &own, finished).await
    }

    /// The same statistics by the earlier method, kept as the comparison for the benchmark and the
    /// tests: one SQL query under the scope and the filters, grouped by (category, sector, unit, child
    /// region cut from the region path), that counts in SQL and returns each group's durations as one
    /// comma-separated list (`group_concat` / `string_agg`), computed from the stored text times
    /// (`julianday` / `EXTRACT(EPOCH …)`); percentiles in Rust.
    pub async fn case_statistics_sql(
        &self,
        access: &AccessFilter,
        filter: &CaseStatsFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<CaseStatistics> {
        let checked = self.check_stats_filter(filter).await?;
        let (prefix, own) = checked.prefix_and_own();
        let mut w = Where::default();
        restrict(access, &mut w);
        if checked.region.is_some() {
            let n = w.text(format!("{prefix}%"));
            w.cond(format!("c.region_code IN (SELECT code FROM regions WHERE path LIKE ${n})"));
        }
        if let Some(d) = filter.from {
            let n = w.text(china_midnight(d));
            w.cond(format!("c.created_at >= ${n}"));
        }
        if let Some(d) = filter.to.and_then(|d| d.succ_opt()) {
            let n = w.text(china_midnight(d));
            w.cond(format!("c.created_at < ${n}"));
        }
        if let Some(c) = &filter.category {
            let n = w.text(c.clone());
            w.cond(format!("c.category = ${n}"));
        }
        if let Some(s) = &filter.sector {
            let n = w.text(s.clone());
            w.cond(format!("c.sector = ${n}"));
        }
        if let Some(id) = filter.platform_id {
            let n = w.int(id);
            w.cond(format!("c.entity_id = ${n}"));
        }
        let at = utc_text(now);
        let now_n = w.text(at.clone());
        let from = "FROM cases c JOIN regions r ON r.code = c.region_code";
        let key = |r: &sqlx::any::AnyRow| -> StoreResult<Key> {
            Ok(Key {
                category: r.try_get("category")?,
                sector: r.try_get("sector")?,
                platform: r.try_get("entity_id")?,
                child: Some(r.try_get::<String, _>("child")?).filter(|c| !c.is_empty()).unwrap_or_else(|| own.clone()),
            })
        };

        let kind = self.kind();
        let child = child_expr(kind, &prefix);
        let ratings: String =
            (1..=5).map(|k| format!(", SUM(CASE WHEN c.rating = {k} THEN 1 ELSE 0 END) AS r{k}")).collect();
        let sql = format!(
            "SELECT c.category, c.sector, c.entity_id, {child} AS child, COUNT(*) AS n, \
             SUM(CASE WHEN c.status IN ('submitted', 'acknowledged') THEN 1 ELSE 0 END) AS open, \
             SUM(CASE WHEN c.status IN ('resolved', 'closed') THEN 1 ELSE 0 END) AS resolved, \
             SUM(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END) AS closed, \
             SUM(CASE WHEN (c.status = 'submitted' AND c.ack_due < ${now_n}) \
                  OR (c.status = 'acknowledged' AND c.resolve_due < ${now_n}) THEN 1 ELSE 0 END) AS overdue, \
             SUM(CASE WHEN c.escalation_level > 0 THEN 1 ELSE 0 END) AS escalated{ratings}, \
             {} AS ack_list, {} AS resolve_list \
             {from}{} GROUP BY c.category, c.sector, c.entity_id, {child}",
            list_of(kind, &seconds_since_filed(kind, "acknowledged_at")),
            list_of(kind, &seconds_since_filed(kind, "resolved_at")),
            w.sql()
        );
        let mut groups = Groups::default();
        for r in w.apply(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let k = key(&r)?;
            let mut ratings = [0i64; 5];
            for (i, slot) in ratings.iter_mut().enumerate() {
                *slot = r.try_get(format!("r{}", i + 1).as_str())?;
            }
            let counts = CaseCounts {
                cases: r.try_get("n")?,
                open: r.try_get("open")?,
                resolved: r.try_get("resolved")?,
                closed: r.try_get("closed")?,
                overdue: r.try_get("overdue")?,
                escalated: r.try_get("escalated")?,
                ratings,
            };
            let ack = parse_list(r.try_get("ack_list")?)?;
            let resolve = parse_list(r.try_get("resolve_list")?)?;
            groups.each(k, |a| {
                a.counts.add(&counts);
                a.ack.extend_from_slice(&ack);
                a.resolve.extend_from_slice(&resolve);
            });
        }
        fn done<K: Ord>(m: BTreeMap<K, Acc>) -> BTreeMap<K, CaseFigures> {
            m.into_iter().map(|(k, a)| (k, a.finish())).collect()
        }
        let finished = Finished {
            total: groups.total.finish(),
            category: done(groups.category),
            sector: done(groups.sector),
            platform: done(groups.platform),
            region: done(groups.region),
        };
        self.name_statistics(at, &checked, &own, finished).await
    }

    /// Checks a filter's names and dates; every problem is an error naming its field.
    async fn check_stats_filter(&self, filter: &CaseStatsFilter) -> StoreResult<Checked> {
        let categories = self.case_categories().await?;
        let sectors = self.list_sectors().await?;
        let mut errs = FieldErrors::default();
        let region = match &filter.region {
            Some(code) => match self.region(code).await {
                Ok(r) => Some(r),
                Err(StoreError::NotFound) => {
                    errs.0.push(unknown("region", Message::new("problem.unknown.region_code").arg("code", code)));
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        if let Some(c) = &filter.category {
            if !categories.iter().any(|k| &k.code == c) {
                errs.0.push(unknown("category", Message::new("problem.unknown.category_code").arg("code", c)));
            }
        }
        if let Some(s) = &filter.sector {
            if !sectors.iter().any(|k| &k.code == s) {
                errs.0.push(unknown("sector", Message::new("problem.unknown.sector_code").arg("code", s)));
            }
        }
        if let Some(id) = filter.platform_id {
            if self.unit_labels(&[id]).await?.is_empty() {
                errs.0.push(unknown("platform_id", Message::new("problem.unknown.unit")));
            }
        }
        if let (Some(f), Some(t)) = (filter.from, filter.to) {
            if f > t {
                errs.0.push(FieldError::new("to", "before_from", Message::new("problem.before_from")));
            }
        }
        errs.into_result()?;
        Ok(Checked { categories, sectors, region })
    }

    /// Names and orders the lines of each grouping (see [`CaseStatistics`]).
    async fn name_statistics(
        &self,
        at: String,
        checked: &Checked,
        own: &str,
        mut groups: Finished,
    ) -> StoreResult<CaseStatistics> {
        let mut by_category: Vec<StatsRow> = Vec::new();
        for c in &checked.categories {
            let figures = groups.category.remove(&c.code).unwrap_or_else(no_cases);
            by_category.push(StatsRow {
                code: c.code.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                figures,
            });
        }
        for (code, figures) in std::mem::take(&mut groups.category) {
            by_category.push(StatsRow { name_zh: code.clone(), name_en: code.clone(), code, figures });
        }

        let mut by_sector = Vec::new();
        for s in &checked.sectors {
            if let Some(figures) = groups.sector.remove(&Some(s.code.clone())) {
                by_sector.push(StatsRow {
                    code: s.code.clone(),
                    name_zh: s.name_zh.clone(),
                    name_en: s.name_en.clone(),
                    figures,
                });
            }
        }
        for (code, figures) in std::mem::take(&mut groups.sector) {
            let (code, zh, en) = match code {
                Some(c) => (c.clone(), c.clone(), c),
                None => (String::new(), NOT_GIVEN_ZH.to_owned(), NOT_GIVEN_EN.to_owned()),
            };
            by_sector.push(StatsRow { code, name_zh: zh, name_en: en, figures });
        }

        let ids: Vec<i64> = groups.platform.keys().flatten().copied().collect();
        let labels = self.unit_labels(&ids).await?;
        let mut by_platform: Vec<StatsRow> = std::mem::take(&mut groups.platform)
            .into_iter()
            .map(|(id, figures)| {
                let (code, zh, en) = match id {
                    Some(id) => {
                        let name = labels.get(&id).map_or_else(|| id.to_string(), |l| l.name.clone());
                        (id.to_string(), name.clone(), name)
                    }
                    None => (String::new(), NOT_GIVEN_ZH.to_owned(), NOT_GIVEN_EN.to_owned()),
                };
                StatsRow { code, name_zh: zh, name_en: en, figures }
            })
            .collect();
        by_platform.sort_by(|a, b| {
            (a.code.is_empty(), -a.figures.cases, &a.name_zh).cmp(&(b.code.is_empty(), -b.figures.cases, &b.name_zh))
        });

        let codes: Vec<String> = groups.region.keys().cloned().collect();
        let names: HashMap<String, String> = self.region_names(&codes).await?;
        let by_region = std::mem::take(&mut groups.region)
            .into_iter()
            .map(|(code, figures)| {
                let name = names.get(&code).cloned().unwrap_or_else(|| code.clone());
                let (zh, en) = if code == own {
                    (format!("{name}（本级）"), format!("{name} (itself)"))
                } else {
                    (name.clone(), name)
                };
                StatsRow { code, name_zh: zh, name_en: en, figures }
            })
            .collect();

        Ok(CaseStatistics { at, totals: groups.total, by_category, by_sector, by_platform, by_region })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_dates_start_at_four_in_the_afternoon_utc() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
        assert_eq!(china_midnight(d), "2026-11-26T16:00:00Z");
    }

    #[test]
    fn scopes_reach_cases_by_where_they_happened() {
        let mut w = Where::default();
        restrict(&AccessFilter::nothing(), &mut w);
        assert_eq!(w.sql(), " WHERE 1 = 0");
        let mut w = Where::default();
        restrict(&AccessFilter::unrestricted(), &mut w);
        assert_eq!(w.sql(), "");
        let mut w = Where::default();
        let access = AccessFilter::new([
            Scope::Region { path: "/44/".into() },
            Scope::SectorInRegion { sector: "courier".into(), path: "/33/".into() },
            Scope::Chain { root_id: 1 },
        ]);
        restrict(&access, &mut w);
        let inside = |n: u8| format!("c.region_code IN (SELECT code FROM regions WHERE path LIKE ${n})");
        assert_eq!(w.sql(), format!(" WHERE ({} OR (c.sector = $2 AND {}) OR 1 = 0)", inside(1), inside(3)));
    }
}
