//! Shared by the web suites: the real app on a random port, and principals made directly in the store —
//! a user holding some grants with a signed-in session (cookie and CSRF token), or an API token holding
//! some grants — so that a test acts as a given role without going through the login form.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod phone;

use chrono::Utc;
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_security::token::{generate_session_id, hash_token, NewApiToken};
use dangjian_store::accounts::Holder;
use dangjian_store::Store;
use dangjian_web::auth::SESSION_COOKIE;
use dangjian_web::{app, AppState};

/// The password of every user made here (long and uncommon enough for the password policy).
pub const PASSWORD: &str = "correct horse battery staple 2026";

/// A user signed in through a session made in the store.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: i64,
    pub username: String,
    /// The session id, as the `dj_session` cookie carries it.
    pub session: String,
    /// The session's CSRF token, for the `csrf_token` field of every form.
    pub csrf: String,
}

impl SignedIn {
    /// The `Cookie` header value of the session.
    pub fn cookie(&self) -> String {
        format!("{SESSION_COOKIE}={}", self.session)
    }

    /// The `Cookie` header value of the session with the language chosen.
    pub fn cookie_with_lang(&self, lang: &str) -> String {
        format!("{SESSION_COOKIE}={}; lang={lang}", self.session)
    }
}

/// A nationwide department cadre: reads and writes the whole registry.
pub fn nationwide_cadre() -> Vec<Grant> {
    vec![Grant { role: Role::DepartmentCadre, scope: Scope::Region { path: "/".into() } }]
}

/// A nationwide department cadre who is also the system administrator (reference data).
pub fn nationwide_cadre_and_admin() -> Vec<Grant> {
    let mut g = nationwide_cadre();
    g.push(Grant { role: Role::SystemAdmin, scope: Scope::Region { path: "/".into() } });
    g
}

/// The argon2id hash of [`PASSWORD`], computed once per test process (hashing is slow on purpose).
fn password_hash() -> &'static str {
    static HASH: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| dangjian_security::password::hash_password(PASSWORD).unwrap());
    &HASH
}

/// A user `username` holding `grants`, with a password ([`PASSWORD`]) but no second factor.
pub async fn user_with_grants(store: &Store, username: &str, grants: &[Grant]) -> i64 {
    let hash = tokio::task::spawn_blocking(password_hash).await.unwrap();
    let user = store.create_user(username, username, hash, false).await.unwrap();
    for g in grants {
        store.add_grant(Holder::User(user.id), g, None).await.unwrap();
    }
    user.id
}

/// A fresh signed-in session of user `user_id` (second factor done).
pub async fn session_of(store: &Store, user_id: i64, username: &str) -> SignedIn {
    session_at(store, user_id, username, Utc::now()).await
}

/// A fresh signed-in session of user `user_id` started at `now` (for apps on a manual clock).
pub async fn session_at(store: &Store, user_id: i64, username: &str, now: chrono::DateTime<Utc>) -> SignedIn {
    let session = generate_session_id();
    let csrf = generate_session_id();
    let text = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    store
        .create_session(
            &hash_token(&session),
            user_id,
            &csrf,
            &text(now + chrono::Duration::hours(12)),
            true,
            None,
            &text(now),
        )
        .await
        .unwrap();
    SignedIn { user_id, username: username.to_owned(), session, csrf }
}

/// A user holding `grants`, signed in.
pub async fn sign_in_as(store: &Store, username: &str, grants: &[Grant]) -> SignedIn {
    let id = user_with_grants(store, username, grants).await;
    session_of(store, id, username).await
}

/// An API token holding `grants`; returns the secret for `Authorization: Bearer`.
pub async fn token_with_grants(store: &Store, name: &str, grants: &[Grant]) -> String {
    let t = NewApiToken::generate();
    let token = store.create_token(name, t.hash(), None).await.unwrap();
    for g in grants {
        store.add_grant(Holder::Token(token.id), g, None).await.unwrap();
    }
    t.secret().to_owned()
}

/// Serves the real app over `store` on a random local port; returns its base URL.
pub async fn serve(store: Store) -> String {
    serve_state(AppState::new(store, dangjian_security::field_cipher::Keyring::generate())).await
}

/// Serves the real app with `state` on a random local port; returns its base URL. Coverage reads wait
/// up to 30 s for the index's first build (a loaded test machine can take longer than the server's 2 s;
/// `coverage_startup.rs` tests the 503 answered after that).
pub async fn serve_state(mut state: AppState) -> String {
    state.coverage = state.coverage.clone().with_build_patience(std::time::Duration::from_secs(30));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(state);
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    format!("http://{addr}")
}
