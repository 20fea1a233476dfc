//! `dangjian open311` and `dangjian bench cases` as an operator runs them, on every available backend:
//! a client's key is printed once and works, the database and `list` never show it, `revoke` shuts it
//! out, every change is audited; the case benchmark runs end to end and reports every variant.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_security::token::hash_token;
use dangjian_store::audit::AuditFilter;
use dangjian_store::testing;
use dangjian_store::Paging;
use sqlx::Row;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dangjian");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--lang")
        .arg("en")
        .args(args)
        .env_remove("DANGJIAN_DB")
        .env_remove("DANGJIAN_KEY_FILE")
        .env("DANGJIAN_FIELD_KEYS", testing::keyring_env_value())
        .stdin(Stdio::null())
        .output()
        .expect("the dangjian binary runs")
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn open311_clients_are_added_listed_and_revoked() {
    for db in testing::all_backends().await {
        let added = ok(&run(&["open311", "add-client", "--db", &db.url, "随手拍", "--extended-statuses"]));
        let fields: Vec<&str> = added.trim().split('\t').collect();
        assert_eq!(fields.len(), 3, "{added}");
        let (id, key) = (fields[0], fields[2]);
        assert!(key.starts_with("dj_") && key.len() == 46, "{key}");
        let client = db.store.use_open311_key(&hash_token(key)).await.unwrap().expect("the printed key works");
        assert!(client.extended_statuses && client.created_by.starts_with("cli:"));

        let listed = ok(&run(&["open311", "list", "--db", &db.url]));
        assert!(listed.contains("随手拍") && !listed.contains(key), "{listed}");
        ok(&run(&["open311", "revoke", "--db", &db.url, id]));
        assert!(db.store.use_open311_key(&hash_token(key)).await.unwrap().is_none());
        let missing = run(&["open311", "revoke", "--db", &db.url, "999"]);
        assert_eq!(missing.status.code(), Some(2));

        let f = AuditFilter { action: Some("open311_client.".into()), ..Default::default() };
        let audit = db.store.search_audit(&f, Paging::default()).await.unwrap();
        let actions: Vec<String> = audit.items.iter().map(|r| r.action.clone()).collect();
        assert!(actions.contains(&"open311_client.create".into()) && actions.contains(&"open311_client.revoke".into()));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_case_benchmark_reports_every_variant() {
    for db in testing::all_backends().await {
        let out = ok(&run(&["bench", "cases", "--db", &db.url, "--cases", "16"]));
        for variant in [
            "store, concurrency 1, with contact",
            "store, concurrency 8, with contact",
            "store, concurrency 1, no contact",
            "HTTP, concurrency 1, with contact",
            "HTTP, concurrency 8, with contact",
            "HTTP, concurrency 1, no contact",
        ] {
            assert!(out.contains(&format!("| {variant} |")), "{variant} missing:\n{out}");
        }
        assert!(out.contains("concurrency 8 ÷ 1"), "{out}");
        // Its contacts are sealed with keys made for the run, so count rather than read them.
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM cases").fetch_one(db.store.pool()).await.unwrap().get("n");
        assert_eq!(n, 6 * 16, "every filed case is there");
        // Its own department does not make the database "in use"; another one does.
        ok(&run(&["bench", "cases", "--db", &db.url, "--cases", "10"]));
        db.store.create_department("GD-HR", "广东省人社厅", "human_resources", "44").await.unwrap();
        let refused = run(&["bench", "cases", "--db", &db.url, "--cases", "10"]);
        assert_eq!(refused.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("scratch database"));
        db.cleanup().await;
    }
}
