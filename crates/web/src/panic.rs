//! A panic while answering a request is a 500 in the API's error shape, not a dropped connection:
//! tower-http's `CatchPanicLayer` turns it into an answer that names the request's id (the
//! `x-request-id` the client or proxy sent, else one made here, also sent back as a header) so the
//! log line can be found — and neither the answer nor the log carries anything of the request or
//! of the panic's message, which may quote outside input.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

const REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request being answered by this task.
    static CURRENT_ID: String;
}

/// `router` with its requests given an id and its panics answered (see the module doc).
pub fn guard<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(CatchPanicLayer::custom(answer_panic)).layer(axum::middleware::from_fn(request_id))
}

/// A request id as sent, when it is a short token of letters, digits, `-`, `_` and `.`.
fn usable(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    ok.then(|| s.to_owned())
}

/// Gives the request an id (keeps a usable one sent with it), answers with it as `x-request-id`, and
/// makes it the task's [`CURRENT_ID`] while the request is answered.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(usable)
        .unwrap_or_else(|| format!("{:016x}", dangjian_security::random_u64()));
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, v.clone());
        let mut resp = CURRENT_ID.scope(id, next.run(req)).await;
        resp.headers_mut().insert(REQUEST_ID, v);
        resp
    } else {
        next.run(req).await
    }
}

/// The answer to a panic: 500, `{"error": {"code": "internal_error", "message", "request_id"}}`.
/// The panic's payload is dropped unread: its message may quote what the client sent.
fn answer_panic(payload: Box<dyn Any + Send + 'static>) -> Response {
    drop(payload);
    let id = CURRENT_ID.try_with(Clone::clone).ok();
    tracing::error!(request_id = id.as_deref().unwrap_or("-"), "a request handler panicked; answered 500");
    let body = serde_json::json!({"error": {
        "code": "internal_error",
        "message": "服务器内部错误，请稍后重试 / internal error, please try again later",
        "request_id": id,
    }});
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// Replaces the process's panic hook with one that logs where a panic happened but not its message
/// (which may quote outside input, e.g. a string that was sliced). For the server process.
pub fn quiet_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!(at, "panic (message withheld: it may quote request data)");
    }));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}")
    }

    /// A handler that panics on outside text (a byte slice inside a multibyte character) answers 500
    /// JSON with the request's id, on a connection that stays open for the next request.
    #[tokio::test]
    async fn a_panicking_handler_answers_500_json_with_the_request_id() {
        async fn slices(axum::extract::Path(code): axum::extract::Path<String>) -> String {
            code[..8].to_owned()
        }
        let router = guard(Router::new().route("/slice/{code}", axum::routing::get(slices)));
        let base = serve(router).await;
        let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let resp = http
            .get(format!("{base}/slice/ABCDEFG%E4%B8%ADX"))
            .header(REQUEST_ID, "probe-1")
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(resp.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()), Some("probe-1"));
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "internal_error");
        assert_eq!(body["error"]["request_id"], "probe-1");
        assert!(!body.to_string().contains("ABCDEFG"), "nothing of the request: {body}");
        // The same client goes on: the server is still answering.
        let ok = http.get(format!("{base}/slice/ABCDEFGHIJ")).send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.text().await.unwrap(), "ABCDEFGH");
        // A request id that is not a plain token is replaced.
        let odd = http.get(format!("{base}/slice/ABCDEFGHIJ")).header(REQUEST_ID, "a b<").send().await.unwrap();
        let id = odd.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(id.len(), 16, "{id}");
    }
}
