//! The jobs the server runs on a timer, all driven by what is stored (a restart loses nothing, and a
//! second run at the same time changes nothing): escalation of overdue cases, closing resolved cases the
//! worker never rated, and erasing the personal fields of closed cases after the retention period.

use super::notifications::{notify, NotificationKind};
use super::{deadlines_of, department_at_or_above, due, event, text_of, SYSTEM};
use crate::error::StoreResult;
use crate::Store;
use chrono::{DateTime, Duration, Utc};
use dangjian_domain::services::case_settings::CaseSettings;
use sqlx::Row;

impl Store {
    /// The deadline job at `now`: every open case past its stored deadline (acknowledgment while
    /// submitted, resolution while acknowledged) moves to the department of the same kind one region
    /// level (or more) above its department's, with a fresh deadline and an event. A case already at the
    /// top stays where it is. Driven only by stored deadlines, so a restart loses nothing and a second
    /// run at the same `now` changes nothing. Returns the escalated case ids.
    pub async fn escalate_overdue(&self, settings: &CaseSettings, now: DateTime<Utc>) -> StoreResult<Vec<i64>> {
        let at = text_of(now);
        let rows = sqlx::query(
            "SELECT c.id, c.category, c.status, c.department_id, d.kind, d.region_code FROM cases c JOIN departments d ON d.id = c.department_id \
             WHERE (c.status = 'submitted' AND c.ack_due < $1) OR (c.status = 'acknowledged' AND c.resolve_due < $1) \
             ORDER BY c.id",
        )
        .bind(at.clone())
        .fetch_all(&self.pool)
        .await?;
        let mut escalated = Vec::new();
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let from: i64 = r.try_get("department_id")?;
            let kind: String = r.try_get("kind")?;
            let region: String = r.try_get("region_code")?;
            let status: String = r.try_get("status")?;
            let (ack_days, resolve_days) = deadlines_of(settings, &r.try_get::<String, _>("category")?);
            let mut tx = self.write_tx().await?;
            let parent: Option<String> = sqlx::query("SELECT parent_code FROM regions WHERE code = $1")
                .bind(region.clone())
                .fetch_optional(&mut *tx.tx)
                .await?
                .map(|r| r.try_get("parent_code"))
                .transpose()?
                .flatten();
            let Some(parent) = parent else { continue };
            let Some(up) = department_at_or_above(&mut tx, &kind, &parent).await? else { continue };
            let (column, days) =
                if status == "submitted" { ("ack_due", ack_days) } else { ("resolve_due", resolve_days) };
            // Compare-and-set on the status and deadline read above: a handler who acted meanwhile wins.
            let n = sqlx::query(&format!(
                "UPDATE cases SET department_id = $1, {column} = $2, escalation_level = escalation_level + 1, \
                 assignee = NULL, version = version + 1 WHERE id = $3 AND status = $4 AND {column} < $5"
            ))
            .bind(up.id)
            .bind(due(&settings.calendar, now, days))
            .bind(id)
            .bind(status.clone())
            .bind(at.clone())
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
            if n == 0 {
                continue;
            }
            // No note: the event's action is said in each reader's language, and the department it went
            // to is the event's own (a note in one language was shown to every worker and cadre).
            event(&mut tx, id, &at, SYSTEM, "escalate", None, true, Some(up.id)).await?;
            notify(&mut tx, up.id, id, NotificationKind::EscalatedIn, &at).await?;
            notify(&mut tx, from, id, NotificationKind::EscalatedOut, &at).await?;
            tx.commit().await?;
            tracing::info!(case = id, department = up.id, "overdue case escalated");
            escalated.push(id);
        }
        Ok(escalated)
    }

    /// Erases the personal fields (contact, description, event notes) of cases closed more than
    /// `retention_days` before `now`; the statistics fields stay. Returns how many cases were erased.
    pub async fn erase_expired_cases(&self, retention_days: u32, now: DateTime<Utc>) -> StoreResult<u64> {
        let cutoff = text_of(now - Duration::days(i64::from(retention_days)));
        let mut tx = self.write_tx().await?;
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM cases WHERE status = 'closed' AND closed_at < $1 AND erased_at IS NULL ORDER BY id",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx.tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        for id in &ids {
            sqlx::query("UPDATE cases SET contact = NULL, description = '', erased_at = $1, version = version + 1 WHERE id = $2")
                .bind(text_of(now))
                .bind(*id)
                .execute(&mut *tx.tx)
                .await?;
            sqlx::query("UPDATE case_events SET note = NULL WHERE case_id = $1").bind(*id).execute(&mut *tx.tx).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Closes every case resolved more than `settings.auto_close_days` before `now` that the worker has
    /// neither rated nor reopened, with a public event. Returns the closed case ids.
    pub async fn close_unrated(&self, settings: &CaseSettings, now: DateTime<Utc>) -> StoreResult<Vec<i64>> {
        let at = text_of(now);
        let cutoff = text_of(now - Duration::days(i64::from(settings.auto_close_days)));
        let rows = sqlx::query(
            "SELECT id, department_id FROM cases WHERE status = 'resolved' AND resolved_at < $1 ORDER BY id",
        )
        .bind(cutoff.clone())
        .fetch_all(&self.pool)
        .await?;
        let mut closed = Vec::new();
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let department: i64 = r.try_get("department_id")?;
            let mut tx = self.write_tx().await?;
            // Compare-and-set: a rating or a reopening that came first wins.
            let n = sqlx::query(
                "UPDATE cases SET status = 'closed', closed_at = $1, version = version + 1 \
                 WHERE id = $2 AND status = 'resolved' AND resolved_at < $3",
            )
            .bind(at.clone())
            .bind(id)
            .bind(cutoff.clone())
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
            if n == 0 {
                continue;
            }
            let note = format!("not rated within {} days of resolution; closed", settings.auto_close_days);
            event(&mut tx, id, &at, SYSTEM, "auto_close", Some(&note), true, Some(department)).await?;
            tx.commit().await?;
            closed.push(id);
        }
        Ok(closed)
    }
}
