//! The coverage engine's data: everything [`CoverageIndex`] needs, read in bulk at start and record by
//! record afterwards from the change feed (`coverage_changes`, written by triggers in the same
//! transaction as each change), and [`Coverage`], which keeps one index current for a process.
//!
//! [`baseline`] holds the straightforward SQL the engine is checked and benchmarked against.

pub mod baseline;
pub mod labels;

use crate::error::StoreResult;
use crate::Store;
use chrono::NaiveDate;
use dangjian_domain::coverage::index::{AssignmentInput, CoverageIndex, OrgInput, RegionInput, UnitInput};
use dangjian_domain::coverage::rules::RuleSet;
use dangjian_domain::{EntityKind, OrgKind, RegionLevel};
use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{RwLock, RwLockReadGuard};

/// The setting holding the coverage rules as JSON ([`RuleSet::from_json`]); absent: the defaults.
pub const RULES_SETTING: &str = "coverage_rules";

/// Ids per `IN (...)` list.
const CHUNK: usize = 500;

/// A change feed older than this is pruned; an index not rebuilt for longer rebuilds (it could have
/// missed pruned changes).
const FEED_RETENTION: Duration = Duration::from_secs(6 * 24 * 3600);

/// How far back (in feed numbers) a catch-up looks again for changes committed out of order
/// (PostgreSQL hands out sequence numbers before commit).
const LATE_WINDOW: i64 = 10_000;

fn date(row: &AnyRow, col: &str) -> StoreResult<Option<NaiveDate>> {
    let text: Option<&str> = row.try_get(col)?;
    Ok(text.and_then(parse_day))
}

/// A `YYYY-MM-DD` date, read without a format string (a million of them at start-up).
fn parse_day(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| {
            b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        return NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

const ORG_COLUMNS: &str =
    "SELECT id, kind, parent_id, region_code, established_on, dissolved_on, term_start, term_end FROM organizations";

fn unit_of(r: &AnyRow) -> StoreResult<UnitInput> {
    let kind: &str = r.try_get("kind")?;
    Ok(UnitInput {
        id: r.try_get("id")?,
        region_code: r.try_get("region_code")?,
        kind: EntityKind::parse(kind).unwrap_or(EntityKind::Site),
        root_id: r.try_get("root_id")?,
        sectors: Vec::new(),
        members: count(r, "party_members")?,
        workers: count(r, "workers")?,
        established: date(r, "established_on")?,
        closed: date(r, "closed_on")?,
    })
}

fn org_of(r: &AnyRow) -> StoreResult<OrgInput> {
    let kind: &str = r.try_get("kind")?;
    Ok(OrgInput {
        id: r.try_get("id")?,
        kind: OrgKind::parse(kind).unwrap_or(OrgKind::Branch),
        parent_id: r.try_get("parent_id")?,
        region_code: r.try_get("region_code")?,
        established: date(r, "established_on")?,
        dissolved: date(r, "dissolved_on")?,
        term_start: date(r, "term_start")?,
        term_end: date(r, "term_end")?,
        units: Vec::new(),
    })
}

/// A spawned read's result.
async fn joined<T>(task: tokio::task::JoinHandle<StoreResult<T>>) -> StoreResult<T> {
    task.await.map_err(|e| crate::error::StoreError::Task(format!("reading for the coverage index: {e}")))?
}

/// Where a full build's time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildTimes {
    /// Reading the tables.
    pub read: Duration,
    /// Putting the index together (and today's partial sums).
    pub build: Duration,
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn count(row: &AnyRow, col: &str) -> StoreResult<u32> {
    let v: i64 = row.try_get(col)?;
    Ok(u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

impl Store {
    /// Every region, for the index.
    pub async fn coverage_regions(&self) -> StoreResult<Vec<RegionInput>> {
        let rows =
            sqlx::query("SELECT code, name, level, parent_code, path FROM regions").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let level: String = r.try_get("level")?;
                Ok(RegionInput {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    level: RegionLevel::parse(&level).unwrap_or(RegionLevel::Township),
                    parent_code: r.try_get("parent_code")?,
                    path: r.try_get("path")?,
                })
            })
            .collect()
    }

    /// The sector codes in display order.
    pub async fn coverage_sector_codes(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT code FROM sectors ORDER BY position, code").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(r.try_get("code")?)).collect()
    }

    /// The coverage rules in force: the `coverage_rules` setting, else the defaults. A setting that does
    /// not parse is reported and the defaults used (the settings page refuses such values).
    pub async fn coverage_rules(&self) -> StoreResult<RuleSet> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(RULES_SETTING)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(RuleSet::default()) };
        let text: String = row.try_get("value")?;
        Ok(RuleSet::from_json(&text).unwrap_or_else(|e| {
            tracing::error!(error = %e, "coverage rules setting ignored");
            RuleSet::default()
        }))
    }

    /// Units (all, or those of `ids`) with their sectors.
    pub async fn coverage_units(&self, ids: Option<&[i64]>) -> StoreResult<Vec<UnitInput>> {
        let mut out = Vec::new();
        let mut sectors: HashMap<i64, Vec<String>> = HashMap::new();
        for chunk in chunks(ids) {
            let cond = chunk.map(|c| format!(" WHERE id IN ({})", id_list(c))).unwrap_or_default();
            let sql = format!(
                "SELECT id, region_code, kind, root_id, party_members, workers, established_on, closed_on FROM entities{cond}"
            );
            let mut rows = sqlx::query(&sql).fetch(&self.pool);
            while let Some(r) = rows.try_next().await? {
                out.push(unit_of(&r)?);
            }
            drop(rows);
            let cond = chunk.map(|c| format!(" WHERE entity_id IN ({})", id_list(c))).unwrap_or_default();
            let sql = format!("SELECT entity_id, sector_code FROM entity_sectors{cond}");
            let mut rows = sqlx::query(&sql).fetch(&self.pool);
            while let Some(r) = rows.try_next().await? {
                sectors.entry(r.try_get("entity_id")?).or_default().push(r.try_get("sector_code")?);
            }
        }
        for u in &mut out {
            if let Some(mut s) = sectors.remove(&u.id) {
                s.sort();
                u.sectors = s;
            }
        }
        Ok(out)
    }

    /// Organizations (all, or those of `ids`) with their units.
    pub async fn coverage_orgs(&self, ids: Option<&[i64]>) -> StoreResult<Vec<OrgInput>> {
        let mut out = Vec::new();
        let mut units: HashMap<i64, Vec<(i64, bool)>> = HashMap::new();
        for chunk in chunks(ids) {
            let cond = chunk.map(|c| format!(" WHERE id IN ({})", id_list(c))).unwrap_or_default();
            let sql = format!("{ORG_COLUMNS}{cond}");
            let mut rows = sqlx::query(&sql).fetch(&self.pool);
            while let Some(r) = rows.try_next().await? {
                out.push(org_of(&r)?);
            }
            drop(rows);
            let cond = chunk.map(|c| format!(" WHERE organization_id IN ({})", id_list(c))).unwrap_or_default();
            let sql = format!("SELECT organization_id, entity_id, via_chain FROM organization_units{cond}");
            let mut rows = sqlx::query(&sql).fetch(&self.pool);
            while let Some(r) = rows.try_next().await? {
                let via_chain: i64 = r.try_get("via_chain")?;
                units.entry(r.try_get("organization_id")?).or_default().push((r.try_get("entity_id")?, via_chain != 0));
            }
        }
        for o in &mut out {
            if let Some(mut u) = units.remove(&o.id) {
                u.sort_unstable();
                o.units = u;
            }
        }
        Ok(out)
    }

    /// Instructor assignments (all, or those of the units `entity_ids`).
    pub async fn coverage_assignments(&self, entity_ids: Option<&[i64]>) -> StoreResult<Vec<AssignmentInput>> {
        let mut out = Vec::new();
        for chunk in chunks(entity_ids) {
            let cond = chunk.map(|c| format!(" WHERE entity_id IN ({})", id_list(c))).unwrap_or_default();
            let sql = format!("SELECT instructor_id, entity_id, start_on, end_on FROM instructor_assignments{cond}");
            let mut rows = sqlx::query(&sql).fetch(&self.pool);
            while let Some(r) = rows.try_next().await? {
                let Some(start) = date(&r, "start_on")? else { continue };
                out.push(AssignmentInput {
                    instructor_id: r.try_get("instructor_id")?,
                    entity_id: r.try_get("entity_id")?,
                    start,
                    end: date(&r, "end_on")?,
                });
            }
        }
        Ok(out)
    }

    /// Builds a complete index from the database.
    pub async fn build_coverage_index(&self) -> StoreResult<CoverageIndex> {
        Ok(self.build_coverage_index_for(None).await?.0)
    }

    /// Builds a complete index from the database, with partial sums for `day` if given. The five
    /// registry tables are read side by side, each on its own connection and task, and the index is put
    /// together off the async threads, so that a server answers other requests meanwhile.
    pub async fn build_coverage_index_for(&self, day: Option<NaiveDate>) -> StoreResult<(CoverageIndex, BuildTimes)> {
        let started = Instant::now();
        let regions = self.coverage_regions().await?;
        let sector_codes = self.coverage_sector_codes().await?;
        let rules = self.coverage_rules().await?;
        let (a, b, c, d, e) = (self.clone(), self.clone(), self.clone(), self.clone(), self.clone());
        let units = tokio::spawn(async move { a.bulk_units().await });
        let sectors = tokio::spawn(async move { b.bulk_unit_sectors().await });
        let orgs = tokio::spawn(async move { c.bulk_orgs().await });
        let org_units = tokio::spawn(async move { d.bulk_org_units().await });
        let assignments = tokio::spawn(async move { e.coverage_assignments(None).await });
        let mut units = joined(units).await?;
        let mut sectors = joined(sectors).await?;
        let mut orgs = joined(orgs).await?;
        let org_units = joined(org_units).await?;
        let assignments = joined(assignments).await?;
        let read = started.elapsed();
        let built = Instant::now();
        let index = tokio::task::spawn_blocking(move || {
            // Both lists come in id order from their primary keys; sort anyway (cheap when sorted).
            units.sort_unstable_by_key(|u| u.id);
            sectors.sort_unstable();
            let mut next = 0;
            for u in &mut units {
                while next < sectors.len() && sectors[next].0 < u.id {
                    next += 1;
                }
                while next < sectors.len() && sectors[next].0 == u.id {
                    u.sectors.push(std::mem::take(&mut sectors[next].1));
                    next += 1;
                }
                u.sectors.sort();
            }
            drop(sectors);
            let mut index = CoverageIndex::new(regions, sector_codes, rules);
            index.load_units(units);
            let mut by_unit: HashMap<i64, Vec<AssignmentInput>> = HashMap::new();
            for a in assignments {
                by_unit.entry(a.entity_id).or_default().push(a);
            }
            for (unit, list) in by_unit {
                index.set_assignments(unit, &list);
            }
            let mut by_org: HashMap<i64, Vec<(i64, bool)>> = HashMap::new();
            for (o, u, chain) in org_units {
                by_org.entry(o).or_default().push((u, chain));
            }
            for o in &mut orgs {
                if let Some(mut u) = by_org.remove(&o.id) {
                    u.sort_unstable();
                    o.units = u;
                }
            }
            for o in orgs {
                index.upsert_org(o);
            }
            index.compact_links();
            if let Some(day) = day {
                index.prepare_day(day);
            }
            index
        })
        .await
        .map_err(|e| crate::error::StoreError::Task(format!("building the coverage index: {e}")))?;
        Ok((index, BuildTimes { read, build: built.elapsed() }))
    }

    /// Every unit, without sectors.
    async fn bulk_units(&self) -> StoreResult<Vec<UnitInput>> {
        let mut out = Vec::new();
        let mut rows = sqlx::query(
            "SELECT id, region_code, kind, root_id, party_members, workers, established_on, closed_on FROM entities",
        )
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            out.push(unit_of(&r)?);
        }
        Ok(out)
    }

    /// Every (unit, sector) pair.
    async fn bulk_unit_sectors(&self) -> StoreResult<Vec<(i64, String)>> {
        let mut out = Vec::new();
        let mut rows = sqlx::query("SELECT entity_id, sector_code FROM entity_sectors").fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            out.push((r.try_get(0)?, r.try_get(1)?));
        }
        Ok(out)
    }

    /// Every organization, without units.
    async fn bulk_orgs(&self) -> StoreResult<Vec<OrgInput>> {
        let mut out = Vec::new();
        let mut rows = sqlx::query(ORG_COLUMNS).fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            out.push(org_of(&r)?);
        }
        Ok(out)
    }

    /// Every (organization, unit, covered through the chain) triple.
    async fn bulk_org_units(&self) -> StoreResult<Vec<(i64, i64, bool)>> {
        let mut out = Vec::new();
        let mut rows =
            sqlx::query("SELECT organization_id, entity_id, via_chain FROM organization_units").fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            let via_chain: i64 = r.try_get(2)?;
            out.push((r.try_get(0)?, r.try_get(1)?, via_chain != 0));
        }
        Ok(out)
    }

    /// Clears the change feed and asks every process's index to rebuild (after a bulk load).
    pub async fn request_coverage_rebuild(&self) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM coverage_changes").execute(&mut *tx.tx).await?;
        sqlx::query("INSERT INTO coverage_changes (entity_id, organization_id) VALUES (NULL, NULL)")
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }
}

/// `None` once (everything), or the ids in chunks.
fn chunks(ids: Option<&[i64]>) -> Vec<Option<&[i64]>> {
    match ids {
        None => vec![None],
        Some(ids) => ids.chunks(CHUNK).map(Some).collect(),
    }
}

/// Where a process's index stands in the change feed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct FeedMark {
    /// Count and highest number of the feed's rows above `low`.
    count: i64,
    max: i64,
}

struct Loaded {
    index: CoverageIndex,
    mark: FeedMark,
    low: i64,
    /// Feed numbers above `low` already applied.
    applied: HashSet<i64>,
    built_at: Instant,
}

/// The mark of a fully applied feed above `low`.
fn mark_of(applied: &HashSet<i64>) -> FeedMark {
    FeedMark { count: applied.len() as i64, max: applied.iter().copied().max().unwrap_or(0) }
}

/// Today's date for the partial sums the index keeps (China time unless told otherwise).
pub type Today = Arc<dyn Fn() -> NaiveDate + Send + Sync>;

/// One process's coverage index, kept current from the change feed before every read, with partial
/// sums kept for today ([`CoverageIndex::prepare_day`]).
#[derive(Clone)]
pub struct Coverage {
    store: Store,
    loaded: Arc<RwLock<Option<Loaded>>>,
    today: Today,
    build: Arc<std::sync::Mutex<BuildState>>,
    /// Held by [`Coverage::hold_builds`]; a full build passes it first.
    gate: Arc<RwLock<()>>,
    patience: Duration,
}

/// Whether a full build runs, since when, and how long the last one took.
#[derive(Debug, Default)]
struct BuildState {
    running_since: Option<Instant>,
    last: Option<Duration>,
    times: Option<BuildTimes>,
}

/// How long a reader is told to wait when no build has finished yet to go by.
const FIRST_BUILD_GUESS: Duration = Duration::from_secs(10);

/// How long [`Coverage::read_if_ready`] waits for the index lock at a time.
const LOCK_PATIENCE: Duration = Duration::from_millis(500);

/// How long [`Coverage::read_if_ready`] waits for a full build (a small database's takes less).
const BUILD_PATIENCE: Duration = Duration::from_secs(2);

/// A read that does not wait long for a full build.
pub enum ReadIfReady<'a> {
    Ready(CoverageRead<'a>),
    /// A full build runs (started by this call if none did); try again after about this long.
    Building {
        retry_after: Duration,
    },
}

/// Marks a full build as running until dropped.
struct Running<'a>(&'a std::sync::Mutex<BuildState>, Instant);

impl<'a> Running<'a> {
    fn start(state: &'a std::sync::Mutex<BuildState>) -> Self {
        let now = Instant::now();
        if let Ok(mut s) = state.lock() {
            s.running_since.get_or_insert(now);
        }
        Self(state, now)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.lock() {
            s.running_since = None;
            s.last = Some(self.1.elapsed());
        }
    }
}

/// Today in China (UTC+8), the date the pages default to.
fn china_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// How a read found the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Current,
    CaughtUp { changes: usize },
    Rebuilt,
}

/// The index, read-locked and current as of the read.
pub struct CoverageRead<'a> {
    guard: RwLockReadGuard<'a, Option<Loaded>>,
    pub freshness: Freshness,
}

/// Which state of the index a read saw: equal versions mean no change was applied in between, so an
/// answer computed from one read holds for the other (for caches of costly answers, like trends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexVersion {
    built_at: Instant,
    low: i64,
    mark: FeedMark,
}

impl CoverageRead<'_> {
    /// The state of the index this read sees.
    pub fn version(&self) -> Option<IndexVersion> {
        self.guard.as_ref().map(|l| IndexVersion { built_at: l.built_at, low: l.low, mark: l.mark })
    }
}

impl std::ops::Deref for CoverageRead<'_> {
    type Target = CoverageIndex;
    fn deref(&self) -> &CoverageIndex {
        match self.guard.as_ref() {
            Some(l) => &l.index,
            // `read` returns only after loading.
            None => unreachable_index(),
        }
    }
}

/// The lock, waiting at most `patience` if given.
async fn lock<G>(patience: Option<Duration>, acquire: impl std::future::Future<Output = G>) -> Option<G> {
    match patience {
        None => Some(acquire.await),
        Some(p) => tokio::time::timeout(p, acquire).await.ok(),
    }
}

fn unreachable_index() -> &'static CoverageIndex {
    static EMPTY: std::sync::OnceLock<CoverageIndex> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| CoverageIndex::new(Vec::new(), Vec::new(), RuleSet::default()))
}

impl Coverage {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            loaded: Arc::new(RwLock::new(None)),
            today: Arc::new(china_today),
            build: Default::default(),
            gate: Default::default(),
            patience: BUILD_PATIENCE,
        }
    }

    /// The same, keeping partial sums for the day `today` gives (e.g. from the server's clock).
    pub fn with_today(mut self, today: impl Fn() -> NaiveDate + Send + Sync + 'static) -> Self {
        self.today = Arc::new(today);
        self
    }

    /// Where the last full build's time went.
    pub fn last_build_times(&self) -> Option<BuildTimes> {
        self.build.lock().ok()?.times
    }

    /// How long until a running full build is likely done, or `None` if none runs.
    pub fn building(&self) -> Option<Duration> {
        let s = self.build.lock().ok()?;
        let since = s.running_since?;
        let expected = s.last.unwrap_or(FIRST_BUILD_GUESS);
        Some(expected.saturating_sub(since.elapsed()).max(Duration::from_secs(1)))
    }

    /// Starts a full build in the background unless one runs (at start-up, and when a reader finds the
    /// index must be rebuilt). Readers through [`Coverage::read_if_ready`] are told to come back
    /// meanwhile; other pages are not held up.
    pub fn start_building(&self) {
        {
            let Ok(mut s) = self.build.lock() else { return };
            if s.running_since.is_some() {
                return;
            }
            s.running_since = Some(Instant::now());
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.catch_up().await {
                tracing::error!(error = %e, "building the coverage index failed; it is retried at the next read");
            }
            if let Ok(mut s) = this.build.lock() {
                s.running_since = None;
            }
        });
    }

    /// The index, current with every committed change — unless it needs a full build that does not
    /// finish within the build patience (2 s unless [`Coverage::with_build_patience`]): then the build
    /// goes on in the background and the caller is told about how long to wait.
    pub async fn read_if_ready(&self) -> StoreResult<ReadIfReady<'_>> {
        let deadline = Instant::now() + self.patience;
        loop {
            if self.building().is_none() {
                if let Some(freshness) = self.catch_up_with(Some(LOCK_PATIENCE)).await? {
                    if let Ok(guard) = tokio::time::timeout(LOCK_PATIENCE, self.loaded.read()).await {
                        if guard.is_some() {
                            return Ok(ReadIfReady::Ready(CoverageRead { guard, freshness }));
                        }
                    }
                }
                self.start_building();
            }
            if Instant::now() >= deadline {
                return Ok(ReadIfReady::Building { retry_after: self.building().unwrap_or(Duration::from_secs(1)) });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How long [`Coverage::read_if_ready`] waits for a full build before answering "still building".
    pub fn with_build_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// Makes full builds wait until the returned hold is dropped (for tests of what readers see
    /// meanwhile; a build already running is waited for first).
    pub async fn hold_builds(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.gate.clone().write_owned().await
    }

    async fn feed_mark(&self, low: i64) -> StoreResult<FeedMark> {
        let row = sqlx::query("SELECT COUNT(*) AS n, COALESCE(MAX(seq), 0) AS m FROM coverage_changes WHERE seq > $1")
            .bind(low)
            .fetch_one(&self.store.pool)
            .await?;
        Ok(FeedMark { count: row.try_get("n")?, max: row.try_get("m")? })
    }

    /// The index, current with every committed change.
    pub async fn read(&self) -> StoreResult<CoverageRead<'_>> {
        let freshness = self.catch_up().await?;
        Ok(CoverageRead { guard: self.loaded.read().await, freshness })
    }

    /// Applies the changes committed since the last read (or builds the index).
    pub async fn catch_up(&self) -> StoreResult<Freshness> {
        Ok(self.catch_up_with(None).await?.unwrap_or(Freshness::Rebuilt))
    }

    /// [`Coverage::catch_up`]; with `patience`, a lock not had within it or a full build needed is
    /// `None` instead (the build is left to [`Coverage::start_building`]).
    async fn catch_up_with(&self, patience: Option<Duration>) -> StoreResult<Option<Freshness>> {
        let today = (self.today)();
        {
            let Some(guard) = lock(patience, self.loaded.read()).await else { return Ok(None) };
            if let Some(l) = guard.as_ref() {
                if l.built_at.elapsed() < FEED_RETENTION
                    && l.index.prepared_day() == Some(today)
                    && self.feed_mark(l.low).await? == l.mark
                {
                    return Ok(Some(Freshness::Current));
                }
            }
        }
        let Some(mut guard) = lock(patience, self.loaded.write()).await else { return Ok(None) };
        let stale = guard.as_ref().is_none_or(|l| l.built_at.elapsed() >= FEED_RETENTION);
        if stale {
            if patience.is_some() {
                return Ok(None);
            }
            let _running = Running::start(&self.build);
            *guard = Some(self.rebuild(today).await?);
            return Ok(Some(Freshness::Rebuilt));
        }
        let Some(l) = guard.as_mut() else { return Ok(None) };
        let rows =
            sqlx::query("SELECT seq, entity_id, organization_id FROM coverage_changes WHERE seq > $1 ORDER BY seq")
                .bind(l.low)
                .fetch_all(&self.store.pool)
                .await?;
        let mut units: HashSet<i64> = HashSet::new();
        let mut orgs: HashSet<i64> = HashSet::new();
        let mut seqs = Vec::new();
        let mut rebuild = false;
        for r in &rows {
            let seq: i64 = r.try_get("seq")?;
            if l.applied.contains(&seq) {
                continue;
            }
            seqs.push(seq);
            let e: Option<i64> = r.try_get("entity_id")?;
            let o: Option<i64> = r.try_get("organization_id")?;
            match (e, o) {
                (None, None) => rebuild = true,
                _ => {
                    units.extend(e);
                    orgs.extend(o);
                }
            }
        }
        if rebuild || units.len() + orgs.len() > 50_000 {
            if patience.is_some() {
                return Ok(None);
            }
            let _running = Running::start(&self.build);
            *guard = Some(self.rebuild(today).await?);
            return Ok(Some(Freshness::Rebuilt));
        }
        let n = seqs.len();
        self.apply(&mut l.index, units, orgs).await?;
        l.applied.extend(seqs);
        let max = l.applied.iter().copied().max().unwrap_or(l.low);
        // Keep a window behind the newest change for late commits; forget what falls out of it.
        let new_low = (max - LATE_WINDOW).max(l.low);
        l.applied.retain(|&s| s > new_low);
        l.low = new_low;
        l.mark = mark_of(&l.applied);
        if l.index.prepared_day() != Some(today) {
            l.index.prepare_day(today);
        }
        Ok(Some(Freshness::CaughtUp { changes: n }))
    }

    async fn rebuild(&self, today: NaiveDate) -> StoreResult<Loaded> {
        let _gate = self.gate.read().await;
        let started = Instant::now();
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(FEED_RETENTION).unwrap_or_default();
        let cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        // Note which changes are in the feed before reading the data: whatever commits later moves the
        // feed's mark and is applied by the next read (applying a change twice is harmless).
        let top = self.feed_mark(0).await?.max;
        let low = (top - LATE_WINDOW).max(0);
        let rows = sqlx::query("SELECT seq FROM coverage_changes WHERE seq > $1")
            .bind(low)
            .fetch_all(&self.store.pool)
            .await?;
        let applied: HashSet<i64> = rows.iter().map(|r| r.try_get("seq")).collect::<Result<_, _>>()?;
        let mark = mark_of(&applied);
        let (index, times) = self.store.build_coverage_index_for(Some(today)).await?;
        if let Ok(mut tx) = self.store.write_tx().await {
            let _ = sqlx::query("DELETE FROM coverage_changes WHERE at < $1 AND seq <= $2")
                .bind(cutoff)
                .bind(low)
                .execute(&mut *tx.tx)
                .await;
            let _ = tx.commit().await;
        }
        let (units, orgs) = index.len();
        tracing::info!(
            units,
            orgs,
            elapsed_ms = started.elapsed().as_millis() as u64,
            read_ms = times.read.as_millis() as u64,
            build_ms = times.build.as_millis() as u64,
            "coverage index built"
        );
        if let Ok(mut s) = self.build.lock() {
            s.times = Some(times);
        }
        Ok(Loaded { index, mark, low, applied, built_at: Instant::now() })
    }

    /// Reloads the changed units and organizations into `index`.
    async fn apply(&self, index: &mut CoverageIndex, units: HashSet<i64>, orgs: HashSet<i64>) -> StoreResult<()> {
        let org_ids: Vec<i64> = orgs.into_iter().collect();
        let fresh_orgs = self.store.coverage_orgs(Some(&org_ids)).await?;
        let mut unit_ids: HashSet<i64> = units;
        for o in &fresh_orgs {
            unit_ids.extend(o.units.iter().map(|(u, _)| *u));
        }
        let unit_ids: Vec<i64> = unit_ids.into_iter().collect();
        let fresh_units = self.store.coverage_units(Some(&unit_ids)).await?;
        let present: HashSet<i64> = fresh_units.iter().map(|u| u.id).collect();
        for u in fresh_units {
            index.upsert_unit(u);
        }
        let mut by_unit: HashMap<i64, Vec<AssignmentInput>> = unit_ids.iter().map(|&u| (u, Vec::new())).collect();
        for a in self.store.coverage_assignments(Some(&unit_ids)).await? {
            by_unit.entry(a.entity_id).or_default().push(a);
        }
        for (u, list) in by_unit {
            index.set_assignments(u, &list);
        }
        let present_orgs: HashSet<i64> = fresh_orgs.iter().map(|o| o.id).collect();
        for o in fresh_orgs {
            index.upsert_org(o);
        }
        for id in org_ids.iter().filter(|id| !present_orgs.contains(id)) {
            index.remove_org(*id);
        }
        for id in unit_ids.iter().filter(|id| !present.contains(id)) {
            index.remove_unit(*id);
        }
        Ok(())
    }
}
