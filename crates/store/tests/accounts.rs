//! Accounts, grants, sessions, tokens and the audit chain, on SQLite and (when configured) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_store::accounts::Holder;
use dangjian_store::audit::{AuditEntry, AuditFilter, VerifyError};
use dangjian_store::testing::all_backends;
use dangjian_store::{DbKind, Paging, StoreError};

#[tokio::test]
async fn users_grants_sessions_and_tokens() {
    for db in all_backends().await {
        let s = &db.store;
        let u = s.create_user("Wang.Fang", "王芳", "$argon2id$fake", true).await.unwrap();
        assert_eq!(u.username, "wang.fang");
        assert!(matches!(s.create_user("wang.fang", "x", "h", false).await, Err(StoreError::Invalid(_))));
        assert!(matches!(s.create_user("a b", "x", "h", false).await, Err(StoreError::Invalid(_))));
        let cadre = Grant { role: Role::DepartmentCadre, scope: Scope::Region { path: "/44/4403/".into() } };
        let g = s.add_grant(Holder::User(u.id), &cadre, None).await.unwrap();
        assert_eq!(g.grant, cadre);
        let wrong = Grant { role: Role::DepartmentCadre, scope: Scope::Chain { root_id: 1 } };
        assert!(matches!(s.add_grant(Holder::User(u.id), &wrong, None).await, Err(StoreError::Invalid(_))));
        assert_eq!(s.grants_of(Holder::User(u.id)).await.unwrap().len(), 1);

        // Lockout after the threshold.
        assert_eq!(s.record_login_failure(u.id, 3, "2099-01-01T00:00:00Z").await.unwrap(), None);
        assert_eq!(s.record_login_failure(u.id, 3, "2099-01-01T00:00:00Z").await.unwrap(), None);
        assert!(s.record_login_failure(u.id, 3, "2099-01-01T00:00:00Z").await.unwrap().is_some());
        assert!(s.user(u.id).await.unwrap().locked_until.is_some());
        s.clear_login_failures(u.id).await.unwrap();
        assert_eq!(s.user(u.id).await.unwrap().locked_until, None);

        // TOTP steps cannot be replayed.
        assert!(s.use_totp_step(u.id, 100).await.unwrap());
        assert!(!s.use_totp_step(u.id, 100).await.unwrap());
        assert!(s.use_totp_step(u.id, 101).await.unwrap());

        s.create_session("h1", u.id, "csrf", "2099-01-01T00:00:00Z", false, Some("127.0.0.1"), "2026-01-01T00:00:00Z")
            .await
            .unwrap();
        s.create_session("h2", u.id, "csrf", "2099-01-01T00:00:00Z", true, None, "2026-01-01T00:00:00Z").await.unwrap();
        assert!(!s.session("h1").await.unwrap().unwrap().second_factor_done);
        assert_eq!(s.revoke_user_sessions(u.id).await.unwrap(), 2);
        assert!(s.session("h2").await.unwrap().unwrap().revoked_at.is_some());

        let t = s.create_token("美团总部同步", "hash-1", Some(u.id)).await.unwrap();
        s.add_grant(
            Holder::Token(t.id),
            &Grant { role: Role::PlatformCommittee, scope: Scope::Chain { root_id: 9 } },
            Some(u.id),
        )
        .await
        .unwrap();
        assert_eq!(s.use_token("hash-1").await.unwrap().map(|t| t.id), Some(t.id));
        assert!(s.token(t.id).await.unwrap().last_used_at.is_some());
        s.revoke_token(t.id).await.unwrap();
        assert_eq!(s.use_token("hash-1").await.unwrap(), None);

        s.set_setting("lockout_threshold", "5", Some(u.id)).await.unwrap();
        s.set_setting("lockout_threshold", "6", Some(u.id)).await.unwrap();
        assert_eq!(s.settings().await.unwrap().get("lockout_threshold").map(String::as_str), Some("6"));
        db.cleanup().await;
    }
}

fn entry(action: &str, n: usize) -> AuditEntry {
    AuditEntry {
        actor: "auditor".into(),
        action: action.into(),
        object_type: Some("entity".into()),
        object_id: Some(n.to_string()),
        outcome: "ok".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_audit_chain_detects_tampering_and_survives_purging() {
    for db in all_backends().await {
        let s = &db.store;
        let mut ids = Vec::new();
        for i in 0..6 {
            ids.push(s.append_audit(&entry("entity.update", i)).await.unwrap());
        }
        let summary = s.verify_audit().await.unwrap();
        assert_eq!(summary.records, 6);
        let found = s
            .search_audit(&AuditFilter { action: Some("entity.".into()), ..Default::default() }, Paging::default())
            .await
            .unwrap();
        assert_eq!(found.total, 6);
        assert_eq!(found.items[0].id, ids[5], "newest first");

        // Nobody can edit a record through SQL...
        let edit =
            sqlx::query("UPDATE audit_log SET outcome = 'denied' WHERE id = $1").bind(ids[2]).execute(s.pool()).await;
        assert!(edit.is_err(), "the append-only trigger refuses updates");
        // ...and an attacker who removes the trigger is caught by verification.
        let drop = match db.kind {
            DbKind::Sqlite => "DROP TRIGGER audit_log_no_update",
            DbKind::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
        };
        sqlx::query(drop).execute(s.pool()).await.unwrap();
        sqlx::query("UPDATE audit_log SET outcome = 'denied' WHERE id = $1")
            .bind(ids[2])
            .execute(s.pool())
            .await
            .unwrap();
        match s.verify_audit().await {
            Err(VerifyError::Broken(b)) => assert_eq!(b.id, ids[2]),
            other => panic!("{other:?}"),
        }
        sqlx::query("UPDATE audit_log SET outcome = 'ok' WHERE id = $1").bind(ids[2]).execute(s.pool()).await.unwrap();
        assert!(s.verify_audit().await.is_ok());
        // Deleting a record in the middle breaks the chain at the next one.
        let all = s.search_audit(&AuditFilter::default(), Paging::default()).await.unwrap();
        let third = all.items.iter().find(|r| r.id == ids[3]).unwrap().clone();
        sqlx::query("DELETE FROM audit_log WHERE id = $1").bind(ids[3]).execute(s.pool()).await.unwrap();
        match s.verify_audit().await {
            Err(VerifyError::Broken(b)) => assert_eq!(b.id, ids[4]),
            other => panic!("{other:?}"),
        }
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, object_type, object_id, outcome, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(third.id)
        .bind(third.at.clone())
        .bind(third.actor.clone())
        .bind(third.action.clone())
        .bind(third.object_type.clone())
        .bind(third.object_id.clone())
        .bind(third.outcome.clone())
        .bind(third.prev_hash.clone())
        .bind(third.hash.clone())
        .execute(s.pool())
        .await
        .unwrap();
        assert!(s.verify_audit().await.is_ok());

        // Purging the oldest keeps what remains verifiable.
        let cutoff =
            s.search_audit(&AuditFilter::default(), Paging::default()).await.unwrap().items.last().unwrap().at.clone();
        let later = chrono::DateTime::parse_from_rfc3339(&cutoff).unwrap() + chrono::Duration::seconds(1);
        let purged = s.purge_audit(&later.to_rfc3339()).await.unwrap();
        assert!(purged >= 1);
        s.append_audit(&entry("entity.create", 7)).await.unwrap();
        let after = s.verify_audit().await.unwrap();
        assert_eq!(after.records, 7 - purged);
        db.cleanup().await;
    }
}
