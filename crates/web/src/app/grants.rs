//! Grants of roles over scopes to accounts and API tokens (the security administrator): the commands
//! behind the grant forms of the `/admin/users/{id}` and `/admin/tokens/{id}` pages. A grant form names
//! its scope the way people name things — a region code (or `/` for the whole country), a platform's
//! USCC or id, a sector within a region, an organization's code or id; [`resolve`] parses it. The store
//! refuses a scope that does not fit the role; [`crate::auth::grants`] adds the separation-of-duties
//! rules. Audited as `grant.add` and `grant.remove` about the holder (`user` or `token` `<id>`): `ok`,
//! or `denied` with what refused it.

use super::admin::AdminChange;
use super::permission::Object;
use super::{AppError, AppResult, Ctx};
use crate::auth::grants::{may_add, may_remove, Recipient};
use dangjian_domain::access::{Action, Grant, Role, Scope};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors, SearchTerm};
use dangjian_store::access::AccessFilter;
use dangjian_store::accounts::Holder;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::{Paging, Store, StoreError};
use serde::Serialize;

/// The grant form as submitted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GrantForm {
    pub role: String,
    pub scope_kind: String,
    pub scope_code: String,
    pub sector: String,
}

fn field(code: &str, message: Message) -> FieldErrors {
    FieldErrors(vec![FieldError::new("scope_code", code, message)])
}

/// `/` (or 全国) for the whole country, else a region's path by its code.
async fn region_path(store: &Store, code: &str) -> Result<String, FieldErrors> {
    let code = code.trim();
    if code == "/" || code == "全国" {
        return Ok("/".to_owned());
    }
    if code.is_empty() {
        return Err(field("required", Message::new("problem.required.enter_region_code")));
    }
    match store.region(code).await {
        Ok(r) => Ok(r.path),
        Err(StoreError::NotFound) => {
            Err(field("unknown_region", Message::new("problem.unknown_region.no_region_code_2")))
        }
        Err(e) => Err(store_field(e)),
    }
}

fn store_field(e: StoreError) -> FieldErrors {
    match e {
        StoreError::Invalid(errs) => errs,
        e => {
            tracing::error!(error = %e, "scope lookup failed");
            field("lookup_failed", Message::new("problem.lookup_failed"))
        }
    }
}

/// A platform by USCC or id: the root of its chain.
async fn chain_root(store: &Store, code: &str) -> Result<i64, FieldErrors> {
    let found = match code.trim().parse::<i64>() {
        Ok(id) => store.entity(id).await,
        Err(_) => store.entity_by_code(&code.trim().to_uppercase()).await,
    };
    match found {
        Ok(e) if e.kind == dangjian_domain::EntityKind::Platform => Ok(e.id),
        Ok(_) => Err(field("not_a_platform", Message::new("problem.not_a_platform.unit_platform_chain"))),
        Err(StoreError::NotFound) => Err(field("unknown_unit", Message::new("problem.unknown_unit.no_unit_uscc"))),
        Err(e) => Err(store_field(e)),
    }
}

/// An organization by code or id.
async fn organization(store: &Store, code: &str) -> Result<i64, FieldErrors> {
    let code = code.trim();
    if let Ok(id) = code.parse::<i64>() {
        if let Ok(o) = store.organization(id).await {
            return Ok(o.id);
        }
    }
    let Ok(Some(q)) = SearchTerm::parse(code, "q") else {
        return Err(field("unknown_organization", Message::new("problem.unknown_organization")));
    };
    let filter = OrgFilter { q: Some(q), ..Default::default() };
    let page = store
        .list_organizations(&filter, Paging::new(Some(1), Some(50)), &AccessFilter::unrestricted())
        .await
        .map_err(store_field)?;
    page.items
        .iter()
        .find(|o| o.code.eq_ignore_ascii_case(code))
        .map(|o| o.id)
        .ok_or_else(|| field("unknown_organization", Message::new("problem.unknown_organization")))
}

/// The grant a form asks for, with every reference resolved.
pub async fn resolve(store: &Store, f: &GrantForm) -> Result<Grant, FieldErrors> {
    let Some(role) = Role::parse(&f.role) else {
        return Err(FieldErrors(vec![FieldError::new(
            "role",
            "required",
            Message::new("problem.required.choose_role"),
        )]));
    };
    let scope = match f.scope_kind.as_str() {
        "region" => Scope::Region { path: region_path(store, &f.scope_code).await? },
        "chain" => Scope::Chain { root_id: chain_root(store, &f.scope_code).await? },
        "sector_in_region" => {
            if store.sector(&f.sector).await.is_err() {
                return Err(FieldErrors(vec![FieldError::new(
                    "sector",
                    "unknown_sector",
                    Message::new("problem.unknown_sector.choose_sector"),
                )]));
            }
            Scope::SectorInRegion { sector: f.sector.clone(), path: region_path(store, &f.scope_code).await? }
        }
        "organization" => Scope::Organization { org_id: organization(store, &f.scope_code).await? },
        _ => {
            return Err(FieldErrors(vec![FieldError::new(
                "scope_kind",
                "required",
                Message::new("problem.required.choose_kind_scope"),
            )]))
        }
    };
    Ok(Grant { role, scope })
}

/// The object an audit record of a grant change names.
fn holder_object(holder: Holder) -> Object {
    match holder {
        Holder::User(id) => Object::new("user", id),
        Holder::Token(id) => Object::new("token", id),
    }
}

fn recipient(cx: &Ctx, holder: Holder) -> Recipient {
    match holder {
        Holder::User(id) => Recipient::User { is_self: cx.actor.user_id() == Some(id) },
        Holder::Token(_) => Recipient::Token,
    }
}

/// The audit detail of a grant form.
pub fn grant_detail(f: &GrantForm) -> String {
    format!(
        "role={} scope={}:{}{}",
        f.role,
        f.scope_kind,
        f.scope_code,
        if f.sector.is_empty() { String::new() } else { format!(" sector={}", f.sector) }
    )
}

/// May the actor grant roles to `holder`? (A refusal is audited as `grant.add`.)
pub async fn begin_add(cx: &Ctx, holder: Holder) -> AppResult<Adding> {
    Ok(Adding { change: AdminChange::begin(cx, Action::ManageGrants, "grant.add").await?, holder })
}

/// A permitted grant, waiting for its form.
#[must_use]
pub struct Adding {
    change: AdminChange,
    holder: Holder,
}

impl Adding {
    /// Grants what `form` asks for, after every check: the holder exists (404 otherwise); the scope
    /// resolves, fits the role and keeps the separation of duties — else [`AppError::Invalid`] with
    /// every problem, audited `denied`.
    pub async fn save(self, form: &GrantForm) -> AppResult<()> {
        let (cx, holder) = (&self.change.cx, self.holder);
        let store = &cx.state.store;
        match holder {
            Holder::User(id) => drop(store.user(id).await?),
            Holder::Token(id) => drop(store.token(id).await?),
        }
        let checked = match resolve(store, form).await {
            Ok(grant) => add(cx, holder, &grant).await?,
            Err(e) => Err(e),
        };
        match checked {
            Ok(()) => {
                self.change.audit(holder_object(holder), "ok", Some(grant_detail(form))).await;
                Ok(())
            }
            Err(errs) => {
                let refused = errs.0.iter().map(|e| e.code.as_str()).collect::<Vec<_>>().join(",");
                let detail = format!("{} refused={refused}", grant_detail(form));
                self.change.audit(holder_object(holder), "denied", Some(detail)).await;
                Err(AppError::Invalid(errs))
            }
        }
    }
}

impl Adding {
    /// Grants `grant`, already resolved (the command line names scopes its own way), after the same
    /// checks as [`Adding::save`]; audited `grant.add` with the grant.
    pub async fn save_resolved(self, grant: &Grant) -> AppResult<()> {
        let (cx, holder) = (&self.change.cx, self.holder);
        match holder {
            Holder::User(id) => drop(cx.state.store.user(id).await?),
            Holder::Token(id) => drop(cx.state.store.token(id).await?),
        }
        let detail = format!("{grant:?}");
        match add(cx, holder, grant).await? {
            Ok(()) => {
                self.change.audit(holder_object(holder), "ok", Some(detail)).await;
                Ok(())
            }
            Err(errs) => {
                let refused = errs.0.iter().map(|e| e.code.as_str()).collect::<Vec<_>>().join(",");
                self.change.audit(holder_object(holder), "denied", Some(format!("{detail} refused={refused}"))).await;
                Err(AppError::Invalid(errs))
            }
        }
    }
}

/// Adds `grant` after the separation-of-duties rules; field errors come back for the form.
async fn add(cx: &Ctx, holder: Holder, grant: &Grant) -> Result<Result<(), FieldErrors>, StoreError> {
    let store = &cx.state.store;
    let existing: Vec<Grant> = store.grants_of(holder).await?.into_iter().map(|g| g.grant).collect();
    if let Err(e) = may_add(recipient(cx, holder), &existing, grant) {
        return Ok(Err(FieldErrors(vec![e])));
    }
    match store.add_grant(holder, grant, cx.actor.user_id()).await {
        Ok(_) => Ok(Ok(())),
        Err(StoreError::Invalid(errs)) => Ok(Err(errs)),
        Err(e) => Err(e),
    }
}

/// May the actor remove grant `id`? (A refusal is audited as `grant.remove`.)
pub async fn begin_remove(cx: &Ctx, id: i64) -> AppResult<Removing> {
    Ok(Removing { change: AdminChange::begin(cx, Action::ManageGrants, "grant.remove").await?, id })
}

/// A permitted removal of a grant, waiting to learn its holder.
#[must_use]
pub struct Removing {
    change: AdminChange,
    id: i64,
}

impl Removing {
    /// Removes the grant from `holder`, which must hold it (404 otherwise). A removal the separation of
    /// duties forbids is [`AppError::Invalid`], audited `denied`.
    pub async fn run(self, holder: Holder) -> AppResult<()> {
        let (cx, id) = (&self.change.cx, self.id);
        let store = &cx.state.store;
        let held = store.grants_of(holder).await?.into_iter().find(|g| g.id == id);
        let Some(grant) = held else { return Err(AppError::NotFound) };
        if let Err(e) = may_remove(recipient(cx, holder)) {
            self.change.audit(holder_object(holder), "denied", Some(e.code.clone())).await;
            return Err(AppError::Invalid(FieldErrors(vec![e])));
        }
        store.remove_grant(id).await?;
        let detail = format!("grant={id} role={}", grant.grant.role.as_str());
        self.change.audit(holder_object(holder), "ok", Some(detail)).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_detail_names_the_grant() {
        let f = GrantForm {
            role: "regulator".into(),
            scope_kind: "sector_in_region".into(),
            scope_code: "33".into(),
            sector: "courier".into(),
        };
        assert_eq!(grant_detail(&f), "role=regulator scope=sector_in_region:33 sector=courier");
    }
}
