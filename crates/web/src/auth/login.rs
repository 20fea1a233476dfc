//! Signing in: the password step, the second-factor step, signing out, and the rules they apply
//! (GB/T 22239-2019 8.1.4.1: identification and authentication, login-failure handling, two
//! authentication techniques for administrators; OWASP ASVS 5.0 V6/V7).
//!
//! Every outcome is written to the audit log: `login` (signed in), `login.password` (password
//! accepted, second factor owed), `login_failed` with the reason in `detail` (`unknown_user`,
//! `bad_password`, `disabled`, `locked`, `bad_code`, `replayed_code`), `account_locked`, `logout`.
//! The person at the screen always gets the same message, whichever the reason.

use super::config::SecurityConfig;
use super::session::{self, time_text, NewSession};
use super::{totp, Actor, Principal};
use crate::AppState;
use chrono::{DateTime, Utc};
use dangjian_domain::access::{self, Action, Grant};
use dangjian_security::password::{dummy_verify, verify_password};
use dangjian_security::totp::{verify_once, TotpRejection};
use dangjian_store::accounts::{Holder, User};
use dangjian_store::audit::AuditEntry;
use dangjian_store::{StoreError, StoreResult};

pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// Whether the account is locked after too many failed logins.
pub fn is_locked(user: &User, now: DateTime<Utc>) -> bool {
    user.locked_until.as_deref().and_then(parse_time).is_some_and(|until| now < until)
}

/// Whether signing in needs a second factor: always for the three administrators (the audit
/// administrator is the auditor), for everyone when configured, and for whoever turned it on.
pub fn second_factor_required(grants: &[Grant], user: &User, config: &SecurityConfig) -> bool {
    config.totp_required_for_all || user.totp_enabled || must_use_second_factor(grants, config)
}

/// Whether the user may not turn the second factor off.
pub fn must_use_second_factor(grants: &[Grant], config: &SecurityConfig) -> bool {
    config.totp_required_for_all || grants.iter().any(|g| g.role.is_administrator())
}

/// Whether the password must be changed before anything else: a one-off password set by an
/// administrator, or one older than the configured maximum age.
pub fn password_change_required(user: &User, config: &SecurityConfig, now: DateTime<Utc>) -> bool {
    user.must_change_password || password_expired(user, config, now)
}

fn password_expired(user: &User, config: &SecurityConfig, now: DateTime<Utc>) -> bool {
    let changed = parse_time(&user.password_changed_at).map(|t| t.timestamp()).unwrap_or(0);
    config.password_policy().is_expired(changed, now.timestamp())
}

/// Where a user lands after signing in when no page was asked for: the registry for those who may
/// read it, else their administration page, else their own account.
pub fn landing(grants: &[Grant]) -> &'static str {
    if access::may(grants, Action::Read) {
        "/"
    } else if access::may(grants, Action::ManageAccounts) || access::may(grants, Action::ManageGrants) {
        "/admin/users"
    } else if access::may(grants, Action::ManageTokens) {
        "/admin/tokens"
    } else if access::may(grants, Action::ReadAudit) {
        "/admin/audit"
    } else {
        "/account"
    }
}

/// Checks a password off the async runtime (argon2id is slow on purpose).
pub async fn verify_password_blocking(hash: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&h, &password),
        None => dummy_verify(&password),
    })
    .await
    .unwrap_or(false)
}

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
pub async fn password_step(
    state: &AppState,
    actor: &Actor,
    username: &str,
    password: &str,
) -> StoreResult<PasswordStep> {
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
) -> StoreResult<bool> {
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
pub async fn second_factor_step(state: &AppState, actor: &Actor, code: &str) -> StoreResult<SecondFactorStep> {
    let store = &state.store;
    let (Some(Principal::User { id, .. }), Some(half)) = (&actor.principal, &actor.session) else {
        return Err(StoreError::NotFound);
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
        return Err(StoreError::NotFound);
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
pub async fn logout(state: &AppState, actor: &Actor) -> StoreResult<()> {
    if let Some(s) = &actor.session {
        state.store.revoke_session(&s.id_hash).await?;
        let e = actor.audit("logout", Some("user"), actor.user_id().map(|i| i.to_string()), "ok");
        state.store.append_audit(&e).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dangjian_domain::access::{Role, Scope};

    fn user() -> User {
        User {
            id: 1,
            username: "alice".into(),
            display_name: "Alice".into(),
            password_hash: String::new(),
            password_changed_at: "2026-01-01T00:00:00Z".into(),
            must_change_password: false,
            totp_secret: None,
            totp_enabled: false,
            totp_last_step: None,
            failed_logins: 0,
            locked_until: None,
            disabled: false,
            version: 1,
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap_or_default()
    }

    fn grant(role: Role, scope: Scope) -> Grant {
        Grant { role, scope }
    }

    #[test]
    fn users_land_where_their_roles_work() {
        let root = || Scope::Region { path: "/".into() };
        assert_eq!(landing(&[grant(Role::DepartmentCadre, Scope::Region { path: "/11/".into() })]), "/");
        assert_eq!(landing(&[grant(Role::SystemAdmin, root())]), "/admin/users");
        assert_eq!(landing(&[grant(Role::SecurityAdmin, root())]), "/admin/users");
        assert_eq!(landing(&[grant(Role::AuditAdmin, root())]), "/admin/audit");
        assert_eq!(landing(&[]), "/account");
    }

    #[test]
    fn a_lock_lasts_until_its_end() {
        let mut u = user();
        assert!(!is_locked(&u, at("2026-01-01T00:00:00Z")));
        u.locked_until = Some("2026-01-01T00:15:00Z".into());
        assert!(is_locked(&u, at("2026-01-01T00:14:59Z")));
        assert!(!is_locked(&u, at("2026-01-01T00:15:00Z")));
    }

    #[test]
    fn administrators_and_auditors_need_a_second_factor() {
        let c = SecurityConfig::default();
        let root = Scope::Region { path: "/".into() };
        for role in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin] {
            assert!(second_factor_required(&[grant(role, root.clone())], &user(), &c), "{role:?}");
            assert!(must_use_second_factor(&[grant(role, root.clone())], &c));
        }
        let cadre = [grant(Role::DepartmentCadre, Scope::Region { path: "/11/".into() })];
        assert!(!second_factor_required(&cadre, &user(), &c));
        assert!(!must_use_second_factor(&cadre, &c));
        let mut u = user();
        u.totp_enabled = true;
        assert!(second_factor_required(&cadre, &u, &c), "whoever turned it on");
        let all = SecurityConfig { totp_required_for_all: true, ..Default::default() };
        assert!(second_factor_required(&cadre, &user(), &all));
        assert!(must_use_second_factor(&[], &all));
    }

    #[test]
    fn one_off_and_expired_passwords_must_be_changed() {
        let c = SecurityConfig::default();
        let now = at("2026-06-01T00:00:00Z");
        assert!(!password_change_required(&user(), &c, now));
        let mut u = user();
        u.must_change_password = true;
        assert!(password_change_required(&u, &c, now));
        let aging = SecurityConfig { password_max_age_days: Some(90), ..Default::default() };
        assert!(password_change_required(&user(), &aging, now), "changed 151 days ago");
        assert!(!password_change_required(&user(), &aging, at("2026-03-01T00:00:00Z")));
    }
}
