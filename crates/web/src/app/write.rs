//! The shape every registry write shares (units, organizations, instructors): `begin` decides the
//! permission — `<name>.create` on no particular record, `<name>.<verb>` on a stored one, a refusal
//! audited — and the pending write, once given its input by the resource's command, audits the outcome
//! under the same name. Each resource's file adds its own steps (`save`, `close`, …) to
//! [`Pending`] of its record type.

use super::permission::{self, Object, Target};
use super::{AppResult, Ctx};
use dangjian_domain::access::Action;
use dangjian_store::{AccessFilter, StoreResult};
use std::marker::PhantomData;

/// A kind of registry record a write is about.
pub trait Record {
    /// The name audit records give it (`entity`, `organization`, `instructor`).
    const NAME: &'static str;
    /// The stored record with this id, for the permission.
    fn target(id: i64) -> Target;
    fn id(&self) -> i64;
}

/// A write on a record of kind `R` the actor may make, waiting for its input.
#[must_use]
pub struct Pending<R> {
    pub(super) cx: Ctx,
    pub(super) access: AccessFilter,
    /// The stored record an update, close or delete is about; `None` for a new one.
    pub(super) id: Option<i64>,
    verb: &'static str,
    record: PhantomData<fn() -> R>,
}

impl<R: Record> Pending<R> {
    /// May the actor create a record of kind `R`? (A refusal is audited as `<name>.create`.)
    pub async fn begin_create(cx: &Ctx) -> AppResult<Self> {
        let audit_action = format!("{}.create", R::NAME);
        let access = permission::require(&cx.state, &cx.actor, Action::Write, &audit_action).await?;
        Ok(Self { cx: cx.clone(), access, id: None, verb: "create", record: PhantomData })
    }

    /// May the actor `verb` record `id` (`update`, `close`, …)? (A refusal is audited as
    /// `<name>.<verb>`.)
    pub async fn begin(cx: &Ctx, id: i64, verb: &'static str) -> AppResult<Self> {
        let audit_action = format!("{}.{verb}", R::NAME);
        let access = permission::authorize(&cx.state, &cx.actor, Action::Write, R::target(id), &audit_action).await?;
        Ok(Self { cx: cx.clone(), access, id: Some(id), verb, record: PhantomData })
    }

    /// Audits the write's outcome (the record written, for a new one) and answers it.
    pub(super) async fn finish<T>(self, result: StoreResult<T>, written: impl Fn(&T) -> i64) -> AppResult<T> {
        let id = self.id.or(result.as_ref().ok().map(written));
        let audit_action = format!("{}.{}", R::NAME, self.verb);
        permission::audit_write(&self.cx.state, &self.cx.actor, &audit_action, id.map(R::target), &result).await;
        Ok(result?)
    }
}

/// Reads record `id` after deciding the permission (a refusal audited as `<name>.read`).
pub(super) async fn authorize_read<R: Record>(cx: &Ctx, id: i64) -> AppResult<()> {
    let audit_action = format!("{}.read", R::NAME);
    permission::authorize(&cx.state, &cx.actor, Action::Read, R::target(id), &audit_action).await?;
    Ok(())
}

/// A change on no particular registry record — reference data, Open311 clients, accounts, settings —
/// the actor may make: the permission decided under its audit action (a refusal audited), the outcome
/// audited under the same name by [`Change::finish`].
#[must_use]
pub struct Change {
    pub(super) cx: Ctx,
    audit_action: &'static str,
}

impl Change {
    /// May the actor do `action` (audited as `audit_action`)?
    pub(super) async fn begin(cx: &Ctx, action: Action, audit_action: &'static str) -> AppResult<Self> {
        permission::require(&cx.state, &cx.actor, action, audit_action).await?;
        Ok(Self { cx: cx.clone(), audit_action })
    }

    /// Audits the change's outcome, about `object` (for a new record: the one written, if it was).
    pub(super) async fn finish<T>(
        self,
        object: impl FnOnce(&StoreResult<T>) -> Option<Object>,
        result: StoreResult<T>,
    ) -> AppResult<T> {
        let object = object(&result);
        permission::audit_write(&self.cx.state, &self.cx.actor, self.audit_action, object, &result).await;
        Ok(result?)
    }
}
