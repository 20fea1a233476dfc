//! Region subtrees as code ranges (`dangjian_store::region_tree`) against the materialized paths they are
//! derived from: on a generated registry, on every backend, the units, organizations and instructors
//! that a region filter and a region scope select are exactly those whose region's path lies
//! under the region — for every province, the XPCC and its cities, and 50 random counties and 50 random
//! townships (half of them with units).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::access::Scope;
use dangjian_store::access::AccessFilter;
use dangjian_store::entities::EntityFilter;
use dangjian_store::instructors::InstructorFilter;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::testing::{self, TestDb};
use dangjian_store::{Paging, Store};
use sqlx::Row;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dangjian");

fn generate(url: &str) {
    let out = Command::new(BIN)
        .args(["--lang", "en", "generate", "--profile", "small", "--seed", "3", "--db", url])
        .env_remove("DANGJIAN_DB")
        .env("DANGJIAN_FIELD_KEYS", testing::keyring_env_value())
        .stdin(Stdio::null())
        .output()
        .expect("the dangjian binary runs");
    assert!(out.status.success(), "generate: {}", String::from_utf8_lossy(&out.stderr));
}

/// Ids of `table`'s rows whose region's path starts with `path` — the definition.
async fn by_path(store: &Store, table: &str, path: &str) -> BTreeSet<i64> {
    let sql = format!("SELECT t.id FROM {table} t JOIN regions r ON r.code = t.region_code WHERE r.path LIKE $1");
    sqlx::query(&sql)
        .bind(format!("{path}%"))
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<i64, _>("id").unwrap())
        .collect()
}

/// Every page of a list, as ids.
async fn all_pages<F, Fut>(mut page: F) -> BTreeSet<i64>
where
    F: FnMut(Paging) -> Fut,
    Fut: std::future::Future<Output = Vec<i64>>,
{
    let mut out = BTreeSet::new();
    for n in 1.. {
        let ids = page(Paging::new(Some(n), Some(Paging::MAX_PER_PAGE))).await;
        let done = ids.len() < Paging::MAX_PER_PAGE as usize;
        out.extend(ids);
        if done {
            break;
        }
    }
    out
}

async fn check_region(store: &Store, code: &str, path: &str) {
    let all = &AccessFilter::unrestricted();
    let scoped = &AccessFilter::new([Scope::Region { path: path.to_owned() }]);
    let region = Some(code.to_owned());

    let want = by_path(store, "entities", path).await;
    let f = &EntityFilter { region: region.clone(), ..Default::default() };
    let got = all_pages(|p| async move { ids(store.list_entities(f, p, all).await.unwrap().items) }).await;
    assert_eq!(got, want, "units filtered by region {code}");
    let f = &EntityFilter::default();
    let got = all_pages(|p| async move { ids(store.list_entities(f, p, scoped).await.unwrap().items) }).await;
    assert_eq!(got, want, "units in the scope of {code}");

    let want = by_path(store, "organizations", path).await;
    let f = &OrgFilter { region: region.clone(), ..Default::default() };
    let got = all_pages(|p| async move {
        store.list_organizations(f, p, all).await.unwrap().items.iter().map(|o| o.id).collect()
    })
    .await;
    assert_eq!(got, want, "organizations filtered by region {code}");
    let f = &OrgFilter::default();
    let got = all_pages(|p| async move {
        store.list_organizations(f, p, scoped).await.unwrap().items.iter().map(|o| o.id).collect()
    })
    .await;
    assert_eq!(got, want, "organizations in the scope of {code}");

    let want = by_path(store, "instructors", path).await;
    let f = &InstructorFilter { region: region.clone(), ..Default::default() };
    let got =
        all_pages(
            |p| async move { store.list_instructors(f, p, all).await.unwrap().items.iter().map(|i| i.id).collect() },
        )
        .await;
    assert_eq!(got, want, "instructors filtered by region {code}");
}

fn ids(items: Vec<dangjian_store::entities::Entity>) -> Vec<i64> {
    items.iter().map(|e| e.id).collect()
}

/// A small deterministic generator for picking regions.
struct Pick(u64);

impl Pick {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

async fn regions(store: &Store, sql: &str) -> Vec<(String, String)> {
    sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.try_get("code").unwrap(), r.try_get("path").unwrap()))
        .collect()
}

#[tokio::test]
async fn code_ranges_select_exactly_the_regions_paths_select() {
    for db in testing::all_backends().await {
        let TestDb { store, url, .. } = &db;
        generate(url);
        let mut picks = Pick(0x9E37_79B9_7F4A_7C15);
        let mut chosen = regions(store, "SELECT code, path FROM regions WHERE level = 'province' ORDER BY code").await;
        assert_eq!(chosen.len(), 32, "31 provinces and the XPCC");
        chosen.extend(regions(store, "SELECT code, path FROM regions WHERE code IN ('6590', '659001', '6501')").await);
        for level in ["county", "township"] {
            let all =
                regions(store, &format!("SELECT code, path FROM regions WHERE level = '{level}' ORDER BY code")).await;
            let used = regions(
                store,
                &format!(
                    "SELECT DISTINCT r.code, r.path FROM regions r JOIN entities e ON e.region_code LIKE r.code || '%' \
                     WHERE r.level = '{level}' ORDER BY r.code"
                ),
            )
            .await;
            assert!(!used.is_empty(), "the generated registry has units at {level} level");
            for _ in 0..25 {
                chosen.push(used[picks.below(used.len())].clone());
                chosen.push(all[picks.below(all.len())].clone());
            }
        }
        let mut nonempty = 0;
        for (code, path) in &chosen {
            check_region(store, code, path).await;
            nonempty += usize::from(!by_path(store, "entities", path).await.is_empty());
        }
        assert!(nonempty >= 50, "{nonempty} of the chosen regions have units");
        // The XPCC holds its cities' units and Xinjiang does not.
        let xpcc = by_path(store, "entities", "/66/").await;
        let xinjiang = by_path(store, "entities", "/65/").await;
        assert!(xpcc.is_disjoint(&xinjiang));
    }
}

/// Every unit below `id`, by walking the tree — the definition of a unit's descendants.
async fn below_by_walking(store: &Store, id: i64) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    let mut frontier = vec![id];
    while let Some(p) = frontier.pop() {
        let rows =
            sqlx::query("SELECT id FROM entities WHERE parent_id = $1").bind(p).fetch_all(store.pool()).await.unwrap();
        for r in rows {
            let c: i64 = r.try_get("id").unwrap();
            if out.insert(c) {
                frontier.push(c);
            }
        }
    }
    out
}

#[tokio::test]
async fn the_paged_chain_equals_the_whole_chain() {
    use dangjian_domain::EntityKind;
    use dangjian_store::entities::ChainFilter;
    for db in testing::all_backends().await {
        let TestDb { store, url, .. } = &db;
        generate(url);
        let all = &AccessFilter::unrestricted();
        let largest: i64 = sqlx::query(
            "SELECT root_id FROM entities WHERE root_id IS NOT NULL GROUP BY root_id ORDER BY COUNT(*) DESC LIMIT 1",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        let middles: Vec<i64> =
            sqlx::query("SELECT id FROM entities WHERE kind IN ('franchisee', 'partner') ORDER BY id LIMIT 5")
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get(0).unwrap())
                .collect();
        for id in std::iter::once(largest).chain(middles) {
            let want = below_by_walking(store, id).await;
            let f = &ChainFilter::default();
            let mut got = BTreeSet::new();
            let mut order = Vec::new();
            for page in 1.. {
                let c = store.entity_chain_page(id, f, Paging::new(Some(page), Some(97)), all, None).await.unwrap();
                assert_eq!(c.descendants_total as usize, want.len(), "unit {id}");
                assert_eq!(c.by_tier.iter().map(|t| t.count).sum::<i64>() as usize, want.len());
                let done = c.descendants.len() < 97;
                for m in c.descendants {
                    assert!(m.depth >= 1);
                    order.push((EntityKind::ALL.iter().position(|k| *k == m.entity.kind), m.entity.id));
                    got.insert(m.entity.id);
                }
                if done {
                    break;
                }
            }
            assert_eq!(got, want, "the pages of unit {id}'s chain");
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(order, sorted, "by tier, then id");
            // One tier's pages, and a search within the chain, against the same walk.
            let sites = ChainFilter { tier: Some(EntityKind::Site), ..Default::default() };
            let c = store.entity_chain_page(id, &sites, Paging::new(Some(1), Some(500)), all, None).await.unwrap();
            let want_sites = sqlx::query("SELECT id FROM entities WHERE kind = 'site'")
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<i64, _>(0).unwrap())
                .filter(|i| want.contains(i))
                .count();
            assert_eq!(c.descendants_total as usize, want_sites, "sites below {id}");
            // A search within the chain, page by page, equals the walk's units whose name, address or
            // codes contain the term, in tier order, then id.
            for term in ["站", "速达", "zz-no-such"] {
                let q = dangjian_domain::SearchTerm::parse(term, "q").unwrap();
                let f = ChainFilter { q: q.clone(), ..Default::default() };
                let mut want_found: Vec<(Option<usize>, i64)> = Vec::new();
                for r in sqlx::query("SELECT id, kind, name, address, uscc, site_code FROM entities")
                    .fetch_all(store.pool())
                    .await
                    .unwrap()
                {
                    let uid: i64 = r.try_get("id").unwrap();
                    if !want.contains(&uid) {
                        continue;
                    }
                    let text = |c: &str| r.try_get::<Option<String>, _>(c).unwrap().unwrap_or_default();
                    let hit = [text("name"), text("address"), text("uscc"), text("site_code")]
                        .iter()
                        .any(|t| t.to_uppercase().contains(&term.to_uppercase()));
                    if hit {
                        let kind = EntityKind::parse(&text("kind")).unwrap();
                        want_found.push((EntityKind::ALL.iter().position(|k| *k == kind), uid));
                    }
                }
                want_found.sort();
                let mut found = Vec::new();
                for page in 1.. {
                    let c =
                        store.entity_chain_page(id, &f, Paging::new(Some(page), Some(97)), all, None).await.unwrap();
                    assert_eq!(c.descendants_total as usize, want_found.len(), "matches of {term} below {id}");
                    let done = c.descendants.len() < 97;
                    found.extend(
                        c.descendants
                            .iter()
                            .map(|m| (EntityKind::ALL.iter().position(|k| *k == m.entity.kind), m.entity.id)),
                    );
                    if done {
                        break;
                    }
                }
                assert_eq!(found, want_found, "the pages of {term} below {id}");
            }
            let overview = store.entity_chain_overview(id, 3, all, None).await.unwrap();
            assert_eq!(overview.tiers.iter().map(|t| t.count).sum::<i64>() as usize, want.len());
            assert!(overview.tiers.iter().all(|t| t.items.len() as i64 == t.count.min(3)));
        }
    }
}
