//! `dangjian bench stations`: builds random stations in memory (no database), then times the finder's
//! nearest-station queries — without filters, with an amenity, and with an amenity and "open now" —
//! against a brute-force scan of every station in the same run, checking that both answer the same.

use crate::args::BenchStationsArgs;
use crate::timing::percentiles;
use anyhow::bail;
use chrono::NaiveDate;
use dangjian_domain::services::finder::{brute_force_nearest, FinderQuery, FinderStation, StationIndex};
use dangjian_domain::services::hours::OpeningHours;
use dangjian_domain::services::stations::{Amenity, AmenitySet, LatLng};
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn random_point(rng: &mut impl Rng) -> LatLng {
    LatLng { lat: rng.random_range(18.0..50.0), lng: rng.random_range(75.0..134.0) }
}

fn stations(rng: &mut impl Rng, n: u32) -> anyhow::Result<Vec<FinderStation>> {
    let hours: Vec<OpeningHours> = ["24h", "周一至周五 09:00-18:00", "Mon-Sun 07:00-22:00", "周六,周日 22:00-06:00"]
        .iter()
        .map(|h| OpeningHours::parse(h))
        .collect::<Result<_, _>>()?;
    Ok((0..n)
        .map(|i| {
            let amenities: Vec<Amenity> = Amenity::ALL.iter().copied().filter(|_| rng.random_bool(0.5)).collect();
            FinderStation {
                id: i64::from(i) + 1,
                name: format!("驿站{i}"),
                address: String::new(),
                region_code: "110105".into(),
                position: random_point(rng),
                amenities: AmenitySet::of(&amenities),
                hours: hours[rng.random_range(0..hours.len())].clone(),
                contact_phone: None,
            }
        })
        .collect())
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub fn run(a: &BenchStationsArgs) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261127);
    let all = stations(&mut rng, a.stations)?;
    let started = Instant::now();
    let index = StationIndex::build(all.clone());
    let build = started.elapsed();
    let shared: Vec<Arc<FinderStation>> = all.into_iter().map(Arc::new).collect();
    println!("stations: {}  index build: {:.1} ms", a.stations, build.as_secs_f64() * 1000.0);
    let friday_noon = NaiveDate::from_ymd_opt(2026, 11, 27).and_then(|d| d.and_hms_opt(12, 0, 0));
    let water = AmenitySet::of(&[Amenity::DrinkingWater]);
    let variants = [
        ("no filter", AmenitySet::default(), None),
        ("amenity=drinking_water", water, None),
        (
            "amenity=drinking_water,toilet&open_now",
            AmenitySet::of(&[Amenity::DrinkingWater, Amenity::Toilet]),
            friday_noon,
        ),
    ];
    println!(
        "{:<42} {:>10} {:>10} {:>12} {:>12} {:>8}",
        "query", "tree p50", "tree p99", "scan p50", "scan p99", "ratio"
    );
    for (label, amenities, open_at) in variants {
        let queries: Vec<FinderQuery> = (0..a.queries)
            .map(|_| FinderQuery { from: random_point(&mut rng), limit: a.limit as usize, amenities, open_at })
            .collect();
        let (mut tree, mut scan) = (Vec::new(), Vec::new());
        for q in &queries {
            let t = Instant::now();
            let got = index.nearest(q);
            tree.push(t.elapsed());
            let t = Instant::now();
            let want = brute_force_nearest(&shared, q);
            scan.push(t.elapsed());
            let ids =
                |v: &[dangjian_domain::services::finder::Nearby]| v.iter().map(|n| n.station.id).collect::<Vec<_>>();
            if ids(&got) != ids(&want) {
                bail!("the index and the scan disagree at {:?}", q.from);
            }
        }
        let ((t50, t99), (s50, s99)) = (percentiles(tree), percentiles(scan));
        println!(
            "{label:<42} {:>8.1}µs {:>8.1}µs {:>10.1}µs {:>10.1}µs {:>7.0}×",
            us(t50),
            us(t99),
            us(s50),
            us(s99),
            us(s50) / us(t50).max(0.001)
        );
    }
    println!("every answer of the index equalled the brute-force scan's");
    Ok(())
}
