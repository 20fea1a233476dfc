//! `dangjian generate` as a user runs it: the built binary fills a fresh database of each available
//! backend (SQLite always; PostgreSQL when `DANGJIAN_TEST_PG` is set) with the small profile; the data
//! must follow every registry rule (it survives an export and a re-import through the row-by-row
//! checks), have the intended shape and gaps, be identical for the same seed on every backend, and leave
//! the coverage feed with exactly one full-rebuild request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_store::testing::{self, TestDb};
use dangjian_store::{DbKind, Store};
use sqlx::Row;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dangjian");

fn dangjian(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("DANGJIAN_DB")
        .env_remove("DANGJIAN_LANG")
        .env_remove("RUST_LOG")
        .env_remove("DANGJIAN_KEY_FILE")
        .env("DANGJIAN_FIELD_KEYS", testing::keyring_env_value())
        .stdin(Stdio::null())
        .output()
        .expect("the dangjian binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn generate(url: &str, seed: &str) -> Output {
    dangjian(&["--lang", "en", "generate", "--profile", "small", "--seed", seed, "--db", url])
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .try_get::<i64, _>(0)
        .unwrap()
}

/// Every generated table in a fixed order, with its columns and whether each is an integer. The
/// instructors' mobile ciphertext is left out (encryption is randomized); its blind index is in.
/// A column and whether it holds an integer.
type Column = (&'static str, bool);

/// A table, its columns and the order to read its rows in.
type Digested = (&'static str, &'static [Column], &'static str);

const DIGESTED: [Digested; 6] = [
    (
        "entities",
        &[
            ("id", true),
            ("uscc", false),
            ("site_code", false),
            ("name", false),
            ("kind", false),
            ("parent_id", true),
            ("root_id", true),
            ("region_code", false),
            ("address", false),
            ("workers", true),
            ("party_members", true),
            ("probationary_members", true),
            ("established_on", false),
            ("closed_on", false),
            ("created_at", false),
        ],
        "id",
    ),
    ("entity_sectors", &[("entity_id", true), ("sector_code", false)], "entity_id, sector_code"),
    (
        "organizations",
        &[
            ("id", true),
            ("code", false),
            ("name", false),
            ("kind", false),
            ("parent_id", true),
            ("region_code", false),
            ("established_on", false),
            ("dissolved_on", false),
            ("term_start", false),
            ("term_end", false),
            ("secretary", false),
        ],
        "id",
    ),
    ("organization_units", &[("organization_id", true), ("entity_id", true)], "organization_id, entity_id"),
    (
        "instructors",
        &[("id", true), ("name", false), ("mobile_idx", false), ("dispatching_org", false), ("region_code", false)],
        "id",
    ),
    (
        "instructor_assignments",
        &[("id", true), ("instructor_id", true), ("entity_id", true), ("start_on", false), ("end_on", false)],
        "id",
    ),
];

/// A digest of every generated row, read back in id order.
async fn digest(store: &Store) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (table, columns, order) in DIGESTED {
        let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
        let sql = format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", "));
        let rows = sqlx::query(&sql).fetch_all(store.pool()).await.unwrap();
        table.hash(&mut h);
        rows.len().hash(&mut h);
        for row in rows {
            for (i, (_, is_int)) in columns.iter().enumerate() {
                if *is_int {
                    row.try_get::<Option<i64>, _>(i).unwrap().hash(&mut h);
                } else {
                    row.try_get::<Option<String>, _>(i).unwrap().hash(&mut h);
                }
            }
        }
    }
    h.finish()
}

/// The shape, the rules SQL can see, and the deliberate gaps.
async fn check_shape(db: &TestDb) {
    let s = &db.store;
    let backend = db.kind.as_str();
    assert_eq!(count(s, "SELECT COUNT(*) FROM entities").await, 5000, "{backend}");
    assert_eq!(count(s, "SELECT COUNT(*) FROM entities WHERE kind = 'platform'").await, 7);
    assert_eq!(count(s, "SELECT COUNT(*) FROM entities WHERE kind IN ('franchisee', 'partner')").await, 750);
    let sites = count(s, "SELECT COUNT(*) FROM entities WHERE kind = 'site'").await;
    let sparse = count(s, "SELECT COUNT(*) FROM entities WHERE kind = 'site' AND party_members <= 2").await;
    assert!(sparse * 10 >= sites * 7, "most sites have fewer than 3 members: {sparse} of {sites}");
    // Every platform roots its own chain; everything else hangs under a unit of that chain.
    assert_eq!(count(s, "SELECT COUNT(*) FROM entities WHERE kind = 'platform' AND root_id <> id").await, 0);
    assert_eq!(
        count(
            s,
            "SELECT COUNT(*) FROM entities e JOIN entities p ON p.id = e.parent_id \
             WHERE p.root_id <> e.root_id OR p.kind = 'site' OR (e.kind <> 'site' AND p.kind <> 'platform')"
        )
        .await,
        0
    );
    // Six provincial-level units, the XPCC among them.
    let provinces =
        "SELECT COUNT(DISTINCT substr(r.path, 2, 2)) FROM entities e JOIN regions r ON r.code = e.region_code";
    assert_eq!(count(s, provinces).await, 6);
    let xpcc = "SELECT COUNT(*) FROM entities e JOIN regions r ON r.code = e.region_code WHERE r.path LIKE '/66/%'";
    assert!(count(s, xpcc).await > 0);
    let dates = "SELECT COUNT(*) FROM entities WHERE established_on < '2015-01-01' OR established_on > '2026-11-01' \
                 OR closed_on < established_on";
    assert_eq!(count(s, dates).await, 0);
    assert!(count(s, "SELECT COUNT(*) FROM entities WHERE closed_on IS NOT NULL").await > 0);

    let orgs = count(s, "SELECT COUNT(*) FROM organizations").await;
    assert!((500..=1500).contains(&orgs), "{orgs} organizations");
    for kind in ["grassroots_committee", "general_branch", "branch", "joint_branch"] {
        let n = count(s, &format!("SELECT COUNT(*) FROM organizations WHERE kind = '{kind}'")).await;
        assert!(n > 0, "no {kind}");
    }
    let joint_sizes = "SELECT COUNT(*) FROM organizations o WHERE o.kind = 'joint_branch' AND \
                       (SELECT COUNT(*) FROM organization_units u WHERE u.organization_id = o.id) < 2";
    assert_eq!(count(s, joint_sizes).await, 0);
    let joint_counties = "SELECT COUNT(*) FROM organizations o WHERE o.kind = 'joint_branch' AND \
                          (SELECT COUNT(DISTINCT substr(e.region_code, 1, 6)) FROM organization_units u \
                           JOIN entities e ON e.id = u.entity_id WHERE u.organization_id = o.id) <> 1";
    assert_eq!(count(s, joint_counties).await, 0, "a joint branch's units are in one county");
    let through_chain = "SELECT COUNT(*) FROM organizations o WHERE o.kind <> 'joint_branch' AND \
                         (SELECT COUNT(*) FROM organization_units u WHERE u.organization_id = o.id) > 1";
    assert!(count(s, through_chain).await > 0, "some organizations cover sites of their chain");
    assert!(count(s, "SELECT COUNT(*) FROM organizations WHERE parent_id IS NOT NULL").await > 0);
    assert!(count(s, "SELECT COUNT(*) FROM organizations WHERE term_end < '2026-11-01'").await > 0, "expired terms");

    // The gaps a registry really has.
    let no_org = |members: &str| {
        format!(
            "SELECT COUNT(*) FROM entities e WHERE {members} AND e.closed_on IS NULL \
             AND NOT EXISTS (SELECT 1 FROM organization_units u WHERE u.entity_id = e.id)"
        )
    };
    assert!(count(s, &no_org("e.party_members >= 3")).await > 0, "≥3 members without an organization");
    assert!(count(s, &no_org("e.party_members BETWEEN 1 AND 2")).await > 0, "1–2 members outside a joint branch");
    let instructor_only = format!(
        "{} AND EXISTS (SELECT 1 FROM instructor_assignments a WHERE a.entity_id = e.id AND a.end_on IS NULL)",
        no_org("e.party_members >= 1")
    );
    assert!(count(s, &instructor_only).await > 0, "units with an instructor only");

    assert_eq!(count(s, "SELECT COUNT(*) FROM instructors").await, 200);
    let plain = "SELECT COUNT(*) FROM instructors WHERE mobile NOT LIKE 'v1.%' OR mobile_idx IS NULL";
    assert_eq!(count(s, plain).await, 0, "mobile numbers are encrypted and indexed");
    assert!(count(s, "SELECT COUNT(*) FROM instructor_assignments WHERE end_on IS NOT NULL").await > 0);

    // The coverage feed holds one request for a full rebuild and nothing else.
    assert_eq!(count(s, "SELECT COUNT(*) FROM coverage_changes").await, 1);
    let rebuild = "SELECT COUNT(*) FROM coverage_changes WHERE entity_id IS NULL AND organization_id IS NULL";
    assert_eq!(count(s, rebuild).await, 1);
}

fn export(url: &str, kind: &str, path: &Path) {
    let out = dangjian(&["export", "--db", url, kind, "--full-personal-data", "-o", path.to_str().unwrap()]);
    assert_exit(&out, 0, &format!("export {kind}"));
}

/// A CSV export with the `、`-separated lists inside each cell sorted: the export lists an
/// organization's units in id order, and the ids of the re-imported database differ.
fn unit_lists_sorted(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| {
            line.split(',')
                .map(|cell| {
                    let mut parts: Vec<&str> = cell.split('、').collect();
                    parts.sort_unstable();
                    parts.join("、")
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// Exports the generated data and imports it into a fresh database through the row-by-row checks.
async fn round_trip(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let target = match db.kind {
        DbKind::Sqlite => testing::sqlite().await,
        DbKind::Postgres => testing::postgres().await.unwrap(),
    };
    let organizations = count(&db.store, "SELECT COUNT(*) FROM organizations").await;
    for (kind, expected) in [("entities", 5000), ("organizations", organizations), ("instructors", 200)] {
        let first = dir.path().join(format!("{kind}-a.csv"));
        export(&db.url, kind, &first);
        let out = dangjian(&["--lang", "en", "import", "--db", &target.url, kind, first.to_str().unwrap()]);
        assert_exit(&out, 0, &format!("re-import {kind} into {}", target.kind.as_str()));
        assert!(text(&out.stdout).contains(&format!("{expected} created")), "{}", text(&out.stdout));
        let second = dir.path().join(format!("{kind}-b.csv"));
        export(&target.url, kind, &second);
        let (a, b) = (unit_lists_sorted(&first), unit_lists_sorted(&second));
        assert!(a == b, "{kind} differ after a round trip");
    }
    target.cleanup().await;
}

#[tokio::test]
async fn the_small_profile_follows_the_rules_and_is_the_same_for_a_seed_on_every_backend() {
    let mut digests = Vec::new();
    for db in testing::all_backends().await {
        let started = std::time::Instant::now();
        let out = generate(&db.url, "7");
        assert_exit(&out, 0, &format!("generate into {}", db.kind.as_str()));
        let seconds = started.elapsed().as_secs_f64();
        assert!(text(&out.stdout).contains("units 5000"), "{}", text(&out.stdout));
        eprintln!("small profile into {}: {seconds:.1} s", db.kind.as_str());
        check_shape(&db).await;
        digests.push((db.kind, digest(&db.store).await));

        let again = generate(&db.url, "7");
        assert_exit(&again, 2, "a database that holds data is refused");
        assert!(text(&again.stderr).contains("already holds data"), "{}", text(&again.stderr));

        round_trip(&db).await;

        // Ids continue after the generated ones (PostgreSQL's sequences were moved past them).
        let max = count(&db.store, "SELECT MAX(id) FROM instructor_assignments").await;
        let next: i64 = sqlx::query(
            "INSERT INTO instructor_assignments (instructor_id, entity_id, start_on) VALUES (1, 1, '2026-11-02') \
             RETURNING id",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        assert_eq!(next, max + 1, "{}", db.kind.as_str());
        db.cleanup().await;
    }
    let same_seed = testing::sqlite().await;
    assert_exit(&generate(&same_seed.url, "7"), 0, "generate again");
    assert_eq!(digest(&same_seed.store).await, digests[0].1, "the same seed gives the same rows");
    let other_seed = testing::sqlite().await;
    assert_exit(&generate(&other_seed.url, "8"), 0, "generate with another seed");
    assert_ne!(digest(&other_seed.store).await, digests[0].1, "another seed gives other rows");
    for (kind, d) in &digests {
        assert_eq!(*d, digests[0].1, "{} differs from SQLite", kind.as_str());
    }
}
