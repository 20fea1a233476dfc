//! Case statistics over HTTP, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL, with a manual clock:
//! six cases filed, acknowledged, resolved and rated through the real API at known times, the deadline
//! job run once; then the numbers on the API, on the page (in Chinese and English) and in the workbook
//! (read back with calamine) are the ones worked out by hand below. Bad filters name their parameter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, TimeZone, Utc};
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_domain::entity::EntityInput;
use dangjian_domain::EntityDraft;
use dangjian_store::testing::all_backends;
use dangjian_store::AccessFilter;
use dangjian_web::auth::{Clock, ManualClock};
use dangjian_web::rate_limit::{Quota, RateLimitConfig};
use dangjian_web::AppState;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

/// A unit name that a spreadsheet would run as a formula if it were written as one.
const PLATFORM: &str = "=1+1平台";

fn guangdong_cadre() -> Vec<Grant> {
    vec![Grant { role: Role::DepartmentCadre, scope: Scope::Region { path: "/44/".into() } }]
}

struct App {
    base: String,
    http: reqwest::Client,
    token: String,
    cookie: String,
}

impl App {
    async fn send(&self, r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = r.header("accept-language", "en").send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn file(&self, category: &str, sector: Option<&str>, region: &str, platform: Option<i64>) -> (i64, String) {
        let body = json!({"category": category, "sector": sector, "region_code": region, "platform_id": platform,
                          "description": "统计页面测试", "contact": "13812341234"});
        let (status, filed) = self.send(self.http.post(format!("{}/api/v1/cases", self.base)).json(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{filed}");
        (filed["id"].as_i64().unwrap(), filed["tracking_code"].as_str().unwrap().to_owned())
    }

    /// A handler's step through the API; the case's version is read first.
    async fn handle(&self, id: i64, action: &str) {
        let url = format!("{}/api/v1/cases/{id}", self.base);
        let (_, case) = self.send(self.http.get(&url).bearer_auth(&self.token)).await;
        let body = json!({"version": case["version"], "action": action});
        let (status, done) =
            self.send(self.http.post(format!("{url}/actions")).bearer_auth(&self.token).json(&body)).await;
        assert_eq!(status, StatusCode::OK, "{done}");
    }

    async fn rate(&self, code: &str, rating: i64) {
        let url = format!("{}/api/v1/cases/track/{code}/actions", self.base);
        let (status, done) = self.send(self.http.post(url).json(&json!({"action": "rate", "rating": rating}))).await;
        assert_eq!(status, StatusCode::OK, "{done}");
    }

    async fn api(&self, query: &str) -> (StatusCode, Value) {
        self.send(self.http.get(format!("{}/api/v1/cases/stats{query}", self.base)).bearer_auth(&self.token)).await
    }

    async fn page(&self, query: &str, lang: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}/cases/stats{query}", self.base))
            .header("cookie", format!("{}; lang={lang}", self.cookie))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }
}

/// A signed-in session of `user_id` started at `now` (the app's manual clock), as a `Cookie` value.
async fn session_at(store: &dangjian_store::Store, user_id: i64, now: chrono::DateTime<Utc>) -> String {
    use dangjian_security::token::{generate_session_id, hash_token};
    let (session, csrf) = (generate_session_id(), generate_session_id());
    let text = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    store
        .create_session(&hash_token(&session), user_id, &csrf, &text(now + Duration::hours(12)), true, None, &text(now))
        .await
        .unwrap();
    format!("{}={session}", dangjian_web::auth::SESSION_COOKIE)
}

/// The text of the element carrying `data-testid="{id}"` up to its closing `</div>`.
fn block<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("data-testid=\"{id}\"")).unwrap_or_else(|| panic!("no {id} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</div>").unwrap_or(rest.len())]
}

/// The line of a grouping's table for `code`.
fn table_line<'a>(html: &'a str, table: &str, code: &str) -> &'a str {
    let start = html.find(&format!("data-testid=\"{table}\"")).unwrap();
    let rest = &html[start..];
    let rest = &rest[..rest.find("</table>").unwrap()];
    let at = rest.find(&format!("<tr data-code=\"{code}\">")).unwrap_or_else(|| panic!("no {code} in {rest}"));
    let line = &rest[at..];
    &line[..line.find("</tr>").unwrap()]
}

fn cell_text(c: &Data) -> String {
    match c {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn the_numbers_on_the_api_the_page_and_in_the_workbook() {
    for db in all_backends().await {
        for (code, name, kind, region) in [
            ("HR-4403", "深圳市人社局", "human_resources", "4403"),
            ("SW-4401", "广州市委社会工作部", "social_work", "4401"),
            ("SW-44", "广东省委社会工作部", "social_work", "44"),
            ("SW-11", "北京市委社会工作部", "social_work", "11"),
        ] {
            db.store.create_department(code, name, kind, region).await.unwrap();
        }
        let platform = EntityDraft::parse(&EntityInput {
            uscc: Some("91350100M000100Y43".into()),
            name: Some(PLATFORM.into()),
            kind: Some("platform".into()),
            sectors: vec!["courier".into()],
            region_code: Some("440305".into()),
            workers: Some("10".into()),
            ..Default::default()
        })
        .unwrap();
        let p = db.store.create_entity(&platform, &AccessFilter::unrestricted()).await.unwrap().id;
        let user = support::user_with_grants(&db.store, "gd-cadre", &guangdong_cadre()).await;
        let token = support::token_with_grants(&db.store, "gd-cadre-token", &guangdong_cadre()).await;
        // Monday 23 November 2026, 09:00 in China.
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()));
        let loose = Quota::per_minute(100_000);
        let state =
            AppState::with_clock(db.store.clone(), dangjian_security::field_cipher::Keyring::generate(), clock.clone())
                .with_rate_limits(RateLimitConfig {
                    anonymous: loose,
                    login: loose,
                    public: loose,
                    ..Default::default()
                });
        let base = support::serve_state(state).await;
        let mut app = App { base, http: reqwest::Client::new(), token, cookie: String::new() };
        let hour = || clock.advance(Duration::hours(1));

        // +0 h: A, wage arrears of a courier in Shenzhen, naming the platform (→ Shenzhen HR).
        let (a, code_a) = app.file("wage_arrears", Some("courier"), "440305", Some(p)).await;
        hour();
        // +1 h: B, wage arrears of a food-delivery rider in Shenzhen.
        let (b, code_b) = app.file("wage_arrears", Some("food_delivery"), "440305", None).await;
        hour();
        // +2 h: C, traffic safety in Guangzhou, naming the platform (→ Guangzhou social work); A acknowledged (2 h).
        let (c, _) = app.file("traffic_safety", Some("courier"), "440106", Some(p)).await;
        app.handle(a, "acknowledge").await;
        hour();
        // +3 h: D, other, in Guangzhou; C acknowledged (1 h).
        app.file("other", None, "440106", None).await;
        app.handle(c, "acknowledge").await;
        hour();
        // +4 h: E, legal aid in Shenzhen (→ the province's social work: nowhere to escalate); F in Beijing.
        app.file("legal_aid", None, "440305", None).await;
        app.file("other", None, "110105", None).await;
        hour();
        // +5 h: B acknowledged (4 h).
        app.handle(b, "acknowledge").await;
        clock.advance(Duration::hours(5));
        // +10 h: A resolved (10 h) and rated 5.
        app.handle(a, "resolve").await;
        app.rate(&code_a, 5).await;
        clock.advance(Duration::hours(21));
        // +31 h: B resolved (30 h) and rated 2.
        app.handle(b, "resolve").await;
        app.rate(&code_b, 2).await;
        // A week later: D (Guangzhou, other, 3 days) moves up to the province; E stays overdue at the top.
        clock.advance(Duration::hours(7 * 24 - 31));
        let state_for_job =
            AppState::with_clock(db.store.clone(), dangjian_security::field_cipher::Keyring::generate(), clock.clone());
        assert_eq!(dangjian_web::app::cases::deadline_tick(&state_for_job).await.unwrap().escalated.len(), 1);

        // The API: Guangdong's five cases; Beijing's is not theirs.
        let (status, s) = app.api("?region=44").await;
        assert_eq!(status, StatusCode::OK, "{s}");
        let t = &s["totals"];
        assert_eq!(
            [&t["cases"], &t["open"], &t["resolved"], &t["closed"], &t["overdue"], &t["escalated"]],
            [5, 3, 2, 2, 1, 1].map(|n| json!(n)).each_ref(),
            "{t}"
        );
        assert_eq!(t["to_acknowledge"], json!({"count": 3, "median_hours": 2.0, "p90_hours": 4.0}));
        assert_eq!(t["to_resolve"], json!({"count": 2, "median_hours": 10.0, "p90_hours": 30.0}));
        assert_eq!(
            t["satisfaction"],
            json!({"rated": 2, "mean": 3.5, "distribution": [0, 1, 0, 0, 1], "share_satisfied": 0.5})
        );
        let by = |k: &str| -> Vec<(String, i64)> {
            s[k].as_array()
                .unwrap()
                .iter()
                .filter(|r| r["figures"]["cases"].as_i64().unwrap() > 0)
                .map(|r| (r["name_zh"].as_str().unwrap().to_owned(), r["figures"]["cases"].as_i64().unwrap()))
                .collect()
        };
        let owned = |v: &[(&str, i64)]| v.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect::<Vec<_>>();
        assert_eq!(by("by_region"), owned(&[("广州市", 2), ("深圳市", 3)]));
        assert_eq!(by("by_platform"), owned(&[(PLATFORM, 2), ("未注明", 3)]));
        assert_eq!(by("by_sector"), owned(&[("快递", 2), ("外卖配送", 1), ("未注明", 2)]));
        assert_eq!(by("by_category"), owned(&[("欠薪", 2), ("交通与安全", 1), ("法律援助", 1), ("其他", 1)]));
        let (_, nation) = app.api("").await;
        assert_eq!(nation["totals"]["cases"], 5);
        assert!(!nation.to_string().contains("北京"), "{nation}");
        let (_, shenzhen) = app.api("?region=4403&category=wage_arrears&from=2026-11-23&to=2026-11-23").await;
        assert_eq!(shenzhen["totals"]["cases"], 2);

        // Bad filters: a 400 naming the parameter.
        for (query, field) in [
            ("?region=999999", "region"),
            ("?category=nope", "category"),
            ("?sector=nope", "sector"),
            ("?from=someday", "from"),
            ("?from=2026-11-24&to=2026-11-23", "to"),
            ("?platform_id=abc", "platform_id"),
            ("?platform_id=999999", "platform_id"),
        ] {
            let (status, body) = app.api(query).await;
            assert_eq!((status, body["error"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some(field)), "{query}");
        }

        // The page, in Chinese and in English, signed in at the app's clock.
        app.cookie = session_at(&db.store, user, clock.now()).await;
        let (status, zh) = app.page("?region=44", "zh-CN").await;
        assert_eq!(status, StatusCode::OK, "{zh}");
        assert!(zh.contains("<h1>诉求统计：广东省</h1>"), "{zh}");
        assert!(block(&zh, "total-cases").contains("<span class=\"num\">5</span>"));
        assert!(block(&zh, "total-cases").contains("超期 1 · 曾升级 1"));
        let ack = block(&zh, "total-ack");
        assert!(ack.contains("<span class=\"num\">2.0</span>") && ack.contains("90% 在 4.0 小时内"), "{ack}");
        let resolve = block(&zh, "total-resolve");
        assert!(resolve.contains("<span class=\"num\">10.0</span>") && resolve.contains("30.0 小时"), "{resolve}");
        let sat = block(&zh, "total-satisfaction");
        assert!(sat.contains("50.0%") && sat.contains("平均 3.50 分，2 条评价"), "{sat}");
        assert!(zh.contains("<title>欠薪: 2</title>") && zh.contains("<title>深圳市: 3</title>"));
        assert!(zh.contains("<title>5分: 1</title>") && zh.contains("<title>2分: 1</title>"));
        let sz = table_line(&zh, "by-region", "4403");
        assert!(sz.contains(">深圳市</a>") && sz.contains("data-testid=\"cases\">3</td>"), "{sz}");
        let line = table_line(&zh, "by-platform", &p.to_string());
        assert!(line.contains("=1+1平台") && line.contains("data-testid=\"cases\">2</td>"), "{line}");
        assert!(zh.contains("href=\"/api/v1/cases/stats/export?region=44\""), "the export carries the filters");
        assert!(zh.contains("data-testid=\"nav-stats\""));
        assert!(!zh.contains("北京市") && !zh.contains("13812341234") && !zh.contains("统计页面测试"));
        let (_, en) = app.page("?region=44", "en").await;
        assert!(en.contains("<h1>Case statistics: 广东省</h1>") && en.contains("<title>Wage arrears: 2</title>"));
        assert!(block(&en, "total-satisfaction").contains("mean 3.50 from 2 ratings"));
        assert!(en.contains("<title>5 stars: 1</title>"));
        let (status, bad) = app.page("?region=44&from=2026-11-24&to=2026-11-23", "en").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(bad.contains("data-testid=\"filter-problem\""), "{bad}");

        // The workbook: a sheet per grouping, Chinese headers, numbers as numbers, names never formulas.
        let r = app
            .http
            .get(format!("{}/api/v1/cases/stats/export?region=44", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap().to_vec();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["筛选条件", "合计", "按类别", "按行业", "按平台", "按地区"]);
        let totals = book.worksheet_range("合计").unwrap();
        let header: Vec<String> = totals.rows().next().unwrap().iter().map(cell_text).collect();
        assert_eq!(&header[..4], ["代码", "名称", "诉求数", "未办结"]);
        let line: Vec<&Data> = totals.rows().nth(1).unwrap().iter().collect();
        assert_eq!(line[1], &Data::String("合计".into()));
        assert_eq!(line[2..8], [5.0, 3.0, 2.0, 2.0, 1.0, 1.0].map(Data::Float).each_ref());
        assert_eq!(line[9..11], [Data::Float(2.0), Data::Float(4.0)].each_ref(), "to acknowledge, hours");
        assert_eq!(line[12..14], [Data::Float(10.0), Data::Float(30.0)].each_ref(), "to resolve, hours");
        assert_eq!(line[14..17], [Data::Float(2.0), Data::Float(3.5), Data::Float(0.5)].each_ref());
        let platforms = book.worksheet_range("按平台").unwrap();
        let first: Vec<&Data> = platforms.rows().nth(1).unwrap().iter().collect();
        assert_eq!((first[1], first[2]), (&Data::String(PLATFORM.into()), &Data::Float(2.0)));
        let regions = book.worksheet_range("按地区").unwrap();
        let lines: Vec<(String, String)> =
            regions.rows().skip(1).map(|r| (cell_text(&r[1]), cell_text(&r[2]))).collect();
        assert_eq!(lines, [("广州市".to_owned(), "2".to_owned()), ("深圳市".to_owned(), "3".to_owned())]);
        let about = book.worksheet_range("筛选条件").unwrap();
        assert!(about.rows().any(|r| cell_text(&r[0]) == "地区" && cell_text(&r[1]) == "44"));
        let audit = db
            .store
            .search_audit(
                &dangjian_store::audit::AuditFilter { action: Some("export.case_stats".into()), ..Default::default() },
                dangjian_store::Paging::default(),
            )
            .await
            .unwrap();
        assert_eq!(audit.total, 1);
        db.cleanup().await;
    }
}
