//! `/admin/users`: accounts. The system administrator creates them (with a one-off password shown
//! once), disables and enables them (which ends their sessions at once), resets passwords and ends
//! sessions; the security administrator sees them to grant roles and unlocks locked ones. The
//! changes are the commands of [`crate::app::admin`].

use super::grant_views;
use super::grants::{GrantForm, GrantFormView};
use crate::app::admin::{self, UserVerb};
use crate::app::{AppError, Ctx};
use crate::auth::login::is_locked;
use crate::auth::Actor;
use crate::pages::account::live_sessions;
use crate::pages::form::{FormBody, Problems};
use crate::pages::lists::{PageQuery, Pager};
use crate::pages::{Failed, PageCtx, PageError, PageId};
use crate::AppState;
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

pub async fn list(cx: Ctx, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    admin::require(&cx, VIEW, "user.list").await.map_err(ctx.app_err())?;
    render_list(&cx.state, &ctx, &cx.actor, &q, StatusCode::OK, Problems::default(), Default::default()).await
}

/// Shows a one-off password once (after creating an account or resetting its password).
fn show_password(ctx: &PageCtx, user: &User, password: &str, reset: bool) -> Response {
    ctx.render("admin/password_once.html", context! { user, password, reset })
}

pub async fn create(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let pending = admin::begin_create_user(&cx).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let (username, display_name) = (data.text("username"), data.text("display_name"));
    match pending.save(&username, &display_name).await {
        Ok((user, password)) => Ok(show_password(&ctx, &user, &password, false)),
        Err(AppError::Invalid(errs) | AppError::Store(StoreError::Invalid(errs))) => {
            let problems = Problems::from_errors(&errs, &ctx, str::to_owned);
            let (s, q) = (&cx.state, PageQuery::default());
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_list(s, &ctx, &cx.actor, &q, status, problems, (username, display_name)).await
        }
        Err(e) => Err(e.page(&ctx)),
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

pub async fn show(cx: Ctx, ctx: PageCtx, PageId(id): PageId, q: PageQuery) -> Result<Response, Failed> {
    admin::require(&cx, VIEW, "user.read").await.map_err(ctx.app_err())?;
    let form = GrantFormView::new(&cx.state, &ctx, GrantForm::default(), Problems::default()).await?;
    render_show(&cx.state, &ctx, &cx.actor, id, StatusCode::OK, form, q.get("done")).await
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

/// Reads the form (its CSRF token) of a change already permitted, and makes it.
async fn change(
    cx: Ctx,
    ctx: &PageCtx,
    id: i64,
    verb: UserVerb,
    body: FormBody,
) -> Result<Option<(User, String)>, Failed> {
    let pending = admin::begin_user_change(&cx, id, verb).await.map_err(ctx.app_err())?;
    body.read().await?;
    if matches!(verb, UserVerb::Disable | UserVerb::ResetPassword) {
        not_on_self(ctx, &cx.actor, id)?;
    }
    pending.run().await.map_err(ctx.app_err())
}

pub async fn disable(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    change(cx, &ctx, id, UserVerb::Disable, body).await?;
    Ok(back(id, "disabled"))
}

pub async fn enable(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    change(cx, &ctx, id, UserVerb::Enable, body).await?;
    Ok(back(id, "enabled"))
}

pub async fn reset_password(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    match change(cx, &ctx, id, UserVerb::ResetPassword, body).await? {
        Some((user, password)) => Ok(show_password(&ctx, &user, &password, true)),
        None => Err(Failed(ctx.clone(), PageError::Internal)),
    }
}

pub async fn end_sessions(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    let own = cx.actor.user_id() == Some(id);
    change(cx, &ctx, id, UserVerb::EndSessions, body).await?;
    if own {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(back(id, "sessions_ended"))
}

pub async fn unlock(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    change(cx, &ctx, id, UserVerb::Unlock, body).await?;
    Ok(back(id, "unlocked"))
}
