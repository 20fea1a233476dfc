//! The application layer holds: the API and the page for the same write go through the same command
//! (and so leave the same audit record, whatever the outcome); a page POST the actor may not make is
//! refused before its body and CSRF token are looked at; and the features registered in
//! `dangjian_web::features()` are what the route table and the navigation are made of. SQLite always,
//! PostgreSQL too when DANGJIAN_TEST_PG is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_store::audit::{AuditFilter, AuditRecord};
use dangjian_store::testing::all_backends;
use dangjian_store::{Paging, Store};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use support::SignedIn;

/// A regulator of couriers nationwide: reads stations, writes nothing, handles no case.
fn regulator() -> Vec<Grant> {
    vec![Grant { role: Role::Regulator, scope: Scope::SectorInRegion { sector: "courier".into(), path: "/".into() } }]
}

fn region(path: &str) -> Vec<Grant> {
    vec![Grant { role: Role::DepartmentCadre, scope: Scope::Region { path: path.into() } }]
}

/// The audit records of `action`, oldest first.
async fn audited(store: &Store, action: &str) -> Vec<AuditRecord> {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    let mut items = store.search_audit(&f, Paging::new(Some(1), Some(500))).await.unwrap().items;
    items.retain(|r| r.action == action);
    items.sort_by_key(|r| r.id);
    items
}

/// What an audit record says, but for when and about which row.
fn said(r: &AuditRecord) -> (String, Option<String>, String, Option<String>) {
    (r.actor.clone(), r.object_type.clone(), r.outcome.clone(), r.detail.clone())
}

fn station_json(code: &str, region_code: &str) -> Value {
    json!({"code": code, "name": "驿站", "operator_department": "区总工会", "address": "某路1号",
           "region_code": region_code, "latitude": "39.92", "longitude": "116.44",
           "amenities": ["toilet"], "opening_hours": "24h", "status": "active"})
}

fn station_form(user: &SignedIn, code: &str, region_code: &str, version: Option<i64>) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("csrf_token", user.csrf.as_str()),
        ("station_code", code),
        ("name", "驿站"),
        ("operator_department", "区总工会"),
        ("address", "某路1号"),
        ("region_code", region_code),
        ("latitude", "39.92"),
        ("longitude", "116.44"),
        ("amenities", "toilet"),
        ("opening_hours", "24h"),
        ("status", "active"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    if let Some(v) = version {
        f.push(("version".into(), v.to_string()));
    }
    f
}

fn client() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn the_page_and_the_api_leave_the_same_audit_record() {
    for db in all_backends().await {
        let base = support::serve(db.store.clone()).await;
        let cadre = support::sign_in_as(&db.store, "cadre", &region("/11/")).await;
        let http = client();
        let api = |m: reqwest::Method, p: &str| http.request(m, format!("{base}{p}")).header("cookie", cadre.cookie());
        let page = |p: &str, form: Vec<(String, String)>| {
            http.post(format!("{base}{p}")).header("cookie", cadre.cookie()).form(&form)
        };

        // A create that goes through.
        let r =
            api(reqwest::Method::POST, "/api/v1/stations").json(&station_json("L-1", "110105")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let api_station: Value = r.json().await.unwrap();
        let r = page("/stations/new", station_form(&cadre, "L-2", "110105", None)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
        // A create the store refuses (an unknown region).
        let r =
            api(reqwest::Method::POST, "/api/v1/stations").json(&station_json("L-3", "119999")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = page("/stations/new", station_form(&cadre, "L-4", "119999", None)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let creates = audited(&db.store, "station.create").await;
        assert_eq!(creates.len(), 4, "{creates:#?}");
        assert_eq!(said(&creates[0]), said(&creates[1]), "a create: API and page alike");
        assert_eq!(said(&creates[0]).2, "ok");
        assert_eq!(said(&creates[2]), said(&creates[3]), "a refused create: API and page alike");
        assert_eq!(said(&creates[2]).2, "failed");

        // An update at a stale version, by each way in.
        let id = api_station["id"].as_i64().unwrap();
        let mut stale = station_json("L-1", "110105");
        stale["version"] = json!(99);
        let r = api(reqwest::Method::PUT, &format!("/api/v1/stations/{id}")).json(&stale).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let r = page(&format!("/stations/{id}/edit"), station_form(&cadre, "L-1", "110105", Some(99)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let updates = audited(&db.store, "station.update").await;
        assert_eq!(updates.len(), 2, "{updates:#?}");
        assert_eq!(said(&updates[0]), said(&updates[1]), "a stale update: API and page alike");
        assert_eq!(updates[0].object_id, updates[1].object_id);
        assert_eq!(said(&updates[0]).3.as_deref(), Some("stale_version"));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_refused_page_post_is_refused_whatever_its_body_and_token() {
    for db in all_backends().await {
        let base = support::serve(db.store.clone()).await;
        let beijing = support::sign_in_as(&db.store, "beijing", &region("/11/")).await;
        let guangdong = support::sign_in_as(&db.store, "guangdong", &region("/44/")).await;
        let regulator = support::sign_in_as(&db.store, "regulator", &regulator()).await;
        let http = client();
        let r = http
            .post(format!("{base}/api/v1/stations"))
            .header("cookie", beijing.cookie())
            .json(&station_json("B-1", "110105"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let broken = |who: &SignedIn, path: String| {
            http.post(format!("{base}{path}"))
                .header("cookie", who.cookie())
                .header("content-type", "multipart/form-data; boundary=XYZ")
                .body("--XYZ\r\nnot a part")
        };

        // May not write at all: 403, and the refusal is the permission's (audited), not the token's.
        let r = broken(&regulator, "/stations/new".into()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let denied = audited(&db.store, "station.create").await;
        assert!(denied.iter().any(|a| a.actor == "regulator" && a.outcome == "denied"), "{denied:#?}");
        // A station outside every scope of the asker: 404, not the 403 of a wrong token or the 400 of a
        // broken body.
        let r = broken(&guangdong, format!("/stations/{id}/edit")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = http
            .post(format!("{base}/stations/{id}/edit"))
            .header("cookie", guangdong.cookie())
            .form(&[("csrf_token", "wrong")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // The same for the case inbox and the administrators' pages.
        let r = broken(&regulator, "/cases/1".into()).send().await.unwrap();
        assert!(matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.status());
        let r = broken(&beijing, "/admin/users".into()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Who may make the POST still needs the right token, and a readable body.
        let r = http
            .post(format!("{base}/stations/{id}/edit"))
            .header("cookie", beijing.cookie())
            .form(&[("csrf_token", "wrong")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = broken(&beijing, format!("/stations/{id}/edit")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_navigation_comes_from_the_feature_registrations() {
    for db in all_backends().await {
        let base = support::serve(db.store.clone()).await;
        let cadre = support::sign_in_as(&db.store, "cadre", &region("/11/")).await;
        let regulator = support::sign_in_as(&db.store, "regulator", &regulator()).await;
        let home = |who: SignedIn| {
            let base = base.clone();
            async move {
                let r = client().get(format!("{base}/")).header("cookie", who.cookie()).send().await.unwrap();
                r.text().await.unwrap()
            }
        };
        let page = home(cadre).await;
        assert!(page.contains("href=\"/stations\"") && page.contains("data-testid=\"nav-cases\""), "{page}");
        // In the order the registrations are listed, each in its group: the registry's links before the
        // import, the inbox after it.
        let at = |href: &str| page.find(&format!("href=\"{href}\"")).unwrap_or(usize::MAX);
        let order = ["/regions", "/entities", "/organizations", "/instructors", "/stations", "/import", "/cases"];
        assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{order:?} in this order: {page}");
        let page = home(regulator).await;
        assert!(page.contains("href=\"/stations\""), "a regulator reads stations");
        assert!(!page.contains("data-testid=\"nav-cases\""), "a regulator handles no cases");
        db.cleanup().await;
    }
}

#[test]
fn every_registered_route_is_in_the_route_table_once() {
    let all = dangjian_web::route_table::all_routes();
    let pages = dangjian_web::pages::page_routes();
    for f in dangjian_web::features() {
        for (m, p) in (f.page_routes)() {
            assert!(all.contains(&((*m).to_owned(), (*p).to_owned())), "{}: {m} {p}", f.name);
            assert_eq!(pages.iter().filter(|r| r == &&(*m, *p)).count(), 1, "{}: {m} {p} declared once", f.name);
        }
        let (_, doc) = (f.api)().split_for_parts();
        for path in doc.paths.paths.keys() {
            assert!(all.iter().any(|(_, p)| p == path), "{}: {path}", f.name);
        }
        assert!(!(f.page_routes)().is_empty() || !doc.paths.paths.is_empty(), "{} serves nothing", f.name);
    }
}

/// The Rust files under `dir`, recursively.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Only the application layer writes to the audit log: no handler, view, extractor, job or
/// command-line command appends a record, builds one (`Actor::audit`), or calls the permission path's audit functions
/// — they call a command of `crates/web/src/app/`, which does. (The store's audit module, which
/// keeps the chain, is another crate; the audit administrator's page only reads through
/// `app::audit_log`.)
#[test]
fn only_the_application_layer_writes_audit_records() {
    const WRITES: [&str; 6] =
        ["append_audit(", "permission::audit", "admin::audit(", "audit_write(", "audit_import(", ".audit("];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let app = root.join("web/src/app");
    let mut files = Vec::new();
    rust_files(&root.join("web/src"), &mut files);
    rust_files(&root.join("cli/src"), &mut files);
    assert!(files.len() > 50, "the source tree was not found from {}", root.display());
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&app)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if let Some(w) = WRITES.iter().find(|w| code.contains(*w)) {
                found.push(format!("{}:{}: {w}", file.strip_prefix(&root).unwrap_or(file).display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "audit records written outside crates/web/src/app/:\n{}", found.join("\n"));
}
