//! The server's own background work that is not a resource's (the case deadline job is
//! `app::cases::deadline_job`).

use crate::AppState;

/// Deletes audit records older than the retention period (`audit_retention_days`, at least 180) at
/// start-up and then once a day; the purge keeps the chain verifiable and is itself recorded.
pub async fn purge_audit_daily(state: AppState) {
    let mut day = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
    loop {
        day.tick().await;
        let days = state.security_config().await.audit_retention_days;
        let before = crate::auth::session::time_text(state.clock.now() - chrono::Duration::days(days));
        match state.store.purge_audit(&before).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(records = n, %before, "purged expired audit records");
                let entry = dangjian_store::audit::AuditEntry {
                    actor: "system".into(),
                    action: "audit.purge".into(),
                    outcome: "ok".into(),
                    detail: Some(format!("before={before} records={n}")),
                    ..Default::default()
                };
                if let Err(e) = state.store.append_audit(&entry).await {
                    tracing::error!(error = %e, "cannot record the audit purge");
                }
            }
            Err(e) => tracing::error!(error = %e, "audit purge failed"),
        }
    }
}
