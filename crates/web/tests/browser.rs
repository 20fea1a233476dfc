//! The pages in a real headless Chromium, driven over WebDriver (chromedriver), at a phone's width:
//! sign in through the login form as a nationwide department cadre, browse the region tree from the
//! home page down to a county, filter the units, open one and see its chain, edit it, get a
//! field-level error for an invalid value, fix it, switch language.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`); without
//! them the test fails unless `DANGJIAN_SKIP_BROWSER=1`. `CHROMEDRIVER` and `CHROMIUM` override the
//! binaries' paths. Screenshots go to `$DANGJIAN_SCREENSHOTS` (default: the temp folder).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod pages_seed;
mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use pages_seed::{seed, serve, MOBILE, MOBILE_MASKED};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::phone::browser_binaries;

/// chromedriver, stopped when the test ends however it ends.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver(binary: &PathBuf) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("{}/status", driver.url)).await {
            if r.status().is_success() {
                return driver;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not come up on port {port}");
}

async fn browser(driver: &Driver, chromium: &PathBuf, profile: &std::path::Path, width: u32, height: u32) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
                "--lang=zh-CN",
            ],
            "prefs": { "intl.accept_languages": "zh-CN,zh" },
            "mobileEmulation": { "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": width < 600 } }
        }
    });
    let serde_json::Value::Object(caps) = caps else { unreachable!() };
    ClientBuilder::rustls().unwrap().capabilities(caps).connect(&driver.url).await.expect("start a Chromium session")
}

fn screenshot_dir() -> PathBuf {
    std::env::var_os("DANGJIAN_SCREENSHOTS").map(PathBuf::from).unwrap_or_else(std::env::temp_dir)
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let path = screenshot_dir().join(format!("dangjian-{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// Clicks what navigates to another page (a link, a submit button) and waits for the new page: the
/// old document's root goes stale, the new one finishes loading.
async fn click(c: &Client, css: &str) {
    let old_root = c.find(Locator::Css("html")).await.unwrap();
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap().click().await.unwrap();
    for _ in 0..100 {
        if old_root.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..100 {
        let state = c.execute("return document.readyState", vec![]).await.unwrap();
        if state.as_str() == Some("complete") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css}: the page did not load");
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// Signs in through the login form the browser is on.
async fn sign_in(c: &Client, username: &str) {
    fill(c, "#f-username", username).await;
    fill(c, "#f-password", support::PASSWORD).await;
    click(c, "[data-testid=login-submit]").await;
}

async fn path_of(c: &Client) -> String {
    let u = c.current_url().await.unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_cadre_signs_in_with_totp_is_refused_out_of_scope_sees_masked_numbers_and_signs_out() {
    use dangjian_domain::access::{Grant, Role, Scope};
    use dangjian_security::totp::{code_at, TotpSecret};
    let Some((chromedriver, chromium)) = browser_binaries() else { return };
    let db = dangjian_store::testing::sqlite().await;
    let s = seed(&db.store).await;
    let chaoyang = db.store.region("110105").await.unwrap().path;
    let grants = [Grant { role: Role::DepartmentCadre, scope: Scope::Region { path: chaoyang } }];
    let id = support::user_with_grants(&db.store, "chaoyang", &grants).await;
    let secret = TotpSecret::generate();
    let sealed = dangjian_web::auth::totp::seal(&dangjian_store::testing::keyring(), id, &secret).unwrap();
    db.store.set_totp(id, Some(&sealed), true).await.unwrap();
    let base = serve(db.store.clone()).await;
    let driver = start_driver(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, &chromium, profile.path(), 390, 844).await;

    // Password, then the authenticator's code of the moment.
    c.goto(&format!("{base}/entities/{}", s.site)).await.unwrap();
    sign_in(&c, "chaoyang").await;
    assert!(path_of(&c).await.starts_with("/login/totp"), "{}", path_of(&c).await);
    fill(&c, "#f-code", "000000").await;
    click(&c, "[data-testid=totp-submit]").await;
    assert!(!text_of(&c, "[data-testid=totp-problem]").await.is_empty(), "a wrong code is refused");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    fill(&c, "#f-code", &code_at(&secret, now)).await;
    click(&c, "[data-testid=totp-submit]").await;
    assert_eq!(path_of(&c).await, format!("/entities/{}", s.site), "back where sign-in was asked for");
    screenshot(&c, "phone-totp-signed-in").await;

    // The site in 朝阳区: its instructor's number masked.
    let instructors = text_of(&c, "[data-testid=instructors]").await;
    assert!(instructors.contains(MOBILE_MASKED) && !instructors.contains(MOBILE), "{instructors}");
    c.goto(&format!("{base}/instructors/{}", s.instructor)).await.unwrap();
    let main = text_of(&c, "main").await;
    assert!(main.contains(MOBILE_MASKED) && !main.contains(MOBILE), "{main}");

    // The platform is registered in 海淀区: out of scope, so it does not exist for this cadre.
    c.goto(&format!("{base}/entities/{}", s.platform)).await.unwrap();
    let main = text_of(&c, "main").await;
    assert!(!main.contains("示例外卖平台有限公司"), "{main}");
    let status = c.execute("return document.title", vec![]).await.unwrap();
    assert!(status.as_str().unwrap_or_default().contains("404"), "{status}");
    screenshot(&c, "phone-out-of-scope").await;

    // Sign out: the session ends at once.
    c.goto(&format!("{base}/")).await.unwrap();
    click(&c, "[data-testid=logout]").await;
    assert!(path_of(&c).await.starts_with("/login"), "{}", path_of(&c).await);
    c.goto(&format!("{base}/entities/{}", s.site)).await.unwrap();
    assert!(path_of(&c).await.starts_with("/login"), "{}", path_of(&c).await);
    c.close().await.unwrap();
    drop(driver);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_cadre_browses_filters_and_edits_on_a_phone() {
    let Some((chromedriver, chromium)) = browser_binaries() else { return };
    let db = dangjian_store::testing::sqlite().await;
    let s = seed(&db.store).await;
    support::user_with_grants(&db.store, "cadre", &support::nationwide_cadre()).await;
    let base = serve(db.store.clone()).await;
    let driver = start_driver(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, &chromium, profile.path(), 390, 844).await;
    c.goto(&format!("{base}/")).await.unwrap();
    let width = c.execute("return window.innerWidth", vec![]).await.unwrap();
    assert_eq!(width.as_i64(), Some(390), "the viewport is a phone's");

    // Not signed in: the workers' front door, with the cadres' sign-in one tap away.
    assert_eq!(path_of(&c).await, "/");
    let front = text_of(&c, "[data-testid=front-door]").await;
    assert!(front.contains("找驿站") && front.contains("反映诉求") && front.contains("查询进度"), "{front}");
    let wide = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
    assert!(wide.as_i64().unwrap_or(i64::MAX) <= 390, "the front door fits the phone: {wide}");
    screenshot(&c, "phone-front-door").await;
    click(&c, "[data-testid=front-sign-in]").await;
    assert!(path_of(&c).await.starts_with("/login"), "{}", path_of(&c).await);
    sign_in(&c, "cadre").await;
    assert_eq!(path_of(&c).await, "/");

    // Home → 北京市 → 市辖区 → 朝阳区.
    c.goto(&format!("{base}/")).await.unwrap();
    let h1 = text_of(&c, "h1").await;
    assert!(h1.contains("平台经济党建登记"), "{h1}");
    screenshot(&c, "phone-home").await;
    click(&c, "[data-testid=provinces] a[href='/regions/11']").await;
    assert_eq!(text_of(&c, "h1").await, "北京市 11");
    click(&c, "[data-testid=children] a[href='/regions/1101']").await;
    click(&c, "[data-testid=children] a[href='/regions/110105']").await;
    let crumbs = text_of(&c, "[data-testid=breadcrumb]").await;
    assert!(crumbs.contains("北京市") && crumbs.contains("市辖区") && crumbs.contains("朝阳区"), "{crumbs}");
    let units = text_of(&c, "[data-testid=units]").await;
    for name in ["朝阳示例配送服务有限公司", "望京站", "建外站", "示例劳务合作有限公司"] {
        assert!(units.contains(name), "{name} not in {units}");
    }
    assert!(!units.contains("示例外卖平台有限公司"), "the platform is registered in 海淀区");
    screenshot(&c, "phone-region").await;

    // Filter the county's units: sites only.
    c.find(Locator::Css("#flt-kind")).await.unwrap().select_by_value("site").await.unwrap();
    click(&c, "[data-testid=filters] button[type=submit]").await;
    assert!(path_of(&c).await.contains("kind=site"));
    let units = text_of(&c, "[data-testid=units]").await;
    assert!(units.contains("望京站") && units.contains("建外站") && !units.contains("有限公司"), "{units}");
    assert!(text_of(&c, "[data-testid=count]").await.contains('2'));

    // The unit list with a text search.
    c.goto(&format!("{base}/entities")).await.unwrap();
    fill(&c, "#flt-q", "望京").await;
    click(&c, "[data-testid=filters] button[type=submit]").await;
    let units = text_of(&c, "[data-testid=units]").await;
    assert!(units.contains("望京站") && !units.contains("建外站"), "{units}");
    screenshot(&c, "phone-entities").await;

    // Open the site: its chain above, its instructor with a masked number.
    click(&c, &format!("[data-testid=units] a[href='/entities/{}']", s.site)).await;
    let above = text_of(&c, "[data-testid=ancestors]").await;
    assert!(above.contains("示例外卖平台有限公司") && above.contains("朝阳示例配送服务有限公司"), "{above}");
    let instructors = text_of(&c, "[data-testid=instructors]").await;
    assert!(instructors.contains("李明") && instructors.contains(MOBILE_MASKED) && !instructors.contains(MOBILE));
    screenshot(&c, "phone-entity").await;

    // Its franchisee shows the chain below.
    click(&c, &format!("[data-testid=ancestors] a[href='/entities/{}']", s.franchisee)).await;
    let below = text_of(&c, "[data-testid=descendants]").await;
    assert!(below.contains("望京站") && below.contains("建外站"), "{below}");
    let orgs = text_of(&c, "[data-testid=organizations]").await;
    assert!(orgs.contains("朝阳示例配送服务有限公司党支部"), "{orgs}");

    // Edit the site: 1 worker cannot hold 2 formal and 1 probationary members.
    c.goto(&format!("{base}/entities/{}", s.site)).await.unwrap();
    click(&c, "[data-testid=edit]").await;
    fill(&c, "#f-workers", "1").await;
    click(&c, "[data-testid=save]").await;
    let error = text_of(&c, "#e-party_members").await;
    assert!(error.contains("超过从业人员数1人"), "{error}");
    let field = c.find(Locator::Css("#f-party_members")).await.unwrap();
    assert_eq!(field.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    let kept = c.find(Locator::Css("#f-workers")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("1"), "the user's input is kept");
    screenshot(&c, "phone-form-error").await;
    c.execute("document.getElementById('f-workers').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&c, "phone-form-field-error").await;

    // Fix it.
    fill(&c, "#f-workers", "48").await;
    click(&c, "[data-testid=save]").await;
    assert!(text_of(&c, "[data-testid=saved]").await.contains("已保存"));
    assert_eq!(path_of(&c).await, format!("/entities/{}?saved=1", s.site));
    assert_eq!(db.store.entity(s.site).await.unwrap().workers, 48);

    // Switch to English; the choice sticks on the next page.
    click(&c, "[data-testid=lang-switch]").await;
    assert!(text_of(&c, "main").await.contains("Workers"));
    c.goto(&format!("{base}/regions/110105")).await.unwrap();
    assert!(text_of(&c, "main").await.contains("Units in 朝阳区"));
    screenshot(&c, "phone-region-en").await;

    // Nothing on a phone page is wider than the phone.
    for path in [
        "/".to_owned(),
        "/entities".into(),
        format!("/entities/{}", s.franchisee),
        format!("/entities/{}/edit", s.site),
        "/import".into(),
        "/instructors".into(),
        "/organizations".into(),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        let scroll = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
        assert!(scroll.as_i64().unwrap() <= 390, "{path} scrolls sideways: {scroll}");
    }
    c.close().await.unwrap();

    // A desktop width for comparison.
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, &chromium, profile.path(), 1280, 900).await;
    c.goto(&format!("{base}/entities")).await.unwrap();
    sign_in(&c, "cadre").await;
    assert_eq!(path_of(&c).await, "/entities", "back where the login page was asked for");
    screenshot(&c, "desktop-entities").await;
    c.goto(&format!("{base}/entities/{}", s.franchisee)).await.unwrap();
    screenshot(&c, "desktop-entity").await;
    c.close().await.unwrap();
    drop(driver);
    db.cleanup().await;
}

/// The text of the headline's organizational coverage rate.
async fn coverage_rate(c: &Client) -> String {
    text_of(c, "[data-testid=rate-coverage] .num").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nationwide_cadre_drills_into_coverage_changes_the_date_and_opens_a_gap_on_a_phone() {
    let Some((chromedriver, chromium)) = browser_binaries() else { return };
    let db = dangjian_store::testing::sqlite().await;
    let s = seed(&db.store).await;
    support::user_with_grants(&db.store, "cadre", &support::nationwide_cadre()).await;
    let base = serve(db.store.clone()).await;
    let driver = start_driver(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, &chromium, profile.path(), 390, 844).await;
    c.goto(&format!("{base}/coverage")).await.unwrap();
    sign_in(&c, "cadre").await;
    assert_eq!(path_of(&c).await, "/coverage");

    // The nation: five units, one covered by its own branch; a trend line and a bar per province.
    assert_eq!(coverage_rate(&c).await, "20.0%");
    let points = c.find_all(Locator::Css("[data-testid=trend-chart] svg [data-testid=point]")).await.unwrap();
    assert_eq!(points.len(), 72, "24 months × 3 rates");
    let chart_width = c
        .execute("return document.querySelector('[data-testid=trend-chart] svg').getBoundingClientRect().width", vec![])
        .await
        .unwrap();
    assert!(chart_width.as_f64().is_some_and(|w| w > 200.0 && w <= 390.0), "{chart_width}");
    assert_eq!(c.find_all(Locator::Css("[data-testid=children-chart] [data-testid=bar]")).await.unwrap().len(), 1);
    screenshot(&c, "phone-coverage-nation").await;
    c.execute("document.querySelector('[data-testid=trend-chart]').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&c, "phone-coverage-charts").await;

    // Down the drill-down links: 北京市 → 市辖区 → 朝阳区.
    click(&c, "[data-testid=children] a[href='/coverage?region=11']").await;
    click(&c, "[data-testid=children] a[href='/coverage?region=1101']").await;
    click(&c, "[data-testid=children] a[href='/coverage?region=110105']").await;
    let crumbs = text_of(&c, "[data-testid=breadcrumb]").await;
    assert!(crumbs.contains("全国") && crumbs.contains("北京市") && crumbs.contains("朝阳区"), "{crumbs}");
    assert_eq!(coverage_rate(&c).await, "25.0%", "four units in the county, one covered");
    assert_eq!(text_of(&c, "[data-testid=count-units] dd").await, "4");
    screenshot(&c, "phone-coverage-county").await;

    // Back to 2021: before the branch was set up, nothing was covered.
    let date = c.find(Locator::Css("#cf-date")).await.unwrap();
    date.clear().await.unwrap();
    date.send_keys("2021-01-01").await.unwrap();
    let typed = date.prop("value").await.unwrap().unwrap_or_default();
    if typed != "2021-01-01" {
        // Some builds want the digits in the locale's field order.
        date.clear().await.unwrap();
        date.send_keys("01012021").await.unwrap();
    }
    assert_eq!(date.prop("value").await.unwrap().as_deref(), Some("2021-01-01"));
    click(&c, "[data-testid=coverage-submit]").await;
    let here = path_of(&c).await;
    assert!(here.contains("date=2021-01-01") && here.contains("region=110105"), "{here}");
    assert_eq!(coverage_rate(&c).await, "0.0%");
    assert!(text_of(&c, "[data-testid=as-of]").await.contains("2021-01-01"));
    screenshot(&c, "phone-coverage-2021").await;

    // A gap of that day: the franchisee had three or more members and no organization yet.
    let first = c.find(Locator::Css("[data-testid=gaps] [data-testid=gap-unit]")).await.unwrap();
    let href = first.attr("href").await.unwrap().unwrap_or_default();
    assert_eq!(href, format!("/entities/{}", s.franchisee));
    click(&c, "[data-testid=gaps] [data-testid=gap-unit]").await;
    assert_eq!(path_of(&c).await, href);
    assert!(text_of(&c, "h1").await.contains("朝阳示例配送服务有限公司"));

    // No coverage page is wider than the phone.
    for path in [
        "/coverage".to_owned(),
        "/coverage?region=110105&date=2021-01-01".into(),
        format!("/coverage/platforms/{}", s.platform),
        "/coverage/gaps".into(),
        "/coverage?date=2024-13-45".into(),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        assert!(c.find(Locator::Css("main h1")).await.is_ok(), "{path}");
        let scroll = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
        assert!(scroll.as_i64().unwrap() <= 390, "{path} scrolls sideways: {scroll}");
    }
    screenshot(&c, "phone-coverage-gaps").await;
    c.close().await.unwrap();
    drop(driver);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_finds_a_station_reports_anonymously_follows_the_case_and_rates_what_a_cadre_resolved() {
    use dangjian_domain::services::stations::{StationDraft, StationInput};
    let Some((chromedriver, chromium)) = browser_binaries() else { return };
    let db = dangjian_store::testing::sqlite().await;
    seed(&db.store).await;
    let station = StationInput {
        code: Some("CY-ST-01".into()),
        name: Some("望京暖心驿站".into()),
        operator_department: Some("朝阳区总工会".into()),
        address: Some("朝阳区望京街10号".into()),
        region_code: Some("110105".into()),
        latitude: Some("39.9960".into()),
        longitude: Some("116.4700".into()),
        amenities: vec!["drinking_water".into(), "phone_charging".into()],
        opening_hours: Some("24h".into()),
        ..Default::default()
    };
    let all = dangjian_store::AccessFilter::unrestricted();
    db.store.create_station(&StationDraft::parse(&station).unwrap(), &all).await.unwrap();
    db.store.create_department("CY-HR", "朝阳区人社局", "human_resources", "110105").await.unwrap();
    db.store.create_department("BJ-SW", "北京市委社会工作部", "social_work", "11").await.unwrap();
    let beijing = vec![dangjian_domain::access::Grant {
        role: dangjian_domain::access::Role::DepartmentCadre,
        scope: dangjian_domain::access::Scope::Region { path: "/11/".into() },
    }];
    support::user_with_grants(&db.store, "chaoyang-cadre", &beijing).await;
    let base = serve(db.store.clone()).await;
    let driver = start_driver(&chromedriver).await;
    let (worker_profile, cadre_profile) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let worker = browser(&driver, &chromium, worker_profile.path(), 390, 844).await;

    // A rider near 望京 looks for a station: it is there, open, with water; no sign-in anywhere.
    worker.goto(&format!("{base}/stations/near?lat=39.9990&lng=116.4740")).await.unwrap();
    let found = text_of(&worker, "[data-testid=near-results]").await;
    assert!(found.contains("望京暖心驿站") && found.contains("饮水"), "{found}");
    screenshot(&worker, "phone-finder").await;

    // From there, a case: 欠薪 in "朝阳区" — two places have that name, so the page asks which.
    click(&worker, "[data-testid=report-link]").await;
    assert_eq!(path_of(&worker).await, "/report");
    let privacy = text_of(&worker, "[data-testid=report-privacy]").await;
    assert!(privacy.contains("匿名") && privacy.contains("不记录您的位置"), "{privacy}");
    worker.find(Locator::Css("#f-category option[value=wage_arrears]")).await.unwrap().click().await.unwrap();
    fill(&worker, "#f-district", "朝阳区").await;
    fill(&worker, "#f-description", "站点拖欠三个月工资，共计一万二千元。").await;
    worker.find(Locator::Css("[data-testid=anonymous]")).await.unwrap().click().await.unwrap();
    click(&worker, "[data-testid=submit-case]").await;
    let choices = text_of(&worker, "[data-testid=district-choices]").await;
    assert!(choices.contains("北京市") && choices.contains("吉林省"), "{choices}");
    worker
        .find(Locator::Css("[data-testid=district-choices] input[value='110105']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    screenshot(&worker, "phone-report-choose-place").await;
    click(&worker, "[data-testid=submit-case]").await;

    // Filed: the tracking page with the code to keep.
    let code = text_of(&worker, "[data-testid=tracking-code]").await;
    assert!(path_of(&worker).await.starts_with(&format!("/track/{code}")), "{}", path_of(&worker).await);
    assert_eq!(text_of(&worker, "[data-testid=status]").await, "待受理");
    assert!(text_of(&worker, "[data-testid=case-status]").await.contains("朝阳区人社局"));
    screenshot(&worker, "phone-case-filed").await;

    // Later, on the same phone: follow it by typing the code.
    worker.goto(&format!("{base}/track")).await.unwrap();
    fill(&worker, "#f-code", &code.to_lowercase()).await;
    click(&worker, "[data-testid=follow]").await;
    assert_eq!(path_of(&worker).await, format!("/track/{code}"));
    assert_eq!(text_of(&worker, "[data-testid=status]").await, "待受理");

    // The district's cadre signs in, finds it in the inbox, acknowledges it and resolves it with a
    // public reply and an internal note.
    let cadre = browser(&driver, &chromium, cadre_profile.path(), 390, 844).await;
    cadre.goto(&format!("{base}/cases")).await.unwrap();
    sign_in(&cadre, "chaoyang-cadre").await;
    cadre.goto(&format!("{base}/cases")).await.unwrap();
    let inbox = text_of(&cadre, "[data-testid=inbox]").await;
    assert!(inbox.contains(&code) && inbox.contains("欠薪"), "{inbox}");
    click(&cadre, "[data-testid=inbox] a[href^='/cases/']").await;
    assert!(text_of(&cadre, "[data-testid=description]").await.contains("拖欠三个月工资"));
    click(&cadre, "[data-testid=do-acknowledge]").await;
    assert_eq!(text_of(&cadre, "[data-testid=status]").await, "办理中");
    fill(&cadre, "[data-testid=step-note] textarea", "已联系站点负责人核实").await;
    click(&cadre, "[data-testid=do-note]").await;
    fill(&cadre, "[data-testid=step-resolve] textarea", "经协调，站点已于本周补发全部工资。").await;
    click(&cadre, "[data-testid=do-resolve]").await;
    assert!(text_of(&cadre, "[data-testid=status]").await.contains("已办结"));
    screenshot(&cadre, "phone-cadre-resolved").await;

    // The worker sees the resolution (not the internal note) and rates it.
    worker.goto(&format!("{base}/track/{code}")).await.unwrap();
    let history = text_of(&worker, "[data-testid=history]").await;
    assert!(history.contains("站点已于本周补发全部工资"), "{history}");
    assert!(!history.contains("已联系站点负责人核实"), "an internal note leaked: {history}");
    worker.find(Locator::Css("[data-testid=rating-5]")).await.unwrap().click().await.unwrap();
    click(&worker, "[data-testid=rate]").await;
    assert_eq!(text_of(&worker, "[data-testid=status]").await, "已关闭");
    assert_eq!(text_of(&worker, "[data-testid=rating]").await, "★★★★★");
    screenshot(&worker, "phone-case-rated").await;
    cadre.close().await.unwrap();
    worker.close().await.unwrap();
}
