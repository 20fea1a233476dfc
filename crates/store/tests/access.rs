//! Scopes in the store: what each kind of scope reaches among units, organizations and instructors,
//! that lists, exports and chains stay inside, and that no write or import leaves them. SQLite always,
//! PostgreSQL too when DANGJIAN_TEST_PG is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::access::Scope;
use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::{EntityDraft, InstructorDraft, OrganizationDraft};
use dangjian_store::entities::EntityFilter;
use dangjian_store::instructors::InstructorFilter;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::testing::all_backends;
use dangjian_store::{AccessFilter, Disclosure, Paging, Store, StoreError};

const PA: &str = "91350100M000100Y43";
const FA: &str = "9144030071526726XG";
const PB: &str = "91330100799655058B";

fn all() -> AccessFilter {
    AccessFilter::unrestricted()
}

fn region(path: &str) -> Scope {
    Scope::Region { path: path.into() }
}

fn unit(
    uscc: Option<&str>,
    site: Option<&str>,
    kind: &str,
    parent: Option<&str>,
    region: &str,
    sector: &str,
) -> EntityDraft {
    EntityDraft::parse(&EntityInput {
        uscc: uscc.map(Into::into),
        site_code: site.map(Into::into),
        name: Some(format!("{kind} {}", uscc.or(site).unwrap_or_default())),
        kind: Some(kind.into()),
        sectors: vec![sector.into()],
        parent_uscc: parent.map(Into::into),
        region_code: Some(region.into()),
        workers: Some("10".into()),
        ..Default::default()
    })
    .unwrap()
}

fn org(code: &str, kind: &str, parent: Option<&str>, units: &[&str], region: &str) -> OrganizationDraft {
    OrganizationDraft::parse(&OrganizationInput {
        code: Some(code.into()),
        name: Some(format!("{code} 党组织")),
        kind: Some(kind.into()),
        parent_code: parent.map(Into::into),
        unit_codes: units.iter().map(|u| (*u).to_owned()).collect(),
        region_code: Some(region.into()),
        ..Default::default()
    })
    .unwrap()
}

fn instructor(name: &str, mobile: &str, region: &str, units: &[&str]) -> InstructorDraft {
    InstructorDraft::parse(&InstructorInput {
        name: Some(name.into()),
        mobile: Some(mobile.into()),
        region_code: Some(region.into()),
        assignments: units
            .iter()
            .map(|u| AssignmentInput {
                unit_code: Some((*u).to_owned()),
                start_on: Some("2024-01-01".into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    })
    .unwrap()
}

/// Chain A (a platform in Shenzhen's 南山区 with a franchisee there, a site in one of its streets and
/// another site in Beijing); chain B in Beijing; an organization with a sub-organization in chain A,
/// one in chain B; instructors.
#[derive(Debug, Clone, Copy)]
struct World {
    pa: i64,
    fa: i64,
    sa: i64,
    sa2: i64,
    pb: i64,
    sb: i64,
    oa: i64,
    oa2: i64,
    ob: i64,
    ia: i64,
    ib: i64,
    ix: i64,
}

async fn world(s: &Store) -> World {
    let a = &all();
    let pa = s.create_entity(&unit(Some(PA), None, "platform", None, "440305", "food_delivery"), a).await.unwrap().id;
    let fa = s.create_entity(&unit(Some(FA), None, "franchisee", Some(PA), "440305", "courier"), a).await.unwrap().id;
    let sa =
        s.create_entity(&unit(None, Some("SA"), "site", Some(FA), "440305001", "food_delivery"), a).await.unwrap().id;
    let sa2 =
        s.create_entity(&unit(None, Some("SA2"), "site", Some(FA), "110105", "food_delivery"), a).await.unwrap().id;
    let pb = s.create_entity(&unit(Some(PB), None, "platform", None, "110108", "courier"), a).await.unwrap().id;
    let sb = s.create_entity(&unit(None, Some("SB"), "site", Some(PB), "110105", "courier"), a).await.unwrap().id;
    let oa = s.create_organization(&org("OA", "grassroots_committee", None, &[FA], "440305"), a).await.unwrap().id;
    let oa2 = s.create_organization(&org("OA2", "branch", Some("OA"), &["SA"], "440305"), a).await.unwrap().id;
    let ob = s.create_organization(&org("OB", "branch", None, &["SB"], "110105"), a).await.unwrap().id;
    let ia = s.create_instructor(&instructor("甲", "13800000001", "440305", &["SA"]), a).await.unwrap().id;
    let ib = s.create_instructor(&instructor("乙", "13800000002", "110105", &["SB"]), a).await.unwrap().id;
    let ix = s.create_instructor(&instructor("丙", "13800000003", "110105", &["SA"]), a).await.unwrap().id;
    World { pa, fa, sa, sa2, pb, sb, oa, oa2, ob, ia, ib, ix }
}

/// The ids of units, organizations and instructors a filter lets through.
type Seen = (Vec<i64>, Vec<i64>, Vec<i64>);

/// The ids each kind of list shows under `access`.
async fn seen(s: &Store, access: &AccessFilter) -> Seen {
    let p = Paging::new(None, Some(500));
    let e = s.list_entities(&EntityFilter::default(), p, access).await.unwrap().items.iter().map(|e| e.id).collect();
    let o = s.list_organizations(&OrgFilter::default(), p, access).await.unwrap().items.iter().map(|o| o.id).collect();
    let i =
        s.list_instructors(&InstructorFilter::default(), p, access).await.unwrap().items.iter().map(|i| i.id).collect();
    (e, o, i)
}

#[tokio::test]
async fn each_kind_of_scope_reaches_its_rows_and_nothing_else() {
    for db in all_backends().await {
        let s = &db.store;
        let w = world(s).await;
        let cases: Vec<(&str, Vec<Scope>, Seen)> = vec![
            ("nothing", vec![], (vec![], vec![], vec![])),
            (
                "nationwide",
                vec![region("/")],
                (vec![w.pa, w.fa, w.sa, w.sa2, w.pb, w.sb], vec![w.oa, w.oa2, w.ob], vec![w.ia, w.ib, w.ix]),
            ),
            // A Guangdong cadre: units and organizations registered there; instructors of the province or
            // serving a unit in it.
            ("region", vec![region("/44/")], (vec![w.pa, w.fa, w.sa], vec![w.oa, w.oa2], vec![w.ia, w.ix])),
            ("street", vec![region("/44/4403/440305/440305001/")], (vec![w.sa], vec![], vec![w.ia, w.ix])),
            (
                "a path without its slash",
                vec![region("/44")],
                (vec![w.pa, w.fa, w.sa], vec![w.oa, w.oa2], vec![w.ia, w.ix]),
            ),
            // Chain A in every province, and the organizations and instructors at its units.
            (
                "chain",
                vec![Scope::Chain { root_id: w.pa }],
                (vec![w.pa, w.fa, w.sa, w.sa2], vec![w.oa, w.oa2], vec![w.ia, w.ix]),
            ),
            // Food delivery in Guangdong: not the courier franchisee, not the Beijing site.
            (
                "sector",
                vec![Scope::SectorInRegion { sector: "food_delivery".into(), path: "/44/".into() }],
                (vec![w.pa, w.sa], vec![w.oa2], vec![w.ia, w.ix]),
            ),
            // An organization: itself, its sub-organization, the units both are attached to.
            (
                "organization",
                vec![Scope::Organization { org_id: w.oa }],
                (vec![w.fa, w.sa], vec![w.oa, w.oa2], vec![w.ia, w.ix]),
            ),
            (
                "sub-organization",
                vec![Scope::Organization { org_id: w.oa2 }],
                (vec![w.sa], vec![w.oa2], vec![w.ia, w.ix]),
            ),
            // Grants add up.
            (
                "union",
                vec![Scope::Organization { org_id: w.ob }, Scope::Chain { root_id: w.pa }],
                (vec![w.pa, w.fa, w.sa, w.sa2, w.sb], vec![w.oa, w.oa2, w.ob], vec![w.ia, w.ib, w.ix]),
            ),
        ];
        for (name, scopes, expected) in cases {
            let access = AccessFilter::new(scopes);
            assert_eq!(seen(s, &access).await, expected, "{name} on {:?}", db.kind);
            // The single-record checks agree with the lists.
            for id in [w.pa, w.fa, w.sa, w.sa2, w.pb, w.sb] {
                assert_eq!(s.entity_visible(id, &access).await.unwrap(), expected.0.contains(&id), "{name}: unit {id}");
            }
            for id in [w.oa, w.oa2, w.ob] {
                assert_eq!(s.organization_visible(id, &access).await.unwrap(), expected.1.contains(&id), "{name}");
            }
            for id in [w.ia, w.ib, w.ix] {
                assert_eq!(s.instructor_visible(id, &access).await.unwrap(), expected.2.contains(&id), "{name}");
            }
        }
        // Filters narrow within the scope, never widen it.
        let gd = AccessFilter::new([region("/44/")]);
        let by_root = s
            .list_entities(&EntityFilter { root: Some(w.pb), ..Default::default() }, Paging::default(), &gd)
            .await
            .unwrap();
        assert_eq!(by_root.total, 0);
        // Links carry their unit's chain and region: a franchisee moved to chain B takes its and its
        // site's organizations and instructors along, and a site moved to Guangdong brings its instructor.
        let fa_version = s.entity(w.fa).await.unwrap().version;
        let moved = unit(Some(FA), None, "franchisee", Some(PB), "440305", "courier");
        s.update_entity(w.fa, &moved, fa_version, &all()).await.unwrap();
        let sb_version = s.entity(w.sb).await.unwrap().version;
        s.update_entity(w.sb, &unit(None, Some("SB"), "site", Some(PB), "440305", "courier"), sb_version, &all())
            .await
            .unwrap();
        let chain = |root_id| AccessFilter::new([Scope::Chain { root_id }]);
        let (_, orgs_a, instructors_a) = seen(s, &chain(w.pa)).await;
        assert_eq!((orgs_a, instructors_a), (vec![], vec![]), "chain A after the move on {:?}", db.kind);
        let (_, orgs_b, instructors_b) = seen(s, &chain(w.pb)).await;
        assert_eq!((orgs_b, instructors_b), (vec![w.oa, w.oa2, w.ob], vec![w.ia, w.ib, w.ix]));
        let (_, _, instructors_gd) = seen(s, &AccessFilter::new([region("/44/")])).await;
        assert_eq!(instructors_gd, vec![w.ia, w.ib, w.ix]);
        for id in [w.oa, w.oa2] {
            assert!(!s.organization_visible(id, &chain(w.pa)).await.unwrap());
            assert!(s.organization_visible(id, &chain(w.pb)).await.unwrap());
        }
        assert!(s.instructor_visible(w.ib, &AccessFilter::new([region("/44/")])).await.unwrap());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn chains_and_exports_show_only_what_is_in_scope() {
    for db in all_backends().await {
        let s = &db.store;
        let w = world(s).await;
        let gd = AccessFilter::new([region("/44/")]);
        let c = s.entity_chain(w.fa, 100, &gd).await.unwrap();
        assert_eq!(c.ancestors.iter().map(|e| e.id).collect::<Vec<_>>(), vec![w.pa]);
        assert_eq!(c.descendants.iter().map(|d| d.entity.id).collect::<Vec<_>>(), vec![w.sa], "not the Beijing site");
        assert_eq!(c.descendants_total, 1);
        // A street's cadre sees the site, not the chain above it.
        let street = AccessFilter::new([region("/44/4403/440305/440305001/")]);
        assert!(s.entity_chain(w.sa, 100, &street).await.unwrap().ancestors.is_empty());
        assert_eq!(s.entity_chain(w.fa, 100, &all()).await.unwrap().descendants_total, 2);

        let codes: Vec<String> = s.export_entities(&gd).await.unwrap().iter().map(|e| e.code().to_owned()).collect();
        assert_eq!(codes, vec![PA.to_owned(), FA.to_owned(), "SA".into()]);
        let orgs: Vec<String> = s.export_organizations(&gd).await.unwrap().into_iter().map(|o| o.code).collect();
        assert_eq!(orgs, vec!["OA", "OA2"]);
        let chain = AccessFilter::new([Scope::Chain { root_id: w.pb }]);
        let people: Vec<String> = s
            .export_instructors(Disclosure::Masked, &chain)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.instructor.name)
            .collect();
        assert_eq!(people, vec!["乙"]);
        assert!(s.export_entities(&AccessFilter::nothing()).await.unwrap().is_empty());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn no_write_leaves_the_writers_scope_and_nothing_is_half_written() {
    for db in all_backends().await {
        let s = &db.store;
        let w = world(s).await;
        let gd = AccessFilter::new([region("/44/")]);
        let count = |access: AccessFilter| async move { seen(s, &access).await };
        let before = count(all()).await;

        // A new unit in Beijing by a Guangdong cadre: refused, not written.
        let beijing = unit(None, Some("NEW-1"), "site", Some(FA), "110105", "courier");
        assert!(matches!(s.create_entity(&beijing, &gd).await, Err(StoreError::OutOfScope)));
        // In Guangdong under the Beijing platform, which the cadre may not read: refused as a parent
        // that is not there (docs/access.md#references), audited as a refusal.
        let local = unit(None, Some("NEW-2"), "site", Some(PB), "440305", "courier");
        assert!(refused_reference(s.create_entity(&local, &gd).await, "parent_uscc"));
        // Under a unit of theirs, it is theirs.
        let local = unit(None, Some("NEW-2"), "site", Some(FA), "440305", "courier");
        let created = s.create_entity(&local, &gd).await.unwrap();
        assert_eq!(created.root_id, Some(w.pa));
        s.close_entity(created.id, chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), 1, &gd).await.unwrap();

        // Moving the street site to Beijing: refused, unchanged.
        let site = s.entity(w.sa).await.unwrap();
        let moved = unit(None, Some("SA"), "site", Some(FA), "110105", "food_delivery");
        assert!(matches!(s.update_entity(w.sa, &moved, site.version, &gd).await, Err(StoreError::OutOfScope)));
        assert_eq!(s.entity(w.sa).await.unwrap(), site);
        // A unit outside the scope cannot be touched at all.
        let pb = unit(Some(PB), None, "platform", None, "110108", "courier");
        assert!(matches!(s.update_entity(w.pb, &pb, 1, &gd).await, Err(StoreError::NotFound)));
        let on = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(matches!(s.close_entity(w.pb, on, 1, &gd).await, Err(StoreError::NotFound)));

        // A platform committee cannot hand its franchisee (and the sites below) to another chain.
        let chain_a = AccessFilter::new([Scope::Chain { root_id: w.pa }]);
        let fa = s.entity(w.fa).await.unwrap();
        let to_b = unit(Some(FA), None, "franchisee", Some(PB), "440305", "courier");
        assert!(refused_reference(s.update_entity(w.fa, &to_b, fa.version, &chain_a).await, "parent_uscc"));
        assert_eq!(s.entity(w.sa).await.unwrap().root_id, Some(w.pa), "the sites below stay in chain A");

        // Organizations: a branch secretary may add a sub-organization, not a sibling elsewhere.
        let secretary = AccessFilter::new([Scope::Organization { org_id: w.oa }]);
        let sub = s.create_organization(&org("OA3", "branch", Some("OA"), &[], "440305"), &secretary).await.unwrap();
        let sibling = org("OX", "branch", None, &[], "440305");
        assert!(matches!(s.create_organization(&sibling, &secretary).await, Err(StoreError::OutOfScope)));
        let moved_out = org("OA3", "branch", None, &[], "440305");
        assert!(matches!(
            s.update_organization(sub.id, &moved_out, sub.version, &secretary).await,
            Err(StoreError::OutOfScope)
        ));
        assert!(matches!(s.dissolve_organization(w.ob, on, 1, &secretary).await, Err(StoreError::NotFound)));

        // Instructors: one for Beijing by the Guangdong cadre is refused; one serving a Guangdong unit
        // is theirs wherever they live; someone else's cannot be deleted.
        let far = instructor("丁", "13800000004", "110105", &[]);
        assert!(matches!(s.create_instructor(&far, &gd).await, Err(StoreError::OutOfScope)));
        let far = instructor("丁", "13800000004", "440305", &["SB"]);
        assert!(refused_reference(s.create_instructor(&far, &gd).await, "assignments[0].unit_code"));
        let serving = instructor("戊", "13800000005", "110105", &["SA"]);
        let i = s.create_instructor(&serving, &gd).await.unwrap();
        let away = instructor("戊", "13800000005", "110105", &["SB"]);
        assert!(refused_reference(s.update_instructor(i.id, &away, i.version, &gd).await, "assignments[0].unit_code"));
        assert!(matches!(s.delete_instructor(w.ib, 1, &gd).await, Err(StoreError::NotFound)));
        s.delete_instructor(i.id, i.version, &gd).await.unwrap();

        let after = count(all()).await;
        assert_eq!(after.0.len(), before.0.len() + 1, "only NEW-2 was added");
        assert_eq!(after.1.len(), before.1.len() + 1, "only OA3 was added");
        assert_eq!(after.2, before.2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn imports_refuse_rows_outside_the_importers_scope_without_saying_whether_they_exist() {
    for db in all_backends().await {
        let s = &db.store;
        let w = world(s).await;
        let gd = AccessFilter::new([region("/44/")]);
        let rows = vec![
            (2, unit(None, Some("NEW-GD"), "site", Some(FA), "440305", "courier")),
            // Exists, in Beijing.
            (3, unit(None, Some("SB"), "site", Some(PB), "110105", "courier")),
            // Exists in Guangdong, moved to Beijing by the file.
            (4, unit(None, Some("SA"), "site", Some(FA), "110105", "food_delivery")),
            // New, in Beijing.
            (5, unit(None, Some("NEW-BJ"), "site", Some(FA), "110105", "courier")),
            // New, in Guangdong, under the Beijing platform the importer may not read.
            (6, unit(None, Some("NEW-GD2"), "site", Some(PB), "440305", "courier")),
        ];
        match s.import_entities(&rows, false, &gd).await {
            Err(StoreError::ImportRows(dangjian_store::RowErrors { errors: errs, .. })) => {
                let got: Vec<(usize, &str, &str)> =
                    errs.iter().map(|(l, e)| (*l, e.field.as_str(), e.code.as_str())).collect();
                assert_eq!(
                    got,
                    vec![
                        (3, "site_code", "out_of_scope"),
                        (4, "site_code", "out_of_scope"),
                        (5, "site_code", "out_of_scope"),
                        (6, "parent_uscc", "unknown_parent"),
                    ]
                );
                assert!(errs[3].1.refused && !errs[0].1.refused);
                // The same words whether the unit exists or not.
                assert_eq!(errs[0].1.message, errs[2].1.message);
            }
            other => panic!("{other:?}"),
        }
        assert!(s.entity_by_code("NEW-GD").await.is_err(), "a failed import writes nothing");
        assert_eq!(s.entity(w.sa).await.unwrap().region_code, "440305001");
        let ok = s.import_entities(&rows[..1], false, &gd).await.unwrap();
        assert_eq!(ok.created, 1);

        let orgs = vec![
            (2, org("OB", "branch", None, &["SB"], "110105")),
            (3, org("ON", "branch", None, &[], "440305")),
            // New, in Guangdong, covering a Beijing unit: a row error on its units, said as unknown.
            (4, org("ON2", "branch", None, &["SB"], "440305")),
        ];
        match s.import_organizations(&orgs, true, &gd).await {
            Err(StoreError::ImportRows(dangjian_store::RowErrors { errors: errs, .. })) => {
                assert_eq!(errs.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 4]);
                assert_eq!((errs[1].1.field.as_str(), errs[1].1.code.as_str()), ("units", "unknown_unit"));
                assert!(errs[1].1.refused);
            }
            other => panic!("{other:?}"),
        }
        let people = vec![
            (2, instructor("乙", "13800000002", "110105", &["SB"])),
            (3, instructor("己", "13800000006", "440305", &["SB"])),
        ];
        match s.import_instructors(&people, true, &gd).await {
            Err(StoreError::ImportRows(dangjian_store::RowErrors { errors: errs, .. })) => {
                assert_eq!((errs[0].0, errs[0].1.code.as_str()), (2, "out_of_scope"));
                assert_eq!((errs[1].0, errs[1].1.field.as_str()), (3, "assignments[0].unit_code"));
                assert!(errs[1].1.refused);
            }
            other => panic!("{other:?}"),
        }
        let _ = (w.pa, w.sa2, w.oa2);
        db.cleanup().await;
    }
}

/// Whether a write was refused for naming, in `field`, a record the writer may not read: said as an
/// unknown record, marked for the audit.
fn refused_reference<T: std::fmt::Debug>(r: Result<T, StoreError>, field: &str) -> bool {
    match r {
        Err(StoreError::Invalid(errs)) => {
            errs.0.iter().any(|e| e.field == field && e.refused && e.code.starts_with("unknown"))
        }
        other => panic!("{field}: {other:?}"),
    }
}
