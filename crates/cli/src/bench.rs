//! `dangjian bench import`: generates valid entity rows (platforms → franchisees/partners → sites, real
//! county codes, valid USCCs), writes them as a CSV file, and times the real import pipeline on them —
//! reading and checking alone, the first import, and an idempotent re-import of the same file.

use crate::args::{BenchImportArgs, Lang};
use crate::codes::generated_uscc;
use crate::commands::open;
use anyhow::{bail, Context};
use dangjian_domain::RegionLevel;
use dangjian_ingest::{read_table, validate_entities, Kind};
use dangjian_store::access::AccessFilter;
use dangjian_store::regions::RegionFilter;
use dangjian_store::{ImportSummary, Paging, Store};
use dangjian_web::transfer::{import_file, ImportFailure};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Sectors the generated chains work in (Chinese names, resolved by the registry like any file's).
const SECTORS: [&str; 4] = ["快递", "外卖配送", "网约车", "网络货运"];

/// A small deterministic generator (SplitMix64), so every run imports the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// How the generated rows split over the tiers of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub platforms: usize,
    pub middle: usize,
    pub sites: usize,
}

impl Shape {
    /// One platform per 5,000 rows, one franchisee or partner per 100, the rest sites.
    pub fn for_rows(rows: usize) -> Self {
        let platforms = (rows / 5000).max(1);
        let middle = (rows / 100).max(1).min(rows.saturating_sub(platforms + 1).max(1));
        let sites = rows.saturating_sub(platforms + middle);
        Self { platforms, middle, sites }
    }
}

/// A CSV file of `rows` valid entity rows over the given county codes (English headers, UTF-8).
pub fn generate_entities_csv(rows: usize, counties: &[String]) -> anyhow::Result<(String, Shape)> {
    if counties.is_empty() {
        bail!("no county-level regions in the database; run `dangjian migrate` first");
    }
    let shape = Shape::for_rows(rows);
    let mut rng = Rng(20_240_601);
    let mut out = String::with_capacity(rows * 140);
    out.push_str("uscc,site_code,name,kind,sector,parent_uscc,region_code,address,workers,party_members,probationary_members,established_on,closed_on\n");
    let mut serial = 0u64;
    let mut next_uscc = |county: &str| {
        serial += 1;
        generated_uscc(county, 'B', serial).map(|u| u.to_string())
    };
    let county = |rng: &mut Rng| counties[rng.below(counties.len() as u64) as usize].as_str();
    let date = |rng: &mut Rng| format!("{}-{:02}-{:02}", 2012 + rng.below(13), 1 + rng.below(12), 1 + rng.below(28));
    let invalid = |e: dangjian_domain::FieldError| anyhow::anyhow!("generated an invalid code: {}", e.message);

    let mut platforms = Vec::with_capacity(shape.platforms);
    for p in 0..shape.platforms {
        let region = county(&mut rng);
        let uscc = next_uscc(region).map_err(invalid)?;
        let sector = SECTORS[p % SECTORS.len()];
        let members = 100 + rng.below(400);
        let _ = writeln!(
            out,
            "{uscc},,基准平台企业{p:03},平台企业,{sector},,{region},总部大道{p}号,{},{members},{},{},",
            members * 8,
            rng.below(10),
            date(&mut rng)
        );
        platforms.push((uscc, sector));
    }
    let mut middle = Vec::with_capacity(shape.middle);
    for m in 0..shape.middle {
        let (parent, sector) = &platforms[m % platforms.len()];
        let region = county(&mut rng);
        let uscc = next_uscc(region).map_err(invalid)?;
        let kind = if m % 2 == 0 { "加盟企业" } else { "合作企业" };
        let workers = 50 + rng.below(800);
        let _ = writeln!(
            out,
            "{uscc},,基准{kind}{m:05},{kind},{sector},{parent},{region},园区路{m}号,{workers},{},0,{},",
            rng.below(12),
            date(&mut rng)
        );
        middle.push((uscc, *sector, region));
    }
    for s in 0..shape.sites {
        let (parent, sector, parent_region) = &middle[s % middle.len()];
        // Most sites are near their operator; a fifth are elsewhere.
        let region = if rng.below(5) == 0 { county(&mut rng) } else { parent_region };
        let workers = 10 + rng.below(140);
        let members = match rng.below(100) {
            0..=59 => 0,
            60..=84 => 1,
            85..=94 => 2,
            _ => 3 + rng.below(5),
        };
        let probationary = u64::from(rng.below(20) == 0);
        let (uscc, site_code) = if s % 2 == 0 {
            (next_uscc(region).map_err(invalid)?, String::new())
        } else {
            (String::new(), format!("BS-{s:07}"))
        };
        let closed = if rng.below(50) == 0 { "2025-12-31" } else { "" };
        let _ = writeln!(
            out,
            "{uscc},{site_code},基准站点{s:07},站点,{sector},{parent},{region},街道{s}号,{workers},{members},{probationary},{},{closed}",
            date(&mut rng)
        );
    }
    Ok((out, shape))
}

/// Whether units can be registered at this county-level code (see [`county_codes`]).
fn holds_units(county: &str) -> bool {
    dangjian_domain::RegionCode::parse(county).is_ok_and(|c| c.is_unit_level())
}

/// Every county-level region code in the database that a unit can be registered at. The NBS rows of
/// prefecture-level cities without counties (东莞 441900, 中山 442000, 儋州 460400) end in `00` and parse
/// as their prefecture, so units there are registered at a township; the generator leaves them out.
pub async fn county_codes(store: &Store) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let filter = RegionFilter { level: Some(RegionLevel::County), ..Default::default() };
    for page in 1.. {
        let p = store.list_regions(&filter, Paging::new(Some(page), Some(Paging::MAX_PER_PAGE))).await?;
        let done = p.items.is_empty() || (page * p.per_page) >= p.total;
        out.extend(p.items.into_iter().map(|r| r.code).filter(|c| holds_units(c)));
        if done {
            break;
        }
    }
    Ok(out)
}

fn rate(rows: usize, d: Duration) -> f64 {
    rows as f64 / d.as_secs_f64().max(1e-9)
}

fn describe(s: &ImportSummary, lang: Lang) -> String {
    lang.t(
        "cli.import_summary",
        &[
            ("created", s.created.to_string()),
            ("updated", s.updated.to_string()),
            ("unchanged", s.unchanged.to_string()),
        ],
    )
}

/// CPU time this process has used (user + system), from `/proc/self/stat` (Linux; `None` elsewhere).
/// On SQLite the whole import, database included, runs in this process: its CPU time is what the import
/// would take on an idle machine, however busy this one is.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces): state is the first,
    // utime and stime the 12th and 13th, in clock ticks of 1/100 s (USER_HZ on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

async fn timed_import(
    store: &Store,
    name: &str,
    bytes: &[u8],
    lang: Lang,
) -> anyhow::Result<(ImportSummary, Duration, Option<Duration>)> {
    let t = Instant::now();
    let cpu = process_cpu();
    match import_file(store, Kind::Entities, name, bytes, false, lang.code(), &AccessFilter::unrestricted()).await {
        Ok(s) => Ok((s, t.elapsed(), cpu.zip(process_cpu()).map(|(a, b)| b.saturating_sub(a)))),
        Err(ImportFailure::Rows(errs)) => {
            let first: Vec<String> = errs.errors.iter().take(20).map(ToString::to_string).collect();
            bail!("the generated file was rejected ({} errors):\n{}", errs.total, first.join("\n"))
        }
        Err(ImportFailure::Unreadable(e)) => bail!("{}", e.localized(lang.code())),
        Err(ImportFailure::Store(e)) => Err(e.into()),
    }
}

pub async fn import(args: &BenchImportArgs, lang: Lang) -> anyhow::Result<()> {
    let rows = args.rows as usize;
    let store = open(&args.db.db, lang).await?;
    store.migrate().await.context("migrating the benchmark database")?;
    let existing = crate::demo::unit_count(&store).await?;
    if existing > 0 && !args.allow_nonempty {
        bail!("{}", lang.t("cli.bench_database_not_empty", &[("existing", existing.to_string())]));
    }
    let counties = county_codes(&store).await?;
    let (csv, shape) = generate_entities_csv(rows, &counties)?;
    if csv.len() > dangjian_ingest::MAX_FILE_BYTES {
        bail!(
            "{rows} rows make a file of {} bytes, over the import limit of {}; use fewer rows",
            csv.len(),
            dangjian_ingest::MAX_FILE_BYTES
        );
    }
    let dir = tempfile::tempdir().context("creating a temporary folder")?;
    let path = dir.path().join("bench-entities.csv");
    std::fs::write(&path, csv.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    let name = path.display().to_string();
    let bytes = std::fs::read(&path).with_context(|| format!("reading {name}"))?;

    println!("{}{}", lang.t("cli.database_lower", &[]), store.kind().as_str());
    println!(
        "{}{name} ({rows} {}, {:.1} MB; {} {}, {} {}, {} {})",
        lang.t("cli.file", &[]),
        lang.t("cli.rows", &[]),
        bytes.len() as f64 / 1_048_576.0,
        shape.platforms,
        lang.t("cli.platforms", &[]),
        shape.middle,
        lang.t("cli.franchisees_partners", &[]),
        shape.sites,
        lang.t("cli.sites", &[]),
    );

    let t = Instant::now();
    let table = read_table(&name, &bytes).map_err(|e| anyhow::anyhow!("{}", e.localized(lang.code())))?;
    let checked = validate_entities(&table, lang.code()).map_err(|errs| {
        anyhow::anyhow!("{}", errs.iter().take(20).map(ToString::to_string).collect::<Vec<_>>().join("\n"))
    })?;
    let parse = t.elapsed();
    drop(checked);

    let (first, first_t, first_cpu) = timed_import(&store, &name, &bytes, lang).await?;
    let (again, again_t, again_cpu) = timed_import(&store, &name, &bytes, lang).await?;

    let line = |label: &str, d: Duration, what: Option<String>, cpu: Option<Duration>| {
        let (secs, rate) = (d.as_secs_f64(), rate(rows, d));
        let what = what.map(|w| lang.t("cli.parenthesized", &[("w", w.to_string())]).to_owned()).unwrap_or_default();
        let cpu = cpu.map(|c| (c.as_secs_f64(), self::rate(rows, c)));
        let mut args = vec![
            ("label", label.to_owned()),
            ("secs", format!("{secs:.2}")),
            ("rate", format!("{rate:.0}")),
            ("what", what),
        ];
        let key = match cpu {
            None => "cli.bench_line",
            Some((c, r)) => {
                args.extend([("cpu", format!("{c:.2}")), ("cpu_rate", format!("{r:.0}"))]);
                "cli.bench_line_cpu"
            }
        };
        println!("{}", lang.t(key, &args));
    };
    line(&lang.t("cli.read_check_only", &[]), parse, None, None);
    line(&lang.t("cli.first_import", &[]), first_t, Some(describe(&first, lang)), first_cpu);
    line(&lang.t("cli.re_import_idempotent", &[]), again_t, Some(describe(&again, lang)), again_cpu);
    if first.created != rows || again.unchanged != rows {
        bail!("unexpected outcome: first import {first:?}, re-import {again:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counties_without_units_are_left_out() {
        assert!(holds_units("659001") && holds_units("110105"));
        assert!(!holds_units("441900") && !holds_units("460400"));
    }

    #[test]
    fn shapes() {
        assert_eq!(Shape::for_rows(100_000), Shape { platforms: 20, middle: 1000, sites: 98_980 });
        assert_eq!(Shape::for_rows(10), Shape { platforms: 1, middle: 1, sites: 8 });
        let s = Shape::for_rows(2);
        assert_eq!(s.platforms + s.middle + s.sites, 2);
    }

    #[test]
    fn generated_rows_pass_every_check_that_needs_no_database() {
        let counties = vec!["110105".to_owned(), "659001".to_owned(), "310118".to_owned()];
        let Ok((csv, _)) = generate_entities_csv(500, &counties) else { panic!("generation failed") };
        let Ok((again, _)) = generate_entities_csv(500, &counties) else { panic!("generation failed") };
        assert_eq!(csv, again, "deterministic");
        let table = read_table("bench.csv", csv.as_bytes());
        let Ok(table) = table else { panic!("unreadable: {table:?}") };
        assert_eq!(table.rows.len(), 500);
        match validate_entities(&table, "en") {
            Ok(sheet) => assert_eq!(sheet.rows.len(), 500),
            Err(errs) => panic!("{}", errs.iter().take(5).map(ToString::to_string).collect::<Vec<_>>().join("\n")),
        }
    }
}
