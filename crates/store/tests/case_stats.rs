//! Case statistics in the store against a straightforward reference computed here from the same cases
//! (read back case by case), on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: 90 cases filed, handled,
//! rated, reopened and escalated at fixed times in four provinces, then counted under several filters and
//! scopes, by the in-memory index and by the earlier SQL query. Plus the filter errors, each naming its
//! field; the stored durations kept at every step and filled in by the migration; and the index following
//! changes written by another process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, NaiveDate, Utc};
use dangjian_domain::access::Scope;
use dangjian_domain::entity::EntityInput;
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::case_stats::{CaseFigures, DurationSummary, Satisfaction};
use dangjian_domain::services::cases::{CaseAction, CaseStatus};
use dangjian_domain::EntityDraft;
use dangjian_store::cases::stats::{CaseStatistics, CaseStatsFilter};
use dangjian_store::cases::{Case, CaseStep, NewCase};
use dangjian_store::testing::all_backends;
use dangjian_store::{AccessFilter, Paging, Store, StoreError};
use std::collections::{BTreeMap, HashMap};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn cal() -> CaseSettings {
    CaseSettings::default()
}

/// A small deterministic generator (64-bit LCG), so both backends get the same cases.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const REGIONS: [&str; 6] = ["440305", "440305001", "440106", "44", "110105", "659001"];
const CATEGORIES: [&str; 4] = ["wage_arrears", "traffic_safety", "other", "legal_aid"];
const SECTORS: [Option<&str>; 3] = [Some("courier"), Some("food_delivery"), None];

struct World {
    platforms: [i64; 2],
    /// When the statistics are taken.
    now: DateTime<Utc>,
}

async fn unit(s: &Store, uscc: &str, name: &str, region: &str, sector: &str) -> i64 {
    let d = EntityDraft::parse(&EntityInput {
        uscc: Some(uscc.into()),
        name: Some(name.into()),
        kind: Some("platform".into()),
        sectors: vec![sector.into()],
        region_code: Some(region.into()),
        workers: Some("10".into()),
        ..Default::default()
    })
    .unwrap();
    s.create_entity(&d, &AccessFilter::unrestricted()).await.unwrap().id
}

/// Files 90 cases from Monday 2 November 2026 on, one every five hours, and takes each down one of six
/// paths; then runs the deadline job once, three weeks later.
async fn seed(s: &Store) -> World {
    for (code, name, kind, region) in [
        ("SW-44", "广东省委社会工作部", "social_work", "44"),
        ("SW-4401", "广州市委社会工作部", "social_work", "4401"),
        ("HR-44", "广东省人社厅", "human_resources", "44"),
        ("HR-4403", "深圳市人社局", "human_resources", "4403"),
        ("SW-11", "北京市委社会工作部", "social_work", "11"),
        ("SW-66", "兵团党委社会工作部", "social_work", "66"),
    ] {
        s.create_department(code, name, kind, region).await.unwrap();
    }
    let platforms = [
        unit(s, "91350100M000100Y43", "甲平台", "440305", "food_delivery").await,
        unit(s, "91330100799655058B", "乙平台", "110108", "courier").await,
    ];
    let all = AccessFilter::unrestricted();
    let start = t("2026-11-02T01:00:00Z");
    let mut rng = Lcg(7);
    for i in 0..90 {
        let filed = start + Duration::hours(5 * i) + Duration::minutes(rng.next(60) as i64);
        let new = NewCase {
            category: CATEGORIES[rng.next(4) as usize].into(),
            sector: SECTORS[rng.next(3) as usize].map(Into::into),
            platform_id: [None, Some(platforms[0]), Some(platforms[1])][rng.next(3) as usize],
            region_code: REGIONS[rng.next(6) as usize].into(),
            description: "统计测试".into(),
            ..Default::default()
        };
        let done = s.submit_case(&new, &cal(), filed).await.unwrap();
        let path = rng.next(6);
        let ack_h = [1, 3, 20, 50][rng.next(4) as usize];
        let res_h = [2, 30, 100, 300][rng.next(4) as usize];
        let rating = rng.next(5) as i64 + 1;
        let jitter = [rng.next(50) as i64, rng.next(50) as i64];
        let acknowledged = filed + Duration::hours(ack_h) + Duration::minutes(jitter[0]);
        let resolved = acknowledged + Duration::hours(res_h) + Duration::minutes(jitter[1]);
        let steps: Vec<(CaseAction, DateTime<Utc>)> = match path {
            0 => vec![],
            1 => vec![(CaseAction::Acknowledge, acknowledged)],
            2 | 3 | 5 => vec![(CaseAction::Acknowledge, acknowledged), (CaseAction::Resolve, resolved)],
            _ => vec![(CaseAction::Resolve, resolved)],
        };
        let mut at = filed;
        for (version, (action, when)) in (1..).zip(steps) {
            s.act_on_case(done.id, version, &CaseStep::new(action), "cadre", &all, &cal(), when).await.unwrap();
            at = when;
        }
        let worker_at = at + Duration::hours(5);
        if path == 3 {
            let rate = CaseStep { rating: Some(rating), ..CaseStep::new(CaseAction::Rate) };
            s.worker_act(&done.tracking_code, &rate, &cal(), worker_at).await.unwrap();
        }
        if path == 5 {
            let reopen = CaseStep::new(CaseAction::Reopen).note("没有解决", true);
            s.worker_act(&done.tracking_code, &reopen, &cal(), worker_at).await.unwrap();
        }
    }
    s.escalate_overdue(&cal(), t("2026-11-24T02:00:00Z")).await.unwrap();
    World { platforms, now: t("2026-11-26T02:00:00Z") }
}

async fn every_case(s: &Store) -> Vec<Case> {
    let mut out = Vec::new();
    for page in 1.. {
        let p = s
            .case_inbox(&AccessFilter::unrestricted(), &Default::default(), Paging::new(Some(page), Some(500)))
            .await
            .unwrap();
        let n = p.items.len();
        out.extend(p.items);
        if n < 500 {
            break;
        }
    }
    out
}

/// The p-th percentile by its definition: the smallest value with at least p % of the values at or below it.
fn reference_percentile(values: &[i64], p: f64) -> Option<f64> {
    let mut candidates = values.to_vec();
    candidates.sort_unstable();
    candidates
        .into_iter()
        .find(|v| values.iter().filter(|x| *x <= v).count() as f64 * 100.0 >= p * values.len() as f64)
        .map(|v| v as f64 / 3600.0)
}

fn durations(values: &[i64]) -> DurationSummary {
    DurationSummary {
        count: values.len() as i64,
        median_hours: reference_percentile(values, 50.0),
        p90_hours: reference_percentile(values, 90.0),
    }
}

fn secs(from: &str, to: &Option<String>) -> Option<i64> {
    to.as_ref().map(|to| (t(to) - t(from)).num_seconds())
}

/// The figures of `cases`, one by one.
fn reference_figures(cases: &[&Case], now: DateTime<Utc>) -> CaseFigures {
    let count = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count() as i64;
    let overdue = |c: &Case| match c.status {
        CaseStatus::Submitted => t(&c.ack_due) < now,
        CaseStatus::Acknowledged => t(&c.resolve_due) < now,
        _ => false,
    };
    let ratings: Vec<i64> = cases.iter().filter_map(|c| c.rating).collect();
    let ack: Vec<i64> = cases.iter().filter_map(|c| secs(&c.created_at, &c.acknowledged_at)).collect();
    let resolve: Vec<i64> = cases.iter().filter_map(|c| secs(&c.created_at, &c.resolved_at)).collect();
    let rated = ratings.len() as i64;
    CaseFigures {
        cases: cases.len() as i64,
        open: count(&|c| c.status.is_open()),
        resolved: count(&|c| matches!(c.status, CaseStatus::Resolved | CaseStatus::Closed)),
        closed: count(&|c| c.status == CaseStatus::Closed),
        overdue: count(&overdue),
        escalated: count(&|c| c.escalation_level > 0),
        to_acknowledge: durations(&ack),
        to_resolve: durations(&resolve),
        satisfaction: Satisfaction {
            rated,
            mean: (rated > 0).then(|| ratings.iter().sum::<i64>() as f64 / rated as f64),
            distribution: (1..=5).map(|r| ratings.iter().filter(|x| **x == r).count() as i64).collect(),
            share_satisfied: (rated > 0).then(|| ratings.iter().filter(|x| **x >= 4).count() as f64 / rated as f64),
        },
    }
}

type Grouped = BTreeMap<String, CaseFigures>;
type KeyFn<'a> = Box<dyn Fn(&Case) -> String + 'a>;

/// Totals and the four groupings as code → figures (rows without cases left out).
fn shape(s: &CaseStatistics) -> (CaseFigures, [Grouped; 4]) {
    let g = |rows: &[dangjian_store::cases::stats::StatsRow]| -> Grouped {
        rows.iter().filter(|r| r.figures.cases > 0).map(|r| (r.code.clone(), r.figures.clone())).collect()
    };
    (s.totals.clone(), [g(&s.by_category), g(&s.by_sector), g(&s.by_platform), g(&s.by_region)])
}

/// The same from the cases one by one: `keep` selects, `lineages` gives each region's codes from the province down.
fn reference(
    cases: &[Case],
    keep: impl Fn(&Case) -> bool,
    lineages: &HashMap<String, Vec<String>>,
    selected: Option<&str>,
    now: DateTime<Utc>,
) -> (CaseFigures, [Grouped; 4]) {
    let kept: Vec<&Case> = cases.iter().filter(|c| keep(c)).collect();
    let depth = selected.map_or(0, |s| lineages[s].len());
    let child = |c: &Case| lineages[&c.region_code].get(depth).cloned().unwrap_or_else(|| c.region_code.clone());
    let keys: [KeyFn; 4] = [
        Box::new(|c| c.category.clone()),
        Box::new(|c| c.sector.clone().unwrap_or_default()),
        Box::new(|c| c.platform_id.map(|p| p.to_string()).unwrap_or_default()),
        Box::new(child),
    ];
    let groups = keys.map(|k| {
        let mut m: BTreeMap<String, Vec<&Case>> = BTreeMap::new();
        for c in &kept {
            m.entry(k(c)).or_default().push(c);
        }
        m.into_iter().map(|(code, cs)| (code, reference_figures(&cs, now))).collect()
    });
    (reference_figures(&kept, now), groups)
}

/// Whether a case filed at `created` falls on China dates `from..=to`.
fn on_dates(created: &str, from: NaiveDate, to: NaiveDate) -> bool {
    let d = (t(created) + Duration::hours(8)).date_naive();
    from <= d && d <= to
}

#[tokio::test]
async fn statistics_equal_a_case_by_case_reference() {
    for db in all_backends().await {
        let s = &db.store;
        let w = seed(s).await;
        let cases = every_case(s).await;
        assert_eq!(cases.len(), 90);
        let mut lineages = HashMap::new();
        for code in REGIONS.iter().chain(&["4403", "4401", "66", "6590"]) {
            let l = s.region_lineage(code).await.unwrap().into_iter().map(|r| r.code).collect::<Vec<_>>();
            lineages.insert((*code).to_owned(), l);
        }
        assert_eq!(lineages["659001"], ["66", "6590", "659001"], "the XPCC's cities sit under 66");
        // The seed covers what is counted.
        let statuses: Vec<CaseStatus> = cases.iter().map(|c| c.status).collect();
        for st in [CaseStatus::Submitted, CaseStatus::Acknowledged, CaseStatus::Resolved, CaseStatus::Closed] {
            assert!(statuses.contains(&st), "{st:?}");
        }
        assert!(cases.iter().any(|c| c.escalation_level > 0));
        let all = AccessFilter::unrestricted();
        // Every view is counted by the in-memory index and by the earlier SQL query, identically.
        let stats = |access: AccessFilter, f: CaseStatsFilter| async move {
            let st = s.case_statistics(&access, &f, w.now).await.unwrap();
            assert_eq!(st, s.case_statistics_sql(&access, &f, w.now).await.unwrap(), "{f:?}");
            st
        };
        let in_region = |c: &Case, code: &str| lineages[&c.region_code].iter().any(|x| x == code);

        let whole = stats(all.clone(), CaseStatsFilter::default()).await;
        assert_eq!(shape(&whole), reference(&cases, |_| true, &lineages, None, w.now));
        assert!(whole.totals.overdue > 0 && whole.totals.escalated > 0 && whole.totals.satisfaction.rated > 0);
        assert_eq!(whole.by_category.len(), 9, "every category, with cases or not");
        let provinces: Vec<&str> = whole.by_region.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(provinces, ["11", "44", "66"]);
        assert_eq!(whole.by_sector.last().map(|r| (r.code.as_str(), r.name_zh.as_str())), Some(("", "未注明")));

        let gd = stats(all.clone(), CaseStatsFilter { region: Some("44".into()), ..Default::default() }).await;
        assert_eq!(shape(&gd), reference(&cases, |c| in_region(c, "44"), &lineages, Some("44"), w.now));
        assert!(gd.by_region.iter().any(|r| r.code == "44" && r.name_zh == "广东省（本级）"), "{:?}", gd.by_region);

        let xpcc = stats(all.clone(), CaseStatsFilter { region: Some("66".into()), ..Default::default() }).await;
        assert_eq!(shape(&xpcc), reference(&cases, |c| in_region(c, "66"), &lineages, Some("66"), w.now));
        assert_eq!(xpcc.by_region.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), ["6590"]);

        let (from, to) =
            (NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(), NaiveDate::from_ymd_opt(2026, 11, 12).unwrap());
        let f = CaseStatsFilter { region: Some("4403".into()), from: Some(from), to: Some(to), ..Default::default() };
        let sz = stats(all.clone(), f).await;
        let keep = |c: &Case| in_region(c, "4403") && on_dates(&c.created_at, from, to);
        assert_eq!(shape(&sz), reference(&cases, keep, &lineages, Some("4403"), w.now));
        assert!(sz.totals.cases > 0 && sz.totals.cases < 40, "{}", sz.totals.cases);

        let f = CaseStatsFilter {
            category: Some("wage_arrears".into()),
            sector: Some("courier".into()),
            platform_id: Some(w.platforms[0]),
            ..Default::default()
        };
        let narrow = stats(all.clone(), f).await;
        let keep = |c: &Case| {
            c.category == "wage_arrears"
                && c.sector.as_deref() == Some("courier")
                && c.platform_id == Some(w.platforms[0])
        };
        assert_eq!(shape(&narrow), reference(&cases, keep, &lineages, None, w.now));

        // Scopes: a city's cadre, a sector's regulator; chains and organizations see nothing.
        let gz =
            stats(AccessFilter::new([Scope::Region { path: "/44/4401/".into() }]), CaseStatsFilter::default()).await;
        assert_eq!(shape(&gz), reference(&cases, |c| in_region(c, "4401"), &lineages, None, w.now));
        assert!(gz.totals.cases > 0);
        let courier = AccessFilter::new([Scope::SectorInRegion { sector: "courier".into(), path: "/44/".into() }]);
        let reg = stats(courier, CaseStatsFilter::default()).await;
        let keep = |c: &Case| in_region(c, "44") && c.sector.as_deref() == Some("courier");
        assert_eq!(shape(&reg), reference(&cases, keep, &lineages, None, w.now));
        let chain = AccessFilter::new([Scope::Chain { root_id: w.platforms[0] }, Scope::Organization { org_id: 1 }]);
        assert_eq!(
            stats(chain, CaseStatsFilter::default()).await.totals,
            CaseFigures {
                satisfaction: Satisfaction { distribution: vec![0; 5], ..Default::default() },
                ..Default::default()
            }
        );
        // Outside the reader's scope, a region simply has no cases.
        let bj = stats(
            AccessFilter::new([Scope::Region { path: "/44/".into() }]),
            CaseStatsFilter { region: Some("11".into()), ..Default::default() },
        )
        .await;
        assert_eq!(bj.totals.cases, 0);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_filters_name_their_field() {
    for db in all_backends().await {
        let s = &db.store;
        let now = t("2026-11-27T08:00:00Z");
        let all = AccessFilter::unrestricted();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d);
        for (f, field) in [
            (CaseStatsFilter { region: Some("999999".into()), ..Default::default() }, "region"),
            (CaseStatsFilter { category: Some("nope".into()), ..Default::default() }, "category"),
            (CaseStatsFilter { sector: Some("nope".into()), ..Default::default() }, "sector"),
            (CaseStatsFilter { platform_id: Some(999_999), ..Default::default() }, "platform_id"),
            (CaseStatsFilter { from: day(20), to: day(19), ..Default::default() }, "to"),
        ] {
            match s.case_statistics(&all, &f, now).await {
                Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let one_day = CaseStatsFilter { from: day(19), to: day(19), ..Default::default() };
        assert_eq!(s.case_statistics(&all, &one_day, now).await.unwrap().totals.cases, 0);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn categories_follow_the_case_settings() {
    for db in all_backends().await {
        let s = &db.store;
        s.create_department("SW-44", "广东省委社会工作部", "social_work", "44").await.unwrap();
        let mut settings = CaseSettings::default();
        settings.categories.push(dangjian_domain::services::cases::Category {
            code: "delivery_fines".into(),
            name_zh: "配送罚款".into(),
            name_en: "Delivery fines".into(),
            ack_days: 1,
            resolve_days: 5,
        });
        s.set_case_settings(&settings, None).await.unwrap();
        let now = t("2026-11-27T08:00:00Z");
        let new = NewCase {
            category: "delivery_fines".into(),
            region_code: "440305".into(),
            description: "超时罚款".into(),
            ..Default::default()
        };
        s.submit_case(&new, &settings, now).await.unwrap();
        let all = AccessFilter::unrestricted();
        let f = CaseStatsFilter { category: Some("delivery_fines".into()), ..Default::default() };
        let st = s.case_statistics(&all, &f, now).await.unwrap();
        assert_eq!(st.totals.cases, 1);
        assert_eq!(st.by_category.len(), 10);
        let line = st.by_category.iter().find(|r| r.code == "delivery_fines").unwrap();
        assert_eq!(
            (line.name_zh.as_str(), line.name_en.as_str(), line.figures.cases),
            ("配送罚款", "Delivery fines", 1)
        );
        db.cleanup().await;
    }
}

/// The stored durations of case `id`, and the same computed from its stored times.
async fn stored_durations(s: &Store, id: i64) -> ((Option<i64>, Option<i64>), (Option<i64>, Option<i64>)) {
    let r = sqlx::query(
        "SELECT ack_seconds, resolve_seconds, created_at, acknowledged_at, resolved_at FROM cases WHERE id = $1",
    )
    .bind(id)
    .fetch_one(s.pool())
    .await
    .unwrap();
    use sqlx::Row;
    let created: String = r.get("created_at");
    (
        (r.get("ack_seconds"), r.get("resolve_seconds")),
        (secs(&created, &r.get("acknowledged_at")), secs(&created, &r.get("resolved_at"))),
    )
}

/// The national statistics by the index and by the earlier SQL query, which must agree.
async fn agreed(s: &Store, now: DateTime<Utc>) -> CaseStatistics {
    let all = AccessFilter::unrestricted();
    let f = CaseStatsFilter::default();
    let st = s.case_statistics(&all, &f, now).await.unwrap();
    assert_eq!(st, s.case_statistics_sql(&all, &f, now).await.unwrap());
    st
}

#[tokio::test]
async fn durations_are_kept_with_every_step() {
    for db in all_backends().await {
        let s = &db.store;
        for (code, name, kind, region) in [
            ("SW-44", "广东省委社会工作部", "social_work", "44"),
            ("SW-4401", "广州市委社会工作部", "social_work", "4401"),
            ("SW-11", "北京市委社会工作部", "social_work", "11"),
        ] {
            s.create_department(code, name, kind, region).await.unwrap();
        }
        let beijing = s.departments().await.unwrap().into_iter().find(|d| d.code == "SW-11").unwrap().id;
        let all = AccessFilter::unrestricted();
        let t0 = t("2026-11-02T01:00:00Z");
        let new = NewCase {
            category: "wage_arrears".into(),
            region_code: "440106".into(),
            description: "用时测试".into(),
            ..Default::default()
        };
        let step = CaseStep::new;
        let at = |h: i64, sec: i64| t0 + Duration::hours(h) + Duration::seconds(sec);
        // Acknowledge, resolve, reopen, resolve again, rate (closed), erase.
        let one = s.submit_case(&new, &cal(), t0).await.unwrap();
        let check = |id: i64, want: (Option<i64>, Option<i64>), now: DateTime<Utc>| async move {
            let (stored, from_times) = stored_durations(s, id).await;
            assert_eq!(stored, want);
            assert_eq!(stored, from_times);
            agreed(s, now).await
        };
        check(one.id, (None, None), t0).await;
        s.act_on_case(one.id, 1, &step(CaseAction::Acknowledge), "cadre", &all, &cal(), at(1, 7)).await.unwrap();
        check(one.id, (Some(3607), None), at(1, 7)).await;
        s.act_on_case(one.id, 2, &step(CaseAction::Resolve), "cadre", &all, &cal(), at(5, 0)).await.unwrap();
        let st = check(one.id, (Some(3607), Some(18_000)), at(5, 0)).await;
        assert_eq!(st.totals.to_resolve.median_hours, Some(5.0));
        let reopen = step(CaseAction::Reopen).note("没有解决", true);
        s.worker_act(&one.tracking_code, &reopen, &cal(), at(6, 0)).await.unwrap();
        let st = check(one.id, (Some(3607), None), at(6, 0)).await;
        assert_eq!(st.totals.to_resolve.count, 0, "a reopened case has no resolution time");
        s.act_on_case(one.id, 4, &step(CaseAction::Resolve), "cadre", &all, &cal(), at(30, 1)).await.unwrap();
        check(one.id, (Some(3607), Some(108_001)), at(30, 1)).await;
        let rate = CaseStep { rating: Some(4), ..step(CaseAction::Rate) };
        s.worker_act(&one.tracking_code, &rate, &cal(), at(31, 0)).await.unwrap();
        check(one.id, (Some(3607), Some(108_001)), at(31, 0)).await;
        let later = at(31, 0) + Duration::days(400);
        assert_eq!(s.erase_expired_cases(365, later).await.unwrap(), 1);
        let st = check(one.id, (Some(3607), Some(108_001)), later).await;
        assert_eq!(st.totals.satisfaction.rated, 1);

        // Acknowledge, transfer (the receiving department acknowledges anew), acknowledge again.
        let two = s.submit_case(&new, &cal(), t0).await.unwrap();
        s.act_on_case(two.id, 1, &step(CaseAction::Acknowledge), "cadre", &all, &cal(), at(2, 0)).await.unwrap();
        check(two.id, (Some(7200), None), at(2, 0)).await;
        let transfer = CaseStep { department_id: Some(beijing), ..step(CaseAction::Transfer) };
        s.act_on_case(two.id, 2, &transfer, "cadre", &all, &cal(), at(3, 0)).await.unwrap();
        check(two.id, (Some(7200), None), at(3, 0)).await;
        s.act_on_case(two.id, 3, &step(CaseAction::Acknowledge), "cadre", &all, &cal(), at(4, 0)).await.unwrap();
        check(two.id, (Some(14_400), None), at(4, 0)).await;

        // Escalation moves the case, not its times.
        let three = s.submit_case(&new, &cal(), t0).await.unwrap();
        let late = t("2026-11-24T02:00:00Z");
        assert!(s.escalate_overdue(&cal(), late).await.unwrap().contains(&three.id));
        let st = check(three.id, (None, None), late).await;
        assert_eq!((st.totals.cases, st.totals.escalated), (3, 1));
        db.cleanup().await;
    }
}

/// The migration that added the stored durations fills them in for the cases already there: here it is
/// taken back (its columns, feed and triggers dropped, its record removed) on a database with cases at
/// every stage, and run again.
#[tokio::test]
async fn the_migration_fills_in_the_durations_of_existing_cases() {
    const VERSION: i64 = 20_261_207_000_070;
    for db in all_backends().await {
        let s = &db.store;
        let w = seed(s).await;
        let before = agreed(s, w.now).await;
        let undo: &[&str] = match db.kind {
            dangjian_store::DbKind::Sqlite => &[
                "DROP TRIGGER cst_cases_ins",
                "DROP TRIGGER cst_cases_upd",
                "DROP TRIGGER cst_cases_del",
                "DROP TABLE case_changes",
                "ALTER TABLE cases DROP COLUMN ack_seconds",
                "ALTER TABLE cases DROP COLUMN resolve_seconds",
            ],
            dangjian_store::DbKind::Postgres => &[
                "DROP TRIGGER cst_cases ON cases",
                "DROP FUNCTION cst_case_changed()",
                "DROP TABLE case_changes",
                "ALTER TABLE cases DROP COLUMN ack_seconds",
                "ALTER TABLE cases DROP COLUMN resolve_seconds",
            ],
        };
        for sql in undo {
            sqlx::query(sql).execute(s.pool()).await.unwrap();
        }
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1").bind(VERSION).execute(s.pool()).await.unwrap();
        s.migrate().await.unwrap();
        let cases = every_case(s).await;
        assert!(cases.iter().any(|c| c.acknowledged_at.is_some()) && cases.iter().any(|c| c.resolved_at.is_some()));
        for c in &cases {
            let (stored, from_times) = stored_durations(s, c.id).await;
            assert_eq!(stored, from_times, "case {}", c.id);
        }
        // A process starting now builds its index from the filled-in columns: the same statistics.
        let fresh = Store::connect(&db.url).await.unwrap();
        assert_eq!(agreed(&fresh, w.now).await, before);
        fresh.close().await;
        db.cleanup().await;
    }
}

/// A case changed by another process (another store on the same database) is in this process's next
/// statistics: the index catches up from the change feed.
#[tokio::test]
async fn the_index_follows_changes_made_elsewhere() {
    for db in all_backends().await {
        let s = &db.store;
        let w = seed(s).await;
        let all = AccessFilter::unrestricted();
        let first = agreed(s, w.now).await;
        let other = Store::connect(&db.url).await.unwrap();
        let open = every_case(&other).await.into_iter().find(|c| c.status == CaseStatus::Submitted).unwrap();
        other
            .act_on_case(open.id, open.version, &CaseStep::new(CaseAction::Acknowledge), "cadre", &all, &cal(), w.now)
            .await
            .unwrap();
        let second = agreed(s, w.now).await;
        assert_eq!(second.totals.to_acknowledge.count, first.totals.to_acknowledge.count + 1);
        // A bulk write asks for a rebuild, which the next read does.
        sqlx::query("UPDATE cases SET escalation_level = escalation_level + 1").execute(other.pool()).await.unwrap();
        other.request_case_index_rebuild().await.unwrap();
        let read = s.case_index().await.unwrap();
        assert_eq!(read.freshness, dangjian_store::cases::stats_index::Freshness::Rebuilt);
        drop(read);
        let third = agreed(s, w.now).await;
        assert_eq!(third.totals.escalated, third.totals.cases);
        other.close().await;
        db.cleanup().await;
    }
}
