//! Open311 GeoReport v2 clients and the cases seen through Open311 (docs/open311.md).
//!
//! A client is a civic-reporting app that files cases with an API key. The store keeps only the SM3
//! hash of the key (made by `dangjian_security::token`, like API tokens); a revoked client's key opens
//! nothing. Cases filed by a client remember it (`cases.open311_client_id`), so that the client can list
//! its own requests. What leaves here for Open311 is [`FiledCase`]: no contact, no internal note.

use crate::error::{StoreError, StoreResult};
use crate::query::Where;
use crate::{now_text, Store};
use dangjian_domain::services::cases::CaseStatus;
use dangjian_domain::Message;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// The longest client name, in characters.
pub const MAX_CLIENT_NAME_CHARS: usize = 100;
/// The most requests one Open311 list returns (GeoReport v2 leaves the cap to the server).
pub const MAX_LISTED: i64 = 1000;

/// An Open311 client as the system administrator sees it; never its key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Open311Client {
    pub id: i64,
    pub name: String,
    /// Whether its answers carry mySociety's extended statuses rather than open/closed.
    pub extended_statuses: bool,
    pub created_at: String,
    /// A login name, or `cli:$USER`.
    pub created_by: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

fn client_from_row(r: &AnyRow) -> StoreResult<Open311Client> {
    Ok(Open311Client {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        extended_statuses: r.try_get::<i64, _>("extended_statuses")? != 0,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

const CLIENT_COLUMNS: &str =
    "id, name, extended_statuses, created_at, created_by, revoked_at, last_used_at FROM open311_clients";

/// A case as Open311 shows it: what the worker may see on the tracking page, less the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiledCase {
    pub tracking_code: String,
    pub category: String,
    pub status: CaseStatus,
    pub description: String,
    pub region_code: String,
    pub department_name: String,
    pub created_at: String,
    /// The time of the latest step.
    pub updated_at: String,
    pub ack_due: String,
    pub resolve_due: String,
    /// The latest public note written by a handler (never an internal note, never the worker's own).
    pub status_note: Option<String>,
}

/// Which cases an Open311 list asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestQuery {
    /// Tracking codes (already normalized): when given, only these, and every other filter is ignored
    /// (GeoReport v2: `service_request_id` overrides all other arguments).
    pub codes: Vec<String>,
    /// Otherwise the cases this client filed…
    pub client_id: Option<i64>,
    /// …of this category…
    pub category: Option<String>,
    /// …in one of these statuses (empty: any)…
    pub statuses: Vec<CaseStatus>,
    /// …filed at or after / at or before these times (RFC 3339 UTC text, as stored).
    pub start: Option<String>,
    pub end: Option<String>,
}

impl Store {
    /// Records a client by the hash of its key; the key itself is shown once and never stored.
    pub async fn create_open311_client(
        &self,
        name: &str,
        key_hash: &str,
        extended_statuses: bool,
        created_by: &str,
    ) -> StoreResult<Open311Client> {
        let name = dangjian_domain::entity::parse_required_text(Some(name), "name", MAX_CLIENT_NAME_CHARS)?;
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO open311_clients (name, key_hash, extended_statuses, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(key_hash.to_owned())
        .bind(i64::from(extended_statuses))
        .bind(now_text())
        .bind(created_by.to_owned())
        .fetch_one(&mut *tx.tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        tx.commit().await?;
        self.open311_client(id).await
    }

    pub async fn open311_client(&self, id: i64) -> StoreResult<Open311Client> {
        let row =
            sqlx::query(&format!("SELECT {CLIENT_COLUMNS} WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(client_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    pub async fn open311_clients(&self) -> StoreResult<Vec<Open311Client>> {
        let rows = sqlx::query(&format!("SELECT {CLIENT_COLUMNS} ORDER BY id")).fetch_all(&self.pool).await?;
        rows.iter().map(client_from_row).collect()
    }

    /// Revokes a client: its key opens nothing from now on; its cases stay. Revoking twice keeps the first
    /// time.
    pub async fn revoke_open311_client(&self, id: i64) -> StoreResult<Open311Client> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE open311_clients SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        self.open311_client(id).await
    }

    /// The live (unrevoked) client with this key hash, marking it used now.
    pub async fn use_open311_key(&self, key_hash: &str) -> StoreResult<Option<Open311Client>> {
        let row = sqlx::query(&format!("SELECT {CLIENT_COLUMNS} WHERE key_hash = $1 AND revoked_at IS NULL"))
            .bind(key_hash.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        let Some(client) = row.as_ref().map(client_from_row).transpose()? else { return Ok(None) };
        sqlx::query("UPDATE open311_clients SET last_used_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(client.id)
            .execute(&self.pool)
            .await?;
        Ok(Some(client))
    }

    /// The cases `q` asks for, newest first, at most [`MAX_LISTED`]. A query naming neither codes nor a
    /// client answers nothing: cases are listed only by their codes or to the client that filed them.
    pub async fn open311_requests(&self, q: &RequestQuery) -> StoreResult<Vec<FiledCase>> {
        let mut w = Where::default();
        if !q.codes.is_empty() {
            let marks: Vec<String> = q.codes.iter().map(|c| format!("${}", w.text(c.clone()))).collect();
            w.cond(format!("c.tracking_code IN ({})", marks.join(", ")));
        } else if let Some(client) = q.client_id {
            let n = w.int(client);
            w.cond(format!("c.open311_client_id = ${n}"));
            if let Some(cat) = &q.category {
                let n = w.text(cat.clone());
                w.cond(format!("c.category = ${n}"));
            }
            if !q.statuses.is_empty() {
                let marks: Vec<String> = q.statuses.iter().map(|s| format!("${}", w.text(s.as_str()))).collect();
                w.cond(format!("c.status IN ({})", marks.join(", ")));
            }
            if let Some(start) = &q.start {
                let n = w.text(start.clone());
                w.cond(format!("c.created_at >= ${n}"));
            }
            if let Some(end) = &q.end {
                let n = w.text(end.clone());
                w.cond(format!("c.created_at <= ${n}"));
            }
        } else {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT c.tracking_code, c.category, c.status, c.description, c.region_code, c.created_at, c.ack_due, \
             c.resolve_due, d.name AS department_name, \
             (SELECT MAX(e.at) FROM case_events e WHERE e.case_id = c.id) AS updated_at, \
             (SELECT e.note FROM case_events e WHERE e.case_id = c.id AND e.public = 1 AND e.note IS NOT NULL \
              AND e.actor <> 'worker' ORDER BY e.id DESC LIMIT 1) AS status_note \
             FROM cases c JOIN departments d ON d.id = c.department_id{} ORDER BY c.created_at DESC, c.id DESC LIMIT {MAX_LISTED}",
            w.sql()
        );
        let rows = w.apply(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                let created_at: String = r.try_get("created_at")?;
                Ok(FiledCase {
                    tracking_code: r.try_get("tracking_code")?,
                    category: r.try_get("category")?,
                    status: CaseStatus::parse(&status).ok_or(StoreError::Conflict {
                        code: "bad_status",
                        message: Message::new("conflict.bad_status_2"),
                    })?,
                    description: r.try_get("description")?,
                    region_code: r.try_get("region_code")?,
                    department_name: r.try_get("department_name")?,
                    updated_at: r.try_get::<Option<String>, _>("updated_at")?.unwrap_or_else(|| created_at.clone()),
                    created_at,
                    ack_due: r.try_get("ack_due")?,
                    resolve_due: r.try_get("resolve_due")?,
                    status_note: r.try_get("status_note")?,
                })
            })
            .collect()
    }
}
