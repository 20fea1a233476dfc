//! The one permission path: every command (and every read a handler still makes itself) asks here, and
//! nowhere else, whether the actor may go on. [`verdict`] is the decision as a pure function of the
//! actor, the action and where the subject stands (tested as a table); [`authorize`] decides an
//! action on a stored record, [`require`] one on no particular record (a list, a new record, an
//! import, an export, reference data, account administration). Both audit a refusal (outcome
//! `denied`) and return the filter of the action's scopes for the store call that follows.
//!
//! The decision follows `dangjian_domain::access::decide`: a record inside a scope whose role allows
//! the action is allowed; a record inside some other scope of the actor's is forbidden (403); a record
//! outside every scope does not exist for the actor (404).

use super::AppError;
use crate::auth::Actor;
use crate::transfer::ImportFailure;
use crate::AppState;
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

/// The rows in which the actor may perform `action` (none for an anonymous request). A write under
/// it may refer only to records the actor may read (see `docs/access.md#references`).
pub fn filter(actor: &Actor, action: Action) -> AccessFilter {
    if actor.is_operator() {
        return AccessFilter::unrestricted();
    }
    let allowed = AccessFilter::new(actor.scopes_for(action));
    if action == Action::Read {
        return allowed;
    }
    allowed.referring_to(&AccessFilter::new(actor.scopes_for(Action::Read)))
}

/// Everything the actor reaches under any grant, whatever the action: a record in here but outside
/// [`filter`] is forbidden rather than missing.
pub fn reach(actor: &Actor) -> AccessFilter {
    if actor.is_operator() {
        return AccessFilter::unrestricted();
    }
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

/// Where the subject of an action stands, as far as the decision needs to know (the store answers it
/// for a stored record: [`authorize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// No particular record: a list, a new record, an import, an export, reference data,
    /// account administration, the audit log.
    Nothing,
    /// A stored record: whether it lies inside the scopes in which the action is allowed, and whether
    /// it lies anywhere the actor reaches at all.
    Record { allowed: bool, reached: bool },
}

/// The permission: whether `actor` may do `action` to `subject`, or why not — 401 for nobody signed
/// in, 403 inside the actor's reach, 404 outside it. Which roles allow which action is
/// `dangjian_domain::access` (`Role::categories`, `Action::category`).
pub fn verdict(actor: &Actor, action: Action, subject: Subject) -> Result<(), AppError> {
    if !actor.is_authenticated() {
        return Err(AppError::Unauthenticated);
    }
    match subject {
        _ if actor.is_operator() => Ok(()),
        Subject::Nothing if actor.may(action) => Ok(()),
        Subject::Nothing => Err(AppError::Forbidden),
        Subject::Record { allowed: true, .. } => Ok(()),
        Subject::Record { reached: true, .. } => Err(AppError::Forbidden),
        Subject::Record { .. } => Err(AppError::NotFound),
    }
}

/// Audits a refusal of the verdict (a 403: a 404 is about a record that does not exist for the actor,
/// and a 401 about nobody) as `audit_action`, `denied`, and passes the verdict on.
async fn audited(
    state: &AppState,
    actor: &Actor,
    audit_action: &str,
    object: Option<Object>,
    verdict: Result<(), AppError>,
) -> Result<(), AppError> {
    if let Err(AppError::Forbidden) = verdict {
        audit(state, actor, audit_action, object, "denied", None).await;
    }
    verdict
}

/// Decides `action` on a stored record; a refusal with 403 is audited as `audit_action`, `denied`.
/// Returns the filter of the action's scopes, for the store call that follows.
pub async fn authorize(
    state: &AppState,
    actor: &Actor,
    action: Action,
    target: Target,
    audit_action: &str,
) -> Result<AccessFilter, AppError> {
    if !actor.is_authenticated() {
        return Err(AppError::Unauthenticated);
    }
    let allowed = filter(actor, action);
    let in_allowed = visible(state, target, &allowed).await?;
    let reached = !in_allowed && visible(state, target, &reach(actor)).await?;
    let v = verdict(actor, action, Subject::Record { allowed: in_allowed, reached });
    audited(state, actor, audit_action, Some(target.object()), v).await?;
    Ok(allowed)
}

/// Requires a grant allowing `action` somewhere, for an action on no particular record (a list, a
/// new record, an import, an export); a refusal is audited as `audit_action`, `denied`. Returns the
/// filter of the action's scopes.
pub async fn require(
    state: &AppState,
    actor: &Actor,
    action: Action,
    audit_action: &str,
) -> Result<AccessFilter, AppError> {
    audited(state, actor, audit_action, None, verdict(actor, action, Subject::Nothing)).await?;
    Ok(filter(actor, action))
}

/// Requires a grant allowing one of `any_of` (an administrator's page that serves two of the three
/// administrators); a refusal is audited as `audit_action`, `denied`.
pub async fn require_any(
    state: &AppState,
    actor: &Actor,
    any_of: &[Action],
    audit_action: &str,
) -> Result<(), AppError> {
    let v = match any_of.iter().map(|a| verdict(actor, *a, Subject::Nothing)).find(Result::is_ok) {
        Some(ok) => ok,
        None => verdict(actor, any_of.first().copied().unwrap_or(Action::ManageAccounts), Subject::Nothing),
    };
    audited(state, actor, audit_action, None, v).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Principal;
    use dangjian_domain::access::{Grant, Role, Scope};

    fn actor(role: Option<Role>) -> Actor {
        Actor {
            principal: role.map(|_| Principal::User { id: 1, username: "u".into() }),
            grants: role.map(|role| Grant { role, scope: Scope::Region { path: "/44/".into() } }).into_iter().collect(),
            ..Default::default()
        }
    }

    fn code(v: Result<(), AppError>) -> char {
        match v {
            Ok(()) => 'A',
            Err(AppError::Unauthenticated) => 'U',
            Err(AppError::Forbidden) => 'F',
            Err(AppError::NotFound) => 'N',
            Err(_) => '?',
        }
    }

    /// The decision as a table: for each action and where its subject stands, the answer of anonymous
    /// and of each role (`Role::ALL` order). A stored record inside the allowed scopes is allowed only
    /// because the store found it there with the role's own filter, so that column follows the role.
    #[test]
    fn the_verdict_table() {
        const NOTHING: Subject = Subject::Nothing;
        const ALLOWED: Subject = Subject::Record { allowed: true, reached: true };
        const REACHED: Subject = Subject::Record { allowed: false, reached: true };
        const OUTSIDE: Subject = Subject::Record { allowed: false, reached: false };
        let table: &[(Action, Subject, &str)] = &[
            (Action::Read, NOTHING, "U FFF AAAAA"),
            (Action::Write, NOTHING, "U FFF AFAAF"),
            (Action::Approve, NOTHING, "U FFF AFAFF"),
            (Action::RecordPayment, NOTHING, "U FFF AFAAF"),
            (Action::Import, NOTHING, "U FFF AFAFF"),
            (Action::Export, NOTHING, "U FFF AAAFA"),
            (Action::ManageReference, NOTHING, "U AFF FFFFF"),
            (Action::ManageAccounts, NOTHING, "U AFF FFFFF"),
            (Action::ManageGrants, NOTHING, "U FAF FFFFF"),
            (Action::ReadAudit, NOTHING, "U FFA FFFFF"),
            (Action::Write, ALLOWED, "U AAA AAAAA"),
            (Action::Write, REACHED, "U FFF FFFFF"),
            (Action::Write, OUTSIDE, "U NNN NNNNN"),
        ];
        for (action, subject, row) in table {
            let expected: String = row.chars().filter(|c| !c.is_whitespace()).collect();
            let actual: String = std::iter::once(None)
                .chain(Role::ALL.into_iter().map(Some))
                .map(|r| code(verdict(&actor(r), *action, *subject)))
                .collect();
            assert_eq!(actual, expected, "{action:?} on {subject:?}");
        }
    }

    /// The command line's operator holds the database itself: every action, on anything, in every
    /// scope.
    #[test]
    fn the_operator_may_do_anything() {
        let op = Actor::operator("cli:root");
        for action in [Action::Write, Action::Import, Action::ManageAccounts, Action::ReadAudit] {
            assert!(matches!(verdict(&op, action, Subject::Nothing), Ok(())), "{action:?}");
            let outside = Subject::Record { allowed: false, reached: false };
            assert!(matches!(verdict(&op, action, outside), Ok(())), "{action:?}");
            assert_eq!(filter(&op, action), AccessFilter::unrestricted(), "{action:?}");
        }
        assert_eq!(op.name(), "cli:root");
        assert!(op.audit("x", None, None, "ok").actor_user_id.is_none());
    }

    #[test]
    fn a_session_owing_a_second_factor_is_nobody_yet() {
        let mut a = actor(Some(Role::DepartmentCadre));
        a.session = Some(crate::auth::SessionRef {
            id_hash: String::new(),
            csrf_token: String::new(),
            awaiting_second_factor: true,
            password_change_required: false,
        });
        assert!(matches!(verdict(&a, Action::Read, Subject::Nothing), Err(AppError::Unauthenticated)));
    }
}
