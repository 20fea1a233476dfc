//! `dangjian bench coverage`: times the coverage engine on a loaded database (e.g. `generate --profile
//! national`) side by side with the straightforward SQL, for the nation, the largest province, its
//! largest county and the largest platform chain, today and two years ago; a 24-month trend; the
//! time a single-unit write takes and the time until the next read reflects it; load time and memory.
//! Every engine answer is checked against the SQL's numbers in the same run.

use crate::args::{BenchCoverageArgs, Lang};
use crate::commands::open_migrated;
use crate::timing::{ms, percentiles};
use anyhow::{bail, Context};
use chrono::{Datelike, NaiveDate};
use dangjian_domain::coverage::index::{Figures, Filter, Visibility};
use dangjian_domain::coverage::month_ends;
use dangjian_store::coverage::{Coverage, Freshness};
use std::time::Instant;

fn same(a: &Figures, b: &Figures) -> bool {
    (a.units, a.own, a.joint, a.chain, a.instructor_only, a.none, a.members, a.workers, a.organizations, a.instructors)
        == (
            b.units,
            b.own,
            b.joint,
            b.chain,
            b.instructor_only,
            b.none,
            b.members,
            b.workers,
            b.organizations,
            b.instructors,
        )
}

/// The resident memory of this process, from /proc (Linux), in bytes.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct Case {
    name: String,
    filter: Filter,
    date: NaiveDate,
}

pub async fn coverage(args: &BenchCoverageArgs, lang: Lang) -> anyhow::Result<()> {
    let store = open_migrated(&args.db.db, lang).await?;
    let kind = store.kind().as_str();
    let rss_before = resident_bytes();
    let today = args.date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let coverage = Coverage::new(store.clone()).with_today(move || today);
    let started = Instant::now();
    let freshness = coverage.catch_up().await.context("building the coverage index")?;
    let load = started.elapsed();
    let rss_after = resident_bytes();
    let (units, orgs, bytes) = {
        let index = coverage.read().await?;
        let (u, o) = index.len();
        (u, o, index.approximate_bytes())
    };
    if units == 0 {
        bail!("the database holds no units: load one first (dangjian generate --profile national --db ...)");
    }
    println!("database: {kind}; {units} units, {orgs} organizations");
    if let Some(t) = coverage.last_build_times() {
        println!(
            "index build: reading the tables {:.2} s, putting the index and today's partial sums together {:.2} s",
            t.read.as_secs_f64(),
            t.build.as_secs_f64()
        );
    }
    println!(
        "index built in {:.1} s ({freshness:?}); index ≈ {} MiB; process resident memory {} → {} MiB",
        load.as_secs_f64(),
        bytes / (1 << 20),
        rss_before.map(|b| b / (1 << 20)).unwrap_or(0),
        rss_after.map(|b| b / (1 << 20)).unwrap_or(0),
    );

    let past = NaiveDate::from_ymd_opt(today.year() - 2, today.month(), today.day().min(28)).unwrap_or(today);
    // The largest province, its largest county, the largest chain.
    let (province, county, chain) = {
        let index = coverage.read().await?;
        let all = Visibility::All;
        let nation = index.rollup(&Filter::default(), today, &all)?;
        let province = nation.children.iter().max_by_key(|c| c.figures.units).map(|c| c.code.clone());
        let mut county = None;
        if let Some(p) = &province {
            let mut code = p.clone();
            for _ in 0..2 {
                let r = index.rollup(&Filter { region: Some(code.clone()), ..Default::default() }, today, &all)?;
                match r.children.iter().max_by_key(|c| c.figures.units) {
                    Some(c) => code = c.code.clone(),
                    None => break,
                }
            }
            county = Some(code);
        }
        (province, county, nation.chains.first().map(|c| c.root_id))
    };
    let mut cases = Vec::new();
    for date in [today, past] {
        let when = if date == today { "today" } else { "2 years ago" };
        cases.push(Case { name: format!("nation, {when}"), filter: Filter::default(), date });
        if let Some(p) = &province {
            cases.push(Case {
                name: format!("province {p}, {when}"),
                filter: Filter { region: Some(p.clone()), ..Default::default() },
                date,
            });
        }
        if let Some(c) = &county {
            cases.push(Case {
                name: format!("county {c}, {when}"),
                filter: Filter { region: Some(c.clone()), ..Default::default() },
                date,
            });
        }
        if let Some(c) = chain {
            cases.push(Case {
                name: format!("platform chain {c}, {when}"),
                filter: Filter { chain: Some(c), ..Default::default() },
                date,
            });
        }
    }

    println!();
    println!(
        "| view | engine p50 | engine p99 | engine, scan only p50 / p99 | scan ÷ engine | straightforward SQL | ratio (SQL ÷ engine p50) | numbers |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut all_same = true;
    for case in &cases {
        let mut samples = Vec::with_capacity(args.runs as usize);
        let mut answer = None;
        for _ in 0..args.runs {
            let t = Instant::now();
            let index = coverage.read().await?;
            let r = index.rollup(&case.filter, case.date, &Visibility::All)?;
            samples.push(t.elapsed());
            answer = Some(r);
        }
        let (p50, p99) = percentiles(samples);
        // The same roll-up by a scan over the units, whatever partial sums the index keeps.
        let mut scan_samples = Vec::with_capacity(args.runs as usize);
        let mut scanned = None;
        for _ in 0..args.runs {
            let t = Instant::now();
            let index = coverage.read().await?;
            let r = index.rollup_by_scan(&case.filter, case.date, &Visibility::All)?;
            scan_samples.push(t.elapsed());
            scanned = Some(r);
        }
        let (s50, s99) = percentiles(scan_samples);
        let own_min = {
            let index = coverage.read().await?;
            index.rules().at(dangjian_domain::coverage::day_of(case.date)).own_organization_min
        };
        let t = Instant::now();
        let sql = store.baseline_coverage(&case.filter, case.date, own_min).await?;
        let sql_time = t.elapsed();
        let matches = answer.as_ref().is_some_and(|a| same(&a.totals, &sql.totals) && scanned.as_ref() == Some(a));
        all_same &= matches;
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} / {:.2} ms | {:.1}× | {:.0} ms | {:.0}× | {} |",
            case.name,
            ms(p50),
            ms(p99),
            ms(s50),
            ms(s99),
            s50.as_secs_f64() / p50.as_secs_f64().max(1e-9),
            ms(sql_time),
            sql_time.as_secs_f64() / p50.as_secs_f64().max(1e-9),
            if matches { "identical" } else { "DIFFERENT" }
        );
    }

    // A 24-month trend of the nation and of the largest province.
    let dates = month_ends(today, 24);
    for (name, filter) in
        [("nation", Filter::default()), ("province", Filter { region: province.clone(), ..Default::default() })]
    {
        let mut samples = Vec::new();
        for _ in 0..args.runs.min(20) {
            let t = Instant::now();
            let index = coverage.read().await?;
            index.trend(&filter, &dates, &Visibility::All)?;
            samples.push(t.elapsed());
        }
        let (p50, p99) = percentiles(samples);
        println!("24-month trend, {name}: p50 {:.1} ms, p99 {:.1} ms", ms(p50), ms(p99));
    }
    // The straightforward SQL answers a trend one date at a time: time two dates and scale to 24.
    let t = Instant::now();
    for d in dates.iter().rev().take(2) {
        store.baseline_coverage(&Filter::default(), *d, 3).await?;
    }
    let per_date = t.elapsed() / 2;
    println!(
        "24-month trend by the straightforward SQL: ≈ {:.0} s (24 × {:.1} s per national date, two dates timed)",
        (per_date * 24).as_secs_f64(),
        per_date.as_secs_f64()
    );

    // One unit's change: write it, then read.
    let unit_id: i64 =
        sqlx::query_scalar("SELECT id FROM entities WHERE kind = 'site' AND closed_on IS NULL ORDER BY id LIMIT 1")
            .fetch_one(store.pool())
            .await
            .context("choosing a unit to change")?;
    let mut write_samples = Vec::new();
    let mut reflect_samples = Vec::new();
    // Close the unit and reopen it, an even number of times: the data ends as it was.
    for _ in 0..(args.runs.min(50) / 2 * 2).max(2) {
        let t = Instant::now();
        let mut tx = store.pool().begin().await?;
        sqlx::query(
            "UPDATE entities SET closed_on = CASE WHEN closed_on IS NULL THEN '2000-01-01' ELSE NULL END WHERE id = $1",
        )
        .bind(unit_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        write_samples.push(t.elapsed());
        let t = Instant::now();
        let index = coverage.read().await?;
        if !matches!(index.freshness, Freshness::CaughtUp { .. }) {
            bail!("the change was not picked up from the feed ({:?})", index.freshness);
        }
        let r = index.rollup(&Filter::default(), today, &Visibility::All)?;
        reflect_samples.push(t.elapsed());
        drop(r);
    }
    let (w50, w99) = percentiles(write_samples);
    let (r50, r99) = percentiles(reflect_samples);
    println!(
        "single-unit write (one UPDATE with its change-feed trigger, committed): p50 {:.2} ms, p99 {:.2} ms",
        ms(w50),
        ms(w99)
    );
    println!("next national read, catching up and answering: p50 {:.2} ms, p99 {:.2} ms", ms(r50), ms(r99));
    println!("process resident memory at the end: {} MiB", resident_bytes().map(|b| b / (1 << 20)).unwrap_or(0));
    if !all_same {
        bail!("the engine's numbers differ from the straightforward SQL's");
    }
    Ok(())
}
