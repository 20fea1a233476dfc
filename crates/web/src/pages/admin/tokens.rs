//! `/admin/tokens`: API tokens for machine clients (a platform HQ system pushing its chain). The
//! system administrator creates them — the secret is shown once and only its SM3 hash is stored —
//! and revokes them; the security administrator grants them scopes on the token's page.

use super::grants::{GrantForm, GrantFormView};
use super::{audit, grant_views, require};
use crate::auth::Actor;
use crate::pages::form::{FormBody, Problems};
use crate::pages::lists::PageQuery;
use crate::pages::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Action;
use dangjian_security::token::NewApiToken;
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

pub async fn list(State(s): State<AppState>, ctx: PageCtx, actor: Actor) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, VIEW, "token.list").await?;
    render_list(&s, &ctx, &actor, StatusCode::OK, Problems::default(), "").await
}

pub async fn create(State(s): State<AppState>, ctx: PageCtx, actor: Actor, body: FormBody) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageTokens], "token.create").await?;
    let data = body.read().await?;
    let name = data.text("token_name");
    let fresh = NewApiToken::generate();
    match s.store.create_token(&name, fresh.hash(), actor.user_id()).await {
        Ok(token) => {
            let detail = Some(format!("name={} prefix={}", token.name, fresh.display_prefix()));
            audit(&s, &actor, "token.create", ("token", token.id.to_string()), "ok", detail).await;
            Ok(ctx.render("admin/token_once.html", context! { token, secret => fresh.secret() }))
        }
        Err(StoreError::Invalid(errs)) => {
            let problems =
                Problems::from_errors(
                    &errs,
                    &ctx,
                    |f| if f == "name" { "token_name".to_owned() } else { f.to_owned() },
                );
            render_list(&s, &ctx, &actor, StatusCode::UNPROCESSABLE_ENTITY, problems, &name).await
        }
        Err(e) => Err(ctx.store_err()(e)),
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

pub async fn show(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    q: PageQuery,
) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, VIEW, "token.read").await?;
    let form = GrantFormView::new(&s, &ctx, GrantForm::default(), Problems::default()).await?;
    render_show(&s, &ctx, &actor, id, StatusCode::OK, form, q.get("done")).await
}

pub async fn revoke(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageTokens], "token.revoke").await?;
    body.read().await?;
    let token = s.store.revoke_token(id).await.map_err(ctx.store_err())?;
    audit(&s, &actor, "token.revoke", ("token", id.to_string()), "ok", Some(format!("name={}", token.name))).await;
    Ok(Redirect::to(&format!("/admin/tokens/{id}?done=revoked")).into_response())
}
