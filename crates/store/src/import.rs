//! One import driver for every kind of record (units, organizations, instructors, stations).
//!
//! The driver orders the rows (parents before children), splits them into chunks, and per chunk looks
//! up every key of the chunk in one query, checks scope for the chunk in one query, lets the kind check
//! and write each row (a kind may defer its inserts to one multi-row statement per chunk), and collects
//! every row's errors — the first [`MAX_REPORTED_ERRORS`] by row, with the count of all. It writes inside
//! one transaction, committed only when no row has an error and it is not a dry run: all or nothing.

use crate::access::{not_yours, AccessFilter, Rows};
use crate::db::WriteTx;
use crate::error::{StoreError, StoreResult};
use crate::{DbKind, ImportSummary, Outcome, Store};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors, Firsts, MAX_REPORTED_ERRORS};
use std::collections::{HashMap, HashSet};
use std::future::Future;

/// Rows per chunk: one key look-up, one scope check and (for units) one multi-row insert each.
pub(crate) const CHUNK_ROWS: usize = 5000;

/// The rows' errors an import reports: the first [`MAX_REPORTED_ERRORS`] by row (1-based row numbers as
/// given), and how many there were in all.
#[derive(Debug, Clone, Default)]
pub struct RowErrors {
    pub errors: Vec<(usize, FieldError)>,
    pub total: usize,
}

impl RowErrors {
    pub(crate) fn from_firsts(f: Firsts<usize, (usize, FieldError)>) -> Self {
        let total = f.total();
        Self { errors: f.into_sorted(), total }
    }
}

/// What the driver needs of one kind of record.
pub(crate) trait ImportKind: Send {
    type Draft: Sync;
    /// The stored record a row's key finds, as much as the kind needs to tell whether the row changes it.
    type Current: Send + Sync;
    /// Which rows the importer's scopes are checked against.
    const ROWS: Rows;

    /// The order rows are applied in, as `(tier, row)`: a chunk holds rows of one tier, so that rows
    /// another row refers to are written first. The driver sorts by tier, then row number.
    fn tier(&self, _draft: &Self::Draft) -> u32 {
        0
    }

    /// The key identifying a row's record, or the error when the row has none.
    fn key(&self, draft: &Self::Draft) -> Result<String, FieldError>;

    /// A key as the rows' code (for "appears already" errors).
    fn shown(key: &str) -> &str {
        key
    }

    /// The field errors about a row's record as a whole name (its key's field).
    fn key_field(&self, draft: &Self::Draft) -> &'static str;

    /// The stored records of `keys`, by key (one or a few queries for the whole chunk).
    fn load(
        &mut self,
        tx: &mut WriteTx,
        keys: &[&str],
    ) -> impl Future<Output = StoreResult<HashMap<String, Self::Current>>> + Send;

    fn id_of(current: &Self::Current) -> i64;

    /// Loads in a few queries what the chunk's rows refer to (parents, units, …), before any is applied.
    fn prepare(
        &mut self,
        _tx: &mut WriteTx,
        _rows: &[(&Self::Draft, Option<&Self::Current>)],
    ) -> impl Future<Output = StoreResult<()>> + Send {
        async { Ok(()) }
    }

    /// Checks one row against the database (and the rows applied before it) and creates, updates or
    /// leaves alone its record; the record's id, or the row's field errors (`StoreError::Invalid`).
    /// Inserts may wait for [`ImportKind::flush`].
    fn apply(
        &mut self,
        tx: &mut WriteTx,
        draft: &Self::Draft,
        current: Option<&Self::Current>,
    ) -> impl Future<Output = StoreResult<(i64, Outcome)>> + Send;

    /// Writes whatever [`ImportKind::apply`] left pending.
    fn flush(&mut self, _tx: &mut WriteTx) -> impl Future<Output = StoreResult<()>> + Send {
        async { Ok(()) }
    }

    /// What a row that did not parse still names, as far as it parsed (its code, region, parent, units…).
    type References: Sync;

    /// The key of the record a row that did not parse is about ([`ImportKind::key`]'s form) and the
    /// field it comes from, if its code parsed.
    fn references_key(&self, refs: &Self::References) -> Option<Key>;

    /// Checks against the database the references of a row that did not parse, after every row that did
    /// was applied: the same checks a parsed row gets, so that one pass reports every problem of a file.
    /// `self_id` is the stored record the row's key found; a reference to a row of the file that failed
    /// too (its key in `failed`) is left out, since that row's own errors say what is wrong with it.
    fn check_unparsed(
        &mut self,
        tx: &mut WriteTx,
        refs: &Self::References,
        self_id: Option<i64>,
        failed: &HashSet<String>,
    ) -> impl Future<Output = StoreResult<FieldErrors>> + Send;
}

/// A row's key and the field it comes from.
pub(crate) type Key = (String, &'static str);

/// The rows of one file for the store: those that parsed (each with its row number), and what the rows
/// that did not still name, so that both are checked against the database in the same pass.
#[derive(Debug, Clone, Copy)]
pub struct ImportBatch<'a, D, R> {
    pub parsed: &'a [(usize, D)],
    /// At most [`MAX_REPORTED_ERRORS`] are checked (the first by row): beyond them no error is shown.
    pub unparsed: &'a [(usize, R)],
}

impl<'a, D, R> ImportBatch<'a, D, R> {
    /// Rows that all parsed.
    pub fn parsed(parsed: &'a [(usize, D)]) -> Self {
        Self { parsed, unparsed: &[] }
    }
}

/// `?, ?, …` on SQLite (whose driver binds `$n` parameters in time quadratic in their number, see
/// [`crate::bulk`]), `$first, …` on PostgreSQL: `n` parameters for an `IN` list.
pub(crate) fn param_list(db: DbKind, first: usize, n: usize) -> String {
    match db {
        DbKind::Sqlite => vec!["?"; n].join(","),
        DbKind::Postgres => (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(","),
    }
}

/// A row of a chunk: its number, its draft, and the stored record its key found.
type Row<'a, K> = (usize, &'a <K as ImportKind>::Draft, Option<&'a <K as ImportKind>::Current>);

/// The key of a row that appeared already (rows are keyed by their record's code).
fn duplicate_in_file(field: &str, code: &str, first: usize) -> FieldError {
    FieldError::new(
        field,
        "duplicate_in_file",
        Message::new("problem.duplicate_in_file.code_appears_already").arg("code", code).arg("first", first),
    )
}

/// Adds the database's problems with the rows that did not parse ([`ImportKind::check_unparsed`]), the
/// first [`MAX_REPORTED_ERRORS`] by row, checked inside the import's transaction after every parsed row.
/// `applied` holds the keys of the rows that parsed; a row whose key also appears among them, or whose key
/// finds a record outside `access`, gets the same error a parsed row would.
async fn check_unparsed<K: ImportKind>(
    kind: &mut K,
    tx: &mut WriteTx,
    unparsed: &[(usize, K::References)],
    access: &AccessFilter,
    applied: &HashMap<String, usize>,
    errors: &mut Firsts<usize, (usize, FieldError)>,
) -> StoreResult<()> {
    let mut checked: Vec<&(usize, K::References)> = unparsed.iter().collect();
    checked.sort_by_key(|(line, _)| *line);
    checked.truncate(MAX_REPORTED_ERRORS);
    if checked.is_empty() {
        return Ok(());
    }
    let keyed: Vec<(usize, &K::References, Option<Key>)> =
        checked.iter().map(|(line, refs)| (*line, refs, kind.references_key(refs))).collect();
    let failed: HashSet<String> =
        unparsed.iter().filter_map(|(_, refs)| kind.references_key(refs)).map(|(k, _)| k).collect();
    let keys: Vec<&str> = keyed
        .iter()
        .filter_map(|(_, _, k)| k.as_ref())
        .map(|(k, _)| k.as_str())
        .filter(|k| !applied.contains_key(*k))
        .collect();
    let current = kind.load(tx, &keys).await?;
    let found: Vec<i64> = current.values().map(K::id_of).collect();
    let visible = access.admitted_in(tx, K::ROWS, &found).await?;
    for (line, refs, key) in keyed {
        if let Some((key, field)) = &key {
            if let Some(&first) = applied.get(key).filter(|first| **first < line) {
                errors.push(line, (line, duplicate_in_file(field, K::shown(key), first)));
                continue;
            }
        }
        let stored = key.as_ref().and_then(|(k, _)| current.get(k)).map(K::id_of);
        if let (Some(id), Some((_, field))) = (stored, &key) {
            if !visible.contains(&id) {
                errors.push(line, (line, not_yours(field)));
                continue;
            }
        }
        for e in kind.check_unparsed(tx, refs, stored, &failed).await?.0 {
            errors.push(line, (line, e));
        }
    }
    Ok(())
}

impl Store {
    /// Imports `rows` (each with its row number) of one kind whole or not at all; see the module doc.
    pub(crate) async fn run_import<K: ImportKind>(
        &self,
        kind: &mut K,
        mut tx: WriteTx,
        batch: ImportBatch<'_, K::Draft, K::References>,
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        let rows = batch.parsed;
        let mut order: Vec<(u32, &(usize, K::Draft))> = rows.iter().map(|r| (kind.tier(&r.1), r)).collect();
        order.sort_by_key(|(tier, (line, _))| (*tier, *line));
        let mut summary = ImportSummary::default();
        let mut errors: Firsts<usize, (usize, FieldError)> = Firsts::new(MAX_REPORTED_ERRORS);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut start = 0;
        // Time spent per phase over all chunks (logged at debug level: where an import's time goes).
        let mut phases = [std::time::Duration::ZERO; 5];
        while start < order.len() {
            let t = std::time::Instant::now();
            let tier = order[start].0;
            let end = order[start..]
                .iter()
                .take(CHUNK_ROWS)
                .position(|(t, _)| *t != tier)
                .map_or((start + CHUNK_ROWS).min(order.len()), |n| start + n);
            // Keys, and rows whose key is missing or repeated.
            let mut chunk: Vec<(usize, &K::Draft, String)> = Vec::with_capacity(end - start);
            for (_, (line, draft)) in &order[start..end] {
                match kind.key(draft) {
                    Err(e) => errors.push(*line, (*line, e)),
                    Ok(key) => match seen.get(&key) {
                        Some(first) => errors
                            .push(*line, (*line, duplicate_in_file(kind.key_field(draft), K::shown(&key), *first))),
                        None => {
                            seen.insert(key.clone(), *line);
                            chunk.push((*line, draft, key));
                        }
                    },
                }
            }
            let keys: Vec<&str> = chunk.iter().map(|(_, _, k)| k.as_str()).collect();
            let current = kind.load(&mut tx, &keys).await?;
            phases[0] += t.elapsed();
            let t = std::time::Instant::now();
            let found: Vec<i64> = current.values().map(K::id_of).collect();
            let visible = access.admitted_in(&mut tx, K::ROWS, &found).await?;
            let mut rows: Vec<Row<'_, K>> = Vec::with_capacity(chunk.len());
            for (line, draft, key) in &chunk {
                let c = current.get(key);
                if c.is_some_and(|c| !visible.contains(&K::id_of(c))) {
                    errors.push(*line, (*line, not_yours(kind.key_field(draft))));
                } else {
                    rows.push((*line, *draft, c));
                }
            }
            let refs: Vec<(&K::Draft, Option<&K::Current>)> = rows.iter().map(|(_, d, c)| (*d, *c)).collect();
            kind.prepare(&mut tx, &refs).await?;
            phases[1] += t.elapsed();
            let t = std::time::Instant::now();
            let mut applied: Vec<(usize, &K::Draft, i64, Outcome)> = Vec::with_capacity(rows.len());
            for (line, draft, c) in rows {
                match kind.apply(&mut tx, draft, c).await {
                    Ok((id, outcome)) => applied.push((line, draft, id, outcome)),
                    Err(StoreError::Invalid(errs)) => {
                        for e in errs.0 {
                            errors.push(line, (line, e));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            phases[2] += t.elapsed();
            let t = std::time::Instant::now();
            kind.flush(&mut tx).await?;
            phases[3] += t.elapsed();
            let t = std::time::Instant::now();
            let ids: Vec<i64> = applied.iter().map(|(_, _, id, _)| *id).collect();
            let inside: HashSet<i64> = access.admitted_in(&mut tx, K::ROWS, &ids).await?;
            for (line, draft, id, outcome) in applied {
                if inside.contains(&id) {
                    summary.count(outcome);
                } else {
                    errors.push(line, (line, not_yours(kind.key_field(draft))));
                }
            }
            phases[4] += t.elapsed();
            start = end;
        }
        check_unparsed(kind, &mut tx, batch.unparsed, access, &seen, &mut errors).await?;
        tracing::debug!(
            rows = rows.len(),
            load_ms = phases[0].as_millis(),
            scope_and_prepare_ms = phases[1].as_millis(),
            apply_ms = phases[2].as_millis(),
            flush_ms = phases[3].as_millis(),
            scope_after_ms = phases[4].as_millis(),
            "import phases"
        );
        if !errors.is_empty() {
            return Err(StoreError::ImportRows(RowErrors::from_firsts(errors)));
        }
        if !dry_run {
            tx.commit().await?;
        }
        Ok(summary)
    }
}
