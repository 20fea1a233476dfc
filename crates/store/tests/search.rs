//! Text search over units: the index answers exactly what the `LIKE` scan answers, on a bulk-loaded registry
//! and after every kind of write, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::entity::EntityInput;
use dangjian_domain::{EntityDraft, SearchTerm};
use dangjian_store::bulk::{Rows, Value, ENTITIES};
use dangjian_store::entities::EntityFilter;
use dangjian_store::search::SearchMethod;
use dangjian_store::testing::all_backends;
use dangjian_store::{AccessFilter, Paging, Store};

const BRANDS: [&str; 8] = ["顺丰", "速程", "骑送", "美团", "Élan", "50%", "a_b", "MG外卖"];
const WORDS: [&str; 10] = ["快递", "外卖", "骑手", "配送", "网点", "服务站", "有限公司", "100_%", "货运", "直播"];
const ROADS: [&str; 6] = ["和平路", "人民大道", "工业大道", "育才路", "长江路", "x_y%z街"];
const REGIONS: [&str; 3] = ["110105", "440305", "659001"];
const CODE_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A small deterministic generator (the same registry every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// A registry of 1,500 platforms, each loaded in bulk: names, addresses and codes mixing the words people
/// search for with `%`, `_`, upper- and lower-case letters and accented ones.
fn registry() -> (Rows, Vec<String>) {
    let mut rng = Lcg(7);
    let mut rows = Rows::with_capacity(ENTITIES, 1500);
    let mut codes = Vec::new();
    for id in 1..=1500i64 {
        let name = format!(
            "{}{}{}{}",
            BRANDS[rng.next(BRANDS.len())],
            ["", "城东", "北区"][rng.next(3)],
            WORDS[rng.next(WORDS.len())],
            if rng.next(4) == 0 { WORDS[rng.next(WORDS.len())] } else { "" }
        );
        let address = (rng.next(5) > 0).then(|| format!("{}{}号", ROADS[rng.next(ROADS.len())], rng.next(900) + 1));
        let mut code: String = (0..16).map(|_| CODE_CHARS[rng.next(CODE_CHARS.len())] as char).collect();
        code.insert_str(0, "91");
        let (uscc, site) =
            if id % 3 == 0 { (None, Some(format!("P{:03}-{id:07}", id % 200))) } else { (Some(code), None) };
        codes.push(uscc.clone().or(site.clone()).unwrap());
        rows.push([
            id.into(),
            Value::from(uscc),
            Value::from(site),
            name.into(),
            "platform".into(),
            Value::NullInt,
            id.into(),
            REGIONS[rng.next(REGIONS.len())].into(),
            Value::from(address),
            10.into(),
            1.into(),
            0.into(),
            "2020-01-01".into(),
            Value::NullText,
            "2026-11-01T00:00:00Z".into(),
            "2026-11-01T00:00:00Z".into(),
        ]);
    }
    (rows, codes)
}

/// Terms of every length and kind: Chinese of 1, 2, 3 and more characters, wildcards, escapes, codes whole
/// and in part, mixed case, and terms nothing contains.
fn terms(codes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = [
        "快",
        "递",
        "号",
        "%",
        "_",
        "\\",
        "a",
        "E",
        "é",
        "1",
        "快递",
        "外卖",
        "骑手",
        "配送",
        "送站",
        "递网",
        "城东",
        "a_",
        "_b",
        "0%",
        "%_",
        "_%",
        "mg",
        "MG",
        "Mg",
        "él",
        "ÉL",
        "和平",
        "号x",
        "无有",
        "快递网",
        "有限公司",
        "100_%",
        "0_%",
        "x_y%z",
        "y%z街",
        "和平路1",
        "顺丰城东快递",
        "美团北区外卖服务站",
        "Élan",
        "élan",
        "a_b骑",
        "人民大道",
        "P00",
        "P012-",
        "-000",
        "91",
        "9x",
        "不存在的单位",
        "ab",
        "a%b",
        "50%速",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in codes.iter().step_by(97) {
        out.push(c.clone());
        out.push(c[..6].to_owned());
        out.push(c[5..10].to_owned());
        out.push(c[5..10].to_lowercase());
        out.push(c[c.len() - 2..].to_owned());
    }
    out
}

fn all() -> AccessFilter {
    AccessFilter::unrestricted()
}

fn filter(term: &str) -> EntityFilter {
    EntityFilter { q: SearchTerm::parse(term, "q").unwrap(), ..Default::default() }
}

/// Every unit id a search finds by `method`, reading it page by page, and the total it reports.
async fn found(store: &Store, f: &EntityFilter, method: SearchMethod) -> (Vec<i64>, i64) {
    let mut ids = Vec::new();
    let mut page = 1;
    loop {
        let p = store.list_entities_by(f, Paging::new(Some(page), Some(200)), &all(), method).await.unwrap();
        let n = p.items.len();
        ids.extend(p.items.iter().map(|e| e.id));
        if n < 200 {
            return (ids, p.total);
        }
        page += 1;
    }
}

/// Asserts that the index finds what the scan finds for `term`, and returns how many.
async fn same_as_scan(store: &Store, term: &str) -> usize {
    let f = filter(term);
    let (scan, scan_total) = found(store, &f, SearchMethod::Scan).await;
    let (index, index_total) = found(store, &f, SearchMethod::Index).await;
    assert_eq!(index, scan, "{term:?} on {:?}", store.kind());
    assert_eq!((index_total, scan_total), (scan.len() as i64, scan.len() as i64), "{term:?}");
    scan.len()
}

#[tokio::test]
async fn index_finds_exactly_what_like_finds_on_a_bulk_loaded_registry() {
    for db in all_backends().await {
        let store = &db.store;
        let (rows, codes) = registry();
        let mut load = store.bulk_load().await.unwrap();
        load.insert(rows).await.unwrap();
        load.finish().await.unwrap();
        let mut nonempty = 0;
        for term in terms(&codes) {
            if same_as_scan(store, &term).await > 0 {
                nonempty += 1;
            }
        }
        // The terms are not vacuous: most of them find something, `%` and `_` only literally.
        assert!(nonempty > 50, "{nonempty}");
        let pct = found(store, &filter("%"), SearchMethod::Index).await.0.len();
        assert!(pct > 0 && pct < 1500, "{pct}");
        assert_eq!(same_as_scan(store, "不存在的单位").await, 0);
        // The same with other filters and paging: the region filter and the page after the first.
        let mut f = filter("快递");
        f.region = Some("440305".into());
        let by_index = store.list_entities_by(&f, Paging::new(Some(2), Some(10)), &all(), SearchMethod::Index).await;
        let by_scan = store.list_entities_by(&f, Paging::new(Some(2), Some(10)), &all(), SearchMethod::Scan).await;
        let ids = |p: dangjian_store::Page<dangjian_store::entities::Entity>| {
            (p.total, p.items.iter().map(|e| e.id).collect::<Vec<_>>())
        };
        let (a, b) = (ids(by_index.unwrap()), ids(by_scan.unwrap()));
        assert_eq!(a, b);
        assert_eq!(a.1.len(), 10);
        db.cleanup().await;
    }
}

fn draft(uscc: &str, name: &str, address: &str) -> EntityDraft {
    EntityDraft::parse(&EntityInput {
        uscc: Some(uscc.into()),
        name: Some(name.into()),
        kind: Some("platform".into()),
        sectors: vec!["快递".into()],
        region_code: Some("110105".into()),
        address: Some(address.into()),
        workers: Some("20".into()),
        party_members: Some("2".into()),
        ..Default::default()
    })
    .unwrap()
}

async fn ids(store: &Store, term: &str) -> Vec<i64> {
    let f = filter(term);
    let (index, _) = found(store, &f, SearchMethod::Index).await;
    assert_eq!(index, found(store, &f, SearchMethod::Scan).await.0, "{term:?}");
    index
}

#[tokio::test]
async fn every_write_is_searchable_at_once() {
    for db in all_backends().await {
        let store = &db.store;
        // Create.
        let a = store.create_entity(&draft("91350100M000100Y43", "鹏程骑手驿站", "和平路1号"), &all()).await.unwrap();
        assert_eq!(ids(store, "骑手").await, [a.id]);
        assert_eq!(ids(store, "鹏程骑手").await, [a.id]);
        assert_eq!(ids(store, "m000100").await, [a.id]);
        assert_eq!(ids(store, "驿").await, [a.id]);
        // Update: the old words are gone, the new ones found.
        let b = store
            .update_entity(a.id, &draft("91350100M000100Y43", "鹏程外卖配送站", "人民路2号"), a.version, &all())
            .await
            .unwrap();
        assert!(ids(store, "骑手").await.is_empty());
        assert!(ids(store, "和平路").await.is_empty());
        assert_eq!(ids(store, "外卖").await, [a.id]);
        assert_eq!(ids(store, "人民路2").await, [a.id]);
        // Closing changes no text; the unit is still found.
        store
            .close_entity(a.id, chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), b.version, &all())
            .await
            .unwrap();
        assert_eq!(ids(store, "外卖配送").await, [a.id]);
        // Import: a new unit and a changed one.
        let rows = vec![
            (2, draft("9144030071526726XG", "星河_快递%网点", "长江路5号")),
            (3, draft("91350100M000100Y43", "鹏程骑手之家", "人民路2号")),
        ];
        store.import_entities(&rows, false, &all()).await.unwrap();
        let c = store.entity_by_code("9144030071526726XG").await.unwrap();
        assert_eq!(ids(store, "_快递%").await, [c.id]);
        assert_eq!(ids(store, "星河_").await, [c.id]);
        assert!(ids(store, "星河%").await.is_empty());
        assert_eq!(ids(store, "骑手").await, [a.id]);
        assert!(ids(store, "外卖").await.is_empty());
        // A dry run writes nothing, the index included.
        let dry = vec![(2, draft("91330100799655058B", "试运行骑手站", "长江路6号"))];
        store.import_entities(&dry, true, &all()).await.unwrap();
        assert!(ids(store, "试运行").await.is_empty());
        // Delete (no store operation deletes a unit; the database may).
        sqlx::query("DELETE FROM entity_sectors WHERE entity_id = $1").bind(c.id).execute(store.pool()).await.unwrap();
        sqlx::query("DELETE FROM entities WHERE id = $1").bind(c.id).execute(store.pool()).await.unwrap();
        assert!(ids(store, "星河").await.is_empty());
        assert!(ids(store, "长江路").await.is_empty());
        // A bulk load after all that: the index holds the loaded units and still the earlier ones.
        let (rows, _) = registry();
        let mut rows_after = Rows::with_capacity(ENTITIES, 1500);
        for (i, chunk) in rows.values.chunks(ENTITIES.columns.len()).enumerate() {
            let mut row: Vec<Value> = chunk.to_vec();
            row[0] = Value::Int(1000 + i as i64);
            row[6] = Value::Int(1000 + i as i64);
            rows_after.values.extend(row);
        }
        let mut load = store.bulk_load().await.unwrap();
        load.insert(rows_after).await.unwrap();
        load.finish().await.unwrap();
        assert_eq!(ids(store, "鹏程骑手之家").await, [a.id]);
        assert!(same_as_scan(store, "快递").await > 100);
        assert!(same_as_scan(store, "和平路").await > 50);
        // Writes after the load are indexed again (the triggers are back).
        let d = store.create_entity(&draft("91330100799655058B", "载后新单位", "长江路7号"), &all()).await.unwrap();
        assert_eq!(ids(store, "载后").await, [d.id]);
        db.cleanup().await;
    }
}
