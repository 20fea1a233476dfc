//! One schema, two dialects: the SQLite and the PostgreSQL migrations are written by hand, side by side,
//! so this test migrates a fresh database of each and compares what they built — tables, columns,
//! column types (normalized to one family each), nullability, indexes with their columns and
//! uniqueness. A difference fails the test unless it is listed in [`DELIBERATE`] with its reason.
//! Runs when DANGJIAN_TEST_PG is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_store::testing::{postgres, sqlite};
use sqlx::Row;
use std::collections::BTreeSet;

/// Differences made on purpose, each with its reason: `(the start of the lines it covers, prefixed with
/// the dialect they are found only on, why)`.
const DELIBERATE: &[(&str, &str)] = &[
    (
        "sqlite: table entity_search",
        "unit text search on SQLite is an FTS5 trigram table (and its shadow tables) kept by triggers; \
         PostgreSQL has no FTS5 and uses a GIN index of bigrams instead (migrations/*/20261207180000_search.sql)",
    ),
    ("sqlite: column entity_search", "the columns of the FTS5 table and its shadow tables, as above"),
    (
        "sqlite: table feed_suspended",
        "a batched import holds the per-row insert triggers off inside its own transaction: SQLite triggers \
         can read no session setting, so they test for a row in this table; PostgreSQL's read a \
         transaction-local setting instead (migrations/*/20261207220000_bulk_feed.sql)",
    ),
    ("sqlite: column feed_suspended", "the table's one column, as above"),
    (
        "postgres: index on entities((expr))",
        "the GIN bigram index over dj_entity_bigrams(name, address, uscc, site_code): PostgreSQL's side of the \
         same text search",
    ),
];

/// A column type as a family both dialects share.
fn family(t: &str) -> &'static str {
    let t = t.to_ascii_lowercase();
    if t.contains("int") || t == "serial" || t == "bigserial" {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") {
        "text"
    } else if t.contains("real") || t.contains("double") || t.contains("float") || t.contains("numeric") {
        "real"
    } else if t.contains("bool") {
        "boolean"
    } else if t.contains("blob") || t.contains("bytea") {
        "bytes"
    } else if t.contains("time") || t.contains("date") {
        "time"
    } else {
        "other"
    }
}

/// What a database's schema holds, one line per fact.
async fn sqlite_facts(pool: &sqlx::AnyPool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let tables = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for t in tables {
        let table: String = t.get("name");
        out.insert(format!("table {table}"));
        let cols = sqlx::query(&format!("SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info('{table}')"))
            .fetch_all(pool)
            .await
            .unwrap();
        for c in cols {
            let name: String = c.get("name");
            let ty: String = c.get("type");
            // SQLite lets a primary-key column hold NULL unless told; the migrations mean NOT NULL.
            let not_null = c.get::<i64, _>("nn") != 0 || c.get::<i64, _>("pk") != 0;
            out.insert(format!("column {table}.{name} {} {}", family(&ty), if not_null { "not null" } else { "null" }));
        }
        let indexes = sqlx::query(&format!("SELECT name, \"unique\" AS u, origin FROM pragma_index_list('{table}')"))
            .fetch_all(pool)
            .await
            .unwrap();
        for i in indexes {
            let name: String = i.get("name");
            let unique = i.get::<i64, _>("u") != 0;
            let origin: String = i.get("origin");
            if origin == "pk" {
                continue;
            }
            let cols = sqlx::query(&format!("SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"))
                .fetch_all(pool)
                .await
                .unwrap();
            let cols: Vec<String> =
                cols.iter().map(|c| c.try_get::<String, _>("name").unwrap_or_else(|_| "(expr)".into())).collect();
            out.insert(format!("{} on {table}({})", if unique { "unique" } else { "index" }, cols.join(",")));
        }
    }
    out
}

async fn postgres_facts(pool: &sqlx::AnyPool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let tables = sqlx::query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for t in tables {
        let table: String = t.get("name");
        out.insert(format!("table {table}"));
        let cols = sqlx::query(
            "SELECT column_name::text AS name, data_type::text AS ty, is_nullable::text AS nullable \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(table.clone())
        .fetch_all(pool)
        .await
        .unwrap();
        for c in cols {
            let name: String = c.get("name");
            let ty: String = c.get("ty");
            let nullable: String = c.get("nullable");
            out.insert(format!(
                "column {table}.{name} {} {}",
                family(&ty),
                if nullable == "NO" { "not null" } else { "null" }
            ));
        }
        let indexes = sqlx::query(
            "SELECT ix.indisunique AS u, ix.indisprimary AS p, \
             COALESCE((SELECT string_agg(CASE WHEN k.n = 0 THEN '(expr)' ELSE a.attname::text END, ',' ORDER BY k.i) \
               FROM unnest(ix.indkey) WITH ORDINALITY AS k(n, i) \
               LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n), '') AS cols \
             FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid \
             WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace",
        )
        .bind(table.clone())
        .fetch_all(pool)
        .await
        .unwrap();
        for i in indexes {
            if i.get::<bool, _>("p") {
                continue;
            }
            let unique = i.get::<bool, _>("u");
            let cols: String = i.get("cols");
            out.insert(format!("{} on {table}({cols})", if unique { "unique" } else { "index" }));
        }
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let Some(pg) = postgres().await else {
        eprintln!("DANGJIAN_TEST_PG not set: the schemas are not compared");
        return;
    };
    let lite = sqlite().await;
    let a = sqlite_facts(lite.store.pool()).await;
    let b = postgres_facts(pg.store.pool()).await;
    let deliberate = |line: String| DELIBERATE.iter().any(|(start, _)| line.starts_with(start));
    let only_sqlite: Vec<&String> = a.difference(&b).filter(|l| !deliberate(format!("sqlite: {l}"))).collect();
    let only_pg: Vec<&String> = b.difference(&a).filter(|l| !deliberate(format!("postgres: {l}"))).collect();
    // Every deliberate difference is still there (else its line goes).
    for (start, _) in DELIBERATE {
        let mut found =
            a.difference(&b).map(|l| format!("sqlite: {l}")).chain(b.difference(&a).map(|l| format!("postgres: {l}")));
        assert!(found.any(|l| l.starts_with(start)), "no longer a difference: {start}");
    }
    assert!(a.len() > 50 && b.len() > 50, "both schemas were read ({} and {} facts)", a.len(), b.len());
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "the migrations differ:\nonly on SQLite:\n  {}\nonly on PostgreSQL:\n  {}",
        only_sqlite.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  "),
        only_pg.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  ")
    );
    lite.cleanup().await;
    pg.cleanup().await;
}
