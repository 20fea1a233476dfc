//! The audit log's own use (the audit administrator, `/admin/audit`): searching, exporting and
//! verifying the SM3 hash chain, each itself audited (`audit.search`, `audit.export`,
//! `audit.verify`, about `audit_log`). No one can change a record, from here or anywhere else.

use super::admin::AdminChange;
use super::permission::Object;
use super::{AppResult, Ctx};
use dangjian_domain::access::Action;
use dangjian_security::audit_chain::ChainSummary;
use dangjian_store::audit::{AuditFilter, AuditRecord, VerifyError};
use dangjian_store::{Page, Paging};

/// Most rows one export holds; narrow the search for more.
pub const MAX_EXPORT_ROWS: usize = 100_000;

/// A search as the audit record of it describes it (`action=login from=…`).
pub fn describe(f: &AuditFilter) -> String {
    let parts = [
        ("actor", &f.actor),
        ("action", &f.action),
        ("object_type", &f.object_type),
        ("object_id", &f.object_id),
        ("outcome", &f.outcome),
        ("from", &f.from),
        ("to", &f.to),
    ];
    parts.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}"))).collect::<Vec<_>>().join(" ")
}

/// May the actor search the log? (A refusal is audited as `audit.search`.)
pub async fn begin_search(cx: &Ctx) -> AppResult<Searching> {
    Ok(Searching { change: AdminChange::begin(cx, Action::ReadAudit, "audit.search").await?, audited: true })
}

/// A permitted search of the log.
#[must_use]
pub struct Searching {
    change: AdminChange,
    /// Whether the search is recorded (not the one shown under a verification, recorded as that).
    audited: bool,
}

impl Searching {
    /// The records matching `filter`, newest first; audited `audit.search` with the filter.
    pub async fn run(self, filter: &AuditFilter, paging: Paging) -> AppResult<Page<AuditRecord>> {
        let page = self.change.cx.state.store.search_audit(filter, paging).await?;
        if self.audited {
            self.change.audit(Object::new("audit_log", "search"), "ok", Some(describe(filter))).await;
        }
        Ok(page)
    }
}

/// May the actor export the log? (A refusal is audited as `audit.export`.)
pub async fn begin_export(cx: &Ctx) -> AppResult<Exporting> {
    Ok(Exporting(AdminChange::begin(cx, Action::ReadAudit, "audit.export").await?))
}

/// A permitted export of the log.
#[must_use]
pub struct Exporting(AdminChange);

impl Exporting {
    /// Every record matching `filter` (up to [`MAX_EXPORT_ROWS`]), each as `row` makes it; audited
    /// `audit.export` with the format (`format`: its name) and the number of rows, before they leave.
    pub async fn run<R>(
        self,
        filter: &AuditFilter,
        format: &str,
        row: impl Fn(&AuditRecord) -> R,
    ) -> AppResult<Vec<R>> {
        let store = &self.0.cx.state.store;
        let mut rows = Vec::new();
        let mut page = 1;
        loop {
            let p = store.search_audit(filter, Paging::new(Some(page), Some(Paging::MAX_PER_PAGE))).await?;
            let done = p.items.len() < usize::try_from(p.per_page).unwrap_or(0) || p.items.is_empty();
            rows.extend(p.items.iter().map(&row));
            if done || rows.len() >= MAX_EXPORT_ROWS {
                break;
            }
            page += 1;
        }
        rows.truncate(MAX_EXPORT_ROWS);
        let detail = format!("format={format} rows={} {}", rows.len(), describe(filter));
        self.0.audit(Object::new("audit_log", "export"), "ok", Some(detail)).await;
        Ok(rows)
    }
}

/// May the actor verify the chain? (A refusal is audited as `audit.verify`.)
pub async fn begin_verify(cx: &Ctx) -> AppResult<Verifying> {
    Ok(Verifying(AdminChange::begin(cx, Action::ReadAudit, "audit.verify").await?))
}

/// A permitted verification of the chain.
#[must_use]
pub struct Verifying(AdminChange);

/// What a verification found.
pub enum Verified {
    /// The chain holds.
    Holds(ChainSummary),
    /// It breaks at record `id`, for `reason`.
    Broken { id: i64, reason: String },
}

impl Verifying {
    /// Verifies the whole chain; audited `audit.verify` (`ok`, or `failed` naming where it broke).
    /// Answers what it found and the search to show under it (not audited again).
    pub async fn run(self) -> AppResult<(Verified, Searching)> {
        let found = match self.0.cx.state.store.verify_audit().await {
            Ok(sum) => Verified::Holds(sum),
            Err(VerifyError::Broken(b)) => Verified::Broken { id: b.id, reason: b.reason.to_string() },
            Err(VerifyError::Store(e)) => return Err(e.into()),
        };
        let (outcome, detail) = match &found {
            Verified::Holds(sum) => ("ok", format!("records={} head={}", sum.records, sum.head)),
            Verified::Broken { id, .. } => ("failed", format!("broken_at={id}")),
        };
        self.0.audit(Object::new("audit_log", "chain"), outcome, Some(detail)).await;
        Ok((found, Searching { change: self.0, audited: false }))
    }
}
