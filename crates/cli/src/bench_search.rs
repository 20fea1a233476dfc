//! `dangjian bench search`: times the unit list's text search (`GET /api/v1/entities?q=`: the first page of
//! 50 and the total) through the n-gram index and through the plain `LIKE` scan, in the same run, for terms
//! of one, two, three and more Chinese characters, codes and parts of codes, common, rare and absent.
//! Every indexed answer is checked against the scan's. Reads only.

use crate::args::{BenchSearchArgs, Lang};
use crate::commands::open_migrated;
use crate::timing::{ms, percentiles};
use anyhow::bail;
use dangjian_domain::SearchTerm;
use dangjian_store::entities::EntityFilter;
use dangjian_store::search::SearchMethod;
use dangjian_store::{AccessFilter, Paging, Store};
use std::time::{Duration, Instant};

/// The terms timed, with what they stand for. Chosen on `generate --profile national --seed 1`; on other
/// data the counts differ but each kind of term is still there.
const TERMS: [(&str, &str); 14] = [
    ("1 character", "骑"),
    ("1 character, common", "号"),
    ("2 characters, common", "快递"),
    ("2 characters, common", "配送"),
    ("2 characters, rare", "简阳"),
    ("2 characters, absent", "外卖"),
    ("3 characters, common", "和平路"),
    ("3 characters, rare", "简阳市"),
    ("4 characters, very common", "有限公司"),
    ("5 characters, rare", "简阳市远嘉"),
    ("USCC prefix", "91510185"),
    ("site code prefix", "P199-09"),
    ("part of a code, lower case", "mg2f"),
    ("whole USCC", "91510185MGC7TYEN56"),
];

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One list call as the API makes it; the total and the ids of the page.
async fn list(store: &Store, f: &EntityFilter, method: SearchMethod) -> anyhow::Result<(i64, Vec<i64>, Duration)> {
    let started = Instant::now();
    let page = store.list_entities_by(f, Paging::new(Some(1), Some(50)), &AccessFilter::unrestricted(), method).await?;
    let took = started.elapsed();
    Ok((page.total, page.items.iter().map(|e| e.id).collect(), took))
}

pub async fn run(args: &BenchSearchArgs, lang: Lang) -> anyhow::Result<()> {
    let store = open_migrated(&args.db.db, lang).await?;
    let units = store.registry_counts().await?.entities;
    if units == 0 {
        bail!("the database holds no units: load some first (dangjian generate --profile national --db ...)");
    }
    println!("database: {}; {units} units; load average at start {}", store.kind().as_str(), load_average());
    println!(
        "first page of 50 and the total, as GET /api/v1/entities?q= does; index {} runs, LIKE scan {} runs",
        args.runs, args.scan_runs
    );
    println!();
    println!("| term | q | matches | index p50 / p99 | LIKE scan p50 / p99 | p50 ratio |");
    println!("|---|---|---|---|---|---|");
    for (label, text) in TERMS {
        let Some(term) = SearchTerm::parse(text, "q")? else { continue };
        let f = EntityFilter { q: Some(term), ..Default::default() };
        // One untimed call each warms the caches; its answers are the ones compared.
        let (total, ids, _) = list(&store, &f, SearchMethod::Index).await?;
        let (scan_total, scan_ids, _) = list(&store, &f, SearchMethod::Scan).await?;
        if (total, &ids) != (scan_total, &scan_ids) {
            bail!("{text}: the index found {total} units ({ids:?}), the scan {scan_total} ({scan_ids:?})");
        }
        let mut index = Vec::new();
        for _ in 0..args.runs {
            index.push(list(&store, &f, SearchMethod::Index).await?.2);
        }
        let mut scan = Vec::new();
        for _ in 0..args.scan_runs {
            scan.push(list(&store, &f, SearchMethod::Scan).await?.2);
        }
        let (i50, i99) = percentiles(index);
        let (s50, s99) = percentiles(scan);
        println!(
            "| {label} | {text} | {total} | {:.1} / {:.1} ms | {:.0} / {:.0} ms | {:.0}× |",
            ms(i50),
            ms(i99),
            ms(s50),
            ms(s99),
            s50.as_secs_f64() / i50.as_secs_f64().max(1e-9)
        );
    }
    println!();
    println!("load average at end {}", load_average());
    Ok(())
}
