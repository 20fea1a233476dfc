//! The security commands as an operator runs them: `user add`/`user grant` (one-off passwords, the
//! three-administrator separation), `keys add-key`/`keys rotate` (re-encryption without losing data),
//! `audit verify` (tampering named by record) and `audit purge`, and masked versus full exports — each
//! on every available backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_security::field_cipher::Keyring;
use dangjian_store::accounts::Holder;
use dangjian_store::audit::AuditFilter;
use dangjian_store::testing::{self, TestDb};
use dangjian_store::{DbKind, Paging};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dangjian");

/// Runs the binary in English with `keys` as the field keys.
fn run_with_keys(keys: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--lang")
        .arg("en")
        .args(args)
        .env_remove("DANGJIAN_DB")
        .env_remove("DANGJIAN_KEY_FILE")
        .env("DANGJIAN_FIELD_KEYS", keys)
        .stdin(Stdio::null())
        .output()
        .expect("the dangjian binary runs")
}

fn run(args: &[&str]) -> Output {
    run_with_keys(&testing::keyring_env_value(), args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "--- stdout\n{}\n--- stderr\n{}", text(&out.stdout), text(&out.stderr));
}

async fn audit_actions(db: &TestDb, prefix: &str) -> Vec<String> {
    let f = AuditFilter { action: Some(prefix.into()), ..Default::default() };
    db.store
        .search_audit(&f, Paging::new(Some(1), Some(100)))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.action)
        .collect()
}

#[tokio::test]
async fn user_add_prints_a_one_off_password_and_keeps_administrators_apart() {
    for db in testing::all_backends().await {
        let out = run(&[
            "user",
            "add",
            "--db",
            &db.url,
            "--username",
            "haidian.cadre",
            "--name",
            "海淀区委社会工作部",
            "--grant",
            "department_cadre=region:110108",
        ]);
        assert_exit(&out, 0);
        let stdout = text(&out.stdout);
        let (username, password) = stdout.trim().split_once('\t').unwrap();
        assert_eq!(username, "haidian.cadre");
        assert!(password.len() >= 16, "{password}");
        let user = db.store.user_by_username("haidian.cadre").await.unwrap().unwrap();
        assert!(user.must_change_password, "the one-off password must be changed at first login");
        let hash = user.password_hash.clone();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(dangjian_security::password::verify_password(&hash, password));
        let grants = db.store.grants_of(Holder::User(user.id)).await.unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(audit_actions(&db, "user.create").await.len(), 1);
        assert_eq!(audit_actions(&db, "grant.add").await.len(), 1);

        // An administrator role is the account's only role; nothing is written when refused.
        let out = run(&[
            "user",
            "add",
            "--db",
            &db.url,
            "--username",
            "both",
            "--name",
            "x",
            "--grant",
            "system_admin=nation",
            "--grant",
            "audit_admin=nation",
        ]);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains("separation"), "{}", text(&out.stderr));
        assert!(db.store.user_by_username("both").await.unwrap().is_none());
        let out =
            run(&["user", "grant", "--db", &db.url, "--username", "haidian.cadre", "--grant", "audit_admin=nation"]);
        assert_exit(&out, 2);
        assert_eq!(db.store.grants_of(Holder::User(user.id)).await.unwrap().len(), 1);
        // A scope that does not exist is named.
        let out = run(&[
            "user",
            "add",
            "--db",
            &db.url,
            "--username",
            "nowhere",
            "--name",
            "x",
            "--grant",
            "department_cadre=region:119999",
        ]);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains("119999"), "{}", text(&out.stderr));
        assert!(db.store.user_by_username("nowhere").await.unwrap().is_none());
        db.cleanup().await;
    }
}

/// The demo's instructors, so that there is personal data to export and rotate.
async fn load_demo(db: &TestDb) {
    dangjian_cli::demo::load(&db.store).await.unwrap();
}

#[tokio::test]
async fn exports_mask_mobile_numbers_unless_asked_and_every_export_is_audited() {
    for db in testing::all_backends().await {
        load_demo(&db).await;
        let out = run(&["export", "--db", &db.url, "instructors", "--format", "csv", "-o", "-"]);
        assert_exit(&out, 0);
        let masked = text(&out.stdout);
        assert!(masked.contains("****"), "{masked}");
        assert!(!masked.lines().skip(1).any(|l| l
            .split(',')
            .any(|c| c.len() == 11 && c.starts_with('1') && c.bytes().all(|b| b.is_ascii_digit()))));
        let out =
            run(&["export", "--db", &db.url, "instructors", "--format", "csv", "--full-personal-data", "-o", "-"]);
        assert_exit(&out, 0);
        let full = text(&out.stdout);
        assert!(!full.contains("****"), "{full}");
        let actions = audit_actions(&db, "export.instructors").await;
        assert_eq!(actions.len(), 2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn keys_rotate_reencrypts_under_the_new_key_and_nothing_is_lost() {
    for db in testing::all_backends().await {
        load_demo(&db).await;
        // An account with an enrolled second factor: its secret is personal data at rest too.
        let out = run(&["user", "add", "--db", &db.url, "--username", "with.totp", "--name", "x"]);
        assert_exit(&out, 0);
        let user = db.store.user_by_username("with.totp").await.unwrap().unwrap();
        let secret = dangjian_security::totp::TotpSecret::generate();
        let sealed = dangjian_web::auth::totp::seal(&testing::keyring(), user.id, &secret).unwrap();
        db.store.set_totp(user.id, Some(&sealed), true).await.unwrap();
        let old = testing::keyring_env_value();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys.txt");
        std::fs::write(&file, old.replace(';', "\n")).unwrap();
        let out = run(&["keys", "add-key", file.to_str().unwrap()]);
        assert_exit(&out, 0);
        let new_id = text(&out.stdout).trim().to_owned();
        let new = Keyring::from_file(&file).unwrap();
        assert_eq!(new.active_key_id(), new_id);
        let before = db.store.count_values_needing_rotation(&new).await.unwrap();
        assert!(before >= 6, "every demo instructor's number and the TOTP secret are under the old key: {before}");

        let new_text = std::fs::read_to_string(&file).unwrap();
        let out = run_with_keys(&new_text, &["keys", "rotate", "--db", &db.url]);
        assert_exit(&out, 0);
        assert!(text(&out.stdout).contains(&format!("Re-encrypted {before} values")), "{}", text(&out.stdout));
        assert_eq!(db.store.count_values_needing_rotation(&new).await.unwrap(), 0);
        assert_eq!(audit_actions(&db, "keys.rotate").await.len(), 1);
        // A second run has nothing to do; the data reads the same under the new keys.
        let out = run_with_keys(&new_text, &["keys", "rotate", "--db", &db.url]);
        assert_exit(&out, 0);
        assert!(text(&out.stdout).contains("Re-encrypted 0 values"), "{}", text(&out.stdout));
        let export = |keys: &str| {
            let out = run_with_keys(
                keys,
                &["export", "--db", &db.url, "instructors", "--format", "csv", "--full-personal-data", "-o", "-"],
            );
            assert_exit(&out, 0);
            out.stdout
        };
        let user = db.store.user_by_username("with.totp").await.unwrap().unwrap();
        assert_ne!(user.totp_secret.as_deref(), Some(sealed.as_str()));
        let reopened = dangjian_web::auth::totp::open(&new, &user).unwrap().unwrap();
        assert_eq!(reopened.as_bytes(), secret.as_bytes());
        let after = export(&new_text);
        assert!(!text(&after).contains("****"));
        // Without the new key the values no longer open: the export fails rather than show garbage.
        let out = run_with_keys(
            &old,
            &["export", "--db", &db.url, "instructors", "--format", "csv", "--full-personal-data", "-o", "-"],
        );
        assert_exit(&out, 2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn audit_verify_names_the_first_tampered_record_and_purge_keeps_the_chain() {
    for db in testing::all_backends().await {
        load_demo(&db).await;
        for username in ["a.cadre", "b.cadre", "c.cadre"] {
            let out = run(&["user", "add", "--db", &db.url, "--username", username, "--name", "x"]);
            assert_exit(&out, 0);
        }
        let out = run(&["audit", "verify", "--db", &db.url]);
        assert_exit(&out, 0);
        assert!(text(&out.stdout).contains("verified: 3 records"), "{}", text(&out.stdout));

        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM audit_log ORDER BY id").fetch_all(db.store.pool()).await.unwrap();
        let drop = match db.kind {
            DbKind::Sqlite => "DROP TRIGGER audit_log_no_update",
            DbKind::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
        };
        sqlx::query(drop).execute(db.store.pool()).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE id = $1")
            .bind(ids[1])
            .execute(db.store.pool())
            .await
            .unwrap();
        let out = run(&["audit", "verify", "--db", &db.url]);
        assert_exit(&out, 1);
        assert!(text(&out.stderr).contains(&format!("broken at record {}", ids[1])), "{}", text(&out.stderr));
        sqlx::query("UPDATE audit_log SET actor = $1 WHERE id = $2")
            .bind(format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into())))
            .bind(ids[1])
            .execute(db.store.pool())
            .await
            .unwrap();
        let out = run(&["audit", "verify", "--db", &db.url]);
        assert_exit(&out, 0);

        // Records past the retention period (180 days) go; the chain still verifies from its anchor.
        sqlx::query("UPDATE audit_log SET at = '2020-01-01T00:00:00Z' WHERE id <= $1")
            .bind(ids[1])
            .execute(db.store.pool())
            .await
            .unwrap();
        let out = run(&["audit", "purge", "--db", &db.url]);
        assert_exit(&out, 0);
        assert!(text(&out.stdout).contains("Purged 2 audit records"), "{}", text(&out.stdout));
        let out = run(&["audit", "verify", "--db", &db.url]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        db.cleanup().await;
    }
}
