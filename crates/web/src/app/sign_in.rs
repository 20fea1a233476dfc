//! Signing in and out: the password step, the second-factor step and signing out, each applying the
//! rules of [`crate::auth::login`] (GB/T 22239-2019 8.1.4.1; OWASP ASVS 5.0 V6/V7) — the commands
//! behind `/login`, `/login/second-factor` and `/logout`.
//!
//! Every outcome is written to the audit log: `login` (signed in), `login.password` (password
//! accepted, second factor owed), `login_failed` with the reason in `detail` (`unknown_user`,
//! `bad_password`, `disabled`, `locked`, `bad_code`, `replayed_code`), `account_locked`, `logout`.
//! The person at the screen always gets the same message, whichever the reason. A record that cannot
//! be written fails the step.

use super::AppResult;
use crate::auth::config::SecurityConfig;
use crate::auth::login::{is_locked, second_factor_required, verify_password_blocking};
use crate::auth::session::{self, time_text, NewSession};
use crate::auth::{totp, Actor, Principal};
use crate::AppState;
use chrono::{DateTime, Utc};
use dangjian_domain::access::Grant;
use dangjian_security::totp::{verify_once, TotpRejection};
use dangjian_store::accounts::{Holder, User};
use dangjian_store::audit::AuditEntry;
use dangjian_store::StoreError;

/// The audit record of a login event: the actor is the account signing in when it is known.
fn entry(actor: &Actor, action: &str, user: Option<&User>, typed: &str, outcome: &str, detail: &str) -> AuditEntry {
    let mut e = actor.audit(action, Some("user"), Some(typed.chars().take(64).collect()), outcome);
    if let Some(u) = user {
        e.object_id = Some(u.id.to_string());
        if outcome == "ok" {
            e.actor = u.username.clone();
            e.actor_user_id = Some(u.id);
        }
    }
    e.detail = Some(detail.to_owned());
    e
}

/// What the password step decided.
pub enum PasswordStep {
    /// Signed in; the session is complete.
    SignedIn(NewSession),
    /// Password accepted; the half-open session may only pass the second factor.
    SecondFactor(NewSession),
    /// Refused — unknown user, wrong password, disabled or locked: one message for all.
    Refused,
}

/// The password step of a login.
pub async fn password_step(state: &AppState, actor: &Actor, username: &str, password: &str) -> AppResult<PasswordStep> {
    let store = &state.store;
    let config = state.security_config().await;
    let now = state.clock.now();
    let typed = username.trim().to_lowercase();
    let user = if typed.is_empty() { None } else { store.user_by_username(&typed).await? };
    let ok = verify_password_blocking(user.as_ref().map(|u| u.password_hash.clone()), password.to_owned()).await;
    let Some(user) = user else {
        store.append_audit(&entry(actor, "login_failed", None, &typed, "failed", "unknown_user")).await?;
        return Ok(PasswordStep::Refused);
    };
    let refuse = |detail: &'static str| entry(actor, "login_failed", Some(&user), &typed, "failed", detail);
    if user.disabled {
        store.append_audit(&refuse("disabled")).await?;
        return Ok(PasswordStep::Refused);
    }
    if is_locked(&user, now) {
        store.append_audit(&refuse("locked")).await?;
        return Ok(PasswordStep::Refused);
    }
    if !ok {
        store.append_audit(&refuse("bad_password")).await?;
        count_failure(state, actor, &user, &config, now).await?;
        return Ok(PasswordStep::Refused);
    }
    if user.failed_logins > 0 || user.locked_until.is_some() {
        store.clear_login_failures(user.id).await?;
    }
    let grants: Vec<Grant> = store.grants_of(Holder::User(user.id)).await?.into_iter().map(|g| g.grant).collect();
    let ip = actor.client_ip.as_deref();
    if second_factor_required(&grants, &user, &config) {
        let s = session::start(store, &config, user.id, false, ip, now).await?;
        store
            .append_audit(&entry(actor, "login.password", Some(&user), &typed, "ok", "second_factor_required"))
            .await?;
        Ok(PasswordStep::SecondFactor(s))
    } else {
        let s = session::start(store, &config, user.id, true, ip, now).await?;
        store.append_audit(&entry(actor, "login", Some(&user), &typed, "ok", "password")).await?;
        Ok(PasswordStep::SignedIn(s))
    }
}

/// Counts a failed attempt, locking the account at the threshold (audited as `account_locked`).
/// Returns whether the account is now locked.
async fn count_failure(
    state: &AppState,
    actor: &Actor,
    user: &User,
    config: &SecurityConfig,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let until = time_text(now + config.lockout());
    let locked = state.store.record_login_failure(user.id, config.lockout_threshold, &until).await?;
    if let Some(until) = &locked {
        let mut e = entry(actor, "account_locked", Some(user), &user.username, "denied", "");
        e.detail = Some(format!("until {until}"));
        state.store.append_audit(&e).await?;
    }
    Ok(locked.is_some())
}

/// What the second-factor step decided.
pub enum SecondFactorStep {
    /// Signed in: a new session replaces the half-open one.
    SignedIn(NewSession),
    /// Wrong or expired code.
    Invalid,
    /// The code was already used.
    Replayed,
    /// Too many failures: the account is locked and the half-open session ended.
    Locked,
}

/// The second-factor step: checks a TOTP code against the user's secret (completing an enrolment
/// if the secret was still pending), refusing a code whose time step was already used.
pub async fn second_factor_step(state: &AppState, actor: &Actor, code: &str) -> AppResult<SecondFactorStep> {
    let store = &state.store;
    let (Some(Principal::User { id, .. }), Some(half)) = (&actor.principal, &actor.session) else {
        return Err(StoreError::NotFound.into());
    };
    let config = state.security_config().await;
    let now = state.clock.now();
    let user = store.user(*id).await?;
    let fail = |detail: &'static str| entry(actor, "login_failed", Some(&user), &user.username, "failed", detail);
    if is_locked(&user, now) || user.disabled {
        store.append_audit(&fail("locked")).await?;
        store.revoke_session(&half.id_hash).await?;
        return Ok(SecondFactorStep::Locked);
    }
    let Some(secret) = totp::open(&state.keys, &user)? else {
        return Err(StoreError::NotFound.into());
    };
    let unix = u64::try_from(now.timestamp()).unwrap_or(0);
    let last = user.totp_last_step.and_then(|s| u64::try_from(s).ok());
    let step = match verify_once(&secret, code, unix, last) {
        Ok(step) => step,
        Err(r) => {
            let (detail, outcome) = match r {
                TotpRejection::Invalid => ("bad_code", SecondFactorStep::Invalid),
                TotpRejection::Replayed => ("replayed_code", SecondFactorStep::Replayed),
            };
            store.append_audit(&fail(detail)).await?;
            if count_failure(state, actor, &user, &config, now).await? {
                store.revoke_session(&half.id_hash).await?;
                return Ok(SecondFactorStep::Locked);
            }
            return Ok(outcome);
        }
    };
    if !user.totp_enabled {
        // The first good code completes the enrolment (which clears the last used step).
        store.set_totp(user.id, user.totp_secret.as_deref(), true).await?;
        store.append_audit(&entry(actor, "totp.enable", Some(&user), &user.username, "ok", "at_login")).await?;
    }
    if !store.use_totp_step(user.id, i64::try_from(step).unwrap_or(i64::MAX)).await? {
        store.append_audit(&fail("replayed_code")).await?;
        return Ok(SecondFactorStep::Replayed);
    }
    if user.failed_logins > 0 {
        store.clear_login_failures(user.id).await?;
    }
    store.revoke_session(&half.id_hash).await?;
    let s = session::start(store, &config, user.id, true, actor.client_ip.as_deref(), now).await?;
    store.append_audit(&entry(actor, "login", Some(&user), &user.username, "ok", "password+totp")).await?;
    Ok(SecondFactorStep::SignedIn(s))
}

/// Ends the request's session (audited as `logout`).
pub async fn logout(state: &AppState, actor: &Actor) -> AppResult<()> {
    if let Some(s) = &actor.session {
        state.store.revoke_session(&s.id_hash).await?;
        let e = actor.audit("logout", Some("user"), actor.user_id().map(|i| i.to_string()), "ok");
        state.store.append_audit(&e).await?;
    }
    Ok(())
}
