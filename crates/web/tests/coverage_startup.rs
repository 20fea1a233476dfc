//! Start-up: the server answers while the coverage index builds. Coverage routes answer 503 with
//! `Retry-After` (JSON for the API, a page in Chinese or English for the dashboard) until the build is
//! done, then the figures; every other page answers at once. On SQLite and (when DANGJIAN_TEST_PG is
//! set) PostgreSQL, through the real `serve`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dangjian_store::testing::all_backends;
use dangjian_web::AppState;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn coverage_routes_say_when_to_come_back_while_the_index_builds_and_other_pages_answer() {
    for db in all_backends().await {
        let mut state = AppState::new(db.store.clone(), dangjian_security::field_cipher::Keyring::generate());
        state.coverage = state.coverage.clone().with_build_patience(Duration::from_millis(100));
        // The build started by `serve` waits until the hold is dropped.
        let hold = state.coverage.hold_builds().await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let serving = state.clone();
        tokio::spawn(async move {
            dangjian_web::serve(serving, "127.0.0.1:0".parse().unwrap(), move |a| {
                let _ = tx.send(a);
            })
            .await
            .unwrap()
        });
        let base = format!("http://{}", rx.await.unwrap());
        let token = support::token_with_grants(&db.store, "client", &support::nationwide_cadre_and_admin()).await;
        let api = |path: &str| {
            reqwest::Client::new()
                .get(format!("{base}{path}"))
                .header("authorization", format!("Bearer {token}"))
                .header("accept-language", "en")
        };

        let r = api("/api/v1/coverage").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", db.url);
        assert!(retry_after(&r) >= 1, "a Retry-After in whole seconds");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "coverage_building");
        assert!(body["error"]["message"].as_str().unwrap().contains("try again in about"), "{body}");
        for path in ["/api/v1/coverage/trend", "/api/v1/gaps"] {
            assert_eq!(api(path).send().await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        }

        // Everything else answers, writes included.
        assert_eq!(api("/api/v1/regions?per_page=5").send().await.unwrap().status(), StatusCode::OK);
        let r = reqwest::Client::new()
            .post(format!("{base}/api/v1/entities"))
            .header("authorization", format!("Bearer {token}"))
            .json(&json!({"uscc": "91350100M000100Y43", "name": "速达外卖平台", "kind": "platform",
                "sectors": ["food_delivery"], "region_code": "110105", "workers": "120", "party_members": "30"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);

        let user = support::sign_in_as(&db.store, "cadre", &support::nationwide_cadre()).await;
        let page = |path: &str, lang: &str| {
            reqwest::Client::new().get(format!("{base}{path}")).header("cookie", user.cookie_with_lang(lang))
        };
        assert_eq!(page("/", "zh").send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(page("/entities", "en").send().await.unwrap().status(), StatusCode::OK);
        for (lang, words) in [("zh", "覆盖率数据正在准备中"), ("en", "still being prepared")] {
            let r = page("/coverage", lang).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{lang}");
            assert!(retry_after(&r) >= 1);
            let html = r.text().await.unwrap();
            assert!(html.contains(words), "{lang}: {html}");
        }
        let r = page("/coverage/gaps", "en").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);

        // Once the build is done, the figures, with the unit written meanwhile.
        drop(hold);
        let mut answered = None;
        for _ in 0..200 {
            let r = api("/api/v1/coverage").send().await.unwrap();
            if r.status() == StatusCode::OK {
                answered = Some(r.json::<Value>().await.unwrap());
                break;
            }
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let figures = answered.expect("the coverage API answers once the index is built");
        assert_eq!(figures["totals"]["units"], 1, "{figures}");
        let r = page("/coverage", "en").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        db.cleanup().await;
    }
}
