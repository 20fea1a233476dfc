//! Worker stations over HTTP, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: the public finder
//! (parameters, results against the brute-force oracle, China time, privacy, rate limits), the managed
//! API and the import of stations with located errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{TimeZone, Utc};
use dangjian_domain::services::finder::{brute_force_nearest, FinderQuery, FinderStation};
use dangjian_domain::services::stations::{Amenity, AmenitySet, LatLng, StationDraft, StationInput};
use dangjian_store::audit::AuditFilter;
use dangjian_store::testing::{all_backends, TestDb};
use dangjian_store::{AccessFilter, Paging, Store};
use dangjian_web::auth::ManualClock;
use dangjian_web::rate_limit::{Quota, RateLimitConfig};
use dangjian_web::AppState;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Everything any test of this binary logs, at every level (the privacy test reads it).
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

/// Friday 27 November 2026, 12:00 in China (04:00 UTC).
fn friday_noon() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 4, 0, 0).unwrap()
}

struct App {
    base: String,
    /// Signed in as a nationwide cadre (the API token).
    http: reqwest::Client,
    anon: reqwest::Client,
    db: TestDb,
}

async fn spawn(db: TestDb, anonymous_per_minute: u32) -> App {
    let token = support::token_with_grants(&db.store, "stations test", &support::nationwide_cadre()).await;
    let clock = Arc::new(ManualClock::new(friday_noon()));
    let loose = Quota::per_minute(100_000);
    let state = AppState::with_clock(db.store.clone(), dangjian_security::field_cipher::Keyring::generate(), clock)
        .with_rate_limits(RateLimitConfig {
            anonymous: Quota::per_minute(anonymous_per_minute),
            login: loose,
            public: loose,
            ..Default::default()
        });
    let base = support::serve_state(state).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    headers.insert("accept-language", "en".parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    App { base, http, anon: reqwest::Client::new(), db }
}

impl App {
    async fn anon_get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.anon.get(format!("{}{path}", self.base)).header("accept-language", "en").send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn station(code: &str, lat: f64, lng: f64, amenities: &[&str], hours: &str) -> StationInput {
    StationInput {
        code: Some(code.into()),
        name: Some(format!("驿站{code}")),
        operator_department: Some("区总工会".into()),
        address: Some("某路1号".into()),
        region_code: Some("110105".into()),
        latitude: Some(lat.to_string()),
        longitude: Some(lng.to_string()),
        amenities: amenities.iter().map(|a| (*a).to_owned()).collect(),
        opening_hours: Some(hours.into()),
        ..Default::default()
    }
}

async fn audit_count(store: &Store) -> i64 {
    store.search_audit(&AuditFilter::default(), Paging::new(None, Some(1))).await.unwrap().total
}

#[tokio::test]
async fn bad_finder_parameters_are_400s_naming_the_field() {
    for db in all_backends().await {
        let app = spawn(db, 1_000).await;
        let cases = [
            ("", "lat"),
            ("?lat=abc&lng=116.4", "lat"),
            ("?lat=39.9&lng=181", "lng"),
            ("?lat=39.9&lng=116.4&limit=0", "limit"),
            ("?lat=39.9&lng=116.4&limit=x", "limit"),
            ("?lat=39.9&lng=116.4&amenity=wifi", "amenity"),
            ("?lat=39.9&lng=116.4&open_now=perhaps", "open_now"),
        ];
        for (q, field) in cases {
            let (status, body) = app.anon_get(&format!("/api/v1/stations/nearest{q}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
            assert_eq!(body["error"]["code"], "invalid_parameter", "{q}");
            assert_eq!(body["error"]["field"], field, "{q}: {body}");
        }
        let (_, both) = app.anon_get("/api/v1/stations/nearest?lng=x&limit=99").await;
        let fields: Vec<&str> =
            both["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["lat", "lng", "limit"]);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_public_finder_equals_the_oracle_at_china_time() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for db in all_backends().await {
        let hours = ["24h", "周一至周五 09:00-11:00", "周五 11:30-12:30", "周六 10:00-16:00", "Mon-Sun 20:00-04:00"];
        let rows: Vec<(usize, StationDraft)> = (0..2_000)
            .map(|i| {
                let amenities: Vec<&str> =
                    Amenity::ALL.iter().filter(|_| rng.random_bool(0.5)).map(|a| a.as_str()).collect();
                let h = hours[rng.random_range(0..hours.len())];
                let inp = station(
                    &format!("S{i}"),
                    rng.random_range(20.0..45.0),
                    rng.random_range(100.0..122.0),
                    &amenities,
                    h,
                );
                (i + 2, StationDraft::parse(&inp).unwrap())
            })
            .collect();
        db.store.import_stations(&rows, false, &AccessFilter::unrestricted()).await.unwrap();
        let all: Vec<Arc<FinderStation>> =
            db.store.finder_stations().await.unwrap().into_iter().map(Arc::new).collect();
        let app = spawn(db, 100_000).await;
        // The server's clock says Friday 12:00 in China: "Fri 11:30-12:30" is open, "Mon-Fri 09:00-11:00" is not.
        let china_noon = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap().and_hms_opt(12, 0, 0).unwrap();
        for i in 0..200 {
            let from = LatLng { lat: rng.random_range(18.0..48.0), lng: rng.random_range(95.0..125.0) };
            let wanted: Vec<Amenity> = Amenity::ALL.iter().copied().filter(|_| rng.random_bool(0.2)).collect();
            let open_now = i % 2 == 0;
            let limit = rng.random_range(1..=15);
            let mut path = format!("/api/v1/stations/nearest?lat={}&lng={}&limit={limit}", from.lat, from.lng);
            for a in &wanted {
                path.push_str(&format!("&amenity={}", a.as_str()));
            }
            if open_now {
                path.push_str("&open_now=true");
            }
            let (status, body) = app.anon_get(&path).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let got: Vec<i64> = body["items"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
            let q = FinderQuery {
                from,
                limit,
                amenities: AmenitySet::of(&wanted),
                open_at: open_now.then_some(china_noon),
            };
            let want = brute_force_nearest(&all, &q);
            assert_eq!(got, want.iter().map(|n| n.station.id).collect::<Vec<_>>(), "point {i}: {path}");
            for (item, w) in body["items"].as_array().unwrap().iter().zip(&want) {
                assert_eq!(item["distance_m"].as_u64().unwrap(), w.distance_m.round() as u64);
                if open_now {
                    assert_eq!(item["open_now"], true);
                }
                assert!(item["navigation"]["amap"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://uri.amap.com/marker?position="));
                assert!(item["navigation"]["geo"].as_str().unwrap().starts_with("geo:"));
            }
            assert_eq!(body["meta"]["local_time"], "2026-11-27T12:00");
        }
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_location_is_neither_stored_nor_logged_nor_audited() {
    let logs = capture_logs();
    for db in all_backends().await {
        let app = spawn(db, 1_000).await;
        let created = app
            .http
            .post(format!("{}/api/v1/stations", app.base))
            .json(&serde_json::to_value(station("P-1", 39.9, 116.4, &["toilet"], "24h")).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
        let (audits, generation) = (audit_count(&app.db.store).await, app.db.store.station_generation().await.unwrap());
        // Distinctive coordinates, so that any trace of them would be found.
        let (lat, lng) = ("39.8765432", "116.3456789");
        let (status, body) =
            app.anon_get(&format!("/api/v1/stations/nearest?lat={lat}&lng={lng}&amenity=toilet")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["items"][0]["name"], "驿站P-1");
        let page =
            app.anon.get(format!("{}/stations/near?lat={lat}&lng={lng}&lang=zh-CN", app.base)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("您的位置仅用于本次查询，不会被保存"), "the page says so");
        assert!(html.contains("驿站P-1") && html.contains("uri.amap.com"));
        assert!(html.contains("<script src=\"/static/finder.js\" defer></script>"));
        assert_eq!(audit_count(&app.db.store).await, audits, "no audit record for a finder query");
        assert_eq!(app.db.store.station_generation().await.unwrap(), generation, "nothing written");
        let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(text.contains("/api/v1/stations/nearest"), "requests are logged (by path)");
        for secret in [lat, lng, "8765432", "3456789"] {
            assert!(!text.contains(secret), "the location reached the log: {secret}");
        }
        let en =
            app.anon.get(format!("{}/stations/near?lang=en", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(en.contains("Your location is used for this search only and is not stored."));
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn anonymous_finder_requests_are_rate_limited() {
    for db in all_backends().await {
        let app = spawn(db, 3).await;
        let mut statuses = Vec::new();
        for i in 0..4 {
            let path = if i % 2 == 0 { "/api/v1/stations/nearest?lat=39.9&lng=116.4" } else { "/stations/near" };
            statuses.push(app.anon.get(format!("{}{path}", app.base)).send().await.unwrap().status());
        }
        assert_eq!(statuses[..3], [StatusCode::OK; 3]);
        assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS);
        // A signed-in cadre is not limited here.
        let r = app.http.get(format!("{}/api/v1/stations/nearest?lat=39.9&lng=116.4", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn managed_api_and_import_with_located_errors() {
    for db in all_backends().await {
        let app = spawn(db, 1_000).await;
        let url = |p: &str| format!("{}{p}", app.base);
        let bad = json!({"code": "X-1", "name": "驿站", "address": "路", "region_code": "110105",
                         "latitude": 116.4, "longitude": 39.9, "opening_hours": "24h", "operator_department": "工会"});
        let r = app.http.post(url("/api/v1/stations")).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["field"], "latitude", "{body}");
        let csv = "驿站编码,名称,运营部门,地址,行政区划代码,纬度,经度,服务设施,开放时间\n\
                   A-1,甲驿站,区总工会,某路1号,110105,39.9,116.4,饮水、卫生间,24小时\n\
                   A-2,乙驿站,区总工会,某路2号,110105,39.9,abc,饮水,周八 09:00-10:00\n\
                   A-3,丙驿站,区总工会,某路3号,999999,39.9,116.4,无线网络,24小时\n";
        let r = app.http.post(url("/api/v1/imports/stations?file_name=驿站.csv")).body(csv).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.unwrap();
        let lines: Vec<&str> =
            body["error"]["details"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
        assert!(lines.iter().any(|l| l.starts_with("驿站.csv:3:G(经度): ")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("驿站.csv:3:I(开放时间): ")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("驿站.csv:4:H(服务设施): ")), "{lines:?}");
        assert_eq!(app.db.store.export_stations(&AccessFilter::unrestricted()).await.unwrap().len(), 0);
        // The good row alone imports, then exports with Chinese headers and imports back unchanged.
        let good: String = csv.lines().take(2).map(|l| format!("{l}\n")).collect();
        let r = app.http.post(url("/api/v1/imports/stations?file_name=ok.csv")).body(good).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let exported =
            app.http.get(url("/api/v1/exports/stations?format=csv")).send().await.unwrap().bytes().await.unwrap();
        assert!(String::from_utf8_lossy(&exported).contains("驿站编码,名称,运营单位代码,运营部门"));
        let again = app
            .http
            .post(url("/api/v1/imports/stations?file_name=e.csv"))
            .body(exported.to_vec())
            .send()
            .await
            .unwrap();
        let sum: Value = again.json().await.unwrap();
        assert_eq!((sum["created"].as_i64(), sum["unchanged"].as_i64()), (Some(0), Some(1)), "{sum}");
        // Close it through the API: the finder drops it at once.
        let list: Value =
            app.http.get(url("/api/v1/stations?amenity=toilet")).send().await.unwrap().json().await.unwrap();
        let id = list["items"][0]["id"].as_i64().unwrap();
        let (_, near) = app.anon_get("/api/v1/stations/nearest?lat=39.9&lng=116.4").await;
        assert_eq!(near["meta"]["count"], 1);
        let closed = app.http.delete(url(&format!("/api/v1/stations/{id}?version=1"))).send().await.unwrap();
        assert_eq!(closed.status(), StatusCode::OK);
        let (_, near) = app.anon_get("/api/v1/stations/nearest?lat=39.9&lng=116.4").await;
        assert_eq!(near["meta"]["count"], 0);
        let stale = app.http.delete(url(&format!("/api/v1/stations/{id}?version=1"))).send().await.unwrap();
        assert_eq!(stale.status(), StatusCode::CONFLICT);
        app.db.cleanup().await;
    }
}
