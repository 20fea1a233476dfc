//! The import pipeline on generated files, on every backend: what a first import and a later import of a
//! changed file leave in the registry, compared byte for byte with the exports the row-by-row import
//! (before the batched one replaced it) left on the same files — committed in `tests/expected/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use dangjian_cli::bench::{county_codes, generate_entities_csv, Shape};
use dangjian_domain::coverage::index::{Filter, Visibility};
use dangjian_domain::coverage::rules::RuleSet;
use dangjian_domain::MAX_REPORTED_ERRORS;
use dangjian_ingest::Kind;
use dangjian_store::coverage::Coverage;
use dangjian_store::testing::{self, TestDb};
use dangjian_store::{AccessFilter, Disclosure, ImportSummary, Store};
use dangjian_web::transfer::{export_file, import_file, ExportFormat, ImportFailure};
use std::path::PathBuf;

const ROWS: usize = 3000;
/// Rows of the full file left out of the first one (sites, at its end): the second file creates them.
const HELD_BACK: usize = 200;

fn expected(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expected").join(name)
}

/// The first file (the generated one without its last rows) and the second: every row of the generated
/// file, in reverse order (units before their parents), with some changed — workers, sectors, parents.
async fn files(store: &Store) -> (String, String) {
    let counties = county_codes(store).await.unwrap();
    let (csv, _) = generate_entities_csv(ROWS, &counties).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    let (header, rows) = (lines[0], &lines[1..]);
    let first = std::iter::once(header).chain(rows[..rows.len() - HELD_BACK].iter().copied()).collect::<Vec<_>>();
    let mut changed: Vec<String> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let mut cells: Vec<String> = row.split(',').map(str::to_owned).collect();
        if i % 7 == 3 {
            let workers: u64 = cells[8].parse().unwrap();
            cells[8] = (workers + 1).to_string();
        }
        if i % 11 == 5 {
            cells[4] = "快递、网约车".to_owned();
        }
        // A site moves to the parent of the site before it (often another franchisee or partner).
        if i % 13 == 4 && cells[3] == "站点" && i > 0 {
            let prev: Vec<&str> = rows[i - 1].split(',').collect();
            if prev[3] == "站点" {
                cells[5] = prev[5].to_owned();
            }
        }
        changed.push(cells.join(","));
    }
    changed.reverse();
    let second = std::iter::once(header.to_owned()).chain(changed).collect::<Vec<_>>();
    (first.join("\n") + "\n", second.join("\n") + "\n")
}

async fn import(store: &Store, name: &str, csv: &str) -> ImportSummary {
    match import_file(store, Kind::Entities, name, csv.as_bytes(), false, "en", &AccessFilter::unrestricted()).await {
        Ok(s) => s,
        Err(ImportFailure::Rows(errs)) => {
            panic!("{}", errs.errors.iter().take(10).map(ToString::to_string).collect::<Vec<_>>().join("\n"))
        }
        Err(e) => panic!("{e}"),
    }
}

async fn export(store: &Store) -> String {
    let bytes = export_file(store, Kind::Entities, ExportFormat::Csv, Disclosure::Full, &AccessFilter::unrestricted())
        .await
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// Compares with the committed expectation; `DANGJIAN_BLESS=1` writes it instead.
fn check(name: &str, got: &str, backend: &str) {
    let path = expected(name);
    if std::env::var("DANGJIAN_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert!(
        got == want,
        "{backend}: {name} differs from the row-by-row import's (first difference at line {})",
        got.lines().zip(want.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1)
    );
}

#[tokio::test]
async fn batched_imports_leave_exactly_what_row_by_row_imports_left() {
    for db in testing::all_backends().await {
        let TestDb { store, kind, .. } = &db;
        let backend = kind.as_str();
        let (first, second) = files(store).await;
        let s1 = import(store, "first.csv", &first).await;
        let e1 = export(store).await;
        let s2 = import(store, "second.csv", &second).await;
        let e2 = export(store).await;
        let s3 = import(store, "second.csv", &second).await;
        let e3 = export(store).await;
        let summaries = format!("{s1:?}\n{s2:?}\n{s3:?}\n");
        check("import-summaries.txt", &summaries, backend);
        check("import-first.csv", &e1, backend);
        check("import-second.csv", &e2, backend);
        assert_eq!(e2, e3, "{backend}: importing the same file again changes nothing");
        db.cleanup().await;
    }
}

/// Replaces cell `col` of data row `row` (0-based, header excluded) of a CSV text.
fn set_cell(csv: &str, row: usize, col: usize, value: &str) -> String {
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    let mut cells: Vec<String> = lines[row + 1].split(',').map(str::to_owned).collect();
    cells[col] = value.to_owned();
    lines[row + 1] = cells.join(",");
    lines.join("\n") + "\n"
}

async fn change_rows(store: &Store) -> i64 {
    use sqlx::Row;
    let row = sqlx::query("SELECT COUNT(*) AS n FROM coverage_changes").fetch_one(store.pool()).await.unwrap();
    row.try_get("n").unwrap()
}

/// What an import can touch beyond the export: every unit's ids, versions, chain and times, the sector
/// rows, the whole coverage change feed (with sequence numbers and times) and, on SQLite, the text search
/// index's vocabulary and the feed switch — as text, to compare before and after.
async fn dump(store: &Store) -> String {
    use sqlx::Row;
    let mut out = String::new();
    let queries = [
        "SELECT CAST(id AS TEXT) || '|' || COALESCE(CAST(parent_id AS TEXT), '') || '|' || COALESCE(CAST(root_id AS TEXT), '') \
         || '|' || CAST(version AS TEXT) || '|' || created_at || '|' || updated_at AS line FROM entities ORDER BY id",
        "SELECT CAST(entity_id AS TEXT) || '|' || sector_code AS line FROM entity_sectors ORDER BY entity_id, sector_code",
        "SELECT CAST(seq AS TEXT) || '|' || COALESCE(CAST(entity_id AS TEXT), '') || '|' \
         || COALESCE(CAST(organization_id AS TEXT), '') || '|' || at AS line FROM coverage_changes ORDER BY seq",
    ];
    let sqlite = [
        "SELECT term || '|' || CAST(doc AS TEXT) AS line FROM entity_search_terms ORDER BY term",
        "SELECT CAST(COUNT(*) AS TEXT) AS line FROM feed_suspended",
    ];
    let extra: &[&str] = if store.kind() == dangjian_store::DbKind::Sqlite { &sqlite } else { &[] };
    for sql in queries.iter().chain(extra) {
        for row in sqlx::query(sql).fetch_all(store.pool()).await.unwrap() {
            out.push_str(&row.try_get::<String, _>("line").unwrap());
            out.push('\n');
        }
        out.push_str("--\n");
    }
    out
}

#[tokio::test]
async fn a_file_whose_last_chunk_fails_writes_nothing() {
    for db in testing::all_backends().await {
        let store = &db.store;
        let (first, second) = files(store).await;
        import(store, "first.csv", &first).await;
        let before = export(store).await;
        let changes = change_rows(store).await;
        let tables = dump(store).await;
        // The second file updates and creates over several chunks; the last row applied (sites go last,
        // by row: the last site of the reversed file) names a region that does not exist.
        let last_site = Shape::for_rows(ROWS).sites - 1;
        let bad = set_cell(&second, last_site, 6, "110199");
        let result =
            import_file(store, Kind::Entities, "bad.csv", bad.as_bytes(), false, "en", &AccessFilter::unrestricted())
                .await;
        match result {
            Err(ImportFailure::Rows(errs)) => {
                let lines: Vec<String> = errs.errors.iter().map(ToString::to_string).collect();
                assert_eq!(
                    lines,
                    vec![format!("bad.csv:{}:G(region_code): no region has the code 110199", last_site + 2)]
                );
                assert_eq!(errs.total, 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(export(store).await, before, "{}: nothing of the failed file was written", db.kind.as_str());
        assert_eq!(change_rows(store).await, changes, "no change was fed to coverage");
        assert!(
            dump(store).await == tables,
            "{}: the tables, the feed and the search index are as they were",
            db.kind.as_str()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn errors_found_reading_and_in_the_database_come_back_together_located() {
    for db in testing::all_backends().await {
        let store = &db.store;
        let (first, _) = files(store).await;
        // Sites start at data row 31 (row 33 of the file). Row 33: a USCC with a wrong check character
        // (found reading the file). Row 36: a region that does not exist (found in the database). Row 39:
        // a parent nobody registered (database).
        let mut bad = set_cell(&first, 31, 0, "91110000802100433X");
        bad = set_cell(&bad, 34, 6, "110199");
        bad = set_cell(&bad, 37, 5, "91110000802100433B");
        let result =
            import_file(store, Kind::Entities, "mixed.csv", bad.as_bytes(), false, "en", &AccessFilter::unrestricted())
                .await;
        match result {
            Err(ImportFailure::Rows(errs)) => {
                let got: Vec<(usize, String, String)> =
                    errs.errors.iter().map(|e| (e.line, e.column.clone(), e.code.clone())).collect();
                assert_eq!(
                    got,
                    vec![
                        (33, "A(uscc)".to_owned(), "invalid_check_character".to_owned()),
                        (36, "G(region_code)".to_owned(), "unknown_region".to_owned()),
                        (39, "F(parent_uscc)".to_owned(), "unknown_parent".to_owned()),
                    ],
                    "{}",
                    errs.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
                );
                assert_eq!(errs.total, 3);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(dangjian_cli::demo::unit_count(store).await.unwrap(), 0, "nothing written");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_file_of_many_bad_rows_reports_the_first_errors_and_counts_them_all() {
    let db = testing::sqlite().await;
    let store = &db.store;
    let (first, _) = files(store).await;
    // Every site is wrong: every tenth has no name (found reading the file, which then skips the
    // database), the others a region that does not exist (found in the database).
    let mut lines: Vec<String> = first.lines().map(str::to_owned).collect();
    let mut expected = 0;
    for (i, line) in lines.iter_mut().enumerate().skip(1) {
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        if cells[3] == "站点" {
            if i % 10 == 0 {
                cells[2] = String::new();
            } else {
                cells[6] = "110199".to_owned();
            }
            expected += 1;
        }
        *line = cells.join(",");
    }
    let bad = lines.join("\n") + "\n";
    let result =
        import_file(store, Kind::Entities, "many.csv", bad.as_bytes(), true, "zh", &AccessFilter::unrestricted()).await;
    match result {
        Err(ImportFailure::Rows(errs)) => {
            assert!(expected > MAX_REPORTED_ERRORS + 500, "{expected}");
            assert_eq!(errs.total, expected);
            assert_eq!(errs.errors.len(), MAX_REPORTED_ERRORS);
            assert!(errs.is_truncated());
            // The first by row, both kinds among them, in file order.
            let rows: Vec<usize> = errs.errors.iter().map(|e| e.line).collect();
            assert!(rows.windows(2).all(|w| w[0] < w[1]), "one error a row, in order");
            assert!(errs.errors.iter().any(|e| e.code == "unknown_region"));
            assert!(errs.errors.iter().any(|e| e.field.as_deref() == Some("name")));
            let last = *rows.last().unwrap();
            let bad_rows_up_to_last =
                (2..=last).filter(|&line| lines[line - 1].split(',').nth(3) == Some("站点")).count();
            assert_eq!(bad_rows_up_to_last, MAX_REPORTED_ERRORS, "none skipped before the last listed");
        }
        other => panic!("{other:?}"),
    }
    db.cleanup().await;
}

#[tokio::test]
async fn coverage_read_after_a_batched_import_equals_the_straightforward_sql() {
    for db in testing::all_backends().await {
        let store = &db.store;
        dangjian_cli::demo::load(store).await.unwrap();
        let coverage = Coverage::new(store.clone());
        drop(coverage.read().await.unwrap());
        let (first, second) = files(store).await;
        import(store, "first.csv", &first).await;
        import(store, "second.csv", &second).await;
        let index = coverage.read().await.unwrap();
        for day in ["2018-06-30", "2023-06-30", "2026-11-27"] {
            let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
            let own_min = RuleSet::default().at(dangjian_domain::coverage::day_of(date)).own_organization_min;
            let engine = index.rollup(&Filter::default(), date, &Visibility::All).unwrap();
            let sql = store.baseline_coverage(&Filter::default(), date, own_min).await.unwrap();
            let f = |x: &dangjian_domain::coverage::index::Figures| {
                [x.units, x.own, x.joint, x.chain, x.instructor_only, x.none, x.members, x.workers, x.units_needing_own]
            };
            assert_eq!(f(&engine.totals), f(&sql.totals), "{} on {day}", db.kind.as_str());
            assert!(engine.totals.units >= (ROWS as u64) / 2, "the imported units count on {day}");
            for child in &engine.children {
                let filter = Filter { region: Some(child.code.clone()), ..Default::default() };
                let sql = store.baseline_coverage(&filter, date, own_min).await.unwrap();
                assert_eq!(f(&child.figures), f(&sql.totals), "{} on {day}", child.code);
            }
        }
        drop(index);
        db.cleanup().await;
    }
}

/// The feed a batched import writes itself (its insert triggers held off) is what the triggers wrote: one
/// entry per new unit and one per sector row of a new unit, naming the unit; and the feed switch is off
/// again afterwards, so a later single write feeds coverage through the triggers.
#[tokio::test]
async fn a_batched_import_feeds_coverage_what_the_triggers_fed() {
    use sqlx::Row;
    async fn ids(store: &Store, sql: &str, seq: i64) -> Vec<Option<i64>> {
        let rows = sqlx::query(sql).bind(seq).fetch_all(store.pool()).await.unwrap();
        let mut v: Vec<Option<i64>> = rows.iter().map(|r| r.try_get("id").unwrap()).collect();
        v.sort();
        v
    }
    const FED: &str = "SELECT entity_id AS id FROM coverage_changes WHERE seq > $1";
    for db in testing::all_backends().await {
        let store = &db.store;
        let backend = db.kind.as_str();
        let (first, _) = files(store).await;
        let top = ids(store, "SELECT MAX(seq) AS id FROM coverage_changes WHERE seq > $1", 0).await;
        let top = top.first().copied().flatten().unwrap_or(0);
        import(store, "first.csv", &first).await;
        let fed = ids(store, FED, top).await;
        let orgs = ids(store, "SELECT organization_id AS id FROM coverage_changes WHERE seq > $1", top).await;
        let mut want = ids(store, "SELECT id FROM entities WHERE id > $1", 0).await;
        want.extend(ids(store, "SELECT entity_id AS id FROM entity_sectors WHERE entity_id > $1", 0).await);
        want.sort();
        assert_eq!(dangjian_cli::demo::unit_count(store).await.unwrap() as usize, ROWS - HELD_BACK, "{backend}");
        assert_eq!(fed, want, "{backend}: one feed entry per unit and per sector row");
        assert!(orgs.iter().all(Option::is_none), "{backend}");
        // A single write afterwards still goes through the triggers.
        let unit = ids(store, "SELECT MIN(id) AS id FROM entities WHERE id > $1", 0).await[0].unwrap();
        sqlx::query(
            "INSERT INTO entity_sectors (entity_id, sector_code) SELECT $1, MIN(code) FROM sectors \
             WHERE code NOT IN (SELECT sector_code FROM entity_sectors WHERE entity_id = $1)",
        )
        .bind(unit)
        .execute(store.pool())
        .await
        .unwrap();
        assert_eq!(ids(store, FED, top).await.len(), fed.len() + 1, "{backend}: the trigger fed the later write");
        db.cleanup().await;
    }
}
