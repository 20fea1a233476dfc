//! Protection of personal data and of the server itself, over the real app: mobile numbers masked for
//! every role and revealed in full only to roles allowed to read personal data, each reveal audited;
//! security headers on pages, API answers and errors; the upload limit; rate limits that answer 429
//! and recover after their window (on a manual clock: nothing sleeps). SQLite always, PostgreSQL too
//! when DANGJIAN_TEST_PG is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::{EntityDraft, InstructorDraft};
use dangjian_security::field_cipher::Keyring;
use dangjian_store::audit::{AuditFilter, AuditRecord};
use dangjian_store::testing::all_backends;
use dangjian_store::{AccessFilter, Paging, Store};
use dangjian_web::auth::ManualClock;
use dangjian_web::{app, AppState, MAX_BODY_BYTES};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

const MOBILE: &str = "13912345678";
const MASKED: &str = "139****5678";

/// A courier platform in 南山区 (440305) with an instructor assigned to it; returns the instructor's id.
async fn seed(store: &Store) -> i64 {
    let all = AccessFilter::unrestricted();
    let site = EntityDraft::parse(&EntityInput {
        uscc: Some("91350100M000100Y43".into()),
        name: Some("示例快递平台".into()),
        kind: Some("platform".into()),
        sectors: vec!["快递".into()],
        region_code: Some("440305".into()),
        workers: Some("30".into()),
        party_members: Some("1".into()),
        ..Default::default()
    })
    .unwrap();
    let site = store.create_entity(&site, &all).await.unwrap();
    let instructor = InstructorDraft::parse(&InstructorInput {
        name: Some("陈静".into()),
        mobile: Some(MOBILE.into()),
        dispatching_org: Some("南山区委社会工作部".into()),
        region_code: Some("440305".into()),
        assignments: vec![AssignmentInput {
            entity_id: Some(site.id),
            start_on: Some("2025-03-01".into()),
            ..Default::default()
        }],
    })
    .unwrap();
    store.create_instructor(&instructor, &all).await.unwrap().id
}

fn cadre_of(path: &str) -> Vec<Grant> {
    vec![Grant { role: Role::DepartmentCadre, scope: Scope::Region { path: path.into() } }]
}

fn courier_regulator() -> Vec<Grant> {
    vec![Grant {
        role: Role::Regulator,
        scope: Scope::SectorInRegion { sector: "courier".into(), path: "/44/".into() },
    }]
}

async fn reveals_of(store: &Store, id: i64) -> Vec<AuditRecord> {
    let f = AuditFilter {
        action: Some("instructor.read_personal".into()),
        object_id: Some(id.to_string()),
        ..Default::default()
    };
    store.search_audit(&f, Paging::default()).await.unwrap().items
}

struct Client {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
}

impl Client {
    fn new(base: &str, cookie: Option<String>) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: base.to_owned(), http, cookie }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let mut r = self.http.get(format!("{}{path}", self.base)).header("accept-language", "en");
        if let Some(c) = &self.cookie {
            r = r.header("cookie", c);
        }
        r.send().await.unwrap()
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut r = self.http.post(format!("{}{path}", self.base)).header("accept-language", "en").form(form);
        if let Some(c) = &self.cookie {
            r = r.header("cookie", c);
        }
        r.send().await.unwrap()
    }
}

fn cache_control(r: &reqwest::Response) -> &str {
    r.headers().get("cache-control").map(|v| v.to_str().unwrap()).unwrap_or_default()
}

#[tokio::test]
async fn mobile_numbers_are_masked_for_every_role_and_revealed_only_to_roles_that_may_read_them() {
    for db in all_backends().await {
        let store = &db.store;
        let id = seed(store).await;
        let cadre = support::sign_in_as(store, "cadre", &cadre_of("/44/4403/")).await;
        let regulator = support::sign_in_as(store, "regulator", &courier_regulator()).await;
        let elsewhere = support::sign_in_as(store, "beijing", &cadre_of("/11/")).await;
        let admin = support::sign_in_as(
            store,
            "sysadmin",
            &[Grant { role: Role::SystemAdmin, scope: Scope::Region { path: "/".into() } }],
        )
        .await;
        let base = support::serve(store.clone()).await;
        let as_cadre = Client::new(&base, Some(cadre.cookie()));
        let as_regulator = Client::new(&base, Some(regulator.cookie()));
        let mobile_path = format!("/api/v1/instructors/{id}/mobile");

        // Reading the record: masked for both, the full number nowhere in the answer.
        for client in [&as_cadre, &as_regulator] {
            let r = client.get(&format!("/api/v1/instructors/{id}")).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(cache_control(&r), "no-store");
            let body = r.text().await.unwrap();
            let json: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["mobile_masked"], MASKED);
            assert!(json.get("mobile").is_none() && !body.contains(MOBILE), "{body}");
            let list = client.get("/api/v1/instructors").await.text().await.unwrap();
            assert!(list.contains(MASKED) && !list.contains(MOBILE), "{list}");
        }

        // The cadre may reveal it: each reveal is audited, and never cached.
        assert!(reveals_of(store, id).await.is_empty());
        for n in 1..=2 {
            let r = as_cadre.get(&mobile_path).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(cache_control(&r), "no-store");
            assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({ "mobile": MOBILE }));
            let audited = reveals_of(store, id).await;
            assert_eq!(audited.len(), n);
            let last = audited.iter().max_by_key(|a| a.id).unwrap();
            assert_eq!(
                (last.actor.as_str(), last.outcome.as_str(), last.object_type.as_deref(), last.detail.as_deref()),
                ("cadre", "ok", Some("instructor"), Some("mobile"))
            );
        }

        // The regulator reads the sector, not personal data: 403, audited as denied. Out of scope: 404.
        let r = as_regulator.get(&mobile_path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body = r.text().await.unwrap();
        assert!(!body.contains(MOBILE), "{body}");
        let denied: Vec<_> = reveals_of(store, id).await.into_iter().filter(|a| a.outcome == "denied").collect();
        assert_eq!(denied.iter().map(|a| a.actor.as_str()).collect::<Vec<_>>(), ["regulator"]);
        assert_eq!(
            Client::new(&base, Some(elsewhere.cookie())).get(&mobile_path).await.status(),
            StatusCode::NOT_FOUND
        );
        let as_admin = Client::new(&base, Some(admin.cookie()));
        assert!(matches!(as_admin.get(&mobile_path).await.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND));
        assert_eq!(Client::new(&base, None).get(&mobile_path).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(reveals_of(store, id).await.iter().filter(|a| a.outcome == "ok").count(), 2);

        // Pages: the masked number everywhere; the button only for the cadre.
        let page = as_cadre.get(&format!("/instructors/{id}")).await;
        assert_eq!(cache_control(&page), "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains(MASKED) && !html.contains(MOBILE), "{html}");
        assert!(html.contains("data-testid=\"reveal-mobile\"") && html.contains("Show full number"), "{html}");
        let html = as_regulator.get(&format!("/instructors/{id}")).await.text().await.unwrap();
        assert!(html.contains(MASKED) && !html.contains(MOBILE), "{html}");
        assert!(!html.contains("reveal-mobile"), "{html}");

        // Revealing on the page takes the form's CSRF token; without it nothing is shown or audited.
        let reveal_page = format!("/instructors/{id}/mobile");
        let forged = as_cadre.post_form(&reveal_page, &[]).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(!forged.text().await.unwrap().contains(MOBILE));
        assert_eq!(reveals_of(store, id).await.iter().filter(|a| a.outcome == "ok").count(), 2);
        let shown = as_cadre.post_form(&reveal_page, &[("csrf_token", &cadre.csrf)]).await;
        assert_eq!(shown.status(), StatusCode::OK);
        assert_eq!(cache_control(&shown), "no-store");
        let html = shown.text().await.unwrap();
        assert!(
            html.contains(&format!("href=\"tel:{MOBILE}\"")) && html.contains("recorded in the audit log"),
            "{html}"
        );
        assert_eq!(reveals_of(store, id).await.iter().filter(|a| a.outcome == "ok").count(), 3);
        let refused = as_regulator.post_form(&reveal_page, &[("csrf_token", &regulator.csrf)]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(!refused.text().await.unwrap().contains(MOBILE));

        // Exports: full for the cadre (it re-imports), masked for the regulator.
        let cadre_csv = as_cadre.get("/api/v1/exports/instructors?format=csv").await;
        assert_eq!(cadre_csv.status(), StatusCode::OK);
        assert_eq!(cache_control(&cadre_csv), "no-store");
        assert!(cadre_csv.text().await.unwrap().contains(MOBILE));
        let regulator_csv = as_regulator.get("/api/v1/exports/instructors?format=csv").await;
        assert_eq!(regulator_csv.status(), StatusCode::OK);
        let csv = regulator_csv.text().await.unwrap();
        assert!(csv.contains(MASKED) && !csv.contains(MOBILE), "{csv}");
        db.cleanup().await;
    }
}

/// The security headers every answer carries, whoever asks and whatever the answer.
fn assert_security_headers(r: &reqwest::Response, what: &str, page: bool) {
    let h = r.headers();
    let get = |name: &str| h.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(get("strict-transport-security"), "max-age=31536000; includeSubDomains", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("referrer-policy"), "same-origin", "{what}");
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{what}: {csp}");
    if page {
        assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), "{what}: {csp}");
    } else {
        assert!(csp.starts_with("default-src 'none'"), "{what}: {csp}");
    }
    assert_eq!(h.get_all("content-security-policy").iter().count(), 1, "{what}: one policy, not two");
}

#[tokio::test]
async fn security_headers_are_on_pages_api_answers_and_errors() {
    for db in all_backends().await {
        seed(&db.store).await;
        let cadre = support::sign_in_as(&db.store, "cadre", &cadre_of("/44/")).await;
        let base = support::serve(db.store.clone()).await;
        let signed_in = Client::new(&base, Some(cadre.cookie()));
        let anonymous = Client::new(&base, None);
        for (client, path, page) in [
            (&signed_in, "/instructors", true),
            (&signed_in, "/entities", true),
            (&signed_in, "/no/such/page", true),
            (&signed_in, "/api/v1/instructors", false),
            (&signed_in, "/api/v1/entities/999999", false),
            (&anonymous, "/api/v1/entities", false),
            (&anonymous, "/healthz", false),
            (&anonymous, "/api/openapi.json", false),
        ] {
            let r = client.get(path).await;
            assert_security_headers(&r, path, page);
            assert_eq!(cache_control(&r), "no-store", "{path}");
        }
        // The anonymous way in is a page too; the stylesheet keeps its own caching.
        let login = anonymous.get("/login").await;
        assert_security_headers(&login, "/login", true);
        let css = anonymous.get("/static/app.css").await;
        assert_eq!(css.status(), StatusCode::OK);
        assert_security_headers(&css, "/static/app.css", false);
        assert_eq!(cache_control(&css), "public, max-age=3600");
        db.cleanup().await;
    }
}

async fn body_json(r: axum::response::Response) -> Value {
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

async fn unit_count(store: &Store) -> i64 {
    store
        .list_entities(&Default::default(), Paging::new(None, Some(1)), &AccessFilter::unrestricted())
        .await
        .unwrap()
        .total
}

#[tokio::test]
async fn an_oversized_upload_gets_413_in_the_error_shape_and_writes_nothing() {
    for db in all_backends().await {
        let cadre = support::sign_in_as(&db.store, "cadre", &cadre_of("/")).await;
        let router = app(AppState::new(db.store.clone(), Keyring::generate()));
        let before = unit_count(&db.store).await;
        let mut csv = b"uscc,site_code,name,kind,sector,parent_uscc,region_code,workers\n".to_vec();
        while csv.len() <= MAX_BODY_BYTES {
            csv.extend_from_slice(b",BIG-0001,Big site,site,courier,,440305,1\n");
        }
        // Announced too large (Content-Length), and too large only once read (no length given).
        for announce in [true, false] {
            let mut req = Request::post("/api/v1/imports/entities")
                .header(header::COOKIE, cadre.cookie())
                .header(header::ACCEPT_LANGUAGE, "en");
            if announce {
                req = req.header(header::CONTENT_LENGTH, csv.len());
            }
            let r = router.clone().oneshot(req.body(Body::from(csv.clone())).unwrap()).await.unwrap();
            assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "announced: {announce}");
            assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            let json = body_json(r).await;
            assert_eq!(json["error"]["code"], "payload_too_large", "{json}");
            assert!(json["error"]["message"].as_str().unwrap().contains("20 MiB"), "{json}");
        }
        assert_eq!(unit_count(&db.store).await, before, "nothing was written");
        db.cleanup().await;
    }
}

fn from(ip: &str, req: axum::http::request::Builder) -> Request<Body> {
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 40000)));
    req
}

async fn status(router: &Router, req: Request<Body>) -> axum::response::Response {
    router.clone().oneshot(req).await.unwrap()
}

#[tokio::test]
async fn rate_limits_answer_429_and_recover_after_their_window() {
    for db in all_backends().await {
        let cadre = support::sign_in_as(&db.store, "cadre", &cadre_of("/")).await;
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let router = app(AppState::with_clock(db.store.clone(), Keyring::generate(), clock.clone()));
        let login = || Request::post("/login").header(header::ACCEPT_LANGUAGE, "en");

        // Ten login attempts a minute per address; the eleventh waits.
        for n in 0..10 {
            let r = status(&router, from("203.0.113.7", login())).await;
            assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS, "attempt {n}");
        }
        let r = status(&router, from("203.0.113.7", login())).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "6");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        // Another address is not held up, and a forged X-Forwarded-For does not help.
        assert_ne!(status(&router, from("203.0.113.8", login())).await.status(), StatusCode::TOO_MANY_REQUESTS);
        let spoofed = login().header("x-forwarded-for", "198.51.100.1");
        assert_eq!(status(&router, from("203.0.113.7", spoofed)).await.status(), StatusCode::TOO_MANY_REQUESTS);

        // Anonymous API calls: 120 a minute, then 429 in the API's error shape.
        let anonymous = || Request::get("/api/v1/entities").header(header::ACCEPT_LANGUAGE, "en");
        for _ in 0..120 {
            assert_eq!(status(&router, from("203.0.113.7", anonymous())).await.status(), StatusCode::UNAUTHORIZED);
        }
        let r = status(&router, from("203.0.113.7", anonymous())).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers().contains_key(header::RETRY_AFTER));
        assert_eq!(body_json(r).await["error"]["code"], "rate_limited");
        // Signed in, the same address goes on.
        let signed_in = Request::get("/api/v1/entities").header(header::COOKIE, cadre.cookie());
        assert_eq!(status(&router, from("203.0.113.7", signed_in)).await.status(), StatusCode::OK);

        // A window later, all is forgiven.
        clock.advance(chrono::Duration::seconds(61));
        assert_ne!(status(&router, from("203.0.113.7", login())).await.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(status(&router, from("203.0.113.7", anonymous())).await.status(), StatusCode::UNAUTHORIZED);
        db.cleanup().await;
    }
}
