//! One schema, two dialects: the SQLite and the PostgreSQL migrations are written by hand, side by side,
//! so this test migrates a fresh database of each and compares what they built — tables, columns,
//! column types (normalized to one family each), nullability, defaults (normalized: casts dropped, a clock
//! default is `now`), indexes with their columns and uniqueness, foreign keys with their targets and
//! delete actions, and CHECK constraints (the columns each names and the literals it compares with). A
//! difference fails the test unless it is listed in [`DELIBERATE`] with its reason.
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
    ("sqlite: check on feed_suspended", "the table's one-row check, as above"),
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
        let cols = sqlx::query(&format!(
            "SELECT name, type, \"notnull\" AS nn, pk, dflt_value AS d FROM pragma_table_info('{table}')"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        let mut names = Vec::new();
        for c in cols {
            let name: String = c.get("name");
            let ty: String = c.get("type");
            // SQLite lets a primary-key column hold NULL unless told; the migrations mean NOT NULL.
            let not_null = c.get::<i64, _>("nn") != 0 || c.get::<i64, _>("pk") != 0;
            out.insert(format!("column {table}.{name} {} {}", family(&ty), if not_null { "not null" } else { "null" }));
            if let Some(d) = c.get::<Option<String>, _>("d") {
                out.insert(format!("default {table}.{name} = {}", normalized_default(&d)));
            }
            names.push(name);
        }
        let fks = sqlx::query(&format!(
            "SELECT \"table\" AS t, \"from\" AS f, \"to\" AS c, on_delete AS d FROM pragma_foreign_key_list('{table}')"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        for fk in fks {
            let (target, from): (String, String) = (fk.get("t"), fk.get("f"));
            // SQLite leaves the target column empty when the key names only the table (its primary key).
            let to = fk.try_get::<Option<String>, _>("c").ok().flatten().unwrap_or_else(|| "id".into());
            let on_delete: String = fk.get("d");
            out.insert(format!("foreign key {table}({from}) -> {target}({to}) on delete {}", on_delete.to_lowercase()));
        }
        let sql: String = sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1")
            .bind(table.clone())
            .fetch_one(pool)
            .await
            .unwrap()
            .get("sql");
        for check in sqlite_checks(&sql) {
            out.insert(check_fact(&table, &check, &names));
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
            "SELECT column_name::text AS name, data_type::text AS ty, is_nullable::text AS nullable, \
             column_default::text AS d FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(table.clone())
        .fetch_all(pool)
        .await
        .unwrap();
        let mut names = Vec::new();
        for c in cols {
            let name: String = c.get("name");
            let ty: String = c.get("ty");
            let nullable: String = c.get("nullable");
            out.insert(format!(
                "column {table}.{name} {} {}",
                family(&ty),
                if nullable == "NO" { "not null" } else { "null" }
            ));
            // A sequence (PostgreSQL's serial) is the same as SQLite's rowid key: no default to compare.
            if let Some(d) = c.get::<Option<String>, _>("d").map(|d| normalized_default(&d)).filter(|d| d != "identity")
            {
                out.insert(format!("default {table}.{name} = {d}"));
            }
            names.push(name);
        }
        let constraints = sqlx::query(
            "SELECT c.contype::text AS kind, pg_get_constraintdef(c.oid) AS def, \
               COALESCE(t2.relname::text, '') AS target, c.confdeltype::text AS del, \
               (SELECT string_agg(a.attname::text, ',' ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i) \
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS cols, \
               (SELECT string_agg(a.attname::text, ',' ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i) \
                  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS fcols \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             LEFT JOIN pg_class t2 ON t2.oid = c.confrelid \
             WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace AND c.contype IN ('c', 'f')",
        )
        .bind(table.clone())
        .fetch_all(pool)
        .await
        .unwrap();
        for c in constraints {
            let kind: String = c.get("kind");
            let def: String = c.get("def");
            if kind == "f" {
                let on_delete = match c.get::<String, _>("del").as_str() {
                    "c" => "cascade",
                    "n" => "set null",
                    "d" => "set default",
                    "r" => "restrict",
                    _ => "no action",
                };
                out.insert(format!(
                    "foreign key {table}({}) -> {}({}) on delete {on_delete}",
                    c.get::<Option<String>, _>("cols").unwrap_or_default(),
                    c.get::<String, _>("target"),
                    c.get::<Option<String>, _>("fcols").unwrap_or_default()
                ));
            } else {
                out.insert(check_fact(&table, &def, &names));
            }
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

/// A column default as both dialects can be compared: type casts and outer parentheses dropped, booleans
/// as 0/1, any clock expression as `now`, an identity or sequence as `identity`.
fn normalized_default(d: &str) -> String {
    let lower = d.to_ascii_lowercase();
    if lower.contains("nextval(") {
        return "identity".into();
    }
    if ["now()", "strftime(", "current_timestamp", "to_char("].iter().any(|c| lower.contains(c)) {
        return "now".into();
    }
    let mut v = regex::Regex::new(r"::[a-z ]+").expect("pattern").replace_all(d.trim(), "").into_owned();
    while v.starts_with('(') && v.ends_with(')') {
        v = v[1..v.len() - 1].trim().to_owned();
    }
    match v.as_str() {
        "false" => "0".into(),
        "true" => "1".into(),
        _ => v,
    }
}

/// The bodies of the CHECK constraints in a SQLite `CREATE TABLE` statement.
fn sqlite_checks(sql: &str) -> Vec<String> {
    let upper = sql.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = upper[from..].find("CHECK") {
        let start = from + at + "CHECK".len();
        let Some(open) = sql[start..].find('(').map(|i| start + i) else { break };
        let mut depth = 0;
        let mut end = open;
        for (i, ch) in sql[open..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push(sql[open..=end].to_owned());
        from = end + 1;
    }
    out
}

/// A CHECK constraint as a fact both dialects share: the table's columns it names and the literals it
/// compares with (sorted), whatever way each dialect prints the expression.
fn check_fact(table: &str, expr: &str, columns: &[String]) -> String {
    let words: BTreeSet<&str> =
        regex::Regex::new(r"[A-Za-z_][A-Za-z0-9_]*").expect("pattern").find_iter(expr).map(|m| m.as_str()).collect();
    let named: BTreeSet<&str> = columns.iter().map(String::as_str).filter(|c| words.contains(c)).collect();
    let without_words = regex::Regex::new(r"'[^']*'|[A-Za-z_][A-Za-z0-9_]*").expect("pattern");
    let mut literals: BTreeSet<String> =
        regex::Regex::new(r"'([^']*)'").expect("pattern").captures_iter(expr).map(|c| c[1].to_owned()).collect();
    let rest = without_words.replace_all(expr, " ");
    literals.extend(regex::Regex::new(r"-?\d+").expect("pattern").find_iter(&rest).map(|m| m.as_str().to_owned()));
    format!(
        "check on {table}({}) with {}",
        named.into_iter().collect::<Vec<_>>().join(","),
        literals.into_iter().collect::<Vec<_>>().join("|")
    )
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
    for kind in ["default ", "foreign key ", "check on ", "unique on ", "index on "] {
        let count = |facts: &BTreeSet<String>| facts.iter().filter(|f| f.starts_with(kind)).count();
        assert!(count(&a) >= 5 && count(&b) >= 5, "{kind}facts were read from both ({} and {})", count(&a), count(&b));
    }
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "the migrations differ:\nonly on SQLite:\n  {}\nonly on PostgreSQL:\n  {}",
        only_sqlite.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  "),
        only_pg.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  ")
    );
    lite.cleanup().await;
    pg.cleanup().await;
}
