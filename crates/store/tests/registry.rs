//! The storage suite: every test runs on SQLite and, when DANGJIAN_TEST_PG is set, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::{EntityDraft, InstructorDraft, OrganizationDraft, RegionLevel, SearchTerm};
use dangjian_store::entities::EntityFilter;
use dangjian_store::regions::RegionFilter;
use dangjian_store::testing::all_backends;
use dangjian_store::{AccessFilter, Paging, Store, StoreError};

/// Every row: these tests are about the registry's rules, not scopes (see `access.rs`).
fn all() -> AccessFilter {
    AccessFilter::unrestricted()
}

const PLATFORM: &str = "91350100M000100Y43";
const FRANCHISEE: &str = "9144030071526726XG";
const PARTNER: &str = "91330100799655058B";

fn entity(kind: &str, uscc: Option<&str>, site: Option<&str>, parent: Option<&str>, region: &str) -> EntityDraft {
    EntityDraft::parse(&EntityInput {
        uscc: uscc.map(Into::into),
        site_code: site.map(Into::into),
        name: Some(format!("{kind}-{}", uscc.or(site).unwrap_or("?"))),
        kind: Some(kind.into()),
        sectors: vec!["快递".into()],
        parent_uscc: parent.map(Into::into),
        region_code: Some(region.into()),
        workers: Some("20".into()),
        party_members: Some("2".into()),
        ..Default::default()
    })
    .unwrap()
}

async fn chain(store: &Store) -> (i64, i64, i64) {
    let p = store.create_entity(&entity("platform", Some(PLATFORM), None, None, "110105"), &all()).await.unwrap();
    let f = store
        .create_entity(&entity("franchisee", Some(FRANCHISEE), None, Some(PLATFORM), "440305"), &all())
        .await
        .unwrap();
    let s = store.create_entity(&entity("site", None, Some("S-1"), Some(FRANCHISEE), "659001"), &all()).await.unwrap();
    (p.id, f.id, s.id)
}

#[tokio::test]
async fn reference_regions_are_complete() {
    for db in all_backends().await {
        let s = &db.store;
        let count = |level| RegionFilter { level: Some(level), ..Default::default() };
        let n = |f: RegionFilter| async move { s.list_regions(&f, Paging::new(None, Some(1))).await.unwrap().total };
        assert_eq!(n(count(RegionLevel::Province)).await, 32, "{:?}", db.kind);
        assert_eq!(n(count(RegionLevel::Prefecture)).await, 342);
        assert_eq!(n(count(RegionLevel::County)).await, 2978);
        assert_eq!(n(count(RegionLevel::Township)).await, 41352);
        let xpcc = s.region_lineage("659001").await.unwrap();
        let codes: Vec<&str> = xpcc.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, vec!["66", "6590", "659001"]);
        let under_xinjiang = s
            .list_regions(
                &RegionFilter { within: Some("65".into()), level: Some(RegionLevel::County), ..Default::default() },
                Paging::default(),
            )
            .await
            .unwrap();
        assert!(under_xinjiang.items.iter().all(|r| !r.code.starts_with("6590")));
        assert_eq!(s.schema_version().await.unwrap(), Some(s.latest_known_version()));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn chain_rules_are_enforced_by_the_registry() {
    for db in all_backends().await {
        let s = &db.store;
        let (p, f, site) = chain(s).await;
        let e = s.entity(site).await.unwrap();
        assert_eq!((e.parent_id, e.root_id), (Some(f), Some(p)));
        assert_eq!(s.entity(p).await.unwrap().root_id, Some(p));
        // A partner under a franchisee breaks the tier rule.
        let bad = entity("partner", Some(PARTNER), None, Some(FRANCHISEE), "110105");
        match s.create_entity(&bad, &all()).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "invalid_parent_kind"),
            other => panic!("{other:?}"),
        }
        // Unknown region and duplicate USCC are field errors.
        match s.create_entity(&entity("partner", Some(PARTNER), None, Some(PLATFORM), "110199"), &all()).await {
            Err(StoreError::Invalid(e)) => {
                assert_eq!((e.0[0].field.as_str(), e.0[0].code.as_str()), ("region_code", "unknown_region"))
            }
            other => panic!("{other:?}"),
        }
        match s.create_entity(&entity("platform", Some(FRANCHISEE), None, None, "110105"), &all()).await {
            Err(StoreError::Invalid(e)) => {
                assert_eq!((e.0[0].field.as_str(), e.0[0].code.as_str()), ("uscc", "duplicate"))
            }
            other => panic!("{other:?}"),
        }
        // The chain view.
        let c = s.entity_chain(p, 100, &all()).await.unwrap();
        assert_eq!(c.descendants.iter().map(|d| (d.depth, d.entity.id)).collect::<Vec<_>>(), vec![(1, f), (2, site)]);
        let c = s.entity_chain(site, 100, &all()).await.unwrap();
        assert_eq!(c.ancestors.iter().map(|a| a.id).collect::<Vec<_>>(), vec![p, f]);
        // Filters: region subtree (XPCC), kind, chain root, text.
        let list = |f: EntityFilter| async move {
            s.list_entities(&f, Paging::default(), &all()).await.unwrap().items.iter().map(|e| e.id).collect::<Vec<_>>()
        };
        assert_eq!(list(EntityFilter { region: Some("66".into()), ..Default::default() }).await, vec![site]);
        assert_eq!(list(EntityFilter { region: Some("65".into()), ..Default::default() }).await, Vec::<i64>::new());
        assert_eq!(list(EntityFilter { root: Some(p), ..Default::default() }).await, vec![p, f, site]);
        assert_eq!(
            list(EntityFilter { q: SearchTerm::parse("s-1", "q").unwrap(), ..Default::default() }).await,
            vec![site]
        );
        db.cleanup().await;
    }
}

/// A form whose input does not parse still hears, at once, what only the registry can see about the
/// fields that did: an unknown region, sector or parent, a code registered already, a parent of the
/// wrong tier — together with the parse's own errors. Nothing is written.
#[tokio::test]
async fn an_input_that_does_not_parse_reports_the_registry_problems_too() {
    for db in all_backends().await {
        let s = &db.store;
        let (_p, _f, site) = chain(s).await;
        let before =
            s.list_entities(&EntityFilter::default(), Paging::new(None, Some(10)), &all()).await.unwrap().total;
        let input = EntityInput {
            uscc: Some(FRANCHISEE.into()),
            name: Some("重复单位".into()),
            kind: Some("partner".into()),
            sectors: vec!["不存在的行业".into()],
            parent_uscc: Some("91110000MA0000001X".into()),
            region_code: Some("110199".into()),
            workers: Some("十".into()),
            ..Default::default()
        };
        let codes = |r: Result<EntityDraft, StoreError>| match r {
            Err(StoreError::Invalid(errs)) => {
                let mut v: Vec<(String, String)> = errs.0.into_iter().map(|e| (e.field, e.code)).collect();
                v.sort();
                v
            }
            other => panic!("{other:?}"),
        };
        let got = codes(s.parse_entity_input(&input, None, &all()).await);
        let want = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            let mut v: Vec<(String, String)> = pairs.iter().map(|(f, c)| ((*f).into(), (*c).into())).collect();
            v.sort();
            v
        };
        // The parse's error (workers) and every registry problem, in one answer.
        assert_eq!(
            got.iter().filter(|(f, _)| f != "parent_uscc").cloned().collect::<Vec<_>>(),
            want(&[
                ("region_code", "unknown_region"),
                ("sectors", "unknown_sector"),
                ("uscc", "duplicate"),
                ("workers", "invalid_count")
            ]),
            "{:?}",
            db.kind
        );
        assert!(got.iter().any(|(f, _)| f == "parent_uscc"), "the unknown parent is reported: {got:?}");
        // A parent that exists but is of the wrong tier, and the unit's own code when it is an update.
        let update = EntityInput {
            site_code: Some("S-1".into()),
            kind: Some("site".into()),
            parent_uscc: Some(FRANCHISEE.into()),
            region_code: Some("659001".into()),
            sectors: vec!["快递".into()],
            ..Default::default()
        };
        let got = codes(s.parse_entity_input(&update, Some(site), &all()).await);
        assert!(
            got.iter().all(|(f, c)| !(f == "site_code" && c == "duplicate")),
            "its own code is no duplicate: {got:?}"
        );
        assert!(got.iter().any(|(f, _)| f == "name"), "the parse's error is kept: {got:?}");
        let platform_under = EntityInput { kind: Some("platform".into()), ..update.clone() };
        let got = codes(s.parse_entity_input(&platform_under, None, &all()).await);
        assert!(got.iter().any(|(f, _)| f == "site_code"), "{got:?}");
        // Reading only: nothing was written.
        let after = s.list_entities(&EntityFilter::default(), Paging::new(None, Some(10)), &all()).await.unwrap().total;
        assert_eq!(before, after);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn stale_updates_are_refused_and_cycles_prevented() {
    for db in all_backends().await {
        let s = &db.store;
        let (p, _f, site) = chain(s).await;
        let mut d = entity("site", None, Some("S-1"), Some(FRANCHISEE), "659001");
        d.workers = 30;
        let v1 = s.entity(site).await.unwrap().version;
        let updated = s.update_entity(site, &d, v1, &all()).await.unwrap();
        assert_eq!((updated.workers, updated.version), (30, v1 + 1));
        match s.update_entity(site, &d, v1, &all()).await {
            Err(StoreError::StaleVersion { current }) => assert_eq!(current, v1 + 1),
            other => panic!("{other:?}"),
        }
        // Concurrent writers with the same version: exactly one wins.
        let a_ = all();
        let (a, b) = tokio::join!(s.update_entity(site, &d, v1 + 1, &a_), s.update_entity(site, &d, v1 + 1, &a_));
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1);
        // A platform cannot be moved under its own site (tier rule) — and a platform has no parent.
        let mut pd = entity("platform", Some(PLATFORM), None, None, "110105");
        pd.parent = Some(dangjian_domain::entity::UnitRef::Id(site));
        assert!(matches!(s.update_entity(p, &pd, 1, &all()).await, Err(StoreError::Invalid(_))));
        // Closing keeps the record.
        let closed =
            s.close_entity(site, chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), v1 + 2, &all()).await.unwrap();
        assert!(closed.closed_on.is_some());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn imports_are_whole_or_nothing_and_idempotent() {
    for db in all_backends().await {
        let s = &db.store;
        // The site comes before its parents in the file.
        let rows = vec![
            (2, entity("site", None, Some("S-1"), Some(FRANCHISEE), "110105")),
            (3, entity("franchisee", Some(FRANCHISEE), None, Some(PLATFORM), "110105")),
            (4, entity("platform", Some(PLATFORM), None, None, "110105")),
        ];
        let summary = s.import_entities(&rows, false, &all()).await.unwrap();
        assert_eq!((summary.created, summary.updated, summary.unchanged), (3, 0, 0));
        let again = s.import_entities(&rows, false, &all()).await.unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        // Two bad rows among good ones: both reported, nothing written.
        let bad = vec![
            (2, entity("partner", Some(PARTNER), None, Some(PLATFORM), "110105")),
            (3, entity("site", None, Some("S-2"), Some("91110000802100433B"), "110105")),
            (4, entity("site", None, Some("S-3"), Some(PLATFORM), "110199")),
        ];
        match s.import_entities(&bad, false, &all()).await {
            Err(StoreError::ImportRows(dangjian_store::RowErrors { errors: errs, .. })) => {
                let got: Vec<(usize, &str)> = errs.iter().map(|(l, e)| (*l, e.code.as_str())).collect();
                assert_eq!(got, vec![(3, "unknown_parent"), (4, "unknown_region")]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.list_entities(&EntityFilter::default(), Paging::default(), &all()).await.unwrap().total, 3);
        // A dry run reports but writes nothing.
        let dry = s.import_entities(&bad[..1], true, &all()).await.unwrap();
        assert_eq!(dry.created, 1);
        assert_eq!(s.list_entities(&EntityFilter::default(), Paging::default(), &all()).await.unwrap().total, 3);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn organizations_and_instructors() {
    for db in all_backends().await {
        let s = &db.store;
        let (_p, f, site) = chain(s).await;
        s.create_entity(&entity("site", None, Some("S-2"), Some(FRANCHISEE), "440305"), &all()).await.unwrap();
        let org = |code: &str, kind: &str, parent: Option<&str>, units: &[&str]| {
            OrganizationDraft::parse(&OrganizationInput {
                code: Some(code.into()),
                name: Some(format!("{kind} {code}")),
                kind: Some(kind.into()),
                parent_code: parent.map(Into::into),
                unit_codes: units.iter().map(|u| u.to_string()).collect(),
                region_code: Some("440305".into()),
                term_start: Some("2024-01-01".into()),
                term_end: Some("2028-12-31".into()),
                ..Default::default()
            })
            .unwrap()
        };
        let committee =
            s.create_organization(&org("C1", "grassroots_committee", None, &[FRANCHISEE]), &all()).await.unwrap();
        let joint =
            s.create_organization(&org("J1", "joint_branch", Some("C1"), &["S-1", "S-2"]), &all()).await.unwrap();
        assert_eq!(joint.parent_id, Some(committee.id));
        assert_eq!(joint.units.len(), 2);
        // A branch cannot lead a branch.
        s.create_organization(&org("B1", "branch", Some("C1"), &[]), &all()).await.unwrap();
        match s.create_organization(&org("B2", "branch", Some("B1"), &[]), &all()).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "invalid_parent_kind"),
            other => panic!("{other:?}"),
        }
        let by_unit = s
            .list_organizations(
                &dangjian_store::organizations::OrgFilter { unit: Some(site), ..Default::default() },
                Paging::default(),
                &all(),
            )
            .await
            .unwrap();
        assert_eq!(by_unit.items.iter().map(|o| o.code.as_str()).collect::<Vec<_>>(), vec!["J1"]);
        // An input that does not parse (no name) hears the registry's problems too, in one answer.
        let broken = OrganizationInput {
            code: Some("C1".into()),
            kind: Some("branch".into()),
            parent_code: Some("B1".into()),
            unit_codes: vec!["NO-SUCH-SITE".into()],
            region_code: Some("440399".into()),
            ..Default::default()
        };
        match s.parse_organization_input(&broken, None, &all()).await {
            Err(StoreError::Invalid(e)) => {
                let mut got: Vec<(&str, &str)> = e.0.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
                got.sort();
                assert_eq!(
                    got,
                    vec![
                        ("code", "duplicate"),
                        ("name", "required"),
                        ("parent_code", "invalid_parent_kind"),
                        ("region_code", "unknown_region"),
                        ("units", "unknown_unit"),
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        let renamed = org("J1", "joint_branch", Some("C1"), &["S-1", "S-2"]);
        let updated = s.update_organization(joint.id, &renamed, joint.version, &all()).await.unwrap();
        assert_eq!(updated.version, joint.version + 1);
        let stale = s.update_organization(joint.id, &renamed, joint.version, &all()).await;
        assert!(matches!(stale, Err(StoreError::StaleVersion { .. })), "{stale:?}");

        let draft = InstructorDraft::parse(&InstructorInput {
            name: Some("李明".into()),
            mobile: Some("13912345678".into()),
            dispatching_org: Some("南山区委社会工作部".into()),
            region_code: Some("440305".into()),
            assignments: vec![AssignmentInput {
                entity_id: Some(f),
                start_on: Some("2024-01-01".into()),
                ..Default::default()
            }],
        })
        .unwrap();
        let i = s.create_instructor(&draft, &all()).await.unwrap();
        assert_eq!(i.assignments.len(), 1);
        assert_eq!(i.assignments[0].entity_code, FRANCHISEE);
        match s.create_instructor(&draft, &all()).await {
            Err(StoreError::Invalid(e)) => {
                assert_eq!((e.0[0].field.as_str(), e.0[0].code.as_str()), ("mobile", "duplicate"))
            }
            other => panic!("{other:?}"),
        }
        // An input that does not parse hears the registry's problems too.
        let broken = InstructorInput {
            mobile: Some("13912345678".into()),
            region_code: Some("440399".into()),
            assignments: vec![
                AssignmentInput {
                    unit_code: Some("NO-SUCH-SITE".into()),
                    start_on: Some("昨天".into()),
                    ..Default::default()
                },
                AssignmentInput { entity_id: Some(f), start_on: Some("2024-01-01".into()), ..Default::default() },
            ],
            ..Default::default()
        };
        match s.parse_instructor_input(&broken, None, &all()).await {
            Err(StoreError::Invalid(e)) => {
                let mut got: Vec<(&str, &str)> = e.0.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
                got.sort();
                assert_eq!(
                    got.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
                    vec!["assignments[0].start_on", "assignments[0].unit_code", "mobile", "name", "region_code"],
                    "{got:?}"
                );
                assert!(
                    got.contains(&("mobile", "duplicate"))
                        && got.contains(&("assignments[0].unit_code", "unknown_unit"))
                );
            }
            other => panic!("{other:?}"),
        }
        // Its own number is no duplicate when it is the one being updated.
        match s.parse_instructor_input(&broken, Some(i.id), &all()).await {
            Err(StoreError::Invalid(e)) => assert!(e.0.iter().all(|e| e.field != "mobile"), "{e:?}"),
            other => panic!("{other:?}"),
        }
        let summary = s.import_instructors(&[(2, draft.clone())], false, &all()).await.unwrap();
        assert_eq!(summary.unchanged, 1);
        s.delete_instructor(i.id, i.version, &all()).await.unwrap();
        assert!(matches!(s.instructor(i.id).await, Err(StoreError::NotFound)));
        db.cleanup().await;
    }
}
