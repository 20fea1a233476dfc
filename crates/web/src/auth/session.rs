//! Sessions as the browser sees them: the cookies, and starting or ending a server-side session.
//!
//! The `dj_session` cookie holds a fresh 256-bit random id; the database keeps only its SM3 hash, so
//! a copy of the database holds no live session. Every change of privilege (password accepted,
//! second factor passed, password changed) starts a new id and ends the old one (no session fixation).
//!
//! The cookie is `HttpOnly; SameSite=Strict; Path=/`, and `Secure` when the request came over HTTPS
//! or the `secure_cookies` setting is on. Behind a TLS-terminating reverse proxy the proxy must set
//! `X-Forwarded-Proto: https` (or `Forwarded: proto=https`); the local HTTP demo gets no `Secure`
//! flag, or the browser would drop the cookie.

use super::config::SecurityConfig;
use super::SESSION_COOKIE;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dangjian_security::token::{generate_session_id, hash_token};
use dangjian_store::{Store, StoreResult};

/// A second factor must follow the password within this time, or the half-open session lapses.
pub const SECOND_FACTOR_WINDOW_MINUTES: i64 = 10;

/// Time as the sessions table and the lock columns keep it.
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whether the request reached the server (or its TLS proxy) over HTTPS.
pub fn is_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers.get_all(header::FORWARDED).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split([';', ',']).filter_map(|kv| kv.trim().split_once('=')).any(|(k, v)| {
            k.trim().eq_ignore_ascii_case("proto") && v.trim().trim_matches('"').eq_ignore_ascii_case("https")
        })
    });
    forwarded_proto || forwarded
}

/// Whether cookies set in answer to this request get the `Secure` flag.
pub fn secure_cookies(headers: &HeaderMap, config: &SecurityConfig) -> bool {
    config.secure_cookies || is_https(headers)
}

/// A `Set-Cookie` value for one of our cookies: `HttpOnly; SameSite=Strict; Path=/`, `Secure` when
/// asked, and `Max-Age` when given (zero deletes the cookie).
pub fn cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={}", age.num_seconds().max(0)));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Adds a `Set-Cookie` header to a response.
pub fn set_cookie(r: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A session just started: the raw id goes into the cookie and nowhere else.
pub struct NewSession {
    pub user_id: i64,
    pub id: String,
    pub id_hash: String,
    pub csrf_token: String,
    pub lifetime: Duration,
}

impl NewSession {
    /// The `Set-Cookie` value carrying this session.
    pub fn cookie(&self, secure: bool) -> String {
        cookie(SESSION_COOKIE, &self.id, Some(self.lifetime), secure)
    }
}

/// Starts a session for `user_id` with a new random id and CSRF token. A session still owing its
/// second factor lives [`SECOND_FACTOR_WINDOW_MINUTES`]; a full one the configured absolute timeout.
pub async fn start(
    store: &Store,
    config: &SecurityConfig,
    user_id: i64,
    second_factor_done: bool,
    client_ip: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<NewSession> {
    let id = generate_session_id();
    let id_hash = hash_token(&id);
    let csrf_token = generate_session_id();
    let lifetime =
        if second_factor_done { config.absolute_timeout() } else { Duration::minutes(SECOND_FACTOR_WINDOW_MINUTES) };
    store
        .create_session(
            &id_hash,
            user_id,
            &csrf_token,
            &time_text(now + lifetime),
            second_factor_done,
            client_ip,
            &time_text(now),
        )
        .await?;
    Ok(NewSession { user_id, id, id_hash, csrf_token, lifetime })
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    cookie(SESSION_COOKIE, "", Some(Duration::zero()), secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let (Ok(k), Ok(v)) = (header::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                h.append(k, v);
            }
        }
        h
    }

    #[test]
    fn https_is_told_by_the_proxy() {
        assert!(!is_https(&headers(&[])));
        assert!(is_https(&headers(&[("x-forwarded-proto", "https")])));
        assert!(is_https(&headers(&[("x-forwarded-proto", "HTTPS, http")])));
        assert!(!is_https(&headers(&[("x-forwarded-proto", "http")])));
        assert!(is_https(&headers(&[("forwarded", "for=1.2.3.4;proto=https;by=proxy")])));
        assert!(!is_https(&headers(&[("forwarded", "for=1.2.3.4;proto=http")])));
    }

    #[test]
    fn cookies_carry_the_protective_attributes() {
        let c = cookie("dj_session", "abc", Some(Duration::hours(12)), false);
        assert_eq!(c, "dj_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
        let c = cookie("dj_session", "abc", None, true);
        assert_eq!(c, "dj_session=abc; Path=/; HttpOnly; SameSite=Strict; Secure");
        assert!(clear_session_cookie(false).contains("Max-Age=0"));
        let cfg = SecurityConfig { secure_cookies: true, ..Default::default() };
        assert!(secure_cookies(&headers(&[]), &cfg));
        assert!(!secure_cookies(&headers(&[]), &SecurityConfig::default()));
    }
}
