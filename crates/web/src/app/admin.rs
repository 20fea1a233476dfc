//! The three administrators' work on accounts, API tokens and the audit log's use (MLPS 2.0 /
//! GB/T 22239-2019 8.1.4.2: separation of the system, security and audit administrators): the
//! commands behind the `/admin/…` pages and `dangjian user`. An administrators' page is opened
//! through [`require`] (a refusal audited); each change is audited once it is made, about the
//! account (`user` `<id>`) or token (`token` `<id>`) it changed.

use super::permission::{self, Object};
use super::{AppResult, Ctx};
use crate::auth::accounts;
use dangjian_domain::access::Action;
use dangjian_security::token::NewApiToken;
use dangjian_store::accounts::{ApiToken, User};

/// May the actor use an administrators' page serving one of `any_of` (two administrators may see
/// the accounts)? A refusal is audited as `audit_action`.
pub async fn require(cx: &Ctx, any_of: &[Action], audit_action: &str) -> AppResult<()> {
    permission::require_any(&cx.state, &cx.actor, any_of, audit_action).await
}

/// An administrator's change the actor may make (decided under `action`, a refusal audited as
/// `audit_action`), waiting for its input; audited under the same name once made.
#[must_use]
pub struct AdminChange {
    pub(super) cx: Ctx,
    audit_action: &'static str,
}

impl AdminChange {
    pub(super) async fn begin(cx: &Ctx, action: Action, audit_action: &'static str) -> AppResult<Self> {
        require(cx, &[action], audit_action).await?;
        Ok(Self { cx: cx.clone(), audit_action })
    }

    /// Audits the change, made (`ok`) or refused by a rule past the permission (`denied`).
    pub(super) async fn audit(&self, object: Object, outcome: &str, detail: Option<String>) {
        permission::audit(&self.cx.state, &self.cx.actor, self.audit_action, Some(object), outcome, detail).await;
    }
}

fn user(id: i64) -> Object {
    Object::new("user", id)
}

/// May the actor create accounts? (A refusal is audited as `user.create`.)
pub async fn begin_create_user(cx: &Ctx) -> AppResult<CreatingUser> {
    Ok(CreatingUser(AdminChange::begin(cx, Action::ManageAccounts, "user.create").await?))
}

/// A permitted account creation, waiting for the name.
#[must_use]
pub struct CreatingUser(AdminChange);

impl CreatingUser {
    /// Creates the account with a one-off password (changed at first sign-in); answers the account
    /// and the password, to be shown once. Audited `user.create` with the username.
    pub async fn save(self, username: &str, display_name: &str) -> AppResult<(User, String)> {
        let s = &self.0.cx.state;
        let config = s.security_config().await;
        let (created, password) =
            accounts::create_with_one_off_password(&s.store, &config, username, display_name).await?;
        self.0.audit(user(created.id), "ok", Some(created.username.clone())).await;
        Ok((created, password))
    }
}

/// What an administrator does to an account from its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserVerb {
    /// Disable it (its sessions end at once).
    Disable,
    Enable,
    /// A new one-off password, shown once; its sessions end.
    ResetPassword,
    EndSessions,
    /// Clear the failed sign-ins that locked it (the security administrator).
    Unlock,
}

impl UserVerb {
    fn permission(self) -> (Action, &'static str) {
        match self {
            Self::Disable => (Action::ManageAccounts, "user.disable"),
            Self::Enable => (Action::ManageAccounts, "user.enable"),
            Self::ResetPassword => (Action::ManageAccounts, "user.reset_password"),
            Self::EndSessions => (Action::ManageAccounts, "user.end_sessions"),
            Self::Unlock => (Action::ManageGrants, "user.unlock"),
        }
    }
}

/// May the actor `verb` account `id`? (A refusal is audited as `user.<verb>`.)
pub async fn begin_user_change(cx: &Ctx, id: i64, verb: UserVerb) -> AppResult<UserChange> {
    let (action, audit_action) = verb.permission();
    Ok(UserChange { change: AdminChange::begin(cx, action, audit_action).await?, id, verb })
}

/// A permitted change of an account.
#[must_use]
pub struct UserChange {
    change: AdminChange,
    id: i64,
    verb: UserVerb,
}

impl UserChange {
    /// Makes the change; a password reset answers the account and its one-off password.
    pub async fn run(self) -> AppResult<Option<(User, String)>> {
        let (s, id) = (&self.change.cx.state, self.id);
        let (detail, shown) = match self.verb {
            UserVerb::Disable | UserVerb::Enable => {
                s.store.set_user_disabled(id, self.verb == UserVerb::Disable).await?;
                (None, None)
            }
            UserVerb::ResetPassword => {
                let account = s.store.user(id).await?;
                let config = s.security_config().await;
                let password = accounts::reset_with_one_off_password(&s.store, &config, id).await?;
                (None, Some((account, password)))
            }
            UserVerb::EndSessions => {
                s.store.user(id).await?;
                let n = s.store.revoke_user_sessions(id).await?;
                (Some(format!("sessions={n}")), None)
            }
            UserVerb::Unlock => {
                s.store.user(id).await?;
                s.store.clear_login_failures(id).await?;
                (None, None)
            }
        };
        self.change.audit(user(id), "ok", detail).await;
        Ok(shown)
    }
}

/// May the actor create API tokens? (A refusal is audited as `token.create`.)
pub async fn begin_create_token(cx: &Ctx) -> AppResult<CreatingToken> {
    Ok(CreatingToken(AdminChange::begin(cx, Action::ManageTokens, "token.create").await?))
}

/// A permitted token creation, waiting for the name.
#[must_use]
pub struct CreatingToken(AdminChange);

impl CreatingToken {
    /// Creates the token; answers it and its secret, to be shown once (only its SM3 hash is kept).
    /// Audited `token.create` with its name and the secret's display prefix.
    pub async fn save(self, name: &str) -> AppResult<(ApiToken, String)> {
        let cx = &self.0.cx;
        let fresh = NewApiToken::generate();
        let token = cx.state.store.create_token(name, fresh.hash(), cx.actor.user_id()).await?;
        let detail = Some(format!("name={} prefix={}", token.name, fresh.display_prefix()));
        self.0.audit(Object::new("token", token.id), "ok", detail).await;
        Ok((token, fresh.secret().to_owned()))
    }
}

/// May the actor revoke token `id`? (A refusal is audited as `token.revoke`.)
pub async fn begin_revoke_token(cx: &Ctx, id: i64) -> AppResult<RevokingToken> {
    Ok(RevokingToken { change: AdminChange::begin(cx, Action::ManageTokens, "token.revoke").await?, id })
}

/// A permitted token revocation.
#[must_use]
pub struct RevokingToken {
    change: AdminChange,
    id: i64,
}

impl RevokingToken {
    /// Revokes the token: it opens nothing from now on.
    pub async fn run(self) -> AppResult<ApiToken> {
        let token = self.change.cx.state.store.revoke_token(self.id).await?;
        self.change.audit(Object::new("token", self.id), "ok", Some(format!("name={}", token.name))).await;
        Ok(token)
    }
}

/// May the actor change the security settings? (A refusal is audited as `settings.update`.)
pub async fn begin_security_settings(cx: &Ctx) -> AppResult<SettingsChange> {
    Ok(SettingsChange(AdminChange::begin(cx, Action::ManageGrants, "settings.update").await?))
}

/// A permitted change of the security settings, waiting for the values.
#[must_use]
pub struct SettingsChange(AdminChange);

impl SettingsChange {
    /// Stores each of `values` (checked against their bounds) that differs from `before`, and puts the
    /// settings in force; audited `settings.update` about `settings` `security` with what changed (a
    /// change of nothing is not recorded).
    pub async fn save(
        self,
        values: &[(&'static str, String)],
        before: &std::collections::BTreeMap<&'static str, String>,
    ) -> AppResult<()> {
        let cx = &self.0.cx;
        let mut changed = Vec::new();
        for (key, value) in values {
            if before.get(key) != Some(value) {
                cx.state.store.set_setting(key, value, cx.actor.user_id()).await?;
                changed.push(format!("{key}={value}"));
            }
        }
        cx.state.reload_security_config().await;
        if !changed.is_empty() {
            self.0.audit(Object::new("settings", "security"), "ok", Some(changed.join(" "))).await;
        }
        Ok(())
    }
}
