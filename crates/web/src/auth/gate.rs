//! The one place that keeps requests out until their sender has signed in completely: pages send
//! the browser to the login page (remembering where it was going), the API answers 401. A session
//! still owing its second factor may only reach the second-factor page, and one that must change its
//! password only the password page. What each signed-in actor may then do is the handlers' business
//! (`Actor::require…` and the scope checks).

use super::Actor;
use crate::error::ApiError;
use crate::i18n::Message;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Paths anyone may reach without signing in. Every other path needs a signed-in actor.
pub fn is_public(path: &str) -> bool {
    // The station finder and the case categories are for workers, who have no account (issue 5:
    // usable anonymously).
    const EXACT: &[&str] = &[
        "/login",
        "/logout",
        "/healthz",
        "/api/openapi.json",
        "/stations/near",
        "/api/v1/stations/nearest",
        "/api/v1/case-categories",
        "/report",
        "/track",
    ];
    // Open311 GeoReport v2 is for civic-reporting apps: public, filing needs a client's api_key.
    const PREFIXES: &[&str] = &["/login/", "/static/", "/lang/", crate::open311::PREFIX];
    EXACT.contains(&path) || PREFIXES.iter().any(|p| path.starts_with(p))
}

/// Requests anyone may make without signing in, by method: filing a needs/rights case, following one by
/// its tracking code, and adding to it, rating or reopening it there (workers have no account; issue 5).
/// Only these methods and paths: the handlers' inbox under `/api/v1/cases` stays behind the gate.
pub fn is_public_request(method: &Method, path: &str) -> bool {
    if is_public(path) {
        return true;
    }
    // The worker's tracking page: read, added to, rated or reopened with the code alone.
    if matches!(*method, Method::GET | Method::POST) && tracked_page(path).is_some() {
        return true;
    }
    match *method {
        Method::POST => {
            path == "/api/v1/cases"
                || tracked(path).and_then(|rest| rest.strip_suffix("/actions")).is_some_and(|code| !code.contains('/'))
        }
        Method::GET => tracked(path).is_some_and(|code| !code.contains('/')),
        _ => false,
    }
}

/// The tracking code of a worker's tracking page `/track/{code}`, if `path` is one.
fn tracked_page(path: &str) -> Option<&str> {
    path.strip_prefix("/track/").filter(|code| !code.is_empty() && !code.contains('/'))
}

/// What follows `/api/v1/cases/track/`, if anything does.
fn tracked(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/cases/track/").filter(|rest| !rest.is_empty() && !rest.starts_with('/'))
}

/// The page a signed-in user who must change their password may still use.
pub const PASSWORD_PAGE: &str = "/account/password";
/// The second-factor page.
pub const SECOND_FACTOR_PAGE: &str = "/login/totp";

/// How far the requester has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Anonymous,
    AwaitingSecondFactor,
    MustChangePassword,
    SignedIn,
}

impl Standing {
    pub fn of(actor: &Actor) -> Self {
        match (&actor.principal, &actor.session) {
            (None, _) => Self::Anonymous,
            (Some(_), Some(s)) if s.awaiting_second_factor => Self::AwaitingSecondFactor,
            (Some(_), Some(s)) if s.password_change_required => Self::MustChangePassword,
            (Some(_), _) => Self::SignedIn,
        }
    }
}

/// What the gate does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Pass,
    /// To the login page.
    Login,
    SecondFactor,
    ChangePassword,
    /// 401 JSON (the API).
    Unauthorized,
}

pub fn decide(path: &str, standing: Standing) -> Gate {
    if standing == Standing::SignedIn || is_public(path) {
        return Gate::Pass;
    }
    // `/` is the workers' front door for a visitor; someone half-way through signing in is sent on to
    // their next step as from any other page.
    if path == "/" && standing == Standing::Anonymous {
        return Gate::Pass;
    }
    if path == "/api" || path.starts_with("/api/") {
        return Gate::Unauthorized;
    }
    match standing {
        Standing::Anonymous => Gate::Login,
        Standing::AwaitingSecondFactor => Gate::SecondFactor,
        Standing::MustChangePassword if path == PASSWORD_PAGE => Gate::Pass,
        Standing::MustChangePassword => Gate::ChangePassword,
        Standing::SignedIn => Gate::Pass,
    }
}

/// `/login?next=…` for a page request; only a GET is worth coming back to.
pub fn login_url(method: &Method, path_and_query: &str) -> String {
    if method == Method::GET && path_and_query != "/" {
        let next = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", path_and_query).finish();
        format!("/login?{next}")
    } else {
        "/login".to_owned()
    }
}

/// The middleware (layered inside `resolve_actor`, which provides the actor).
pub async fn require_sign_in(req: Request, next: Next) -> Response {
    let standing = req.extensions().get::<Actor>().map(Standing::of).unwrap_or(Standing::Anonymous);
    let path = req.uri().path().to_owned();
    if is_public_request(req.method(), &path) {
        return next.run(req).await;
    }
    match decide(&path, standing) {
        Gate::Pass => next.run(req).await,
        Gate::Login => {
            let here = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| path.clone());
            Redirect::to(&login_url(req.method(), &here)).into_response()
        }
        Gate::SecondFactor => Redirect::to(SECOND_FACTOR_PAGE).into_response(),
        Gate::ChangePassword => Redirect::to(PASSWORD_PAGE).into_response(),
        Gate::Unauthorized => {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", Message::new("api.unauthenticated"))
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_requests_go_to_the_login_page_or_get_401() {
        use Standing::*;
        assert_eq!(decide("/entities", Anonymous), Gate::Login);
        assert_eq!(decide("/", Anonymous), Gate::Pass, "the workers' front door");
        assert_eq!(decide("/", AwaitingSecondFactor), Gate::SecondFactor);
        assert_eq!(decide("/", MustChangePassword), Gate::ChangePassword);
        assert_eq!(decide("/api/v1/entities", Anonymous), Gate::Unauthorized);
        for open in ["/login", "/login/totp", "/static/app.css", "/lang/en", "/healthz", "/logout", "/stations/near"] {
            assert_eq!(decide(open, Anonymous), Gate::Pass, "{open}");
        }
        assert_eq!(decide("/loginx", Anonymous), Gate::Login);
        assert_eq!(decide("/api/v1/stations/nearest", Anonymous), Gate::Pass);
        assert_eq!(decide("/api/v1/stations", Anonymous), Gate::Unauthorized);
        assert_eq!(decide("/stations", Anonymous), Gate::Login);
        assert_eq!(decide("/stations/near/x", Anonymous), Gate::Login);
        assert_eq!(decide("/entities", SignedIn), Gate::Pass);
    }

    #[test]
    fn workers_file_and_follow_cases_without_an_account() {
        assert!(is_public_request(&Method::POST, "/api/v1/cases"));
        assert!(is_public_request(&Method::GET, "/api/v1/cases/track/7K3M-Q9PXA"));
        assert!(!is_public_request(&Method::GET, "/api/v1/cases"));
        assert!(!is_public_request(&Method::GET, "/api/v1/cases/track/"));
        assert!(!is_public_request(&Method::GET, "/api/v1/cases/track/x/y"));
        assert!(!is_public_request(&Method::POST, "/api/v1/cases/track/7K3M-Q9PXA"));
        assert!(is_public_request(&Method::POST, "/api/v1/cases/track/7K3M-Q9PXA/actions"));
        assert!(!is_public_request(&Method::POST, "/api/v1/cases/track//actions"));
        assert!(!is_public_request(&Method::POST, "/api/v1/cases/track/a/b/actions"));
        assert!(!is_public_request(&Method::GET, "/api/v1/cases/track/7K3M-Q9PXA/actions"));
        assert!(!is_public_request(&Method::DELETE, "/api/v1/cases"));
        assert!(is_public_request(&Method::GET, "/healthz"));
        assert!(is_public_request(&Method::GET, "/api/v1/case-categories"));
        // The phone pages: filing, looking up and following a case.
        assert!(is_public_request(&Method::GET, "/report"));
        assert!(is_public_request(&Method::POST, "/report"));
        assert!(is_public_request(&Method::GET, "/track"));
        assert!(is_public_request(&Method::GET, "/track/7K3M-Q9PXA"));
        assert!(is_public_request(&Method::POST, "/track/7K3M-Q9PXA"));
        assert!(!is_public_request(&Method::POST, "/track/"));
        assert!(!is_public_request(&Method::GET, "/track/a/b"));
        assert!(!is_public_request(&Method::DELETE, "/track/7K3M-Q9PXA"));
        // The inbox pages stay behind the gate.
        assert!(!is_public_request(&Method::GET, "/cases"));
        assert!(!is_public_request(&Method::GET, "/cases/1"));
        assert!(!is_public_request(&Method::POST, "/cases/1/contact"));
    }

    #[test]
    fn open311_is_public() {
        assert!(is_public_request(&Method::GET, "/open311/v2/services.json"));
        assert!(is_public_request(&Method::POST, "/open311/v2/requests.json"));
        assert!(is_public_request(&Method::GET, "/open311/v2/requests/7K3M-Q9PXA.json"));
        assert!(!is_public_request(&Method::GET, "/open311/v3/services.json"));
        assert!(!is_public_request(&Method::GET, "/open311"));
    }

    #[test]
    fn half_signed_in_sessions_reach_only_their_next_step() {
        use Standing::*;
        assert_eq!(decide("/entities", AwaitingSecondFactor), Gate::SecondFactor);
        assert_eq!(decide("/account/password", AwaitingSecondFactor), Gate::SecondFactor);
        assert_eq!(decide("/login/totp", AwaitingSecondFactor), Gate::Pass);
        assert_eq!(decide("/api/v1/entities", AwaitingSecondFactor), Gate::Unauthorized);
        assert_eq!(decide("/account/password", MustChangePassword), Gate::Pass);
        assert_eq!(decide("/account", MustChangePassword), Gate::ChangePassword);
        assert_eq!(decide("/api/v1/entities", MustChangePassword), Gate::Unauthorized);
        assert_eq!(decide("/logout", MustChangePassword), Gate::Pass);
    }

    #[test]
    fn the_login_link_remembers_only_a_get() {
        assert_eq!(login_url(&Method::GET, "/entities?kind=site"), "/login?next=%2Fentities%3Fkind%3Dsite");
        assert_eq!(login_url(&Method::GET, "/"), "/login");
        assert_eq!(login_url(&Method::POST, "/entities/new"), "/login");
    }
}
