//! `dangjian generate`: a deterministic, realistic dataset over the real regions — platform chains,
//! Party organizations with the gaps real registries have, instructors — written straight into a
//! migrated, empty database with multi-row inserts (see `dangjian_store::bulk`).
//!
//! The rows are made on a blocking thread ([`rows::Generator`]) while this task writes the previous
//! batch, so generation and writing overlap on a two-core machine.

pub mod geography;
pub mod rows;

use crate::args::{GenerateArgs, Lang, ProfileArg};
use crate::commands::open_migrated;
use anyhow::{anyhow, bail, Context};
use dangjian_store::bulk::Rows;
use geography::Geography;
use indicatif::{ProgressBar, ProgressStyle};
use rows::{Generator, Shape, Tally};
use std::sync::Arc;
use std::time::Instant;

/// The provinces of the small profile: a handful of big and small ones, the XPCC among them.
pub const SMALL_PROVINCES: [&str; 6] = ["11", "31", "44", "33", "51", "66"];

/// Batches in flight between the generating thread and the writer.
const QUEUE: usize = 8;

/// The size of each profile.
pub fn shape(profile: ProfileArg) -> Shape {
    match profile {
        ProfileArg::Small => Shape { platforms: 7, middles: 750, sites: 4_243, instructors: 200 },
        ProfileArg::Province => Shape { platforms: 10, middles: 7_500, sites: 42_500, instructors: 2_000 },
        ProfileArg::National => Shape { platforms: 200, middles: 150_000, sites: 850_000, instructors: 40_000 },
    }
}

/// The provinces a profile covers (empty: all of them).
pub fn provinces(args: &GenerateArgs) -> Vec<String> {
    match args.profile {
        ProfileArg::Small => SMALL_PROVINCES.iter().map(|p| (*p).to_owned()).collect(),
        ProfileArg::Province => vec![args.province.clone()],
        ProfileArg::National => Vec::new(),
    }
}

pub async fn run(args: &GenerateArgs, lang: Lang) -> anyhow::Result<()> {
    let started = Instant::now();
    let keys = Arc::new(crate::keys::required(lang)?);
    let store = open_migrated(&args.db.db, lang).await?.with_keys(keys.clone());
    let existing = store.registry_counts().await.context("counting existing records")?;
    if !existing.is_empty() {
        bail!(
            "{}",
            lang.t(
                "cli.generate_database_not_empty",
                &[
                    ("v1", existing.entities.to_string()),
                    ("v2", existing.organizations.to_string()),
                    ("v3", existing.instructors.to_string())
                ]
            )
        );
    }
    let known: Vec<String> = store.list_sectors().await?.into_iter().map(|s| s.code).collect();
    if let Some(missing) = rows::sector_codes().find(|c| !known.iter().any(|k| k == c)) {
        bail!("the built-in sector `{missing}` is missing from the sectors table");
    }
    let regions = store.all_regions().await.context("reading the regions")?;
    let geography = Geography::from_regions(&regions, &provinces(args))?;
    drop(regions);
    let shape = shape(args.profile);

    let bar = ProgressBar::new(shape.estimated_rows());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {human_pos}/{human_len} rows {per_sec} {msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Rows>(QUEUE);
    let seed = args.seed;
    let producer = tokio::task::spawn_blocking(move || {
        let seal = move |plain: &str| {
            dangjian_store::personal::seal_instructor_mobile(&keys, plain).map_err(anyhow::Error::from)
        };
        let mut emit = |rows: Rows| sender.blocking_send(rows).map_err(|_| anyhow!("the database writer stopped"));
        Generator::new(seed, shape, &geography).run(&seal, &mut emit)
    });

    let mut load = store.bulk_load().await.context("starting the load")?;
    while let Some(rows) = receiver.recv().await {
        bar.set_message(rows.table.name);
        let n = load.insert(rows).await.context("writing generated rows")?;
        bar.inc(n);
    }
    let tally = producer.await.context("the generator panicked")??;
    bar.set_message("commit");
    let written = load.finish().await.context("committing the generated data")?;
    bar.set_length(written);
    bar.finish_and_clear();
    store.close().await;
    print_summary(args, store.kind().as_str(), &tally, written, started.elapsed().as_secs_f64(), lang);
    Ok(())
}

fn print_summary(args: &GenerateArgs, backend: &str, t: &Tally, rows: u64, secs: f64, lang: Lang) {
    let rate = rows as f64 / secs.max(1e-9);
    let profile = args.profile.as_str();
    let n = |v: u64| v.to_string();
    println!(
        "{}",
        lang.t(
            "cli.generated",
            &[
                ("profile", profile.to_owned()),
                ("seed", args.seed.to_string()),
                ("backend", backend.to_owned()),
                ("rows", n(rows)),
                ("secs", format!("{secs:.1}")),
                ("rate", format!("{rate:.0}")),
            ],
        )
    );
    println!(
        "{}",
        lang.t(
            "cli.generated_units",
            &[
                ("units", n(t.units())),
                ("platforms", n(t.platforms)),
                ("franchisees", n(t.franchisees)),
                ("partners", n(t.partners)),
                ("sites", n(t.sites)),
                ("closed", n(t.closed_units)),
            ],
        )
    );
    println!(
        "{}",
        lang.t(
            "cli.generated_organizations",
            &[
                ("organizations", n(t.organizations())),
                ("committees", n(t.grassroots_committees)),
                ("general_branches", n(t.general_branches)),
                ("branches", n(t.branches)),
                ("joint_branches", n(t.joint_branches)),
                ("floating_branches", n(t.floating_branches)),
                ("links", n(t.organization_units)),
                ("expired", n(t.expired_terms)),
            ],
        )
    );
    println!(
        "{}",
        lang.t(
            "cli.generated_instructors",
            &[("instructors", n(t.instructors)), ("assignments", n(t.assignments)), ("ended", n(t.ended_assignments)),],
        )
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::geography::tests::sample_regions;
    use super::*;
    use dangjian_store::bulk::Value;

    fn generate(seed: u64) -> (Vec<Rows>, Tally) {
        let geo = Geography::from_regions(&sample_regions(), &[]).unwrap();
        let shape = Shape { platforms: 9, middles: 120, sites: 900, instructors: 40 };
        // A stand-in for the cipher, deterministic so that whole rows can be compared.
        let seal = |plain: &str| Ok((format!("sealed:{plain}"), format!("index:{plain}")));
        let mut out = Vec::new();
        let tally = Generator::new(seed, shape, &geo).run(&seal, &mut |rows| {
            out.push(rows);
            Ok(())
        });
        (out, tally.unwrap())
    }

    fn column<'a>(batches: &'a [Rows], table: &str, column: &str) -> Vec<&'a Value> {
        batches
            .iter()
            .filter(|r| r.table.name == table)
            .flat_map(|r| {
                let width = r.table.columns.len();
                let at = r.table.columns.iter().position(|c| *c == column).unwrap();
                r.values.iter().skip(at).step_by(width)
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_rows_and_another_seed_other_rows() {
        let (a, tally) = generate(7);
        let (b, _) = generate(7);
        let (c, _) = generate(8);
        assert_eq!(a, b);
        assert_ne!(column(&a, "entities", "region_code"), column(&c, "entities", "region_code"));
        assert_eq!(tally.units(), 9 + 120 + 900);
        assert_eq!(column(&a, "entities", "id").len(), 1029);
        assert!(tally.organizations() > 50 && tally.joint_branches > 0 && tally.instructors == 40, "{tally:?}");
    }

    #[test]
    fn ids_are_dense_and_references_point_backwards() {
        let (rows, _) = generate(3);
        let ids: Vec<i64> = column(&rows, "entities", "id")
            .into_iter()
            .map(|v| match v {
                Value::Int(i) => *i,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
        for (id, parent) in ids.iter().zip(column(&rows, "entities", "parent_id")) {
            if let Value::Int(p) = parent {
                assert!(p < id, "unit {id} refers forward to {p}");
            }
        }
        let orgs = column(&rows, "organizations", "id");
        for (id, parent) in orgs.iter().zip(column(&rows, "organizations", "parent_id")) {
            if let (Value::Int(id), Value::Int(p)) = (id, parent) {
                assert!(p < id, "organization {id} led by later {p}");
            }
        }
    }

    #[test]
    fn mobile_numbers_are_fictional_and_distinct() {
        let numbers: std::collections::HashSet<String> = (0..50_000).map(rows::fictional_mobile).collect();
        assert_eq!(numbers.len(), 50_000);
        assert!(numbers.iter().all(|m| m.starts_with("138") && dangjian_domain::Mobile::parse(m).is_ok()));
    }

    #[test]
    fn allocation_adds_up() {
        let parts = rows::allocate(1000, &[3.0, 1.0, 1.0]);
        assert_eq!(parts.iter().sum::<usize>(), 1000);
        assert_eq!(parts, [600, 200, 200]);
        assert_eq!(rows::allocate(5, &[]), Vec::<usize>::new());
    }
}
