//! A small chain for page tests, registered through the store API: a platform with a franchisee and
//! a partner, two sites under the franchisee, a branch at the franchisee and an instructor at a site.
//! The suites that use it also declare `mod support;` (the signed-in principals).

#![allow(dead_code)]

use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::{EntityDraft, InstructorDraft, OrganizationDraft};
use dangjian_store::{AccessFilter, Store};

pub const PLATFORM: &str = "91350100M000100Y43";
pub const FRANCHISEE: &str = "9144030071526726XG";
pub const PARTNER: &str = "91330100799655058B";
pub const SPARE_USCC: &str = "914403001922038216";
pub const MOBILE: &str = "13812341234";
pub const MOBILE_MASKED: &str = "138****1234";

#[derive(Debug, Clone, Copy)]
pub struct Seed {
    pub platform: i64,
    pub franchisee: i64,
    pub partner: i64,
    pub site: i64,
    pub site2: i64,
    pub org: i64,
    pub instructor: i64,
}

#[allow(clippy::too_many_arguments)]
fn unit(
    uscc: Option<&str>,
    site_code: Option<&str>,
    name: &str,
    kind: &str,
    parent: Option<&str>,
    region: &str,
    workers: i64,
    members: (i64, i64),
) -> EntityInput {
    EntityInput {
        uscc: uscc.map(Into::into),
        site_code: site_code.map(Into::into),
        name: Some(name.into()),
        kind: Some(kind.into()),
        sectors: vec!["food_delivery".into()],
        parent_uscc: parent.map(Into::into),
        region_code: Some(region.into()),
        address: Some("北京市".into()),
        workers: Some(workers.to_string()),
        party_members: Some(members.0.to_string()),
        probationary_members: Some(members.1.to_string()),
        established_on: Some("2020-05-01".into()),
        ..Default::default()
    }
}

async fn create(store: &Store, input: EntityInput) -> i64 {
    store.create_entity(&EntityDraft::parse(&input).unwrap(), &AccessFilter::unrestricted()).await.unwrap().id
}

pub async fn seed(store: &Store) -> Seed {
    let platform =
        create(store, unit(Some(PLATFORM), None, "示例外卖平台有限公司", "platform", None, "110108", 800, (40, 3)))
            .await;
    let franchisee = create(
        store,
        unit(Some(FRANCHISEE), None, "朝阳示例配送服务有限公司", "franchisee", Some(PLATFORM), "110105", 120, (4, 1)),
    )
    .await;
    let partner = create(
        store,
        unit(Some(PARTNER), None, "示例劳务合作有限公司", "partner", Some(PLATFORM), "110105002", 60, (1, 0)),
    )
    .await;
    let site =
        create(store, unit(None, Some("WJ-001"), "望京站", "site", Some(FRANCHISEE), "110105", 40, (2, 1))).await;
    let site2 =
        create(store, unit(None, Some("JW-002"), "建外站", "site", Some(FRANCHISEE), "110105001", 25, (0, 0))).await;
    let org = store
        .create_organization(
            &OrganizationDraft::parse(&OrganizationInput {
                code: Some("ORG-CY-001".into()),
                name: Some("朝阳示例配送服务有限公司党支部".into()),
                kind: Some("branch".into()),
                unit_codes: vec![FRANCHISEE.into()],
                region_code: Some("110105".into()),
                secretary: Some("王芳".into()),
                established_on: Some("2021-07-01".into()),
                ..Default::default()
            })
            .unwrap(),
            &AccessFilter::unrestricted(),
        )
        .await
        .unwrap()
        .id;
    let instructor = store
        .create_instructor(
            &InstructorDraft::parse(&InstructorInput {
                name: Some("李明".into()),
                mobile: Some(MOBILE.into()),
                dispatching_org: Some("朝阳区委社会工作部".into()),
                region_code: Some("110105".into()),
                assignments: vec![AssignmentInput {
                    unit_code: Some("WJ-001".into()),
                    start_on: Some("2024-01-01".into()),
                    ..Default::default()
                }],
            })
            .unwrap(),
            &AccessFilter::unrestricted(),
        )
        .await
        .unwrap()
        .id;
    Seed { platform, franchisee, partner, site, site2, org, instructor }
}

/// Serves the real app on a random local port; returns its base URL.
pub async fn serve(store: Store) -> String {
    crate::support::serve(store).await
}
