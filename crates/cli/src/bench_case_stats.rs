//! `dangjian bench case-stats`: the case statistics at national scale on a migrated scratch database.
//! Generates the cases in bulk in SQL (every county, every status, durations, ratings, escalations),
//! then times the nation, a province, a city and one category in one quarter — warm, p50/p99 — by the
//! in-memory index ([`Store::case_statistics`]) and by the earlier single SQL query
//! ([`Store::case_statistics_sql`]) in the same run, checks that both give identical statistics, and
//! prints the ratio; then the index build, one case's change and the next read that reflects it.

use crate::args::{BenchCaseStatsArgs, Lang};
use crate::timing::{ms, percentiles};
use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use dangjian_domain::entity::EntityInput;
use dangjian_domain::EntityDraft;
use dangjian_store::cases::stats::{CaseStatistics, CaseStatsFilter};
use dangjian_store::cases::stats_index::Freshness;
use dangjian_store::{AccessFilter, DbKind, Store};
use std::time::Instant;

/// Tracking codes of generated cases start with this, so a later run recognizes its own cases.
const PREFIX: &str = "BENCH";

/// The load average (1, 5, 15 minutes) from /proc (Linux).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The resident memory of this process, from /proc (Linux), in MiB.
fn resident_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb / 1024)
}

async fn unit(store: &Store, uscc: &str, name: &str, region: &str, sector: &str) -> anyhow::Result<i64> {
    let draft = EntityDraft::parse(&EntityInput {
        uscc: Some(uscc.into()),
        name: Some(name.into()),
        kind: Some("platform".into()),
        sectors: vec![sector.into()],
        region_code: Some(region.into()),
        workers: Some("10".into()),
        ..Default::default()
    })
    .map_err(|e| anyhow::anyhow!("benchmark unit {name}: {e:?}"))?;
    Ok(store.create_entity(&draft, &AccessFilter::unrestricted()).await?.id)
}

/// Writes `n` cases in a few SQL statements: spread over every county in turn, filed every 30 seconds
/// from 24 November 2025, a fifth each submitted, acknowledged and resolved and two fifths closed (rated
/// 1–5), four categories, three sectors and none, two units and none, one in thirteen escalated, with
/// acknowledgment and resolution times (and their seconds) varying case by case.
async fn generate(store: &Store, n: u64) -> anyhow::Result<()> {
    let dept = store.create_department("BENCH-SW-44", "广东省委社会工作部（基准）", "social_work", "44").await?.id;
    let platforms = [
        unit(store, "91350100M000100Y43", "甲平台（基准）", "440305", "food_delivery").await?,
        unit(store, "91330100799655058B", "乙平台（基准）", "110108", "courier").await?,
    ];
    let pool = store.pool();
    sqlx::query("DROP TABLE IF EXISTS bench_case_regions").execute(pool).await?;
    sqlx::query("CREATE TABLE bench_case_regions (k BIGINT PRIMARY KEY, code TEXT NOT NULL)").execute(pool).await?;
    sqlx::query(
        "INSERT INTO bench_case_regions (k, code) SELECT ROW_NUMBER() OVER (ORDER BY code) - 1, code FROM regions \
         WHERE level = 'county'",
    )
    .execute(pool)
    .await?;
    let counties: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bench_case_regions").fetch_one(pool).await?;
    if counties == 0 {
        bail!("the database has no counties: run `dangjian migrate` on it first");
    }
    let kind = store.kind();
    let ts = |e: &str| match kind {
        DbKind::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%SZ', {e}, 'unixepoch')"),
        DbKind::Postgres => format!("to_char(to_timestamp({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
    };
    let at = "(1764000000 + i * 30)";
    let ack = "((i % 97) * 600 + 60)";
    let resolve = "((i % 89) * 3600 + 7200)";
    let status =
        "CASE i % 5 WHEN 0 THEN 'submitted' WHEN 1 THEN 'acknowledged' WHEN 2 THEN 'resolved' ELSE 'closed' END";
    let columns = format!(
        "'{PREFIX}' || i, CASE i % 4 WHEN 0 THEN 'wage_arrears' WHEN 1 THEN 'traffic_safety' WHEN 2 THEN 'other' ELSE 'legal_aid' END, \
         CASE i % 4 WHEN 0 THEN 'courier' WHEN 1 THEN 'food_delivery' WHEN 2 THEN 'ride_hailing' ELSE NULL END, \
         CASE i % 3 WHEN 0 THEN {p0} WHEN 1 THEN {p1} ELSE NULL END, br.code, '', 0, {status}, {dept}, \
         {ack_due}, {resolve_due}, CASE WHEN i % 13 = 0 THEN 1 ELSE 0 END, \
         CASE WHEN i % 5 >= 3 THEN 1 + (i / 5) % 5 ELSE NULL END, \
         CASE WHEN i % 5 >= 1 THEN {acked} ELSE NULL END, CASE WHEN i % 5 >= 2 THEN {resolved} ELSE NULL END, \
         {created}, CASE WHEN i % 5 >= 3 THEN {closed} ELSE NULL END, \
         CASE WHEN i % 5 >= 1 THEN {ack} ELSE NULL END, CASE WHEN i % 5 >= 2 THEN {resolve} ELSE NULL END",
        p0 = platforms[0],
        p1 = platforms[1],
        ack_due = ts(&format!("{at} + 86400 * (i % 3)")),
        resolve_due = ts(&format!("{at} + 864000")),
        acked = ts(&format!("{at} + {ack}")),
        resolved = ts(&format!("{at} + {resolve}")),
        created = ts(at),
        closed = ts(&format!("{at} + 360000")),
    );
    let into = "INSERT INTO cases (tracking_code, category, sector, entity_id, region_code, description, anonymous, \
                status, department_id, ack_due, resolve_due, escalation_level, rating, acknowledged_at, resolved_at, \
                created_at, closed_at, ack_seconds, resolve_seconds)";
    // In slices of 100,000, so that progress shows and no statement grows too large.
    let slice = 100_000u64;
    let mut lo = 1u64;
    while lo <= n {
        let hi = (lo + slice - 1).min(n);
        let sql = match kind {
            DbKind::Sqlite => format!(
                "WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi}) \
                 {into} SELECT {columns} FROM s JOIN bench_case_regions br ON br.k = i % {counties}"
            ),
            DbKind::Postgres => format!(
                "{into} SELECT {columns} FROM generate_series({lo}, {hi}) AS s(i) \
                 JOIN bench_case_regions br ON br.k = i % {counties}"
            ),
        };
        sqlx::query(&sql).execute(pool).await.context("generating cases")?;
        eprint!("\r{hi} cases");
        lo = hi + 1;
    }
    eprintln!();
    sqlx::query("DROP TABLE bench_case_regions").execute(pool).await?;
    // The triggers wrote a change per case; one rebuild request says the same.
    store.request_case_index_rebuild().await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

struct View {
    name: &'static str,
    filter: CaseStatsFilter,
}

pub async fn run(args: &BenchCaseStatsArgs, lang: Lang) -> anyhow::Result<()> {
    let store = crate::commands::open(&args.db.db, lang).await?;
    crate::commands::require_schema(&store, &args.db.db, lang).await?;
    let n = u64::from(args.cases);
    let pool = store.pool();
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(pool).await?;
    let ours: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM cases WHERE tracking_code LIKE '{PREFIX}%'"))
        .fetch_one(pool)
        .await?;
    println!("database: {}; load average at start: {}", store.kind().as_str(), load_average());
    if total == 0 {
        let t = Instant::now();
        generate(&store, n).await?;
        println!("{n} cases generated in {:.1} s", t.elapsed().as_secs_f64());
    } else if total == ours && ours as u64 == n {
        println!("reusing the {n} cases generated by an earlier run");
    } else {
        bail!("{}", lang.t("cli.bench_cases_exist", &[]));
    }

    let rss_before = resident_mib();
    let t = Instant::now();
    let freshness = store.case_index().await?.freshness;
    println!(
        "index built in {:.1} s ({freshness:?}); process resident memory {rss_before} → {} MiB",
        t.elapsed().as_secs_f64(),
        resident_mib()
    );

    let now: DateTime<Utc> = "2027-01-01T00:00:00Z".parse().context("the benchmark's moment")?;
    let all = AccessFilter::unrestricted();
    let views = [
        View { name: "the nation", filter: CaseStatsFilter::default() },
        View { name: "province 44", filter: CaseStatsFilter { region: Some("44".into()), ..Default::default() } },
        View { name: "city 4403", filter: CaseStatsFilter { region: Some("4403".into()), ..Default::default() } },
        View {
            name: "the nation, wage_arrears, 2026 Q1",
            filter: CaseStatsFilter {
                category: Some("wage_arrears".into()),
                from: NaiveDate::from_ymd_opt(2026, 1, 1),
                to: NaiveDate::from_ymd_opt(2026, 3, 31),
                ..Default::default()
            },
        },
    ];
    println!();
    println!(
        "| view | cases counted | index p50 | index p99 | earlier SQL p50 | earlier SQL p99 | ratio (SQL ÷ index, p50) | numbers |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut all_same = true;
    for v in &views {
        // Warm both paths once, then take turns so that outside load weighs on both alike.
        let mut answer: CaseStatistics = store.case_statistics(&all, &v.filter, now).await?;
        let mut sql_answer = store.case_statistics_sql(&all, &v.filter, now).await?;
        let mut fast = Vec::new();
        let mut slow = Vec::new();
        for round in 0..args.runs.max(args.sql_runs) {
            if round < args.runs {
                let t = Instant::now();
                answer = store.case_statistics(&all, &v.filter, now).await?;
                fast.push(t.elapsed());
            }
            if round < args.sql_runs {
                let t = Instant::now();
                sql_answer = store.case_statistics_sql(&all, &v.filter, now).await?;
                slow.push(t.elapsed());
            }
        }
        let same = answer == sql_answer;
        all_same &= same;
        let (f50, f99) = percentiles(fast);
        let (s50, s99) = percentiles(slow);
        println!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.0} ms | {:.0} ms | {:.0}× | {} |",
            v.name,
            answer.totals.cases,
            ms(f50),
            ms(f99),
            ms(s50),
            ms(s99),
            s50.as_secs_f64() / f50.as_secs_f64().max(1e-9),
            if same { "identical" } else { "DIFFERENT" }
        );
    }

    // One case's change, then the next national read: flip a case's escalation an even number of times.
    let id: i64 =
        sqlx::query_scalar(&format!("SELECT id FROM cases WHERE tracking_code LIKE '{PREFIX}%' ORDER BY id LIMIT 1"))
            .fetch_one(pool)
            .await?;
    let mut writes = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..(args.runs.min(50) / 2 * 2).max(2) {
        let t = Instant::now();
        sqlx::query("UPDATE cases SET escalation_level = 1 - escalation_level WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
        writes.push(t.elapsed());
        let t = Instant::now();
        let read = store.case_index().await?;
        if !matches!(read.freshness, Freshness::CaughtUp { .. }) {
            bail!("the change was not picked up from the feed ({:?})", read.freshness);
        }
        drop(read);
        store.case_statistics(&all, &CaseStatsFilter::default(), now).await?;
        reads.push(t.elapsed());
    }
    let (w50, w99) = percentiles(writes);
    let (r50, r99) = percentiles(reads);
    println!();
    println!(
        "one case's change (an UPDATE with its change-feed trigger): p50 {:.2} ms, p99 {:.2} ms",
        ms(w50),
        ms(w99)
    );
    println!("the next national statistics, catching up and answering: p50 {:.1} ms, p99 {:.1} ms", ms(r50), ms(r99));
    println!("process resident memory at the end: {} MiB; load average at the end: {}", resident_mib(), load_average());
    if !all_same {
        bail!("the index's statistics differ from the earlier SQL's");
    }
    Ok(())
}
