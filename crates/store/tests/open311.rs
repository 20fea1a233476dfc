//! Open311 in the store, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: a tracking-code clash is
//! retried inside a savepoint on both backends; client keys are kept only as hashes, and a revoked or
//! unknown key opens nothing; cases remember the client that filed them and are listed to it only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::{tracking_code, CaseStatus};
use dangjian_security::token::{hash_token, NewApiToken};
use dangjian_store::cases::{NewCase, TRACKING_CODE_TRIES};
use dangjian_store::open311::RequestQuery;
use dangjian_store::testing::all_backends;
use dangjian_store::StoreError;
use sqlx::Row;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().with_timezone(&Utc)
}

fn case() -> NewCase {
    NewCase { category: "other".into(), region_code: "440305".into(), description: "x".into(), ..Default::default() }
}

#[tokio::test]
async fn a_tracking_code_clash_is_retried_on_both_backends() {
    for db in all_backends().await {
        let s = &db.store;
        s.create_department("GD-SW", "广东省委社会工作部", "social_work", "44").await.unwrap();
        let taken = tracking_code(1);
        let first = s.submit_case_with_codes(&case(), &CaseSettings::default(), now(), || taken.clone()).await.unwrap();
        assert_eq!(first.tracking_code, taken);

        // The next filing draws the taken code twice, then a free one: filed with the free one, in the
        // same transaction (PostgreSQL would have aborted it without the savepoint).
        let mut draws = vec![tracking_code(2), taken.clone(), taken.clone()];
        let second =
            s.submit_case_with_codes(&case(), &CaseSettings::default(), now(), || draws.pop().unwrap()).await.unwrap();
        assert_eq!(second.tracking_code, tracking_code(2), "{:?}", db.kind);
        assert!(draws.is_empty());
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM case_events WHERE case_id = $1")
            .bind(second.id)
            .fetch_one(s.pool())
            .await
            .unwrap()
            .get("n");
        assert_eq!(n, 1, "the submit event of the retried case");

        // Only clashes: given up after a bounded number of draws, nothing written.
        let mut drawn = 0;
        let err = s
            .submit_case_with_codes(&case(), &CaseSettings::default(), now(), || {
                drawn += 1;
                taken.clone()
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { code: "tracking_code_clash", .. }), "{err:?}");
        assert_eq!(drawn, TRACKING_CODE_TRIES);
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM cases").fetch_one(s.pool()).await.unwrap().get("n");
        assert_eq!(n, 2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn client_keys_are_hashed_and_revocable() {
    for db in all_backends().await {
        let s = &db.store;
        let key = NewApiToken::generate();
        let client = s.create_open311_client("街道通", key.hash(), true, "cli:test").await.unwrap();
        assert!(client.extended_statuses && client.revoked_at.is_none() && client.last_used_at.is_none());
        let dump: Vec<String> = sqlx::query("SELECT name, key_hash, created_by FROM open311_clients")
            .fetch_all(s.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| format!("{}|{}|{}", r.get::<String, _>(0), r.get::<String, _>(1), r.get::<String, _>(2)))
            .collect();
        assert!(!dump.iter().any(|row| row.contains(key.secret())), "{dump:?}");

        let used = s.use_open311_key(&hash_token(key.secret())).await.unwrap().unwrap();
        assert_eq!(used.id, client.id);
        assert!(s.open311_client(client.id).await.unwrap().last_used_at.is_some());
        assert!(s.use_open311_key(&hash_token("dj_unknown")).await.unwrap().is_none());
        let revoked = s.revoke_open311_client(client.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert!(s.use_open311_key(key.hash()).await.unwrap().is_none());
        assert_eq!(s.revoke_open311_client(client.id).await.unwrap().revoked_at, revoked.revoked_at);
        assert!(matches!(s.revoke_open311_client(999).await, Err(StoreError::NotFound)));
        let err = s.create_open311_client(" ", "h", false, "cli:test").await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref e) if e.0[0].field == "name"), "{err:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn cases_are_listed_by_code_or_to_the_client_that_filed_them() {
    for db in all_backends().await {
        let s = &db.store;
        s.create_department("GD-SW", "广东省委社会工作部", "social_work", "44").await.unwrap();
        let a = s.create_open311_client("A", "hash-a", false, "cli:test").await.unwrap();
        let b = s.create_open311_client("B", "hash-b", false, "cli:test").await.unwrap();
        let cal = CaseSettings::default();
        let by_a = s.submit_case(&NewCase { open311_client_id: Some(a.id), ..case() }, &cal, now()).await.unwrap();
        let wage = NewCase { open311_client_id: Some(a.id), category: "wage_arrears".into(), ..case() };
        let by_a2 = s.submit_case(&wage, &cal, now() + chrono::Duration::hours(1)).await.unwrap();
        let by_b = s.submit_case(&NewCase { open311_client_id: Some(b.id), ..case() }, &cal, now()).await.unwrap();
        let direct = s.submit_case(&case(), &cal, now()).await.unwrap();

        let codes = |q: RequestQuery| async move {
            s.open311_requests(&q).await.unwrap().into_iter().map(|c| c.tracking_code).collect::<Vec<_>>()
        };
        assert_eq!(
            codes(RequestQuery { client_id: Some(a.id), ..Default::default() }).await,
            [by_a2.tracking_code.clone(), by_a.tracking_code.clone()]
        );
        assert_eq!(
            codes(RequestQuery { client_id: Some(a.id), category: Some("other".into()), ..Default::default() }).await,
            [by_a.tracking_code.as_str()]
        );
        assert_eq!(
            codes(RequestQuery {
                client_id: Some(a.id),
                start: Some("2026-11-27T08:30:00Z".into()),
                ..Default::default()
            })
            .await,
            [by_a2.tracking_code.as_str()]
        );
        assert!(codes(RequestQuery {
            client_id: Some(a.id),
            statuses: vec![CaseStatus::Closed],
            ..Default::default()
        })
        .await
        .is_empty());
        // By code: any case, whoever filed it; other filters are ignored.
        let named = codes(RequestQuery {
            codes: vec![direct.tracking_code.clone(), by_b.tracking_code.clone()],
            client_id: Some(a.id),
            ..Default::default()
        })
        .await;
        assert_eq!(named.len(), 2);
        assert!(codes(RequestQuery::default()).await.is_empty());
        let q = RequestQuery { codes: vec![by_a.tracking_code.clone()], ..Default::default() };
        let one = s.open311_requests(&q).await.unwrap();
        assert_eq!(
            (one[0].department_name.as_str(), one[0].updated_at.as_str()),
            ("广东省委社会工作部", "2026-11-27T08:00:00Z")
        );
        db.cleanup().await;
    }
}
