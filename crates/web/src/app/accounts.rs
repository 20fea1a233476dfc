//! The signed-in user's own account (`/account`): change the password, turn the second factor on or
//! off, end one of their sessions. Each change is audited about `user` `<id>` (`password.change`,
//! `totp.enable`, `totp.disable`, `session.end`); unlike a refusal, a failure to write these records
//! fails the change's answer (the account's security trail must not have holes).

use super::{AppError, AppResult, Ctx};
use crate::auth::accounts::{self, AccountError, PasswordChange};
use crate::auth::login::{must_use_second_factor, verify_password_blocking};
use crate::auth::session::{self, NewSession};
use crate::auth::totp;
use dangjian_domain::access::Grant;
use dangjian_security::totp::verify_once;
use dangjian_store::accounts::{Holder, User};
use dangjian_store::StoreError;

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Store(e) => Self::Store(e),
            AccountError::Hash(e) => {
                tracing::error!(error = %e, "password hashing failed");
                Self::Internal
            }
        }
    }
}

/// Appends a record about the user's own account, failing if it cannot be written.
pub(super) async fn record(
    cx: &Ctx,
    action: &str,
    user_id: i64,
    outcome: &str,
    detail: Option<String>,
) -> AppResult<()> {
    let mut entry = cx.actor.audit(action, Some("user"), Some(user_id.to_string()), outcome);
    entry.detail = detail;
    cx.state.store.append_audit(&entry).await?;
    Ok(())
}

/// The signed-in user of a session (`allow_password_change`: also one who must first change their
/// password — the password page admits them); anyone else is refused (403, not audited).
pub async fn me(cx: &Ctx, allow_password_change: bool) -> AppResult<User> {
    let actor = &cx.actor;
    let id = if allow_password_change {
        actor.session_user_id()
    } else {
        actor.is_authenticated().then(|| actor.user_id()).flatten()
    };
    let Some(id) = id.filter(|_| actor.session.is_some()) else {
        return Err(AppError::Forbidden);
    };
    Ok(cx.state.store.user(id).await?)
}

async fn grants_of(cx: &Ctx, user_id: i64) -> AppResult<Vec<Grant>> {
    Ok(cx.state.store.grants_of(Holder::User(user_id)).await?.into_iter().map(|g| g.grant).collect())
}

/// Changes the user's own password after checking the current one (a refusal of the policy is
/// audited `failed` with the problems' codes, and answered as [`AppError::Invalid`]). Every session of
/// the user ends; the answer is the fresh one for the browser in hand.
pub async fn change_password(cx: &Ctx, user: &User, change: &PasswordChange<'_>) -> AppResult<NewSession> {
    let s = &cx.state;
    let config = s.security_config().await;
    match accounts::change_own_password(&s.store, &config, user, change).await {
        Ok(()) => {}
        Err(AccountError::Store(StoreError::Invalid(errs))) => {
            let codes = errs.0.iter().map(|x| x.code.as_str()).collect::<Vec<_>>().join(",");
            record(cx, "password.change", user.id, "failed", Some(codes)).await?;
            return Err(AppError::Invalid(errs));
        }
        Err(e) => return Err(e.into()),
    }
    record(cx, "password.change", user.id, "ok", None).await?;
    Ok(session::start(&s.store, &config, user.id, true, cx.actor.client_ip.as_deref(), s.clock.now()).await?)
}

/// How turning the second factor on went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolment {
    /// On from now (audited `totp.enable`).
    Enabled,
    /// It already was.
    AlreadyOn,
    /// No enrolment has been started (no secret drawn yet): show the enrolment.
    NotStarted,
    /// The code did not match: nothing changed.
    WrongCode,
}

/// Turns the user's second factor on, confirming the pending enrolment with a first `code`.
pub async fn enable_second_factor(cx: &Ctx, user: &User, code: &str) -> AppResult<Enrolment> {
    let s = &cx.state;
    if user.totp_enabled {
        return Ok(Enrolment::AlreadyOn);
    }
    let Some(secret) = totp::open(&s.keys, user)? else {
        return Ok(Enrolment::NotStarted);
    };
    let unix = u64::try_from(s.clock.now().timestamp()).unwrap_or(0);
    let Ok(step) = verify_once(&secret, code, unix, None) else {
        return Ok(Enrolment::WrongCode);
    };
    s.store.set_totp(user.id, user.totp_secret.as_deref(), true).await?;
    s.store.use_totp_step(user.id, i64::try_from(step).unwrap_or(i64::MAX)).await?;
    record(cx, "totp.enable", user.id, "ok", None).await?;
    Ok(Enrolment::Enabled)
}

/// May the user turn their second factor off? Not where their roles or the configuration require it
/// (403).
pub async fn begin_disable_second_factor(cx: &Ctx, user: &User) -> AppResult<DisablingSecondFactor> {
    let config = cx.state.security_config().await;
    if must_use_second_factor(&grants_of(cx, user.id).await?, &config) {
        return Err(AppError::Forbidden);
    }
    Ok(DisablingSecondFactor { cx: cx.clone(), user: user.clone() })
}

/// A permitted turning off of the second factor, waiting for the current password.
#[must_use]
pub struct DisablingSecondFactor {
    cx: Ctx,
    user: User,
}

impl DisablingSecondFactor {
    /// Turns it off if `current_password` is right (`false`: it was not; audited `failed`).
    pub async fn run(self, current_password: &str) -> AppResult<bool> {
        let (cx, user) = (&self.cx, &self.user);
        if !verify_password_blocking(Some(user.password_hash.clone()), current_password.to_owned()).await {
            record(cx, "totp.disable", user.id, "failed", None).await?;
            return Ok(false);
        }
        cx.state.store.set_totp(user.id, None, false).await?;
        record(cx, "totp.disable", user.id, "ok", None).await?;
        Ok(true)
    }
}

/// Ends the user's own session `key` (its stored hash); another user's is not there (404). Answers
/// whether it was the session of this request.
pub async fn end_session(cx: &Ctx, user: &User, key: &str) -> AppResult<bool> {
    let store = &cx.state.store;
    let owned = store.session(key).await?.filter(|x| x.user_id == user.id);
    let Some(target) = owned else { return Err(AppError::NotFound) };
    store.revoke_session(&target.id_hash).await?;
    record(cx, "session.end", user.id, "ok", None).await?;
    Ok(cx.actor.session.as_ref().is_some_and(|x| x.id_hash == target.id_hash))
}
