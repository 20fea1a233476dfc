//! Needs and rights cases over HTTP, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: a worker files a
//! case and follows it with no account; errors name their field; text is size-limited; the public
//! endpoints are rate-limited per client address; nothing else under `/api/v1/cases` is public.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{TimeZone, Utc};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::CaseAction;
use dangjian_store::cases::{CaseStep, NotificationKind};
use dangjian_store::testing::{all_backends, TestDb};
use dangjian_store::AccessFilter;
use dangjian_web::auth::ManualClock;
use dangjian_web::rate_limit::{Quota, RateLimitConfig};
use dangjian_web::AppState;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

/// Friday 27 November 2026, 16:00 in China (08:00 UTC).
fn friday() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap()
}

struct App {
    base: String,
    state: AppState,
    clock: Arc<ManualClock>,
    anon: reqwest::Client,
    db: TestDb,
}

async fn spawn(db: TestDb, anonymous_per_minute: u32) -> App {
    db.store.create_department("NS-HR", "南山区人社局", "human_resources", "440305").await.unwrap();
    db.store.create_department("GD-SW", "广东省委社会工作部", "social_work", "44").await.unwrap();
    let clock = Arc::new(ManualClock::new(friday()));
    let loose = Quota::per_minute(100_000);
    let state =
        AppState::with_clock(db.store.clone(), dangjian_security::field_cipher::Keyring::generate(), clock.clone())
            .with_rate_limits(RateLimitConfig {
                anonymous: Quota::per_minute(anonymous_per_minute),
                login: loose,
                public: loose,
                ..Default::default()
            });
    let base = support::serve_state(state.clone()).await;
    App { base, state, clock, anon: reqwest::Client::new(), db }
}

/// One grant of `role` over the region subtree at `path`.
fn region_grant(role: dangjian_domain::access::Role, path: &str) -> Vec<dangjian_domain::access::Grant> {
    vec![dangjian_domain::access::Grant { role, scope: dangjian_domain::access::Scope::Region { path: path.into() } }]
}

impl App {
    /// A request with an API token: the status and the JSON body (null when there is none).
    async fn call(&self, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut r = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("accept-language", "en");
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.anon.get(format!("{}{path}", self.base)).header("accept-language", "en").send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .anon
            .post(format!("{}{path}", self.base))
            .header("accept-language", "en")
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn a_worker_files_and_follows_a_case_without_an_account() {
    for db in all_backends().await {
        let app = spawn(db, 1_000).await;
        let (status, body) = app
            .post(
                "/api/v1/cases",
                &json!({"category": "wage_arrears", "sector": "courier", "region_code": "440305",
                        "description": "三个月工资未发", "contact": "13812341234"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["department_name"], "南山区人社局");
        assert_eq!(body["ack_due"], "2026-11-30T16:00:00Z");
        let code = body["tracking_code"].as_str().unwrap().to_owned();
        let id = body["id"].as_i64().unwrap();

        let (status, seen) = app.get(&format!("/api/v1/cases/track/{}", code.to_lowercase())).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["status"], "submitted");
        assert_eq!(seen["contact"], "138****1234");
        assert!(!seen.to_string().contains("13812341234"));

        // A cadre resolves it (store-level: the inbox API is not built yet); the worker sees it.
        let g = AccessFilter::new([dangjian_domain::access::Scope::Region { path: "/44/".into() }]);
        let v = app.db.store.case(id, &g, dangjian_store::Disclosure::Masked).await.unwrap().version;
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap();
        app.db
            .store
            .act_on_case(
                id,
                v,
                &CaseStep::new(CaseAction::Note).note("内部备注", false),
                "cadre",
                &g,
                &CaseSettings::default(),
                at,
            )
            .await
            .unwrap();
        app.db
            .store
            .act_on_case(
                id,
                v + 1,
                &CaseStep::new(CaseAction::Resolve).note("已补发", true),
                "cadre",
                &g,
                &CaseSettings::default(),
                at,
            )
            .await
            .unwrap();
        let (_, seen) = app.get(&format!("/api/v1/cases/track/{code}")).await;
        assert_eq!(seen["status"], "resolved");
        assert!(seen.to_string().contains("已补发") && !seen.to_string().contains("内部备注"), "{seen}");

        // The worker rates it with no account; a bad rating or action names its field.
        let path = format!("/api/v1/cases/track/{code}/actions");
        let (status, body) = app.post(&path, &json!({"action": "rate", "rating": 6})).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("rating")),
            "{body}"
        );
        let (status, body) = app.post(&path, &json!({"action": "resolve"})).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("action")),
            "{body}"
        );
        let (status, rated) = app.post(&path, &json!({"action": "rate", "rating": 5})).await;
        assert_eq!(status, StatusCode::OK, "{rated}");
        assert_eq!((rated["status"].as_str(), rated["rating"].as_i64()), (Some("closed"), Some(5)));
        let (status, body) = app.post(&path, &json!({"action": "add_info", "note": "谢谢"})).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("action")),
            "{body}"
        );

        // Anonymous: a contact sent anyway is dropped.
        let (status, anon) = app
            .post(
                "/api/v1/cases",
                &json!({"category": "other", "region_code": "440305", "description": "x", "contact": "13900000000", "anonymous": true}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{anon}");
        assert_eq!(anon["department_name"], "广东省委社会工作部");
        let (_, seen) = app.get(&format!("/api/v1/cases/track/{}", anon["tracking_code"].as_str().unwrap())).await;
        assert_eq!(seen["contact"], Value::Null);
        let (status, seen) = app
            .post(
                &format!("/api/v1/cases/track/{}/actions", anon["tracking_code"].as_str().unwrap()),
                &json!({"action": "add_info", "note": "地点：科技园"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert!(seen["events"].to_string().contains("地点：科技园"));

        // Unknown and mistyped codes.
        let (status, _) = app.get("/api/v1/cases/track/0000-00000").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = app.get("/api/v1/cases/track/nonsense").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["field"], "code");
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn errors_name_the_field_and_text_is_limited() {
    for db in all_backends().await {
        let app = spawn(db, 1_000).await;
        let (status, body) = app.post("/api/v1/cases", &json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let fields: Vec<&str> =
            body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["category", "region_code", "description"]);
        let long = "长".repeat(4001);
        let (status, body) =
            app.post("/api/v1/cases", &json!({"category": "nope", "region_code": "440305", "description": long})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let fields: Vec<&str> =
            body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["category", "description"]);
        let (status, body) = app
            .post(
                "/api/v1/cases",
                &json!({"category": "other", "region_code": "440305", "description": "x", "contact": "1".repeat(101)}),
            )
            .await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("contact")));
        let (status, body) = app
            .post(
                "/api/v1/cases",
                &json!({"category": "other", "region_code": "440305", "description": "x", "platform_id": 999_999}),
            )
            .await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("platform_id")));
        let (status, body) =
            app.post("/api/v1/cases", &json!({"category": "other", "region_code": "999999", "description": "x"})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("region_code")));
        // Nothing else under /api/v1/cases is public.
        let (status, _) = app.get("/api/v1/cases").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn public_case_endpoints_are_rate_limited_per_client() {
    for db in all_backends().await {
        let app = spawn(db, 3).await;
        let body = json!({"category": "other", "region_code": "440305", "description": "x"});
        for _ in 0..3 {
            assert_eq!(app.post("/api/v1/cases", &body).await.0, StatusCode::CREATED);
        }
        assert_eq!(app.post("/api/v1/cases", &body).await.0, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(app.get("/api/v1/cases/track/0000-00000").await.0, StatusCode::TOO_MANY_REQUESTS);
        app.db.cleanup().await;
    }
}

/// One run of the deadline job: (escalated, closed unrated, erased).
async fn tick(app: &App) -> (usize, usize, u64) {
    let run = dangjian_web::app::cases::deadline_tick(&app.state).await.unwrap();
    (run.escalated.len(), run.auto_closed.len(), run.erased)
}

async fn audited(app: &App, action: &str) -> i64 {
    let filter = dangjian_store::audit::AuditFilter { action: Some(action.into()), ..Default::default() };
    app.db.store.search_audit(&filter, dangjian_store::Paging::default()).await.unwrap().total
}

#[tokio::test]
async fn the_deadline_job_escalates_closes_and_erases_by_the_clock_and_the_settings() {
    for db in all_backends().await {
        db.store.create_department("SZ-HR", "深圳市人社局", "human_resources", "4403").await.unwrap();
        let app = spawn(db, 1_000).await;
        let settings = CaseSettings { retention_days: 60, auto_close_days: 15, ..CaseSettings::default() };
        app.db.store.set_case_settings(&settings, None).await.unwrap();
        let (_, filed) = app
            .post(
                "/api/v1/cases",
                &json!({"category": "wage_arrears", "region_code": "440305", "description": "欠薪",
                "contact": "13812341234"}),
            )
            .await;
        let code = filed["tracking_code"].as_str().unwrap().to_owned();
        assert_eq!(tick(&app).await, (0, 0, 0));
        // Due at the end of Monday (China time); Tuesday it moves to the city, and both departments hear.
        app.clock.advance(chrono::Duration::days(4));
        assert_eq!(tick(&app).await, (1, 0, 0));
        assert_eq!(tick(&app).await, (0, 0, 0));
        let (_, seen) = app.get(&format!("/api/v1/cases/track/{code}")).await;
        assert_eq!(seen["department_name"], "深圳市人社局");
        assert_eq!(audited(&app, "case.escalate").await, 1);
        let g = AccessFilter::new([dangjian_domain::access::Scope::Region { path: "/44/".into() }]);
        let (notes, unread) = app.db.store.case_notifications(&g, true, 10).await.unwrap();
        assert_eq!(unread, 2);
        assert_eq!(
            notes.iter().map(|n| (n.kind, n.department_name.as_str())).collect::<Vec<_>>(),
            [(NotificationKind::EscalatedOut, "南山区人社局"), (NotificationKind::EscalatedIn, "深圳市人社局")]
        );
        // Resolved and never rated: closed after the configured 15 days (audited), then kept for the
        // configured 60 days, then erased (statistics kept).
        let id = filed["id"].as_i64().unwrap();
        let v = app.db.store.case(id, &g, dangjian_store::Disclosure::Masked).await.unwrap().version;
        let step = CaseStep::new(CaseAction::Resolve);
        app.db.store.act_on_case(id, v, &step, "cadre", &g, &settings, app.state.clock.now()).await.unwrap();
        app.clock.advance(chrono::Duration::days(14));
        assert_eq!(tick(&app).await, (0, 0, 0));
        app.clock.advance(chrono::Duration::days(2));
        assert_eq!(tick(&app).await, (0, 1, 0));
        assert_eq!(audited(&app, "case.auto_close").await, 1);
        let (_, seen) = app.get(&format!("/api/v1/cases/track/{code}")).await;
        assert_eq!((seen["status"].as_str(), seen["rating"].as_i64()), (Some("closed"), None));
        app.clock.advance(chrono::Duration::days(59));
        assert_eq!(tick(&app).await, (0, 0, 0));
        app.clock.advance(chrono::Duration::days(2));
        assert_eq!(tick(&app).await, (0, 0, 1));
        let (_, seen) = app.get(&format!("/api/v1/cases/track/{code}")).await;
        assert_eq!((seen["description"].as_str(), seen["contact"].as_str()), (Some(""), None));
        assert_eq!(seen["category"], "wage_arrears");
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_cadre_handles_cases_in_the_inbox() {
    for db in all_backends().await {
        let guangdong = region_grant(dangjian_domain::access::Role::DepartmentCadre, "/44/");
        let token = support::token_with_grants(&db.store, "cadre", &guangdong).await;
        let app = spawn(db, 1_000).await;
        let (api, token) = (&app, &token);
        let call = |method: reqwest::Method, path: String, body: Option<Value>| async move {
            api.call(token, method, &path, body).await
        };
        let (_, filed) = app
            .post(
                "/api/v1/cases",
                &json!({"category": "wage_arrears", "region_code": "440305", "description": "欠薪", "contact": "13812341234"}),
            )
            .await;
        let id = filed["id"].as_i64().unwrap();
        let (status, list) = call(reqwest::Method::GET, "/api/v1/cases?status=submitted".into(), None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["meta"]["total"], 1);
        assert_eq!(list["items"][0]["contact"], "138****1234");
        let (status, body) = call(reqwest::Method::GET, "/api/v1/cases?status=lost".into(), None).await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("status")));
        for (query, field) in [("category=nope", "category"), ("overdue=maybe", "overdue")] {
            let (status, body) = call(reqwest::Method::GET, format!("/api/v1/cases?{query}"), None).await;
            assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)));
        }
        let (_, list) =
            call(reqwest::Method::GET, "/api/v1/cases?category=wage_arrears&overdue=false".into(), None).await;
        assert_eq!(list["meta"]["total"], 1);
        let (_, list) = call(reqwest::Method::GET, "/api/v1/cases?overdue=true".into(), None).await;
        assert_eq!(list["meta"]["total"], 0);

        let act = |version: i64, extra: Value| {
            let mut body = json!({"version": version});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            call(reqwest::Method::POST, format!("/api/v1/cases/{id}/actions"), Some(body))
        };
        let (status, c) = act(1, json!({"action": "acknowledge"})).await;
        assert_eq!(status, StatusCode::OK, "{c}");
        let (status, c) = act(c["version"].as_i64().unwrap(), json!({"action": "note", "note": "内部：待核实"})).await;
        assert_eq!(status, StatusCode::OK, "{c}");
        let (status, body) = act(1, json!({"action": "resolve"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, body) = act(c["version"].as_i64().unwrap(), json!({"action": "fly"})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("action")));
        let (status, c) =
            act(c["version"].as_i64().unwrap(), json!({"action": "resolve", "note": "已补发", "public": true})).await;
        assert_eq!(status, StatusCode::OK, "{c}");
        assert_eq!(c["status"], "resolved");

        let (_, full) = call(reqwest::Method::GET, format!("/api/v1/cases/{id}"), None).await;
        let actions: Vec<&str> =
            full["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["submit", "acknowledge", "note", "resolve"]);
        assert!(full.to_string().contains("内部：待核实") && !full.to_string().contains("13812341234"));
        let (status, contact) = call(reqwest::Method::GET, format!("/api/v1/cases/{id}/contact"), None).await;
        assert_eq!((status, contact["contact"].as_str()), (StatusCode::OK, Some("13812341234")));
        let audit = app
            .db
            .store
            .search_audit(
                &dangjian_store::audit::AuditFilter { action: Some("case.".into()), ..Default::default() },
                dangjian_store::Paging::default(),
            )
            .await
            .unwrap();
        let logged: Vec<String> = audit.items.iter().map(|a| a.action.clone()).collect();
        assert!(
            logged.contains(&"case.read_contact".to_owned()) && logged.contains(&"case.resolve".to_owned()),
            "{logged:?}"
        );
        // The worker never sees the internal note.
        let (_, seen) = app.get(&format!("/api/v1/cases/track/{}", filed["tracking_code"].as_str().unwrap())).await;
        assert!(!seen.to_string().contains("内部"));
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_administrator_edits_departments_and_the_routing_table() {
    for db in all_backends().await {
        let admin = support::token_with_grants(&db.store, "admin", &support::nationwide_cadre_and_admin()).await;
        let app = spawn(db, 1_000).await;
        let http = reqwest::Client::new();
        let admin = &admin;
        let send = |r: reqwest::RequestBuilder| async move {
            let r = r.bearer_auth(admin).header("accept-language", "en").send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        };
        let (status, cats) = app.get("/api/v1/case-categories").await;
        assert_eq!((status, cats.as_array().unwrap().len()), (StatusCode::OK, 9));
        let (status, rules) = send(http.get(format!("{}/api/v1/routing-rules", app.base))).await;
        assert_eq!((status, rules.as_array().unwrap().len()), (StatusCode::OK, 10));
        let (status, body) = send(
            http.post(format!("{}/api/v1/departments", app.base)).json(&json!({"code": "NS-POST", "kind": "postal"})),
        )
        .await;
        let fields: Vec<&str> =
            body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!((status, fields), (StatusCode::UNPROCESSABLE_ENTITY, vec!["name", "region_code"]));
        let (status, d) =
            send(http.post(format!("{}/api/v1/departments", app.base)).json(
                &json!({"code": "NS-POST", "name": "南山区邮政管理局", "kind": "postal", "region_code": "440305"}),
            ))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{d}");
        // Everything to the postal administration.
        let (status, rules) =
            send(http.put(format!("{}/api/v1/routing-rules", app.base)).json(&json!([{"department_kind": "postal"}])))
                .await;
        assert_eq!((status, rules.as_array().unwrap().len()), (StatusCode::OK, 1), "{rules}");
        let (status, body) =
            send(http.put(format!("{}/api/v1/routing-rules", app.base)).json(&json!([{"department_kind": "police"}])))
                .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("department_kind"))
        );
        let (_, filed) = app
            .post("/api/v1/cases", &json!({"category": "wage_arrears", "region_code": "440305001", "description": "x"}))
            .await;
        assert_eq!(filed["department_name"], "南山区邮政管理局");
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn administrators_configure_the_case_rules_and_cadres_read_their_notifications() {
    for db in all_backends().await {
        let admin = region_grant(dangjian_domain::access::Role::SystemAdmin, "/");
        let guangdong = region_grant(dangjian_domain::access::Role::DepartmentCadre, "/44/");
        let admin = support::token_with_grants(&db.store, "sysadmin", &admin).await;
        let cadre = support::token_with_grants(&db.store, "cadre", &guangdong).await;
        let app = spawn(db, 1_000).await;
        let api = &app;
        let call = |token: &str, method: reqwest::Method, path: &str, body: Option<Value>| {
            let (token, path) = (token.to_owned(), path.to_owned());
            async move { api.call(&token, method, &path, body).await }
        };
        let (status, mut settings) = call(&admin, reqwest::Method::GET, "/api/v1/case-settings", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(settings["retention_days"], 365);
        // A bad value is refused, naming the field, and nothing changes.
        settings["categories"][2]["ack_days"] = json!(0);
        let (status, body) = call(&admin, reqwest::Method::PUT, "/api/v1/case-settings", Some(settings.clone())).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("categories[2].ack_days"))
        );
        // A new category and a holiday take effect at once, for the public form too.
        settings["categories"][2]["ack_days"] = json!(2);
        settings["categories"].as_array_mut().unwrap().push(json!({"code": "platform_fees", "name_zh": "平台收费",
            "name_en": "Platform fees", "ack_days": 1, "resolve_days": 5}));
        settings["calendar"]["holidays"] = json!(["2026-11-30"]);
        let (status, saved) = call(&admin, reqwest::Method::PUT, "/api/v1/case-settings", Some(settings)).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        // Only the system administrator changes them.
        let (status, _) = call(&cadre, reqwest::Method::PUT, "/api/v1/case-settings", Some(saved)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, categories) = app.get("/api/v1/case-categories").await;
        assert_eq!(categories.as_array().unwrap().last().unwrap()["code"], "platform_fees");
        let (status, filed) = app
            .post(
                "/api/v1/cases",
                &json!({"category": "platform_fees", "region_code": "440305", "description": "乱收费"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{filed}");
        // Friday + 1 working day, Monday a holiday: the end of Tuesday.
        assert_eq!(filed["ack_due"], "2026-12-01T16:00:00Z");

        // The worker adds information: the handling department (Guangdong social work, the catch-all) is told, and marks it read.
        let code = filed["tracking_code"].as_str().unwrap();
        let (status, _) = app
            .post(&format!("/api/v1/cases/track/{code}/actions"), &json!({"action": "add_info", "note": "工资条"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, list) = call(&cadre, reqwest::Method::GET, "/api/v1/case-notifications?unread=true", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((list["unread"].as_i64(), list["items"][0]["kind"].as_str()), (Some(1), Some("worker_info")));
        assert_eq!(list["items"][0]["tracking_code"].as_str(), Some(code));
        let id = list["items"][0]["id"].as_i64().unwrap();
        let (status, _) =
            call(&cadre, reqwest::Method::POST, &format!("/api/v1/case-notifications/{id}/read"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, list) = call(&cadre, reqwest::Method::GET, "/api/v1/case-notifications?unread=true", None).await;
        assert_eq!((list["unread"].as_i64(), list["items"].as_array().map(Vec::len)), (Some(0), Some(0)));
        let (status, body) = call(&cadre, reqwest::Method::GET, "/api/v1/case-notifications?unread=maybe", None).await;
        assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("unread")));
        app.db.cleanup().await;
    }
}

/// A phone page's form post without an account (the double-submit CSRF cookie and field).
async fn post_form(app: &App, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf_token", "phone-csrf"));
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{path}", app.base))
        .header("cookie", "dj_csrf=phone-csrf")
        .header("accept-language", "en")
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    (status, r.text().await.unwrap(), location)
}

#[tokio::test]
async fn the_phone_pages_file_and_follow_a_case_and_name_every_bad_field() {
    for db in all_backends().await {
        let app = spawn(db, 1_000).await;
        // The form offers the configured categories and says the location is not recorded.
        let page = app.anon.get(format!("{}/report", app.base)).header("accept-language", "en").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers().get("set-cookie").is_some_and(|c| c.to_str().unwrap().starts_with("dj_csrf=")));
        let html = page.text().await.unwrap();
        assert!(html.contains("value=\"wage_arrears\"") && html.contains("do not record your location"), "{html}");
        // Nothing given: each required field is named next to its input.
        let (status, html, _) = post_form(&app, "/report", &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        for id in ["e-category", "e-district", "e-description"] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
        }
        // A place that does not exist, and a category that does not.
        let (status, html, _) =
            post_form(&app, "/report", &[("category", "nope"), ("district", "不存在区"), ("description", "x")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("id=\"e-district\"") && html.contains("id=\"e-category\""), "{html}");
        // 南山区 is in more than one city: the page asks which, then files the case (anonymous: the
        // contact is dropped) and goes to its page.
        let mut fields = vec![
            ("category", "wage_arrears"),
            ("district", "南山区"),
            ("description", "三个月工资未发"),
            ("contact", "13812341234"),
            ("anonymous", "1"),
        ];
        let (status, html, _) = post_form(&app, "/report", &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("value=\"440305\"") && html.contains("广东省深圳市南山区"), "{html}");
        fields.push(("region_code", "440305"));
        let (status, html, location) = post_form(&app, "/report", &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        let location = location.unwrap();
        let code = location.strip_prefix("/track/").unwrap().split('?').next().unwrap().to_owned();
        let (_, seen) = app.get(&format!("/api/v1/cases/track/{code}")).await;
        assert_eq!((seen["region_code"].as_str(), seen["contact"].as_str()), (Some("440305"), None));
        let page =
            app.anon.get(format!("{}{location}", app.base)).header("accept-language", "en").send().await.unwrap();
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains(&code) && html.contains("Reported. Keep the tracking code"), "{html}");
        // Rating before resolution, or out of range, is refused with the reason on the page.
        let (status, html, _) =
            post_form(&app, &format!("/track/{code}"), &[("action", "rate"), ("rating", "9")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        let (status, _, location) =
            post_form(&app, &format!("/track/{code}"), &[("action", "add_info"), ("note", "补充工资条")]).await;
        assert_eq!(
            (status, location.as_deref()),
            (StatusCode::SEE_OTHER, Some(format!("/track/{code}?done=add_info").as_str()))
        );
        // A typed code is tidied; a malformed one is explained; an unknown one is not found.
        let lookup = |q: String| {
            let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let url = format!("{}/track?code={q}", app.base);
            async move { client.get(url).send().await.unwrap() }
        };
        let r = lookup(code.to_lowercase().replace('-', " ")).await;
        assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/track/{code}"));
        assert_eq!(lookup("12".into()).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = app.anon.get(format!("{}/track/ZZZZ-ZZZZZ", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // Without the CSRF pair a post is refused.
        let r = app.anon.post(format!("{}/report", app.base)).form(&[("category", "other")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_system_administrator_edits_the_case_rules_and_the_routing_on_a_page() {
    for db in all_backends().await {
        let admin = region_grant(dangjian_domain::access::Role::SystemAdmin, "/");
        let signed = support::sign_in_as(&db.store, "sysadmin", &admin).await;
        let app = spawn(db, 1_000).await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client
            .get(format!("{}/admin/case-settings", app.base))
            .header("cookie", signed.cookie_with_lang("en"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("value=\"wage_arrears\"") && html.contains("value=\"365\""), "{html}");
        let csrf: &str = &signed.csrf;
        let post = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
            let mut fields: Vec<(&str, &str)> = fields;
            fields.push(("csrf_token", csrf));
            let r = client
                .post(format!("{}{path}", app.base))
                .header("cookie", signed.cookie_with_lang("en"))
                .form(&fields)
                .send();
            async move {
                let r = r.await.unwrap();
                (r.status(), r.text().await.unwrap())
            }
        };
        let category = |ack: &'static str| {
            vec![
                ("cat_code", "wage_arrears"),
                ("cat_name_zh", "欠薪"),
                ("cat_name_en", "Wage arrears"),
                ("cat_ack_days", ack),
                ("cat_resolve_days", "10"),
                ("cat_code", "platform_fees"),
                ("cat_name_zh", "平台收费"),
                ("cat_name_en", "Platform fees"),
                ("cat_ack_days", "2"),
                ("cat_resolve_days", "8"),
                ("holidays", "2026-12-31\n2027-01-01"),
                ("retention_days", "90"),
                ("auto_close_days", "10"),
            ]
        };
        // A cell that is not a number: shown at its cell, nothing saved.
        let (status, html) = post("/admin/case-settings", category("two")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("href=\"#f-categories[0].ack_days\""), "{html}");
        assert_eq!(app.db.store.case_settings().await.unwrap(), CaseSettings::default());
        let (status, _) = post("/admin/case-settings", category("1")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let saved = app.db.store.case_settings().await.unwrap();
        let codes: Vec<&str> = saved.categories.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            (codes, saved.retention_days, saved.calendar.holidays.len()),
            (vec!["wage_arrears", "platform_fees"], 90, 2)
        );
        assert_eq!(audited(&app, "case_settings.update").await, 1);
        // The routing table: a line without a department kind is refused; a good table is saved.
        let (status, html) = post(
            "/admin/case-routing",
            vec![("rule_category", "wage_arrears"), ("rule_kind", ""), ("rule_level", "county")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("href=\"#f-rules[0].department_kind\""), "{html}");
        let (status, _) = post(
            "/admin/case-routing",
            vec![
                ("rule_category", "wage_arrears"),
                ("rule_sector", ""),
                ("rule_level", ""),
                ("rule_kind", "human_resources"),
                ("rule_category", ""),
                ("rule_sector", ""),
                ("rule_level", ""),
                ("rule_kind", "social_work"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let table = app.db.store.routing_table().await.unwrap();
        assert_eq!(table.len(), 2);
        assert_eq!(
            (table[0].category.as_deref(), table[1].department_kind.as_str()),
            (Some("wage_arrears"), "social_work")
        );
        assert_eq!(audited(&app, "routing.update").await, 1);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_inbox_pages_show_a_case_at_every_stage_in_both_languages() {
    for db in all_backends().await {
        db.store.create_department("SZ-HR", "深圳市人社局", "human_resources", "4403").await.unwrap();
        let cadre = region_grant(dangjian_domain::access::Role::DepartmentCadre, "/44/");
        let cadre_id = support::user_with_grants(&db.store, "gd-cadre", &cadre).await;
        let app = spawn(db, 1_000).await;
        let file = |contact: Option<&str>| {
            let mut body = json!({"category": "wage_arrears", "sector": "courier", "region_code": "440305",
                "description": "欠薪\n第二行"});
            match contact {
                Some(c) => body["contact"] = json!(c),
                None => body["anonymous"] = json!(true),
            }
            let app = &app;
            async move { app.post("/api/v1/cases", &body).await.1["id"].as_i64().unwrap() }
        };
        let (open, acknowledged, resolved, closed, erased) =
            (file(Some("13812341234")).await, file(None).await, file(None).await, file(None).await, file(None).await);
        let g = AccessFilter::new([dangjian_domain::access::Scope::Region { path: "/44/".into() }]);
        let settings = CaseSettings::default();
        let step = |id: i64, action: CaseAction| {
            let (g, settings, app) = (&g, &settings, &app);
            async move {
                let v = app.db.store.case(id, g, dangjian_store::Disclosure::Masked).await.unwrap().version;
                let s = CaseStep::new(action).note("内部核实", false);
                app.db.store.act_on_case(id, v, &s, "cadre", g, settings, app.state.clock.now()).await.unwrap();
            }
        };
        step(acknowledged, CaseAction::Acknowledge).await;
        for id in [closed, erased] {
            step(id, CaseAction::Resolve).await;
        }
        for id in [closed, erased] {
            let code = app.db.store.case(id, &g, dangjian_store::Disclosure::Masked).await.unwrap().tracking_code;
            let path = format!("/api/v1/cases/track/{code}/actions");
            assert_eq!(app.post(&path, &json!({"action": "rate", "rating": 2})).await.0, StatusCode::OK);
        }
        // Days pass: `open` and `resolved` (still waiting) escalate to the city, both departments notified;
        // then `erased` is erased.
        app.clock.advance(chrono::Duration::days(4));
        assert_eq!(tick(&app).await.0, 2);
        app.clock.advance(chrono::Duration::days(400));
        tick(&app).await;
        // Resolved only now, so that it is not closed unrated yet.
        step(resolved, CaseAction::Resolve).await;
        // Signed in now, by the app's clock.
        let signed = support::session_at(&app.db.store, cadre_id, "gd-cadre", app.state.clock.now()).await;
        let page = |path: String, lang: &'static str| {
            let r = reqwest::Client::new()
                .get(format!("{}{path}", app.base))
                .header("cookie", signed.cookie_with_lang(lang));
            async move {
                let r = r.send().await.unwrap();
                (r.status(), r.text().await.unwrap())
            }
        };
        for lang in ["zh-CN", "en"] {
            let (status, html) = page("/cases".into(), lang).await;
            assert_eq!(status, StatusCode::OK, "{html}");
            assert!(html.contains("data-testid=\"mark-read\""), "notifications listed: {html}");
            for (id, shows) in [
                (open, "data-testid=\"reveal-contact\""),
                (acknowledged, "data-testid=\"step-resolve\""),
                (resolved, "data-testid=\"step-reopen\""),
                (closed, "data-testid=\"status\""),
                (erased, "data-testid=\"description\""),
            ] {
                let (status, html) = page(format!("/cases/{id}"), lang).await;
                assert_eq!(status, StatusCode::OK, "case {id} in {lang}: {html}");
                assert!(html.contains(shows), "case {id} in {lang} lacks {shows}");
            }
            let (status, html) = page("/cases?overdue=true&category=wage_arrears&status=submitted".into(), lang).await;
            assert_eq!(status, StatusCode::OK, "{html}");
            let (status, _) = page("/cases?overdue=maybe".into(), lang).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
        // The erased case keeps its figures but shows no text, and the closed one no steps.
        let (_, html) = page(format!("/cases/{erased}"), "en").await;
        assert!(!html.contains("第二行") && !html.contains("内部核实"), "{html}");
        let (_, html) = page(format!("/cases/{closed}"), "en").await;
        assert!(!html.contains("data-testid=\"steps\""));
        app.db.cleanup().await;
    }
}
