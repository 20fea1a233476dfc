//! The probes of outside input that used to crash or reach the database raw: a tracking code
//! cut inside a multibyte character, NUL and direction overrides in text fields and in `q`, full-width
//! digits in codes, and a page number at the top of `i64`. Each must get an answer in the API's
//! error shape (never a 5xx, never a dropped connection), naming the field. SQLite always, PostgreSQL
//! too when DANGJIAN_TEST_PG is set (where NUL used to be a 500).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dangjian_store::testing::all_backends;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn outside_input_gets_an_answer_naming_the_field() {
    for db in all_backends().await {
        let base = support::serve(db.store.clone()).await;
        let token = support::token_with_grants(&db.store, "probe", &support::nationwide_cadre()).await;
        let http = reqwest::Client::new();

        // A 9-character code whose 8th byte falls inside 中: refused, on every route that reads one.
        for path in [
            "/api/v1/cases/track/ABCDEFG%E4%B8%ADX",
            "/track/ABCDEFG%E4%B8%ADX",
            "/open311/v2/requests/ABCDEFG%E4%B8%ADX.json",
            "/open311/v2/tokens/ABCDEFG%E4%B8%ADX.json",
        ] {
            let resp = http.get(format!("{base}{path}")).send().await.expect("an answer");
            assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
        }

        // NUL, ESC and a right-to-left override in a name: 422 naming the field, nothing stored.
        for bad in ["甲站\u{0}", "甲站\u{1b}[2J", "甲站\u{202E}gpj", "甲\u{200B}站"] {
            let body = json!({"site_code": "PROBE-1", "name": bad, "kind": "platform", "sectors": ["courier"],
                              "region_code": "110105", "workers": "1"});
            let resp =
                http.post(format!("{base}/api/v1/entities")).bearer_auth(&token).json(&body).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
            let v: Value = resp.json().await.unwrap();
            assert_eq!(v["error"]["field"], "name", "{v}");
        }
        // NUL in a case's description (stored raw on SQLite, a 500 on PostgreSQL before).
        let case = json!({"category": "other", "region_code": "110105", "description": "工资\u{0}拖欠"});
        let resp = http.post(format!("{base}/api/v1/cases")).json(&case).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = resp.json().await.unwrap();
        assert!(v.to_string().contains("description"), "{v}");

        // NUL in a search: 400 naming `q`.
        let resp = http.get(format!("{base}/api/v1/entities?q=%00")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let v: Value = resp.json().await.unwrap();
        assert!(v.to_string().contains("\"q\""), "{v}");

        // Full-width letters and digits in codes are read as the ASCII they stand for.
        let body = json!({"uscc": "９１３５０１００ｍ０００１００Ｙ４３", "name": "全角平台", "kind": "platform",
                          "sectors": ["courier"], "region_code": "１１０１０５", "workers": "１２"});
        let resp = http.post(format!("{base}/api/v1/entities")).bearer_auth(&token).json(&body).send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(
            (v["uscc"].as_str(), v["region_code"].as_str(), v["workers"].as_i64()),
            (Some("91350100M000100Y43"), Some("110105"), Some(12)),
            "{v}"
        );

        // The last page number there is: an empty page, not an overflow.
        let resp = http
            .get(format!("{base}/api/v1/entities?page=9223372036854775807"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        db.cleanup().await;
    }
}
