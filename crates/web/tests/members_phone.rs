//! The members' rules pages in a real headless Chromium at a phone's width (390 px): the dues
//! calculator and the development checker are filled in, submitted and answered, in Chinese and in
//! English, without scrolling sideways.
//!
//! Needs `chromium` and `chromedriver` like `tests/browser.rs` (the phone harness is `tests/support/phone.rs`);
//! without them the test fails unless `DANGJIAN_SKIP_BROWSER=1`. Screenshots go to
//! `$DANGJIAN_SCREENSHOTS` (default: the temp folder).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_store::testing::sqlite;
use fantoccini::{Client, Locator};
use std::path::PathBuf;
use support::phone::{browser_binaries, fits, phone, set_cookie};

async fn shot(c: &Client, shots: &std::path::Path, name: &str) {
    let file = shots.join(format!("dangjian-members-{name}.png"));
    std::fs::write(&file, c.screenshot().await.unwrap()).unwrap();
    eprintln!("screenshot: {}", file.display());
}

async fn fill(c: &Client, name: &str, value: &str) {
    let field = c.find(Locator::Css(&format!("[name={name}]"))).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

#[tokio::test]
async fn the_members_pages_work_on_a_phone() {
    let Some((driver_bin, chromium)) = browser_binaries() else { return };
    let db = sqlite().await;
    let grants = [Grant { role: Role::BranchSecretary, scope: Scope::Organization { org_id: 1 } }];
    let user = support::sign_in_as(&db.store, "secretary-phone", &grants).await;
    let base = support::serve(db.store.clone()).await;
    let profile = tempfile::tempdir().unwrap();
    let (driver, c) = phone(&driver_bin, &chromium, profile.path()).await;
    c.goto(&format!("{base}/login")).await.unwrap();
    set_cookie(&c, dangjian_web::auth::SESSION_COOKIE, &user.session).await;
    let shots = std::env::var_os("DANGJIAN_SCREENSHOTS").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);

    // The calculator, in Chinese: a gig worker's quarter.
    set_cookie(&c, "lang", "zh-CN").await;
    c.goto(&format!("{base}/dues/calculator")).await.unwrap();
    fits(&c, "the calculator").await;
    c.find(Locator::Css("#f-category option[value=gig]")).await.unwrap().click().await.unwrap();
    fill(&c, "previous_quarter", "4000,6000,8000").await;
    c.find(Locator::Css("[data-testid=calculate]")).await.unwrap().click().await.unwrap();
    let amount = c.wait().for_element(Locator::Css("[data-testid=dues-amount]")).await;
    let amount = match amount {
        Ok(e) => e.text().await.unwrap(),
        Err(e) => panic!("{e}: {}", c.source().await.unwrap()),
    };
    assert_eq!(amount, "90.00");
    let rule = c.find(Locator::Css("[data-testid=dues-rule]")).await.unwrap().text().await.unwrap();
    assert!(rule.contains("1.5%") && rule.contains("无固定工资"), "{rule}");
    fits(&c, "the calculator's answer").await;
    c.execute("document.querySelector('[data-testid=dues-result]').scrollIntoView()", vec![]).await.unwrap();
    shot(&c, &shots, "dues-zh").await;

    // The development check, in English: a talk too late, and the rule named with its dates.
    set_cookie(&c, "lang", "en").await;
    c.goto(&format!("{base}/development/check")).await.unwrap();
    fits(&c, "the development form").await;
    // Date inputs take what the phone's picker would give: set their values directly.
    for (name, value) in [("birth_date", "2002-01-01"), ("applied_on", "2022-01-10"), ("talked_on", "2022-03-01")] {
        let js = format!("document.querySelector('[name={name}]').value = '{value}'");
        c.execute(&js, vec![]).await.unwrap();
    }
    c.find(Locator::Css("[data-testid=check]")).await.unwrap().click().await.unwrap();
    let found = c.wait().for_element(Locator::Css("[data-testid=violations]")).await.unwrap().text().await.unwrap();
    assert!(
        found.contains("applied 2022-01-10, talked 2022-03-01") && found.contains("development.talk_within_month"),
        "{found}"
    );
    fits(&c, "the development answer").await;
    shot(&c, &shots, "development-en").await;

    c.close().await.unwrap();
    drop(driver);
    db.cleanup().await;
}
