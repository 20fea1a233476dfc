//! Bulk loading of generated data (`dangjian generate`): multi-row `INSERT` statements with explicit ids,
//! in one transaction, bypassing the registry's row-by-row checks — the caller vouches for its rows.
//!
//! Row-by-row import checks and writes each row with its own statements (tens of thousands of rows a
//! second at best); a national dataset of a million units needs hundreds of thousands, so here the rows
//! go in chunks of up to [`MAX_ROWS_PER_STATEMENT`], each chunk one statement. The coverage change feed
//! (`coverage_changes`, written by triggers) is suspended during the load and, at the end, replaced by a
//! single "rebuild everything" row, which is what the coverage engine would have to do anyway. The text
//! search index of units is suspended too (SQLite: its triggers; PostgreSQL: the index) and built whole at
//! the end, which is several times faster than keeping it up to date row by row.

use crate::db::WriteTx;
use crate::error::{StoreError, StoreResult};
use crate::{DbKind, Store};
use dangjian_domain::Message;
use sqlx::Row;
use std::collections::HashMap;

/// Rows per `INSERT`: large enough that per-statement costs vanish, small enough to keep statements
/// (and SQLite's prepared-statement cache) modest. The bind-parameter limits cap it further.
pub const MAX_ROWS_PER_STATEMENT: usize = 1000;

/// Bind parameters one statement may carry: PostgreSQL's protocol counts them in 16 bits; SQLite's
/// default `SQLITE_MAX_VARIABLE_NUMBER` (since 3.32) is 32766.
fn max_parameters(kind: DbKind) -> usize {
    match kind {
        DbKind::Sqlite => 32_766,
        DbKind::Postgres => 65_535,
    }
}

/// The `entities` table with every column a new unit is written with, ids included: the generator's bulk
/// load and the batched import write units through it.
pub const ENTITIES: Table = Table {
    name: "entities",
    columns: &[
        "id",
        "uscc",
        "site_code",
        "name",
        "kind",
        "parent_id",
        "root_id",
        "region_code",
        "address",
        "workers",
        "party_members",
        "probationary_members",
        "established_on",
        "closed_on",
        "created_at",
        "updated_at",
    ],
};

/// The tables a bulk load writes, whose coverage triggers it suspends.
const LOADED_TABLES: [&str; 6] =
    ["entities", "entity_sectors", "organizations", "organization_units", "instructors", "instructor_assignments"];

/// Tables whose ids a bulk load assigns itself; PostgreSQL's identity sequences are moved past them.
const TABLES_WITH_IDS: [&str; 4] = ["entities", "organizations", "instructors", "instructor_assignments"];

/// One value of a row. `Any` has no date type: dates go as ISO text (see docs/storage.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Int(i64),
    Text(String),
    NullInt,
    NullText,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullInt, Value::Int)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::NullText, Value::Text)
    }
}

/// A table and the columns a load fills, in the order rows give their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

/// Rows of one table, flattened: `values.len()` is a multiple of the table's column count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub table: Table,
    pub values: Vec<Value>,
}

impl Rows {
    pub fn with_capacity(table: Table, rows: usize) -> Self {
        Self { table, values: Vec::with_capacity(rows * table.columns.len()) }
    }

    /// Appends one row; `row` must give one value per column.
    pub fn push<const N: usize>(&mut self, row: [Value; N]) {
        debug_assert_eq!(N, self.table.columns.len(), "a row of {} has one value per column", self.table.name);
        self.values.extend(row);
    }

    pub fn len(&self) -> usize {
        self.values.len() / self.table.columns.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Counts of the registry's tables (for refusing a non-empty database and for summaries).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryCounts {
    pub entities: i64,
    pub organizations: i64,
    pub instructors: i64,
}

impl RegistryCounts {
    pub fn is_empty(&self) -> bool {
        self.entities == 0 && self.organizations == 0 && self.instructors == 0
    }
}

impl Store {
    /// How many units, organizations and instructors the database holds.
    pub async fn registry_counts(&self) -> StoreResult<RegistryCounts> {
        let count = |table: &'static str| async move {
            let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&self.pool).await?;
            Ok::<i64, StoreError>(row.try_get("n")?)
        };
        Ok(RegistryCounts {
            entities: count("entities").await?,
            organizations: count("organizations").await?,
            instructors: count("instructors").await?,
        })
    }

    /// Starts a bulk load: one write transaction, with the coverage change feed suspended until
    /// [`BulkLoad::finish`]. Dropping the load without finishing rolls everything back.
    pub async fn bulk_load(&self) -> StoreResult<BulkLoad> {
        let mut tx = self.write_tx().await?;
        let suspended = suspend_change_feed(&mut tx, self.kind()).await?;
        Ok(BulkLoad { tx, pool: self.pool.clone(), kind: self.kind(), suspended, statements: HashMap::new(), rows: 0 })
    }
}

/// A trigger or index taken off a table for the duration of a load, and how to put it back.
#[derive(Debug)]
enum Suspended {
    /// SQLite cannot disable a trigger: it is dropped and re-created from its stored definition.
    SqliteTrigger { sql: String },
    /// PostgreSQL disables it in place.
    PgTrigger { table: String, name: String },
    /// A PostgreSQL index dropped for the load and built again from its definition at the end.
    PgIndex { sql: String },
}

/// Takes the coverage triggers (`cov_*`) and the text search's triggers (`search_*`, SQLite) or index
/// (`entities_search`, PostgreSQL) off the loaded tables, inside the load's transaction, so that a failed
/// load puts them back by rolling back.
async fn suspend_change_feed(tx: &mut WriteTx, kind: DbKind) -> StoreResult<Vec<Suspended>> {
    let tables = LOADED_TABLES.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    match kind {
        DbKind::Sqlite => {
            let rows = sqlx::query(&format!(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
                 AND (name LIKE 'cov\\_%' ESCAPE '\\' OR name LIKE 'search\\_%' ESCAPE '\\') \
                 AND tbl_name IN ({tables}) ORDER BY name"
            ))
            .fetch_all(&mut *tx.tx)
            .await?;
            for row in rows {
                let name: String = row.try_get("name")?;
                let sql: String = row.try_get("sql")?;
                sqlx::query(&format!("DROP TRIGGER \"{name}\"")).execute(&mut *tx.tx).await?;
                out.push(Suspended::SqliteTrigger { sql });
            }
        }
        DbKind::Postgres => {
            let rows = sqlx::query(&format!(
                "SELECT CAST(c.relname AS TEXT) AS tbl, CAST(t.tgname AS TEXT) AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                 WHERE NOT t.tgisinternal AND t.tgname LIKE 'cov\\_%' AND c.relname IN ({tables}) \
                 AND pg_table_is_visible(c.oid) ORDER BY t.tgname"
            ))
            .fetch_all(&mut *tx.tx)
            .await?;
            for row in rows {
                let table: String = row.try_get("tbl")?;
                let name: String = row.try_get("name")?;
                sqlx::query(&format!("ALTER TABLE \"{table}\" DISABLE TRIGGER \"{name}\""))
                    .execute(&mut *tx.tx)
                    .await?;
                out.push(Suspended::PgTrigger { table, name });
            }
            let rows = sqlx::query(
                "SELECT CAST(indexname AS TEXT) AS name, indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND indexname IN ('entities_search') ORDER BY indexname",
            )
            .fetch_all(&mut *tx.tx)
            .await?;
            for row in rows {
                let name: String = row.try_get("name")?;
                let sql: String = row.try_get("indexdef")?;
                sqlx::query(&format!("DROP INDEX \"{name}\"")).execute(&mut *tx.tx).await?;
                out.push(Suspended::PgIndex { sql });
            }
        }
    }
    Ok(out)
}

/// A bulk load in progress (see [`Store::bulk_load`]).
pub struct BulkLoad {
    tx: WriteTx,
    pool: sqlx::AnyPool,
    kind: DbKind,
    suspended: Vec<Suspended>,
    /// The SQL of a full chunk per table, built once.
    statements: HashMap<&'static str, (usize, String)>,
    rows: u64,
}

impl BulkLoad {
    /// Rows per statement for a table of `columns` columns on this backend.
    pub fn rows_per_statement(&self, columns: usize) -> usize {
        rows_per_statement(self.kind, columns)
    }

    /// Rows written so far.
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Inserts `rows`, a statement per chunk. Ids are whatever the rows say: the caller assigns them.
    pub async fn insert(&mut self, rows: Rows) -> StoreResult<u64> {
        let n = insert_rows(&mut self.tx, self.kind, rows, &mut self.statements).await?;
        self.rows += n;
        Ok(n)
    }

    /// Ends the load: rebuilds the text search index from every unit (SQLite) and puts the suspended
    /// triggers and indexes back, moves PostgreSQL's id sequences past the ids written, replaces the change
    /// feed with one full-rebuild request (both ids NULL), commits, then analyzes the tables (PostgreSQL) or
    /// checkpoints the write-ahead log into the database file (SQLite).
    pub async fn finish(mut self) -> StoreResult<u64> {
        if self.kind == DbKind::Sqlite {
            crate::search::rebuild_sqlite_entity_search(&mut self.tx).await?;
        } else {
            // A GIN index builds faster with more memory than the default 64 MB (this transaction only).
            sqlx::query("SET LOCAL maintenance_work_mem = '256MB'").execute(&mut *self.tx.tx).await?;
        }
        for s in std::mem::take(&mut self.suspended) {
            let sql = match s {
                Suspended::SqliteTrigger { sql } | Suspended::PgIndex { sql } => sql,
                Suspended::PgTrigger { table, name } => format!("ALTER TABLE \"{table}\" ENABLE TRIGGER \"{name}\""),
            };
            sqlx::query(&sql).execute(&mut *self.tx.tx).await?;
        }
        if self.kind == DbKind::Postgres {
            for table in TABLES_WITH_IDS {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) \
                     AS v FROM {table}"
                ))
                .fetch_one(&mut *self.tx.tx)
                .await?;
            }
        }
        sqlx::query("DELETE FROM coverage_changes").execute(&mut *self.tx.tx).await?;
        sqlx::query("INSERT INTO coverage_changes (entity_id, organization_id) VALUES (NULL, NULL)")
            .execute(&mut *self.tx.tx)
            .await?;
        self.tx.commit().await?;
        if self.kind == DbKind::Postgres {
            // Planner statistics and the visibility map for the new rows now, rather than whenever
            // autovacuum gets to them: until a table is vacuumed, no scan of it is index-only.
            sqlx::query(&format!("VACUUM (ANALYZE) {}", LOADED_TABLES.join(", "))).execute(&self.pool).await?;
        }
        if self.kind == DbKind::Sqlite {
            // The load went through the write-ahead log (as large as the data); fold it back into the
            // database file now rather than leave it for whoever opens the file next.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        }
        Ok(self.rows)
    }
}

/// Rows per statement for a table of `columns` columns on a backend.
pub(crate) fn rows_per_statement(kind: DbKind, columns: usize) -> usize {
    (max_parameters(kind) / columns.max(1)).clamp(1, MAX_ROWS_PER_STATEMENT)
}

/// Inserts `rows` inside `tx`, one statement per chunk of [`rows_per_statement`] rows; `statements`
/// keeps the SQL of a full chunk per table for the next call.
pub(crate) async fn insert_rows(
    tx: &mut WriteTx,
    kind: DbKind,
    rows: Rows,
    statements: &mut HashMap<&'static str, (usize, String)>,
) -> StoreResult<u64> {
    let Rows { table, values } = rows;
    let width = table.columns.len();
    if width == 0 || values.len() % width != 0 {
        return Err(StoreError::Conflict {
            code: "bulk_row_width",
            message: Message::new("conflict.bulk_row_width").arg("v1", table.name).arg("width", width),
        });
    }
    let per_statement = rows_per_statement(kind, width);
    let total = values.len() / width;
    let mut values = values.into_iter();
    let mut done = 0;
    while done < total {
        let n = per_statement.min(total - done);
        let sql = match statements.get(table.name) {
            Some((rows, sql)) if *rows == n => sql.clone(),
            _ => {
                let sql = insert_sql(&table, n, kind);
                if n == per_statement {
                    statements.insert(table.name, (n, sql.clone()));
                }
                sql
            }
        };
        let mut query = sqlx::query(&sql);
        for value in values.by_ref().take(n * width) {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::NullInt => query.bind(None::<i64>),
                Value::NullText => query.bind(None::<String>),
            };
        }
        query.execute(&mut *tx.tx).await?;
        done += n;
    }
    Ok(total as u64)
}

/// `INSERT INTO table (columns) VALUES ($1, …), (…)` for `rows` rows — on SQLite with anonymous `?`
/// placeholders instead: sqlx's SQLite driver looks up each parameter's name, and SQLite finds a name
/// by walking the statement's list of named parameters, so `$n` makes binding a chunk quadratic in its
/// size (measured: over half the time of a load went there). Anonymous parameters bind in order.
fn insert_sql(table: &Table, rows: usize, kind: DbKind) -> String {
    let width = table.columns.len();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", table.name, table.columns.join(", "));
    sql.reserve(rows * width * 8);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            match kind {
                DbKind::Sqlite => sql.push('?'),
                DbKind::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const PAIRS: Table = Table { name: "entity_sectors", columns: &["entity_id", "sector_code"] };

    #[test]
    fn statements_number_their_placeholders_in_order() {
        assert_eq!(
            insert_sql(&PAIRS, 2, DbKind::Postgres),
            "INSERT INTO entity_sectors (entity_id, sector_code) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            insert_sql(&PAIRS, 2, DbKind::Sqlite),
            "INSERT INTO entity_sectors (entity_id, sector_code) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn chunks_respect_each_backends_parameter_limit() {
        assert_eq!(max_parameters(DbKind::Sqlite) / 40, 819);
        assert!(max_parameters(DbKind::Postgres) < 65_536);
    }

    #[test]
    fn rows_count_by_width() {
        let mut rows = Rows::with_capacity(PAIRS, 2);
        rows.push([1.into(), "courier".into()]);
        rows.push([Value::Int(2), Value::from(None::<String>)]);
        assert_eq!(rows.len(), 2);
    }
}
