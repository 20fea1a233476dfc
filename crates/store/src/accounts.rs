//! Accounts, their grants, sessions, API tokens and security settings. Secrets arrive here already
//! hashed or encrypted (by `dangjian-security`); this module only keeps them.

use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::{now_text, Page, Paging, Store};
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_domain::FieldError;
use dangjian_domain::Message;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub password_changed_at: String,
    pub must_change_password: bool,
    /// Encrypted TOTP secret (never sent out).
    #[serde(skip)]
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    #[serde(skip)]
    pub totp_last_step: Option<i64>,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
    pub disabled: bool,
    pub version: i64,
    pub created_at: String,
}

const USER_COLUMNS: &str = "id, username, display_name, password_hash, password_changed_at, must_change_password, \
     totp_secret, totp_enabled, totp_last_step, failed_logins, locked_until, disabled, version, created_at";

fn user_from_row(r: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        password_changed_at: r.try_get("password_changed_at")?,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        totp_secret: r.try_get("totp_secret")?,
        totp_enabled: r.try_get::<i64, _>("totp_enabled")? != 0,
        totp_last_step: r.try_get("totp_last_step")?,
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get("locked_until")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A grant as stored, with its id and holder.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct StoredGrant {
    pub id: i64,
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
    #[serde(flatten)]
    pub grant: Grant,
    pub created_at: String,
}

fn grant_from_row(r: &AnyRow) -> StoreResult<StoredGrant> {
    let role: String = r.try_get("role")?;
    let scope_type: String = r.try_get("scope_type")?;
    let path: Option<String> = r.try_get("scope_path")?;
    let bad = |what: &str| StoreError::Db(sqlx::Error::Decode(format!("grant has no {what}").into()));
    let scope = match scope_type.as_str() {
        "region" => Scope::Region { path: path.ok_or_else(|| bad("path"))? },
        "chain" => Scope::Chain { root_id: r.try_get::<Option<i64>, _>("scope_root_id")?.ok_or_else(|| bad("root"))? },
        "sector_in_region" => Scope::SectorInRegion {
            sector: r.try_get::<Option<String>, _>("scope_sector")?.ok_or_else(|| bad("sector"))?,
            path: path.ok_or_else(|| bad("path"))?,
        },
        _ => Scope::Organization {
            org_id: r.try_get::<Option<i64>, _>("scope_org_id")?.ok_or_else(|| bad("organization"))?,
        },
    };
    Ok(StoredGrant {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        token_id: r.try_get("token_id")?,
        grant: Grant { role: Role::parse(&role).ok_or_else(|| bad("known role"))?, scope },
        created_at: r.try_get("created_at")?,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: i64,
    pub second_factor_done: bool,
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub absolute_expires_at: String,
    pub revoked_at: Option<String>,
    pub client_ip: Option<String>,
}

fn session_from_row(r: &AnyRow) -> StoreResult<Session> {
    Ok(Session {
        id_hash: r.try_get("id_hash")?,
        user_id: r.try_get("user_id")?,
        second_factor_done: r.try_get::<i64, _>("second_factor_done")? != 0,
        csrf_token: r.try_get("csrf_token")?,
        created_at: r.try_get("created_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        absolute_expires_at: r.try_get("absolute_expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        client_ip: r.try_get("client_ip")?,
    })
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Who holds a grant: a user or an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    User(i64),
    Token(i64),
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

impl Store {
    /// Adds an account; `password_hash` is an argon2id PHC string.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        must_change_password: bool,
    ) -> StoreResult<User> {
        let username = username.trim().to_lowercase();
        let ok = (3..=64).contains(&username.len())
            && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(
                FieldError::new("username", "invalid_username", Message::new("problem.invalid_username")).into()
            );
        }
        let display_name = dangjian_domain::entity::parse_required_text(Some(display_name), "display_name", 50)?;
        let now = now_text();
        let mut tx = self.write_tx().await?;
        let res = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, password_changed_at, must_change_password, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(password_hash.to_owned())
        .bind(now.clone())
        .bind(b(must_change_password))
        .bind(now.clone())
        .bind(now)
        .fetch_one(&mut *tx.tx)
        .await;
        let id: i64 = match res {
            Ok(row) => row.try_get("id")?,
            Err(e) if is_unique_violation(&e) => {
                return Err(
                    FieldError::new("username", "duplicate", Message::new("problem.duplicate.username_taken")).into()
                )
            }
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        self.user(id).await
    }

    pub async fn user(&self, id: i64) -> StoreResult<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    pub async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"))
            .bind(username.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn list_users(&self, paging: Paging) -> StoreResult<Page<User>> {
        let w = crate::query::Where::default();
        self.fetch_page(&format!("SELECT {USER_COLUMNS} FROM users"), "users", &w, "id", paging, user_from_row).await
    }

    /// Counts a failed login; locks the account for `lock_minutes` once `threshold` failures are reached.
    /// Returns the lock's end if the account is now locked.
    pub async fn record_login_failure(&self, id: i64, threshold: i64, lock_until: &str) -> StoreResult<Option<String>> {
        let mut tx = self.write_tx().await?;
        let row =
            sqlx::query("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
                .bind(id)
                .fetch_one(&mut *tx.tx)
                .await?;
        let failed: i64 = row.try_get("failed_logins")?;
        let locked = if failed >= threshold {
            sqlx::query("UPDATE users SET locked_until = $1, failed_logins = 0 WHERE id = $2")
                .bind(lock_until.to_owned())
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
            Some(lock_until.to_owned())
        } else {
            None
        };
        tx.commit().await?;
        Ok(locked)
    }

    /// Clears failure counts and any lock (a successful login, or an administrator's unlock).
    pub async fn clear_login_failures(&self, id: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    pub async fn set_password(&self, id: i64, password_hash: &str, must_change: bool) -> StoreResult<()> {
        let now = now_text();
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = $3, updated_at = $4, \
             version = version + 1 WHERE id = $5",
        )
        .bind(password_hash.to_owned())
        .bind(now.clone())
        .bind(b(must_change))
        .bind(now)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await
    }

    pub async fn set_user_disabled(&self, id: i64, disabled: bool) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2, version = version + 1 WHERE id = $3")
            .bind(b(disabled))
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now_text())
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.commit().await
    }

    /// Stores an (encrypted) TOTP secret; `enabled` turns the second factor on once verified.
    pub async fn set_totp(&self, id: i64, secret: Option<&str>, enabled: bool) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled = $2, totp_last_step = NULL, updated_at = $3 WHERE id = $4")
            .bind(secret.map(str::to_owned))
            .bind(b(enabled))
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    /// Records the TOTP time step just used; refuses (returns false) a step not newer than the last,
    /// so a code cannot be replayed.
    pub async fn use_totp_step(&self, id: i64, step: i64) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $3)",
        )
        .bind(step)
        .bind(id)
        .bind(step)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    pub async fn add_grant(&self, holder: Holder, grant: &Grant, created_by: Option<i64>) -> StoreResult<StoredGrant> {
        if !grant.role.fits_scope(&grant.scope) {
            return Err(FieldError::new(
                "scope",
                "scope_does_not_fit_role",
                Message::new("problem.scope_does_not_fit_role")
                    .arg("role", grant.role.as_str())
                    .arg_msg("role_name", Message::dynamic(format!("role.{}", grant.role.as_str()))),
            )
            .into());
        }
        let (user_id, token_id) = match holder {
            Holder::User(u) => (Some(u), None),
            Holder::Token(t) => (None, Some(t)),
        };
        let (ty, path, root, sector, org) = match &grant.scope {
            Scope::Region { path } => ("region", Some(path.clone()), None, None, None),
            Scope::Chain { root_id } => ("chain", None, Some(*root_id), None, None),
            Scope::SectorInRegion { sector, path } => {
                ("sector_in_region", Some(path.clone()), None, Some(sector.clone()), None)
            }
            Scope::Organization { org_id } => ("organization", None, None, None, Some(*org_id)),
        };
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO grants (user_id, token_id, role, scope_type, scope_path, scope_root_id, scope_sector, scope_org_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(user_id)
        .bind(token_id)
        .bind(grant.role.as_str())
        .bind(ty)
        .bind(path)
        .bind(root)
        .bind(sector)
        .bind(org)
        .bind(created_by)
        .bind(now_text())
        .fetch_one(&mut *tx.tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        tx.commit().await?;
        let row = sqlx::query("SELECT * FROM grants WHERE id = $1").bind(id).fetch_one(&self.pool).await?;
        grant_from_row(&row)
    }

    pub async fn grants_of(&self, holder: Holder) -> StoreResult<Vec<StoredGrant>> {
        let (col, id) = match holder {
            Holder::User(u) => ("user_id", u),
            Holder::Token(t) => ("token_id", t),
        };
        let rows = sqlx::query(&format!("SELECT * FROM grants WHERE {col} = $1 ORDER BY id"))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(grant_from_row).collect()
    }

    pub async fn remove_grant(&self, id: i64) -> StoreResult<StoredGrant> {
        let row = sqlx::query("SELECT * FROM grants WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        let g = row.as_ref().map(grant_from_row).transpose()?.ok_or(StoreError::NotFound)?;
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM grants WHERE id = $1").bind(id).execute(&mut *tx.tx).await?;
        tx.commit().await?;
        Ok(g)
    }

    /// Starts a session (the cookie value's hash is the key).
    #[expect(clippy::too_many_arguments, reason = "one column each; the web layer's `session::start` wraps it")]
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        absolute_expires_at: &str,
        second_factor_done: bool,
        client_ip: Option<&str>,
        now: &str,
    ) -> StoreResult<()> {
        let now = now.to_owned();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, second_factor_done, csrf_token, created_at, last_seen_at, absolute_expires_at, client_ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id_hash.to_owned())
        .bind(user_id)
        .bind(b(second_factor_done))
        .bind(csrf_token.to_owned())
        .bind(now.clone())
        .bind(now)
        .bind(absolute_expires_at.to_owned())
        .bind(client_ip.map(str::to_owned))
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    pub async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id_hash = $1")
            .bind(id_hash.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// A user's sessions that are not revoked, newest first (timeouts are the caller's to apply).
    pub async fn user_sessions(&self, user_id: i64) -> StoreResult<Vec<Session>> {
        let rows =
            sqlx::query("SELECT * FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Marks a session as seen at `at` (idle timeout counts from there).
    pub async fn touch_session_at(&self, id_hash: &str, at: &str) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(at.to_owned())
            .bind(id_hash.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn revoke_session(&self, id_hash: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(id_hash.to_owned())
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    /// Ends every session of a user at once (administrator revocation, password change).
    pub async fn revoke_user_sessions(&self, user_id: i64) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Records an API token by the hash of its secret; the secret itself is shown once and never stored.
    pub async fn create_token(&self, name: &str, token_hash: &str, created_by: Option<i64>) -> StoreResult<ApiToken> {
        let name = dangjian_domain::entity::parse_required_text(Some(name), "name", 100)?;
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (name, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(token_hash.to_owned())
        .bind(created_by)
        .bind(now_text())
        .fetch_one(&mut *tx.tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        tx.commit().await?;
        self.token(id).await
    }

    pub async fn token(&self, id: i64) -> StoreResult<ApiToken> {
        let row = sqlx::query("SELECT * FROM api_tokens WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(token_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    /// The live (unrevoked) token with this hash, marking it used now.
    pub async fn use_token(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        let row = sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        let Some(t) = row.as_ref().map(token_from_row).transpose()? else { return Ok(None) };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(t.id)
            .execute(&self.pool)
            .await?;
        Ok(Some(t))
    }

    pub async fn list_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT * FROM api_tokens ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(token_from_row).collect()
    }

    pub async fn revoke_token(&self, id: i64) -> StoreResult<ApiToken> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        if n == 0 {
            self.token(id).await?;
        }
        self.token(id).await
    }

    /// Security settings as stored (defaults apply for absent keys).
    pub async fn settings(&self) -> StoreResult<HashMap<String, String>> {
        let rows = sqlx::query("SELECT key, value FROM settings").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("key")?, r.try_get("value")?))).collect()
    }

    pub async fn set_setting(&self, key: &str, value: &str, by: Option<i64>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(key.to_owned())
        .bind(value.to_owned())
        .bind(now_text())
        .bind(by)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }
}

fn token_from_row(r: &AnyRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

impl Store {
    /// The id of the organization with this code (for scoping grants by organization code).
    pub async fn organization_id_by_code(&self, code: &str) -> StoreResult<Option<i64>> {
        let row = sqlx::query("SELECT id FROM organizations WHERE code = $1")
            .bind(code.trim().to_uppercase())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get::<i64, _>("id")).transpose().map_err(Into::into)
    }
}
