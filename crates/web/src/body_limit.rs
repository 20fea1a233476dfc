//! The answer to a request body over [`crate::MAX_BODY_BYTES`]: `413 Payload Too Large` in the API's
//! one error shape under `/api/`, an error page elsewhere — whichever layer noticed first (the
//! `Content-Length` check of the limit layer, or a body that grew too long while being read). Nothing
//! is written: the handler never gets a body to import. XLSX files are further limited in their
//! unpacked size by `dangjian-ingest`.

use crate::error::ApiError;
use crate::pages::PageCtx;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether a response already is the API's JSON.
fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"))
}

/// The 413 answer for a request to `path`.
pub fn payload_too_large(ctx: &PageCtx, path: &str) -> Response {
    let mb = crate::MAX_BODY_BYTES / (1024 * 1024);
    let said = crate::i18n::Message::new("api.payload_too_large").arg("mb", mb);
    if path.starts_with("/api/") {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", said).into_response()
    } else {
        let message = ctx.lang.say(&said);
        ctx.render_status(StatusCode::PAYLOAD_TOO_LARGE, "error.html", minijinja::context! { status => 413, message })
    }
}

/// The layer, outside the body-limit layer: `axum::middleware::from_fn(body_limit::layer)`.
pub async fn layer(req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let ctx = PageCtx::from_request_parts(&mut parts, &()).await.unwrap_or_else(|e| match e {});
    let path = parts.uri.path().to_owned();
    let response = next.run(Request::from_parts(parts, body)).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&response) {
        return payload_too_large(&ctx, &path);
    }
    response
}
