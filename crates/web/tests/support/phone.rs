//! Chromium for the browser suites (finding it, or skipping with `DANGJIAN_SKIP_BROWSER=1`) and at a
//! phone's width (390 px) for the phone suites: chromedriver started and stopped with the
//! test, the browser in mobile emulation, and the checks those suites share.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{Client, ClientBuilder};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// chromedriver, stopped when the test ends however it ends.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A binary named by `env`, or the first of `candidates` on the PATH or where Debian puts Chromium.
pub fn find_binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> =
        std::env::split_paths(&path).chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")]).collect();
    candidates.iter().flat_map(|c| dirs.iter().map(move |d| d.join(c))).find(|p| p.exists())
}

/// chromedriver and chromium, or `None` when `DANGJIAN_SKIP_BROWSER=1`; a missing binary fails the test.
pub fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
    if std::env::var("DANGJIAN_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("DANGJIAN_SKIP_BROWSER=1: browser test skipped");
        return None;
    }
    let Some(chromedriver) = find_binary("CHROMEDRIVER", &["chromedriver"]) else {
        panic!("chromedriver not found: apt-get install chromium chromium-driver, or set DANGJIAN_SKIP_BROWSER=1");
    };
    let Some(chromium) = find_binary("CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]) else {
        panic!("chromium not found: apt-get install chromium chromium-driver, or set DANGJIAN_SKIP_BROWSER=1");
    };
    Some((chromedriver, chromium))
}

/// chromedriver on a free port and a Chromium client emulating a 390 × 844 phone.
pub async fn phone(driver_bin: &PathBuf, chromium: &PathBuf, profile: &std::path::Path) -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=390,844", format!("--user-data-dir={}", profile.display())],
            "mobileEmulation": { "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 1.0, "touch": true } }
        }
    });
    let serde_json::Value::Object(caps) = caps else { unreachable!() };
    let client = ClientBuilder::rustls().unwrap().capabilities(caps).connect(&url).await.expect("start Chromium");
    (driver, client)
}

/// Sets a cookie for the whole site from the page (WebDriver's own cookie call wants a domain name).
pub async fn set_cookie(c: &Client, name: &str, value: &str) {
    let js = format!("document.cookie = '{name}={value}; path=/'");
    c.execute(&js, vec![]).await.unwrap();
}

/// Fails naming the elements wider than the phone when the page scrolls sideways.
pub async fn fits(c: &Client, what: &str) {
    let scroll = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
    if scroll.as_i64().unwrap() > 390 {
        let js = "return [...document.querySelectorAll('body *')].filter(e => e.scrollWidth > 390 || e.getBoundingClientRect().right > 390)\
                  .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + e.scrollWidth + '/' + Math.round(e.getBoundingClientRect().right)).join('; ')";
        let wide = c.execute(js, vec![]).await.unwrap();
        panic!("{what} scrolls sideways: {scroll}: {wide}");
    }
}
