//! The audit log: append-only, each record chained to the one before by an SM3 hash, so that
//! `dangjian audit verify` can prove the log whole or name the first record that breaks it.

use crate::error::{StoreError, StoreResult};
use crate::query::Where;
use crate::{now_text, DbKind, Page, Paging, Store};
use dangjian_security::audit_chain::{canonical, chain_hash, verify_chain, BrokenAt, ChainLink, ChainSummary, GENESIS};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// What happened, as the caller knows it. Never personal data in `detail`.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    /// Username, `token:<name>` or `anonymous`.
    pub actor: String,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    pub client_ip: Option<String>,
    /// e.g. `login`, `login_failed`, `entity.update`, `instructor.read_personal`, `export.entities`.
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    pub request_id: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    /// UTC, RFC 3339.
    pub at: String,
    pub actor: String,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    pub client_ip: Option<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The bytes the hash covers: every field but the id and the hashes, length-prefixed.
    pub fn canonical(&self) -> Vec<u8> {
        let opt_i = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        canonical(&[
            ("at", &self.at),
            ("actor", &self.actor),
            ("actor_user_id", &opt_i(self.actor_user_id)),
            ("actor_token_id", &opt_i(self.actor_token_id)),
            ("client_ip", &opt(&self.client_ip)),
            ("action", &self.action),
            ("object_type", &opt(&self.object_type)),
            ("object_id", &opt(&self.object_id)),
            ("outcome", &self.outcome),
            ("request_id", &opt(&self.request_id)),
            ("detail", &opt(&self.detail)),
        ])
    }
}

fn record_from_row(r: &AnyRow) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        actor_user_id: r.try_get("actor_user_id")?,
        actor_token_id: r.try_get("actor_token_id")?,
        client_ip: r.try_get("client_ip")?,
        action: r.try_get("action")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        outcome: r.try_get("outcome")?,
        request_id: r.try_get("request_id")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Filters for searching the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Action prefix, e.g. `entity.` or `login`.
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub outcome: Option<String>,
    /// RFC 3339 bounds (inclusive from, exclusive to).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Why verification did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Broken(#[from] BrokenAt),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Appends a record to the chain. Appends are serialized (PostgreSQL: a table lock; SQLite: its
    /// single writer) so that two records never chain to the same predecessor.
    pub async fn append_audit(&self, e: &AuditEntry) -> StoreResult<i64> {
        let mut tx = self.write_tx().await?;
        if self.kind() == DbKind::Postgres {
            sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE").execute(&mut *tx.tx).await?;
        }
        let last =
            sqlx::query("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(&mut *tx.tx).await?;
        let prev_hash = match last {
            Some(r) => r.try_get::<String, _>("hash")?,
            None => anchor_in(&mut tx).await?,
        };
        let mut rec = AuditRecord {
            id: 0,
            at: now_text(),
            actor: e.actor.clone(),
            actor_user_id: e.actor_user_id,
            actor_token_id: e.actor_token_id,
            client_ip: e.client_ip.clone(),
            action: e.action.clone(),
            object_type: e.object_type.clone(),
            object_id: e.object_id.clone(),
            outcome: e.outcome.clone(),
            request_id: e.request_id.clone(),
            detail: e.detail.clone(),
            hash: String::new(),
            prev_hash,
        };
        rec.hash = chain_hash(&rec.prev_hash, &rec.canonical());
        let row = sqlx::query(
            "INSERT INTO audit_log (at, actor, actor_user_id, actor_token_id, client_ip, action, object_type, object_id, outcome, \
             request_id, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(rec.at)
        .bind(rec.actor)
        .bind(rec.actor_user_id)
        .bind(rec.actor_token_id)
        .bind(rec.client_ip)
        .bind(rec.action)
        .bind(rec.object_type)
        .bind(rec.object_id)
        .bind(rec.outcome)
        .bind(rec.request_id)
        .bind(rec.detail)
        .bind(rec.prev_hash)
        .bind(rec.hash)
        .fetch_one(&mut *tx.tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        tx.commit().await?;
        Ok(id)
    }

    /// Searches the log, newest first.
    pub async fn search_audit(&self, f: &AuditFilter, paging: Paging) -> StoreResult<Page<AuditRecord>> {
        let mut w = Where::default();
        for (col, val, op) in [
            ("actor", &f.actor, "="),
            ("object_type", &f.object_type, "="),
            ("object_id", &f.object_id, "="),
            ("outcome", &f.outcome, "="),
            ("at", &f.from, ">="),
            ("at", &f.to, "<"),
        ] {
            if let Some(v) = val.as_deref().filter(|v| !v.is_empty()) {
                let n = w.text(v);
                w.cond(format!("{col} {op} ${n}"));
            }
        }
        if let Some(a) = f.action.as_deref().filter(|v| !v.is_empty()) {
            // `_` and `%` in an action (`login_failed`) are literal, not wildcards.
            let escaped = a.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let n = w.text(format!("{escaped}%"));
            w.cond(format!("action LIKE ${n} ESCAPE '\\'"));
        }
        self.fetch_page("SELECT * FROM audit_log", "audit_log", &w, "id DESC", paging, record_from_row).await
    }

    /// Proves the whole chain from its anchor, reading in batches; names the first broken record.
    pub async fn verify_audit(&self) -> Result<ChainSummary, VerifyError> {
        let anchor = {
            let row = sqlx::query("SELECT anchor_hash FROM audit_anchor WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from)?;
            match row {
                Some(r) => r.try_get::<String, _>("anchor_hash").map_err(StoreError::from)?,
                None => GENESIS.to_owned(),
            }
        };
        let mut total = ChainSummary { records: 0, first_id: None, last_id: None, head: anchor.clone() };
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query("SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT 5000")
                .bind(after)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::from)?;
            if rows.is_empty() {
                return Ok(total);
            }
            let recs = rows.iter().map(record_from_row).collect::<StoreResult<Vec<_>>>()?;
            let bytes: Vec<Vec<u8>> = recs.iter().map(AuditRecord::canonical).collect();
            let links = recs.iter().zip(&bytes).map(|(r, b)| ChainLink {
                id: r.id,
                prev_hash: &r.prev_hash,
                record: b,
                hash: &r.hash,
            });
            let part = verify_chain(&total.head, links)?;
            total.records += part.records;
            total.first_id = total.first_id.or(part.first_id);
            total.last_id = part.last_id.or(total.last_id);
            total.head = part.head;
            after = recs.last().map(|r| r.id).unwrap_or(after);
        }
    }

    /// Deletes records older than `before` (RFC 3339), keeping the rest verifiable: the hash the first
    /// kept record chains to becomes the anchor. Returns how many were purged.
    pub async fn purge_audit(&self, before: &str) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        if self.kind() == DbKind::Postgres {
            sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE").execute(&mut *tx.tx).await?;
        }
        let last_purged = sqlx::query("SELECT id, hash FROM audit_log WHERE at < $1 ORDER BY id DESC LIMIT 1")
            .bind(before.to_owned())
            .fetch_optional(&mut *tx.tx)
            .await?;
        let Some(last) = last_purged else { return Ok(0) };
        let last_id: i64 = last.try_get("id")?;
        let anchor: String = last.try_get("hash")?;
        let n = sqlx::query("DELETE FROM audit_log WHERE id <= $1")
            .bind(last_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO audit_anchor (id, anchor_hash, purged_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET anchor_hash = excluded.anchor_hash, purged_at = excluded.purged_at",
        )
        .bind(anchor)
        .bind(now_text())
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}

async fn anchor_in(tx: &mut crate::db::WriteTx) -> StoreResult<String> {
    let row = sqlx::query("SELECT anchor_hash FROM audit_anchor WHERE id = 1").fetch_optional(&mut *tx.tx).await?;
    Ok(match row {
        Some(r) => r.try_get("anchor_hash")?,
        None => GENESIS.to_owned(),
    })
}
