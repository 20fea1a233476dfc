//! TOTP secrets at rest: encrypted with the personal-data keyring (never stored in the clear), bound
//! to their user by the associated data `users.totp_secret:<id>`, so a secret copied onto another
//! account does not decrypt. `dangjian keys rotate` must re-encrypt this column with the same AAD.

use crate::AppState;
use dangjian_security::field_cipher::Keyring;
use dangjian_security::totp::{self, TotpSecret};
use dangjian_store::accounts::User;
use dangjian_store::{StoreError, StoreResult};
use serde::Serialize;

/// The associated data of a user's encrypted TOTP secret.
pub fn aad(user_id: i64) -> String {
    format!("users.totp_secret:{user_id}")
}

fn cipher_error(user_id: i64, source: dangjian_security::field_cipher::FieldCipherError) -> StoreError {
    StoreError::FieldCipher { record: format!("user {user_id} (TOTP secret)"), source }
}

/// Encrypts a secret for storing on `user_id`.
pub fn seal(keys: &Keyring, user_id: i64, secret: &TotpSecret) -> StoreResult<String> {
    keys.encrypt_bytes(secret.as_bytes(), &aad(user_id)).map_err(|e| cipher_error(user_id, e))
}

/// The user's secret (pending or enabled), if one is stored.
pub fn open(keys: &Keyring, user: &User) -> StoreResult<Option<TotpSecret>> {
    let Some(stored) = user.totp_secret.as_deref() else { return Ok(None) };
    let bytes = keys.decrypt_bytes(stored, &aad(user.id)).map_err(|e| cipher_error(user.id, e))?;
    match TotpSecret::from_bytes(&bytes) {
        Ok(s) => Ok(Some(s)),
        Err(_) => Ok(None),
    }
}

/// The secret an enrolment shows: the pending one if the user already started enrolling (so a
/// reload does not invalidate a scanned code), else a new one, stored pending (not yet enabled).
pub async fn pending_secret(state: &AppState, user: &User) -> StoreResult<TotpSecret> {
    if !user.totp_enabled {
        if let Some(s) = open(&state.keys, user)? {
            return Ok(s);
        }
    }
    let secret = TotpSecret::generate();
    state.store.set_totp(user.id, Some(&seal(&state.keys, user.id, &secret)?), false).await?;
    Ok(secret)
}

/// What an enrolment page shows: the QR code as inline SVG markup (no script, so the CSP holds) and
/// the same secret as text for manual entry.
#[derive(Debug, Serialize)]
pub struct EnrolmentView {
    pub qr_svg: String,
    pub secret: String,
}

pub fn enrolment_view(secret: &TotpSecret, username: &str) -> Result<EnrolmentView, totp::TotpError> {
    let e = totp::enrolment(secret, username)?;
    let grouped: Vec<String> =
        e.secret_base32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    Ok(EnrolmentView { qr_svg: e.qr_svg.to_string(), secret: grouped.join(" ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_user() {
        let keys = Keyring::generate();
        let secret = TotpSecret::generate();
        let sealed = seal(&keys, 7, &secret).unwrap_or_default();
        let user = |id| User {
            id,
            username: "u".into(),
            display_name: "U".into(),
            password_hash: String::new(),
            password_changed_at: String::new(),
            must_change_password: false,
            totp_secret: Some(sealed.clone()),
            totp_enabled: true,
            totp_last_step: None,
            failed_logins: 0,
            locked_until: None,
            disabled: false,
            version: 1,
            created_at: String::new(),
        };
        let opened = open(&keys, &user(7)).ok().flatten().map(|s| s.as_bytes().to_vec());
        assert_eq!(opened.as_deref(), Some(secret.as_bytes()));
        assert!(open(&keys, &user(8)).is_err(), "a secret moved to another account must not decrypt");
    }

    #[test]
    fn enrolment_shows_an_inline_svg_without_script() {
        let view = enrolment_view(&TotpSecret::generate(), "alice");
        let view = view.ok();
        assert!(view.as_ref().is_some_and(|v| v.qr_svg.starts_with("<svg") && !v.qr_svg.contains("<script")));
        assert!(view.is_some_and(|v| v.secret.split(' ').all(|g| g.len() <= 4)));
    }
}
