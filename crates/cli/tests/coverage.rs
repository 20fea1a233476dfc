//! The coverage engine against the straightforward SQL (the oracle), on every backend: every count and
//! rate of the nation, each province and each platform chain, for several dates; and writes reflected
//! before the next read, whichever process made them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use dangjian_domain::coverage::index::{Figures, Filter, Visibility};
use dangjian_domain::coverage::rules::RuleSet;
use dangjian_domain::coverage::state::CoverageState;
use dangjian_domain::{EntityKind, OrganizationDraft};
use dangjian_store::access::AccessFilter;
use dangjian_store::coverage::Coverage;
use dangjian_store::testing::{self, TestDb};
use dangjian_store::Store;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const DATES: [&str; 5] = ["2018-06-30", "2021-12-31", "2023-06-30", "2025-01-01", "2026-11-27"];

fn counts(f: &Figures) -> [u64; 9] {
    [f.units, f.own, f.joint, f.chain, f.instructor_only, f.none, f.members, f.workers, f.units_needing_own]
}

/// Every figure of `filter` on every date, engine against SQL.
async fn assert_matches(store: &Store, coverage: &Coverage, filter: &Filter, what: &str) {
    let index = coverage.read().await.unwrap();
    for day in DATES {
        let date = d(day);
        let own_min = RuleSet::default().at(dangjian_domain::coverage::day_of(date)).own_organization_min;
        let sql = store.baseline_coverage(filter, date, own_min).await.unwrap();
        let engine = index.rollup(filter, date, &Visibility::All).unwrap();
        assert_eq!(counts(&engine.totals), counts(&sql.totals), "{what} on {day}: totals");
        assert_eq!(engine.totals.organizations, sql.totals.organizations, "{what} on {day}: organizations");
        assert_eq!(engine.totals.instructors, sql.totals.instructors, "{what} on {day}: instructors");
        assert_eq!(engine.totals.coverage_rate, sql.totals.coverage_rate, "{what} on {day}");
        let mut cells: Vec<(String, EntityKind, [u64; 9])> =
            engine.table.iter().map(|c| (c.sector.clone(), c.tier, counts(&c.figures))).collect();
        let mut expected: Vec<(String, EntityKind, [u64; 9])> =
            sql.table.iter().map(|(s, k, f)| (s.clone(), *k, counts(f))).collect();
        cells.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
        expected.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
        assert_eq!(cells, expected, "{what} on {day}: sector × tier");
        // Each sub-region's line equals the SQL for that region.
        for child in &engine.children {
            let f = Filter { region: Some(child.code.clone()), ..filter.clone() };
            let sql = store.baseline_coverage(&f, date, own_min).await.unwrap();
            assert_eq!(counts(&child.figures), counts(&sql.totals), "{what} on {day}: {}", child.code);
            assert_eq!(child.figures.organizations, sql.totals.organizations, "{what} {day} {}", child.code);
            assert_eq!(child.figures.instructors, sql.totals.instructors, "{what} {day} {}", child.code);
        }
        // The trend point of the date equals the roll-up.
        let trend = index.trend(filter, &[date], &Visibility::All).unwrap();
        assert_eq!(counts(&trend[0].figures), counts(&engine.totals), "{what} on {day}: trend");
    }
}

async fn demo_db() -> Vec<TestDb> {
    let mut out = Vec::new();
    for db in testing::all_backends().await {
        dangjian_cli::demo::load(&db.store).await.unwrap();
        out.push(db);
    }
    out
}

#[tokio::test]
async fn the_engine_equals_the_straightforward_sql_on_the_demo_dataset() {
    for db in demo_db().await {
        let coverage = Coverage::new(db.store.clone());
        let what = db.kind.as_str();
        assert_matches(&db.store, &coverage, &Filter::default(), &format!("{what} nation")).await;
        let index = coverage.read().await.unwrap();
        let provinces: Vec<String> = index
            .rollup(&Filter::default(), d("2026-11-27"), &Visibility::All)
            .unwrap()
            .children
            .iter()
            .map(|c| c.code.clone())
            .collect();
        let chains: Vec<i64> = index
            .rollup(&Filter::default(), d("2026-11-27"), &Visibility::All)
            .unwrap()
            .chains
            .iter()
            .map(|c| c.root_id)
            .collect();
        drop(index);
        assert!(provinces.len() >= 10 && chains.len() >= 5);
        for p in provinces {
            assert_matches(&db.store, &coverage, &Filter { region: Some(p.clone()), ..Default::default() }, &p).await;
        }
        for c in chains {
            let f = Filter { chain: Some(c), ..Default::default() };
            assert_matches(&db.store, &coverage, &f, &format!("chain {c}")).await;
        }
        let f = Filter { sector: Some("courier".into()), tier: Some(EntityKind::Site), ..Default::default() };
        assert_matches(&db.store, &coverage, &f, "courier sites").await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_write_shows_in_the_next_read_of_every_process() {
    for db in demo_db().await {
        let here = Coverage::new(db.store.clone());
        // Another server process over the same database.
        let there = Coverage::new(Store::connect(&db.url).await.unwrap().with_keys(testing::keyring()));
        let today = d("2026-11-27");
        let before = here.read().await.unwrap().rollup(&Filter::default(), today, &Visibility::All).unwrap().totals;
        there.read().await.unwrap();
        // A site without any coverage gets its own branch.
        let index = here.read().await.unwrap();
        let gaps = index.gaps(&Filter::default(), today, &Visibility::All, None, Default::default()).unwrap();
        drop(index);
        let gap = gaps.iter().find(|g| g.state == CoverageState::None).expect("the demo has an uncovered unit");
        let unit = db.store.entity(gap.unit_id).await.unwrap();
        let code = unit.uscc.clone().or(unit.site_code.clone()).unwrap();
        let draft = OrganizationDraft::parse(&dangjian_domain::org::OrganizationInput {
            code: Some("TEST-COV-1".into()),
            name: Some("测试党支部".into()),
            kind: Some("branch".into()),
            unit_codes: vec![code],
            region_code: Some(unit.region_code.clone()),
            established_on: Some("2026-01-01".into()),
            ..Default::default()
        })
        .unwrap();
        let created = db.store.create_organization(&draft, &AccessFilter::unrestricted()).await.unwrap();
        for c in [&here, &there] {
            let read = c.read().await.unwrap();
            let after = read.rollup(&Filter::default(), today, &Visibility::All).unwrap().totals;
            assert_eq!(after.own, before.own + 1, "{:?}", read.freshness);
            assert_eq!(after.none, before.none - 1);
            assert_eq!(read.unit(gap.unit_id, today).unwrap().state, CoverageState::Own);
        }
        // Dissolved today: as of today it no longer counts; a year ago it did not exist yet.
        db.store
            .dissolve_organization(created.id, today, created.version, &AccessFilter::unrestricted())
            .await
            .unwrap();
        for c in [&here, &there] {
            let after = c.read().await.unwrap().rollup(&Filter::default(), today, &Visibility::All).unwrap().totals;
            assert_eq!(counts(&after), counts(&before));
        }
        // A bulk load asks for a rebuild.
        db.store.request_coverage_rebuild().await.unwrap();
        assert_eq!(here.read().await.unwrap().freshness, dangjian_store::coverage::Freshness::Rebuilt);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn new_rules_are_checked_stored_and_rebuild_the_figures() {
    let bin = env!("CARGO_BIN_EXE_dangjian");
    for db in demo_db().await {
        let coverage = Coverage::new(db.store.clone());
        let today = d("2026-11-27");
        let before = coverage.read().await.unwrap().rollup(&Filter::default(), today, &Visibility::All).unwrap().totals;
        let run = |args: &[&str]| {
            std::process::Command::new(bin)
                .args(["--lang", "en"])
                .args(args)
                .env("DANGJIAN_FIELD_KEYS", testing::keyring_env_value())
                .output()
                .unwrap()
        };
        let shown = run(&["rules", "show", "--db", &db.url]);
        assert!(shown.status.success());
        let mut rules: RuleSet = serde_json::from_slice(&shown.stdout).unwrap();
        assert_eq!(rules, RuleSet::default());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rules.json");
        // From 2026-01-01 two formal members already call for an organization.
        let mut v = rules.versions.last().unwrap().clone();
        v.effective_from = d("2026-01-01");
        v.thresholds.own_organization_min = 2;
        rules.versions.push(v);
        std::fs::write(&file, serde_json::to_string(&rules).unwrap()).unwrap();
        let out = run(&["rules", "set", "--db", &db.url, file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let read = coverage.read().await.unwrap();
        assert_eq!(read.freshness, dangjian_store::coverage::Freshness::Rebuilt);
        let after = read.rollup(&Filter::default(), today, &Visibility::All).unwrap().totals;
        assert!(after.units_needing_own > before.units_needing_own, "{before:?} {after:?}");
        let past = read.rollup(&Filter::default(), d("2025-06-30"), &Visibility::All).unwrap().totals;
        let old = read.rules().at(dangjian_domain::coverage::day_of(d("2025-06-30"))).own_organization_min;
        assert_eq!(old, 3, "earlier dates keep the earlier rules ({past:?})");
        drop(read);
        // A broken file is refused and nothing changes.
        std::fs::write(&file, r#"{"versions": []}"#).unwrap();
        let out = run(&["rules", "set", "--db", &db.url, file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("rules.json"));
        assert_eq!(db.store.coverage_rules().await.unwrap(), rules);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_engine_equals_the_straightforward_sql_on_the_small_profile() {
    let bin = env!("CARGO_BIN_EXE_dangjian");
    for db in testing::all_backends().await {
        let out = std::process::Command::new(bin)
            .args(["generate", "--profile", "small", "--seed", "3", "--db", &db.url])
            .env("DANGJIAN_FIELD_KEYS", testing::keyring_env_value())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let coverage = Coverage::new(db.store.clone());
        let what = db.kind.as_str();
        assert_matches(&db.store, &coverage, &Filter::default(), &format!("{what} small nation")).await;
        let index = coverage.read().await.unwrap();
        assert_eq!(index.freshness, dangjian_store::coverage::Freshness::Current);
        let nation = index.rollup(&Filter::default(), d("2026-11-27"), &Visibility::All).unwrap();
        assert!(nation.totals.units >= 4_000, "{:?}", nation.totals);
        assert!(nation.totals.chain > 0 && nation.totals.joint > 0 && nation.totals.instructor_only > 0);
        assert!(nation.children.iter().any(|c| c.code == "66"), "the XPCC is its own province");
        let provinces: Vec<String> = nation.children.iter().take(2).map(|c| c.code.clone()).collect();
        let chains: Vec<i64> = nation.chains.iter().take(3).map(|c| c.root_id).collect();
        drop(index);
        for p in provinces {
            assert_matches(&db.store, &coverage, &Filter { region: Some(p.clone()), ..Default::default() }, &p).await;
        }
        for c in chains {
            let f = Filter { chain: Some(c), tier: Some(EntityKind::Site), ..Default::default() };
            assert_matches(&db.store, &coverage, &f, &format!("chain {c} sites")).await;
        }
        db.cleanup().await;
    }
}
