//! The API suite: the real app on a random port, over HTTP, on SQLite and (when DANGJIAN_TEST_PG is
//! set) PostgreSQL. Requests carry an API token of a nationwide department cadre who is also the
//! system administrator (sectors and regions).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dangjian_store::testing::{all_backends, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PLATFORM: &str = "91350100M000100Y43";
const FRANCHISEE: &str = "9144030071526726XG";
const PARTNER: &str = "91330100799655058B";

struct TestApp {
    base: String,
    /// Sends the API token with every request.
    http: reqwest::Client,
    db: TestDb,
}

async fn spawn(db: TestDb) -> TestApp {
    let token = support::token_with_grants(&db.store, "test client", &support::nationwide_cadre_and_admin()).await;
    let base = support::serve(db.store.clone()).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    TestApp { base, http, db }
}

async fn apps() -> Vec<TestApp> {
    let mut out = Vec::new();
    for db in all_backends().await {
        out.push(spawn(db).await);
    }
    out
}

impl TestApp {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).header("accept-language", "en").send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("accept-language", "en")
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }

    async fn upload(&self, path: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("accept-language", "en")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn download(&self, path: &str) -> Vec<u8> {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.bytes().await.unwrap().to_vec()
    }

    /// Platform → franchisee → site, and a partner; returns their ids.
    async fn seed_chain(&self) -> (i64, i64, i64) {
        let (s, p) = self.post("/api/v1/entities", &json!({"uscc": PLATFORM, "name": "速达外卖平台", "kind": "platform", "sectors": ["food_delivery"], "region_code": "110105", "workers": "120", "party_members": "30"})).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let (s, f) = self.post("/api/v1/entities", &json!({"uscc": FRANCHISEE, "name": "深圳南山加盟商", "kind": "franchisee", "sectors": ["外卖配送"], "parent_id": p["id"], "region_code": "440305", "workers": "60", "party_members": "4"})).await;
        assert_eq!(s, StatusCode::CREATED, "{f}");
        let (s, site) = self.post("/api/v1/entities", &json!({"site_code": "SD-NS-001", "name": "南山科技园站", "kind": "site", "sectors": ["food_delivery"], "parent_id": f["id"], "region_code": "440305001", "workers": "45", "party_members": "2", "probationary_members": "1"})).await;
        assert_eq!(s, StatusCode::CREATED, "{site}");
        (p["id"].as_i64().unwrap(), f["id"].as_i64().unwrap(), site["id"].as_i64().unwrap())
    }
}

#[tokio::test]
async fn health_reports_database_and_schema() {
    for app in apps().await {
        let (s, h) = app.get("/healthz").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h["status"], "ok");
        assert_eq!(h["database"], app.db.kind.as_str());
        assert!(h["schema_version"].as_i64().unwrap() > 0);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn regions_include_the_xpcc() {
    for app in apps().await {
        let (_, provinces) = app.get("/api/v1/regions?per_page=100").await;
        assert_eq!(provinces["meta"]["total"], 32);
        let names: Vec<&str> =
            provinces["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"新疆生产建设兵团"));
        let (_, xpcc) = app.get("/api/v1/regions?within=66&level=county&per_page=100").await;
        assert_eq!(xpcc["meta"]["total"], 12);
        let (_, counties) = app.get("/api/v1/regions?level=county&per_page=1").await;
        assert_eq!(counties["meta"]["total"], 2978);
        let (s, e) = app.get("/api/v1/regions?level=city").await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("level")));
        let (s, _) = app.get("/api/v1/regions/999999").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, lineage) = app.get("/api/v1/regions/440305001/lineage").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(lineage.as_array().unwrap().len(), 4);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn entities_crud_filters_and_chain() {
    for app in apps().await {
        let (p, f, site) = app.seed_chain().await;
        let (_, e) = app.get(&format!("/api/v1/entities/{site}")).await;
        assert_eq!((e["root_id"].as_i64(), e["parent_id"].as_i64()), (Some(p), Some(f)));
        assert_eq!(e["sectors"], json!(["food_delivery"]));
        for (query, expected) in [
            ("region=44", vec![f, site]),
            ("region=4403", vec![f, site]),
            ("region=11", vec![p]),
            ("kind=site", vec![site]),
            ("sector=food_delivery&kind=platform", vec![p]),
            (&format!("root={p}") as &str, vec![p, f, site]),
            ("q=科技园", vec![site]),
            ("q=sd-ns", vec![site]),
            ("status=closed", vec![]),
        ] {
            let (s, list) = app.get(&format!("/api/v1/entities?{query}")).await;
            assert_eq!(s, StatusCode::OK, "{query}: {list}");
            let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
            assert_eq!(ids, expected, "{query}");
        }
        let (_, page) = app.get("/api/v1/entities?per_page=2&page=2").await;
        assert_eq!((page["meta"]["total"].as_i64(), page["items"].as_array().unwrap().len()), (Some(3), 1));
        let (_, chain) = app.get(&format!("/api/v1/entities/{f}/chain")).await;
        assert_eq!(chain["ancestors"][0]["id"].as_i64(), Some(p));
        assert_eq!(chain["descendants"][0]["id"].as_i64(), Some(site));
        assert_eq!(chain["descendants_total"], 1);
        // Close with the current version.
        let (s, closed) = app
            .send(reqwest::Method::DELETE, &format!("/api/v1/entities/{site}?version=1&on=2026-06-30"), &json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{closed}");
        assert_eq!(closed["closed_on"], "2026-06-30");
        let (_, list) = app.get("/api/v1/entities?status=operating").await;
        assert_eq!(list["meta"]["total"], 2);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_input_names_the_field() {
    for app in apps().await {
        let (p, _, _) = app.seed_chain().await;
        // Domain validation: every field error in details, the first one at the top.
        let (s, e) = app.post("/api/v1/entities", &json!({"uscc": "91350100M000100Y44", "kind": "partner", "sectors": ["快递"], "parent_id": p, "region_code": "110105", "workers": "1", "party_members": "3"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["field"], "uscc");
        let fields: Vec<&str> =
            e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["uscc", "name", "party_members"]);
        // Every error at once: the parse's (no name) and the registry's (an unknown region and sector)
        // in one answer, so a form is fixed in one round.
        let (s, e) = app.post("/api/v1/entities", &json!({"uscc": PARTNER, "kind": "partner", "sectors": ["no_such"], "parent_id": p, "region_code": "110199"})).await;
        let mut fields: Vec<&str> =
            e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        fields.sort_unstable();
        assert_eq!((s, fields), (StatusCode::UNPROCESSABLE_ENTITY, vec!["name", "region_code", "sectors"]));
        // Registry rules: a partner under a franchisee; an unknown region; a duplicate code.
        let (_, f) = app.get("/api/v1/entities?kind=franchisee").await;
        let (s, e) = app.post("/api/v1/entities", &json!({"uscc": PARTNER, "name": "x", "kind": "partner", "sectors": ["courier"], "parent_id": f["items"][0]["id"], "region_code": "110105"})).await;
        assert_eq!(
            (s, e["error"]["field"].as_str(), e["error"]["details"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("parent_id"), Some("invalid_parent_kind"))
        );
        let (_, e) = app.post("/api/v1/entities", &json!({"uscc": PARTNER, "name": "x", "kind": "partner", "sectors": ["courier"], "parent_id": p, "region_code": "110199"})).await;
        assert_eq!(e["error"]["field"], "region_code");
        let (s, e) = app.post("/api/v1/entities", &json!({"uscc": PLATFORM, "name": "x", "kind": "platform", "sectors": ["courier"], "region_code": "110105"})).await;
        assert_eq!(
            (s, e["error"]["details"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("duplicate"))
        );
        let (_, e) = app.post("/api/v1/entities", &json!({"uscc": PARTNER, "name": "x", "kind": "partner", "sectors": ["no_such"], "parent_id": p, "region_code": "110105"})).await;
        assert_eq!(e["error"]["field"], "sectors");
        // Malformed JSON, a wrong type, a bad query parameter, a bad path parameter, wrong content type.
        let r = app
            .http
            .post(format!("{}/api/v1/entities", app.base))
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "malformed_json");
        let (s, e) = app.post("/api/v1/entities", &json!({"name": "x", "sectors": "courier"})).await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("sectors")));
        let (s, e) = app.get("/api/v1/entities?page=abc").await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("page")));
        let (s, e) = app.get("/api/v1/entities?kind=shop").await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("kind")));
        let (s, e) = app.get("/api/v1/entities/abc").await;
        assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")));
        // A search term of more than 100 characters, or with NUL or another control character, on every list.
        let long = "%E5%BF%AB".repeat(101);
        for list in ["entities", "organizations", "instructors", "stations", "regions"] {
            for q in [long.as_str(), "a%00b", "a%0Ab", "x%1Fy"] {
                let (s, e) = app.get(&format!("/api/v1/{list}?q={q}")).await;
                assert_eq!(
                    (s, e["error"]["field"].as_str()),
                    (StatusCode::BAD_REQUEST, Some("q")),
                    "{list}?q={q}: {e}"
                );
            }
            let (s, _) = app.get(&format!("/api/v1/{list}?q={}", "%E5%BF%AB".repeat(100))).await;
            assert_eq!(s, StatusCode::OK, "{list}: 100 characters are fine");
        }
        // `%` and `_` are matched literally: no unit has them in its name, address or code.
        for q in ["%25", "_", "%25%25", "SD_NS"] {
            let (s, list) = app.get(&format!("/api/v1/entities?q={q}")).await;
            assert_eq!((s, list["meta"]["total"].as_i64()), (StatusCode::OK, Some(0)), "{q}");
        }
        let (_, list) = app.get("/api/v1/entities?q=sd-ns").await;
        assert_eq!(list["meta"]["total"], 1);
        let (s, e) = app.get("/api/v1/entities?region=999999").await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("region")));
        let r = app.http.post(format!("{}/api/v1/entities", app.base)).body("name=x").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        // Nothing of the above was written.
        let (_, list) = app.get("/api/v1/entities").await;
        assert_eq!(list["meta"]["total"], 3);
        // Chinese messages by default.
        let r = app
            .http
            .post(format!("{}/api/v1/entities", app.base))
            .json(&json!({"kind": "platform"}))
            .send()
            .await
            .unwrap();
        let msg = r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().to_owned();
        assert_eq!(msg, "此项为必填项");
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_updates_one_wins_the_other_gets_409() {
    for app in apps().await {
        let (_, _, site) = app.seed_chain().await;
        let (_, e) = app.get(&format!("/api/v1/entities/{site}")).await;
        let version = e["version"].as_i64().unwrap();
        let mut a = e.clone();
        a["workers"] = json!("50");
        let mut b = e.clone();
        b["workers"] = json!("55");
        for body in [&mut a, &mut b] {
            body["sectors"] = json!(["food_delivery"]);
            for k in ["workers", "party_members", "probationary_members"] {
                body[k] = json!(body[k].to_string().trim_matches('"'));
            }
        }
        let path = format!("/api/v1/entities/{site}");
        let (ra, rb) = tokio::join!(app.put(&path, &a), app.put(&path, &b));
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{ra:?} {rb:?}");
        let loser = if ra.0 == StatusCode::CONFLICT { ra.1 } else { rb.1 };
        assert_eq!(loser["error"]["code"], "stale_version");
        let (_, now) = app.get(&path).await;
        assert_eq!(now["version"].as_i64(), Some(version + 1));
        // A stale close is refused too.
        let (s, _) = app.send(reqwest::Method::DELETE, &format!("{path}?version={version}"), &json!({})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn organizations_instructors_and_sectors() {
    for app in apps().await {
        let (_, f, site) = app.seed_chain().await;
        let (s, site2) = app.post("/api/v1/entities", &json!({"site_code": "SD-NS-002", "name": "西丽站", "kind": "site", "sectors": ["food_delivery"], "parent_id": f, "region_code": "440305", "workers": "12", "party_members": "1"})).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, c) = app.post("/api/v1/organizations", &json!({"code": "SD-GC", "name": "速达南山党委", "kind": "grassroots_committee", "unit_ids": [f], "region_code": "440305"})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let (s, j) = app.post("/api/v1/organizations", &json!({"code": "SD-JB1", "name": "南山骑手联合党支部", "kind": "joint_branch", "parent_id": c["id"], "unit_ids": [site, site2["id"]], "region_code": "440305", "term_start": "2024-01-01", "term_end": "2028-12-31", "secretary": "王芳"})).await;
        assert_eq!(s, StatusCode::CREATED, "{j}");
        let (_, list) = app.get(&format!("/api/v1/organizations?unit={site}")).await;
        assert_eq!(list["items"][0]["code"], "SD-JB1");
        let (_, list) = app.get("/api/v1/organizations?kind=joint_branch&region=4403").await;
        assert_eq!(list["meta"]["total"], 1);
        let mut upd = j.clone();
        upd["secretary"] = json!("李强");
        upd["unit_ids"] = json!([site, site2["id"]]);
        let (s, u) = app.put(&format!("/api/v1/organizations/{}", j["id"]), &upd).await;
        assert_eq!((s, u["secretary"].as_str()), (StatusCode::OK, Some("李强")));
        let (s, _) = app.put(&format!("/api/v1/organizations/{}", j["id"]), &upd).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, e) = app
            .post(
                "/api/v1/organizations",
                &json!({"code": "SD-B2", "name": "x", "kind": "branch", "parent_id": j["id"], "region_code": "440305"}),
            )
            .await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("parent_id")));

        let (s, i) = app.post("/api/v1/instructors", &json!({"name": "陈静", "mobile": "13912345678", "dispatching_org": "南山区委社会工作部", "region_code": "440305", "assignments": [{"entity_id": site, "start_on": "2025-03-01"}]})).await;
        assert_eq!(s, StatusCode::CREATED, "{i}");
        let (s, e) = app
            .post("/api/v1/instructors", &json!({"name": "x", "mobile": "1391234567", "region_code": "440305"}))
            .await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("mobile")));
        let (_, list) = app.get(&format!("/api/v1/instructors?unit={site}")).await;
        assert_eq!(list["meta"]["total"], 1);
        let (s, _) =
            app.send(reqwest::Method::DELETE, &format!("/api/v1/instructors/{}?version=1", i["id"]), &json!({})).await;
        assert_eq!(s, StatusCode::NO_CONTENT);

        let (_, sectors) = app.get("/api/v1/sectors").await;
        assert_eq!(sectors["meta"]["total"], 7);
        let (s, _) = app.post("/api/v1/sectors", &json!({"code": "instant_retail", "name_zh": "即时零售", "name_en": "Instant retail", "stage": "exploratory"})).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, e) = app
            .post("/api/v1/sectors", &json!({"code": "instant_retail2", "name_zh": "即时零售", "name_en": "x"}))
            .await;
        assert_eq!(
            (s, e["error"]["details"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("duplicate"))
        );
        let (s, _) = app.send(reqwest::Method::DELETE, "/api/v1/sectors/courier", &json!({})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = app.send(reqwest::Method::DELETE, "/api/v1/sectors/instant_retail", &json!({})).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        app.db.cleanup().await;
    }
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[tokio::test]
async fn import_gbk_csv_reports_every_bad_row_and_round_trips() {
    for app in apps().await {
        let good = format!(
            "统一社会信用代码,站点编码,名称,类型,行业,上级统一社会信用代码,行政区划代码,地址,从业人员数,正式党员数,预备党员数,成立日期,注销日期\r\n\
             {PLATFORM},,速达快递,平台企业,快递,,310115,浦东新区,300,40,2,2019/3/1,\r\n\
             {FRANCHISEE},,杭州加盟商,加盟企业,快递、外卖配送,{PLATFORM},330106,,80,3,0,2020年5月8日,\r\n\
             ,ZJ-001,西湖网点,站点,快递,{FRANCHISEE},330106002,,25,1,0,2021-01-01,\r\n"
        );
        let (s, r) = app.upload("/api/v1/imports/entities?file_name=chain.csv", gbk(&good)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!((r["created"].as_u64(), r["unchanged"].as_u64()), (Some(3), Some(0)));
        let (_, r) = app.upload("/api/v1/imports/entities?file_name=chain.csv", gbk(&good)).await;
        assert_eq!((r["created"].as_u64(), r["unchanged"].as_u64()), (Some(0), Some(3)));

        let bad = format!(
            "uscc,site_code,name,kind,sector,parent_uscc,region_code,workers,party_members\n\
             {PARTNER},,好运车队,partner,网约车,{PLATFORM},310115,10,1\n\
             ,ZJ-002,断桥网点,site,快递,91110000802100433B,330106,5,0\n\
             ,ZJ-003,,site,快递,{FRANCHISEE},330106,5,9\n\
             ,ZJ-004,白堤网点,shop,快递,{FRANCHISEE},330199,5,0\n\
             ,ZJ-005,,site,快递,ZJ-004,330106,5,0\n"
        );
        let (s, e) = app.upload("/api/v1/imports/entities?file_name=bad.csv", bad.into_bytes()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let located: Vec<String> = e["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{}:{}", d["row"], d["column"].as_str().unwrap()))
            .collect();
        // Every error at once: the rows' own (4, 5, 6) and those only the database finds — an unknown
        // parent (3), and the unknown region of a row that also has an error of its own (5). Row 6's
        // parent is row 5, which failed: row 5's errors say what is wrong, not a second "unknown parent".
        assert_eq!(
            located,
            vec!["3:F(parent_uscc)", "4:C(name)", "4:I(party_members)", "5:D(kind)", "5:G(region_code)", "6:C(name)"],
            "{e}"
        );
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            ["the file has 6 errors; nothing was imported", "文件有6处错误，未导入任何数据"].contains(&message),
            "{e}"
        );
        // Errors only the database finds.
        let bad_refs = format!(
            "uscc,site_code,name,kind,sector,parent_uscc,region_code\n\
             {PARTNER},,好运车队,partner,网约车,{PLATFORM},310115\n\
             ,ZJ-002,断桥网点,site,快递,91110000802100433B,330106\n\
             ,ZJ-004,白堤网点,site,快递,{FRANCHISEE},330199\n"
        );
        let (_, e) = app.upload("/api/v1/imports/entities?file_name=refs.csv", bad_refs.into_bytes()).await;
        let messages: Vec<&str> =
            e["error"]["details"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
        assert_eq!(messages.len(), 2, "{e}");
        assert!(messages[0].starts_with("refs.csv:3:F(parent_uscc): "), "{messages:?}");
        assert!(messages[1].starts_with("refs.csv:4:G(region_code): "), "{messages:?}");
        let (_, list) = app.get("/api/v1/entities").await;
        assert_eq!(list["meta"]["total"], 3, "a failed import writes nothing");

        for format in ["csv", "xlsx"] {
            let first = app.download(&format!("/api/v1/exports/entities?format={format}")).await;
            let (s, r) =
                app.upload(&format!("/api/v1/imports/entities?file_name=export.{format}"), first.clone()).await;
            assert_eq!((s, r["unchanged"].as_u64()), (StatusCode::OK, Some(3)), "{r}");
            let second = app.download(&format!("/api/v1/exports/entities?format={format}")).await;
            assert_eq!(first, second, "{format} export is stable");
        }
        let (s, e) = app.get("/api/v1/exports/entities?format=pdf").await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("format")));
        let (s, _) = app.upload("/api/v1/imports/people", b"x".to_vec()).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn openapi_document_is_stable() {
    let db = dangjian_store::testing::sqlite().await;
    let app = spawn(db).await;
    let (s, doc) = app.get("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["paths"]["/api/v1/entities/{id}/chain"]["get"].is_object());
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn coverage_figures_trends_and_gaps_follow_every_write() {
    for app in apps().await {
        let (platform, franchisee, site) = app.seed_chain().await;
        let (s, c) = app.get("/api/v1/coverage").await;
        assert_eq!(s, StatusCode::OK, "{c}");
        let t = &c["totals"];
        // Platform (30 members), franchisee (4), site (2): none has any organization or instructor.
        assert_eq!((t["units"].as_u64(), t["none"].as_u64(), t["members"].as_u64()), (Some(3), Some(3), Some(36)));
        assert_eq!(t["units_needing_own"], 2);
        assert_eq!(t["coverage_rate"], 0.0);
        let provinces: Vec<&str> =
            c["children"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
        assert_eq!(provinces, vec!["11", "44"]);
        assert_eq!(c["chains"][0]["root_id"], platform);
        assert_eq!(c["chains"][0]["name"], "速达外卖平台");

        // The gap list says what to do.
        let (s, g) = app.get("/api/v1/gaps?sort=members").await;
        assert_eq!(s, StatusCode::OK, "{g}");
        assert_eq!(g["meta"]["total"], 3);
        assert_eq!(g["items"][0]["unit_id"], platform);
        assert_eq!(g["items"][0]["rule"], "no_own_organization");
        assert_eq!(g["items"][0]["fix"], "establish its own branch");
        assert_eq!(g["items"][0]["href"], format!("/entities/{platform}"));
        let site_gap = g["items"].as_array().unwrap().iter().find(|i| i["unit_id"] == site).unwrap().clone();
        assert_eq!(site_gap["rule"], "not_in_joint_branch");

        // The trend before the branch exists (and kept by the server until a change reaches the index).
        let trend_own = |tr: &Value| -> Vec<u64> {
            tr["points"].as_array().unwrap().iter().map(|p| p["figures"]["own"].as_u64().unwrap()).collect()
        };
        let (_, tr) = app.get("/api/v1/coverage/trend?region=44&months=3&date=2025-04-15").await;
        assert_eq!(trend_own(&tr), vec![0, 0, 0]);

        // The franchisee's branch, which also covers the site through the chain.
        let (s, o) = app
            .post(
                "/api/v1/organizations",
                &json!({"code": "ORG-COV-1", "name": "南山加盟商党支部", "kind": "branch",
                        "unit_codes": [FRANCHISEE, "SD-NS-001"], "region_code": "440305", "established_on": "2025-03-01"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
        let (_, c) = app.get("/api/v1/coverage?region=44").await;
        let t = &c["totals"];
        assert_eq!((t["units"].as_u64(), t["own"].as_u64(), t["chain"].as_u64()), (Some(2), Some(1), Some(1)));
        assert_eq!(t["organizations"], 1);
        assert_eq!(t["coverage_rate"], 1.0);
        assert_eq!(c["region"]["name"], "广东省");
        // As of before the branch existed, nothing was covered.
        let (_, c) = app.get("/api/v1/coverage?region=44&date=2025-02-28").await;
        assert_eq!(c["totals"]["own"], 0);
        // A monthly trend shows the change.
        let (s, tr) = app.get("/api/v1/coverage/trend?region=44&months=3&date=2025-04-15").await;
        assert_eq!(s, StatusCode::OK, "{tr}");
        assert_eq!(trend_own(&tr), vec![0, 1, 1], "the trend computed before the branch is not served again");
        assert_eq!(tr["points"][0]["date"], "2025-02-28");
        // Filters by sector, tier and chain; the chain of a unit that is no platform is refused.
        let (_, c) = app.get(&format!("/api/v1/coverage?chain={platform}&tier=site")).await;
        assert_eq!(c["totals"]["units"], 1);
        assert_eq!(c["chain"]["name"], "速达外卖平台");
        let (s, e) = app.get(&format!("/api/v1/coverage?chain={franchisee}")).await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("chain")));
        for (query, field) in [
            ("date=2025-13-01", "date"),
            ("region=999999", "region"),
            ("sector=mining", "sector"),
            ("tier=shop", "tier"),
        ] {
            let (s, e) = app.get(&format!("/api/v1/coverage?{query}")).await;
            assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}: {e}");
        }
        let (s, e) = app.get("/api/v1/coverage/trend?months=0").await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("months")));
        let (s, e) = app.get("/api/v1/gaps?rule=nonsense").await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("rule")));

        // The export: Chinese headers, one line per gap.
        let csv = String::from_utf8(app.download("/api/v1/gaps/export?format=csv").await).unwrap();
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().contains("单位名称,单位代码,层级"), "{csv}");
        assert_eq!(lines.count(), 1, "only the platform is left: {csv}");
        let xlsx = app.download("/api/v1/gaps/export").await;
        assert!(xlsx.starts_with(b"PK"));
        // A branch may cover only units below its home unit; units side by side form a joint branch.
        let (s, other) = app
            .post(
                "/api/v1/entities",
                &json!({"site_code": "SD-HQ-001", "name": "总部直营站", "kind": "site",
                "sectors": ["food_delivery"], "parent_id": platform, "region_code": "110105", "workers": "5"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{other}");
        let (s, e) = app
            .post(
                "/api/v1/organizations",
                &json!({"code": "ORG-COV-2", "name": "错误党支部", "kind": "branch",
                        "unit_codes": [FRANCHISEE, "SD-HQ-001"], "region_code": "440305"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["error"]["details"][0]["code"], "units_outside_chain");
        app.db.cleanup().await;
    }
}
