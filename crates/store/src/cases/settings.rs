//! The case rules in force ([`CaseSettings`]): stored as one JSON value under the `case_settings` key of
//! `settings`, the defaults until an administrator saves them. Every case step reads them afresh, so a
//! change applies at once in every server process.

use crate::error::{StoreError, StoreResult};
use crate::{now_text, Store};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::Message;
use sqlx::Row;

/// The `settings` key.
pub const CASE_SETTINGS: &str = "case_settings";

impl Store {
    /// The case rules in force: the stored ones, else the defaults. A stored value that no longer
    /// parses is reported and the defaults used (saving checks every value, so only a hand edit can
    /// cause that).
    pub async fn case_settings(&self) -> StoreResult<CaseSettings> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(CASE_SETTINGS)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(CaseSettings::default()) };
        let text: String = row.try_get("value")?;
        Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::error!(error = %e, "case settings ignored: they do not parse");
            CaseSettings::default()
        }))
    }

    /// Saves the case rules after checking every value (each problem names its field); `by` is the
    /// administrator's account id.
    pub async fn set_case_settings(&self, settings: &CaseSettings, by: Option<i64>) -> StoreResult<()> {
        settings.check()?;
        let text = serde_json::to_string(settings).map_err(|e| StoreError::Conflict {
            code: "bad_settings",
            message: Message::new("conflict.bad_settings").arg("why", e),
        })?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(CASE_SETTINGS)
        .bind(text)
        .bind(now_text())
        .bind(by)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }
}
