//! The case statistics page in a real headless Chromium at a phone's width (390 px): the headline, the
//! charts and every grouping's table fit without scrolling sideways, in Chinese and in English.
//!
//! Needs `chromium` and `chromedriver` like `tests/browser.rs` (the phone harness is `tests/support/phone.rs`);
//! without them the test fails unless `DANGJIAN_SKIP_BROWSER=1`. Screenshots go to
//! `$DANGJIAN_SCREENSHOTS` (default: the temp folder).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{Duration, Utc};
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::CaseAction;
use dangjian_store::cases::{CaseStep, NewCase};
use dangjian_store::testing::sqlite;
use dangjian_store::AccessFilter;
use fantoccini::Locator;
use std::path::PathBuf;
use support::phone::{browser_binaries, phone, set_cookie};

#[tokio::test]
async fn the_statistics_page_fits_a_phone() {
    let Some((driver_bin, chromium)) = browser_binaries() else { return };
    let db = sqlite().await;
    let s = &db.store;
    s.create_department("SW-44", "广东省委社会工作部", "social_work", "44").await.unwrap();
    s.create_department("SW-4401", "广州市委社会工作部", "social_work", "4401").await.unwrap();
    let all = AccessFilter::unrestricted();
    let filed = Utc::now() - Duration::days(20);
    let categories = ["wage_arrears", "occupational_injury", "algorithmic_dispatch", "housing_schooling", "other"];
    for (i, region) in ["440305", "440106", "440305001", "440106", "441900"].iter().cycle().take(25).enumerate() {
        let new = NewCase {
            category: categories[i % 5].into(),
            sector: ["courier", "food_delivery", "ride_hailing"].get(i % 4).map(|s| (*s).to_owned()),
            region_code: (*region).into(),
            description: "手机宽度测试".into(),
            ..Default::default()
        };
        let at = filed + Duration::hours(i as i64 * 7);
        let done = s.submit_case(&new, &CaseSettings::default(), at).await.unwrap();
        if i % 3 != 0 {
            let step = CaseStep::new(CaseAction::Acknowledge);
            s.act_on_case(done.id, 1, &step, "cadre", &all, &CaseSettings::default(), at + Duration::hours(3))
                .await
                .unwrap();
        }
        if i % 3 == 2 {
            let step = CaseStep::new(CaseAction::Resolve);
            s.act_on_case(done.id, 2, &step, "cadre", &all, &CaseSettings::default(), at + Duration::hours(40))
                .await
                .unwrap();
            let rate = CaseStep { rating: Some(1 + i as i64 % 5), ..CaseStep::new(CaseAction::Rate) };
            s.worker_act(&done.tracking_code, &rate, &CaseSettings::default(), at + Duration::hours(50)).await.unwrap();
        }
    }
    let grants = [Grant { role: Role::DepartmentCadre, scope: Scope::Region { path: "/44/".into() } }];
    let user = support::sign_in_as(s, "gd-phone", &grants).await;
    let base = support::serve(s.clone()).await;

    let profile = tempfile::tempdir().unwrap();
    let (driver, c) = phone(&driver_bin, &chromium, profile.path()).await;
    c.goto(&format!("{base}/login")).await.unwrap();
    set_cookie(&c, dangjian_web::auth::SESSION_COOKIE, &user.session).await;
    let shots = std::env::var_os("DANGJIAN_SCREENSHOTS").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    for (lang, path) in
        [("zh-CN", "/cases/stats"), ("zh-CN", "/cases/stats?region=44"), ("en", "/cases/stats?region=4401")]
    {
        set_cookie(&c, "lang", lang).await;
        c.goto(&format!("{base}{path}")).await.unwrap();
        let h1 = c.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
        assert!(h1.contains(if lang == "en" { "Case statistics" } else { "诉求统计" }), "{path}: {h1}");
        for id in ["headline", "category-chart", "region-chart", "satisfaction-chart", "by-category", "by-region"] {
            assert!(c.find(Locator::Css(&format!("[data-testid={id}]"))).await.is_ok(), "{path}: no {id}");
        }
        let scroll = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
        assert!(scroll.as_i64().unwrap() <= 390, "{path} ({lang}) scrolls sideways: {scroll}");
        for (part, id) in [("top", "headline"), ("charts", "category-chart"), ("table", "by-region")] {
            let js = format!("document.querySelector('[data-testid={id}]').scrollIntoView()");
            c.execute(&js, vec![]).await.unwrap();
            let name = format!("dangjian-case-stats-{lang}-{}-{part}.png", path.len());
            std::fs::write(shots.join(&name), c.screenshot().await.unwrap()).unwrap();
            eprintln!("screenshot: {}", shots.join(name).display());
        }
    }
    c.close().await.unwrap();
    drop(driver);
    db.cleanup().await;
}
