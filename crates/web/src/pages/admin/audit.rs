//! `/admin/audit`: the audit log for the audit administrator — search by actor, action, object,
//! outcome and date range; export what was found as CSV or XLSX (cells that would run as formulas
//! are escaped by the writers); verify the SM3 hash chain. No one can change a record from here or
//! anywhere else. Searching, exporting and verifying are themselves audited (the commands of
//! [`crate::app::audit_log`]).

use crate::app::audit_log::{self, Verified};
use crate::app::Ctx;
use crate::pages::form::FormBody;
use crate::pages::lists::{PageQuery, Pager};
use crate::pages::{Failed, PageCtx, PageError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use dangjian_ingest::{write_csv, write_xlsx};
use dangjian_store::audit::{AuditFilter, AuditRecord};
use dangjian_store::Paging;
use minijinja::context;
use serde::Serialize;

/// Rows per page of the log.
pub const PER_PAGE: i64 = 50;

/// The search, as understood from the query; `problem` names a date that is not understood.
pub fn filter_of(q: &PageQuery) -> Result<AuditFilter, &'static str> {
    let day = |name: &'static str| -> Result<Option<NaiveDate>, &'static str> {
        match q.get(name) {
            None => Ok(None),
            Some(v) => NaiveDate::parse_from_str(&v, "%Y-%m-%d").map(Some).map_err(|_| name),
        }
    };
    let from = day("from")?;
    let to = day("to")?;
    Ok(AuditFilter {
        actor: q.get("actor"),
        action: q.get("action"),
        object_type: q.get("object_type"),
        object_id: q.get("object_id"),
        outcome: q.get("outcome"),
        from: from.map(|d| format!("{d}T00:00:00Z")),
        // The end date is included: up to the start of the next day.
        to: to.and_then(|d| d.succ_opt()).map(|d| format!("{d}T00:00:00Z")),
    })
}

/// The result of a chain verification, for the page.
#[derive(Debug, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub records: u64,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
    pub head: String,
    pub broken_id: Option<i64>,
    pub reason: Option<String>,
}

async fn render(
    ctx: &PageCtx,
    searching: audit_log::Searching,
    q: &PageQuery,
    verification: Option<Verification>,
) -> Result<Response, Failed> {
    let filter = match filter_of(q) {
        Ok(f) => f,
        Err(field) => {
            let message = ctx.lang.t("audit.bad_date", &[("field", ctx.t(&format!("field.{field}")))]);
            return Err(ctx.bad_request(message));
        }
    };
    let page = searching.run(&filter, Paging::new(q.id("page"), Some(PER_PAGE))).await.map_err(ctx.app_err())?;
    Ok(ctx.render(
        "admin/audit.html",
        context! { records => page.items, pager => Pager::of(&page), query => q.0, verification, outcomes => ["ok", "denied", "failed"] },
    ))
}

pub async fn search(cx: Ctx, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    let searching = audit_log::begin_search(&cx).await.map_err(ctx.app_err())?;
    render(&ctx, searching, &q, None).await
}

const COLUMNS: [&str; 14] = [
    "id",
    "at",
    "actor",
    "actor_user_id",
    "actor_token_id",
    "client_ip",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "request_id",
    "detail",
    "prev_hash",
    "hash",
];

/// One record as an export row, in [`COLUMNS`] order.
pub fn row(r: &AuditRecord) -> Vec<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let opt_i = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    vec![
        r.id.to_string(),
        r.at.clone(),
        r.actor.clone(),
        opt_i(r.actor_user_id),
        opt_i(r.actor_token_id),
        opt(&r.client_ip),
        r.action.clone(),
        opt(&r.object_type),
        opt(&r.object_id),
        r.outcome.clone(),
        opt(&r.request_id),
        opt(&r.detail),
        r.prev_hash.clone(),
        r.hash.clone(),
    ]
}

/// `/admin/audit/export?format=csv|xlsx&…`: every record the search finds (up to
/// [`MAX_EXPORT_ROWS`](crate::app::audit_log::MAX_EXPORT_ROWS)).
pub async fn export(cx: Ctx, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    let pending = audit_log::begin_export(&cx).await.map_err(ctx.app_err())?;
    let filter = filter_of(&q).map_err(|_| ctx.bad_request(ctx.t("audit.bad_date_plain")))?;
    let xlsx = q.get("format").as_deref() == Some("xlsx");
    let rows = pending.run(&filter, if xlsx { "xlsx" } else { "csv" }, row).await.map_err(ctx.app_err())?;
    let s = &cx.state;
    let stamp = s.clock.now().format("%Y%m%d-%H%M%S");
    let (bytes, content_type, ext) = if xlsx {
        let bytes = write_xlsx("audit", &COLUMNS, &rows).map_err(|e| {
            tracing::error!(error = %e, "audit export failed");
            Failed(ctx.clone(), PageError::Internal)
        })?;
        (bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    } else {
        (write_csv(&COLUMNS, &rows), "text/csv; charset=utf-8", "csv")
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"audit-{stamp}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(r)
}

/// Verifies the whole chain and shows the outcome above the search.
pub async fn verify(cx: Ctx, ctx: PageCtx, q: PageQuery, body: FormBody) -> Result<Response, Failed> {
    let pending = audit_log::begin_verify(&cx).await.map_err(ctx.app_err())?;
    body.read().await?;
    let (found, searching) = pending.run().await.map_err(ctx.app_err())?;
    let v = match found {
        Verified::Holds(sum) => Verification {
            ok: true,
            records: sum.records,
            first_id: sum.first_id,
            last_id: sum.last_id,
            head: sum.head,
            broken_id: None,
            reason: None,
        },
        Verified::Broken { id, reason } => Verification {
            ok: false,
            records: 0,
            first_id: None,
            last_id: None,
            head: String::new(),
            broken_id: Some(id),
            reason: Some(reason),
        },
    };
    render(&ctx, searching, &q, Some(v)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::audit_log::describe;

    fn q(pairs: &[(&str, &str)]) -> PageQuery {
        PageQuery(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn dates_bound_the_search_inclusively() {
        let f = filter_of(&q(&[("from", "2026-03-01"), ("to", "2026-03-31"), ("action", "login")])).unwrap_or_default();
        assert_eq!(f.from.as_deref(), Some("2026-03-01T00:00:00Z"));
        assert_eq!(f.to.as_deref(), Some("2026-04-01T00:00:00Z"));
        assert_eq!(describe(&f), "action=login from=2026-03-01T00:00:00Z to=2026-04-01T00:00:00Z");
        assert_eq!(filter_of(&q(&[("from", "1 March")])).err(), Some("from"));
    }

    #[test]
    fn exported_cells_that_look_like_formulas_are_escaped() {
        let r = AuditRecord {
            id: 1,
            at: "2026-01-01T00:00:00Z".into(),
            actor: "=HYPERLINK(\"http://x\")".into(),
            actor_user_id: None,
            actor_token_id: None,
            client_ip: None,
            action: "login_failed".into(),
            object_type: Some("user".into()),
            object_id: Some("+1".into()),
            outcome: "failed".into(),
            request_id: None,
            detail: Some("@cmd".into()),
            prev_hash: "0".repeat(64),
            hash: "1".repeat(64),
        };
        let csv = String::from_utf8(write_csv(&COLUMNS, &[row(&r)])).unwrap_or_default();
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
        assert!(csv.contains(",'+1,") && csv.contains(",'@cmd,"), "{csv}");
    }
}
