//! Reading personal data in full (PIPL Art. 28/51: sensitive personal information, minimum necessary;
//! GB/T 22239-2019 8.1.4.3 security audit): the one command behind the API endpoint and the page that
//! show an instructor's whole mobile number. Everywhere else the number is masked.
//!
//! A reveal needs `Action::ReadPersonal` in a scope that covers the instructor (department cadres,
//! platform committees and branch secretaries in their scope — never regulators, instructors or the
//! administrators); out of every scope it is a 404, in scope without the right a 403 (audited as
//! denied). Every reveal is written to the audit log *before* the number leaves: if the record cannot
//! be written, nothing is shown.

use crate::app::permission::{self, Target};
use crate::app::AppError;
use crate::auth::Actor;
use crate::AppState;
use dangjian_domain::access::Action;
use dangjian_domain::Mobile;

/// The audit action of reading an instructor's personal data in full.
pub const READ_PERSONAL: &str = "instructor.read_personal";

/// Whether `actor` may see instructor `id`'s mobile number in full (nothing is audited: this only
/// decides whether to offer the button).
pub async fn may_reveal_instructor_mobile(state: &AppState, actor: &Actor, id: i64) -> bool {
    if !actor.is_authenticated() || !actor.may(Action::ReadPersonal) {
        return false;
    }
    let allowed = permission::filter(actor, Action::ReadPersonal);
    state.store.instructor_visible(id, &allowed).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not decide on showing a mobile number");
        false
    })
}

/// Instructor `id`'s full mobile number for `actor`, audited as [`READ_PERSONAL`].
pub async fn reveal_instructor_mobile(state: &AppState, actor: &Actor, id: i64) -> Result<Mobile, AppError> {
    let target = Target::Instructor(id);
    permission::authorize(state, actor, Action::ReadPersonal, target, READ_PERSONAL).await?;
    let mobile = state.store.instructor_mobile(id).await;
    let object = target.object();
    let mut entry = actor.audit(READ_PERSONAL, Some(object.object_type), Some(object.id), permission::outcome(&mobile));
    entry.detail = Some("mobile".to_owned());
    state.store.append_audit(&entry).await?;
    Ok(mobile?)
}

/// The audit action of reading a worker's contact on a case in full.
pub const CASE_READ_CONTACT: &str = "case.read_contact";

/// Whether `actor` may see case `id`'s contact in full: personal data reading in a scope that covers
/// the case, and handling it (the department's region). Decides whether to offer the button only.
pub async fn may_reveal_case_contact(state: &AppState, actor: &Actor, id: i64) -> bool {
    if !actor.is_authenticated() || !actor.may(Action::ReadPersonal) || !actor.may(Action::Write) {
        return false;
    }
    let visible = |a| async move { state.store.case_visible(id, &permission::filter(actor, a)).await.unwrap_or(false) };
    visible(Action::ReadPersonal).await && visible(Action::Write).await
}

/// Decides whether `actor` may see case `id`'s contact in full (a refusal audited as
/// [`CASE_READ_CONTACT`]); answers the filter to read it under.
pub async fn permit_case_contact(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<dangjian_store::AccessFilter, AppError> {
    let target = Target::Case(id);
    let access = permission::authorize(state, actor, Action::ReadPersonal, target, CASE_READ_CONTACT).await?;
    // Only where the caller also handles the case.
    if !state.store.case_visible(id, &permission::filter(actor, Action::Write)).await? {
        return Err(AppError::Forbidden);
    }
    Ok(access)
}

/// The worker's contact on case `id` in full, for the handling department only, audited as
/// [`CASE_READ_CONTACT`] before it leaves (`None`: anonymous, not given, or erased).
pub async fn reveal_case_contact(state: &AppState, actor: &Actor, id: i64) -> Result<Option<String>, AppError> {
    let target = Target::Case(id);
    let access = permit_case_contact(state, actor, id).await?;
    let case = state.store.case(id, &access, dangjian_store::Disclosure::Full).await;
    let object = target.object();
    let entry = actor.audit(CASE_READ_CONTACT, Some(object.object_type), Some(object.id), permission::outcome(&case));
    state.store.append_audit(&entry).await?;
    Ok(case?.contact)
}
