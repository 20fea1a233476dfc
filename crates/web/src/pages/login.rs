//! `/login`, `/login/totp` and `/logout`: signing in with a password and, where required, a TOTP
//! code (with enrolment on the way for an administrator who has none yet), and signing out. The
//! rules live in [`crate::auth::login`]; these handlers read the form, call them and set the cookie.

use super::form::{anonymous_csrf, with_cookie, FormData};
use super::{safe_next, Failed, PageCtx};
use crate::app::sign_in::{self as login, PasswordStep, SecondFactorStep};
use crate::auth::gate::{Standing, SECOND_FACTOR_PAGE};
use crate::auth::session::{self, secure_cookies, NewSession};
use crate::auth::{totp, Actor, Principal};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Grant;
use dangjian_store::accounts::Holder;
use minijinja::context;

use super::lists::PageQuery;

/// `?next=` as a local path to return to (anything else goes home).
fn next_of(next: Option<String>) -> String {
    safe_next(next.as_deref()).to_owned()
}

fn with_next(path: &str, next: &str) -> String {
    if next == "/" {
        return path.to_owned();
    }
    let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
    format!("{path}?{q}")
}

/// Renders the login form; before sign-in the form's CSRF token is a fresh double-submit cookie.
async fn render_login(
    s: &AppState,
    headers: &HeaderMap,
    mut ctx: PageCtx,
    status: StatusCode,
    username: &str,
    next: &str,
    problem: Option<String>,
) -> Response {
    let new_cookie = anonymous_csrf(s, headers, &mut ctx).await;
    with_cookie(ctx.render_status(status, "auth/login.html", context! { username, next, problem }), new_cookie)
}

pub async fn form(State(s): State<AppState>, ctx: PageCtx, actor: Actor, headers: HeaderMap, q: PageQuery) -> Response {
    let next = next_of(q.get("next"));
    match Standing::of(&actor) {
        Standing::SignedIn if actor.session.is_some() => Redirect::to(&next).into_response(),
        Standing::AwaitingSecondFactor => Redirect::to(&with_next(SECOND_FACTOR_PAGE, &next)).into_response(),
        _ => render_login(&s, &headers, ctx, StatusCode::OK, "", &next, None).await,
    }
}

/// Sets the new session's cookie, ends whatever session the browser came with, and redirects —
/// to `to`, or, when no page was asked for, to where the user's roles work.
async fn hand_over(
    s: &AppState,
    headers: &HeaderMap,
    actor: &Actor,
    new: &NewSession,
    to: &str,
) -> Result<Response, dangjian_store::StoreError> {
    if let Some(old) = &actor.session {
        s.store.revoke_session(&old.id_hash).await?;
    }
    let to = if to == "/" {
        let grants: Vec<Grant> =
            s.store.grants_of(Holder::User(new.user_id)).await?.into_iter().map(|g| g.grant).collect();
        crate::auth::login::landing(&grants)
    } else {
        to
    };
    let mut r = Redirect::to(to).into_response();
    session::set_cookie(&mut r, &new.cookie(secure_cookies(headers, &s.security_config().await)));
    Ok(r)
}

pub async fn submit(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    headers: HeaderMap,
    data: FormData,
) -> Result<Response, Failed> {
    let username = data.text("username");
    let password = data.raw("password").unwrap_or_default();
    let next = next_of(data.get("next"));
    let step = login::password_step(&s, &actor, &username, &password).await.map_err(ctx.app_err())?;
    let r = match step {
        PasswordStep::Refused => {
            let problem = Some(ctx.t("login.refused"));
            return Ok(render_login(&s, &headers, ctx, StatusCode::UNAUTHORIZED, &username, &next, problem).await);
        }
        PasswordStep::SecondFactor(new) => {
            hand_over(&s, &headers, &actor, &new, &with_next(SECOND_FACTOR_PAGE, &next)).await
        }
        PasswordStep::SignedIn(new) => hand_over(&s, &headers, &actor, &new, &next).await,
    };
    r.map_err(ctx.store_err())
}

/// The second-factor page: the code form, with the enrolment (QR code) for a user who has none yet.
async fn render_totp(
    s: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    status: StatusCode,
    next: &str,
    problem: Option<String>,
) -> Result<Response, Failed> {
    let Some(Principal::User { id, .. }) = &actor.principal else { return Err(ctx.not_found()) };
    let user = s.store.user(*id).await.map_err(ctx.store_err())?;
    let enrolment = if user.totp_enabled {
        None
    } else {
        let secret = totp::pending_secret(s, &user).await.map_err(ctx.store_err())?;
        match totp::enrolment_view(&secret, &user.username) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, "TOTP enrolment could not be drawn");
                return Err(Failed(ctx.clone(), super::PageError::Internal));
            }
        }
    };
    Ok(ctx.render_status(status, "auth/totp.html", context! { enrolment, next, problem, action => "/login/totp" }))
}

pub async fn totp_form(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    q: PageQuery,
) -> Result<Response, Failed> {
    let next = next_of(q.get("next"));
    match Standing::of(&actor) {
        Standing::AwaitingSecondFactor => render_totp(&s, &ctx, &actor, StatusCode::OK, &next, None).await,
        Standing::Anonymous => Ok(Redirect::to(&with_next("/login", &next)).into_response()),
        _ => Ok(Redirect::to(&next).into_response()),
    }
}

pub async fn totp_submit(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    headers: HeaderMap,
    data: FormData,
) -> Result<Response, Failed> {
    let next = next_of(data.get("next"));
    if Standing::of(&actor) != Standing::AwaitingSecondFactor {
        return Ok(Redirect::to(&with_next("/login", &next)).into_response());
    }
    let code = data.text("code");
    match login::second_factor_step(&s, &actor, &code).await.map_err(ctx.app_err())? {
        SecondFactorStep::SignedIn(new) => hand_over(&s, &headers, &actor, &new, &next).await.map_err(ctx.store_err()),
        SecondFactorStep::Invalid => {
            render_totp(&s, &ctx, &actor, StatusCode::UNAUTHORIZED, &next, Some(ctx.t("login.bad_code"))).await
        }
        SecondFactorStep::Replayed => {
            render_totp(&s, &ctx, &actor, StatusCode::UNAUTHORIZED, &next, Some(ctx.t("login.replayed_code"))).await
        }
        SecondFactorStep::Locked => {
            let secure = secure_cookies(&headers, &s.security_config().await);
            let mut ctx = ctx.clone();
            ctx.viewer = None;
            ctx.csrf_token = None;
            let problem = Some(ctx.t("login.refused"));
            let mut r = render_login(&s, &headers, ctx, StatusCode::UNAUTHORIZED, "", &next, problem).await;
            session::set_cookie(&mut r, &session::clear_session_cookie(secure));
            Ok(r)
        }
    }
}

pub async fn logout(
    State(s): State<AppState>,
    ctx: PageCtx,
    actor: Actor,
    headers: HeaderMap,
    _data: FormData,
) -> Result<Response, Failed> {
    login::logout(&s, &actor).await.map_err(ctx.app_err())?;
    let mut r = Redirect::to("/login").into_response();
    session::set_cookie(&mut r, &session::clear_session_cookie(secure_cookies(&headers, &s.security_config().await)));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_way_back_stays_on_this_site() {
        assert_eq!(next_of(Some("/entities?kind=site".into())), "/entities?kind=site");
        assert_eq!(next_of(Some("https://evil.example/".into())), "/");
        assert_eq!(next_of(Some("//evil.example/".into())), "/");
        assert_eq!(with_next("/login/totp", "/"), "/login/totp");
        assert_eq!(with_next("/login/totp", "/regions"), "/login/totp?next=%2Fregions");
    }
}
