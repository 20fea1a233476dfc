//! `/admin/users`: accounts. The system administrator creates them (with a one-off password shown
//! once), disables and enables them (which ends their sessions at once), resets passwords and ends
//! sessions; the security administrator sees them to grant roles and unlocks locked ones.

use super::grants::{GrantForm, GrantFormView};
use super::{audit, grant_views, require};
use crate::auth::accounts::{self, AccountError};
use crate::auth::login::is_locked;
use crate::auth::Actor;
use crate::pages::account::live_sessions;
use crate::pages::form::{FormBody, Problems};
use crate::pages::lists::{PageQuery, Pager};
use crate::pages::{Failed, PageCtx, PageError, PageId};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Action;
use dangjian_store::accounts::{Holder, User};
use dangjian_store::StoreError;
use minijinja::context;
use serde::Serialize;

/// An account as the list shows it.
#[derive(Debug, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub locked: bool,
    pub must_change_password: bool,
    pub totp_enabled: bool,
    pub created_at: String,
}

impl UserRow {
    fn new(u: &User, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            disabled: u.disabled,
            locked: is_locked(u, now),
            must_change_password: u.must_change_password,
            totp_enabled: u.totp_enabled,
            created_at: u.created_at.clone(),
        }
    }
}

const VIEW: &[Action] = &[Action::ManageAccounts, Action::ManageGrants];

async fn render_list(
    s: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    q: &PageQuery,
    status: StatusCode,
    problems: Problems,
    form: (String, String),
) -> Result<Response, Failed> {
    let page = s.store.list_users(q.paging()).await.map_err(ctx.store_err())?;
    let now = s.clock.now();
    let users: Vec<UserRow> = page.items.iter().map(|u| UserRow::new(u, now)).collect();
    Ok(ctx.render_status(
        status,
        "admin/users.html",
        context! {
            users,
            pager => Pager::of(&page),
            query => q.0,
            can_create => actor.may(Action::ManageAccounts),
            problems,
            form => context! { username => form.0, display_name => form.1 },
        },
    ))
}

pub async fn list(State(s): State<AppState>, ctx: PageCtx, actor: Actor, q: PageQuery) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, VIEW, "user.list").await?;
    render_list(&s, &ctx, &actor, &q, StatusCode::OK, Problems::default(), Default::default()).await
}

/// Shows a one-off password once (after creating an account or resetting its password).
fn show_password(ctx: &PageCtx, user: &User, password: &str, reset: bool) -> Response {
    ctx.render("admin/password_once.html", context! { user, password, reset })
}

pub async fn create(State(s): State<AppState>, ctx: PageCtx, actor: Actor, body: FormBody) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageAccounts], "user.create").await?;
    let data = body.read().await?;
    let (username, display_name) = (data.text("username"), data.text("display_name"));
    let config = s.security_config().await;
    match accounts::create_with_one_off_password(&s.store, &config, &username, &display_name).await {
        Ok((user, password)) => {
            audit(&s, &actor, "user.create", ("user", user.id.to_string()), "ok", Some(user.username.clone())).await;
            Ok(show_password(&ctx, &user, &password, false))
        }
        Err(AccountError::Store(StoreError::Invalid(errs))) => {
            let problems = Problems::from_errors(&errs, &ctx, str::to_owned);
            let q = PageQuery::default();
            render_list(&s, &ctx, &actor, &q, StatusCode::UNPROCESSABLE_ENTITY, problems, (username, display_name))
                .await
        }
        Err(AccountError::Store(e)) => Err(ctx.store_err()(e)),
        Err(AccountError::Hash(e)) => {
            tracing::error!(error = %e, "password hashing failed");
            Err(Failed(ctx.clone(), PageError::Internal))
        }
    }
}

/// The account page; `grant_form` carries a rejected grant form back with its problems.
pub async fn render_show(
    s: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    id: i64,
    status: StatusCode,
    grant_form: GrantFormView,
    done: Option<String>,
) -> Result<Response, Failed> {
    let user = s.store.user(id).await.map_err(ctx.store_err())?;
    let stored = s.store.grants_of(Holder::User(id)).await.map_err(ctx.store_err())?;
    let grants = grant_views(&s.store, &stored, ctx.lang).await.map_err(ctx.store_err())?;
    let sessions = live_sessions(s, id, None).await.map_err(ctx.store_err())?.len();
    let now = s.clock.now();
    Ok(ctx.render_status(
        status,
        "admin/user.html",
        context! {
            user,
            row => UserRow::new(&user, now),
            grants,
            sessions,
            is_self => actor.user_id() == Some(id),
            can_manage => actor.may(Action::ManageAccounts),
            can_grant => actor.may(Action::ManageGrants),
            grant_form,
            grant_action => format!("/admin/users/{id}/grants"),
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
    require(&s, &ctx, &actor, VIEW, "user.read").await?;
    let form = GrantFormView::new(&s, &ctx, GrantForm::default(), Problems::default()).await?;
    render_show(&s, &ctx, &actor, id, StatusCode::OK, form, q.get("done")).await
}

/// What an administrator may not do to their own account from here (they use `/account`).
fn not_on_self(ctx: &PageCtx, actor: &Actor, id: i64) -> Result<(), Failed> {
    if actor.user_id() == Some(id) {
        Err(ctx.bad_request(ctx.t("admin.not_on_self")))
    } else {
        Ok(())
    }
}

fn back(id: i64, done: &str) -> Response {
    Redirect::to(&format!("/admin/users/{id}?done={done}")).into_response()
}

pub async fn disable(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageAccounts], "user.disable").await?;
    body.read().await?;
    not_on_self(&ctx, &actor, id)?;
    s.store.set_user_disabled(id, true).await.map_err(ctx.store_err())?;
    audit(&s, &actor, "user.disable", ("user", id.to_string()), "ok", None).await;
    Ok(back(id, "disabled"))
}

pub async fn enable(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageAccounts], "user.enable").await?;
    body.read().await?;
    s.store.set_user_disabled(id, false).await.map_err(ctx.store_err())?;
    audit(&s, &actor, "user.enable", ("user", id.to_string()), "ok", None).await;
    Ok(back(id, "enabled"))
}

pub async fn reset_password(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageAccounts], "user.reset_password").await?;
    body.read().await?;
    not_on_self(&ctx, &actor, id)?;
    let user = s.store.user(id).await.map_err(ctx.store_err())?;
    let config = s.security_config().await;
    let password = match accounts::reset_with_one_off_password(&s.store, &config, id).await {
        Ok(p) => p,
        Err(AccountError::Store(e)) => return Err(ctx.store_err()(e)),
        Err(AccountError::Hash(e)) => {
            tracing::error!(error = %e, "password hashing failed");
            return Err(Failed(ctx.clone(), PageError::Internal));
        }
    };
    audit(&s, &actor, "user.reset_password", ("user", id.to_string()), "ok", None).await;
    Ok(show_password(&ctx, &user, &password, true))
}

pub async fn end_sessions(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageAccounts], "user.end_sessions").await?;
    body.read().await?;
    s.store.user(id).await.map_err(ctx.store_err())?;
    let n = s.store.revoke_user_sessions(id).await.map_err(ctx.store_err())?;
    audit(&s, &actor, "user.end_sessions", ("user", id.to_string()), "ok", Some(format!("sessions={n}"))).await;
    if actor.user_id() == Some(id) {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(back(id, "sessions_ended"))
}

pub async fn unlock(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    require(&s, &ctx, &actor, &[Action::ManageGrants], "user.unlock").await?;
    body.read().await?;
    s.store.user(id).await.map_err(ctx.store_err())?;
    s.store.clear_login_failures(id).await.map_err(ctx.store_err())?;
    audit(&s, &actor, "user.unlock", ("user", id.to_string()), "ok", None).await;
    Ok(back(id, "unlocked"))
}
