//! Commands only the command line's operator runs — no page or endpoint offers them: rotating the
//! keys of personal data at rest (`keys.rotate`), replacing the coverage rules
//! (`settings.coverage_rules`), purging audit records past their retention (`audit.purge`). Each is
//! refused to anyone else (403) and audited as the operator (`cli:<user>`).

use super::{AppError, AppResult, Ctx};
use dangjian_domain::coverage::rules::RuleSet;
use dangjian_security::field_cipher::Keyring;
use dangjian_store::coverage::RULES_SETTING;

fn operator_only(cx: &Ctx) -> AppResult<()> {
    if cx.actor.is_operator() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Appends the operator's record (no object), failing if it cannot be written.
async fn record(cx: &Ctx, action: &str, detail: String) -> AppResult<()> {
    let mut entry = cx.actor.audit(action, None, None, "ok");
    entry.detail = Some(detail);
    cx.state.store.append_audit(&entry).await?;
    Ok(())
}

/// Re-encrypts every personal value under `keys`' active key; answers how many values were
/// re-encrypted. Audited `keys.rotate`.
pub async fn rotate_keys(cx: &Ctx, keys: &Keyring) -> AppResult<u64> {
    operator_only(cx)?;
    let n = cx.state.store.rotate_field_keys(keys).await?;
    record(cx, "keys.rotate", format!("re-encrypted={n} key={}", keys.active_key_id())).await?;
    Ok(n)
}

/// Replaces the coverage rules with `rules` (checked whole by their parser). Audited
/// `settings.coverage_rules` with the number of versions.
pub async fn set_coverage_rules(cx: &Ctx, rules: &RuleSet) -> AppResult<()> {
    operator_only(cx)?;
    let json = serde_json::to_string(rules).map_err(|e| {
        tracing::error!(error = %e, "coverage rules could not be written as JSON");
        AppError::Internal
    })?;
    cx.state.store.set_setting(RULES_SETTING, &json, None).await?;
    record(cx, "settings.coverage_rules", format!("versions={}", rules.versions.len())).await
}

/// Deletes the audit records older than the retention period (`audit_retention_days`); answers the
/// cut-off and how many went. The purge itself is recorded (`audit.purge`), and the chain stays
/// verifiable.
pub async fn purge_audit(cx: &Ctx) -> AppResult<(String, u64)> {
    operator_only(cx)?;
    let days = cx.state.security_config().await.audit_retention_days;
    let before = crate::auth::session::time_text(cx.state.clock.now() - chrono::Duration::days(days));
    let n = cx.state.store.purge_audit(&before).await?;
    record(cx, "audit.purge", format!("before={before} records={n}")).await?;
    Ok((before, n))
}
