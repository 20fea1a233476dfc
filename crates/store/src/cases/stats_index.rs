//! The case statistics' in-memory index ([`CaseIndex`]) for one process, kept current from the change
//! feed `case_changes` (written by triggers in the same transaction as every change to a column the
//! statistics read): before answering, a read compares the feed's count and highest number above its
//! low-water mark with what it has applied (one indexed query) and reloads just the cases that changed.
//! A write is therefore reflected by the next read in every process, including writes by another server
//! or by the CLI. The same scheme as the coverage engine's ([`crate::coverage::Coverage`]).

use crate::error::{StoreError, StoreResult};
use crate::Store;
use chrono::DateTime;
use dangjian_domain::services::case_index::{CaseFacts, CaseIndex, RegionPath};
use dangjian_domain::services::cases::CaseStatus;
use dangjian_domain::Message;
use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{RwLock, RwLockReadGuard};

/// Ids per `IN (...)` list.
const CHUNK: usize = 500;

/// A feed older than this is pruned; an index not rebuilt for longer rebuilds (it could have missed
/// pruned changes).
const FEED_RETENTION: Duration = Duration::from_secs(6 * 24 * 3600);

/// How far back (in feed numbers) a catch-up looks again for changes committed out of order
/// (PostgreSQL hands out sequence numbers before commit).
const LATE_WINDOW: i64 = 10_000;

/// More changed cases than this since the last read: rebuild rather than reload them one chunk at a time.
const REBUILD_ABOVE: usize = 50_000;

/// The columns [`facts`] reads.
const FACT_COLUMNS: &str = "id, category, sector, entity_id, region_code, status, ack_due, resolve_due, \
                            escalation_level, rating, created_at, ack_seconds, resolve_seconds";

fn unix_seconds(row: &AnyRow, col: &str) -> StoreResult<i64> {
    let text: String = row.try_get(col)?;
    DateTime::parse_from_rfc3339(&text).map(|t| t.timestamp()).map_err(|_| StoreError::Conflict {
        code: "bad_case_time",
        message: Message::new("conflict.bad_case_time").arg("col", col).arg("text", text),
    })
}

/// A case row as the statistics see it.
fn facts(r: &AnyRow) -> StoreResult<CaseFacts> {
    let status: String = r.try_get("status")?;
    let escalation: i64 = r.try_get("escalation_level")?;
    let rating: Option<i64> = r.try_get("rating")?;
    Ok(CaseFacts {
        id: r.try_get("id")?,
        category: r.try_get("category")?,
        sector: r.try_get("sector")?,
        platform_id: r.try_get("entity_id")?,
        region_code: r.try_get("region_code")?,
        status: CaseStatus::parse(&status).ok_or_else(|| StoreError::Conflict {
            code: "bad_case_status",
            message: Message::new("conflict.bad_case_status").arg("status", status),
        })?,
        created: unix_seconds(r, "created_at")?,
        ack_due: unix_seconds(r, "ack_due")?,
        resolve_due: unix_seconds(r, "resolve_due")?,
        escalated: escalation > 0,
        rating: rating.and_then(|v| u8::try_from(v).ok()),
        ack_seconds: r.try_get("ack_seconds")?,
        resolve_seconds: r.try_get("resolve_seconds")?,
    })
}

impl Store {
    /// Builds a complete case index from the database.
    pub async fn build_case_index(&self) -> StoreResult<CaseIndex> {
        let rows = sqlx::query("SELECT code, path FROM regions").fetch_all(&self.pool).await?;
        let regions = rows
            .iter()
            .map(|r| Ok(RegionPath { code: r.try_get("code")?, path: r.try_get("path")? }))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut index = CaseIndex::new(regions);
        let sql = format!("SELECT {FACT_COLUMNS} FROM cases");
        let mut rows = sqlx::query(&sql).fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            index.upsert(&facts(&r)?);
        }
        Ok(index)
    }

    /// Clears the case change feed and asks every process's case index to rebuild (after cases were
    /// written in bulk).
    pub async fn request_case_index_rebuild(&self) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM case_changes").execute(&mut *tx.tx).await?;
        sqlx::query("INSERT INTO case_changes (case_id) VALUES (NULL)").execute(&mut *tx.tx).await?;
        tx.commit().await
    }

    /// The case index, current with every committed change.
    pub async fn case_index(&self) -> StoreResult<CaseIndexRead<'_>> {
        let freshness = self.case_index.catch_up(self).await?;
        Ok(CaseIndexRead { guard: self.case_index.loaded.read().await, freshness })
    }
}

/// Where a process's index stands in the change feed: count and highest number of the feed's rows
/// above the low-water mark.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct FeedMark {
    count: i64,
    max: i64,
}

fn mark_of(applied: &HashSet<i64>) -> FeedMark {
    FeedMark { count: applied.len() as i64, max: applied.iter().copied().max().unwrap_or(0) }
}

struct Loaded {
    index: CaseIndex,
    mark: FeedMark,
    low: i64,
    /// Feed numbers above `low` already applied.
    applied: HashSet<i64>,
    built_at: Instant,
}

/// How a read found the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Current,
    CaughtUp { changes: usize },
    Rebuilt,
}

/// A store's case index, shared by its clones; built on first use.
#[derive(Clone, Default)]
pub struct CaseIndexCell {
    loaded: Arc<RwLock<Option<Loaded>>>,
}

impl std::fmt::Debug for CaseIndexCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaseIndexCell")
    }
}

/// The index, read-locked and current as of the read.
pub struct CaseIndexRead<'a> {
    guard: RwLockReadGuard<'a, Option<Loaded>>,
    pub freshness: Freshness,
}

impl CaseIndexRead<'_> {
    /// The index (`None` only if it was never built, which [`Store::case_index`] rules out).
    pub fn index(&self) -> Option<&CaseIndex> {
        self.guard.as_ref().map(|l| &l.index)
    }
}

async fn feed_mark(store: &Store, low: i64) -> StoreResult<FeedMark> {
    let row = sqlx::query("SELECT COUNT(*) AS n, COALESCE(MAX(seq), 0) AS m FROM case_changes WHERE seq > $1")
        .bind(low)
        .fetch_one(&store.pool)
        .await?;
    Ok(FeedMark { count: row.try_get("n")?, max: row.try_get("m")? })
}

impl CaseIndexCell {
    /// Applies the changes committed since the last read (or builds the index).
    async fn catch_up(&self, store: &Store) -> StoreResult<Freshness> {
        {
            let guard = self.loaded.read().await;
            if let Some(l) = guard.as_ref() {
                if l.built_at.elapsed() < FEED_RETENTION && feed_mark(store, l.low).await? == l.mark {
                    return Ok(Freshness::Current);
                }
            }
        }
        let mut guard = self.loaded.write().await;
        let stale = guard.as_ref().is_none_or(|l| l.built_at.elapsed() >= FEED_RETENTION);
        if stale {
            *guard = Some(rebuild(store).await?);
            return Ok(Freshness::Rebuilt);
        }
        let Some(l) = guard.as_mut() else { return Ok(Freshness::Rebuilt) };
        let rows = sqlx::query("SELECT seq, case_id FROM case_changes WHERE seq > $1 ORDER BY seq")
            .bind(l.low)
            .fetch_all(&store.pool)
            .await?;
        let mut cases: HashSet<i64> = HashSet::new();
        let mut seqs = Vec::new();
        let mut full = false;
        for r in &rows {
            let seq: i64 = r.try_get("seq")?;
            if l.applied.contains(&seq) {
                continue;
            }
            seqs.push(seq);
            match r.try_get::<Option<i64>, _>("case_id")? {
                Some(id) => {
                    cases.insert(id);
                }
                None => full = true,
            }
        }
        if full || cases.len() > REBUILD_ABOVE {
            *guard = Some(rebuild(store).await?);
            return Ok(Freshness::Rebuilt);
        }
        let n = seqs.len();
        let ids: Vec<i64> = cases.into_iter().collect();
        for chunk in ids.chunks(CHUNK) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let sql = format!("SELECT {FACT_COLUMNS} FROM cases WHERE id IN ({list})");
            let mut present = HashSet::new();
            for r in sqlx::query(&sql).fetch_all(&store.pool).await? {
                let f = facts(&r)?;
                present.insert(f.id);
                l.index.upsert(&f);
            }
            for id in chunk.iter().filter(|id| !present.contains(id)) {
                l.index.remove(*id);
            }
        }
        l.applied.extend(seqs);
        let max = l.applied.iter().copied().max().unwrap_or(l.low);
        // Keep a window behind the newest change for late commits; forget what falls out of it.
        let new_low = (max - LATE_WINDOW).max(l.low);
        l.applied.retain(|&s| s > new_low);
        l.low = new_low;
        l.mark = mark_of(&l.applied);
        Ok(Freshness::CaughtUp { changes: n })
    }
}

async fn rebuild(store: &Store) -> StoreResult<Loaded> {
    let started = Instant::now();
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(FEED_RETENTION).unwrap_or_default();
    let cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Note which changes are in the feed before reading the cases: whatever commits later moves the
    // feed's mark and is applied by the next read (applying a change twice is harmless).
    let top = feed_mark(store, 0).await?.max;
    let low = (top - LATE_WINDOW).max(0);
    let rows = sqlx::query("SELECT seq FROM case_changes WHERE seq > $1").bind(low).fetch_all(&store.pool).await?;
    let applied: HashSet<i64> = rows.iter().map(|r| r.try_get("seq")).collect::<Result<_, _>>()?;
    let mark = mark_of(&applied);
    let index = store.build_case_index().await?;
    // Pruning is housekeeping: a failure (another writer holding the lock) leaves it for the next rebuild.
    if let Ok(mut tx) = store.write_tx().await {
        let _ = sqlx::query("DELETE FROM case_changes WHERE at < $1 AND seq <= $2")
            .bind(cutoff)
            .bind(low)
            .execute(&mut *tx.tx)
            .await;
        let _ = tx.commit().await;
    }
    tracing::info!(cases = index.len(), elapsed_ms = started.elapsed().as_millis() as u64, "case index built");
    Ok(Loaded { index, mark, low, applied, built_at: Instant::now() })
}
