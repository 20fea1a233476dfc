//! `/api/v1/coverage`, `/api/v1/coverage/trend`, `/api/v1/gaps`: the two coverages for a region ×
//! sector × tier × platform chain on any date, over the reader's scope only.

use super::{ListMeta, ListResponse};
use crate::app::{transfer, Ctx};
use crate::auth::Actor;
use crate::coverage::{bad_param, CoverageParams, GapParams, TrendParams};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::ApiQuery;
use crate::i18n::Lang;
use crate::i18n::Message;
pub use crate::views::coverage::*;
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use dangjian_store::Paging;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The figures for a region (or the nation) × sector × tier × platform chain on a date.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "coverage", params(CoverageParams),
    responses((status = 200, body = CoverageResponse), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
async fn coverage(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<CoverageParams>,
) -> Result<Json<CoverageResponse>, ApiError> {
    let p = prepare(&s, &actor, &q, "coverage.read").await?;
    Ok(Json(coverage_response(&s, &actor, &p).await?))
}

/// The monthly trend ending on the date (default 24 months).
#[utoipa::path(get, path = "/api/v1/coverage/trend", tag = "coverage", params(CoverageParams, TrendParams),
    responses((status = 200, body = TrendResponse), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
async fn trend(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<CoverageParams>,
    ApiQuery(t): ApiQuery<TrendParams>,
) -> Result<Json<TrendResponse>, ApiError> {
    let p = prepare(&s, &actor, &q, "coverage.read").await?;
    let months = t.months().map_err(bad_param)?;
    Ok(Json(TrendResponse { points: trend_points(&s, &actor, &p, months).await? }))
}

/// The gap list: every rule a unit or organization in scope breaks on the date, and its fix.
#[utoipa::path(get, path = "/api/v1/gaps", tag = "coverage", params(CoverageParams, GapParams),
    responses((status = 200, body = ListResponse<GapItem>), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
async fn gaps(
    State(s): State<AppState>,
    actor: Actor,
    lang: Lang,
    ApiQuery(q): ApiQuery<CoverageParams>,
    ApiQuery(g): ApiQuery<GapParams>,
) -> Result<Json<ListResponse<GapItem>>, ApiError> {
    let p = prepare(&s, &actor, &q, "gaps.read").await?;
    let (rule, order) = gap_options(&g)?;
    let paging = Paging::new(g.page, g.per_page);
    let (page, per_page) = (paging.page, paging.per_page);
    let start = usize::try_from(paging.offset()).unwrap_or(usize::MAX);
    let (total, shown) = gap_page(&s, &actor, &p, rule, order, start, per_page as usize).await?;
    let total = total as i64;
    let items = gap_items(&s, shown, lang).await?;
    Ok(Json(ListResponse { items, meta: ListMeta { total, page, per_page } }))
}

/// The gap list as a spreadsheet with Chinese headers (XLSX by default, or CSV).
#[utoipa::path(get, path = "/api/v1/gaps/export", tag = "coverage", params(CoverageParams, GapParams, GapExportParams),
    responses((status = 200, description = "the file", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
async fn export_gaps(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<CoverageParams>,
    ApiQuery(g): ApiQuery<GapParams>,
    ApiQuery(f): ApiQuery<GapExportParams>,
) -> Result<impl IntoResponse, ApiError> {
    let export = transfer::begin_report(&Ctx::new(&s, &actor), "export.gaps").await?;
    let p = prepare(&s, &actor, &q, "export.gaps").await?;
    let xlsx = match f.format.as_deref().map(str::trim) {
        None | Some("") | Some("xlsx") => true,
        Some("csv") => false,
        Some(_) => return Err(ApiError::bad_request("format", Message::new("api.format_csv_xlsx"))),
    };
    let (rule, order) = gap_options(&g)?;
    let (bytes, rows) = gap_file(&s, &actor, &p, rule, order, xlsx).await?;
    let detail = format!("rows={rows} date={} region={}", p.date, p.filter.region.as_deref().unwrap_or("all"));
    export.finish(detail).await;
    let (ct, ext) = if xlsx {
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    } else {
        ("text/csv; charset=utf-8", "csv")
    };
    let disposition = format!("attachment; filename=\"gaps-{}.{ext}\"", p.date);
    Ok(([(header::CONTENT_TYPE, ct.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(coverage))
        .routes(routes!(trend))
        .routes(routes!(gaps))
        .routes(routes!(export_gaps))
}
