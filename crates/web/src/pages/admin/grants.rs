//! Grants on a user's or a token's page (security administrator): the grant form and its choices;
//! the grant is parsed, checked, stored and audited by [`crate::app::grants`].

use super::role_label;
pub use crate::app::grants::GrantForm;
use crate::app::{grants, AppError, Ctx};
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::lists::sectors;
use crate::pages::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Role;
use dangjian_store::accounts::Holder;
use serde::Serialize;

/// The kinds of scope, as the form names them.
pub const SCOPE_KINDS: [&str; 4] = ["region", "chain", "sector_in_region", "organization"];

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

async fn add_to(cx: Ctx, ctx: PageCtx, holder: Holder, body: FormBody) -> Result<Response, Failed> {
    let pending = grants::begin_add(&cx, holder).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let f = GrantForm::from_form(&data);
    match pending.save(&f).await {
        Ok(()) => {
            let to = match holder {
                Holder::User(id) => format!("/admin/users/{id}?done=granted"),
                Holder::Token(id) => format!("/admin/tokens/{id}?done=granted"),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(AppError::Invalid(errs)) => {
            let problems =
                Problems::from_errors(
                    &errs,
                    &ctx,
                    |f| if f == "scope" { "scope_code".to_owned() } else { f.to_owned() },
                );
            let (s, actor) = (&cx.state, &cx.actor);
            let view = GrantFormView::new(s, &ctx, f, problems).await?;
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            match holder {
                Holder::User(id) => super::users::render_show(s, &ctx, actor, id, status, view, None).await,
                Holder::Token(id) => super::tokens::render_show(s, &ctx, actor, id, status, view, None).await,
            }
        }
        Err(e) => Err(e.page(&ctx)),
    }
}

pub async fn add_to_user(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    add_to(cx, ctx, Holder::User(id), body).await
}

pub async fn add_to_token(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    add_to(cx, ctx, Holder::Token(id), body).await
}

/// Removes a grant; the form names its holder (`user_id` or `token_id`), which must hold it.
pub async fn remove(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    let pending = grants::begin_remove(&cx, id).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let holder =
        match (data.get("user_id").and_then(|v| v.parse().ok()), data.get("token_id").and_then(|v| v.parse().ok())) {
            (Some(u), None) => Holder::User(u),
            (None, Some(t)) => Holder::Token(t),
            _ => return Err(ctx.not_found()),
        };
    match pending.run(holder).await {
        Ok(()) => {}
        Err(AppError::Invalid(errs)) => {
            let message = errs.0.first().map(|e| e.message_in(ctx.lang.code()).to_owned()).unwrap_or_default();
            return Err(ctx.bad_request(message));
        }
        Err(e) => return Err(e.page(&ctx)),
    }
    let to = match holder {
        Holder::User(u) => format!("/admin/users/{u}?done=grant_removed"),
        Holder::Token(t) => format!("/admin/tokens/{t}?done=grant_removed"),
    };
    Ok(Redirect::to(&to).into_response())
}
