//! Grants on a user's or a token's page (security administrator): a role over a scope named the way
//! people name things — a region code (or `/` for the whole country), a platform's USCC or id, a
//! sector within a region, an organization's code or id. The store refuses a scope that does not fit
//! the role; [`crate::auth::grants`] adds the separation-of-duties rules.

use super::{audit, require, role_label};
use crate::auth::grants::{may_add, may_remove, Recipient};
use crate::auth::Actor;
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::lists::sectors;
use crate::pages::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::{Action, Grant, Role, Scope};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors, SearchTerm};
use dangjian_store::access::AccessFilter;
use dangjian_store::accounts::Holder;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::{Paging, Store, StoreError};
use serde::Serialize;

/// The kinds of scope, as the form names them.
pub const SCOPE_KINDS: [&str; 4] = ["region", "chain", "sector_in_region", "organization"];

/// The grant form as submitted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GrantForm {
    pub role: String,
    pub scope_kind: String,
    pub scope_code: String,
    pub sector: String,
}

impl GrantForm {
    pub fn from_form(data: &FormData) -> Self {
        Self {
            role: data.text("role"),
            scope_kind: data.text("scope_kind"),
            scope_code: data.text("scope_code"),
            sector: data.text("sector"),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Choice {
    pub code: String,
    pub name: String,
}

/// The grant form with its choices and any problems, for a holder's page.
#[derive(Debug, Serialize)]
pub struct GrantFormView {
    pub form: GrantForm,
    pub problems: Problems,
    pub roles: Vec<Choice>,
    pub kinds: Vec<&'static str>,
    pub sectors: Vec<Choice>,
}

impl GrantFormView {
    pub async fn new(s: &AppState, ctx: &PageCtx, form: GrantForm, problems: Problems) -> Result<Self, Failed> {
        let (options, _) = sectors(&s.store, ctx).await.map_err(ctx.store_err())?;
        Ok(Self {
            form,
            problems,
            roles: Role::ALL
                .iter()
                .map(|r| Choice { code: r.as_str().to_owned(), name: role_label(*r, ctx.lang) })
                .collect(),
            kinds: SCOPE_KINDS.to_vec(),
            sectors: options.into_iter().map(|o| Choice { code: o.code, name: o.name }).collect(),
        })
    }
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

/// Adds a grant to a holder after every check; field errors come back for the form.
async fn add(
    s: &AppState,
    actor: &Actor,
    holder: Holder,
    f: &GrantForm,
) -> Result<Result<(), FieldErrors>, StoreError> {
    let grant = match resolve(&s.store, f).await {
        Ok(g) => g,
        Err(e) => return Ok(Err(e)),
    };
    let recipient = match holder {
        Holder::User(id) => Recipient::User { is_self: actor.user_id() == Some(id) },
        Holder::Token(_) => Recipient::Token,
    };
    let existing: Vec<Grant> = s.store.grants_of(holder).await?.into_iter().map(|g| g.grant).collect();
    if let Err(e) = may_add(recipient, &existing, &grant) {
        return Ok(Err(FieldErrors(vec![e])));
    }
    match s.store.add_grant(holder, &grant, actor.user_id()).await {
        Ok(_) => Ok(Ok(())),
        Err(StoreError::Invalid(errs)) => Ok(Err(errs)),
        Err(e) => Err(e),
    }
}

/// The object an audit record of a grant change names.
fn holder_object(holder: Holder) -> (&'static str, String) {
    match holder {
        Holder::User(id) => ("user", id.to_string()),
        Holder::Token(id) => ("token", id.to_string()),
    }
}

fn grant_detail(f: &GrantForm) -> String {
    format!(
        "role={} scope={}:{}{}",
        f.role,
        f.scope_kind,
        f.scope_code,
        if f.sector.is_empty() { String::new() } else { format!(" sector={}", f.sector) }
    )
}

async fn add_to(s: AppState, ctx: PageCtx, actor: Actor, holder: Holder, body: FormBody) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageGrants], "grant.add").await?;
    let data = body.read().await?;
    match holder {
        Holder::User(id) => drop(s.store.user(id).await.map_err(ctx.store_err())?),
        Holder::Token(id) => drop(s.store.token(id).await.map_err(ctx.store_err())?),
    }
    let f = GrantForm::from_form(&data);
    let object = holder_object(holder);
    match add(&s, &actor, holder, &f).await.map_err(ctx.store_err())? {
        Ok(()) => {
            audit(&s, &actor, "grant.add", object, "ok", Some(grant_detail(&f))).await;
            let to = match holder {
                Holder::User(id) => format!("/admin/users/{id}?done=granted"),
                Holder::Token(id) => format!("/admin/tokens/{id}?done=granted"),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(errs) => {
            let mut detail = grant_detail(&f);
            detail.push_str(&format!(
                " refused={}",
                errs.0.iter().map(|e| e.code.as_str()).collect::<Vec<_>>().join(",")
            ));
            audit(&s, &actor, "grant.add", object, "denied", Some(detail)).await;
            let problems =
                Problems::from_errors(
                    &errs,
                    &ctx,
                    |f| if f == "scope" { "scope_code".to_owned() } else { f.to_owned() },
                );
            let view = GrantFormView::new(&s, &ctx, f, problems).await?;
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            match holder {
                Holder::User(id) => super::users::render_show(&s, &ctx, &actor, id, status, view, None).await,
                Holder::Token(id) => super::tokens::render_show(&s, &ctx, &actor, id, status, view, None).await,
            }
        }
    }
}

pub async fn add_to_user(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    add_to(s, ctx, actor, Holder::User(id), body).await
}

pub async fn add_to_token(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    add_to(s, ctx, actor, Holder::Token(id), body).await
}

/// Removes a grant; the form names its holder (`user_id` or `token_id`), which must hold it.
pub async fn remove(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageGrants], "grant.remove").await?;
    let data = body.read().await?;
    let holder =
        match (data.get("user_id").and_then(|v| v.parse().ok()), data.get("token_id").and_then(|v| v.parse().ok())) {
            (Some(u), None) => Holder::User(u),
            (None, Some(t)) => Holder::Token(t),
            _ => return Err(ctx.not_found()),
        };
    let held = s.store.grants_of(holder).await.map_err(ctx.store_err())?.into_iter().find(|g| g.id == id);
    let Some(grant) = held else { return Err(ctx.not_found()) };
    let recipient = match holder {
        Holder::User(u) => Recipient::User { is_self: actor.user_id() == Some(u) },
        Holder::Token(_) => Recipient::Token,
    };
    if let Err(e) = may_remove(recipient) {
        audit(&s, &actor, "grant.remove", holder_object(holder), "denied", Some(e.code.clone())).await;
        return Err(ctx.bad_request(e.message_in(ctx.lang.code()).to_owned()));
    }
    s.store.remove_grant(id).await.map_err(ctx.store_err())?;
    let detail = format!("grant={id} role={}", grant.grant.role.as_str());
    audit(&s, &actor, "grant.remove", holder_object(holder), "ok", Some(detail)).await;
    let to = match holder {
        Holder::User(u) => format!("/admin/users/{u}?done=grant_removed"),
        Holder::Token(t) => format!("/admin/tokens/{t}?done=grant_removed"),
    };
    Ok(Redirect::to(&to).into_response())
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
