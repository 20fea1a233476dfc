//! The one error type of the HTTP layer and its one JSON shape:
//! `{"error": {"code", "message", "field", "details": [...]}}`.
//!
//! An [`ApiError`] does not know who will read it: it carries catalogue [`Message`]s, and is said in the
//! request's language when the response leaves — [`localize`] is a middleware that knows the request's
//! [`Lang`] and renders the body of every error below it. So a handler, an extractor or a guard makes
//! an error without a language, and `?` turns a [`StoreError`] into one.

use crate::app::AppError;
use crate::i18n::{Lang, Message};
use crate::transfer::RowFailures;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dangjian_domain::{FieldError, FieldErrors};
use dangjian_store::StoreError;
use serde::Serialize;

/// One detail of an error: a field problem, or a located problem in an imported file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For imports: the file, 1-based row and column (letter and header) of the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `not_found`, `stale_version`, `validation_failed`.
    pub code: String,
    pub message: String,
    /// The offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// One detail of an [`ApiError`], not yet in a language.
#[derive(Debug, Clone)]
pub struct Detail {
    pub code: String,
    pub message: Message,
    pub field: Option<String>,
    /// For imports: the file, 1-based row and column of the problem.
    pub file: Option<String>,
    pub row: Option<usize>,
    pub column: Option<String>,
}

impl Detail {
    fn of_field(f: &FieldError) -> Self {
        Self {
            code: f.code.clone(),
            message: f.message.clone(),
            field: Some(f.field.clone()),
            file: None,
            row: None,
            column: None,
        }
    }
}

/// An error on its way to becoming an HTTP response.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable machine code, e.g. `not_found`, `stale_version`, `validation_failed`.
    pub code: String,
    /// Boxed: an `ApiError` is the `Err` of every handler and should stay small.
    pub message: Box<Message>,
    /// The offending field, when there is one.
    pub field: Option<String>,
    pub details: Vec<Detail>,
    /// Seconds for a `Retry-After` header (503 while the coverage index builds).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: Message) -> Self {
        Self {
            status,
            code: code.into(),
            message: Box::new(message),
            field: None,
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// The coverage index is being built (at start-up, or after a bulk load): 503 with `Retry-After`.
    pub fn coverage_building(retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs().max(1);
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "coverage_building", coverage_building_message(secs));
        e.retry_after = Some(secs);
        e
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", Message::new("api.not_found"))
    }

    pub fn bad_request(field: &str, message: Message) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_parameter", message).with_field(field)
    }

    /// A query parameter that did not parse: 400 naming the parameter, with the parser's message.
    pub fn bad_parameter(e: &FieldError) -> Self {
        Self::bad_request(&e.field, e.message.clone())
    }

    /// Field errors of a validation: 422, the first field named at the top, all of them in details.
    pub fn fields(errs: &FieldErrors) -> Self {
        let first = errs.0.first();
        let message = first.map_or_else(|| Message::new("api.validation_failed"), |e| e.message.clone());
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message);
        e.field = first.map(|f| f.field.clone());
        e.details = errs.0.iter().map(Detail::of_field).collect();
        e
    }

    /// A rejected import: the errors listed (the first [`dangjian_domain::MAX_REPORTED_ERRORS`]) in
    /// `details`, the count of all in the message.
    pub fn import_rows(failures: &RowFailures) -> Self {
        let (total, listed) = (failures.total, failures.errors.len());
        let message = if failures.is_truncated() {
            Message::new("api.import_failed_listed").arg("total", total).arg("listed", listed)
        } else {
            Message::new("api.import_failed").arg("total", total)
        };
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "import_failed", message);
        e.details = failures
            .errors
            .iter()
            .map(|ie| Detail {
                code: ie.code.clone(),
                message: Message::verbatim(ie.message.clone()),
                field: ie.field.clone(),
                file: Some(ie.file.clone()),
                row: Some(ie.line),
                column: Some(ie.column.clone()),
            })
            .collect();
        e
    }

    /// The message in `lang` (for pages that show an API error of a query they share).
    pub fn message_in(&self, lang: Lang) -> String {
        lang.say(&self.message)
    }

    /// The JSON body in `lang`.
    pub fn body(&self, lang: Lang) -> ErrorEnvelope {
        let say = |m: &Message| lang.say(m);
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code.clone(),
                message: say(&self.message),
                field: self.field.clone(),
                details: self
                    .details
                    .iter()
                    .map(|d| ErrorDetail {
                        code: d.code.clone(),
                        message: match (&d.file, d.row, &d.column) {
                            (Some(file), Some(row), Some(column)) => {
                                format!("{file}:{row}:{column}: {}", say(&d.message))
                            }
                            _ => say(&d.message),
                        },
                        field: d.field.clone(),
                        file: d.file.clone(),
                        row: d.row,
                        column: d.column.clone(),
                    })
                    .collect(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::StaleVersion { current } => Self::new(
                StatusCode::CONFLICT,
                "stale_version",
                Message::new("api.stale_version").arg("current", current),
            )
            .with_field("version"),
            StoreError::OutOfScope => {
                Self::new(StatusCode::FORBIDDEN, "out_of_scope", Message::new("api.out_of_scope"))
            }
            StoreError::Conflict { code, message } => Self::new(StatusCode::CONFLICT, code, message),
            StoreError::Invalid(errs) => Self::fields(&errs),
            StoreError::ImportRows(rows) => {
                let errs: Vec<FieldError> = rows.errors.into_iter().map(|(_, e)| e).collect();
                Self::fields(&FieldErrors(errs))
            }
            StoreError::UnsupportedUrl(_)
            | StoreError::Db(_)
            | StoreError::Migrate(_)
            | StoreError::Task(_)
            | StoreError::NoKeys
            | StoreError::FieldCipher { .. } => {
                tracing::error!(error = %e, "storage failure");
                Self::internal()
            }
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errs: FieldErrors) -> Self {
        Self::fields(&errs)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::fields(&FieldErrors(vec![e]))
    }
}

impl ApiError {
    /// 500, saying nothing of the cause (which the caller has logged).
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", Message::new("api.internal"))
    }
}

/// "Still building, try again in about `secs` s", for the API and the pages.
pub fn coverage_building_message(secs: u64) -> Message {
    Message::new("api.coverage_building").arg("secs", secs)
}

/// The error of a response, kept for [`localize`] to say in the request's language.
#[derive(Clone)]
struct Unsaid(ApiError);

impl IntoResponse for ApiError {
    /// The body is in the default language; [`localize`] says it again in the request's.
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body(Lang::default()))).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        r.extensions_mut().insert(Unsaid(self));
        r
    }
}

/// Middleware: an error response from below gets its body in the request's language.
pub async fn localize(req: Request, next: Next) -> Response {
    let lang = Lang::of_request(req.uri(), req.headers());
    let mut r = next.run(req).await;
    match r.extensions_mut().remove::<Unsaid>() {
        Some(Unsaid(e)) if lang != Lang::default() => {
            let body = axum::Json(e.body(lang)).into_response().into_body();
            r.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
            *r.body_mut() = body;
            r
        }
        _ => r,
    }
}

impl From<AppError> for ApiError {
    /// A command's error as the API answers it.
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", Message::new("api.unauthenticated"))
            }
            AppError::Forbidden => forbidden(),
            AppError::NotFound => ApiError::not_found(),
            AppError::Invalid(errs) => ApiError::fields(&errs),
            AppError::Store(e) => ApiError::from(e),
            AppError::Import(e) => import_error(e),
            AppError::Internal => ApiError::internal(),
        }
    }
}

/// A refused spreadsheet in the API's shape: 422, every located row error in the details.
pub fn import_error(e: crate::transfer::ImportFailure) -> ApiError {
    use crate::transfer::ImportFailure;
    match e {
        ImportFailure::Unreadable(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unreadable_file", e.message()),
        ImportFailure::Rows(errs) => ApiError::import_rows(&errs),
        ImportFailure::Store(e) => ApiError::from(e),
    }
}

/// 403 in the API's shape.
pub fn forbidden() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", Message::new("api.not_allowed"))
}

/// A path that exists asked with a method it does not take — a form's address opened as a page: the
/// error page saying so with the way back, Open311's or the API's error, instead of an empty 405.
pub async fn method_not_allowed(uri: axum::http::Uri, ctx: crate::pages::PageCtx) -> Response {
    let path = uri.path();
    let status = StatusCode::METHOD_NOT_ALLOWED;
    if path.starts_with(crate::open311::PREFIX) {
        let message = ctx.lang.say(&Message::new("api.method_not_allowed"));
        crate::open311::error_response(status, &message)
    } else if path.starts_with("/api/") {
        ApiError::new(status, "method_not_allowed", Message::new("api.method_not_allowed")).into_response()
    } else {
        let message = ctx.t("error.method_not_allowed");
        ctx.render_status(status, "error.html", minijinja::context! { status => 405, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request as HttpRequest;
    use tower::ServiceExt;

    async fn message_of(
        app: axum::Router,
        uri: &str,
        accept_language: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = HttpRequest::builder().uri(uri);
        if let Some(l) = accept_language {
            req = req.header("accept-language", l);
        }
        let r = app.oneshot(req.body(Body::empty()).unwrap_or_default()).await.unwrap_or_else(|e| match e {});
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    /// A handler makes its error without a language; the response says it in the request's.
    #[tokio::test]
    async fn errors_are_said_in_the_language_of_the_request() {
        async fn stale() -> Result<(), ApiError> {
            let stored: Result<(), StoreError> = Err(StoreError::StaleVersion { current: 7 });
            stored?;
            Ok(())
        }
        let app = axum::Router::new().route("/x", axum::routing::get(stale)).layer(axum::middleware::from_fn(localize));
        let (status, zh) = message_of(app.clone(), "/x", None).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(zh["error"]["message"], "该记录已被他人修改（当前版本7），请刷新后重试");
        assert_eq!(zh["error"]["field"], "version");
        let (_, en) = message_of(app.clone(), "/x?lang=en", None).await;
        assert_eq!(
            en["error"]["message"],
            "the record was changed by someone else (now at version 7); reload and try again"
        );
        let (_, en) = message_of(app, "/x", Some("en-GB,en;q=0.8")).await;
        assert_eq!(en["error"]["code"], "stale_version");
        assert!(en["error"]["message"].as_str().is_some_and(|m| m.starts_with("the record was changed")));
    }

    /// Field errors keep every detail, each in the request's language.
    #[tokio::test]
    async fn field_errors_are_said_in_the_language_of_the_request() {
        async fn invalid() -> Result<(), ApiError> {
            let parsed: Result<(), FieldError> =
                Err(FieldError::new("code", "required", Message::new("problem.required")));
            parsed?;
            Ok(())
        }
        let app =
            axum::Router::new().route("/x", axum::routing::get(invalid)).layer(axum::middleware::from_fn(localize));
        let (status, en) = message_of(app.clone(), "/x?lang=en", None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(en["error"]["details"][0]["message"], "this field is required");
        let (_, zh) = message_of(app, "/x?lang=zh-CN", None).await;
        assert_eq!(zh["error"]["details"][0]["message"], "此项为必填项");
        assert_eq!(zh["error"]["details"][0]["field"], "code");
    }
}
