//! The server-rendered pages, over HTTP against the real app: every page in both languages, the
//! forms with their field-level errors, a stale edit, a valid edit, and the import page. SQLite always,
//! PostgreSQL too when DANGJIAN_TEST_PG is set. Signed in as a nationwide department cadre.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod pages_seed;
mod support;

use dangjian_store::testing::{all_backends, TestDb};
use dangjian_store::AccessFilter;
use pages_seed::{seed, serve, Seed, FRANCHISEE, MOBILE, MOBILE_MASKED, PLATFORM, SPARE_USCC};
use reqwest::StatusCode;
use support::{sign_in_as, SignedIn};

struct TestApp {
    base: String,
    /// Sends the session cookie with every request (a request that sets its own `Cookie` replaces it).
    http: reqwest::Client,
    db: TestDb,
    seed: Seed,
    user: SignedIn,
}

async fn apps() -> Vec<TestApp> {
    let mut out = Vec::new();
    for db in all_backends().await {
        let seed = seed(&db.store).await;
        let user = sign_in_as(&db.store, "cadre", &support::nationwide_cadre()).await;
        let base = serve(db.store.clone()).await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("cookie", user.cookie().parse().unwrap());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        out.push(TestApp { base, http, db, seed, user });
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum L {
    Zh,
    En,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl TestApp {
    async fn get(&self, path: &str, lang: L) -> Page {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if lang == L::En {
            r = r.header("cookie", self.user.cookie_with_lang("en"));
        }
        page(r.send().await.unwrap()).await
    }

    /// Posts a form, with the session's CSRF token.
    async fn post(&self, path: &str, lang: L, form: &[(&str, &str)]) -> Page {
        let mut fields = form.to_vec();
        fields.push(("csrf_token", &self.user.csrf));
        let mut r = self.http.post(format!("{}{path}", self.base)).form(&fields);
        if lang == L::En {
            r = r.header("cookie", self.user.cookie_with_lang("en"));
        }
        page(r.send().await.unwrap()).await
    }

    async fn upload(&self, kind: &str, file_name: &str, bytes: &[u8], dry_run: bool, lang: L) -> Page {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file_name.to_owned());
        let mut form = reqwest::multipart::Form::new()
            .text("csrf_token", self.user.csrf.clone())
            .text("kind", kind.to_owned())
            .part("file", part);
        if dry_run {
            form = form.text("dry_run", "1");
        }
        let mut r = self.http.post(format!("{}/import", self.base)).multipart(form);
        if lang == L::En {
            r = r.header("cookie", self.user.cookie_with_lang("en"));
        }
        page(r.send().await.unwrap()).await
    }
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    Page { status, location, body: r.text().await.unwrap() }
}

/// Text that looks like an untranslated catalogue key (`nav.home`) in a text node or attribute value.
fn raw_keys(html: &str) -> Vec<String> {
    let looks_like_key = |s: &str| {
        let s = s.trim();
        s.contains('.') && s.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    };
    let mut out = Vec::new();
    for chunk in html.split(['<', '>', '"']) {
        if looks_like_key(chunk) {
            out.push(chunk.trim().to_owned());
        }
    }
    out
}

fn assert_page(p: &Page, lang: L, path: &str, expect: &[&str]) {
    assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.body);
    let html_lang = if lang == L::Zh { "<html lang=\"zh-CN\">" } else { "<html lang=\"en\">" };
    assert!(p.body.contains(html_lang), "{path}: wrong language");
    let nav = if lang == L::Zh { "行政区划" } else { "Regions" };
    assert!(p.body.contains(nav), "{path}: navigation not translated");
    assert!(p.body.contains("href=\"/lang/"), "{path}: no language switch");
    assert!(p.body.contains("/static/app.css"), "{path}: no stylesheet");
    assert!(!p.body.contains(MOBILE), "{path}: a full mobile number is shown");
    let keys = raw_keys(&p.body);
    assert!(keys.is_empty(), "{path}: untranslated keys {keys:?}");
    for e in expect {
        assert!(
            p.body.contains(e),
            "{path} ({}): expected {e:?} in\n{}",
            if lang == L::Zh { "zh" } else { "en" },
            p.body
        );
    }
}

#[tokio::test]
async fn every_page_renders_in_both_languages() {
    for app in apps().await {
        let s = app.seed;
        for lang in [L::Zh, L::En] {
            let zh = lang == L::Zh;
            let pick = |z: &'static str, e: &'static str| if zh { z } else { e };
            let pages: Vec<(String, Vec<&str>)> = vec![
                (
                    "/".into(),
                    vec![pick("平台经济党建登记", "Platform economy Party-building registry"), "北京市", "/regions/11"],
                ),
                ("/regions".into(), vec![pick("全国", "All of China"), "北京市", "示例外卖平台有限公司"]),
                ("/regions/11".into(), vec!["北京市", "/regions/1101", pick("5 个单位", "5 registered")]),
                (
                    "/regions/110105".into(),
                    vec![
                        "朝阳区",
                        "建外街道",
                        "望京站",
                        "建外站",
                        "/entities/new?region=110105",
                        pick("朝阳区辖区内的单位", "Units in 朝阳区"),
                    ],
                ),
                ("/regions/110105001".into(), vec!["建外站", "建外街道"]),
                (
                    "/entities".into(),
                    vec![
                        "示例外卖平台有限公司",
                        "望京站",
                        pick("外卖配送", "Food delivery"),
                        pick("共 5 条", "5 in total"),
                        "/api/v1/exports/entities?format=xlsx",
                    ],
                ),
                (
                    "/entities?kind=site&q=站&status=operating&sector=food_delivery".into(),
                    vec!["望京站", "建外站", pick("共 2 条", "2 in total")],
                ),
                (
                    format!("/entities/{}", s.franchisee),
                    vec![
                        "朝阳示例配送服务有限公司",
                        "示例外卖平台有限公司",
                        "望京站",
                        "建外站",
                        "朝阳示例配送服务有限公司党支部",
                        "王芳",
                        FRANCHISEE,
                        pick("加盟企业", "Franchisee"),
                    ],
                ),
                (format!("/entities/{}", s.site), vec!["望京站", "WJ-001", "李明", MOBILE_MASKED, "2024-01-01"]),
                (
                    format!("/entities/{}", s.platform),
                    vec![pick("本单位是链条龙头", "heads its chain"), "示例劳务合作有限公司"],
                ),
                (
                    "/entities/new".into(),
                    vec!["name=\"uscc\"", "name=\"sectors\"", pick("登记单位", "Register a unit")],
                ),
                (format!("/entities/new?parent={}", s.franchisee), vec![FRANCHISEE, "value=\"site\" selected"]),
                (
                    format!("/entities/{}/edit", s.site),
                    vec!["value=\"望京站\"", "value=\"WJ-001\"", FRANCHISEE, "name=\"version\""],
                ),
                ("/organizations".into(), vec!["朝阳示例配送服务有限公司党支部", pick("党支部", "Branch"), "王芳"]),
                (format!("/organizations/{}", s.org), vec!["ORG-CY-001", "朝阳示例配送服务有限公司", "2021-07-01"]),
                ("/organizations/new".into(), vec!["name=\"units\"", "name=\"parent_org_code\""]),
                (format!("/organizations/new?unit={}", s.site), vec!["WJ-001"]),
                (format!("/organizations/{}/edit", s.org), vec!["value=\"ORG-CY-001\"", FRANCHISEE]),
                ("/instructors".into(), vec!["李明", MOBILE_MASKED, "朝阳区委社会工作部", "望京站"]),
                (format!("/instructors/{}", s.instructor), vec!["李明", MOBILE_MASKED, "望京站"]),
                ("/instructors/new".into(), vec!["name=\"mobile\"", "assignments[0].unit_code"]),
                (format!("/instructors/new?unit={}", s.site), vec!["WJ-001"]),
                (
                    format!("/instructors/{}/edit", s.instructor),
                    vec!["value=\"李明\"", MOBILE_MASKED, "value=\"WJ-001\""],
                ),
                (
                    "/import".into(),
                    vec!["multipart/form-data", "name=\"dry_run\"", "/api/v1/exports/instructors?format=csv"],
                ),
            ];
            for (path, expect) in &pages {
                let p = app.get(path, lang).await;
                assert_page(&p, lang, path, expect);
            }
        }
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn language_switch_remembers_the_choice() {
    for app in apps().await {
        let r = app.get("/lang/en?next=%2Fentities%3Fkind%3Dsite", L::Zh).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location.as_deref(), Some("/entities?kind=site"));
        let resp = app.http.get(format!("{}/lang/en?next=//evil.example", app.base)).send().await.unwrap();
        let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(cookie.starts_with("lang=en;") && cookie.contains("Path=/"), "{cookie}");
        assert_eq!(resp.headers().get("location").unwrap(), "/");
        // The switch link on a page points at the other language and back to the page.
        let zh = app.get("/entities?kind=site", L::Zh).await;
        assert!(zh.body.contains("href=\"/lang/en?next=%2Fentities%3Fkind%3Dsite\""), "{}", zh.body);
        assert!(zh.body.contains(">English<"));
        let en = app.get("/entities", L::En).await;
        assert!(en.body.contains("href=\"/lang/zh-CN?next=%2Fentities\""));
        assert!(en.body.contains(">中文<"));
        // Accept-Language and ?lang= work too; Chinese is the default.
        let r = app.http.get(format!("{}/", app.base)).header("accept-language", "en-US").send().await.unwrap();
        assert!(r.text().await.unwrap().contains("<html lang=\"en\">"));
        assert!(app.get("/?lang=en", L::Zh).await.body.contains("<html lang=\"en\">"));
        assert!(app.get("/", L::Zh).await.body.contains("<html lang=\"zh-CN\">"));
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn unknown_records_get_a_not_found_page() {
    for app in apps().await {
        for path in [
            "/entities/999999",
            "/entities/abc",
            "/entities/999999/edit",
            "/organizations/999999",
            "/instructors/999999",
            "/regions/999999",
            "/no/such/page",
        ] {
            for lang in [L::Zh, L::En] {
                let p = app.get(path, lang).await;
                assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
                let msg = if lang == L::Zh { "页面不存在" } else { "Not found" };
                assert!(p.body.contains(msg) && p.body.contains("href=\"/lang/"), "{path}: {}", p.body);
            }
        }
        let p = app.post("/entities/999999/edit", L::Zh, &[("name", "x")]).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        let api = app.http.get(format!("{}/api/v1/no-such", app.base)).send().await.unwrap();
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert!(api.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let bad = app.get("/entities?kind=bogus", L::En).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("data-testid=\"filter-problem\"") && bad.body.contains("bogus"));
        let bad_region = app.get("/entities?region=999999", L::Zh).await;
        assert_eq!(bad_region.status, StatusCode::BAD_REQUEST);
        // An over-long search term or one with a control character: the form says so, in the page's language.
        let long = format!("/entities?q={}", "%E5%BF%AB".repeat(101));
        for (path, lang, text) in [
            (long.as_str(), L::Zh, "搜索词不能超过100个字符"),
            ("/organizations?q=a%00b", L::En, "control characters"),
            ("/instructors?q=a%07b", L::Zh, "控制字符"),
        ] {
            let p = app.get(path, lang).await;
            assert_eq!(p.status, StatusCode::BAD_REQUEST, "{path}");
            assert!(p.body.contains(text), "{path}: {}", p.body);
        }
        app.db.cleanup().await;
    }
}

/// The value of the input named `name` in a rendered form, and whether it is marked invalid.
fn input(html: &str, name: &str) -> (String, bool) {
    let tag_start = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no input {name}"));
    let open = html[..tag_start].rfind('<').unwrap();
    let close = tag_start + html[tag_start..].find('>').unwrap();
    let tag = &html[open..close];
    let value = tag.split("value=\"").nth(1).map(|v| v.split('"').next().unwrap().to_owned()).unwrap_or_default();
    (value, tag.contains("aria-invalid=\"true\""))
}

/// The error messages shown for field `name`.
fn field_errors(html: &str, name: &str) -> Vec<String> {
    html.split(&format!("<p class=\"error\" id=\"e-{name}\">"))
        .skip(1)
        .map(|s| s.split("</p>").next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn entity_form_shows_every_error_beside_its_field_and_keeps_the_input() {
    for app in apps().await {
        let form = [
            ("name", "新站点"),
            ("kind", "franchisee"),
            ("uscc", "91350100M000100Y44"),
            ("parent_code", "NOPE-1"),
            ("region_code", "11"),
            ("workers", "2"),
            ("party_members", "3"),
            ("established_on", "2024-01-01"),
            ("closed_on", "2023-01-01"),
        ];
        let p = app.post("/entities/new", L::Zh, &form).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
        assert_eq!(input(&p.body, "name"), ("新站点".into(), false));
        assert_eq!(input(&p.body, "uscc"), ("91350100M000100Y44".into(), true));
        assert_eq!(input(&p.body, "region_code"), ("11".into(), true));
        assert_eq!(input(&p.body, "workers").0, "2");
        assert!(!field_errors(&p.body, "uscc").is_empty());
        assert_eq!(field_errors(&p.body, "sectors"), vec!["至少填写一个行业"]);
        assert_eq!(field_errors(&p.body, "region_code"), vec!["单位所在地须精确到县级或乡级行政区划"]);
        assert_eq!(field_errors(&p.body, "party_members"), vec!["正式党员3人与预备党员0人之和超过从业人员数2人"]);
        assert_eq!(field_errors(&p.body, "closed_on"), vec!["2023-01-01早于开始日期2024-01-01"]);
        assert!(p.body.contains("value=\"franchisee\" selected"));
        // The unknown parent is found by the registry, and said in the same answer as the rest.
        assert_eq!(field_errors(&p.body, "parent_code").len(), 1, "{}", p.body);
        assert!(p.body.contains("有 6 处需要修改"), "{}", p.body);

        let en = app.post("/entities/new", L::En, &form).await;
        assert_eq!(field_errors(&en.body, "sectors"), vec!["at least one sector is required"]);
        assert!(en.body.contains("6 problems to fix"));

        // Errors found by the store (unknown parent, duplicate code) land beside their fields too.
        let store_errs = app
            .post(
                "/entities/new",
                L::En,
                &[
                    ("name", "重复"),
                    ("kind", "franchisee"),
                    ("uscc", PLATFORM),
                    ("parent_code", SPARE_USCC),
                    ("sectors", "courier"),
                    ("region_code", "110105"),
                ],
            )
            .await;
        assert_eq!(store_errs.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", store_errs.body);
        assert_eq!(field_errors(&store_errs.body, "parent_code").len(), 1, "{}", store_errs.body);
        assert!(store_errs.body.contains("value=\"courier\" checked"));
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn entity_create_edit_and_stale_edit() {
    for app in apps().await {
        let s = app.seed;
        let created = app
            .post(
                "/entities/new",
                L::Zh,
                &[
                    ("name", "三里屯站"),
                    ("kind", "site"),
                    ("site_code", "sl-003"),
                    ("parent_code", FRANCHISEE),
                    ("sectors", "food_delivery"),
                    ("sectors", "courier"),
                    ("region_code", "110105"),
                    ("workers", "18"),
                    ("party_members", "1"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let at = created.location.unwrap();
        assert!(at.starts_with("/entities/") && at.ends_with("?saved=1"), "{at}");
        let shown = app.get(&at, L::Zh).await;
        assert_page(&shown, L::Zh, &at, &["三里屯站", "SL-003", "已保存", "朝阳示例配送服务有限公司", "快递"]);

        // A valid edit of the seeded site: version 1 → saved, new values shown.
        let edit = format!("/entities/{}/edit", s.site);
        let form = app.get(&edit, L::Zh).await;
        assert_eq!(input(&form.body, "version").0, "1");
        let mut fields = vec![
            ("name", "望京站（新）"),
            ("kind", "site"),
            ("site_code", "WJ-001"),
            ("parent_code", FRANCHISEE),
            ("sectors", "food_delivery"),
            ("region_code", "110105"),
            ("workers", "45"),
            ("party_members", "3"),
            ("probationary_members", "1"),
            ("version", "1"),
        ];
        let saved = app.post(&edit, L::Zh, &fields).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        assert_eq!(saved.location.as_deref(), Some(format!("/entities/{}?saved=1", s.site).as_str()));
        let e = app.db.store.entity(s.site).await.unwrap();
        assert_eq!((e.name.as_str(), e.workers, e.party_members, e.version), ("望京站（新）", 45, 3, 2));

        // The same form again, still at version 1: the record changed meanwhile.
        fields[6] = ("workers", "50");
        let stale = app.post(&edit, L::Zh, &fields).await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert!(stale.body.contains("data-testid=\"form-problem\""));
        assert!(stale.body.contains("已被他人修改（当前版本 2）"), "{}", stale.body);
        assert_eq!(input(&stale.body, "workers").0, "50");
        let en = app.post(&edit, L::En, &fields).await;
        assert!(en.body.contains("Someone else changed this record (now at version 2)"));
        assert_eq!(app.db.store.entity(s.site).await.unwrap().workers, 45);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn organization_forms() {
    for app in apps().await {
        let s = app.seed;
        let bad = app
            .post(
                "/organizations/new",
                L::Zh,
                &[("name", "联合支部"), ("kind", "joint_branch"), ("units", "WJ-001"), ("code", "j 1")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_errors(&bad.body, "units"), vec!["联合党支部应覆盖至少两个单位"]);
        assert_eq!(field_errors(&bad.body, "region_code"), vec!["此项为必填项"]);
        assert_eq!(input(&bad.body, "code"), ("j 1".into(), true));
        assert!(bad.body.contains(">WJ-001</textarea>"));

        let ok = app
            .post(
                "/organizations/new",
                L::Zh,
                &[
                    ("name", "望京建外联合党支部"),
                    ("kind", "joint_branch"),
                    ("code", "ORG-CY-J01"),
                    ("units", "wj-001\r\nJW-002"),
                    ("region_code", "110105"),
                    ("secretary", "赵强"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let shown = app.get(ok.location.as_deref().unwrap(), L::En).await;
        assert_page(&shown, L::En, "new org", &["望京建外联合党支部", "Joint branch", "望京站", "建外站", "Saved."]);

        let edit = format!("/organizations/{}/edit", s.org);
        let stale = app
            .post(
                &edit,
                L::En,
                &[
                    ("name", "x"),
                    ("kind", "branch"),
                    ("code", "ORG-CY-001"),
                    ("units", FRANCHISEE),
                    ("region_code", "110105"),
                    ("version", "7"),
                ],
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        let saved = app
            .post(
                &edit,
                L::En,
                &[
                    ("name", "新名称党支部"),
                    ("kind", "branch"),
                    ("code", "ORG-CY-001"),
                    ("units", FRANCHISEE),
                    ("region_code", "110105"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        assert_eq!(app.db.store.organization(s.org).await.unwrap().name, "新名称党支部");
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn instructor_forms_never_show_the_full_mobile() {
    for app in apps().await {
        let s = app.seed;
        let bad = app
            .post(
                "/instructors/new",
                L::Zh,
                &[
                    ("name", "张华"),
                    ("mobile", "1391234567"),
                    ("region_code", "110105"),
                    ("assignments[0].unit_code", ""),
                    ("assignments[0].start_on", ""),
                    ("assignments[1].unit_code", "NO-SUCH"),
                    ("assignments[1].start_on", "2024-03-01"),
                    ("assignments[1].end_on", "2024-01-01"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_errors(&bad.body, "mobile"), vec!["手机号码应为以13至19开头的11位数字"]);
        assert_eq!(field_errors(&bad.body, "assignments[1].end_on").len(), 1, "{}", bad.body);
        assert_eq!(input(&bad.body, "assignments[1].unit_code").0, "NO-SUCH");

        // Editing without retyping the number keeps it; the page shows only the masked form.
        let edit = format!("/instructors/{}/edit", s.instructor);
        let form = app.get(&edit, L::Zh).await;
        assert_eq!(input(&form.body, "mobile").0, "");
        let saved = app
            .post(
                &edit,
                L::Zh,
                &[
                    ("name", "李明"),
                    ("mobile", ""),
                    ("dispatching_org", "朝阳区委社会工作部"),
                    ("region_code", "110105"),
                    ("assignments[0].unit_code", "WJ-001"),
                    ("assignments[0].start_on", "2024-01-01"),
                    ("assignments[1].unit_code", "jw-002"),
                    ("assignments[1].start_on", "2024-06-01"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let i = app.db.store.instructor(s.instructor).await.unwrap();
        assert_eq!(app.db.store.instructor_mobile(s.instructor).await.unwrap().as_str(), MOBILE);
        assert_eq!(i.assignments.len(), 2);
        let shown = app.get(saved.location.as_deref().unwrap(), L::Zh).await;
        assert_page(&shown, L::Zh, "instructor", &[MOBILE_MASKED, "建外站", "已保存"]);
        app.db.cleanup().await;
    }
}

const BAD_CSV: &str =
    "统一社会信用代码,站点编码,名称,类型,行业,上级统一社会信用代码,行政区划代码,从业人员数,正式党员数\n\
    ,CY-101,好站,站点,外卖配送,9144030071526726XG,110105,10,1\n\
    ,CY-102,,站点,外卖配送,9144030071526726XG,110105,abc,1\n\
    91350100M000100Y44,,坏企业,合作企业,外卖配送,91350100M000100Y43,999999,5,0\n";

const GOOD_CSV: &str =
    "统一社会信用代码,站点编码,名称,类型,行业,上级统一社会信用代码,行政区划代码,从业人员数,正式党员数\n\
    ,CY-101,好站,站点,外卖配送,9144030071526726XG,110105,10,1\n\
    ,CY-102,另一站,站点,外卖配送,9144030071526726XG,110105001,12,0\n";

#[tokio::test]
async fn import_page_lists_every_error_and_writes_nothing() {
    for app in apps().await {
        let before = app
            .db
            .store
            .list_entities(&Default::default(), Default::default(), &AccessFilter::unrestricted())
            .await
            .unwrap()
            .total;
        let p = app.upload("entities", "站点.csv", BAD_CSV.as_bytes(), false, L::Zh).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
        assert!(p.body.contains("data-testid=\"import-errors\""));
        let lines: Vec<&str> = p
            .body
            .split("data-testid=\"import-lines\">")
            .nth(1)
            .unwrap()
            .split("</pre>")
            .next()
            .unwrap()
            .lines()
            .collect();
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(lines.iter().all(|l| l.starts_with("站点.csv:")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("站点.csv:3:C(名称): ")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("站点.csv:3:H(从业人员数): ")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("站点.csv:4:A(统一社会信用代码): ")), "{lines:?}");
        assert!(p.body.contains("未导入任何数据"));
        assert_page(&Page { status: StatusCode::OK, ..p }, L::Zh, "/import", &[]);
        let after = app
            .db
            .store
            .list_entities(&Default::default(), Default::default(), &AccessFilter::unrestricted())
            .await
            .unwrap()
            .total;
        assert_eq!(before, after);

        let en = app.upload("entities", "sites.csv", BAD_CSV.as_bytes(), false, L::En).await;
        assert!(en.body.contains("nothing was imported") && en.body.contains("sites.csv:3:C(名称): "));

        let dry = app.upload("entities", "sites.csv", GOOD_CSV.as_bytes(), true, L::En).await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
        assert!(dry.body.contains("passed every check (nothing written)") && dry.body.contains("2 created"));
        assert_eq!(
            app.db
                .store
                .list_entities(&Default::default(), Default::default(), &AccessFilter::unrestricted())
                .await
                .unwrap()
                .total,
            before
        );

        let real = app.upload("entities", "sites.csv", GOOD_CSV.as_bytes(), false, L::Zh).await;
        assert_eq!(real.status, StatusCode::OK, "{}", real.body);
        assert!(real.body.contains("已导入") && real.body.contains("新增 2 条"));
        assert_eq!(
            app.db
                .store
                .list_entities(&Default::default(), Default::default(), &AccessFilter::unrestricted())
                .await
                .unwrap()
                .total,
            before + 2
        );

        let unreadable = app.upload("entities", "x.xlsx", b"PK\x03\x04 truncated workbook", false, L::Zh).await;
        assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unreadable.body.contains("data-testid=\"import-problem\""), "{}", unreadable.body);
        let no_file = app.upload("organizations", "", b"", false, L::En).await;
        assert!(no_file.body.contains("Choose a file to upload"));
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn stylesheet_and_security_headers() {
    for app in apps().await {
        let css = app.http.get(format!("{}/static/app.css", app.base)).send().await.unwrap();
        assert_eq!(css.status(), StatusCode::OK);
        assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
        let body = css.text().await.unwrap();
        assert!(body.contains("\"PingFang SC\", \"Microsoft YaHei\", \"Noto Sans CJK SC\""));
        let page = app.http.get(format!("{}/entities", app.base)).send().await.unwrap();
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        let html = page.text().await.unwrap();
        assert!(!html.contains("<script") && !html.contains("style="), "inline script or style");
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn long_lists_page_and_keep_their_filters() {
    for app in apps().await {
        let rows: String =
            (0..30).map(|i| format!(",PG-{i:03},分页站{i},站点,外卖配送,{FRANCHISEE},110105,5,0\n")).collect();
        let csv = format!(
            "统一社会信用代码,站点编码,名称,类型,行业,上级统一社会信用代码,行政区划代码,从业人员数,正式党员数\n{rows}"
        );
        assert_eq!(app.upload("entities", "many.csv", csv.as_bytes(), false, L::Zh).await.status, StatusCode::OK);
        let first = app.get("/entities?kind=site", L::Zh).await;
        assert_page(&first, L::Zh, "page 1", &["共 32 条", "第 1 / 2 页", "href=\"?kind=site&amp;page=2\""]);
        let second = app.get("/entities?kind=site&page=2", L::En).await;
        assert_page(&second, L::En, "page 2", &["Page 2 of 2", "href=\"?kind=site&amp;page=1\""]);
        assert_eq!(second.body.matches("/entities/").count() - second.body.matches("/entities/new").count(), 7);
        app.db.cleanup().await;
    }
}

// The coverage pages.

/// The text after the first `{marker}` that follows `data-testid="{testid}"`, up to the next tag.
fn text_after(html: &str, testid: &str, marker: &str) -> String {
    let at = html.find(&format!("data-testid=\"{testid}\"")).unwrap_or_else(|| panic!("no {testid} in\n{html}"));
    let rest = &html[at..];
    let start = rest.find(marker).unwrap_or_else(|| panic!("no {marker} after {testid}")) + marker.len();
    rest[start..].split('<').next().unwrap().to_owned()
}

/// The headline rates of a dashboard: organizational coverage, separate establishment, work coverage.
fn rates(html: &str) -> [String; 3] {
    ["rate-coverage", "rate-establishment", "rate-work"].map(|id| text_after(html, id, "class=\"num\">"))
}

/// The counts beside the rates: units, members, workers, organizations, instructors.
fn counts(html: &str) -> [String; 5] {
    ["units", "members", "workers", "organizations", "instructors"]
        .map(|c| text_after(html, &format!("count-{c}"), "<dd>"))
}

fn pct(v: &serde_json::Value) -> String {
    v.as_f64().map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn count(v: &serde_json::Value) -> String {
    v.as_u64().map(|n| n.to_string()).unwrap_or_else(|| "—".into())
}

impl TestApp {
    async fn api(&self, path: &str) -> serde_json::Value {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    }

    /// A page as another signed-in user.
    async fn get_as(&self, user: &SignedIn, path: &str) -> Page {
        page(self.http.get(format!("{}{path}", self.base)).header("cookie", user.cookie()).send().await.unwrap()).await
    }

    /// The dashboard's figures must be the API's for the same query.
    async fn same_as_api(&self, query: &str) -> Page {
        let api = self.api(&format!("/api/v1/coverage?{query}")).await;
        let t = &api["totals"];
        let p = self.get(&format!("/coverage?{query}"), L::Zh).await;
        assert_eq!(p.status, StatusCode::OK, "{query}: {}", p.body);
        let expected = [pct(&t["coverage_rate"]), pct(&t["establishment_rate"]), pct(&t["work_coverage_rate"])];
        assert_eq!(rates(&p.body), expected, "{query}");
        let expected = ["units", "members", "workers", "organizations", "instructors"].map(|k| count(&t[k]));
        assert_eq!(counts(&p.body), expected, "{query}");
        p
    }
}

#[tokio::test]
async fn coverage_dashboard_shows_the_figures_of_the_api_and_drills_down() {
    for app in apps().await {
        let s = app.seed;
        // The seed: five operating units; the franchisee has a branch, a site an instructor.
        let nation = app.same_as_api("").await;
        assert_eq!(rates(&nation.body), ["20.0%", "20.0%", "40.0%"].map(String::from));
        for lang in [L::Zh, L::En] {
            let zh = lang == L::Zh;
            let p = app.get("/coverage", lang).await;
            assert_page(
                &p,
                lang,
                "/coverage",
                &[
                    if zh { "全国党的组织和工作覆盖" } else { "Party coverage: All of China" },
                    if zh { "已覆盖 1 个 / 运营单位 5 个" } else { "1 of 5 operating units covered" },
                    if zh { "外卖配送" } else { "Food delivery" },
                    if zh {
                        "正式党员3名以上，未单独建立党组织"
                    } else {
                        "3 or more formal members, no organization"
                    },
                    "href=\"/coverage?region=11\" data-testid=\"drill\"",
                    &format!("href=\"/coverage/platforms/{}?\"", s.platform),
                    &format!("href=\"/entities/{}\" data-testid=\"gap-unit\"", s.platform),
                    &format!("href=\"/entities/{}\" data-testid=\"gap-unit\"", s.site2),
                    "href=\"/coverage/gaps?\"",
                    "href=\"/coverage\" aria-current=\"page\"",
                ],
            );
            // 24 months × 3 rates, one bar per province with units, the sector × tier table.
            assert_eq!(p.body.matches("data-testid=\"point\"").count(), 72);
            assert_eq!(p.body.matches("data-testid=\"legend\"").count(), 3);
            assert_eq!(p.body.matches("data-testid=\"bar\"").count(), 1);
            assert!(p.body.contains("<title>北京市: 20.0% (1/5)</title>"), "{}", p.body);
            assert!(p.body.contains("data-testid=\"sector-tier\""));
        }
        // Down to the county, keeping the sector: every level agrees with the API.
        let q = "sector=food_delivery";
        let p = app.same_as_api(&format!("region=11&{q}")).await;
        assert!(p.body.contains("href=\"/coverage?sector=food_delivery&amp;region=1101\""), "{}", p.body);
        let p = app.same_as_api(&format!("region=1101&{q}")).await;
        assert!(p.body.contains("href=\"/coverage?sector=food_delivery&amp;region=110105\""));
        let county = app.same_as_api(&format!("region=110105&{q}")).await;
        assert_eq!(rates(&county.body), ["25.0%", "25.0%", "50.0%"].map(String::from));
        let crumbs = county.body.split("data-testid=\"breadcrumb\"").nth(1).unwrap().split("</nav>").next().unwrap();
        for link in [
            "/coverage?sector=food_delivery\"",
            "/coverage?sector=food_delivery&amp;region=11\"",
            "/coverage?sector=food_delivery&amp;region=1101\"",
        ] {
            assert!(crumbs.contains(&format!("href=\"{link}")), "{link} not in {crumbs}");
        }
        assert!(crumbs.contains("<span aria-current=\"page\">朝阳区</span>"), "{crumbs}");
        // A tier filter and the platform page agree with the API too.
        app.same_as_api("tier=site").await;
        let platform = app.get(&format!("/coverage/platforms/{}", s.platform), L::En).await;
        assert_page(
            &platform,
            L::En,
            "platform",
            &["Coverage of the 示例外卖平台有限公司 chain", "By province", "北京市"],
        );
        let api = app.api(&format!("/api/v1/coverage?chain={}", s.platform)).await;
        assert_eq!(rates(&platform.body)[0], pct(&api["totals"]["coverage_rate"]));
        assert!(platform.body.contains(&format!("href=\"/coverage/gaps?chain={}\"", s.platform)));
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn coverage_as_of_another_date() {
    for app in apps().await {
        // Before the branch (2021-07-01) and the instructor (2024-01-01): nothing is covered.
        let then = app.same_as_api("date=2021-01-01").await;
        assert_eq!(rates(&then.body), ["0.0%", "0.0%", "0.0%"].map(String::from));
        assert!(then.body.contains("id=\"cf-date\" name=\"date\" type=\"date\" value=\"2021-01-01\""));
        assert!(then.body.contains("统计日期 2021-01-01"));
        let between = app.same_as_api("date=2022-06-30").await;
        assert_eq!(rates(&between.body), ["20.0%", "20.0%", "20.0%"].map(String::from));
        // The trend ends on the date asked for.
        assert!(then.body.contains("<title>组织覆盖率 2021-01: 0.0%</title>"), "{}", then.body);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn coverage_of_a_county_cadre_is_their_county_only() {
    for app in apps().await {
        let s = app.seed;
        let chaoyang = app.db.store.region("110105").await.unwrap().path;
        let grants = [dangjian_domain::access::Grant {
            role: dangjian_domain::access::Role::DepartmentCadre,
            scope: dangjian_domain::access::Scope::Region { path: chaoyang },
        }];
        let cadre = sign_in_as(&app.db.store, "chaoyang", &grants).await;
        let p = app.get_as(&cadre, "/coverage").await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        // The four units in 朝阳区; the platform in 海淀区 is not counted, named, or listed as a gap.
        assert_eq!(counts(&p.body)[0], "4");
        assert_eq!(rates(&p.body), ["25.0%", "25.0%", "50.0%"].map(String::from));
        assert!(!p.body.contains(&format!("/entities/{}\"", s.platform)), "{}", p.body);
        assert!(!p.body.contains("海淀区"));
        let gaps = app.get_as(&cadre, "/coverage/gaps").await;
        assert!(!gaps.body.contains(&format!("/entities/{}\"", s.platform)) && gaps.body.contains("建外站"));
        // Their platform page does not exist for them; the nationwide cadre's does.
        let out = app.get_as(&cadre, &format!("/coverage/platforms/{}", s.platform)).await;
        assert_eq!(out.status, StatusCode::NOT_FOUND, "{}", out.body);
        assert!(!out.body.contains("示例外卖平台有限公司"));
        let out = app.get_as(&cadre, &format!("/coverage/gaps?chain={}", s.platform)).await;
        assert_eq!(out.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/coverage/platforms/{}", s.platform), L::Zh).await.status, StatusCode::OK);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn coverage_gap_list_links_to_units_filters_pages_and_downloads() {
    for app in apps().await {
        let s = app.seed;
        let api = app.api("/api/v1/gaps").await;
        let total = api["meta"]["total"].as_i64().unwrap();
        assert!(total >= 3, "{api}");
        for lang in [L::Zh, L::En] {
            let p = app.get("/coverage/gaps", lang).await;
            let zh = lang == L::Zh;
            assert_page(
                &p,
                lang,
                "/coverage/gaps",
                &[
                    &format!("href=\"/entities/{}\" data-testid=\"gap-unit\"", s.platform),
                    &format!("href=\"/entities/{}\" data-testid=\"gap-unit\"", s.partner),
                    &format!("href=\"/entities/{}\" data-testid=\"gap-unit\"", s.site2),
                    if zh { "单独建立党支部" } else { "establish its own branch" },
                    if zh {
                        "选派党建指导员，开展党的工作"
                    } else {
                        "assign an instructor to carry Party work there"
                    },
                    "href=\"/api/v1/gaps/export?\"",
                ],
            );
            assert_eq!(p.body.matches("data-testid=\"gap-unit\"").count() as i64, total);
        }
        // One rule; the order by members; the filters kept in the export link.
        let one = app.get("/coverage/gaps?rule=no_coverage&sort=members", L::Zh).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.body.matches("data-testid=\"gap-unit\"").count(), 1, "{}", one.body);
        assert!(one.body.contains(&format!("/entities/{}\"", s.site2)));
        assert!(one.body.contains("value=\"no_coverage\" selected") && one.body.contains("value=\"members\" selected"));
        assert!(one.body.contains("href=\"/api/v1/gaps/export?rule=no_coverage&amp;sort=members\""), "{}", one.body);
        // The export link works with the page's session.
        let file = app.http.get(format!("{}/api/v1/gaps/export?rule=no_coverage", app.base)).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK);
        assert!(file.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
        assert!(file.bytes().await.unwrap().starts_with(b"PK"));
        // Past the last page: the last page.
        let far = app.get("/coverage/gaps?page=99", L::Zh).await;
        assert_eq!(far.body.matches("data-testid=\"gap-unit\"").count() as i64, total);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn coverage_pages_explain_bad_queries() {
    for app in apps().await {
        let s = app.seed;
        for (path, zh, en) in [
            ("/coverage?date=2024-13-45", "不是有效日期", "is not a date"),
            ("/coverage?region=999999", "行政区划代码999999不存在", "no region has the code 999999"),
            ("/coverage?tier=bogus", "bogus", "bogus"),
            ("/coverage?sector=nope", "行业“nope”不存在", "no sector nope"),
            ("/coverage/gaps?rule=bogus", "未知规则“bogus”", "unknown rule bogus"),
            ("/coverage/gaps?sort=size", "sort 应为", "sort is rule, members or region"),
            ("/coverage/gaps?date=yesterday", "不是有效日期", "is not a date"),
        ] {
            for (lang, text) in [(L::Zh, zh), (L::En, en)] {
                let p = app.get(path, lang).await;
                assert_eq!(p.status, StatusCode::BAD_REQUEST, "{path}: {}", p.body);
                let problem = text_after(&p.body, "filter-problem", ">");
                assert!(problem.contains(text), "{path}: {problem}");
                assert!(p.body.contains("data-testid=\"coverage-filters\""), "{path}: the form is there to fix it");
                assert_page(&Page { status: StatusCode::OK, ..p }, lang, path, &[]);
            }
        }
        for path in [format!("/coverage/platforms/{}", s.franchisee), "/coverage/platforms/abc".into()] {
            assert_eq!(app.get(&path, L::Zh).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_visitor_not_signed_in_lands_on_the_workers_front_door() {
    for app in apps().await {
        let anonymous = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for (lang, expect) in [
            ("zh-CN", ["找驿站", "反映诉求", "查询进度"]),
            ("en", ["Find a station", "Report a need", "Follow my case"]),
        ] {
            let r =
                anonymous.get(format!("{}/", app.base)).header("cookie", format!("lang={lang}")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{lang}: no detour to the login page");
            let body = r.text().await.unwrap();
            for text in expect {
                assert!(body.contains(text), "{lang}: {text} missing");
            }
            for href in ["/stations/near", "/report", "/track", "/login"] {
                assert!(body.contains(&format!("href=\"{href}\"")), "{lang}: no link to {href}");
            }
            // Nothing of the registry reaches a visitor.
            assert!(!body.contains("data-testid=\"provinces\""), "{lang}");
        }
        // The login page leads back to the worker services; a signed-in cadre still gets the dashboard.
        let login = anonymous.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(login.contains("data-testid=\"login-worker-services\""), "{login}");
        let home = app.get("/", L::Zh).await;
        assert!(!home.body.contains("data-testid=\"front-door\""), "{}", home.body);
        app.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_form_address_opened_as_a_page_says_so() {
    for app in apps().await {
        // The case-routing form posts to /admin/case-routing; opened as a page it was an empty 405.
        let r = app.get("/admin/case-routing", L::Zh).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(r.body.contains("这个地址用于提交表单") && r.body.contains("href=\"/\""), "{}", r.body);
        let r = app.get("/admin/case-routing", L::En).await;
        assert!(r.body.contains("This address receives a form"), "{}", r.body);
        // The API answers its own JSON error.
        let r = app.get("/api/v1/imports/entities", L::En).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(r.body.contains("\"code\":\"method_not_allowed\""), "{}", r.body);
        app.db.cleanup().await;
    }
}
