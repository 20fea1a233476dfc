#![allow(clippy::unwrap_used)]

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
}

fn region(code: &str, name: &str, level: RegionLevel, parent: Option<&str>, path: &str) -> RegionInput {
    RegionInput { code: code.into(), name: name.into(), level, parent_code: parent.map(Into::into), path: path.into() }
}

fn regions() -> Vec<RegionInput> {
    use RegionLevel::*;
    vec![
        region("11", "北京市", Province, None, "/11/"),
        region("1101", "市辖区", Prefecture, Some("11"), "/11/1101/"),
        region("110105", "朝阳区", County, Some("1101"), "/11/1101/110105/"),
        region("110108", "海淀区", County, Some("1101"), "/11/1101/110108/"),
        region("31", "上海市", Province, None, "/31/"),
        region("3101", "市辖区", Prefecture, Some("31"), "/31/3101/"),
        region("310101", "黄浦区", County, Some("3101"), "/31/3101/310101/"),
    ]
}

fn unit(id: i64, region: &str, kind: EntityKind, root: i64, sectors: &[&str], members: u32) -> UnitInput {
    UnitInput {
        id,
        region_code: region.into(),
        kind,
        root_id: Some(root),
        sectors: sectors.iter().map(|s| s.to_string()).collect(),
        members,
        workers: members * 10 + 5,
        established: Some(d("2020-01-01")),
        closed: None,
    }
}

fn org(id: i64, kind: OrgKind, region: &str, units: &[(i64, bool)], est: &str) -> OrgInput {
    OrgInput {
        id,
        kind,
        parent_id: None,
        region_code: region.into(),
        established: Some(d(est)),
        dissolved: None,
        term_start: Some(d(est)),
        term_end: None,
        units: units.to_vec(),
    }
}

/// Platform 1 (海淀, food delivery) → franchisee 2 (朝阳) → sites 3, 4 (朝阳); site 5 (朝阳, 2 members);
/// site 6 (朝阳, 1 member); platform 10 (上海, courier) → site 11 (黄浦, 0 members, instructor).
fn index() -> CoverageIndex {
    let mut ix = CoverageIndex::new(regions(), vec!["courier".into(), "food_delivery".into()], RuleSet::default());
    use EntityKind::*;
    for u in [
        unit(1, "110108", Platform, 1, &["food_delivery"], 120),
        unit(2, "110105", Franchisee, 1, &["food_delivery"], 4),
        unit(3, "110105", Site, 1, &["food_delivery"], 0),
        unit(4, "110105", Site, 1, &["food_delivery", "courier"], 3),
        unit(5, "110105", Site, 1, &["food_delivery"], 2),
        unit(6, "110105", Site, 1, &["food_delivery"], 1),
        unit(10, "310101", Platform, 10, &["courier"], 0),
        unit(11, "310101", Site, 10, &["courier"], 0),
    ] {
        ix.upsert_unit(u);
    }
    ix.upsert_org(org(100, OrgKind::Branch, "110108", &[(1, false)], "2021-01-01"));
    // The franchisee's branch covers site 3 through the chain.
    ix.upsert_org(org(101, OrgKind::Branch, "110105", &[(2, false), (3, true)], "2022-06-01"));
    ix.upsert_org(org(102, OrgKind::JointBranch, "110105", &[(5, false), (6, false)], "2023-01-01"));
    ix.set_assignments(
        11,
        &[AssignmentInput { instructor_id: 7, entity_id: 11, start: d("2024-01-01"), end: Some(d("2024-12-31")) }],
    );
    ix
}

fn nation() -> Filter {
    Filter::default()
}

#[test]
fn a_rollup_counts_each_state_and_rates() {
    let ix = index();
    let r = ix.rollup(&nation(), d("2024-06-30"), &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    let t = &r.totals;
    assert_eq!((t.units, t.own, t.joint, t.chain, t.instructor_only, t.none), (8, 2, 2, 1, 1, 2));
    assert_eq!(t.members, 130);
    assert_eq!(t.organizations, Some(3));
    assert_eq!(t.instructors, Some(1));
    assert_eq!(t.units_needing_own, 3);
    assert_eq!(t.coverage_rate, Some(5.0 / 8.0));
    assert_eq!(t.establishment_rate, Some(2.0 / 8.0));
    assert_eq!(t.work_coverage_rate, Some(6.0 / 8.0));
    let codes: Vec<&str> = r.children.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, vec!["11", "31"]);
    // Site 4 is in two sectors: it counts in both rows, once in the total.
    let sectors: u64 = r.by_sector.iter().map(|(_, f)| f.units).sum();
    assert_eq!(sectors, 9);
    let tiers: u64 = r.by_tier.iter().map(|(_, f)| f.units).sum();
    assert_eq!(tiers, 8);
    let cell = r.table.iter().find(|c| c.sector == "food_delivery" && c.tier == EntityKind::Site);
    assert_eq!(cell.map(|c| c.figures.units), Some(4));
    assert_eq!(r.chains[0].root_id, 1);
    assert_eq!(r.chains[0].figures.units, 6);
}

#[test]
fn the_past_is_answered_from_the_dates() {
    let ix = index();
    let r = ix.rollup(&nation(), d("2021-06-30"), &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((r.totals.own, r.totals.joint, r.totals.chain, r.totals.instructor_only), (1, 0, 0, 0));
    let r = ix.rollup(&nation(), d("2025-06-30"), &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.totals.instructor_only, 0, "the assignment ended on 2024-12-31");
    assert_eq!(r.totals.instructors, Some(0));
    let r = ix.rollup(&nation(), d("2019-06-30"), &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.totals.units, 0, "nothing was established yet");
}

#[test]
fn drill_down_and_filters() {
    let ix = index();
    let f = Filter { region: Some("1101".into()), ..Default::default() };
    let r = ix.rollup(&f, d("2024-06-30"), &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.totals.units, 6);
    let codes: Vec<(&str, u64)> = r.children.iter().map(|c| (c.code.as_str(), c.figures.units)).collect();
    assert_eq!(codes, vec![("110105", 5), ("110108", 1)]);
    let f = Filter { sector: Some("courier".into()), ..Default::default() };
    assert_eq!(ix.rollup(&f, d("2024-06-30"), &Visibility::All).map(|r| r.totals.units), Ok(3));
    let f = Filter { tier: Some(EntityKind::Site), chain: Some(1), ..Default::default() };
    assert_eq!(ix.rollup(&f, d("2024-06-30"), &Visibility::All).map(|r| r.totals.units), Ok(4));
    assert_eq!(
        ix.rollup(&Filter { chain: Some(3), ..Default::default() }, d("2024-06-30"), &Visibility::All).err(),
        Some(FilterError::NotAPlatform(3))
    );
    assert!(ix
        .rollup(&Filter { region: Some("99".into()), ..Default::default() }, d("2024-06-30"), &Visibility::All)
        .is_err());
}

#[test]
fn a_reader_sees_only_their_scope() {
    let ix = index();
    let county = ix.visibility(false, &[Scope::Region { path: "/11/1101/110105/".into() }]);
    let r = ix.rollup(&nation(), d("2024-06-30"), &county).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.totals.units, 5);
    let chain = ix.visibility(false, &[Scope::Chain { root_id: 10 }]);
    let r = ix.rollup(&nation(), d("2024-06-30"), &chain).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.totals.units, 2);
    let sector = ix.visibility(false, &[Scope::SectorInRegion { sector: "courier".into(), path: "/11/".into() }]);
    assert_eq!(ix.rollup(&nation(), d("2024-06-30"), &sector).map(|r| r.totals.units), Ok(1));
    let org = ix.visibility(false, &[Scope::Organization { org_id: 102 }]);
    assert_eq!(ix.rollup(&nation(), d("2024-06-30"), &org).map(|r| r.totals.units), Ok(2));
    let both = ix.visibility(false, &[Scope::Organization { org_id: 102 }, Scope::Chain { root_id: 10 }]);
    assert_eq!(ix.rollup(&nation(), d("2024-06-30"), &both).map(|r| r.totals.units), Ok(4));
    let unknown = ix.visibility(false, &[Scope::Region { path: "/99/".into() }]);
    assert_eq!(ix.rollup(&nation(), d("2024-06-30"), &unknown).map(|r| r.totals.units), Ok(0));
    assert!(matches!(ix.visibility(false, &[Scope::Region { path: "/".into() }]), Visibility::All));
}

#[test]
fn gaps_name_the_rule_and_the_fix() {
    let ix = index();
    let rows =
        ix.gaps(&nation(), d("2024-06-30"), &Visibility::All, None, GapOrder::Rule).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(i64, GapRule)> = rows.iter().map(|g| (g.unit_id, g.rule)).collect();
    // Branch 100 started its term on 2021-01-01 under the 2018 rules (3 years): expired in 2024.
    assert_eq!(
        got,
        vec![
            (4, GapRule::NoOwnOrganization),
            (10, GapRule::NoCoverage),
            (1, GapRule::OrganizationBelowSize),
            (1, GapRule::TermExpired),
        ]
    );
    assert_eq!(rows[3].organization_id, Some(100));
    let rows = ix.gaps(&nation(), d("2023-06-30"), &Visibility::All, Some(GapRule::TermExpired), GapOrder::Rule);
    assert_eq!(rows.map(|r| r.len()), Ok(0), "not yet expired in 2023");
    let by_members = ix
        .gaps(&nation(), d("2024-06-30"), &Visibility::All, None, GapOrder::Members)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(by_members[0].members, 120);
}

#[test]
fn writes_show_at_once() {
    let mut ix = index();
    let day = d("2024-06-30");
    let before = ix.rollup(&nation(), day, &Visibility::All).unwrap_or_else(|e| panic!("{e}")).totals;
    // Site 4 gets its own branch.
    ix.upsert_org(org(103, OrgKind::Branch, "110105", &[(4, false)], "2024-01-01"));
    let after = ix.rollup(&nation(), day, &Visibility::All).unwrap_or_else(|e| panic!("{e}")).totals;
    assert_eq!(after.own, before.own + 1);
    assert_eq!(after.none, before.none - 1);
    // The joint branch is dissolved: sites 5 and 6 fall to none.
    let mut dissolved = org(102, OrgKind::JointBranch, "110105", &[(5, false), (6, false)], "2023-01-01");
    dissolved.dissolved = Some(d("2024-03-01"));
    ix.upsert_org(dissolved);
    let t = ix.rollup(&nation(), day, &Visibility::All).unwrap_or_else(|e| panic!("{e}")).totals;
    assert_eq!((t.joint, t.none), (0, after.none + 2));
    // A unit moves to 上海 and another closes.
    let mut moved = unit(6, "310101", EntityKind::Site, 1, &["food_delivery"], 1);
    moved.closed = Some(d("2024-05-01"));
    ix.upsert_unit(moved);
    let f = Filter { region: Some("31".into()), ..Default::default() };
    assert_eq!(ix.rollup(&f, d("2024-04-01"), &Visibility::All).map(|r| r.totals.units), Ok(3));
    assert_eq!(ix.rollup(&f, day, &Visibility::All).map(|r| r.totals.units), Ok(2));
    ix.remove_unit(11);
    ix.remove_org(103);
    let t = ix.rollup(&nation(), day, &Visibility::All).unwrap_or_else(|e| panic!("{e}")).totals;
    assert_eq!((t.units, t.own), (6, before.own));
}

/// A reference implementation straight from the inputs, to check the index against on random data.
fn reference(
    units: &[UnitInput],
    orgs: &[OrgInput],
    assignments: &[AssignmentInput],
    date: NaiveDate,
) -> (u64, u64, u64, u64, u64, u64) {
    let active_org = |o: &OrgInput| o.established.is_none_or(|e| e <= date) && o.dissolved.is_none_or(|x| date < x);
    let mut out = (0, 0, 0, 0, 0, 0);
    for u in units {
        if u.established.is_some_and(|e| e > date) || u.closed.is_some_and(|c| c <= date) {
            continue;
        }
        out.0 += 1;
        let mine = |joint: bool, chain: bool| {
            orgs.iter().any(|o| {
                active_org(o) && o.kind.is_joint() == joint && o.units.iter().any(|(id, c)| *id == u.id && *c == chain)
            })
        };
        if mine(false, false) {
            out.1 += 1;
        } else if mine(true, false) {
            out.2 += 1;
        } else if mine(false, true) {
            out.3 += 1;
        } else if assignments.iter().any(|a| a.entity_id == u.id && a.start <= date && a.end.is_none_or(|e| date <= e))
        {
            out.4 += 1;
        } else {
            out.5 += 1;
        }
    }
    out
}

/// A small deterministic generator (no dependency): xorshift.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
    fn date(&mut self) -> NaiveDate {
        d("2019-01-01") + chrono::Duration::days(self.next(2500) as i64)
    }
}

#[test]
fn random_registries_agree_with_the_reference_and_trends_with_rollups() {
    for seed in 1..=25u64 {
        let mut rng = Rng(seed * 7919 + 1);
        let counties = ["110105", "110108", "310101"];
        let mut units = Vec::new();
        for id in 1..=40 {
            let mut u = unit(
                id,
                counties[rng.next(3) as usize],
                if id <= 2 { EntityKind::Platform } else { EntityKind::Site },
                1 + (id % 2),
                &["courier"],
                rng.next(5) as u32,
            );
            u.established = (rng.next(4) > 0).then(|| rng.date());
            u.closed = (rng.next(5) == 0).then(|| rng.date());
            units.push(u);
        }
        let mut orgs = Vec::new();
        for id in 1..=15 {
            let kind = if rng.next(2) == 0 { OrgKind::JointBranch } else { OrgKind::Branch };
            let a = 1 + rng.next(40) as i64;
            let b = 1 + rng.next(40) as i64;
            let list = if kind.is_joint() { vec![(a, false), (b, false)] } else { vec![(a, false), (b, true)] };
            let mut o = org(100 + id, kind, "110105", &list, "2020-01-01");
            o.established = Some(rng.date());
            o.dissolved = (rng.next(3) == 0).then(|| rng.date());
            orgs.push(o);
        }
        let mut assignments = Vec::new();
        for _ in 0..12 {
            let start = rng.date();
            assignments.push(AssignmentInput {
                instructor_id: rng.next(5) as i64,
                entity_id: 1 + rng.next(40) as i64,
                start,
                end: (rng.next(2) == 0).then(|| start + chrono::Duration::days(rng.next(400) as i64)),
            });
        }
        let mut ix = CoverageIndex::new(regions(), vec!["courier".into()], RuleSet::default());
        for u in &units {
            ix.upsert_unit(u.clone());
        }
        for u in &units {
            let mine: Vec<AssignmentInput> = assignments.iter().filter(|a| a.entity_id == u.id).cloned().collect();
            ix.set_assignments(u.id, &mine);
        }
        for o in &orgs {
            ix.upsert_org(o.clone());
        }
        // Compacting the link pool, and changes after it, keep every answer.
        ix.compact_links();
        if let Some(o) = orgs.first() {
            ix.upsert_org(o.clone());
        }
        let dates: Vec<NaiveDate> = (0..12).map(|_| rng.date()).collect();
        let trend = ix.trend(&nation(), &dates, &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
        for (date, point) in dates.iter().zip(&trend) {
            let r = ix.rollup(&nation(), *date, &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
            let t = &r.totals;
            let got = (t.units, t.own, t.joint, t.chain, t.instructor_only, t.none);
            assert_eq!(got, reference(&units, &orgs, &assignments, *date), "seed {seed} on {date}");
            let p = &point.figures;
            assert_eq!(
                (p.units, p.own, p.joint, p.chain, p.instructor_only, p.none, p.members, p.units_needing_own),
                (t.units, t.own, t.joint, t.chain, t.instructor_only, t.none, t.members, t.units_needing_own),
                "trend point {date}, seed {seed}"
            );
            let by_children: u64 = r.children.iter().map(|c| c.figures.units).sum();
            assert_eq!(by_children, t.units);
            assert_gap_pages_match_a_full_sort(&ix, *date);
        }
    }
}

/// Every page of the paged gap list, in every order and for every rule, equals the same slice of the
/// whole list sorted the plain way.
fn assert_gap_pages_match_a_full_sort(ix: &CoverageIndex, date: NaiveDate) {
    let all = |order| ix.gaps_page(&nation(), date, &Visibility::All, None, order, 0, usize::MAX).unwrap();
    let (total, base) = all(GapOrder::Rule);
    assert_eq!(total, base.len());
    for order in [GapOrder::Rule, GapOrder::Members, GapOrder::Region] {
        let mut expected = base.clone();
        match order {
            GapOrder::Rule => expected
                .sort_by(|a, b| a.rule.cmp(&b.rule).then(b.members.cmp(&a.members)).then(a.unit_id.cmp(&b.unit_id))),
            GapOrder::Members => expected.sort_by(|a, b| b.members.cmp(&a.members).then(a.unit_id.cmp(&b.unit_id))),
            GapOrder::Region => {
                expected.sort_by(|a, b| a.region_code.cmp(&b.region_code).then(a.unit_id.cmp(&b.unit_id)))
            }
        }
        assert_eq!(all(order).1, expected, "{order:?} on {date}");
        for rule in [None, expected.first().map(|g| g.rule)] {
            let want: Vec<GapRow> = expected.iter().filter(|g| rule.is_none_or(|r| r == g.rule)).cloned().collect();
            for per_page in [1, 3, 7] {
                let mut pages = Vec::new();
                for offset in (0..want.len() + per_page).step_by(per_page) {
                    let (n, rows) =
                        ix.gaps_page(&nation(), date, &Visibility::All, rule, order, offset, per_page).unwrap();
                    assert_eq!(n, want.len());
                    assert!(rows.len() <= per_page);
                    pages.extend(rows);
                }
                assert_eq!(pages, want, "{order:?} {rule:?} by {per_page} on {date}");
            }
        }
    }
}

/// The units a query reads and the gaps it lists, checked against the plain definitions: every live
/// unit the filter and the reader's scopes accept, whichever way the reading is narrowed (to the
/// reader's regions or chains); a unit rule for each operating such unit that breaks one, and the rules
/// of each active organization listed once, under its home unit when that unit is such a unit.
fn assert_reads_match_brute_force(ix: &CoverageIndex, day: NaiveDate, context: &str) {
    let region = |p: &str| Scope::Region { path: p.into() };
    let readers = [
        Visibility::All,
        ix.visibility(false, &[]),
        ix.visibility(false, &[region("/11/")]),
        ix.visibility(false, &[region("/11/1101/110105/"), region("/31/"), region("/11/1101/")]),
        ix.visibility(false, &[region("/99/")]),
        ix.visibility(false, &[Scope::SectorInRegion { sector: "courier".into(), path: "/11/".into() }]),
        ix.visibility(false, &[Scope::SectorInRegion { sector: "courier".into(), path: "/".into() }]),
        ix.visibility(false, &[Scope::Chain { root_id: 1 }]),
        ix.visibility(false, &[Scope::Chain { root_id: 2 }, Scope::Chain { root_id: 1 }]),
        ix.visibility(false, &[Scope::Chain { root_id: 3 }, region("/31/")]),
    ];
    let day_n = day_of(day);
    let t = ix.rules.at(day_n);
    for region in [None, Some("11"), Some("1101"), Some("110105"), Some("31")] {
        let f = Filter { region: region.map(Into::into), ..Default::default() };
        for (i, v) in readers.iter().enumerate() {
            let c = ix.candidates(&f, v).unwrap();
            let mut read = Vec::new();
            c.each(|slot, _| read.push(slot));
            read.sort_unstable();
            let all: Vec<u32> = (0..ix.units.len() as u32).filter(|&s| c.accepts(&ix.units[s as usize])).collect();
            assert_eq!(read, all, "{context}: units read, region {region:?}, reader {i}");

            // Registered counts, whether added up by region or read unit by unit.
            let reg = ix.registered_units(region, v).unwrap();
            assert_eq!(reg.total, all.len() as u64, "{context}: registered, region {region:?}, reader {i}");
            for (t, n) in &reg.by_tier {
                let want = all.iter().filter(|&&s| ix.units[s as usize].tier == *t).count() as u64;
                assert_eq!(*n, want, "{context}: registered {t:?}, region {region:?}, reader {i}");
            }
            let depth = c.child_depth;
            let mut children: Vec<(String, u64)> = Vec::new();
            for &s in &all {
                let Some(d) = depth else { break };
                let child = ix.lineage[ix.units[s as usize].region as usize][d];
                if child == NONE {
                    continue;
                }
                let code = ix.regions[child as usize].code.clone();
                match children.iter_mut().find(|(c, _)| *c == code) {
                    Some(e) => e.1 += 1,
                    None => children.push((code, 1)),
                }
            }
            children.sort();
            assert_eq!(reg.children, children, "{context}: children, region {region:?}, reader {i}");
            for tier in [None, Some(EntityKind::Site), Some(EntityKind::Platform)] {
                for closed in [None, Some(true), Some(false)] {
                    let f = Filter { tier, ..f.clone() };
                    let want = all
                        .iter()
                        .map(|&s| &ix.units[s as usize])
                        .filter(|u| tier.is_none_or(|t| t == u.tier) && closed.is_none_or(|w| w == (u.closed != OPEN)))
                        .count() as u64;
                    assert_eq!(
                        ix.count_registered(&f, closed, v),
                        Ok(want),
                        "{context}: count {tier:?} {closed:?}, region {region:?}, reader {i}"
                    );
                }
            }

            // The gaps, in the default order: rule, members (most first), unit id, the unit's own rule
            // before its organizations' (by slot).
            let mut want = Vec::new();
            for &slot in &all {
                let u = &ix.units[slot as usize];
                if !operating(u.established, u.closed, day_n) {
                    continue;
                }
                let links = ix.links_of(u);
                let state = state_at(links, day_n);
                let own = links
                    .iter()
                    .filter(|l| l.kind == LinkKind::Own && l.active(day_n))
                    .map(|l| ix.orgs[l.source as usize].kind)
                    .max_by_key(|k| Requirement::met_by(*k));
                if let Some(g) = unit_gap(u.members, state, own, t) {
                    want.push((g, std::cmp::Reverse(u.members), u.id, 0u32));
                }
            }
            for (o_slot, o) in ix.orgs.iter().enumerate() {
                let home = o.units.iter().find(|(_, chain)| !chain).or(o.units.first()).map(|(u, _)| *u);
                let Some(home) = home.filter(|h| all.contains(h)) else { continue };
                let u = &ix.units[home as usize];
                if !o.active(day_n) || !operating(u.established, u.closed, day_n) {
                    continue;
                }
                for g in organization_gaps(o.kind, ix.term_end_day(o), o.units.len(), day_n, t) {
                    want.push((g, std::cmp::Reverse(u.members), u.id, o_slot as u32 + 1));
                }
            }
            want.sort_unstable();
            let key = |g: &GapRow| {
                let org = g.organization_id.map_or(0, |id| ix.org_slot[&id] + 1);
                (g.rule, std::cmp::Reverse(g.members), g.unit_id, org)
            };
            let full = ix.gaps(&f, day, v, None, GapOrder::Rule).unwrap();
            let got: Vec<_> = full.iter().map(key).collect();
            assert_eq!(got, want, "{context}: gaps, region {region:?}, reader {i}");
            // Page by page, and one rule's, the same rows.
            for rule in [None, want.first().map(|w| w.0), Some(GapRule::TermExpired)] {
                let expected: Vec<&GapRow> = full.iter().filter(|g| rule.is_none_or(|r| r == g.rule)).collect();
                for per_page in [1, 4] {
                    let mut pages = Vec::new();
                    for offset in (0..expected.len() + per_page).step_by(per_page) {
                        let (n, rows) = ix.gaps_page(&f, day, v, rule, GapOrder::Rule, offset, per_page).unwrap();
                        assert_eq!(n, expected.len(), "{context}: total of {rule:?}, region {region:?}, reader {i}");
                        pages.extend(rows);
                    }
                    let pages: Vec<&GapRow> = pages.iter().collect();
                    assert_eq!(pages, expected, "{context}: pages of {rule:?}, region {region:?}, reader {i}");
                }
            }
        }
    }
}

/// Every roll-up the partial sums answer, checked against a scan; `day` is the prepared day.
fn assert_sums_match_scan(ix: &CoverageIndex, day: NaiveDate, context: &str) {
    assert_eq!(ix.prepared_day(), Some(day), "{context}");
    let scopes = [
        Visibility::All,
        ix.visibility(false, &[Scope::Region { path: "/11/".into() }]),
        ix.visibility(false, &[Scope::Region { path: "/11/1101/".into() }, Scope::Chain { root_id: 1 }]),
    ];
    for region in [None, Some("11"), Some("31"), Some("1101"), Some("3101")] {
        let f = Filter { region: region.map(Into::into), ..Default::default() };
        for (i, v) in scopes.iter().enumerate() {
            let scan = ix.rollup_by_scan(&f, day, v).unwrap_or_else(|e| panic!("{e}"));
            let c = ix.candidates(&f, v).unwrap_or_else(|e| panic!("{e}"));
            match ix.rollup_from_aggregate(&c, &f, day) {
                Some(sums) => assert_eq!(sums, scan, "{context}: region {region:?}, scope {i}"),
                None => assert!(i > 0, "{context}: region {region:?} should be answered from the sums"),
            }
            assert_eq!(ix.rollup(&f, day, v).as_ref(), Ok(&scan), "{context}: region {region:?}, scope {i}");
        }
    }
    // Counties, filters and other days are scanned.
    let county = Filter { region: Some("110105".into()), ..Default::default() };
    let c = ix.candidates(&county, &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    assert!(ix.rollup_from_aggregate(&c, &county, day).is_none());
    let sector = Filter { sector: Some("courier".into()), ..Default::default() };
    let c = ix.candidates(&sector, &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    assert!(ix.rollup_from_aggregate(&c, &sector, day).is_none());
    let c = ix.candidates(&nation(), &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    assert!(ix.rollup_from_aggregate(&c, &nation(), day + chrono::Duration::days(1)).is_none());
}

#[test]
fn partial_sums_equal_a_scan_after_any_sequence_of_changes() {
    let counties = ["110105", "110108", "310101", "11", "1101"];
    let sectors = ["courier", "food_delivery"];
    for seed in 1..=30u64 {
        let mut rng = Rng(seed * 104_729 + 3);
        let mut ix = CoverageIndex::new(regions(), sectors.iter().map(|s| s.to_string()).collect(), RuleSet::default());
        let day = rng.date();
        let random_unit = |rng: &mut Rng, id: i64| {
            let kind = [EntityKind::Platform, EntityKind::Franchisee, EntityKind::Partner, EntityKind::Site]
                [rng.next(4) as usize];
            let picked: Vec<&str> = sectors.iter().copied().filter(|_| rng.next(2) == 0).collect();
            let mut u =
                unit(id, counties[rng.next(5) as usize], kind, 1 + rng.next(3) as i64, &picked, rng.next(6) as u32);
            u.established = (rng.next(4) > 0).then(|| rng.date());
            u.closed = (rng.next(4) == 0).then(|| rng.date());
            u
        };
        let random_org = |rng: &mut Rng, id: i64| {
            let kind = [OrgKind::Branch, OrgKind::JointBranch, OrgKind::GeneralBranch][rng.next(3) as usize];
            let units: Vec<(i64, bool)> =
                (0..1 + rng.next(4)).map(|i| (1 + rng.next(30) as i64, i > 0 && !kind.is_joint())).collect();
            let mut o = org(id, kind, counties[rng.next(5) as usize], &units, "2020-01-01");
            o.established = (rng.next(5) > 0).then(|| rng.date());
            o.dissolved = (rng.next(3) == 0).then(|| rng.date());
            o
        };
        for id in 1..=20 {
            let u = random_unit(&mut rng, id);
            ix.upsert_unit(u);
        }
        // Half the seeds prepare the day before the organizations arrive, half after.
        if seed % 2 == 0 {
            ix.prepare_day(day);
        }
        for id in 100..110 {
            let o = random_org(&mut rng, id);
            ix.upsert_org(o);
        }
        ix.prepare_day(day);
        assert_sums_match_scan(&ix, day, &format!("seed {seed}, start"));
        for step in 0..80 {
            match rng.next(9) {
                0 | 1 => {
                    let id = 1 + rng.next(30) as i64;
                    let u = random_unit(&mut rng, id);
                    ix.upsert_unit(u);
                }
                2 => ix.remove_unit(1 + rng.next(30) as i64),
                3 | 4 => {
                    let id = 100 + rng.next(14) as i64;
                    let o = random_org(&mut rng, id);
                    ix.upsert_org(o);
                }
                5 => ix.remove_org(100 + rng.next(14) as i64),
                6 => {
                    let entity_id = 1 + rng.next(30) as i64;
                    let list: Vec<AssignmentInput> = (0..rng.next(3))
                        .map(|_| {
                            let start = rng.date();
                            AssignmentInput {
                                instructor_id: rng.next(4) as i64,
                                entity_id,
                                start,
                                end: (rng.next(2) == 0).then(|| start + chrono::Duration::days(rng.next(900) as i64)),
                            }
                        })
                        .collect();
                    ix.set_assignments(entity_id, &list);
                }
                7 => ix.compact_links(),
                _ => {
                    let mut rules = RuleSet::default();
                    for v in &mut rules.versions {
                        v.thresholds.own_organization_min = 1 + rng.next(4) as u32;
                    }
                    ix.set_rules(rules);
                }
            }
            assert_sums_match_scan(&ix, day, &format!("seed {seed}, step {step}"));
            assert_reads_match_brute_force(&ix, day, &format!("seed {seed}, step {step}"));
        }
        // Sums kept through the changes equal sums made afresh.
        let mut fresh = ix.clone();
        fresh.prepare_day(day);
        let kept = ix.rollup(&nation(), day, &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fresh.rollup(&nation(), day, &Visibility::All).as_ref(), Ok(&kept), "seed {seed}");
    }
}

#[test]
fn registered_units_count_every_unit_whatever_its_dates_by_sub_region_and_scope() {
    let mut ix = index();
    // A unit closed long ago and one not yet established still count as registered.
    let mut closed = unit(20, "110105", EntityKind::Site, 1, &["food_delivery"], 0);
    closed.closed = Some(d("2021-01-01"));
    ix.upsert_unit(closed);
    let mut future = unit(21, "110108", EntityKind::Site, 1, &["food_delivery"], 0);
    future.established = Some(d("2099-01-01"));
    ix.upsert_unit(future);
    ix.remove_unit(4);
    let pair = |c: &str, n: u64| (c.to_owned(), n);

    let r = ix.registered_units(None, &Visibility::All).unwrap();
    assert_eq!(r.total, 9);
    assert_eq!(r.children, vec![pair("11", 7), pair("31", 2)]);
    use EntityKind::*;
    assert_eq!(r.by_tier, vec![(Platform, 2), (Franchisee, 1), (Partner, 0), (Site, 6)]);
    let r = ix.registered_units(Some("1101"), &Visibility::All).unwrap();
    assert_eq!(r.total, 7);
    assert_eq!(r.children, vec![pair("110105", 5), pair("110108", 2)]);
    let r = ix.registered_units(Some("110105"), &Visibility::All).unwrap();
    assert_eq!((r.total, r.children.len()), (5, 0));

    // A chain scope sees its own units only, wherever they are.
    let chain = ix.visibility(false, &[Scope::Chain { root_id: 10 }]);
    let r = ix.registered_units(None, &chain).unwrap();
    assert_eq!(r.total, 2);
    assert_eq!(r.children, vec![pair("31", 2)]);
    assert!(matches!(ix.registered_units(Some("99"), &Visibility::All), Err(FilterError::UnknownRegion(_))));

    let count = |f: Filter, closed| ix.count_registered(&f, closed, &Visibility::All).unwrap();
    assert_eq!(count(nation(), None), 9);
    assert_eq!(count(nation(), Some(true)), 1);
    assert_eq!(count(nation(), Some(false)), 8);
    assert_eq!(count(Filter { sector: Some("courier".into()), ..nation() }, None), 2);
    assert_eq!(count(Filter { tier: Some(Site), region: Some("110105".into()), ..nation() }, None), 4);
    assert_eq!(count(Filter { chain: Some(1), ..nation() }, Some(false)), 6);
    assert_eq!(ix.count_registered(&nation(), None, &chain).unwrap(), 2);
}

#[test]
fn regions_whose_parents_disagree_with_their_paths_are_always_scanned() {
    let mut bad = regions();
    // 海淀 claims 上海's prefecture as its parent while its path puts it under 北京.
    if let Some(r) = bad.iter_mut().find(|r| r.code == "110108") {
        r.parent_code = Some("3101".into());
    }
    let mut ix = CoverageIndex::new(bad, vec!["courier".into()], RuleSet::default());
    ix.upsert_unit(unit(1, "110108", EntityKind::Platform, 1, &["courier"], 3));
    ix.prepare_day(d("2024-06-30"));
    assert_eq!(ix.prepared_day(), None);
    let r = ix.rollup(&nation(), d("2024-06-30"), &Visibility::All).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.totals.units, 1);
    assert!(index().lineage_matches_paths());
}
