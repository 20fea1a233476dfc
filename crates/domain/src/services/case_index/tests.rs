use super::*;
use crate::services::case_stats::{percentile, satisfaction, DurationSummary};
use std::collections::BTreeMap;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const REGIONS: [(&str, &str); 9] = [
    ("44", "/44/"),
    ("4403", "/44/4403/"),
    ("440305", "/44/4403/440305/"),
    ("440305001", "/44/4403/440305/440305001/"),
    ("4401", "/44/4401/"),
    ("440106", "/44/4401/440106/"),
    ("11", "/11/"),
    ("110105", "/11/1101/110105/"),
    ("66", "/66/"),
];

fn regions() -> Vec<RegionPath> {
    let mut r: Vec<RegionPath> =
        REGIONS.iter().map(|(c, p)| RegionPath { code: (*c).into(), path: (*p).into() }).collect();
    r.push(RegionPath { code: "1101".into(), path: "/11/1101/".into() });
    r.reverse();
    r
}

fn random_cases(n: usize, seed: u64) -> Vec<CaseFacts> {
    let mut rng = Lcg(seed);
    (0..n)
        .map(|i| {
            let status = [CaseStatus::Submitted, CaseStatus::Acknowledged, CaseStatus::Resolved, CaseStatus::Closed]
                [rng.next(4) as usize];
            let acked = status != CaseStatus::Submitted || rng.next(5) == 0;
            let resolved = matches!(status, CaseStatus::Resolved | CaseStatus::Closed);
            CaseFacts {
                id: i as i64 + 1,
                category: ["a", "b", "c"][rng.next(3) as usize].into(),
                sector: [Some("courier"), Some("food"), None][rng.next(3) as usize].map(Into::into),
                platform_id: [None, Some(7), Some(9)][rng.next(3) as usize],
                region_code: REGIONS[rng.next(9) as usize].0.into(),
                status,
                created: 1_000 + rng.next(1_000) as i64,
                ack_due: 1_500 + rng.next(1_000) as i64,
                resolve_due: 1_500 + rng.next(1_000) as i64,
                escalated: rng.next(7) == 0,
                rating: (status == CaseStatus::Closed).then(|| rng.next(5) as u8 + 1),
                ack_seconds: acked.then(|| rng.next(40) as i64),
                resolve_seconds: resolved.then(|| rng.next(400) as i64 - 5),
            }
        })
        .collect()
}

fn summary(mut v: Vec<i64>) -> DurationSummary {
    v.sort_unstable();
    let h = |p| percentile(&v, p).map(|s| s as f64 / 3600.0);
    DurationSummary { count: v.len() as i64, median_hours: h(50.0), p90_hours: h(90.0) }
}

/// The figures of `cases` counted one by one.
fn reference_figures(cases: &[&CaseFacts], now: i64) -> CaseFigures {
    let n = |f: &dyn Fn(&CaseFacts) -> bool| cases.iter().filter(|c| f(c)).count() as i64;
    let mut dist = [0i64; 5];
    for c in cases {
        if let Some(r) = c.rating {
            dist[usize::from(r - 1)] += 1;
        }
    }
    CaseFigures {
        cases: cases.len() as i64,
        open: n(&|c| c.status.is_open()),
        resolved: n(&|c| matches!(c.status, CaseStatus::Resolved | CaseStatus::Closed)),
        closed: n(&|c| c.status == CaseStatus::Closed),
        overdue: n(&|c| match c.status {
            CaseStatus::Submitted => c.ack_due < now,
            CaseStatus::Acknowledged => c.resolve_due < now,
            _ => false,
        }),
        escalated: n(&|c| c.escalated),
        to_acknowledge: summary(cases.iter().filter_map(|c| c.ack_seconds).collect()),
        to_resolve: summary(cases.iter().filter_map(|c| c.resolve_seconds).collect()),
        satisfaction: satisfaction(dist),
    }
}

fn path_of(code: &str) -> String {
    regions().into_iter().find(|r| r.code == code).map(|r| r.path).unwrap_or_default()
}

fn reference(cases: &[CaseFacts], q: &CaseQuery) -> GroupedFigures {
    let prefix = q.region_prefix.clone().unwrap_or_else(|| "/".into());
    let kept: Vec<&CaseFacts> = cases
        .iter()
        .filter(|c| {
            let path = path_of(&c.region_code);
            path.starts_with(&prefix)
                && q.scopes.as_ref().is_none_or(|parts| {
                    parts.iter().any(|p| {
                        path.starts_with(&p.prefix) && p.sector.as_ref().is_none_or(|s| c.sector.as_ref() == Some(s))
                    })
                })
                && q.category.as_ref().is_none_or(|x| &c.category == x)
                && q.sector.as_ref().is_none_or(|x| c.sector.as_ref() == Some(x))
                && q.platform_id.is_none_or(|x| c.platform_id == Some(x))
                && q.from.is_none_or(|x| c.created >= x)
                && q.before.is_none_or(|x| c.created < x)
        })
        .collect();
    fn group<K: Ord + Clone>(kept: &[&CaseFacts], key: impl Fn(&CaseFacts) -> K, now: i64) -> Vec<(K, CaseFigures)> {
        let mut m: BTreeMap<K, Vec<&CaseFacts>> = BTreeMap::new();
        for c in kept {
            m.entry(key(c)).or_default().push(c);
        }
        m.into_iter().map(|(k, cs)| (k, reference_figures(&cs, now))).collect()
    }
    let child = |c: &CaseFacts| {
        let path = path_of(&c.region_code);
        path[prefix.len()..].split('/').next().unwrap_or_default().to_owned()
    };
    GroupedFigures {
        total: reference_figures(&kept, q.now),
        by_category: group(&kept, |c| c.category.clone(), q.now),
        by_sector: group(&kept, |c| c.sector.clone(), q.now),
        by_platform: group(&kept, |c| c.platform_id, q.now),
        by_region: group(&kept, child, q.now),
    }
}

fn sorted(mut g: GroupedFigures) -> GroupedFigures {
    g.by_category.sort_by(|a, b| a.0.cmp(&b.0));
    g.by_sector.sort_by(|a, b| a.0.cmp(&b.0));
    g.by_platform.sort_by_key(|a| a.0);
    g.by_region.sort_by(|a, b| a.0.cmp(&b.0));
    g
}

fn queries() -> Vec<CaseQuery> {
    let base = CaseQuery {
        scopes: None,
        region_prefix: None,
        from: None,
        before: None,
        category: None,
        sector: None,
        platform_id: None,
        now: 2_000,
    };
    let part = |prefix: &str, sector: Option<&str>| ScopePart { prefix: prefix.into(), sector: sector.map(Into::into) };
    vec![
        base.clone(),
        CaseQuery { region_prefix: Some("/44/".into()), ..base.clone() },
        CaseQuery { region_prefix: Some("/44/4403/".into()), from: Some(1_200), before: Some(1_700), ..base.clone() },
        CaseQuery { region_prefix: Some("/11/1101/110105/".into()), ..base.clone() },
        CaseQuery { category: Some("b".into()), sector: Some("courier".into()), platform_id: Some(7), ..base.clone() },
        CaseQuery { category: Some("nope".into()), ..base.clone() },
        CaseQuery { platform_id: Some(8), ..base.clone() },
        CaseQuery { scopes: Some(vec![part("/44/4401/", None)]), ..base.clone() },
        CaseQuery { scopes: Some(vec![part("/44/", Some("courier")), part("/11/", None)]), ..base.clone() },
        CaseQuery {
            scopes: Some(vec![part("/44/", Some("courier")), part("/44/4403/", None), part("/44/", Some("food"))]),
            region_prefix: Some("/44/".into()),
            ..base.clone()
        },
        CaseQuery { scopes: Some(vec![part("/44/", Some("nope"))]), ..base.clone() },
        CaseQuery { scopes: Some(Vec::new()), ..base.clone() },
        CaseQuery { region_prefix: Some("/66/".into()), now: 1_000, ..base },
    ]
}

#[test]
fn statistics_equal_counting_case_by_case() {
    let cases = random_cases(600, 11);
    let mut index = CaseIndex::new(regions());
    for c in &cases {
        index.upsert(c);
    }
    assert_eq!(index.len(), 600);
    for q in queries() {
        let want = sorted(reference(&cases, &q));
        assert_eq!(sorted(index.statistics(&q)), want, "{q:?}");
        // Counting each case on each grouping's line, without the cells, gives the same.
        assert_eq!(sorted(index.statistics_with(&q, 0)), want, "{q:?}");
    }
}

#[test]
fn updates_and_removals_are_counted_as_the_cases_now_stand() {
    let mut cases = random_cases(300, 5);
    let mut index = CaseIndex::new(regions());
    for c in &cases {
        index.upsert(c);
    }
    let mut rng = Lcg(99);
    let fresh = random_cases(300, 77);
    for _ in 0..200 {
        let i = rng.next(cases.len() as u64) as usize;
        match rng.next(3) {
            0 => {
                let gone = cases.remove(i);
                index.remove(gone.id);
            }
            _ => {
                let mut c = fresh[i % fresh.len()].clone();
                c.id = cases[i].id;
                cases[i] = c.clone();
                index.upsert(&c);
            }
        }
    }
    // Removed slots are reused by new cases.
    for (k, c) in fresh.iter().take(50).enumerate() {
        let c = CaseFacts { id: 10_000 + k as i64, ..c.clone() };
        index.upsert(&c);
        cases.push(c);
    }
    // A case moved to an unknown region drops out.
    let mut lost = cases[0].clone();
    lost.region_code = "999999".into();
    index.upsert(&lost);
    cases.remove(0);
    assert_eq!(index.len(), cases.len());
    for q in queries() {
        assert_eq!(sorted(index.statistics(&q)), sorted(reference(&cases, &q)), "{q:?}");
    }
}
