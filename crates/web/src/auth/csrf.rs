//! Cross-site request forgery protection (OWASP ASVS 5.0 V3.5): every POST form carries a token that a
//! forged request from another site cannot know.
//!
//! - Signed in (or half-way, owing a second factor): the token is the session's own random
//!   `csrf_token`, kept server-side with the session.
//! - Not signed in (the login form): a double-submit cookie — `dj_csrf` holds a random value that the
//!   form repeats in its hidden field; `SameSite=Strict` keeps other sites from sending it.
//!
//! Tokens are compared in constant time. [`crate::pages::form::FormData`] applies the check to every
//! form, so no page handler can forget it.

use super::Actor;
use axum::http::{header, HeaderMap};
use dangjian_security::token::constant_time_eq;

/// The hidden form field holding the token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The double-submit cookie for forms shown before sign-in.
pub const CSRF_COOKIE: &str = "dj_csrf";

/// The value of a cookie in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        c.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
    })
}

/// The token a form of this request must carry: the session's, or else the double-submit cookie's.
pub fn expected_token(actor: Option<&Actor>, headers: &HeaderMap) -> Option<String> {
    match actor.and_then(|a| a.session.as_ref()) {
        Some(s) => Some(s.csrf_token.clone()),
        None => cookie_value(headers, CSRF_COOKIE).filter(|v| !v.is_empty()),
    }
}

/// Whether the presented token is the expected one (both present and non-empty), in constant time.
pub fn token_matches(expected: Option<&str>, presented: Option<&str>) -> bool {
    match (expected, presented) {
        (Some(e), Some(p)) if !e.is_empty() => constant_time_eq(e.as_bytes(), p.as_bytes()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::SessionRef;
    use super::*;
    use axum::http::HeaderValue;

    fn with_cookie(c: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(c) {
            h.insert(header::COOKIE, v);
        }
        h
    }

    #[test]
    fn tokens_must_match_exactly() {
        assert!(token_matches(Some("abc"), Some("abc")));
        assert!(!token_matches(Some("abc"), Some("abd")));
        assert!(!token_matches(Some("abc"), None));
        assert!(!token_matches(None, Some("abc")));
        assert!(!token_matches(Some(""), Some("")));
        assert!(!token_matches(None, None));
    }

    #[test]
    fn the_session_token_wins_over_the_cookie() {
        let h = with_cookie("lang=en; dj_csrf=fromcookie");
        assert_eq!(expected_token(None, &h).as_deref(), Some("fromcookie"));
        let actor = Actor {
            session: Some(SessionRef {
                id_hash: "h".into(),
                csrf_token: "fromsession".into(),
                awaiting_second_factor: false,
                password_change_required: false,
            }),
            ..Default::default()
        };
        assert_eq!(expected_token(Some(&actor), &h).as_deref(), Some("fromsession"));
        assert_eq!(expected_token(None, &with_cookie("dj_csrf=")), None);
    }
}
