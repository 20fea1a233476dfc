//! Security settings: defaults that hold without configuration, overridable by the security
//! administrator (stored in the `settings` table). Deployments that must pass an MLPS level-3 test
//! turn on the stricter password switches.

use chrono::Duration;
use dangjian_security::password::PasswordPolicy;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct SecurityConfig {
    /// Failed logins before the account is locked.
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_hours: i64,
    /// Require composition rules (3 of 4 character classes).
    pub password_composition: bool,
    /// Require a password change after this many days.
    pub password_max_age_days: Option<u32>,
    /// Require a second factor for every account, not only administrators and auditors.
    pub totp_required_for_all: bool,
    pub audit_retention_days: i64,
    /// Mark cookies `Secure` even when no proxy says the request came over HTTPS.
    pub secure_cookies: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            lockout_threshold: 5,
            lockout_minutes: 15,
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
            password_composition: false,
            password_max_age_days: None,
            totp_required_for_all: false,
            audit_retention_days: 180,
            secure_cookies: false,
        }
    }
}

/// The keys of the settings table, with a short description for the settings page.
pub const SETTING_KEYS: [&str; 9] = [
    "lockout_threshold",
    "lockout_minutes",
    "idle_timeout_minutes",
    "absolute_timeout_hours",
    "password_composition",
    "password_max_age_days",
    "totp_required_for_all",
    "audit_retention_days",
    "secure_cookies",
];

impl SecurityConfig {
    /// Applies stored settings over the defaults; unknown or malformed values keep the default.
    pub fn from_settings(s: &HashMap<String, String>) -> Self {
        let d = Self::default();
        let int = |k: &str, dflt: i64, min: i64, max: i64| {
            s.get(k).and_then(|v| v.trim().parse::<i64>().ok()).filter(|v| (min..=max).contains(v)).unwrap_or(dflt)
        };
        let flag = |k: &str, dflt: bool| s.get(k).map(|v| matches!(v.trim(), "true" | "1" | "on")).unwrap_or(dflt);
        Self {
            lockout_threshold: int("lockout_threshold", d.lockout_threshold, 1, 100),
            lockout_minutes: int("lockout_minutes", d.lockout_minutes, 1, 24 * 60),
            idle_timeout_minutes: int("idle_timeout_minutes", d.idle_timeout_minutes, 1, 24 * 60),
            absolute_timeout_hours: int("absolute_timeout_hours", d.absolute_timeout_hours, 1, 24 * 30),
            password_composition: flag("password_composition", d.password_composition),
            password_max_age_days: s
                .get("password_max_age_days")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|v| (1..=3650).contains(v)),
            totp_required_for_all: flag("totp_required_for_all", d.totp_required_for_all),
            audit_retention_days: int("audit_retention_days", d.audit_retention_days, 180, 3650 * 3),
            secure_cookies: flag("secure_cookies", d.secure_cookies),
        }
    }

    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            require_composition: self.password_composition,
            max_age_days: self.password_max_age_days,
            ..PasswordPolicy::default()
        }
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::minutes(self.idle_timeout_minutes)
    }

    pub fn absolute_timeout(&self) -> Duration {
        Duration::hours(self.absolute_timeout_hours)
    }

    pub fn lockout(&self) -> Duration {
        Duration::minutes(self.lockout_minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_override_defaults_within_bounds() {
        let mut s = HashMap::new();
        s.insert("lockout_threshold".to_owned(), "3".to_owned());
        s.insert("idle_timeout_minutes".to_owned(), "-4".to_owned());
        s.insert("password_composition".to_owned(), "true".to_owned());
        s.insert("audit_retention_days".to_owned(), "30".to_owned());
        let c = SecurityConfig::from_settings(&s);
        assert_eq!(c.lockout_threshold, 3);
        assert_eq!(c.idle_timeout_minutes, 30, "out-of-range values keep the default");
        assert!(c.password_composition);
        assert_eq!(c.audit_retention_days, 180, "retention never drops below 180 days");
    }
}
