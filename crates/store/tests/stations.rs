//! Worker stations in the store, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: writes with versions,
//! scopes, whole-or-nothing imports, and the finder against its brute-force oracle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDateTime;
use dangjian_domain::access::Scope;
use dangjian_domain::entity::EntityInput;
use dangjian_domain::services::finder::{brute_force_nearest, FinderQuery, FinderStation};
use dangjian_domain::services::stations::{Amenity, AmenitySet, LatLng, StationDraft, StationInput, StationStatus};
use dangjian_domain::{EntityDraft, SearchTerm};
use dangjian_store::stations::finder::Finder;
use dangjian_store::stations::StationFilter;
use dangjian_store::testing::all_backends;
use dangjian_store::{AccessFilter, Paging, Store, StoreError};
use rand::{Rng, SeedableRng};
use std::sync::Arc;

const PLATFORM: &str = "91350100M000100Y43";

fn all() -> AccessFilter {
    AccessFilter::unrestricted()
}

fn input(code: &str, region: &str, lat: f64, lng: f64) -> StationInput {
    StationInput {
        code: Some(code.into()),
        name: Some(format!("驿站{code}")),
        operator_department: Some("区总工会".into()),
        address: Some("某路1号".into()),
        region_code: Some(region.into()),
        latitude: Some(lat.to_string()),
        longitude: Some(lng.to_string()),
        amenities: vec!["drinking_water".into(), "toilet".into()],
        opening_hours: Some("周一至周五 09:00-18:00；周六 10:00-16:00".into()),
        ..Default::default()
    }
}

fn draft(i: &StationInput) -> StationDraft {
    StationDraft::parse(i).unwrap()
}

async fn platform(store: &Store) -> i64 {
    let d = EntityDraft::parse(&EntityInput {
        uscc: Some(PLATFORM.into()),
        name: Some("某平台".into()),
        kind: Some("platform".into()),
        sectors: vec!["food_delivery".into()],
        region_code: Some("440305".into()),
        ..Default::default()
    })
    .unwrap();
    store.create_entity(&d, &all()).await.unwrap().id
}

#[tokio::test]
async fn create_update_close_list_with_versions() {
    for db in all_backends().await {
        let s = &db.store;
        let created = s.create_station(&draft(&input("BJ-1", "110105", 39.99, 116.47)), &all()).await.unwrap();
        assert_eq!(created.amenities, vec![Amenity::DrinkingWater, Amenity::Toilet]);
        assert_eq!(created.opening_hours, "周一至周五 09:00-18:00；周六 10:00-16:00");
        assert_eq!((created.latitude, created.longitude), (39.99, 116.47));
        let dup = s.create_station(&draft(&input("bj-1", "110105", 39.9, 116.4)), &all()).await;
        assert!(matches!(&dup, Err(StoreError::Invalid(e)) if e.0[0].field == "code"), "{dup:?}");
        let unknown_unit = StationInput {
            operator_department: None,
            operator_code: Some("NOPE-1".into()),
            ..input("BJ-2", "999999", 39.9, 116.4)
        };
        let e = s.create_station(&draft(&unknown_unit), &all()).await;
        let fields: Vec<String> = match e {
            Err(StoreError::Invalid(e)) => e.0.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(fields, vec!["region_code", "operator_code"]);
        // The same problems, and the code taken, also when the input as a whole does not parse.
        let broken = StationInput { code: Some("bj-1".into()), opening_hours: Some("随时".into()), ..unknown_unit };
        let mut fields: Vec<String> = match s.parse_station_input(&broken, None, &all()).await {
            Err(StoreError::Invalid(e)) => e.0.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        };
        fields.sort();
        assert_eq!(fields, vec!["code", "opening_hours", "operator_code", "region_code"]);
        assert!(s.parse_station_input(&input("BJ-9", "110105", 39.9, 116.4), None, &all()).await.is_ok());

        let mut changed = input("BJ-1", "110105", 39.98, 116.46);
        changed.amenities = vec!["法律援助".into()];
        let updated = s.update_station(created.id, &draft(&changed), created.version, &all()).await.unwrap();
        assert_eq!((updated.version, updated.amenities.clone()), (2, vec![Amenity::LegalAid]));
        let stale = s.update_station(created.id, &draft(&changed), 1, &all()).await;
        assert!(matches!(stale, Err(StoreError::StaleVersion { current: 2 })));
        let closed = s.close_station(created.id, 2, &all()).await.unwrap();
        assert_eq!(closed.status, StationStatus::Closed);

        s.create_station(&draft(&input("SZ-1", "440305", 22.53, 113.93)), &all()).await.unwrap();
        let list = |f: StationFilter| async move { s.list_stations(&f, Paging::default(), &all()).await.unwrap() };
        let codes = |p: dangjian_store::Page<dangjian_store::stations::Station>| {
            p.items.into_iter().map(|s| s.code).collect::<Vec<_>>()
        };
        assert_eq!(codes(list(StationFilter { region: Some("11".into()), ..Default::default() }).await), ["BJ-1"]);
        assert_eq!(codes(list(StationFilter { amenity: Some(Amenity::Toilet), ..Default::default() }).await), ["SZ-1"]);
        let active = StationFilter { status: Some(StationStatus::Active), ..Default::default() };
        assert_eq!(codes(list(active).await), ["SZ-1"]);
        assert_eq!(
            codes(list(StationFilter { q: SearchTerm::parse("SZ", "q").unwrap(), ..Default::default() }).await),
            ["SZ-1"]
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn scopes_reach_stations_by_region_or_by_operator() {
    for db in all_backends().await {
        let s = &db.store;
        let root = platform(s).await;
        let chain_station = StationInput {
            operator_department: None,
            operator_code: Some(PLATFORM.into()),
            ..input("SZ-P", "440305", 22.53, 113.93)
        };
        let by_chain = s.create_station(&draft(&chain_station), &all()).await.unwrap();
        let by_dept = s.create_station(&draft(&input("BJ-D", "110105", 39.9, 116.4)), &all()).await.unwrap();
        let shenzhen = AccessFilter::new([Scope::Region { path: "/44/".into() }]);
        let chain = AccessFilter::new([Scope::Chain { root_id: root }]);
        assert!(s.station_visible(by_chain.id, &shenzhen).await.unwrap());
        assert!(!s.station_visible(by_dept.id, &shenzhen).await.unwrap());
        assert!(s.station_visible(by_chain.id, &chain).await.unwrap());
        assert!(!s.station_visible(by_dept.id, &chain).await.unwrap());
        let page = s.list_stations(&StationFilter::default(), Paging::default(), &chain).await.unwrap();
        assert_eq!(page.total, 1);
        // A Shenzhen cadre can neither create nor move a station into Beijing.
        let out = s.create_station(&draft(&input("BJ-X", "110105", 39.9, 116.4)), &shenzhen).await;
        assert!(matches!(out, Err(StoreError::OutOfScope)), "{out:?}");
        let moved = s.update_station(by_chain.id, &draft(&input("SZ-P", "110105", 39.9, 116.4)), 1, &shenzhen).await;
        assert!(matches!(moved, Err(StoreError::OutOfScope)), "{moved:?}");
        let not_theirs = s.close_station(by_dept.id, 1, &shenzhen).await;
        assert!(matches!(not_theirs, Err(StoreError::NotFound)));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn imports_are_whole_or_nothing_and_idempotent() {
    for db in all_backends().await {
        let s = &db.store;
        let rows =
            vec![(2, draft(&input("A-1", "110105", 39.9, 116.4))), (3, draft(&input("A-2", "110105", 39.8, 116.3)))];
        let sum = s.import_stations(&rows, false, &all()).await.unwrap();
        assert_eq!((sum.created, sum.updated, sum.unchanged), (2, 0, 0));
        let again = s.import_stations(&rows, false, &all()).await.unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
        let bad =
            vec![(2, draft(&input("A-3", "110105", 39.9, 116.4))), (3, draft(&input("A-4", "999999", 39.9, 116.4)))];
        match s.import_stations(&bad, false, &all()).await {
            Err(StoreError::ImportRows(dangjian_store::RowErrors { errors: errs, .. })) => {
                assert_eq!(errs.len(), 1);
                assert_eq!((errs[0].0, errs[0].1.field.as_str()), (3, "region_code"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.export_stations(&all()).await.unwrap().len(), 2, "nothing of the bad file was written");
        let beijing_only = AccessFilter::new([Scope::Region { path: "/44/".into() }]);
        match s.import_stations(&rows, true, &beijing_only).await {
            Err(StoreError::ImportRows(dangjian_store::RowErrors { errors: errs, .. })) => {
                assert!(errs.iter().all(|(_, e)| e.code == "out_of_scope"))
            }
            other => panic!("{other:?}"),
        }
        db.cleanup().await;
    }
}

/// Random stations over China, with random amenities and hours.
fn random_drafts(rng: &mut impl Rng, n: usize) -> Vec<(usize, StationDraft)> {
    let hours = ["24h", "周一至周五 09:00-18:00", "周六,周日 22:00-06:00", "Mon-Sun 07:00-21:00", "周三 12:00-13:00"];
    (0..n)
        .map(|i| {
            let amenities: Vec<String> =
                Amenity::ALL.iter().filter(|_| rng.random_bool(0.5)).map(|a| a.as_str().to_owned()).collect();
            let mut inp =
                input(&format!("R-{i}"), "110105", rng.random_range(18.0..50.0), rng.random_range(75.0..134.0));
            inp.amenities = amenities;
            inp.opening_hours = Some(hours[rng.random_range(0..hours.len())].into());
            (i + 2, draft(&inp))
        })
        .collect()
}

fn ids(v: &[dangjian_domain::services::finder::Nearby]) -> Vec<i64> {
    v.iter().map(|n| n.station.id).collect()
}

#[tokio::test]
async fn the_finder_equals_the_brute_force_oracle() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261127);
    for db in all_backends().await {
        let s = &db.store;
        s.import_stations(&random_drafts(&mut rng, 2_000), false, &all()).await.unwrap();
        let finder = Finder::new(s.clone());
        let all_stations: Vec<Arc<FinderStation>> =
            s.finder_stations().await.unwrap().into_iter().map(Arc::new).collect();
        assert_eq!(all_stations.len(), 2_000);
        let times = ["2026-11-27 10:00", "2026-11-29 23:30", "2026-11-25 12:30", "2026-11-30 03:00"];
        for i in 0..200 {
            let from = LatLng { lat: rng.random_range(15.0..55.0), lng: rng.random_range(70.0..138.0) };
            let wanted: Vec<Amenity> = Amenity::ALL.iter().copied().filter(|_| rng.random_bool(0.25)).collect();
            let open_at = (i % 2 == 0).then(|| NaiveDateTime::parse_from_str(times[i % 4], "%Y-%m-%d %H:%M").unwrap());
            let q = FinderQuery { from, limit: rng.random_range(1..=20), amenities: AmenitySet::of(&wanted), open_at };
            let got = finder.nearest(&q).await.unwrap();
            let want = brute_force_nearest(&all_stations, &q);
            assert_eq!(ids(&got), ids(&want), "query {i}: {q:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g.distance_m - w.distance_m).abs() < 1e-6);
            }
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_finder_sees_its_own_writes_and_another_process_s() {
    for db in all_backends().await {
        let s = &db.store;
        let finder = Finder::new(s.clone());
        assert_eq!(finder.len().await.unwrap(), 0);
        let near = FinderQuery {
            from: LatLng { lat: 39.9, lng: 116.4 },
            limit: 5,
            amenities: AmenitySet::default(),
            open_at: None,
        };
        let a = s.create_station(&draft(&input("W-1", "110105", 39.9, 116.4)), &all()).await.unwrap();
        let before = s.station_generation().await.unwrap();
        finder.after_write(a.id).await;
        assert_eq!(ids(&finder.nearest(&near).await.unwrap()), [a.id]);
        // Another process: its own connection, its own writes.
        let other = Store::connect(&db.url).await.unwrap();
        let b = other.create_station(&draft(&input("W-2", "110105", 39.91, 116.4)), &all()).await.unwrap();
        assert!(other.station_generation().await.unwrap() > before);
        assert_eq!(ids(&finder.nearest(&near).await.unwrap()), [a.id, b.id]);
        other.close_station(a.id, a.version, &all()).await.unwrap();
        assert_eq!(ids(&finder.nearest(&near).await.unwrap()), [b.id]);
        // This process suspends b: the index follows at once, without a rebuild.
        let mut suspended = input("W-2", "110105", 39.91, 116.4);
        suspended.status = Some("suspended".into());
        s.update_station(b.id, &draft(&suspended), b.version, &all()).await.unwrap();
        finder.after_write(b.id).await;
        assert!(finder.nearest(&near).await.unwrap().is_empty());
        other.close().await;
        db.cleanup().await;
    }
}
