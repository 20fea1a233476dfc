//! `/api/v1/imports/{kind}` and `/api/v1/exports/{kind}`: spreadsheets in and out, through the
//! commands of [`crate::app::transfer`].

use crate::app::{transfer, Ctx};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery, QueryLater};
use crate::i18n::Lang;
use crate::i18n::Message;
use crate::transfer::ExportFormat;
use crate::AppState;
use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use dangjian_ingest::Kind;
use dangjian_store::ImportSummary;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// Check everything, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The file's name, used in error locations (default `upload`).
    pub file_name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// `csv` or `xlsx` (default).
    pub format: Option<String>,
}

pub(crate) fn parse_kind(kind: &str) -> Result<Kind, ApiError> {
    Kind::parse(kind).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_kind",
            Message::new("api.kind_entities_organizations_instructors"),
        )
        .with_field("kind")
    })
}

/// Import a CSV (UTF-8 or GBK) or XLSX file, sent as the raw request body: whole or not at all,
/// upserting by USCC / site code / organization code / mobile / station code. Every bad row is reported.
#[utoipa::path(post, path = "/api/v1/imports/{kind}", tag = "transfer", params(("kind" = String, Path, description = "entities, organizations, instructors or stations"), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportResult), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn import(
    cx: Ctx,
    lang: Lang,
    ApiPath(kind): ApiPath<String>,
    q: QueryLater<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportResult>, ApiError> {
    let pending = transfer::begin_import(&cx, parse_kind(&kind)?).await?;
    let q = q.parse()?;
    let name = q.file_name.as_deref().filter(|n| !n.is_empty()).unwrap_or("upload");
    let ImportSummary { created, updated, unchanged } = pending.run(name, &body, q.dry_run, lang.code()).await?;
    Ok(Json(ImportResult { dry_run: q.dry_run, created, updated, unchanged }))
}

/// Export every record of a kind, with Chinese headers, in a stable order. Mobile numbers are masked
/// unless every grant that lets the caller export also lets them read personal data; only such a full
/// export re-imports unchanged.
#[utoipa::path(get, path = "/api/v1/exports/{kind}", tag = "transfer", params(("kind" = String, Path, description = "entities, organizations, instructors or stations"), ExportQuery),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn export(
    cx: Ctx,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let kind = parse_kind(&kind)?;
    let pending = transfer::begin_export(&cx, kind).await?;
    let format = match q.format.as_deref() {
        None | Some("") => ExportFormat::Xlsx,
        Some(f) => ExportFormat::parse(f)
            .ok_or_else(|| ApiError::bad_request("format", Message::new("api.format_csv_xlsx")))?,
    };
    let disclosure = pending.allowed_disclosure();
    let bytes = pending.run(format, disclosure).await?;
    let disposition = format!("attachment; filename=\"{}.{}\"", kind.as_str(), format.extension());
    Ok(([(header::CONTENT_TYPE, format.content_type().to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import)).routes(routes!(export))
}
