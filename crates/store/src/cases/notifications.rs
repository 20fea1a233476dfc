//! Notifications to the departments that handle cases: what happened to a case that they should look
//! at — it was escalated to them (or away from them because it was overdue), transferred to them, or the
//! worker added information or reopened it. Written in the same transaction as the step; shown in the
//! inbox of everyone whose region scope holds the department, until one of them marks it read.

use crate::access::{AccessFilter, Rows};
use crate::db::WriteTx;
use crate::error::{StoreError, StoreResult};
use crate::query::Where;
use crate::Store;
use dangjian_domain::Message;
use serde::Serialize;
use sqlx::Row;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// An overdue case came up to this department.
    EscalatedIn,
    /// A case of this department was overdue and went up a level.
    EscalatedOut,
    /// Another department passed a case to this one.
    TransferredIn,
    /// The worker added information.
    WorkerInfo,
    /// The worker reopened a resolved case.
    WorkerReopened,
}

impl NotificationKind {
    pub const ALL: [Self; 5] =
        [Self::EscalatedIn, Self::EscalatedOut, Self::TransferredIn, Self::WorkerInfo, Self::WorkerReopened];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EscalatedIn => "escalated_in",
            Self::EscalatedOut => "escalated_out",
            Self::TransferredIn => "transferred_in",
            Self::WorkerInfo => "worker_info",
            Self::WorkerReopened => "worker_reopened",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One notification, with the case it is about.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    pub kind: NotificationKind,
    pub case_id: i64,
    pub tracking_code: String,
    pub category: String,
    pub department_id: i64,
    pub department_name: String,
    pub created_at: String,
    pub read_at: Option<String>,
    pub read_by: Option<String>,
}

/// Records that `department` should look at `case_id` because of `kind`.
pub(super) async fn notify(
    tx: &mut WriteTx,
    department: i64,
    case_id: i64,
    kind: NotificationKind,
    at: &str,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO case_notifications (department_id, case_id, kind, created_at) VALUES ($1, $2, $3, $4)")
        .bind(department)
        .bind(case_id)
        .bind(kind.as_str())
        .bind(at.to_owned())
        .execute(&mut *tx.tx)
        .await?;
    Ok(())
}

const SELECT: &str = "SELECT n.id, n.kind, n.case_id, c.tracking_code, c.category, n.department_id, \
     d.name AS department_name, n.created_at, n.read_at, n.read_by FROM case_notifications n \
     JOIN cases c ON c.id = n.case_id JOIN departments d ON d.id = n.department_id";

impl Store {
    /// The notifications of departments inside `access` (unread only, if asked), newest first, at most
    /// `limit`; and how many are unread in all.
    pub async fn case_notifications(
        &self,
        access: &AccessFilter,
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<(Vec<Notification>, i64)> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        access.restrict(&tree, &mut w, Rows::CaseNotifications);
        let mut unread = w.clone();
        unread.cond("n.read_at IS NULL");
        let count_sql = format!("SELECT COUNT(*) AS n FROM case_notifications n{}", unread.sql());
        let total: i64 = unread.apply(sqlx::query(&count_sql)).fetch_one(&self.pool).await?.try_get("n")?;
        if unread_only {
            w = unread;
        }
        let sql = format!("{SELECT}{} ORDER BY n.id DESC LIMIT {}", w.sql(), limit.clamp(1, 500));
        let rows = w.apply(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        let list = rows
            .iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(Notification {
                    id: r.try_get("id")?,
                    kind: NotificationKind::parse(&kind).ok_or(StoreError::Conflict {
                        code: "bad_kind",
                        message: Message::new("conflict.bad_kind").arg("kind", kind),
                    })?,
                    case_id: r.try_get("case_id")?,
                    tracking_code: r.try_get("tracking_code")?,
                    category: r.try_get("category")?,
                    department_id: r.try_get("department_id")?,
                    department_name: r.try_get("department_name")?,
                    created_at: r.try_get("created_at")?,
                    read_at: r.try_get("read_at")?,
                    read_by: r.try_get("read_by")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((list, total))
    }

    /// Marks notification `id` (inside `access`) read by `by` at `at`; not found outside `access`.
    /// Marking one already read leaves who read it first.
    pub async fn mark_notification_read(&self, id: i64, access: &AccessFilter, by: &str, at: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        if !access.admits_in(&mut tx, Rows::CaseNotifications, id).await? {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE case_notifications SET read_at = $1, read_by = $2 WHERE id = $3 AND read_at IS NULL")
            .bind(at.to_owned())
            .bind(by.to_owned())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }
}
