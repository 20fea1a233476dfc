//! `/api/v1/stations`: worker stations, managed by the cadres whose scope holds them; and
//! `/api/v1/stations/nearest`, the public finder (no sign-in: workers have no account). The handlers
//! map HTTP to the commands of [`crate::app::stations`].

use super::entities::etag;
use super::{ListResponse, VersionQuery};
use crate::app::{stations, Ctx};
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery, JsonBody, QueryLater};
use crate::i18n::Lang;
pub use crate::views::stations::{china_time, AmenityView, Navigation, NearbyStation, StationQuery};
use crate::AppState;
use axum::extract::RawQuery;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::NaiveDateTime;
use dangjian_domain::services::finder::FinderQuery;
use dangjian_domain::services::stations::StationInput;
use dangjian_store::stations::Station;
use dangjian_store::Paging;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StationUpdate {
    /// The version the client last read; a stale one gets 409.
    pub version: i64,
    #[serde(flatten)]
    pub fields: StationInput,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NearestMeta {
    pub count: usize,
    /// The China time `open_now` was judged at (`YYYY-MM-DDTHH:MM`).
    pub local_time: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NearestResponse {
    pub items: Vec<NearbyStation>,
    pub meta: NearestMeta,
}

/// Parameters of the finder, as sent. `amenity` may repeat or list several, comma-separated.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearestParams {
    /// Latitude, WGS-84 decimal degrees.
    pub lat: f64,
    /// Longitude, WGS-84 decimal degrees.
    pub lng: f64,
    /// 1–50, default 10.
    pub limit: Option<u32>,
    /// Amenity codes every result must offer.
    pub amenity: Option<String>,
    /// `true`: only stations open now (China time).
    pub open_now: Option<bool>,
}

/// Parses the finder's raw query: every problem as a 400 naming its parameter.
pub fn parse_nearest(raw: &str, now: NaiveDateTime) -> Result<FinderQuery, ApiError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let amenities: Vec<&str> = pairs.iter().filter(|(n, _)| n == "amenity").map(|(_, v)| v.as_str()).collect();
    FinderQuery::parse(one("lat"), one("lng"), one("limit"), &amenities, one("open_now"), now).map_err(|errs| {
        let mut e = ApiError::fields(&errs);
        e.status = StatusCode::BAD_REQUEST;
        e.code = "invalid_parameter".into();
        e
    })
}

/// The nearest active stations to a position — public, no sign-in. The position is used for this
/// answer only: it is not logged, stored or audited.
#[utoipa::path(get, path = "/api/v1/stations/nearest", tag = "stations", params(NearestParams),
    security(()),
    responses((status = 200, body = NearestResponse), (status = 400, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
async fn nearest(cx: Ctx, lang: Lang, RawQuery(raw): RawQuery) -> Result<Json<NearestResponse>, ApiError> {
    let now = china_time(&cx.state);
    let q = parse_nearest(raw.as_deref().unwrap_or_default(), now)?;
    let found = stations::nearest(&cx, &q).await?;
    let items: Vec<NearbyStation> = found.iter().map(|n| NearbyStation::new(n, now, lang)).collect();
    let meta = NearestMeta { count: items.len(), local_time: now.format("%Y-%m-%dT%H:%M").to_string() };
    Ok(Json(NearestResponse { items, meta }))
}

/// List stations, of those in the caller's scopes.
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations", params(StationQuery),
    responses((status = 200, body = ListResponse<Station>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn list_stations(cx: Ctx, ApiQuery(q): ApiQuery<StationQuery>) -> Result<Json<ListResponse<Station>>, ApiError> {
    let listing = stations::begin_list(&cx).await?;
    let filter = q.to_filter()?;
    let page = listing.run(&filter, Paging::new(q.page, q.per_page)).await?;
    Ok(Json(page.into()))
}

/// Register a station; it must lie inside the caller's scopes.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", request_body = StationInput,
    responses((status = 201, body = Station), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_station(cx: Ctx, input: JsonBody<StationInput>) -> Result<impl IntoResponse, ApiError> {
    let pending = stations::begin_create(&cx).await?;
    let input = input.parse()?;
    let st = pending.save(&input, 0).await?;
    let location = [(header::LOCATION, format!("/api/v1/stations/{}", st.id))];
    Ok((StatusCode::CREATED, location, etag(st.version), Json(st)))
}

/// One station.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = i64, Path)),
    responses((status = 200, body = Station), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn get_station(cx: Ctx, ApiPath(id): ApiPath<i64>) -> Result<impl IntoResponse, ApiError> {
    let st = stations::read(&cx, id).await?;
    Ok((etag(st.version), Json(st)))
}

/// Replace a station's fields; `version` must be the one last read, and the station must stay inside
/// the caller's scopes.
#[utoipa::path(put, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = i64, Path)), request_body = StationUpdate,
    responses((status = 200, body = Station), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_station(
    cx: Ctx,
    ApiPath(id): ApiPath<i64>,
    u: JsonBody<StationUpdate>,
) -> Result<impl IntoResponse, ApiError> {
    let pending = stations::begin_update(&cx, id).await?;
    let u = u.parse()?;
    let st = pending.save(&u.fields, u.version).await?;
    Ok((etag(st.version), Json(st)))
}

/// Close a station: it stays on record, and the finder no longer shows it.
#[utoipa::path(delete, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, body = Station), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn close_station(
    cx: Ctx,
    ApiPath(id): ApiPath<i64>,
    q: QueryLater<VersionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let pending = stations::begin_close(&cx, id).await?;
    let q = q.parse()?;
    let st = pending.close(q.version).await?;
    Ok((etag(st.version), Json(st)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(nearest)).routes(routes!(list_stations, create_station)).routes(routes!(
        get_station,
        update_station,
        close_station
    ))
}
