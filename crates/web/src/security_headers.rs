//! The security headers of every response (OWASP ASVS 5.0 V3.4 "browser security mechanism headers";
//! GB/T 22239-2019 8.1.4 on protecting data in transit and in the client), set in one layer so that no
//! handler can forget them. A handler may set its own value of a header (the stylesheet's caching, say);
//! the layer only fills in what is missing.
//!
//! | header | value | why |
//! |---|---|---|
//! | `Strict-Transport-Security` | one year, subdomains | browsers refuse plain HTTP once they have seen HTTPS (TLS ends at the reverse proxy: `docs/operations.md`) |
//! | `Content-Security-Policy` | pages: own origin only, no inline script or style; everything else: nothing at all | script injection finds nothing to run; no framing (clickjacking) |
//! | `X-Frame-Options` | `DENY` | framing refused by browsers that predate `frame-ancestors` |
//! | `X-Content-Type-Options` | `nosniff` | a download is never run as script or style |
//! | `Referrer-Policy` | `same-origin` | URLs (which can name records) never leave for other sites |
//! | `Cache-Control` | `no-store` | pages and API answers may carry personal data: nothing is kept in browser or proxy caches |
//! | `Cross-Origin-Opener-Policy`, `Cross-Origin-Resource-Policy` | `same-origin` | other sites cannot hold a window handle on us or embed our answers |

use axum::extract::Request;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of HTML pages: everything from this server, no inline script or style, no plugins, no
/// framing, forms only to this server.
pub const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                            form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The policy of everything that is not a page (JSON, spreadsheets, the stylesheet): nothing may load or
/// run, should a browser ever render it.
pub const NON_PAGE_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// HTTP Strict Transport Security for a year, subdomains included (RFC 6797).
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The caching of responses that do not choose their own: none, as any of them may carry personal data.
pub const NO_STORE: &str = "no-store";

/// Whether a response is an HTML page, by its content type.
fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// The headers a response must carry, given its own headers (for the content type).
pub fn required_headers(headers: &HeaderMap) -> [(HeaderName, &'static str); 8] {
    let csp = if is_html(headers) { PAGE_CSP } else { NON_PAGE_CSP };
    [
        (header::STRICT_TRANSPORT_SECURITY, HSTS),
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, NO_STORE),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
    ]
}

/// Adds every missing security header to `headers`; values a handler set stay.
pub fn add_missing(headers: &mut HeaderMap) {
    for (name, value) in required_headers(headers) {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// The layer: `axum::middleware::from_fn(security_headers::layer)`, outside everything else so that
/// error answers of other layers (413, 429) carry the headers too.
pub async fn layer(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    add_missing(response.headers_mut());
    response
}

/// Marks a response that shows personal data in full as never to be stored, whatever the layers say.
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            h.insert(header::CONTENT_TYPE, v);
        }
        h
    }

    #[test]
    fn pages_get_the_page_policy_and_everything_else_none() {
        let mut page = with_type("text/html; charset=utf-8");
        add_missing(&mut page);
        assert_eq!(page[header::CONTENT_SECURITY_POLICY], PAGE_CSP);
        let mut json = with_type("application/json");
        add_missing(&mut json);
        assert_eq!(json[header::CONTENT_SECURITY_POLICY], NON_PAGE_CSP);
        let mut bare = HeaderMap::new();
        add_missing(&mut bare);
        assert_eq!(bare[header::CONTENT_SECURITY_POLICY], NON_PAGE_CSP);
        for h in [&page, &json, &bare] {
            assert_eq!(h[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000; includeSubDomains");
            assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(h[header::REFERRER_POLICY], "same-origin");
            assert_eq!(h[header::CACHE_CONTROL], "no-store");
        }
    }

    #[test]
    fn the_page_policy_allows_no_inline_code_and_no_framing() {
        for directive in ["script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"] {
            assert!(PAGE_CSP.contains(directive), "{directive}");
        }
        assert!(!PAGE_CSP.contains("unsafe-inline") && !PAGE_CSP.contains("unsafe-eval"));
        assert!(NON_PAGE_CSP.starts_with("default-src 'none'"));
    }

    #[test]
    fn a_handlers_own_value_stays_and_nothing_is_doubled() {
        let mut css = with_type("text/css");
        css.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
        css.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        add_missing(&mut css);
        assert_eq!(css[header::CACHE_CONTROL], "public, max-age=3600");
        assert_eq!(css.get_all(header::X_CONTENT_TYPE_OPTIONS).iter().count(), 1);
        no_store(&mut css);
        assert_eq!(css[header::CACHE_CONTROL], "no-store");
    }
}
