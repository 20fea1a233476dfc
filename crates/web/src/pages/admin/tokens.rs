//! `/admin/tokens`: API tokens for machine clients (a platform HQ system pushing its chain). The
//! system administrator creates them — the secret is shown once and only its SM3 hash is stored —
//! and revokes them (the commands of [`crate::app::admin`]); the security administrator grants them
//! scopes on the token's page.

use super::grant_views;
use super::grants::{GrantForm, GrantFormView};
use crate::app::{admin, AppError, Ctx};
use crate::auth::Actor;
use crate::pages::form::{FormBody, Problems};
use crate::pages::lists::PageQuery;
use crate::pages::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Action;
use dangjian_store::accounts::Holder;
use dangjian_store::StoreError;
use minijinja::context;

const VIEW: &[Action] = &[Action::ManageTokens, Action::ManageGrants];

async fn render_list(
    s: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    status: StatusCode,
    problems: Problems,
    name: &str,
) -> Result<Response, Failed> {
    let tokens = s.store.list_tokens().await.map_err(ctx.store_err())?;
    Ok(ctx.render_status(
        status,
        "admin/tokens.html",
        context! { tokens, can_create => actor.may(Action::ManageTokens), problems, name },
    ))
}

pub async fn list(cx: Ctx, ctx: PageCtx) -> Result<Response, Failed> {
    admin::require(&cx, VIEW, "token.list").await.map_err(ctx.app_err())?;
    render_list(&cx.state, &ctx, &cx.actor, StatusCode::OK, Problems::default(), "").await
}

pub async fn create(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let pending = admin::begin_create_token(&cx).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let name = data.text("token_name");
    match pending.save(&name).await {
        Ok((token, secret)) => Ok(ctx.render("admin/token_once.html", context! { token, secret })),
        Err(AppError::Store(StoreError::Invalid(errs))) => {
            let problems =
                Problems::from_errors(
                    &errs,
                    &ctx,
                    |f| if f == "name" { "token_name".to_owned() } else { f.to_owned() },
                );
            render_list(&cx.state, &ctx, &cx.actor, StatusCode::UNPROCESSABLE_ENTITY, problems, &name).await
        }
        Err(e) => Err(e.page(&ctx)),
    }
}

/// The token's page; `grant_form` carries a rejected grant form back with its problems.
pub async fn render_show(
    s: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: i64,
    status: StatusCode,
    grant_form: GrantFormView,
    done: Option<String>,
) -> Result<Response, Failed> {
    let token = s.store.token(id).await.map_err(ctx.store_err())?;
    let stored = s.store.grants_of(Holder::Token(id)).await.map_err(ctx.store_err())?;
    let grants = grant_views(&s.store, &stored, ctx.lang).await.map_err(ctx.store_err())?;
    Ok(ctx.render_status(
        status,
        "admin/token.html",
        context! {
            token,
            grants,
            can_manage => actor.may(Action::ManageTokens),
            can_grant => actor.may(Action::ManageGrants),
            grant_form,
            grant_action => format!("/admin/tokens/{id}/grants"),
            done,
        },
    ))
}

pub async fn show(cx: Ctx, ctx: PageCtx, PageId(id): PageId, q: PageQuery) -> Result<Response, Failed> {
    admin::require(&cx, VIEW, "token.read").await.map_err(ctx.app_err())?;
    let form = GrantFormView::new(&cx.state, &ctx, GrantForm::default(), Problems::default()).await?;
    render_show(&cx.state, &ctx, &cx.actor, id, StatusCode::OK, form, q.get("done")).await
}

pub async fn revoke(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    let pending = admin::begin_revoke_token(&cx, id).await.map_err(ctx.app_err())?;
    body.read().await?;
    pending.run().await.map_err(ctx.app_err())?;
    Ok(Redirect::to(&format!("/admin/tokens/{id}?done=revoked")).into_response())
}
