//! Account commands shared by the pages and the CLI: creating an account with a one-off password,
//! resetting a password, changing one's own password. There are no default or shared accounts: each
//! one starts with a random password shown once to the administrator, which must be changed at the
//! first sign-in.

use super::config::SecurityConfig;
use super::login::verify_password_blocking;
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors};
use dangjian_security::password::{hash_password, PasswordPolicy};
use dangjian_security::token::generate_session_id;
use dangjian_store::accounts::User;
use dangjian_store::{Store, StoreError};

/// Why an account command failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed (it does not, short of a broken runtime); nothing was changed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<FieldErrors> for AccountError {
    fn from(e: FieldErrors) -> Self {
        Self::Store(e.into())
    }
}

impl From<FieldError> for AccountError {
    fn from(e: FieldError) -> Self {
        Self::Store(e.into())
    }
}

pub type AccountResult<T> = Result<T, AccountError>;

/// Characters of a one-off password, without look-alikes (0/O, 1/l/I).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// A random one-off password: four groups of four characters from a 57-letter alphabet joined by
/// `-` (about 93 bits), which satisfies every password policy, composition rules included.
pub fn generate_one_off_password(policy: &PasswordPolicy) -> String {
    loop {
        let mut chars = Vec::with_capacity(16);
        while chars.len() < 16 {
            // 43 base64url characters carry 256 random bits; keep those that map evenly into the
            // alphabet (rejection sampling).
            for b in generate_session_id().bytes() {
                let v = match b {
                    b'A'..=b'Z' => b - b'A',
                    b'a'..=b'z' => b - b'a' + 26,
                    b'0'..=b'9' => b - b'0' + 52,
                    b'-' => 62,
                    _ => 63,
                };
                if usize::from(v) < ALPHABET.len() && chars.len() < 16 {
                    chars.push(char::from(ALPHABET[usize::from(v)]));
                }
            }
        }
        let groups: Vec<String> = chars.chunks(4).map(|g| g.iter().collect()).collect();
        let candidate = groups.join("-");
        if policy.check(&candidate, "").is_ok() && PasswordPolicy::mlps().check(&candidate, "").is_ok() {
            return candidate;
        }
    }
}

/// Hashes a password off the async runtime.
pub async fn hash_blocking(password: String) -> AccountResult<String> {
    let hashed = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    hashed.map_err(|e| AccountError::Hash(e.to_string()))
}

/// Creates an account with a one-off password that must be changed at first sign-in. Returns the
/// account and the password, to be shown once (or printed once by `dangjian user add`) and never
/// stored. The caller writes the audit record (`user.create`).
pub async fn create_with_one_off_password(
    store: &Store,
    config: &SecurityConfig,
    username: &str,
    display_name: &str,
) -> AccountResult<(User, String)> {
    let password = generate_one_off_password(&config.password_policy());
    let hash = hash_blocking(password.clone()).await?;
    let user = store.create_user(username, display_name, &hash, true).await?;
    Ok((user, password))
}

/// Gives an account a new one-off password and ends its sessions. Returns the password to show once.
pub async fn reset_with_one_off_password(
    store: &Store,
    config: &SecurityConfig,
    user_id: i64,
) -> AccountResult<String> {
    let password = generate_one_off_password(&config.password_policy());
    let hash = hash_blocking(password.clone()).await?;
    store.set_password(user_id, &hash, true).await?;
    store.revoke_user_sessions(user_id).await?;
    Ok(password)
}

/// The fields of the password form.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    pub confirm: &'a str,
}

/// Checks a password change against the policy; every problem as a field error (zh and en).
pub fn check_new_password(change: &PasswordChange, username: &str, policy: &PasswordPolicy) -> Result<(), FieldErrors> {
    let mut errs = Vec::new();
    if let Err(problems) = policy.check(change.new, username) {
        for p in problems {
            errs.push(FieldError::new("new_password", p.code(), p.message()));
        }
    }
    if change.new != change.confirm {
        errs.push(FieldError::new("confirm_password", "mismatch", Message::new("problem.mismatch")));
    }
    if !change.new.is_empty() && change.new == change.current {
        errs.push(FieldError::new("new_password", "unchanged", Message::new("problem.unchanged")));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(FieldErrors(errs))
    }
}

/// Changes a user's own password after checking the current one. Ends every session of the user
/// (the caller starts a fresh one for the browser in hand).
pub async fn change_own_password(
    store: &Store,
    config: &SecurityConfig,
    user: &User,
    change: &PasswordChange<'_>,
) -> AccountResult<()> {
    if !verify_password_blocking(Some(user.password_hash.clone()), change.current.to_owned()).await {
        return Err(
            FieldError::new("current_password", "wrong_password", Message::new("problem.wrong_password")).into()
        );
    }
    check_new_password(change, &user.username, &config.password_policy())?;
    let hash = hash_blocking(change.new.to_owned()).await?;
    store.set_password(user.id, &hash, false).await?;
    store.revoke_user_sessions(user.id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_off_passwords_pass_the_strictest_policy_and_differ() {
        let mlps = PasswordPolicy::mlps();
        let a = generate_one_off_password(&mlps);
        let b = generate_one_off_password(&mlps);
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert!(mlps.check(&a, "someone").is_ok());
        assert!(a.split('-').all(|g| g.len() == 4 && g.bytes().all(|c| ALPHABET.contains(&c))));
    }

    #[test]
    fn a_new_password_is_checked_field_by_field() {
        let policy = PasswordPolicy::default();
        let ok = PasswordChange { current: "old one", new: "Violet-Harbour-27", confirm: "Violet-Harbour-27" };
        assert!(check_new_password(&ok, "alice", &policy).is_ok());
        let bad = PasswordChange { current: "x", new: "password123", confirm: "password124" };
        let errs = check_new_password(&bad, "alice", &policy).err().map(|e| e.0).unwrap_or_default();
        let fields: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert!(fields.contains(&("new_password", "too_short")));
        assert!(fields.contains(&("new_password", "common")));
        assert!(fields.contains(&("confirm_password", "mismatch")));
        let same =
            PasswordChange { current: "Violet-Harbour-27", new: "Violet-Harbour-27", confirm: "Violet-Harbour-27" };
        let errs = check_new_password(&same, "alice", &policy).err().map(|e| e.0).unwrap_or_default();
        assert_eq!(errs.first().map(|e| e.code.as_str()), Some("unchanged"));
    }
}
