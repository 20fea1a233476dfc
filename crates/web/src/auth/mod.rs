//! Who is asking: every request passes [`resolve_actor`], which turns a session cookie or an API token
//! into an [`Actor`] carrying the grants it holds. Handlers take the actor as an extractor and ask it
//! for permission; nothing else in the web layer reads cookies or tokens.

pub mod accounts;
pub mod config;
pub mod csrf;
pub mod gate;
pub mod grants;
pub mod login;
pub mod session;
pub mod totp;

use crate::error::ApiError;
use crate::i18n::Message;
use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use dangjian_domain::access::{self, Action, Grant};
use dangjian_security::token::hash_token;
use dangjian_store::accounts::Holder;
use dangjian_store::audit::AuditEntry;
use std::sync::{Arc, Mutex};

/// The session cookie. `__Host-` binds it to this host and path `/` with `Secure`; over plain HTTP
/// (the local demo) the cookie is named without the prefix.
pub const SESSION_COOKIE: &str = "dj_session";

/// The time the server goes by; tests replace it to step over timeouts.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to (tests).
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|t| *t).unwrap_or_else(|_| Utc::now())
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// Who is behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User {
        id: i64,
        username: String,
    },
    Token {
        id: i64,
        name: String,
    },
    /// The operator of the command line on the server's host (`cli:<user>`). They hold the database
    /// itself, so every permission is theirs; no request is ever one ([`resolve_actor`] makes users
    /// and tokens only).
    Operator {
        name: String,
    },
}

/// The live session a request came with.
#[derive(Debug, Clone)]
pub struct SessionRef {
    pub id_hash: String,
    pub csrf_token: String,
    /// Password accepted, second factor still to come: only the second-factor page is open.
    pub awaiting_second_factor: bool,
    /// A one-off or expired password: only the password page is open until it is changed.
    pub password_change_required: bool,
}

/// The requester, their grants, and what the audit log needs to know about the request.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub principal: Option<Principal>,
    pub grants: Vec<Grant>,
    pub session: Option<SessionRef>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The operator of a command-line command, as the audit log names them (`cli:<user>`).
    pub fn operator(name: impl Into<String>) -> Self {
        Self { principal: Some(Principal::Operator { name: name.into() }), ..Default::default() }
    }

    /// The command line's operator (see [`Principal::Operator`]).
    pub fn is_operator(&self) -> bool {
        matches!(self.principal, Some(Principal::Operator { .. }))
    }

    /// A fully signed-in user or a valid token (not one still owing a second factor or a new password).
    pub fn is_authenticated(&self) -> bool {
        self.principal.is_some()
            && !self.session.as_ref().is_some_and(|s| s.awaiting_second_factor || s.password_change_required)
    }

    /// The user of a session past its second factor, even one that still has to change its password:
    /// who may use the password page.
    pub fn session_user_id(&self) -> Option<i64> {
        match (&self.principal, &self.session) {
            (Some(Principal::User { id, .. }), Some(s)) if !s.awaiting_second_factor => Some(*id),
            _ => None,
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        match self.principal {
            Some(Principal::User { id, .. }) => Some(id),
            _ => None,
        }
    }

    /// The name the audit log records.
    pub fn name(&self) -> String {
        match &self.principal {
            Some(Principal::User { username, .. }) => username.clone(),
            Some(Principal::Token { name, .. }) => format!("token:{name}"),
            Some(Principal::Operator { name }) => name.clone(),
            None => "anonymous".to_owned(),
        }
    }

    /// Whether any grant allows an action that concerns no particular record.
    pub fn may(&self, action: Action) -> bool {
        self.is_operator() || (self.is_authenticated() && access::may(&self.grants, action))
    }

    /// The scopes in which the actor may perform `action` (empty: none).
    pub fn scopes_for(&self, action: Action) -> Vec<access::Scope> {
        if !self.is_authenticated() {
            return Vec::new();
        }
        access::scopes_for(&self.grants, action).into_iter().cloned().collect()
    }

    /// A record for the audit log about this request.
    pub fn audit(
        &self,
        action: &str,
        object_type: Option<&str>,
        object_id: Option<String>,
        outcome: &str,
    ) -> AuditEntry {
        let (actor_user_id, actor_token_id) = match &self.principal {
            Some(Principal::User { id, .. }) => (Some(*id), None),
            Some(Principal::Token { id, .. }) => (None, Some(*id)),
            Some(Principal::Operator { .. }) | None => (None, None),
        };
        AuditEntry {
            actor: self.name(),
            actor_user_id,
            actor_token_id,
            client_ip: self.client_ip.clone(),
            action: action.to_owned(),
            object_type: object_type.map(str::to_owned),
            object_id,
            outcome: outcome.to_owned(),
            request_id: self.request_id.clone(),
            detail: None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Actor>().cloned().unwrap_or_default())
    }
}

fn cookie_value(parts: &axum::http::HeaderMap, name: &str) -> Option<String> {
    parts.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        c.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
    })
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// Resolves the actor of every request (see the module docs). A bad API token is refused outright;
/// an expired or revoked session simply makes the request anonymous.
pub async fn resolve_actor(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let client_ip =
        req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut actor = Actor { client_ip, request_id, ..Default::default() };
    let store = &state.store;
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_owned);
    if let Some(token) = bearer {
        let found = store.use_token(&hash_token(&token)).await?;
        let Some(t) = found else {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", Message::new("api.token_invalid")));
        };
        actor.grants = store.grants_of(Holder::Token(t.id)).await?.into_iter().map(|g| g.grant).collect();
        actor.principal = Some(Principal::Token { id: t.id, name: t.name });
    } else if let Some(cookie) = cookie_value(req.headers(), SESSION_COOKIE) {
        let id_hash = hash_token(&cookie);
        let session = store.session(&id_hash).await?;
        let now = state.clock.now();
        let config = state.security_config().await;
        if let Some(s) = session.filter(|s| s.revoked_at.is_none()) {
            let absolute_ok = parse_time(&s.absolute_expires_at).is_some_and(|t| now < t);
            let last_seen = parse_time(&s.last_seen_at);
            let idle_ok = last_seen.is_some_and(|t| now - t < config.idle_timeout());
            let user =
                if absolute_ok && idle_ok { store.user(s.user_id).await.ok().filter(|u| !u.disabled) } else { None };
            match user {
                Some(u) => {
                    if last_seen.is_some_and(|t| now - t > chrono::Duration::seconds(60)) {
                        store
                            .touch_session_at(&id_hash, &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                            .await?;
                    }
                    let password_change_required = login::password_change_required(&u, &config, now);
                    if s.second_factor_done && !password_change_required {
                        actor.grants =
                            store.grants_of(Holder::User(u.id)).await?.into_iter().map(|g| g.grant).collect();
                    }
                    actor.principal = Some(Principal::User { id: u.id, username: u.username });
                    actor.session = Some(SessionRef {
                        id_hash,
                        csrf_token: s.csrf_token,
                        awaiting_second_factor: !s.second_factor_done,
                        password_change_required,
                    });
                }
                None => {
                    // Timed out: end it for good, so that it cannot be revived.
                    store.revoke_session(&id_hash).await?;
                }
            }
        }
    }
    req.extensions_mut().insert(actor);
    Ok(next.run(req).await)
}
