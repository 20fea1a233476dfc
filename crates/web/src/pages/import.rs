//! `/import`: upload a CSV or XLSX file of units, organizations, instructors or stations — whole or not at all.
//! A rejected file shows its errors as `FILE:ROW:COLUMN: message`, exactly as the CLI and API do (the first
//! [`dangjian_domain::MAX_REPORTED_ERRORS`], and how many there are in all).

use super::form::FormBody;
use super::{Failed, PageCtx};
use crate::app::{transfer, AppError, Ctx};
use crate::transfer::ImportFailure;
use axum::http::StatusCode;
use axum::response::Response;
use dangjian_ingest::{ImportError, Kind};
use dangjian_store::ImportSummary;
use minijinja::context;
use serde::Serialize;

page_routes! {
    "/import" => get(form).post(upload),
}

const KINDS: [&str; 4] = ["entities", "organizations", "instructors", "stations"];

/// One located error, with its one-line form for copying.
#[derive(Serialize)]
struct ErrorRow {
    file: String,
    row: usize,
    column: String,
    message: String,
    line: String,
}

impl From<&ImportError> for ErrorRow {
    fn from(e: &ImportError) -> Self {
        ErrorRow {
            file: e.file.clone(),
            row: e.line,
            column: e.column.clone(),
            message: e.message.clone(),
            line: e.to_string(),
        }
    }
}

#[derive(Serialize, Default)]
struct Outcome {
    kind: String,
    dry_run: bool,
    file_name: Option<String>,
    summary: Option<ImportSummary>,
    /// A message about the whole request or file.
    problem: Option<String>,
    errors: Vec<ErrorRow>,
    /// How many errors the file has, of which `errors` lists the first.
    total_errors: usize,
}

fn render(ctx: &PageCtx, status: StatusCode, outcome: Outcome) -> Response {
    ctx.render_status(status, "import.html", context! { kinds => KINDS, outcome })
}

pub async fn form(cx: Ctx, ctx: PageCtx) -> Result<Response, Failed> {
    transfer::open_form(&cx).await.map_err(ctx.app_err())?;
    Ok(render(&ctx, StatusCode::OK, Outcome { kind: "entities".into(), ..Default::default() }))
}

/// Imports the uploaded file; every row must lie inside the importer's scopes.
pub async fn upload(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    // Permission before the body: the kind of import is in the body, so a refusal is `import.upload`.
    let upload = transfer::begin_upload(&cx).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let kind_text = data.get("kind").unwrap_or_default();
    let mut outcome = Outcome { kind: kind_text.clone(), dry_run: data.get("dry_run").is_some(), ..Default::default() };
    let Some(kind) = Kind::parse(&kind_text) else {
        outcome.problem = Some(ctx.t("import.choose_kind"));
        return Ok(render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, outcome));
    };
    let Some(file) = data.file("file") else {
        outcome.problem = Some(ctx.t("import.choose_file"));
        return Ok(render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, outcome));
    };
    let name = file.file_name.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()).unwrap_or("upload");
    outcome.file_name = Some(name.to_owned());
    match upload.of(kind).run(name, &file.bytes, outcome.dry_run, ctx.lang.code()).await {
        Ok(sum) => {
            outcome.summary = Some(sum);
            Ok(render(&ctx, StatusCode::OK, outcome))
        }
        Err(AppError::Import(ImportFailure::Unreadable(e))) => {
            outcome.problem = Some(e.localized(ctx.lang.code()));
            Ok(render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, outcome))
        }
        Err(AppError::Import(ImportFailure::Rows(errs))) => {
            outcome.errors = errs.errors.iter().map(ErrorRow::from).collect();
            outcome.total_errors = errs.total;
            Ok(render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, outcome))
        }
        Err(e) => Err(e.page(&ctx)),
    }
}
