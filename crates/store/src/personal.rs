//! Personal data at rest (PIPL Art. 51; GB/T 22239-2019 8.1.4.8 confidentiality of important data;
//! GB/T 39786-2021): every column in [`ENCRYPTED_FIELDS`] holds the field cipher's text
//! (`v1.<algorithm>.<key>.<data>`, see [`dangjian_security::field_cipher`]) bound to its column by the
//! associated data, and — where exact lookup is needed — a blind index beside it. The keys live outside
//! the database ([`Store::with_keys`]).
//!
//! Two maintenance jobs run over the same list of columns:
//! - [`Store::protect_legacy_plaintext`] encrypts values left in plain text from before encryption, in one
//!   transaction (run at start-up by [`Store::migrate`] when the store has keys);
//! - [`Store::rotate_field_keys`] re-encrypts values written under an older key or algorithm, a batch per
//!   transaction, so that the server keeps serving while it runs (`dangjian keys rotate`).

use crate::error::{StoreError, StoreResult};
use crate::Store;
use dangjian_domain::Message;
use dangjian_domain::Mobile;
use dangjian_security::field_cipher::Keyring;
use dangjian_security::masking::mask_mobile;
use sqlx::Row;

/// Rows re-encrypted per transaction by [`Store::rotate_field_keys`].
pub const ROTATION_BATCH: usize = 500;

/// What stored values start with once encrypted.
const CIPHERTEXT_PREFIX: &str = "v1.";

/// One encrypted column.
#[derive(Debug, Clone, Copy)]
pub struct EncryptedField {
    pub table: &'static str,
    pub column: &'static str,
    /// The blind-index column kept beside it, if any.
    pub index_column: Option<&'static str>,
    /// The associated data every value of the column is encrypted with: `table.column`, followed by
    /// `:<row id>` when [`EncryptedField::aad_per_row`] (a value copied onto another row does not decrypt).
    pub aad: &'static str,
    pub aad_per_row: bool,
    /// The canonical form a legacy plain-text value is encrypted and indexed in.
    canonical: fn(&str) -> String,
}

/// Instructors' mobile numbers: `instructors.mobile` with its blind index `instructors.mobile_idx`.
pub const INSTRUCTOR_MOBILE: EncryptedField = EncryptedField {
    table: "instructors",
    column: "mobile",
    index_column: Some("mobile_idx"),
    aad: "instructors.mobile",
    aad_per_row: false,
    canonical: canonical_mobile,
};

/// Users' TOTP secrets, sealed by the web layer to their own account (`users.totp_secret:<id>`).
pub const USER_TOTP_SECRET: EncryptedField = EncryptedField {
    table: "users",
    column: "totp_secret",
    index_column: None,
    aad: "users.totp_secret",
    aad_per_row: true,
    canonical: canonical_secret,
};

/// A case worker's contact details, bound to their case (`cases.contact:<id>`).
pub const CASE_CONTACT: EncryptedField = EncryptedField {
    table: "cases",
    column: "contact",
    index_column: None,
    aad: "cases.contact",
    aad_per_row: true,
    canonical: canonical_secret,
};

/// Every encrypted column (ID numbers join when members do).
pub const ENCRYPTED_FIELDS: &[EncryptedField] = &[INSTRUCTOR_MOBILE, USER_TOTP_SECRET, CASE_CONTACT];

/// A TOTP secret (base32) or a case contact is stored as given, trimmed.
fn canonical_secret(value: &str) -> String {
    value.trim().to_owned()
}

/// The associated data of `field` in row `id`.
fn aad_of(field: &EncryptedField, id: Option<i64>) -> std::borrow::Cow<'static, str> {
    match (field.aad_per_row, id) {
        (true, Some(id)) => format!("{}:{id}", field.aad).into(),
        _ => field.aad.into(),
    }
}

/// How much of a record's personal data leaves the store: masked (`138****1234`) for everyone, in full
/// only for actors whose role may read personal data (`Action::ReadPersonal`), each such read audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    Masked,
    Full,
}

/// The canonical mobile number (`13812341234`), or the trimmed text when it does not parse.
fn canonical_mobile(value: &str) -> String {
    Mobile::parse(value).map(|m| m.as_str().to_owned()).unwrap_or_else(|_| value.trim().to_owned())
}

/// The masked form of a mobile number: `138****1234`; text that is not a number is masked the same way.
pub fn masked_mobile(plain: &str) -> String {
    Mobile::parse(plain).map(|m| m.masked()).unwrap_or_else(|_| mask_mobile(plain))
}

/// Whether a stored value is already the field cipher's text.
pub fn is_ciphertext(stored: &str) -> bool {
    stored.starts_with(CIPHERTEXT_PREFIX)
}

fn cipher_error(
    field: &EncryptedField,
    id: Option<i64>,
) -> impl FnOnce(dangjian_security::field_cipher::FieldCipherError) -> StoreError {
    let record = match id {
        Some(id) => format!("{}#{id}", field.table),
        None => format!("a new row of {}", field.table),
    };
    move |source| StoreError::FieldCipher { record, source }
}

/// A value ready to be written: the ciphertext and its blind index.
#[derive(Debug, Clone)]
pub(crate) struct Sealed {
    pub stored: String,
    pub index: String,
}

/// Encrypts `plain` for `field` (row `id` when known, for error messages) and computes its blind index.
pub(crate) fn seal(keys: &Keyring, field: &EncryptedField, id: Option<i64>, plain: &str) -> StoreResult<Sealed> {
    let stored = keys.encrypt(plain, &aad_of(field, id)).map_err(cipher_error(field, id))?;
    Ok(Sealed { stored, index: keys.blind_index(plain) })
}

/// An instructor's mobile number as stored: the ciphertext for `instructors.mobile` and the blind index
/// for `instructors.mobile_idx`. For writers that bypass [`Store`]'s instructor paths (bulk loads).
pub fn seal_instructor_mobile(keys: &Keyring, plain: &str) -> StoreResult<(String, String)> {
    let sealed = seal(keys, &INSTRUCTOR_MOBILE, None, plain)?;
    Ok((sealed.stored, sealed.index))
}

/// Decrypts a stored value of `field` in row `id`.
pub(crate) fn open(keys: &Keyring, field: &EncryptedField, id: i64, stored: &str) -> StoreResult<String> {
    keys.decrypt(stored, &aad_of(field, Some(id))).map_err(cipher_error(field, Some(id)))
}

impl Store {
    /// Encrypts, in place and in one transaction, every value of an encrypted column that is still plain
    /// text (written before encryption), and fills any missing blind index. Returns how many rows changed;
    /// running it again changes nothing.
    pub async fn protect_legacy_plaintext(&self, keys: &Keyring) -> StoreResult<u64> {
        let mut changed = 0;
        let mut tx = self.write_tx().await?;
        for field in ENCRYPTED_FIELDS {
            let (table, column) = (field.table, field.column);
            let mut sql =
                format!("SELECT id, {column} AS v FROM {table} WHERE {column} NOT LIKE '{CIPHERTEXT_PREFIX}%'");
            if let Some(idx) = field.index_column {
                sql.push_str(&format!(" OR ({column} IS NOT NULL AND {idx} IS NULL)"));
            }
            let rows = sqlx::query(&sql).fetch_all(&mut *tx.tx).await?;
            for row in rows {
                let id: i64 = row.try_get("id")?;
                let Some(value) = row.try_get::<Option<String>, _>("v")? else { continue };
                let plain =
                    if is_ciphertext(&value) { open(keys, field, id, &value)? } else { (field.canonical)(&value) };
                let sealed = seal(keys, field, Some(id), &plain)?;
                let stored = if is_ciphertext(&value) { value } else { sealed.stored };
                let n = match field.index_column {
                    Some(idx) => sqlx::query(&format!("UPDATE {table} SET {column} = $1, {idx} = $2 WHERE id = $3"))
                        .bind(stored)
                        .bind(sealed.index)
                        .bind(id)
                        .execute(&mut *tx.tx)
                        .await?
                        .rows_affected(),
                    None => sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
                        .bind(stored)
                        .bind(id)
                        .execute(&mut *tx.tx)
                        .await?
                        .rows_affected(),
                };
                changed += n;
            }
        }
        tx.commit().await?;
        if changed > 0 {
            tracing::info!(rows = changed, "encrypted personal data left in plain text");
        }
        Ok(changed)
    }

    /// `dangjian keys rotate`: re-encrypts with `keys`' active key and algorithm every stored value written
    /// under another one ([`Keyring::needs_rotation`]), [`ROTATION_BATCH`] rows per transaction, so that
    /// the server keeps serving meanwhile. Returns how many values were re-encrypted; a second run returns 0.
    ///
    /// `keys` must still hold every key the stored values name (a removed key makes its values unreadable:
    /// the run stops with [`StoreError::FieldCipher`] naming the row). Blind indexes do not change, since the
    /// index key is not rotated; a keyring whose index key does not match the stored indexes is refused.
    /// Plain text left from before encryption is protected first ([`Store::protect_legacy_plaintext`]).
    /// A row changed by the server while a batch runs keeps the server's value (compare-and-set); such a
    /// value, if still under an old key, is picked up by the next run.
    ///
    /// Order of work for no downtime: give the running server the new keyring (old keys kept, new key
    /// active) and restart it, then run this; afterwards old keys can be retired from the key file.
    pub async fn rotate_field_keys(&self, keys: &Keyring) -> StoreResult<u64> {
        self.rotate_field_keys_in_batches(keys, ROTATION_BATCH).await
    }

    /// [`Store::rotate_field_keys`] with `batch` rows per transaction (at least 1).
    pub async fn rotate_field_keys_in_batches(&self, keys: &Keyring, batch: usize) -> StoreResult<u64> {
        self.protect_legacy_plaintext(keys).await?;
        let mut total = 0;
        for field in ENCRYPTED_FIELDS {
            total += self.rotate_field(keys, field, batch.max(1)).await?;
        }
        if total > 0 {
            tracing::info!(values = total, key = keys.active_key_id(), "re-encrypted personal data");
        }
        Ok(total)
    }

    /// How many stored values `keys` would re-encrypt ([`Store::rotate_field_keys`]): for a progress report
    /// or a check that a rotation finished.
    pub async fn count_values_needing_rotation(&self, keys: &Keyring) -> StoreResult<u64> {
        let mut n = 0;
        for field in ENCRYPTED_FIELDS {
            let rows = sqlx::query(&format!("SELECT {} AS v FROM {}", field.column, field.table))
                .fetch_all(&self.pool)
                .await?;
            for row in rows {
                if row.try_get::<Option<String>, _>("v")?.is_some_and(|v| keys.needs_rotation(&v)) {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    async fn rotate_field(&self, keys: &Keyring, field: &EncryptedField, batch: usize) -> StoreResult<u64> {
        let (table, column) = (field.table, field.column);
        let select_idx = field.index_column.map(|i| format!(", {i} AS idx")).unwrap_or_default();
        let select =
            format!("SELECT id, {column} AS v{select_idx} FROM {table} WHERE id > $1 ORDER BY id LIMIT {batch}");
        let update = format!("UPDATE {table} SET {column} = $1 WHERE id = $2 AND {column} = $3");
        let mut after = i64::MIN;
        let mut rotated = 0;
        loop {
            let rows = sqlx::query(&select).bind(after).fetch_all(&self.pool).await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id")?;
            let mut changes = Vec::new();
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                let Some(old) = row.try_get::<Option<String>, _>("v")?.filter(|v| keys.needs_rotation(v)) else {
                    continue;
                };
                // Bytes, not text: a TOTP secret is raw bytes.
                let aad = aad_of(field, Some(id));
                let plain = keys.decrypt_bytes(&old, &aad).map_err(cipher_error(field, Some(id)))?;
                if field.index_column.is_some() {
                    let stored_index: Option<String> = row.try_get("idx")?;
                    let text = String::from_utf8_lossy(&plain);
                    if stored_index.as_deref() != Some(keys.blind_index(&text).as_str()) {
                        return Err(StoreError::Conflict {
                            code: "index_key_mismatch",
                            message: Message::new("conflict.index_key_mismatch")
                                .arg("table", table)
                                .arg("id", id)
                                .arg("v3", keys.index_key_id()),
                        });
                    }
                }
                changes.push((id, old, keys.encrypt_bytes(&plain, &aad).map_err(cipher_error(field, Some(id)))?));
            }
            if changes.is_empty() {
                continue;
            }
            let mut tx = self.write_tx().await?;
            for (id, old, new) in changes {
                rotated +=
                    sqlx::query(&update).bind(new).bind(id).bind(old).execute(&mut *tx.tx).await?.rows_affected();
            }
            tx.commit().await?;
        }
        Ok(rotated)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn legacy_values_are_canonicalized_before_encryption() {
        assert_eq!(canonical_mobile(" 138-1234-1234 "), "13812341234");
        assert_eq!(canonical_mobile("+86 13812341234"), "13812341234");
        assert_eq!(canonical_mobile(" not a number "), "not a number");
    }

    #[test]
    fn masking_never_shows_the_middle() {
        assert_eq!(masked_mobile("13812341234"), "138****1234");
        assert_eq!(masked_mobile("garbage-text"), "gar*****text");
    }

    #[test]
    fn ciphertext_is_recognized_by_its_version() {
        let keys = Keyring::generate();
        let sealed = seal(&keys, &INSTRUCTOR_MOBILE, None, "13812341234").unwrap();
        assert!(is_ciphertext(&sealed.stored));
        assert!(!is_ciphertext("13812341234"));
        assert_eq!(sealed.index, keys.blind_index("13812341234"));
        assert_eq!(open(&keys, &INSTRUCTOR_MOBILE, 1, &sealed.stored).ok().as_deref(), Some("13812341234"));
    }

    #[test]
    fn a_totp_secret_is_bound_to_its_account() {
        let keys = Keyring::generate();
        let sealed = seal(&keys, &USER_TOTP_SECRET, Some(3), "JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(keys.decrypt(&sealed.stored, "users.totp_secret:3").ok().as_deref(), Some("JBSWY3DPEHPK3PXP"));
        assert!(open(&keys, &USER_TOTP_SECRET, 4, &sealed.stored).is_err());
    }

    #[test]
    fn a_value_moved_to_another_column_does_not_decrypt() {
        let keys = Keyring::generate();
        let other = EncryptedField { aad: "members.id_number", ..INSTRUCTOR_MOBILE };
        let sealed = seal(&keys, &INSTRUCTOR_MOBILE, Some(1), "13812341234").unwrap();
        match open(&keys, &other, 7, &sealed.stored) {
            Err(StoreError::FieldCipher { record, .. }) => assert_eq!(record, "instructors#7"),
            other => panic!("{other:?}"),
        }
    }
}
