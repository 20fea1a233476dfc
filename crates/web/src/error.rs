//! The one error type of the HTTP layer and its one JSON shape:
//! `{"error": {"code", "message", "field", "details": [...]}}`.

use crate::app::AppError;
use crate::i18n::Lang;
use crate::transfer::RowFailures;
use axum::http::StatusCode;
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

/// An error on its way to becoming an HTTP response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds for a `Retry-After` header (503 while the coverage index builds).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody { code: code.into(), message: message.into(), field: None, details: Vec::new() },
            retry_after: None,
        }
    }

    /// The coverage index is being built (at start-up, or after a bulk load): 503 with `Retry-After`.
    pub fn coverage_building(retry_after: std::time::Duration, lang: Lang) -> Self {
        let secs = retry_after.as_secs().max(1);
        let mut e =
            Self::new(StatusCode::SERVICE_UNAVAILABLE, "coverage_building", coverage_building_message(secs, lang));
        e.retry_after = Some(secs);
        e
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.body.field = Some(field.into());
        self
    }

    pub fn not_found(lang: Lang) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", lang.pick("记录不存在", "not found"))
    }

    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_parameter", message).with_field(field)
    }

    /// Field errors of a validation: 422, the first field named at the top, all of them in details.
    pub fn fields(errs: &FieldErrors, lang: Lang) -> Self {
        let first = errs.0.first();
        let message = first.map(|e| e.message_in(lang.code()).to_owned()).unwrap_or_default();
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message);
        e.body.field = first.map(|f| f.field.clone());
        e.body.details = errs.0.iter().map(|f| field_detail(f, lang)).collect();
        e
    }

    /// The located errors of an import: 422 with every row's problem.
    /// A rejected import: the errors listed (the first [`dangjian_domain::MAX_REPORTED_ERRORS`]) in
    /// `details`, the count of all in the message.
    pub fn import_rows(failures: &RowFailures, lang: Lang) -> Self {
        let (total, listed) = (failures.total, failures.errors.len());
        let message = if failures.is_truncated() {
            lang.pick(
                &format!("文件有{total}处错误，未导入任何数据；以下列出前{listed}处"),
                &format!("the file has {total} errors; nothing was imported; the first {listed} are listed"),
            )
        } else {
            lang.pick(
                &format!("文件有{total}处错误，未导入任何数据"),
                &format!("the file has {total} errors; nothing was imported"),
            )
        };
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "import_failed", message);
        e.body.details = failures
            .errors
            .iter()
            .map(|ie| ErrorDetail {
                code: ie.code.clone(),
                message: ie.to_string(),
                field: ie.field.clone(),
                file: Some(ie.file.clone()),
                row: Some(ie.line),
                column: Some(ie.column.clone()),
            })
            .collect();
        e
    }

    pub fn from_store(e: StoreError, lang: Lang) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(lang),
            StoreError::StaleVersion { current } => Self::new(
                StatusCode::CONFLICT,
                "stale_version",
                lang.pick(
                    &format!("该记录已被他人修改（当前版本{current}），请刷新后重试"),
                    &format!("the record was changed by someone else (now at version {current}); reload and try again"),
                ),
            )
            .with_field("version"),
            StoreError::OutOfScope => Self::new(
                StatusCode::FORBIDDEN,
                "out_of_scope",
                lang.pick("该记录将超出您的权限范围", "the record would be outside your scope"),
            ),
            StoreError::Conflict { code, message, message_zh } => {
                Self::new(StatusCode::CONFLICT, code, lang.pick(&message_zh, &message))
            }
            StoreError::Invalid(errs) => Self::fields(&errs, lang),
            StoreError::ImportRows(rows) => {
                let errs: Vec<FieldError> = rows.errors.into_iter().map(|(_, e)| e).collect();
                Self::fields(&FieldErrors(errs), lang)
            }
            StoreError::UnsupportedUrl(_)
            | StoreError::Db(_)
            | StoreError::Migrate(_)
            | StoreError::Task(_)
            | StoreError::NoKeys
            | StoreError::FieldCipher { .. } => {
                tracing::error!(error = %e, "storage failure");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", lang.pick("服务器内部错误", "internal error"))
            }
        }
    }
}

/// 403 in the API's shape.
pub fn forbidden(lang: Lang) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", lang.pick("无权执行此操作", "not allowed"))
}

impl AppError {
    /// The API's answer, in `lang`.
    pub fn api(self, lang: Lang) -> ApiError {
        ApiError::from_app(self, lang)
    }
}

impl ApiError {
    /// A command's error as the API answers it.
    pub fn from_app(e: AppError, lang: Lang) -> Self {
        match e {
            AppError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", lang.pick("请先登录", "sign in first"))
            }
            AppError::Forbidden => forbidden(lang),
            AppError::NotFound => ApiError::not_found(lang),
            AppError::Invalid(errs) => ApiError::fields(&errs, lang),
            AppError::Store(e) => ApiError::from_store(e, lang),
        }
    }
}

fn field_detail(f: &FieldError, lang: Lang) -> ErrorDetail {
    ErrorDetail {
        code: f.code.clone(),
        message: f.message_in(lang.code()).to_owned(),
        field: Some(f.field.clone()),
        file: None,
        row: None,
        column: None,
    }
}

/// "Still building, try again in about `secs` s", for the API and the pages.
pub fn coverage_building_message(secs: u64, lang: Lang) -> String {
    lang.pick(
        &format!("覆盖率数据正在准备中，请约 {secs} 秒后再试。"),
        &format!("The coverage figures are still being prepared; please try again in about {secs} s."),
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(ErrorEnvelope { error: self.body })).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        r
    }
}
