//! Open311 GeoReport v2 over HTTP, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: every endpoint
//! answers with the spec's field names; errors are the spec's `[{code, description}]` naming the field;
//! filing needs a live client key, which the database holds only as a hash; no answer carries the
//! contact, a coordinate or an internal note, and no location is stored or logged; filing counts
//! against its own quota per client address, and the rest of Open311 against the anonymous one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{TimeZone, Utc};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::CaseAction;
use dangjian_security::token::NewApiToken;
use dangjian_store::cases::CaseStep;
use dangjian_store::testing::{all_backends, TestDb};
use dangjian_store::AccessFilter;
use dangjian_web::auth::ManualClock;
use dangjian_web::rate_limit::{Quota, RateLimitConfig};
use dangjian_web::AppState;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Everything any test of this binary logs (the privacy test reads it).
static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
    .clone()
}

/// Friday 27 November 2026, 16:00 in China (08:00 UTC).
fn friday() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap()
}

const SERVICE_FIELDS: [&str; 7] =
    ["description", "group", "keywords", "metadata", "service_code", "service_name", "type"];
const ATTRIBUTE_FIELDS: [&str; 8] =
    ["code", "datatype", "datatype_description", "description", "order", "required", "values", "variable"];
const REQUEST_FIELDS: [&str; 17] = [
    "address",
    "address_id",
    "agency_responsible",
    "description",
    "expected_datetime",
    "lat",
    "long",
    "media_url",
    "requested_datetime",
    "service_code",
    "service_name",
    "service_notice",
    "service_request_id",
    "status",
    "status_notes",
    "updated_datetime",
    "zipcode",
];

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

struct App {
    base: String,
    http: reqwest::Client,
    db: TestDb,
    /// A live key (plain statuses) and a live key of a client taking extended statuses.
    key: String,
    extended_key: String,
}

async fn spawn(db: TestDb, limits: RateLimitConfig) -> App {
    db.store.create_department("NS-HR", "南山区人社局", "human_resources", "440305").await.unwrap();
    db.store.create_department("GD-SW", "广东省委社会工作部", "social_work", "44").await.unwrap();
    let key = NewApiToken::generate();
    db.store.create_open311_client("街道通", key.hash(), false, "cli:test").await.unwrap();
    let extended = NewApiToken::generate();
    db.store.create_open311_client("FixMyStreet", extended.hash(), true, "cli:test").await.unwrap();
    let clock = Arc::new(ManualClock::new(friday()));
    let state =
        AppState::with_clock(db.store.clone(), dangjian_security::field_cipher::Keyring::generate(), clock.clone())
            .with_rate_limits(limits);
    let base = support::serve_state(state).await;
    App {
        base,
        http: reqwest::Client::new(),
        db,
        key: key.secret().to_owned(),
        extended_key: extended.secret().to_owned(),
    }
}

fn loose() -> RateLimitConfig {
    let loose = Quota::per_minute(100_000);
    RateLimitConfig { anonymous: loose, login: loose, public: loose, submission: loose, ..Default::default() }
}

impl App {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).header("accept-language", "en").send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post_form(&self, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/open311/v2/requests.json", self.base))
            .header("accept-language", "en")
            .form(fields)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// The one error of an error answer: its code and the field its description starts with.
fn error_of(body: &Value) -> (u64, String) {
    let items = body.as_array().unwrap_or_else(|| panic!("not an error array: {body}"));
    let first = &items[0];
    assert_eq!(keys(first), set(&["code", "description"]), "{body}");
    let description = first["description"].as_str().unwrap();
    (first["code"].as_u64().unwrap(), description.split(':').next().unwrap().to_owned())
}

#[tokio::test]
async fn services_and_their_definitions_use_the_spec_field_names() {
    for db in all_backends().await {
        let app = spawn(db, loose()).await;
        let (status, services) = app.get("/open311/v2/services.json?locale=en").await;
        assert_eq!(status, StatusCode::OK, "{services}");
        let services = services.as_array().unwrap();
        assert_eq!(services.len(), 9);
        for s in services {
            assert_eq!(keys(s), set(&SERVICE_FIELDS), "{s}");
            assert_eq!((s["metadata"].as_bool(), s["type"].as_str()), (Some(true), Some("realtime")));
        }
        assert_eq!(services[0]["service_code"], "wage_arrears");
        assert_eq!(services[0]["service_name"], "Wage arrears");
        // Chinese by default, and by `locale` over Accept-Language.
        let zh: Value =
            app.http.get(format!("{}/open311/v2/services.json", app.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(zh[0]["service_name"], "欠薪");
        let (_, zh) = app.get("/open311/v2/services.json?locale=zh-CN").await;
        assert_eq!(zh[0]["service_name"], "欠薪");

        let (status, def) = app.get("/open311/v2/services/wage_arrears.json").await;
        assert_eq!(status, StatusCode::OK, "{def}");
        assert_eq!(keys(&def), set(&["attributes", "service_code"]));
        let attrs = def["attributes"].as_array().unwrap();
        for a in attrs {
            assert_eq!(keys(a), set(&ATTRIBUTE_FIELDS), "{a}");
        }
        let codes: Vec<&str> = attrs.iter().map(|a| a["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["region_code", "sector", "platform_id", "anonymous"]);
        assert_eq!((attrs[0]["required"].as_bool(), attrs[0]["datatype"].as_str()), (Some(true), Some("string")));
        assert_eq!(attrs[1]["datatype"], "singlevaluelist");
        assert_eq!(attrs[1]["values"].as_array().unwrap().len(), 7);
        assert_eq!(keys(&attrs[1]["values"][0]), set(&["key", "name"]));

        for missing in [
            "/open311/v2/services/potholes.json",
            "/open311/v2/services/wage_arrears.xml",
            "/open311/v2/services/wage_arrears",
        ] {
            let (status, body) = app.get(missing).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
            assert_eq!(error_of(&body), (404, "service_code".into()), "{missing}");
        }
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_client_files_a_request_and_anyone_with_its_id_follows_it() {
    let logs = capture_logs();
    for db in all_backends().await {
        let app = spawn(db, loose()).await;
        // Distinctive coordinates and names, so that any trace of them would be found.
        let (lat, long) = ("22.5439871", "113.9345612");
        let (status, created) = app
            .post_form(&[
                ("api_key", &app.key),
                ("service_code", "wage_arrears"),
                ("description", "三个月工资未发"),
                ("attribute[region_code]", "440305"),
                ("attribute[sector]", "courier"),
                ("lat", lat),
                ("long", long),
                ("first_name", "Zhangsanfeng"),
                ("last_name", "Lisiguang"),
                ("phone", "13812341234"),
                ("email", "worker@example.org"),
                ("device_id", "device-77"),
                ("account_id", "acc-1"),
            ])
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let created = &created.as_array().unwrap()[0];
        assert_eq!(keys(created), set(&["account_id", "service_notice", "service_request_id", "token"]));
        assert_eq!((created["token"].clone(), created["account_id"].as_str()), (Value::Null, Some("acc-1")));
        assert!(created["service_notice"].as_str().unwrap().contains("南山区人社局"));
        let id = created["service_request_id"].as_str().unwrap().to_owned();

        let (status, one) = app.get(&format!("/open311/v2/requests/{id}.json")).await;
        assert_eq!(status, StatusCode::OK, "{one}");
        let r = &one.as_array().unwrap()[0];
        assert_eq!(keys(r), set(&REQUEST_FIELDS), "{r}");
        assert_eq!(r["service_request_id"], id.as_str());
        assert_eq!((r["status"].as_str(), r["service_code"].as_str()), (Some("open"), Some("wage_arrears")));
        assert_eq!(
            (r["service_name"].as_str(), r["agency_responsible"].as_str()),
            (Some("Wage arrears"), Some("南山区人社局"))
        );
        assert_eq!(
            (r["requested_datetime"].as_str(), r["expected_datetime"].as_str()),
            (Some("2026-11-27T08:00:00Z"), Some("2026-11-30T16:00:00Z"))
        );
        assert_eq!(r["address_id"], "440305");
        for none in ["lat", "long", "address", "zipcode", "media_url", "status_notes"] {
            assert_eq!(r[none], Value::Null, "{none}");
        }
        let (status, tok) = app.get(&format!("/open311/v2/tokens/{id}.json")).await;
        assert_eq!(status, StatusCode::OK, "{tok}");
        assert_eq!(tok, json!([{"service_request_id": id, "token": id}]));

        // The department handles it: an internal note, then a public resolution.
        let case_id: i64 = sqlx::query("SELECT id FROM cases WHERE tracking_code = $1")
            .bind(id.clone())
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .get("id");
        let g = AccessFilter::new([dangjian_domain::access::Scope::Region { path: "/44/".into() }]);
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap();
        for (v, step) in [
            (1, CaseStep::new(CaseAction::Acknowledge)),
            (2, CaseStep::new(CaseAction::Note).note("内部：联系人可疑", false)),
        ] {
            app.db.store.act_on_case(case_id, v, &step, "cadre", &g, &CaseSettings::default(), at).await.unwrap();
        }
        let (_, plain) = app.get(&format!("/open311/v2/requests/{id}.json")).await;
        let (_, extended) = app.get(&format!("/open311/v2/requests/{id}.json?api_key={}", app.extended_key)).await;
        assert_eq!((plain[0]["status"].as_str(), extended[0]["status"].as_str()), (Some("open"), Some("in_progress")));
        assert_eq!(plain[0]["status_notes"], Value::Null, "an internal note is never a status note");
        let step = CaseStep::new(CaseAction::Resolve).note("已补发工资", true);
        app.db.store.act_on_case(case_id, 3, &step, "cadre", &g, &CaseSettings::default(), at).await.unwrap();
        let (_, plain) = app.get(&format!("/open311/v2/requests.json?service_request_id={id}")).await;
        let (_, extended) =
            app.get(&format!("/open311/v2/requests.json?service_request_id={id}&api_key={}", app.extended_key)).await;
        assert_eq!((plain[0]["status"].as_str(), extended[0]["status"].as_str()), (Some("closed"), Some("fixed")));
        assert_eq!(
            (plain[0]["status_notes"].as_str(), plain[0]["updated_datetime"].as_str()),
            (Some("已补发工资"), Some("2026-11-30T02:00:00Z"))
        );
        assert_eq!(plain[0]["expected_datetime"], Value::Null);

        // Nothing of the contact, the names, the device, the location or the internal note in any answer.
        let everything =
            [created.to_string(), one.to_string(), plain.to_string(), extended.to_string(), tok.to_string()].concat();
        for secret in [
            "13812341234",
            "1234",
            "worker@example.org",
            "Zhangsanfeng",
            "Lisiguang",
            "device-77",
            lat,
            long,
            "联系人可疑",
        ] {
            assert!(!everything.contains(secret), "{secret} in an answer: {everything}");
        }
        // The contact is kept, encrypted; no name, device or location is stored or logged.
        let row = sqlx::query("SELECT contact, open311_client_id FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(app.db.store.pool())
            .await
            .unwrap();
        let stored: String = row.get("contact");
        assert!(!stored.contains("13812341234") && !stored.is_empty());
        assert!(row.get::<Option<i64>, _>("open311_client_id").is_some());
        let full = app.db.store.case(case_id, &g, dangjian_store::Disclosure::Full).await.unwrap();
        assert_eq!(full.contact.as_deref(), Some("13812341234"), "the phone, not the email");
        let mut dump = String::new();
        for table in ["cases", "case_events", "audit_log", "open311_clients"] {
            let sql = format!("SELECT * FROM {table}");
            for r in sqlx::query(&sql).fetch_all(app.db.store.pool()).await.unwrap() {
                for i in 0..r.len() {
                    if let Ok(Some(s)) = r.try_get::<Option<String>, usize>(i) {
                        dump.push_str(&s);
                        dump.push('|');
                    }
                }
            }
        }
        for secret in ["Zhangsanfeng", "Lisiguang", "device-77", "22.543", "113.934", "worker@example.org", &app.key] {
            assert!(!dump.contains(secret), "{secret} stored");
        }
        let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(text.contains("/open311/v2/requests.json"), "requests are logged (by path)");
        for secret in ["2.5439871", "3.9345612", "Zhangsanfeng", "13812341234", &id, &app.key] {
            assert!(!text.contains(secret), "{secret} reached the log");
        }
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_client_lists_only_its_own_requests_with_the_spec_filters() {
    for db in all_backends().await {
        let app = spawn(db, loose()).await;
        let file = |key: String, code: &'static str| {
            let app = &app;
            async move {
                let (status, body) = app
                    .post_form(&[
                        ("api_key", &key),
                        ("service_code", code),
                        ("description", "x"),
                        ("address_id", "440305"),
                    ])
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                body[0]["service_request_id"].as_str().unwrap().to_owned()
            }
        };
        let mine = [file(app.key.clone(), "wage_arrears").await, file(app.key.clone(), "other").await];
        let theirs = file(app.extended_key.clone(), "other").await;
        // Also JSON bodies.
        let r = app
            .http
            .post(format!("{}/open311/v2/requests.json", app.base))
            .json(&json!({"api_key": app.key, "service_code": "legal_aid", "description": "y",
                          "attribute": {"region_code": "440305", "anonymous": true}, "phone": "13900000000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let json_filed: Value = r.json().await.unwrap();
        let json_id = json_filed[0]["service_request_id"].as_str().unwrap().to_owned();

        let ids = |v: &Value| -> BTreeSet<String> {
            v.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()).collect()
        };
        let (status, own) = app.get(&format!("/open311/v2/requests.json?api_key={}", app.key)).await;
        assert_eq!(status, StatusCode::OK, "{own}");
        assert_eq!(ids(&own), [mine[0].clone(), mine[1].clone(), json_id.clone()].into_iter().collect());
        for r in own.as_array().unwrap() {
            assert_eq!(keys(r), set(&REQUEST_FIELDS));
        }
        let (_, wage) =
            app.get(&format!("/open311/v2/requests.json?api_key={}&service_code=wage_arrears", app.key)).await;
        assert_eq!(ids(&wage), [mine[0].clone()].into_iter().collect());
        let (_, closed) = app.get(&format!("/open311/v2/requests.json?api_key={}&status=closed", app.key)).await;
        assert!(closed.as_array().unwrap().is_empty());
        let (_, later) =
            app.get(&format!("/open311/v2/requests.json?api_key={}&start_date=2026-11-28T00:00:00Z", app.key)).await;
        assert!(later.as_array().unwrap().is_empty());
        let (_, named) = app.get(&format!("/open311/v2/requests.json?service_request_id={},{theirs}", mine[0])).await;
        assert_eq!(ids(&named), [mine[0].clone(), theirs.clone()].into_iter().collect());

        // Nothing is listed to anyone without ids or a key; a bad key, date or status is named.
        let (status, body) = app.get("/open311/v2/requests.json").await;
        assert_eq!((status, error_of(&body)), (StatusCode::BAD_REQUEST, (400, "service_request_id".into())));
        let (status, body) = app.get("/open311/v2/requests.json?api_key=dj_guess").await;
        assert_eq!((status, error_of(&body)), (StatusCode::FORBIDDEN, (403, "api_key".into())));
        let (status, body) = app.get(&format!("/open311/v2/requests.json?api_key={}&start_date=monday", app.key)).await;
        assert_eq!((status, error_of(&body)), (StatusCode::BAD_REQUEST, (400, "start_date".into())));
        let (status, body) = app.get(&format!("/open311/v2/requests.json?api_key={}&status=lost", app.key)).await;
        assert_eq!((status, error_of(&body)), (StatusCode::BAD_REQUEST, (400, "status".into())));
        let (status, body) = app.get("/open311/v2/requests.json?service_request_id=1").await;
        assert_eq!((status, error_of(&body)), (StatusCode::BAD_REQUEST, (400, "service_request_id".into())));
        let (status, body) = app.get("/open311/v2/requests/0000-00000.json").await;
        assert_eq!((status, error_of(&body)), (StatusCode::NOT_FOUND, (404, "service_request_id".into())));
        let (status, _) = app.get(&format!("/open311/v2/requests/{}.xml", mine[0])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = app.get("/open311/v2/tokens/0000-00000.json").await;
        assert_eq!((status, error_of(&body)), (StatusCode::NOT_FOUND, (404, "token".into())));
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn filing_needs_a_live_key_and_every_bad_field_is_named() {
    for db in all_backends().await {
        let app = spawn(db, loose()).await;
        let base = [("service_code", "other"), ("description", "x"), ("attribute[region_code]", "440305")];
        let with = |extra: &[(&'static str, &str)]| {
            let mut f: Vec<(&str, String)> = base.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            for (k, v) in extra {
                f.retain(|(key, _)| key != k);
                f.push((k, (*v).to_owned()));
            }
            f
        };
        let post = |fields: Vec<(&'static str, String)>| {
            let app = &app;
            async move {
                let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.post_form(&f).await
            }
        };
        // No key, an unknown key: 403 in the spec's shape.
        let (status, body) = post(with(&[])).await;
        assert_eq!((status, error_of(&body)), (StatusCode::FORBIDDEN, (403, "api_key".into())));
        let (status, body) = post(with(&[("api_key", "dj_0000000000000000000000000000000000000000000")])).await;
        assert_eq!((status, error_of(&body)), (StatusCode::FORBIDDEN, (403, "api_key".into())));
        let key = app.key.clone();
        let bad = |extra: Vec<(&'static str, String)>| {
            let mut f = with(&[("api_key", key.as_str())]);
            for (k, v) in extra {
                f.retain(|(key, _)| *key != k);
                if !v.is_empty() {
                    f.push((k, v));
                }
            }
            post(f)
        };
        // Only coordinates: a region code is needed, and said so.
        let (status, body) =
            bad(vec![("attribute[region_code]", String::new()), ("lat", "22.5".into()), ("long", "113.9".into())])
                .await;
        assert_eq!((status, error_of(&body)), (StatusCode::BAD_REQUEST, (400, "attribute[region_code]".into())));
        assert!(body[0]["description"].as_str().unwrap().contains("region code"), "{body}");
        let cases = [
            (vec![("attribute[region_code]", "999999".to_owned())], "attribute[region_code]"),
            (vec![("attribute[region_code]", String::new()), ("address_id", "999999".into())], "address_id"),
            (vec![("service_code", "potholes".into())], "service_code"),
            (vec![("description", "长".repeat(4001))], "description"),
            (vec![("phone", "1".repeat(101))], "phone"),
            (vec![("email", "e".repeat(101))], "email"),
            (vec![("attribute[platform_id]", "999999".into())], "attribute[platform_id]"),
            (vec![("attribute[sector]", "plumbing".into())], "attribute[sector]"),
        ];
        for (extra, field) in cases {
            let (status, body) = bad(extra).await;
            assert_eq!((status, error_of(&body)), (StatusCode::BAD_REQUEST, (400, field.into())), "{body}");
        }
        let n: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM cases").fetch_one(app.db.store.pool()).await.unwrap().get("n");
        assert_eq!(n, 0, "nothing half-written");
        // A revoked key opens nothing.
        let id = app.db.store.open311_clients().await.unwrap()[0].id;
        assert_eq!(bad(vec![]).await.0, StatusCode::CREATED);
        app.db.store.revoke_open311_client(id).await.unwrap();
        let (status, body) = bad(vec![]).await;
        assert_eq!((status, error_of(&body)), (StatusCode::FORBIDDEN, (403, "api_key".into())));
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn filing_has_its_own_quota_and_open311_is_rate_limited() {
    for db in all_backends().await {
        let loose = Quota::per_minute(100_000);
        let limits = RateLimitConfig {
            anonymous: Quota::per_minute(6),
            login: loose,
            public: loose,
            submission: Quota::per_hour(2),
            ..Default::default()
        };
        let app = spawn(db, limits).await;
        let form =
            [("api_key", app.key.as_str()), ("service_code", "other"), ("description", "x"), ("address_id", "440305")];
        assert_eq!(app.post_form(&form).await.0, StatusCode::CREATED);
        // The API's filing counts against the same quota.
        let r = app
            .http
            .post(format!("{}/api/v1/cases", app.base))
            .json(&json!({"category": "other", "region_code": "440305", "description": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = app
            .http
            .post(format!("{}/open311/v2/requests.json", app.base))
            .header("accept-language", "en")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "1800");
        let body: Value = r.json().await.unwrap();
        assert_eq!(error_of(&body).0, 429, "{body}");
        // Reading is not filing: still allowed until the anonymous quota (6 a minute, 3 spent) runs out.
        let statuses: Vec<StatusCode> = {
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(app.get("/open311/v2/services.json").await.0);
            }
            v
        };
        assert_eq!(statuses, [StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_system_administrator_manages_clients_and_keys() {
    for db in all_backends().await {
        let admin = support::token_with_grants(&db.store, "admin", &support::nationwide_cadre_and_admin()).await;
        let cadre = support::token_with_grants(&db.store, "cadre", &support::nationwide_cadre()).await;
        let app = spawn(db, loose()).await;
        let call = |token: &str, method: reqwest::Method, path: &str, body: Option<Value>| {
            let mut r = app
                .http
                .request(method, format!("{}{path}", app.base))
                .bearer_auth(token)
                .header("accept-language", "en");
            if let Some(b) = body {
                r = r.json(&b);
            }
            async move {
                let r = r.send().await.unwrap();
                let status = r.status();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let (status, made) = call(
            &admin,
            reqwest::Method::POST,
            "/api/v1/open311-clients",
            Some(json!({"name": "随手拍", "extended_statuses": true})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let key = made["api_key"].as_str().unwrap().to_owned();
        let id = made["client"]["id"].as_i64().unwrap();
        assert_eq!(made["client"]["extended_statuses"], true);
        let (status, body) =
            call(&admin, reqwest::Method::POST, "/api/v1/open311-clients", Some(json!({"name": ""}))).await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")));
        let (status, list) = call(&admin, reqwest::Method::GET, "/api/v1/open311-clients", None).await;
        assert_eq!((status, list.as_array().unwrap().len()), (StatusCode::OK, 3));
        assert!(!list.to_string().contains(&key), "the key is shown once");
        assert_eq!(call(&cadre, reqwest::Method::GET, "/api/v1/open311-clients", None).await.0, StatusCode::FORBIDDEN);

        let form =
            [("api_key", key.as_str()), ("service_code", "other"), ("description", "x"), ("address_id", "440305")];
        assert_eq!(app.post_form(&form).await.0, StatusCode::CREATED);
        let (status, revoked) =
            call(&admin, reqwest::Method::POST, &format!("/api/v1/open311-clients/{id}/revoke"), None).await;
        assert_eq!(status, StatusCode::OK, "{revoked}");
        assert!(revoked["revoked_at"].is_string() && revoked["last_used_at"].is_string());
        assert_eq!(app.post_form(&form).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            call(&admin, reqwest::Method::POST, "/api/v1/open311-clients/9999/revoke", None).await.0,
            StatusCode::NOT_FOUND
        );
        let audit = app
            .db
            .store
            .search_audit(
                &dangjian_store::audit::AuditFilter { action: Some("open311_client.".into()), ..Default::default() },
                dangjian_store::Paging::default(),
            )
            .await
            .unwrap();
        let logged: BTreeSet<String> = audit.items.iter().map(|a| format!("{}:{}", a.action, a.outcome)).collect();
        for expected in ["open311_client.create:ok", "open311_client.revoke:ok", "open311_client.list:denied"] {
            assert!(logged.contains(expected), "{expected} not in {logged:?}");
        }
        app.db.cleanup().await;
    }
}
