//! The rules of signing in (GB/T 22239-2019 8.1.4.1: identification and authentication,
//! login-failure handling, two authentication techniques for administrators; OWASP ASVS 5.0 V6/V7):
//! locks, when a second factor is owed, when a password must be changed, where a user lands. The
//! steps that apply them — and audit every outcome — are the commands of [`crate::app::sign_in`].

use super::config::SecurityConfig;
use chrono::{DateTime, Utc};
use dangjian_domain::access::{self, Action, Grant};
use dangjian_security::password::{dummy_verify, verify_password};
use dangjian_store::accounts::User;

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
