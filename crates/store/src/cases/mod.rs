//! Needs and rights cases: filed by a worker (anonymously if they wish), routed through the routing
//! table to a department of the right kind at the case's region or the nearest region above that has
//! one, timed in working days (China time), handled in the department's inbox, escalated one region
//! level up when a stored deadline passes, and stripped of personal fields after the retention period.
//!
//! Every step is a row of `case_events` with its time. The worker's contact is encrypted at rest bound
//! to its case ([`crate::personal::CASE_CONTACT`]) and leaves the store masked unless the caller asks
//! for [`Disclosure::Full`] (the web layer does so only for the handling department, and audits it).

pub mod stats;
pub mod stats_index;

use crate::access::{AccessFilter, Rows};
use crate::db::WriteTx;
use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::personal::{masked_mobile, open, seal, CASE_CONTACT};
use crate::query::Where;
use crate::{Disclosure, Page, Paging, Store};
use chrono::{DateTime, Duration, FixedOffset, Offset as _, SecondsFormat, TimeZone as _, Utc};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::{
    next_status, parse_tracking_code, tracking_code, CaseAction, CaseStatus, Category,
};
use dangjian_domain::services::routing::{default_table, is_department_kind, route, RoutingRule};
use dangjian_domain::services::workdays::WorkCalendar;
use dangjian_domain::text::{self, TextKind};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors, RegionLevel};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

mod jobs;
mod notifications;
mod settings;
pub use notifications::{Notification, NotificationKind};
pub use settings::CASE_SETTINGS;

/// The longest description, note or added information, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// The longest contact, in characters.
pub const MAX_CONTACT_CHARS: usize = 100;
/// How many tracking codes filing a case draws before giving up (a clash of 40 random bits is rare).
pub const TRACKING_CODE_TRIES: usize = 5;

/// Who acts: a user by login name, the worker (holding the tracking code), or the deadline job.
pub const WORKER: &str = "worker";
pub const SYSTEM: &str = "system";

/// China Standard Time (UTC+8, no daylight saving), the time deadlines are counted in.
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

fn text_of(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whole seconds from `from` to `to` (both stored times), as the statistics count durations; `None` when
/// either does not read as a time.
pub(crate) fn seconds_between(from: &str, to: &str) -> Option<i64> {
    let from = DateTime::parse_from_rfc3339(from).ok()?;
    let to = DateTime::parse_from_rfc3339(to).ok()?;
    Some((to - from).num_seconds())
}

/// The end of the `n`-th working day after `now`, counted in China time, as stored (UTC text).
fn due(calendar: &WorkCalendar, now: DateTime<Utc>, n: u32) -> String {
    let local = now.with_timezone(&china()).naive_local();
    let end = calendar.deadline(local, n);
    text_of(Utc.from_utc_datetime(&(end - Duration::hours(8))))
}

/// The category a new case is filed under: one of the configured ones.
fn category(settings: &CaseSettings, code: &str) -> StoreResult<Category> {
    settings.category(code).cloned().ok_or_else(|| {
        FieldError::new("category", "unknown", Message::new("problem.unknown.category_code").arg("code", code)).into()
    })
}

/// The deadlines of an existing case's category: as configured, or, for a category an administrator
/// has since removed, those of `other` (else 3 and 20 working days), so old cases keep moving.
fn deadlines_of(settings: &CaseSettings, code: &str) -> (u32, u32) {
    settings
        .category(code)
        .or_else(|| settings.category("other"))
        .map(|c| (c.ack_days, c.resolve_days))
        .unwrap_or((3, 20))
}

fn text_error(field: &str, max: usize) -> FieldError {
    FieldError::new(field, "too_long", Message::new("problem.too_long").arg("max", max))
}

/// A case as a worker files it.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub category: String,
    pub sector: Option<String>,
    /// The platform or unit concerned (a registered unit's id), if the worker names one.
    pub platform_id: Option<i64>,
    pub region_code: String,
    pub description: String,
    pub contact: Option<String>,
    pub anonymous: bool,
    /// The Open311 client that filed it ([`crate::open311`]), if it came in over Open311.
    pub open311_client_id: Option<i64>,
}

impl NewCase {
    fn check(&self, settings: &CaseSettings) -> Result<(), FieldErrors> {
        let mut errs = FieldErrors::default();
        if let Err(StoreError::Invalid(e)) = category(settings, &self.category) {
            errs.0.extend(e.0);
        }
        let description = self.description.trim();
        if description.is_empty() {
            errs.0.push(FieldError::new(
                "description",
                "required",
                Message::new("problem.required.describe_what_happened"),
            ));
        } else if description.chars().count() > MAX_TEXT_CHARS {
            errs.0.push(text_error("description", MAX_TEXT_CHARS));
        }
        if self.contact.as_deref().is_some_and(|c| c.trim().chars().count() > MAX_CONTACT_CHARS) {
            errs.0.push(text_error("contact", MAX_CONTACT_CHARS));
        }
        errs.take(text::clean(&self.description, "description", TextKind::Lines));
        if let Some(c) = &self.contact {
            errs.take(text::clean(c, "contact", TextKind::Line));
        }
        errs.into_result()
    }
}

/// What the worker gets back: the code to follow the case with.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Submitted {
    pub id: i64,
    pub tracking_code: String,
    pub department_name: String,
    pub ack_due: String,
    pub resolve_due: String,
}

/// A department that handles cases.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Department {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub region_code: String,
}

fn department_from_row(r: &AnyRow) -> StoreResult<Department> {
    Ok(Department {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        region_code: r.try_get("region_code")?,
    })
}

/// One step of a case's history.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CaseEvent {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub note: Option<String>,
    pub public: bool,
    pub department_id: Option<i64>,
}

/// A case as its handlers see it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Case {
    pub id: i64,
    pub tracking_code: String,
    pub category: String,
    pub sector: Option<String>,
    /// The platform concerned, if the worker named one.
    pub platform_id: Option<i64>,
    pub region_code: String,
    pub description: String,
    /// Masked, or in full for [`Disclosure::Full`]; `None` when anonymous, not given or erased.
    pub contact: Option<String>,
    pub anonymous: bool,
    pub status: CaseStatus,
    pub department_id: i64,
    pub department_name: String,
    pub assignee: Option<String>,
    pub ack_due: String,
    pub resolve_due: String,
    pub escalation_level: i64,
    pub rating: Option<i64>,
    pub created_at: String,
    pub acknowledged_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub erased_at: Option<String>,
    pub version: i64,
    /// The full history (inbox) or the public part of it (tracking page).
    pub events: Vec<CaseEvent>,
}

/// A case as the worker sees it by tracking code: no internal notes, no assignee, contact masked.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct PublicCase {
    pub tracking_code: String,
    pub category: String,
    pub region_code: String,
    pub description: String,
    pub contact: Option<String>,
    pub status: CaseStatus,
    pub department_name: String,
    pub ack_due: String,
    pub resolve_due: String,
    pub rating: Option<i64>,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub events: Vec<CaseEvent>,
}

const CASE_SELECT: &str = "SELECT c.id, c.tracking_code, c.category, c.sector, c.entity_id, c.region_code, \
     c.description, c.contact, c.anonymous, c.status, c.department_id, d.name AS department_name, c.assignee, \
     c.ack_due, c.resolve_due, c.escalation_level, c.rating, c.created_at, c.acknowledged_at, c.resolved_at, \
     c.closed_at, c.erased_at, c.version FROM cases c JOIN departments d ON d.id = c.department_id";

impl Store {
    fn case_from_row(&self, r: &AnyRow, disclosure: Disclosure) -> StoreResult<Case> {
        let id: i64 = r.try_get("id")?;
        let stored: Option<String> = r.try_get("contact")?;
        let contact = match stored {
            None => None,
            Some(s) => {
                let plain = open(self.keyring()?, &CASE_CONTACT, id, &s)?;
                Some(match disclosure {
                    Disclosure::Full => plain,
                    Disclosure::Masked => masked_mobile(&plain),
                })
            }
        };
        let status: String = r.try_get("status")?;
        Ok(Case {
            id,
            tracking_code: r.try_get("tracking_code")?,
            category: r.try_get("category")?,
            sector: r.try_get("sector")?,
            platform_id: r.try_get("entity_id")?,
            region_code: r.try_get("region_code")?,
            description: r.try_get("description")?,
            contact,
            anonymous: r.try_get::<i64, _>("anonymous")? != 0,
            status: CaseStatus::parse(&status).ok_or(StoreError::Conflict {
                code: "bad_status",
                message: Message::new("conflict.bad_status").arg("id", id),
            })?,
            department_id: r.try_get("department_id")?,
            department_name: r.try_get("department_name")?,
            assignee: r.try_get("assignee")?,
            ack_due: r.try_get("ack_due")?,
            resolve_due: r.try_get("resolve_due")?,
            escalation_level: r.try_get("escalation_level")?,
            rating: r.try_get("rating")?,
            created_at: r.try_get("created_at")?,
            acknowledged_at: r.try_get("acknowledged_at")?,
            resolved_at: r.try_get("resolved_at")?,
            closed_at: r.try_get("closed_at")?,
            erased_at: r.try_get("erased_at")?,
            version: r.try_get("version")?,
            events: Vec::new(),
        })
    }

    async fn case_events(&self, id: i64, public_only: bool) -> StoreResult<Vec<CaseEvent>> {
        let filter = if public_only { " AND public = 1" } else { "" };
        let rows = sqlx::query(&format!(
            "SELECT at, actor, action, note, public, department_id FROM case_events WHERE case_id = $1{filter} ORDER BY id"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseEvent {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    note: r.try_get("note")?,
                    public: r.try_get::<i64, _>("public")? != 0,
                    department_id: r.try_get("department_id")?,
                })
            })
            .collect()
    }

    /// Registers a department (administrators; tests).
    pub async fn create_department(
        &self,
        code: &str,
        name: &str,
        kind: &str,
        region_code: &str,
    ) -> StoreResult<Department> {
        if !is_department_kind(kind) {
            return Err(FieldError::new(
                "kind",
                "unknown",
                Message::new("problem.unknown.department_kind").arg("kind", kind),
            )
            .into());
        }
        self.region_path_of(region_code, "region_code").await?;
        let mut tx = self.write_tx().await?;
        let row =
            sqlx::query("INSERT INTO departments (code, name, kind, region_code) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(code.to_owned())
                .bind(name.to_owned())
                .bind(kind.to_owned())
                .bind(region_code.to_owned())
                .fetch_one(&mut *tx.tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        FieldError::new("code", "duplicate", Message::new("problem.duplicate")).into()
                    } else {
                        StoreError::from(e)
                    }
                })?;
        let id: i64 = row.try_get("id")?;
        tx.commit().await?;
        self.department(id).await
    }

    pub async fn department(&self, id: i64) -> StoreResult<Department> {
        let row = sqlx::query("SELECT id, code, name, kind, region_code FROM departments WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(department_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    pub async fn departments(&self) -> StoreResult<Vec<Department>> {
        let rows = sqlx::query("SELECT id, code, name, kind, region_code FROM departments ORDER BY region_code, kind")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(department_from_row).collect()
    }

    /// The routing table in force: the stored lines in order, or [`default_table`] when none is stored.
    pub async fn routing_table(&self) -> StoreResult<Vec<RoutingRule>> {
        let rows =
            sqlx::query("SELECT category, sector, level, department_kind FROM routing_rules ORDER BY position, id")
                .fetch_all(&self.pool)
                .await?;
        if rows.is_empty() {
            return Ok(default_table());
        }
        rows.iter()
            .map(|r| {
                Ok(RoutingRule {
                    category: r.try_get("category")?,
                    sector: r.try_get("sector")?,
                    level: r.try_get::<Option<String>, _>("level")?.as_deref().and_then(RegionLevel::parse),
                    department_kind: r.try_get("department_kind")?,
                })
            })
            .collect()
    }

    /// Replaces the routing table (administrators). Every line must name a known department kind.
    pub async fn replace_routing_table(&self, rules: &[RoutingRule]) -> StoreResult<()> {
        if let Some(bad) = rules.iter().find(|r| !is_department_kind(&r.department_kind)) {
            return Err(FieldError::new(
                "department_kind",
                "unknown",
                Message::new("problem.unknown.department_kind").arg("kind", &bad.department_kind),
            )
            .into());
        }
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM routing_rules").execute(&mut *tx.tx).await?;
        for (i, r) in rules.iter().enumerate() {
            sqlx::query(
                "INSERT INTO routing_rules (category, sector, level, department_kind, position) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(r.category.clone())
            .bind(r.sector.clone())
            .bind(r.level.map(|l| l.as_str().to_owned()))
            .bind(r.department_kind.clone())
            .bind(i as i64)
            .execute(&mut *tx.tx)
            .await?;
        }
        tx.commit().await
    }

    /// Files a case at `now`: routed, timed, with its first event. The worker keeps the tracking code.
    pub async fn submit_case(
        &self,
        c: &NewCase,
        settings: &CaseSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<Submitted> {
        self.submit_case_with_codes(c, settings, now, || tracking_code(dangjian_security::random_u64())).await
    }

    /// [`Store::submit_case`] with the tracking codes drawn from `next_code` (tests force a clash with
    /// it). A code already taken is retried with the next one, up to [`TRACKING_CODE_TRIES`] times: the
    /// insert runs inside a savepoint, so the clash rolls back only the insert — PostgreSQL would
    /// otherwise abort the whole transaction — and the retry works alike on both backends.
    pub async fn submit_case_with_codes(
        &self,
        c: &NewCase,
        settings: &CaseSettings,
        now: DateTime<Utc>,
        mut next_code: impl FnMut() -> String,
    ) -> StoreResult<Submitted> {
        c.check(settings)?;
        let calendar = &settings.calendar;
        let cat = category(settings, &c.category)?;
        let level = region_level(self, &c.region_code).await?;
        let table = self.routing_table().await?;
        let kind = route(&table, &c.category, c.sector.as_deref(), level)
            .map(|r| r.department_kind.clone())
            .unwrap_or_else(|| "social_work".into());
        let contact = c.contact.as_deref().map(str::trim).filter(|s| !s.is_empty() && !c.anonymous);
        let keys = if contact.is_some() { Some(self.keyring()?) } else { None };
        if let Some(p) = c.platform_id {
            let known =
                sqlx::query("SELECT 1 AS x FROM entities WHERE id = $1").bind(p).fetch_optional(&self.pool).await?;
            if known.is_none() {
                return Err(FieldError::new(
                    "platform_id",
                    "unknown",
                    Message::new("problem.unknown.unknown_platform"),
                )
                .into());
            }
        }
        let at = text_of(now);
        let (ack_due, resolve_due) = (due(calendar, now, cat.ack_days), due(calendar, now, cat.resolve_days));
        let mut tx = self.write_tx().await?;
        let dept = match department_at_or_above(&mut tx, &kind, &c.region_code).await? {
            Some(d) => d,
            None => department_at_or_above(&mut tx, "social_work", &c.region_code).await?.ok_or_else(|| {
                StoreError::Conflict {
                    code: "no_department",
                    message: Message::new("conflict.no_department").arg("kind", &kind).arg("region", &c.region_code),
                }
            })?,
        };
        let mut id = None;
        let mut code = String::new();
        for _ in 0..TRACKING_CODE_TRIES {
            code = next_code();
            sqlx::query("SAVEPOINT new_case").execute(&mut *tx.tx).await?;
            let inserted = sqlx::query(
                "INSERT INTO cases (tracking_code, category, sector, entity_id, region_code, description, anonymous, status, \
                 department_id, ack_due, resolve_due, created_at, open311_client_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(code.clone())
            .bind(c.category.clone())
            .bind(c.sector.clone())
            .bind(c.platform_id)
            .bind(c.region_code.clone())
            .bind(c.description.trim().to_owned())
            .bind(i64::from(c.anonymous))
            .bind(dept.id)
            .bind(ack_due.clone())
            .bind(resolve_due.clone())
            .bind(at.clone())
            .bind(c.open311_client_id)
            .fetch_one(&mut *tx.tx)
            .await;
            match inserted {
                Ok(row) => {
                    sqlx::query("RELEASE SAVEPOINT new_case").execute(&mut *tx.tx).await?;
                    id = Some(row.try_get::<i64, _>("id")?);
                    break;
                }
                // A clash of tracking codes (40 random bits): undo the insert only, try another code.
                Err(e) if is_unique_violation(&e) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT new_case").execute(&mut *tx.tx).await?;
                    tracing::warn!("tracking code clash; drawing another");
                }
                Err(e) => return Err(e.into()),
            }
        }
        let id = id.ok_or(StoreError::Conflict {
            code: "tracking_code_clash",
            message: Message::new("conflict.tracking_code_clash"),
        })?;
        if let (Some(plain), Some(keys)) = (contact, keys) {
            let sealed = seal(keys, &CASE_CONTACT, Some(id), plain)?;
            sqlx::query("UPDATE cases SET contact = $1 WHERE id = $2")
                .bind(sealed.stored)
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        }
        event(&mut tx, id, &at, WORKER, "submit", None, true, Some(dept.id)).await?;
        tx.commit().await?;
        Ok(Submitted { id, tracking_code: code, department_name: dept.name, ack_due, resolve_due })
    }

    /// The case behind a (typed) tracking code, as the worker may see it.
    pub async fn track_case(&self, code: &str) -> StoreResult<PublicCase> {
        let code = parse_tracking_code(code)?;
        let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.tracking_code = $1"))
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let c = self.case_from_row(&row, Disclosure::Masked)?;
        let events = self.case_events(c.id, true).await?;
        Ok(PublicCase {
            tracking_code: c.tracking_code,
            category: c.category,
            region_code: c.region_code,
            description: c.description,
            contact: c.contact,
            status: c.status,
            department_name: c.department_name,
            ack_due: c.ack_due,
            resolve_due: c.resolve_due,
            rating: c.rating,
            created_at: c.created_at,
            resolved_at: c.resolved_at,
            closed_at: c.closed_at,
            events,
        })
    }

    /// One case with its full history, if inside `access`.
    pub async fn case(&self, id: i64, access: &AccessFilter, disclosure: Disclosure) -> StoreResult<Case> {
        if !self.case_visible(id, access).await? {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut c = self.case_from_row(&row, disclosure)?;
        c.events = self.case_events(id, false).await?;
        Ok(c)
    }

    /// The inbox: cases handled by departments inside `access` that pass `filter`, oldest deadline
    /// first. Contacts are masked; events are left out (see [`Store::case`]).
    pub async fn case_inbox(
        &self,
        access: &AccessFilter,
        filter: &InboxFilter,
        paging: Paging,
    ) -> StoreResult<Page<Case>> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        access.restrict(&tree, &mut w, Rows::Cases);
        if let Some(s) = filter.status {
            let n = w.text(s.as_str());
            w.cond(format!("c.status = ${n}"));
        }
        if let Some(c) = &filter.category {
            let n = w.text(c.clone());
            w.cond(format!("c.category = ${n}"));
        }
        if let Some(now) = filter.overdue_at {
            // The test of the deadline job: open and past the deadline of its current step.
            let n = w.text(text_of(now));
            w.cond(format!(
                "((c.status = 'submitted' AND c.ack_due < ${n}) OR (c.status = 'acknowledged' AND c.resolve_due < ${n}))"
            ));
        }
        self.fetch_page(CASE_SELECT, "cases c", &w, "c.ack_due, c.id", paging, |r| {
            self.case_from_row(r, Disclosure::Masked)
        })
        .await
    }

    /// A handler's step on case `id` inside `access` at `now`, if still at `version`.
    #[allow(clippy::too_many_arguments)]
    pub async fn act_on_case(
        &self,
        id: i64,
        version: i64,
        step: &CaseStep,
        actor: &str,
        access: &AccessFilter,
        settings: &CaseSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<Case> {
        if matches!(step.action, CaseAction::Rate | CaseAction::AddInfo | CaseAction::Escalate) {
            return Err(FieldError::new("action", "not_allowed", Message::new("problem.not_allowed")).into());
        }
        let mut tx = self.write_tx().await?;
        if !access.admits_in(&mut tx, Rows::Cases, id).await? {
            return Err(StoreError::NotFound);
        }
        apply(&mut tx, id, Some(version), step, actor, settings, now).await?;
        tx.commit().await?;
        self.case(id, access, Disclosure::Masked).await
    }

    /// The worker's step by tracking code: add information, rate (1–5) or reopen a resolved case.
    pub async fn worker_act(
        &self,
        code: &str,
        step: &CaseStep,
        settings: &CaseSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<PublicCase> {
        if !matches!(step.action, CaseAction::Rate | CaseAction::AddInfo | CaseAction::Reopen) {
            return Err(
                FieldError::new("action", "not_allowed", Message::new("problem.not_allowed.worker_s_action")).into()
            );
        }
        let code = parse_tracking_code(code)?;
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query("SELECT id FROM cases WHERE tracking_code = $1")
            .bind(code.clone())
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("id")?;
        let step = CaseStep { public: true, ..step.clone() };
        apply(&mut tx, id, None, &step, WORKER, settings, now).await?;
        tx.commit().await?;
        self.track_case(&code).await
    }
}

/// Which cases of the inbox to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxFilter {
    pub status: Option<CaseStatus>,
    pub category: Option<String>,
    /// Only those overdue at this moment.
    pub overdue_at: Option<DateTime<Utc>>,
}

impl InboxFilter {
    pub fn status(status: CaseStatus) -> Self {
        Self { status: Some(status), ..Self::default() }
    }
}

/// A step on a case: the action, a note (public or internal), and what the action needs.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseStep {
    pub action: CaseAction,
    pub note: Option<String>,
    /// Whether the note shows on the tracking page.
    pub public: bool,
    /// [`CaseAction::Transfer`]: the receiving department.
    pub department_id: Option<i64>,
    /// [`CaseAction::Assign`]: the handler's name.
    pub assignee: Option<String>,
    /// [`CaseAction::Rate`]: 1 to 5.
    pub rating: Option<i64>,
}

impl CaseStep {
    pub fn new(action: CaseAction) -> Self {
        Self { action, note: None, public: false, department_id: None, assignee: None, rating: None }
    }

    pub fn note(mut self, note: &str, public: bool) -> Self {
        self.note = Some(note.into());
        self.public = public;
        self
    }
}

fn action_name(a: CaseAction) -> &'static str {
    match a {
        CaseAction::Acknowledge => "acknowledge",
        CaseAction::Assign => "assign",
        CaseAction::Note => "note",
        CaseAction::Transfer => "transfer",
        CaseAction::Resolve => "resolve",
        CaseAction::Reopen => "reopen",
        CaseAction::AddInfo => "add_info",
        CaseAction::Rate => "rate",
        CaseAction::Escalate => "escalate",
    }
}

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut WriteTx,
    case_id: i64,
    at: &str,
    actor: &str,
    action: &str,
    note: Option<&str>,
    public: bool,
    department_id: Option<i64>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO case_events (case_id, at, actor, action, note, public, department_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(case_id)
    .bind(at.to_owned())
    .bind(actor.to_owned())
    .bind(action.to_owned())
    .bind(note.map(str::to_owned))
    .bind(i64::from(public))
    .bind(department_id)
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

/// The level of a region, or a field error naming `region_code`.
async fn region_level(store: &Store, code: &str) -> StoreResult<RegionLevel> {
    let row = sqlx::query("SELECT level FROM regions WHERE code = $1")
        .bind(code.to_owned())
        .fetch_optional(&store.pool)
        .await?;
    row.map(|r| r.try_get::<String, _>("level")).transpose()?.as_deref().and_then(RegionLevel::parse).ok_or_else(|| {
        FieldError::new("region_code", "unknown", Message::new("problem.unknown.region_area").arg("code", code)).into()
    })
}

/// The department of `kind` at `region` or the nearest region above it that has one.
async fn department_at_or_above(tx: &mut WriteTx, kind: &str, region: &str) -> StoreResult<Option<Department>> {
    let mut code = Some(region.to_owned());
    // Regions are at most four levels deep; the bound guards against a cycle in bad data.
    for _ in 0..8 {
        let Some(c) = code else { break };
        let found = sqlx::query(
            "SELECT id, code, name, kind, region_code FROM departments WHERE kind = $1 AND region_code = $2",
        )
        .bind(kind.to_owned())
        .bind(c.clone())
        .fetch_optional(&mut *tx.tx)
        .await?;
        if let Some(row) = found {
            return Ok(Some(department_from_row(&row)?));
        }
        code = sqlx::query("SELECT parent_code FROM regions WHERE code = $1")
            .bind(c)
            .fetch_optional(&mut *tx.tx)
            .await?
            .map(|r| r.try_get::<Option<String>, _>("parent_code"))
            .transpose()?
            .flatten();
    }
    Ok(None)
}

/// Applies `step` to case `id` inside `tx`: the status through [`next_status`], the fields the action
/// changes, and an event.
async fn apply(
    tx: &mut WriteTx,
    id: i64,
    version: Option<i64>,
    step: &CaseStep,
    actor: &str,
    settings: &CaseSettings,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let row = sqlx::query("SELECT status, category, version, department_id, created_at FROM cases WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let current: i64 = row.try_get("version")?;
    if version.is_some_and(|v| v != current) {
        return Err(StoreError::StaleVersion { current });
    }
    let status = CaseStatus::parse(&row.try_get::<String, _>("status")?).unwrap_or(CaseStatus::Closed);
    let mut next = next_status(status, step.action)?;
    if let Some(n) = &step.note {
        if n.chars().count() > MAX_TEXT_CHARS {
            return Err(text_error("note", MAX_TEXT_CHARS).into());
        }
        text::clean(n, "note", TextKind::Lines)?;
    }
    if matches!(step.action, CaseAction::Note | CaseAction::AddInfo)
        && step.note.as_deref().is_none_or(|n| n.trim().is_empty())
    {
        return Err(FieldError::new("note", "required", Message::new("problem.required.write_something")).into());
    }
    let at = text_of(now);
    let filed: String = row.try_get("created_at")?;
    let (ack_days, resolve_days) = deadlines_of(settings, &row.try_get::<String, _>("category")?);
    let calendar = &settings.calendar;
    let mut sets: Vec<String> = Vec::new();
    let mut binds: Vec<Option<String>> = Vec::new();
    let mut set = |col: &str, v: Option<String>| {
        binds.push(v);
        sets.push(format!("{col} = ${}", binds.len()));
    };
    let mut department = None;
    match step.action {
        CaseAction::Acknowledge => {
            set("acknowledged_at", Some(at.clone()));
            set("ack_seconds", seconds_between(&filed, &at).map(|s| s.to_string()));
        }
        CaseAction::Assign => {
            let who = step.assignee.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
                StoreError::from(FieldError::new("assignee", "required", Message::new("problem.required.name_handler")))
            })?;
            // Shown to every cadre of the department: no control or direction-changing characters.
            let who = text::clean(who, "assignee", TextKind::Line)?;
            set("assignee", Some(who.chars().take(100).collect()));
        }
        CaseAction::Transfer => {
            let to = step.department_id.ok_or_else(|| {
                StoreError::from(FieldError::new(
                    "department_id",
                    "required",
                    Message::new("problem.required.name_receiving_department"),
                ))
            })?;
            let exists = sqlx::query("SELECT 1 AS x FROM departments WHERE id = $1")
                .bind(to)
                .fetch_optional(&mut *tx.tx)
                .await?;
            if exists.is_none() {
                return Err(FieldError::new(
                    "department_id",
                    "unknown",
                    Message::new("problem.unknown.unknown_department"),
                )
                .into());
            }
            department = Some(to);
            // The receiving department acknowledges it anew.
            next = CaseStatus::Submitted;
            set("department_id", Some(to.to_string()));
            set("assignee", None);
            set("ack_due", Some(due(calendar, now, ack_days)));
        }
        CaseAction::Resolve => {
            set("resolved_at", Some(at.clone()));
            set("resolve_seconds", seconds_between(&filed, &at).map(|s| s.to_string()));
        }
        CaseAction::Reopen => {
            set("resolved_at", None);
            set("resolve_seconds", None);
            set("resolve_due", Some(due(calendar, now, resolve_days)));
        }
        CaseAction::Rate => {
            let r = step.rating.filter(|r| (1..=5).contains(r)).ok_or_else(|| {
                StoreError::from(FieldError::new("rating", "out_of_range", Message::new("problem.out_of_range.rate")))
            })?;
            set("rating", Some(r.to_string()));
            set("closed_at", Some(at.clone()));
        }
        CaseAction::Note | CaseAction::AddInfo | CaseAction::Escalate => {}
    }
    set("status", Some(next.as_str().to_owned()));
    // Integer columns are bound as integers: PostgreSQL does not cast text to BIGINT.
    let mut sql = format!("UPDATE cases SET {}, version = version + 1 WHERE id = ", sets.join(", "));
    let n_id = binds.len() + 1;
    sql.push_str(&format!("${n_id} AND version = ${}", n_id + 1));
    let int_cols = ["department_id", "rating", "ack_seconds", "resolve_seconds"];
    let mut q = sqlx::query(&sql);
    for (s, v) in sets.iter().zip(binds) {
        let col = s.split(' ').next().unwrap_or_default();
        q = if int_cols.contains(&col) { q.bind(v.and_then(|v| v.parse::<i64>().ok())) } else { q.bind(v) };
    }
    let n = q.bind(id).bind(current).execute(&mut *tx.tx).await?.rows_affected();
    if n == 0 {
        return Err(StoreError::StaleVersion { current });
    }
    let dept_for_event = department.or(row.try_get::<Option<i64>, _>("department_id")?);
    let note = step.note.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let public =
        step.public || matches!(step.action, CaseAction::Acknowledge | CaseAction::Resolve | CaseAction::Transfer);
    // An internal note is never public, whatever the action.
    let public = public && (step.public || note.is_none());
    event(tx, id, &at, actor, action_name(step.action), note, public, dept_for_event).await?;
    let notice = match step.action {
        CaseAction::Transfer => Some(NotificationKind::TransferredIn),
        CaseAction::AddInfo if actor == WORKER => Some(NotificationKind::WorkerInfo),
        CaseAction::Reopen if actor == WORKER => Some(NotificationKind::WorkerReopened),
        _ => None,
    };
    match (notice, dept_for_event) {
        (Some(kind), Some(dept)) => notifications::notify(tx, dept, id, kind, &at).await,
        _ => Ok(()),
    }
}
