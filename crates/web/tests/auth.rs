//! Signing in, sessions, CSRF and the second factor, over HTTP against the real app on SQLite (and
//! PostgreSQL when DANGJIAN_TEST_PG is set). Time is a `ManualClock`: timeouts and lockouts are
//! stepped over, never slept through. Each test also checks the audit records it should leave.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_security::field_cipher::Keyring;
use dangjian_security::password::hash_password;
use dangjian_security::totp::{code_at, TotpSecret};
use dangjian_store::accounts::Holder;
use dangjian_store::audit::{AuditFilter, AuditRecord};
use dangjian_store::testing::{all_backends, TestDb};
use dangjian_store::{Paging, Store};
use dangjian_web::auth::ManualClock;
use dangjian_web::rate_limit::{Quota, RateLimitConfig};
use dangjian_web::{app, AppState};
use reqwest::StatusCode;
use std::collections::BTreeMap;
use std::sync::Arc;

const PASSWORD: &str = "a long and uncommon passphrase 2026";

struct App {
    base: String,
    store: Store,
    state: AppState,
    clock: Arc<ManualClock>,
    db: TestDb,
}

async fn apps() -> Vec<App> {
    let mut out = Vec::new();
    for db in all_backends().await {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let loose = Quota::per_minute(100_000);
        let state = AppState::with_clock(db.store.clone(), Keyring::generate(), clock.clone())
            .with_rate_limits(RateLimitConfig { login: loose, anonymous: loose, public: loose, ..Default::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
        });
        out.push(App { base: format!("http://{addr}"), store: state.store.clone(), state, clock, db });
    }
    out
}

fn root() -> Scope {
    Scope::Region { path: "/".into() }
}

fn cadre() -> Grant {
    Grant { role: Role::DepartmentCadre, scope: root() }
}

impl App {
    async fn user(&self, name: &str, grants: &[Grant]) -> i64 {
        let hash = tokio::task::spawn_blocking(|| hash_password(PASSWORD).unwrap()).await.unwrap();
        let u = self.store.create_user(name, name, &hash, false).await.unwrap();
        for g in grants {
            self.store.add_grant(Holder::User(u.id), g, None).await.unwrap();
        }
        u.id
    }

    /// An administrator with an enrolled second factor; returns the id and the secret.
    async fn admin(&self, name: &str, role: Role) -> (i64, TotpSecret) {
        let id = self.user(name, &[Grant { role, scope: root() }]).await;
        let secret = TotpSecret::generate();
        let sealed = dangjian_web::auth::totp::seal(&self.state.keys, id, &secret).unwrap();
        self.store.set_totp(id, Some(&sealed), true).await.unwrap();
        (id, secret)
    }

    fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            jar: BTreeMap::new(),
        }
    }

    fn code(&self, secret: &TotpSecret) -> String {
        code_at(secret, self.clock.now_unix())
    }

    async fn audit(&self, action: &str) -> Vec<AuditRecord> {
        let f = AuditFilter { action: Some(action.into()), ..Default::default() };
        let page = self.store.search_audit(&f, Paging::new(Some(1), Some(500))).await.unwrap();
        page.items.into_iter().filter(|r| r.action == action).collect()
    }

    /// A signed-in administrator (password, then the TOTP code of the moment).
    async fn admin_browser(&self, name: &str, secret: &TotpSecret) -> Browser {
        let mut b = self.browser();
        let r = b.login(name, PASSWORD).await;
        assert_eq!(r.location.as_deref(), Some("/login/totp"));
        let r = b.totp(&self.code(secret)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        b
    }
}

trait NowUnix {
    fn now_unix(&self) -> u64;
}

impl NowUnix for ManualClock {
    fn now_unix(&self) -> u64 {
        use dangjian_web::auth::Clock;
        u64::try_from(self.now().timestamp()).unwrap()
    }
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

/// A browser with its own cookie jar (so a test can also plant or keep old cookies).
struct Browser {
    base: String,
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
}

/// The CSRF token in a page's forms.
fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn session(&self) -> Option<String> {
        self.jar.get("dj_session").cloned()
    }

    async fn take(&mut self, r: reqwest::Response) -> Page {
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            assert!(attrs.contains("HttpOnly") && attrs.contains("SameSite=Strict") && attrs.contains("Path=/"), "{c}");
            if attrs.contains("Max-Age=0") {
                self.jar.remove(k);
            } else {
                self.jar.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = r.status();
        let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        Page { status, location, body: r.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Page {
        let r =
            self.http.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.take(r).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.take(r).await
    }

    /// Posts a form with the CSRF token of the page at `from`.
    async fn submit(&mut self, from: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let page = self.get(from).await;
        assert_eq!(page.status, StatusCode::OK, "{from}: {}", page.body);
        let token = csrf_in(&page.body);
        let mut fields = form.to_vec();
        fields.push(("csrf_token", &token));
        self.post(path, &fields).await
    }

    async fn login(&mut self, username: &str, password: &str) -> Page {
        self.submit("/login", "/login", &[("username", username), ("password", password)]).await
    }

    async fn totp(&mut self, code: &str) -> Page {
        self.submit("/login/totp", "/login/totp", &[("code", code)]).await
    }
}

#[tokio::test]
async fn pages_send_strangers_to_the_login_page_and_the_api_answers_401() {
    for a in apps().await {
        let mut b = a.browser();
        let r = b.get("/entities?kind=site").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location.as_deref(), Some("/login?next=%2Fentities%3Fkind%3Dsite"));
        let r = b.get("/api/v1/entities").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("\"unauthenticated\""), "{}", r.body);
        assert_eq!(b.get("/login").await.status, StatusCode::OK);
        assert!(b.jar.contains_key("dj_csrf"), "the login form's double-submit cookie");
        // Where the login page leads back to: only a local path.
        a.user("dora", &[cadre()]).await;
        let page = b.get("/login?next=%2Fregions").await;
        let token = csrf_in(&page.body);
        let r = b
            .post(
                "/login",
                &[("username", "dora"), ("password", PASSWORD), ("next", "/regions"), ("csrf_token", &token)],
            )
            .await;
        assert_eq!(r.location.as_deref(), Some("/regions"));
        let mut c = a.browser();
        let page = c.get("/login").await;
        let token = csrf_in(&page.body);
        let r = c
            .post(
                "/login",
                &[("username", "dora"), ("password", PASSWORD), ("next", "//evil.example/"), ("csrf_token", &token)],
            )
            .await;
        assert_eq!(r.location.as_deref(), Some("/"));
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn lockout_after_five_failures_and_unlock_after_fifteen_minutes_or_by_a_security_admin() {
    for a in apps().await {
        let carol = a.user("carol", &[cadre()]).await;
        let (_, sec_secret) = a.admin("sec", Role::SecurityAdmin).await;
        let mut b = a.browser();
        for _ in 0..5 {
            let r = b.login("carol", "wrong password, quite long").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert!(r.body.contains("data-testid=\"login-problem\""));
        }
        assert_eq!(a.audit("account_locked").await.len(), 1);
        assert_eq!(a.audit("login_failed").await.len(), 5);
        // Locked: even the right password is refused, with the same message.
        let r = b.login("carol", PASSWORD).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(a.audit("login_failed").await.iter().any(|r| r.detail.as_deref() == Some("locked")));
        a.clock.advance(Duration::minutes(14));
        assert_eq!(b.login("carol", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        a.clock.advance(Duration::minutes(1));
        let r = b.login("carol", PASSWORD).await;
        assert_eq!((r.status, r.location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
        assert_eq!(a.store.user(carol).await.unwrap().failed_logins, 0);

        // Locked again; the security administrator unlocks.
        let mut b = a.browser();
        for _ in 0..5 {
            b.login("carol", "wrong password, quite long").await;
        }
        assert_eq!(b.login("carol", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        let mut sec = a.admin_browser("sec", &sec_secret).await;
        let page = sec.get(&format!("/admin/users/{carol}")).await;
        assert!(page.body.contains("data-testid=\"unlock\""), "{}", page.body);
        let r = sec.submit(&format!("/admin/users/{carol}"), &format!("/admin/users/{carol}/unlock"), &[]).await;
        assert_eq!(r.location, Some(format!("/admin/users/{carol}?done=unlocked")));
        assert_eq!(b.login("carol", PASSWORD).await.status, StatusCode::SEE_OTHER);
        let unlocks = a.audit("user.unlock").await;
        assert_eq!((unlocks.len(), unlocks[0].actor.as_str()), (1, "sec"));
        // Unknown accounts are refused like wrong passwords, and audited.
        assert_eq!(a.browser().login("nobody", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        assert!(a.audit("login_failed").await.iter().any(|r| r.detail.as_deref() == Some("unknown_user")));
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn sessions_end_after_31_idle_minutes_and_after_12_hours_however_active() {
    for a in apps().await {
        a.user("ida", &[cadre()]).await;
        let mut b = a.browser();
        assert_eq!(b.login("ida", PASSWORD).await.status, StatusCode::SEE_OTHER);
        a.clock.advance(Duration::minutes(29));
        assert_eq!(b.get("/account").await.status, StatusCode::OK);
        a.clock.advance(Duration::minutes(31));
        let r = b.get("/account").await;
        assert_eq!((r.status, r.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login?next=%2Faccount")));

        let mut b = a.browser();
        assert_eq!(b.login("ida", PASSWORD).await.status, StatusCode::SEE_OTHER);
        for step in 1..=71 {
            a.clock.advance(Duration::minutes(10));
            assert_eq!(b.get("/account").await.status, StatusCode::OK, "after {} minutes", step * 10);
        }
        a.clock.advance(Duration::minutes(10));
        let r = b.get("/account").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "12 hours after signing in");
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn signing_in_never_keeps_a_session_id_from_before() {
    for a in apps().await {
        a.user("fay", &[cadre()]).await;
        let (_, secret) = a.admin("sysop", Role::SystemAdmin).await;
        // A planted cookie is replaced.
        let mut b = a.browser();
        b.jar.insert("dj_session".into(), "planted-by-someone-else".into());
        assert_eq!(b.login("fay", PASSWORD).await.status, StatusCode::SEE_OTHER);
        let first = b.session().unwrap();
        assert_ne!(first, "planted-by-someone-else");
        // Signing in again from a signed-in browser gives a new id and ends the old one.
        assert_eq!(b.get("/login").await.location.as_deref(), Some("/"), "signed in: no login page");
        let r = b.submit("/account", "/login", &[("username", "fay"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let second = b.session().unwrap();
        assert_ne!(first, second);
        let mut old = a.browser();
        old.jar.insert("dj_session".into(), first);
        assert_eq!(old.get("/account").await.status, StatusCode::SEE_OTHER);
        // The half-open session of the password step is not the one after the second factor.
        let mut s = a.browser();
        s.login("sysop", PASSWORD).await;
        let half = s.session().unwrap();
        assert_eq!(s.get("/account").await.location.as_deref(), Some("/login/totp"));
        assert_eq!(s.totp(&a.code(&secret)).await.status, StatusCode::SEE_OTHER);
        let full = s.session().unwrap();
        assert_ne!(half, full);
        assert_eq!(s.get("/account").await.status, StatusCode::OK);
        let mut replay = a.browser();
        replay.jar.insert("dj_session".into(), half);
        assert_eq!(replay.get("/account").await.location.as_deref(), Some("/login?next=%2Faccount"));
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    for a in apps().await {
        let gus = a.user("gus", &[cadre()]).await;
        let (_, secret) = a.admin("sysop", Role::SystemAdmin).await;
        let mut b = a.browser();
        b.login("gus", PASSWORD).await;
        let change = [
            ("current_password", PASSWORD),
            ("new_password", "an entirely new passphrase"),
            ("confirm_password", "an entirely new passphrase"),
        ];
        let before = a.store.user(gus).await.unwrap().password_hash;
        let r = b.post("/account/password", &change).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("data-testid=\"error-message\""));
        let mut wrong = change.to_vec();
        wrong.push(("csrf_token", "not-the-token"));
        assert_eq!(b.post("/account/password", &wrong).await.status, StatusCode::FORBIDDEN);
        assert_eq!(a.store.user(gus).await.unwrap().password_hash, before, "nothing changed");
        assert!(a.audit("password.change").await.is_empty());
        // Signing out needs the token too.
        assert_eq!(b.post("/logout", &[]).await.status, StatusCode::FORBIDDEN);
        assert_eq!(b.get("/account").await.status, StatusCode::OK, "still signed in");
        // An administrator's action.
        let mut sys = a.admin_browser("sysop", &secret).await;
        let r = sys.post(&format!("/admin/users/{gus}/disable"), &[("csrf_token", "forged")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!a.store.user(gus).await.unwrap().disabled);
        // The login form: the hidden field must match the double-submit cookie.
        let mut c = a.browser();
        c.get("/login").await;
        let r = c.post("/login", &[("username", "gus"), ("password", PASSWORD), ("csrf_token", "guess")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(c.session().is_none());
        let logins = a.audit("login").await.len();
        let mut d = a.browser();
        let r = d.post("/login", &[("username", "gus"), ("password", PASSWORD), ("csrf_token", "")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(a.audit("login").await.len(), logins);
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn administrators_sign_in_with_a_totp_code_that_cannot_be_replayed() {
    for a in apps().await {
        let (sec, secret) = a.admin("sec", Role::SecurityAdmin).await;
        let mut b = a.browser();
        let r = b.login("sec", PASSWORD).await;
        assert_eq!(r.location.as_deref(), Some("/login/totp"));
        assert_eq!(b.get("/admin/settings").await.location.as_deref(), Some("/login/totp"));
        assert_eq!(b.get("/api/v1/entities").await.status, StatusCode::UNAUTHORIZED);
        let r = b.totp("000000").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let code = a.code(&secret);
        let r = b.totp(&code).await;
        assert_eq!(r.location.as_deref(), Some("/admin/users"), "an administrator lands on their page");
        assert_eq!(b.get("/admin/settings").await.status, StatusCode::OK);
        let r = b.submit("/admin/settings", "/logout", &[]).await;
        assert_eq!(r.location.as_deref(), Some("/login"));

        // The same code again, within its 30 seconds: refused.
        let mut c = a.browser();
        c.login("sec", PASSWORD).await;
        let r = c.totp(&code).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("data-testid=\"totp-problem\""));
        a.clock.advance(Duration::seconds(30));
        assert_eq!(c.totp(&a.code(&secret)).await.status, StatusCode::SEE_OTHER);

        let failed = a.audit("login_failed").await;
        let reasons: Vec<&str> = failed.iter().filter_map(|r| r.detail.as_deref()).collect();
        assert!(reasons.contains(&"bad_code") && reasons.contains(&"replayed_code"), "{reasons:?}");
        let logins = a.audit("login").await;
        assert_eq!(logins.len(), 2);
        assert!(logins.iter().all(|r| r.actor_user_id == Some(sec) && r.detail.as_deref() == Some("password+totp")));
        assert_eq!(a.audit("login.password").await.len(), 2);
        assert_eq!(a.audit("logout").await.len(), 1);
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn an_administrator_without_a_second_factor_enrols_on_the_way_in() {
    for a in apps().await {
        let id = a.user("newadmin", &[Grant { role: Role::AuditAdmin, scope: root() }]).await;
        let mut b = a.browser();
        assert_eq!(b.login("newadmin", PASSWORD).await.location.as_deref(), Some("/login/totp"));
        let page = b.get("/login/totp").await;
        assert!(page.body.contains("data-testid=\"totp-qr\"><svg"), "{}", page.body);
        let marker = "data-testid=\"totp-secret\">";
        let at = page.body.find(marker).unwrap() + marker.len();
        let text = page.body[at..].split('<').next().unwrap();
        let secret = TotpSecret::from_base32(text).unwrap();
        // A reload shows the same secret (the one already scanned stays valid).
        assert!(b.get("/login/totp").await.body.contains(text));
        assert!(!a.store.user(id).await.unwrap().totp_enabled);
        let code = a.code(&secret);
        let token = csrf_in(&b.get("/login/totp").await.body);
        let r = b.post("/login/totp", &[("code", &code), ("csrf_token", &token)]).await;
        assert_eq!(r.location.as_deref(), Some("/admin/audit"));
        assert!(a.store.user(id).await.unwrap().totp_enabled);
        assert_eq!(b.get("/admin/audit").await.status, StatusCode::OK);
        assert_eq!(a.audit("totp.enable").await.len(), 1);
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn logout_and_an_administrators_revocation_take_effect_on_the_next_request() {
    for a in apps().await {
        let hal = a.user("hal", &[cadre()]).await;
        let (_, secret) = a.admin("sysop", Role::SystemAdmin).await;
        let mut b = a.browser();
        b.login("hal", PASSWORD).await;
        let kept = b.session().unwrap();
        let r = b.submit("/account", "/logout", &[]).await;
        assert_eq!(r.location.as_deref(), Some("/login"));
        assert!(b.session().is_none(), "the cookie is cleared");
        let mut old = a.browser();
        old.jar.insert("dj_session".into(), kept);
        assert_eq!(old.get("/account").await.status, StatusCode::SEE_OTHER);
        assert_eq!(a.audit("logout").await.len(), 1);

        // Disabled by the system administrator: out at once.
        let mut b = a.browser();
        b.login("hal", PASSWORD).await;
        assert_eq!(b.get("/account").await.status, StatusCode::OK);
        let mut sys = a.admin_browser("sysop", &secret).await;
        let r = sys.submit(&format!("/admin/users/{hal}"), &format!("/admin/users/{hal}/disable"), &[]).await;
        assert_eq!(r.location, Some(format!("/admin/users/{hal}?done=disabled")));
        assert_eq!(b.get("/account").await.status, StatusCode::SEE_OTHER);
        assert_eq!(b.login("hal", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        sys.submit(&format!("/admin/users/{hal}"), &format!("/admin/users/{hal}/enable"), &[]).await;

        // All sessions ended by the system administrator.
        let mut b = a.browser();
        assert_eq!(b.login("hal", PASSWORD).await.status, StatusCode::SEE_OTHER);
        sys.submit(&format!("/admin/users/{hal}"), &format!("/admin/users/{hal}/end-sessions"), &[]).await;
        assert_eq!(b.get("/account").await.status, StatusCode::SEE_OTHER);
        for action in ["user.disable", "user.enable", "user.end_sessions"] {
            let recs = a.audit(action).await;
            assert_eq!(recs.len(), 1, "{action}");
            assert_eq!((recs[0].actor.as_str(), recs[0].object_id.clone()), ("sysop", Some(hal.to_string())));
        }
        // Ending one's own session from the account page.
        let mut b = a.browser();
        b.login("hal", PASSWORD).await;
        let mut other = a.browser();
        other.login("hal", PASSWORD).await;
        let page = b.get("/account").await;
        let rows = page.body.matches("name=\"session\"").count();
        assert_eq!(rows, 2, "both live sessions are listed");
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn a_one_off_password_must_be_changed_before_anything_else() {
    for a in apps().await {
        let (_, secret) = a.admin("sysop", Role::SystemAdmin).await;
        let mut sys = a.admin_browser("sysop", &secret).await;
        let r =
            sys.submit("/admin/users", "/admin/users", &[("username", "Ivy.Chen"), ("display_name", "陈艾薇")]).await;
        assert_eq!(r.status, StatusCode::OK);
        let marker = "data-testid=\"one-off-password\">";
        let at = r.body.find(marker).unwrap() + marker.len();
        let one_off = r.body[at..].split('<').next().unwrap().to_owned();
        assert_eq!(one_off.len(), 19);
        let created = a.audit("user.create").await;
        assert_eq!((created.len(), created[0].actor.as_str()), (1, "sysop"));
        assert!(!created[0].detail.clone().unwrap_or_default().contains(&one_off), "the password is never logged");
        let ivy = a.store.user_by_username("ivy.chen").await.unwrap().unwrap();
        assert!(ivy.must_change_password);

        let mut b = a.browser();
        let r = b.login("ivy.chen", &one_off).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(b.get("/entities").await.location.as_deref(), Some("/account/password"));
        assert_eq!(b.get("/account").await.location.as_deref(), Some("/account/password"));
        assert_eq!(b.get("/api/v1/entities").await.status, StatusCode::UNAUTHORIZED);
        let page = b.get("/account/password").await;
        assert!(page.body.contains("data-testid=\"password-forced\""));
        // The policy, field by field, in the page's language.
        let weak = [
            ("current_password", one_off.as_str()),
            ("new_password", "password123"),
            ("confirm_password", "password123"),
        ];
        let r = b.submit("/account/password", "/account/password", &weak).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("id=\"e-new_password\""), "{}", r.body);
        assert!(r.body.contains("常见密码"));
        let before = b.session().unwrap();
        let good = [
            ("current_password", one_off.as_str()),
            ("new_password", "violet harbour at dawn"),
            ("confirm_password", "violet harbour at dawn"),
        ];
        let r = b.submit("/account/password", "/account/password", &good).await;
        assert_eq!(r.location.as_deref(), Some("/account?done=password_changed"));
        assert_ne!(b.session().unwrap(), before, "a new session after the change");
        assert_eq!(b.get("/account").await.status, StatusCode::OK);
        assert!(!a.store.user(ivy.id).await.unwrap().must_change_password);
        let changes = a.audit("password.change").await;
        let outcomes: Vec<&str> = changes.iter().map(|r| r.outcome.as_str()).collect();
        assert_eq!(outcomes, ["ok", "failed"], "newest first");
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn an_expired_password_must_be_changed_before_anything_else() {
    for a in apps().await {
        a.user("lee", &[cadre()]).await;
        a.store.set_setting("password_max_age_days", "90", None).await.unwrap();
        a.state.reload_security_config().await;
        let mut b = a.browser();
        b.login("lee", PASSWORD).await;
        assert_eq!(b.get("/account").await.status, StatusCode::OK, "changed today");
        a.clock.advance(Duration::days(91));
        let mut b = a.browser();
        assert_eq!(b.login("lee", PASSWORD).await.status, StatusCode::SEE_OTHER);
        assert_eq!(b.get("/regions").await.location.as_deref(), Some("/account/password"));
        let page = b.get("/account/password").await;
        assert!(page.body.contains("data-testid=\"password-forced\""));
        a.db.cleanup().await;
    }
}

#[tokio::test]
async fn administrators_manage_tokens_grants_settings_and_read_the_audit_log() {
    for a in apps().await {
        let (_, sys_secret) = a.admin("sysop", Role::SystemAdmin).await;
        let (sec_id, sec_secret) = a.admin("sec", Role::SecurityAdmin).await;
        let (_, aud_secret) = a.admin("aud", Role::AuditAdmin).await;
        let jo = a.user("joe", &[]).await;
        let mut sys = a.admin_browser("sysop", &sys_secret).await;
        let mut sec = a.admin_browser("sec", &sec_secret).await;
        let mut aud = a.admin_browser("aud", &aud_secret).await;

        // The three administrators are apart.
        assert_eq!(sys.get("/admin/settings").await.status, StatusCode::FORBIDDEN);
        assert_eq!(sys.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
        assert_eq!(sec.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
        assert_eq!(aud.get("/admin/users").await.status, StatusCode::FORBIDDEN);

        // A token: shown once, stored hashed, usable, revocable.
        let r = sys.submit("/admin/tokens", "/admin/tokens", &[("token_name", "HQ push")]).await;
        let marker = "data-testid=\"token-secret\">";
        let at = r.body.find(marker).unwrap() + marker.len();
        let secret = r.body[at..].split('<').next().unwrap().to_owned();
        assert!(secret.starts_with("dj_"));
        let token = a.store.list_tokens().await.unwrap().pop().unwrap();
        let api = |t: String| {
            let base = a.base.clone();
            async move {
                reqwest::Client::new()
                    .get(format!("{base}/api/v1/regions"))
                    .bearer_auth(t)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_ne!(api(secret.clone()).await, StatusCode::UNAUTHORIZED, "the token is accepted");
        assert!(a.store.token(token.id).await.unwrap().last_used_at.is_some());

        // Grants: the security administrator, with the store's and the separation rules.
        let page = format!("/admin/users/{jo}");
        let add = format!("/admin/users/{jo}/grants");
        let r =
            sec.submit(&page, &add, &[("role", "regulator"), ("scope_kind", "region"), ("scope_code", "110105")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a regulator's scope is a sector in a region");
        assert!(r.body.contains("id=\"e-scope_code\"") && r.body.contains("不能授予该类型的范围"), "{}", r.body);
        let r = sec
            .submit(&page, &add, &[("role", "department_cadre"), ("scope_kind", "region"), ("scope_code", "999999")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = sec
            .submit(&page, &add, &[("role", "department_cadre"), ("scope_kind", "region"), ("scope_code", "110105")])
            .await;
        assert_eq!(r.location, Some(format!("/admin/users/{jo}?done=granted")));
        let held = a.store.grants_of(Holder::User(jo)).await.unwrap();
        assert_eq!(held[0].grant.scope, Scope::Region { path: "/11/1101/110105/".into() });
        let r =
            sec.submit(&page, &add, &[("role", "system_admin"), ("scope_kind", "region"), ("scope_code", "/")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "administrators stand alone");
        let own = format!("/admin/users/{sec_id}");
        let r = sec
            .submit(
                &own,
                &format!("{own}/grants"),
                &[("role", "department_cadre"), ("scope_kind", "region"), ("scope_code", "/")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no one grants themselves");
        let r =
            sec.submit(&page, &format!("/admin/grants/{}/remove", held[0].id), &[("user_id", &jo.to_string())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(a.store.grants_of(Holder::User(jo)).await.unwrap().is_empty());

        // Settings, with a reload.
        let settings = [
            ("lockout_threshold", "3"),
            ("lockout_minutes", "15"),
            ("idle_timeout_minutes", "30"),
            ("absolute_timeout_hours", "12"),
            ("audit_retention_days", "180"),
        ];
        let r = sec.submit("/admin/settings", "/admin/settings", &settings).await;
        assert_eq!(r.location.as_deref(), Some("/admin/settings?done=saved"));
        assert_eq!(a.state.security_config().await.lockout_threshold, 3);
        let mut bad = settings.to_vec();
        bad[0] = ("lockout_threshold", "0");
        assert_eq!(
            sec.submit("/admin/settings", "/admin/settings", &bad).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );

        // Revoking the token takes effect at once.
        sys.submit(&format!("/admin/tokens/{}", token.id), &format!("/admin/tokens/{}/revoke", token.id), &[]).await;
        assert_eq!(api(secret).await, StatusCode::UNAUTHORIZED);

        // The audit administrator searches, exports and verifies.
        let page = aud.get("/admin/audit?action=grant.").await;
        assert!(page.body.contains("grant.add") && page.body.contains("grant.remove"));
        assert!(!page.body.contains(">token.create<"));
        let csv = aud.get("/admin/audit/export?format=csv&action=token.").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.contains("token.create") && csv.body.contains("token.revoke"));
        assert!(!csv.body.contains("dj_") || csv.body.contains("prefix=dj_"), "only the token's prefix is logged");
        let xlsx = aud.get("/admin/audit/export?format=xlsx").await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert!(xlsx.body.starts_with("PK"), "an XLSX (zip) file");
        let r = aud.submit("/admin/audit", "/admin/audit/verify", &[]).await;
        assert!(r.body.contains("data-testid=\"verify-ok\""), "{}", r.body);
        for action in [
            "token.create",
            "token.revoke",
            "grant.add",
            "grant.remove",
            "settings.update",
            "audit.export",
            "audit.verify",
        ] {
            assert!(!a.audit(action).await.is_empty(), "{action} is audited");
        }
        assert!(a.audit("grant.add").await.iter().any(|r| r.outcome == "denied"));
        a.db.cleanup().await;
    }
}

/// Texts that would be catalogue keys showing through (`admin.users`) in a text node or attribute.
fn raw_keys(body: &str) -> Vec<String> {
    const PREFIXES: [&str; 15] = [
        "account.",
        "admin.",
        "audit.",
        "field.",
        "hint.",
        "login.",
        "nav.",
        "outcome.",
        "password.",
        "role.",
        "scope.",
        "scope_kind.",
        "setting.",
        "setting_hint.",
        "totp.",
    ];
    let mut found = Vec::new();
    for p in PREFIXES {
        for lead in ['>', '"'] {
            let needle = format!("{lead}{p}");
            if let Some(at) = body.find(&needle) {
                found.push(body[at..].chars().take(40).collect());
            }
        }
    }
    found
}

#[tokio::test]
async fn every_account_and_administration_page_renders_in_both_languages() {
    for a in apps().await {
        let (sys_id, sys_secret) = a.admin("sysop", Role::SystemAdmin).await;
        let (_, sec_secret) = a.admin("sec", Role::SecurityAdmin).await;
        let (_, aud_secret) = a.admin("aud", Role::AuditAdmin).await;
        let kim = a.user("kim", &[cadre()]).await;
        let token = a.store.create_token("feed", &dangjian_security::token::hash_token("x"), None).await.unwrap();
        let mut pages: Vec<(Browser, Vec<String>)> = vec![
            (
                a.admin_browser("sysop", &sys_secret).await,
                vec![
                    "/account".into(),
                    "/account/password".into(),
                    "/admin/users".into(),
                    format!("/admin/users/{kim}"),
                    "/admin/tokens".into(),
                    format!("/admin/tokens/{}", token.id),
                ],
            ),
            (
                a.admin_browser("sec", &sec_secret).await,
                vec![
                    "/admin/users".into(),
                    format!("/admin/users/{sys_id}"),
                    format!("/admin/tokens/{}", token.id),
                    "/admin/settings".into(),
                ],
            ),
            (
                a.admin_browser("aud", &aud_secret).await,
                vec!["/admin/audit".into(), "/admin/audit?outcome=failed&from=2026-01-01".into()],
            ),
        ];
        let mut kim_browser = a.browser();
        kim_browser.login("kim", PASSWORD).await;
        pages.push((kim_browser, vec!["/account".into(), "/account/totp".into()]));
        for (b, paths) in &mut pages {
            for lang in ["zh-CN", "en"] {
                b.jar.insert("lang".into(), lang.into());
                for path in paths.iter() {
                    let page = b.get(path).await;
                    assert_eq!(page.status, StatusCode::OK, "{path} ({lang})");
                    assert!(page.body.contains(&format!("<html lang=\"{lang}\"")), "{path}");
                    // The audit table shows action names (`login.password`) as data.
                    let body = match (page.body.find("<table data-testid=\"audit\">"), page.body.rfind("</table>")) {
                        (Some(start), Some(end)) if start < end => {
                            format!("{}{}", &page.body[..start], &page.body[end..])
                        }
                        _ => page.body.clone(),
                    };
                    let raw = raw_keys(&body);
                    assert!(raw.is_empty(), "{path} ({lang}) shows catalogue keys: {raw:?}");
                }
            }
        }
        let mut anon = a.browser();
        for lang in ["zh-CN", "en"] {
            anon.jar.insert("lang".into(), lang.into());
            let page = anon.get("/login").await;
            assert!(raw_keys(&page.body).is_empty(), "/login ({lang})");
        }
        a.db.cleanup().await;
    }
}
