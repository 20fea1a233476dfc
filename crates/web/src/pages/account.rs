//! `/account`: the signed-in user's own account — change the password, turn the second factor on or
//! off (off only where it is not required), see their sessions and end any of them — through the
//! commands of [`crate::app::accounts`].

use super::form::{FormBody, FormData, Problems};
use super::lists::PageQuery;
use super::{Failed, PageCtx, PageError};
use crate::app::accounts::{self as own, Enrolment};
use crate::app::{AppError, Ctx};
use crate::auth::accounts::PasswordChange;
use crate::auth::config::SecurityConfig;
use crate::auth::login::{must_use_second_factor, parse_time, password_change_required};
use crate::auth::session::{self, secure_cookies};
use crate::auth::totp;
use crate::AppState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use dangjian_domain::access::Grant;
use dangjian_security::password::MIN_LENGTH_FLOOR;
use dangjian_store::accounts::{Holder, Session, User};
use dangjian_store::StoreError;
use minijinja::context;
use serde::Serialize;

page_routes! {
    "/account" => get(show),
    "/account/password" => get(password_form).post(change_password),
    "/account/totp" => get(totp_form).post(totp_enable),
    "/account/totp/disable" => post(totp_disable),
    "/account/sessions/end" => post(end_session),
}

/// A session as the account page lists it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// The stored hash: names the session in the "end" form (it cannot be used to sign in).
    pub key: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub client_ip: Option<String>,
    pub current: bool,
}

/// Whether a stored session is still live at `now` under `config`.
pub fn is_live(s: &Session, config: &SecurityConfig, now: DateTime<Utc>) -> bool {
    s.revoked_at.is_none()
        && parse_time(&s.absolute_expires_at).is_some_and(|t| now < t)
        && parse_time(&s.last_seen_at).is_some_and(|t| now - t < config.idle_timeout())
}

/// The live sessions of a user, the current one marked.
pub async fn live_sessions(s: &AppState, user_id: i64, current: Option<&str>) -> Result<Vec<SessionView>, StoreError> {
    let config = s.security_config().await;
    let now = s.clock.now();
    Ok(s.store
        .user_sessions(user_id)
        .await?
        .into_iter()
        .filter(|x| x.second_factor_done && is_live(x, &config, now))
        .map(|x| SessionView {
            current: current == Some(x.id_hash.as_str()),
            key: x.id_hash,
            created_at: x.created_at,
            last_seen_at: x.last_seen_at,
            client_ip: x.client_ip,
        })
        .collect())
}

pub async fn show(cx: Ctx, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    let user = own::me(&cx, false).await.map_err(ctx.app_err())?;
    let (s, actor) = (&cx.state, &cx.actor);
    let stored = s.store.grants_of(Holder::User(user.id)).await.map_err(ctx.store_err())?;
    let plain: Vec<Grant> = stored.iter().map(|g| g.grant.clone()).collect();
    let totp_required = must_use_second_factor(&plain, &s.security_config().await);
    let grants = super::admin::grant_views(&s.store, &stored, ctx.lang).await.map_err(ctx.store_err())?;
    let current = actor.session.as_ref().map(|x| x.id_hash.as_str());
    let sessions = live_sessions(s, user.id, current).await.map_err(ctx.store_err())?;
    Ok(ctx.render("account/show.html", context! { user, grants, sessions, totp_required, done => q.get("done") }))
}

fn policy_hints(ctx: &PageCtx, config: &SecurityConfig) -> Vec<String> {
    let mut hints = vec![ctx.lang.t("password.hint_length", &[("min", MIN_LENGTH_FLOOR.to_string())])];
    hints.push(ctx.t("password.hint_common"));
    if config.password_composition {
        hints.push(ctx.t("password.hint_composition"));
    }
    if let Some(days) = config.password_max_age_days {
        hints.push(ctx.lang.t("password.hint_max_age", &[("days", days.to_string())]));
    }
    hints
}

fn render_password(
    ctx: &PageCtx,
    config: &SecurityConfig,
    user: &User,
    status: StatusCode,
    problems: Problems,
    now: DateTime<Utc>,
) -> Response {
    ctx.render_status(
        status,
        "account/password.html",
        context! {
            problems,
            hints => policy_hints(ctx, config),
            forced => password_change_required(user, config, now),
            one_off => user.must_change_password,
        },
    )
}

pub async fn password_form(cx: Ctx, ctx: PageCtx) -> Result<Response, Failed> {
    let user = own::me(&cx, true).await.map_err(ctx.app_err())?;
    let s = &cx.state;
    let config = s.security_config().await;
    Ok(render_password(&ctx, &config, &user, StatusCode::OK, Problems::default(), s.clock.now()))
}

pub async fn change_password(cx: Ctx, ctx: PageCtx, headers: HeaderMap, data: FormData) -> Result<Response, Failed> {
    let user = own::me(&cx, true).await.map_err(ctx.app_err())?;
    let (current, new, confirm) = (
        data.raw("current_password").unwrap_or_default(),
        data.raw("new_password").unwrap_or_default(),
        data.raw("confirm_password").unwrap_or_default(),
    );
    let change = PasswordChange { current: &current, new: &new, confirm: &confirm };
    let s = &cx.state;
    // Every session of the user ended with the change; this browser gets a fresh one.
    let fresh = match own::change_password(&cx, &user, &change).await {
        Ok(fresh) => fresh,
        Err(AppError::Invalid(errs)) => {
            let config = s.security_config().await;
            let problems = Problems::from_errors(&errs, &ctx, str::to_owned);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(render_password(&ctx, &config, &user, status, problems, s.clock.now()));
        }
        Err(e) => return Err(e.page(&ctx)),
    };
    let config = s.security_config().await;
    let mut r = Redirect::to("/account?done=password_changed").into_response();
    session::set_cookie(&mut r, &fresh.cookie(secure_cookies(&headers, &config)));
    Ok(r)
}

async fn render_enrol(
    s: &AppState,
    ctx: &PageCtx,
    user: &User,
    status: StatusCode,
    problem: Option<String>,
) -> Result<Response, Failed> {
    let secret = totp::pending_secret(s, user).await.map_err(ctx.store_err())?;
    let enrolment = totp::enrolment_view(&secret, &user.username).map_err(|e| {
        tracing::error!(error = %e, "TOTP enrolment could not be drawn");
        Failed(ctx.clone(), PageError::Internal)
    })?;
    Ok(ctx.render_status(status, "auth/totp.html", context! { enrolment, problem, action => "/account/totp" }))
}

pub async fn totp_form(cx: Ctx, ctx: PageCtx) -> Result<Response, Failed> {
    let user = own::me(&cx, false).await.map_err(ctx.app_err())?;
    if user.totp_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    render_enrol(&cx.state, &ctx, &user, StatusCode::OK, None).await
}

/// Confirms an enrolment with a first code.
pub async fn totp_enable(cx: Ctx, ctx: PageCtx, data: FormData) -> Result<Response, Failed> {
    let user = own::me(&cx, false).await.map_err(ctx.app_err())?;
    match own::enable_second_factor(&cx, &user, &data.text("code")).await.map_err(ctx.app_err())? {
        Enrolment::Enabled => Ok(Redirect::to("/account?done=totp_enabled").into_response()),
        Enrolment::AlreadyOn => Ok(Redirect::to("/account").into_response()),
        Enrolment::NotStarted => render_enrol(&cx.state, &ctx, &user, StatusCode::OK, None).await,
        Enrolment::WrongCode => {
            let problem = Some(ctx.t("login.bad_code"));
            render_enrol(&cx.state, &ctx, &user, StatusCode::UNPROCESSABLE_ENTITY, problem).await
        }
    }
}

/// Turns the second factor off (with the current password), unless the user's roles or the
/// configuration require it.
pub async fn totp_disable(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let user = own::me(&cx, false).await.map_err(ctx.app_err())?;
    let pending = own::begin_disable_second_factor(&cx, &user).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    if !pending.run(&data.raw("current_password").unwrap_or_default()).await.map_err(ctx.app_err())? {
        return Ok(Redirect::to("/account?done=wrong_password").into_response());
    }
    Ok(Redirect::to("/account?done=totp_disabled").into_response())
}

/// Ends one of the user's own sessions (the current one signs them out).
pub async fn end_session(cx: Ctx, ctx: PageCtx, headers: HeaderMap, data: FormData) -> Result<Response, Failed> {
    let user = own::me(&cx, false).await.map_err(ctx.app_err())?;
    if own::end_session(&cx, &user, &data.text("session")).await.map_err(ctx.app_err())? {
        let mut r = Redirect::to("/login").into_response();
        let secure = secure_cookies(&headers, &cx.state.security_config().await);
        session::set_cookie(&mut r, &session::clear_session_cookie(secure));
        return Ok(r);
    }
    Ok(Redirect::to("/account?done=session_ended").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(last_seen: &str, expires: &str) -> Session {
        Session {
            id_hash: "h".into(),
            user_id: 1,
            second_factor_done: true,
            csrf_token: "c".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            last_seen_at: last_seen.into(),
            absolute_expires_at: expires.into(),
            revoked_at: None,
            client_ip: None,
        }
    }

    #[test]
    fn sessions_lapse_when_idle_or_old() {
        let c = SecurityConfig::default();
        let now = parse_time("2026-01-01T01:00:00Z").unwrap_or_default();
        assert!(is_live(&session("2026-01-01T00:45:00Z", "2026-01-01T12:00:00Z"), &c, now));
        assert!(!is_live(&session("2026-01-01T00:29:00Z", "2026-01-01T12:00:00Z"), &c, now), "idle 31 minutes");
        assert!(!is_live(&session("2026-01-01T00:59:00Z", "2026-01-01T01:00:00Z"), &c, now), "past its absolute end");
        let mut revoked = session("2026-01-01T00:59:00Z", "2026-01-01T12:00:00Z");
        revoked.revoked_at = Some("2026-01-01T00:59:30Z".into());
        assert!(!is_live(&revoked, &c, now));
    }
}
