//! Scope enforcement for handlers: the one place that turns an actor's grants into a decision on a
//! record (allow, 403, 404), into the filter that lists, imports and exports go through, and into the
//! audit records of writes and refusals. Handlers call [`authorize`] for a stored record or
//! [`require`] for an action on no particular record, then pass the returned filter to the store.
//!
//! The decision follows `dangjian_domain::access::decide`: a record inside a scope whose role allows
//! the action is allowed; a record inside some other scope of the actor's is forbidden (403); a record
//! outside every scope does not exist for the actor (404).

use crate::auth::Actor;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::{Failed, PageCtx, PageError};
use crate::transfer::ImportFailure;
use crate::AppState;
use axum::http::StatusCode;
use dangjian_domain::access::Action;
use dangjian_store::{AccessFilter, ImportSummary, StoreError};

/// A stored registry record an action is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Entity(i64),
    Organization(i64),
    Instructor(i64),
    Station(i64),
    /// A needs/rights case (reached by its handling department's region).
    Case(i64),
}

impl Target {
    /// The record's type as the audit log names it.
    pub fn object_type(self) -> &'static str {
        match self {
            Self::Entity(_) => "entity",
            Self::Organization(_) => "organization",
            Self::Instructor(_) => "instructor",
            Self::Station(_) => "station",
            Self::Case(_) => "case",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Self::Entity(id) | Self::Organization(id) | Self::Instructor(id) | Self::Station(id) | Self::Case(id) => id,
        }
    }

    /// The record as the audit log names it.
    pub fn object(self) -> Object {
        Object::new(self.object_type(), self.id())
    }
}

/// What an audit record is about: a type and an id (or code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub object_type: &'static str,
    pub id: String,
}

impl Object {
    pub fn new(object_type: &'static str, id: impl ToString) -> Self {
        Self { object_type, id: id.to_string() }
    }
}

impl From<Target> for Object {
    fn from(t: Target) -> Self {
        t.object()
    }
}

/// Why a request may not go on.
#[derive(Debug)]
pub enum Refusal {
    /// Nobody is signed in: 401 (pages never get here; the gate sends them to the login page).
    Unauthenticated,
    /// Inside the actor's reach, but no grant there allows the action: 403.
    Forbidden,
    /// Outside everything the actor reaches, or not there at all: 404.
    NotFound,
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl Refusal {
    /// The API's answer.
    pub fn api(self, lang: Lang) -> ApiError {
        match self {
            Self::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", lang.pick("请先登录", "sign in first"))
            }
            Self::Forbidden => forbidden(lang),
            Self::NotFound => ApiError::not_found(lang),
            Self::Store(e) => ApiError::from_store(e, lang),
        }
    }

    /// The pages' answer: the error page with the same status.
    pub fn page(self, ctx: &PageCtx) -> Failed {
        match self {
            Self::Unauthenticated | Self::Forbidden => Failed(ctx.clone(), PageError::Forbidden),
            Self::NotFound => ctx.not_found(),
            Self::Store(e) => ctx.store_err()(e),
        }
    }
}

/// 403 in the API's shape.
pub fn forbidden(lang: Lang) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", lang.pick("无权执行此操作", "not allowed"))
}

/// The rows in which the actor may perform `action` (none for an anonymous request). A write under
/// it may refer only to records the actor may read (see `docs/access.md#references`).
pub fn filter(actor: &Actor, action: Action) -> AccessFilter {
    let allowed = AccessFilter::new(actor.scopes_for(action));
    if action == Action::Read {
        return allowed;
    }
    allowed.referring_to(&AccessFilter::new(actor.scopes_for(Action::Read)))
}

/// Everything the actor reaches under any grant, whatever the action: a record in here but outside
/// [`filter`] is forbidden rather than missing.
pub fn reach(actor: &Actor) -> AccessFilter {
    if !actor.is_authenticated() {
        return AccessFilter::nothing();
    }
    AccessFilter::new(actor.grants.iter().map(|g| g.scope.clone()))
}

async fn visible(state: &AppState, target: Target, access: &AccessFilter) -> Result<bool, StoreError> {
    let store = &state.store;
    match target {
        Target::Entity(id) => store.entity_visible(id, access).await,
        Target::Organization(id) => store.organization_visible(id, access).await,
        Target::Instructor(id) => store.instructor_visible(id, access).await,
        Target::Station(id) => store.station_visible(id, access).await,
        Target::Case(id) => store.case_visible(id, access).await,
    }
}

/// Decides `action` on a stored record; a refusal with 403 is audited as `audit_action`, `denied`.
/// Returns the filter of the action's scopes, for the store call that follows.
pub async fn authorize(
    state: &AppState,
    actor: &Actor,
    action: Action,
    target: Target,
    audit_action: &str,
) -> Result<AccessFilter, Refusal> {
    if !actor.is_authenticated() {
        return Err(Refusal::Unauthenticated);
    }
    let allowed = filter(actor, action);
    if visible(state, target, &allowed).await? {
        return Ok(allowed);
    }
    if visible(state, target, &reach(actor)).await? {
        audit(state, actor, audit_action, Some(target.object()), "denied", None).await;
        return Err(Refusal::Forbidden);
    }
    Err(Refusal::NotFound)
}

/// Requires a grant allowing `action` somewhere, for an action on no particular record (a list, a
/// new record, an import, an export); a refusal is audited as `audit_action`, `denied`. Returns the
/// filter of the action's scopes.
pub async fn require(
    state: &AppState,
    actor: &Actor,
    action: Action,
    audit_action: &str,
) -> Result<AccessFilter, Refusal> {
    if !actor.is_authenticated() {
        return Err(Refusal::Unauthenticated);
    }
    if !actor.may(action) {
        audit(state, actor, audit_action, None, "denied", None).await;
        return Err(Refusal::Forbidden);
    }
    Ok(filter(actor, action))
}

/// Appends a record to the audit log. A failure to append is logged, not shown: the action it
/// records has already happened.
pub async fn audit(
    state: &AppState,
    actor: &Actor,
    action: &str,
    object: Option<Object>,
    outcome: &str,
    detail: Option<String>,
) {
    let object_type = object.as_ref().map(|o| o.object_type).or_else(|| action.split('.').next());
    let mut entry = actor.audit(action, object_type, object.map(|o| o.id), outcome);
    entry.detail = detail;
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::error!(error = %e, action, "could not append to the audit log");
    }
}

/// The audit outcome of a finished write: `ok`, `denied` (it would have left the actor's scopes, or
/// the record is not theirs) or `failed`.
pub fn outcome<T>(result: &Result<T, StoreError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => failure_outcome(e),
    }
}

fn failure_outcome(e: &StoreError) -> &'static str {
    match e {
        StoreError::OutOfScope => "denied",
        StoreError::Invalid(errs) if errs.any_refused() => "denied",
        _ => "failed",
    }
}

/// Audits a finished write of `object` (for a new record: the one written, if it was).
pub async fn audit_write<T>(
    state: &AppState,
    actor: &Actor,
    action: &str,
    object: Option<impl Into<Object>>,
    result: &Result<T, StoreError>,
) {
    let object = object.map(Into::into);
    let detail = match result {
        Err(e @ (StoreError::Invalid(_) | StoreError::StaleVersion { .. } | StoreError::Conflict { .. })) => {
            Some(error_code(e).to_owned())
        }
        _ => None,
    };
    audit(state, actor, action, object, outcome(result), detail).await;
}

fn error_code(e: &StoreError) -> &'static str {
    match e {
        StoreError::Invalid(_) => "validation_failed",
        StoreError::StaleVersion { .. } => "stale_version",
        StoreError::Conflict { code, .. } => code,
        _ => "error",
    }
}

/// Audits an import of `kind` (`import.entities`, …) with its counts in the detail: `ok`; `denied`
/// when rows fell outside the importer's scopes; `failed` otherwise.
pub async fn audit_import(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    dry_run: bool,
    result: &Result<ImportSummary, ImportFailure>,
) {
    let (outcome, detail) = match result {
        Ok(s) => {
            ("ok", format!("created={} updated={} unchanged={} dry_run={dry_run}", s.created, s.updated, s.unchanged))
        }
        Err(ImportFailure::Rows(errs)) => {
            let out_of_scope = errs.errors.iter().filter(|e| e.code == "out_of_scope").count() + errs.refused;
            let outcome = if out_of_scope > 0 { "denied" } else { "failed" };
            (outcome, format!("errors={} out_of_scope={out_of_scope} dry_run={dry_run}", errs.total))
        }
        Err(ImportFailure::Unreadable(_)) => ("failed", format!("unreadable dry_run={dry_run}")),
        Err(ImportFailure::Store(e)) => (failure_outcome(e), format!("{} dry_run={dry_run}", error_code(e))),
    };
    audit(state, actor, &format!("import.{kind}"), None, outcome, Some(detail)).await;
}
