//! `/account`: the signed-in user's own account — change the password, turn the second factor on or
//! off (off only where it is not required), see their sessions and end any of them.

use super::form::{FormBody, FormData, Problems};
use super::lists::PageQuery;
use super::{Failed, PageCtx, PageError};
use crate::auth::accounts::{self, AccountError, PasswordChange};
use crate::auth::config::SecurityConfig;
use crate::auth::login::{must_use_second_factor, parse_time, password_change_required, verify_password_blocking};
use crate::auth::session::{self, secure_cookies};
use crate::auth::{totp, Actor};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use dangjian_domain::access::Grant;
use dangjian_security::password::MIN_LENGTH_FLOOR;
use dangjian_security::totp::verify_once;
use dangjian_store::accounts::{Holder, Session, User};
use dangjian_store::StoreError;
use minijinja::context;
use serde::Serialize;

/// The signed-in user of the request (the password page admits one who must change it).
async fn current_user(s: &AppState, ctx: &PageCtx, actor: &Actor, allow_password_change: bool) -> Result<User, Failed> {
    let id = if allow_password_change {
        actor.session_user_id()
    } else {
        actor.is_authenticated().then(|| actor.user_id()).flatten()
    };
    let Some(id) = id.filter(|_| actor.session.is_some()) else {
        return Err(Failed(ctx.clone(), PageError::Forbidden));
    };
    s.store.user(id).await.map_err(ctx.store_err())
}

async fn grants_of(s: &AppState, ctx: &PageCtx, user_id: i64) -> Result<Vec<Grant>, Failed> {
    Ok(s.store.grants_of(Holder::User(user_id)).await.map_err(ctx.store_err())?.into_iter().map(|g| g.grant).collect())
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

pub async fn show(State(s): State<AppState>, ctx: PageCtx, actor: Actor, q: PageQuery) -> Result<Response, Failed> {
    let user = current_user(&s, &ctx, &actor, false).await?;
    let stored = s.store.grants_of(Holder::User(user.id)).await.map_err(ctx.store_err())?;
    let plain: Vec<Grant> = stored.iter().map(|g| g.grant.clone()).collect();
    let totp_required = must_use_second_factor(&plain, &s.security_config().await);
    let grants = super::admin::grant_views(&s.store, &stored, ctx.lang).await.map_err(ctx.store_err())?;
    let current = actor.session.as_ref().map(|x| x.id_hash.as_str());
    let sessions = live_sessions(&s, user.id, current).await.map_err(ctx.store_err())?;
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

pub async fn password_form(State(s): State<AppState>, ctx: PageCtx, actor: Actor) -> Result<Response, Failed> {
    let user = current_user(&s, &ctx, &actor, true).await?;
    let config = s.security_config().await;
    Ok(render_password(&ctx, &config, &user, StatusCode::OK, Problems::default(), s.clock.now()))
}

pub async fn change_password(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    headers: HeaderMap,
    data: FormData,
) -> Result<Response, Failed> {
    let user = current_user(&s, &ctx, &actor, true).await?;
    let config = s.security_config().await;
    let (current, new, confirm) = (
        data.raw("current_password").unwrap_or_default(),
        data.raw("new_password").unwrap_or_default(),
        data.raw("confirm_password").unwrap_or_default(),
    );
    let change = PasswordChange { current: &current, new: &new, confirm: &confirm };
    match accounts::change_own_password(&s.store, &config, &user, &change).await {
        Ok(()) => {}
        Err(AccountError::Store(StoreError::Invalid(errs))) => {
            let mut e = actor.audit("password.change", Some("user"), Some(user.id.to_string()), "failed");
            e.detail = Some(errs.0.iter().map(|x| x.code.as_str()).collect::<Vec<_>>().join(","));
            s.store.append_audit(&e).await.map_err(ctx.store_err())?;
            let problems = Problems::from_errors(&errs, &ctx, str::to_owned);
            return Ok(render_password(
                &ctx,
                &config,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                problems,
                s.clock.now(),
            ));
        }
        Err(AccountError::Store(e)) => return Err(ctx.store_err()(e)),
        Err(AccountError::Hash(e)) => {
            tracing::error!(error = %e, "password hashing failed");
            return Err(Failed(ctx.clone(), PageError::Internal));
        }
    }
    s.store
        .append_audit(&actor.audit("password.change", Some("user"), Some(user.id.to_string()), "ok"))
        .await
        .map_err(ctx.store_err())?;
    // Every session of the user ended with the change; this browser gets a fresh one.
    let new = session::start(&s.store, &config, user.id, true, actor.client_ip.as_deref(), s.clock.now())
        .await
        .map_err(ctx.store_err())?;
    let mut r = Redirect::to("/account?done=password_changed").into_response();
    session::set_cookie(&mut r, &new.cookie(secure_cookies(&headers, &config)));
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

pub async fn totp_form(State(s): State<AppState>, ctx: PageCtx, actor: Actor) -> Result<Response, Failed> {
    let user = current_user(&s, &ctx, &actor, false).await?;
    if user.totp_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    render_enrol(&s, &ctx, &user, StatusCode::OK, None).await
}

/// Confirms an enrolment with a first code.
pub async fn totp_enable(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    data: FormData,
) -> Result<Response, Failed> {
    let user = current_user(&s, &ctx, &actor, false).await?;
    if user.totp_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    let Some(secret) = totp::open(&s.keys, &user).map_err(ctx.store_err())? else {
        return render_enrol(&s, &ctx, &user, StatusCode::OK, None).await;
    };
    let unix = u64::try_from(s.clock.now().timestamp()).unwrap_or(0);
    let Ok(step) = verify_once(&secret, &data.text("code"), unix, None) else {
        return render_enrol(&s, &ctx, &user, StatusCode::UNPROCESSABLE_ENTITY, Some(ctx.t("login.bad_code"))).await;
    };
    s.store.set_totp(user.id, user.totp_secret.as_deref(), true).await.map_err(ctx.store_err())?;
    s.store.use_totp_step(user.id, i64::try_from(step).unwrap_or(i64::MAX)).await.map_err(ctx.store_err())?;
    s.store
        .append_audit(&actor.audit("totp.enable", Some("user"), Some(user.id.to_string()), "ok"))
        .await
        .map_err(ctx.store_err())?;
    Ok(Redirect::to("/account?done=totp_enabled").into_response())
}

/// Turns the second factor off (with the current password), unless the user's roles or the
/// configuration require it.
pub async fn totp_disable(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    body: FormBody,
) -> Result<Response, Failed> {
    let user = current_user(&s, &ctx, &actor, false).await?;
    let config = s.security_config().await;
    if must_use_second_factor(&grants_of(&s, &ctx, user.id).await?, &config) {
        return Err(Failed(ctx.clone(), PageError::Forbidden));
    }
    let data = body.read().await?;
    if !verify_password_blocking(Some(user.password_hash.clone()), data.raw("current_password").unwrap_or_default())
        .await
    {
        s.store
            .append_audit(&actor.audit("totp.disable", Some("user"), Some(user.id.to_string()), "failed"))
            .await
            .map_err(ctx.store_err())?;
        return Ok(Redirect::to("/account?done=wrong_password").into_response());
    }
    s.store.set_totp(user.id, None, false).await.map_err(ctx.store_err())?;
    s.store
        .append_audit(&actor.audit("totp.disable", Some("user"), Some(user.id.to_string()), "ok"))
        .await
        .map_err(ctx.store_err())?;
    Ok(Redirect::to("/account?done=totp_disabled").into_response())
}

/// Ends one of the user's own sessions (the current one signs them out).
pub async fn end_session(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    headers: HeaderMap,
    data: FormData,
) -> Result<Response, Failed> {
    let user = current_user(&s, &ctx, &actor, false).await?;
    let key = data.text("session");
    let owned = s.store.session(&key).await.map_err(ctx.store_err())?.filter(|x| x.user_id == user.id);
    let Some(target) = owned else { return Err(ctx.not_found()) };
    s.store.revoke_session(&target.id_hash).await.map_err(ctx.store_err())?;
    s.store
        .append_audit(&actor.audit("session.end", Some("user"), Some(user.id.to_string()), "ok"))
        .await
        .map_err(ctx.store_err())?;
    if actor.session.as_ref().is_some_and(|x| x.id_hash == target.id_hash) {
        let mut r = Redirect::to("/login").into_response();
        let secure = secure_cookies(&headers, &s.security_config().await);
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
