//! `/api/v1/stations`: worker stations, managed by the cadres whose scope holds them; and
//! `/api/v1/stations/nearest`, the public finder (no sign-in: workers have no account).

use super::entities::etag;
use super::{ListResponse, VersionQuery};
use crate::auth::Actor;
use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery, JsonBody, QueryLater};
use crate::i18n::Lang;
use crate::scope::{self, Target};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::NaiveDateTime;
use dangjian_domain::access::Action;
use dangjian_domain::services::finder::{FinderQuery, Nearby};
use dangjian_domain::services::stations::{navigation_links, Amenity, StationDraft, StationInput, StationStatus};
use dangjian_store::stations::{Station, StationFilter};
use dangjian_store::{Paging, StoreError};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// China Standard Time (UTC+8, no daylight saving): the local time stations keep their hours in.
pub fn china_time(state: &AppState) -> NaiveDateTime {
    (state.clock.now() + chrono::Duration::hours(8)).naive_utc()
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StationQuery {
    /// Region code: the region and its whole subtree.
    pub region: Option<String>,
    /// Stations offering this amenity (code).
    pub amenity: Option<String>,
    /// `active`, `suspended` or `closed` (default: all).
    pub status: Option<String>,
    /// Code, name, address or operating department contains.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl StationQuery {
    /// The store's filter; an unknown amenity or status is a 400 naming the parameter.
    pub fn to_filter(&self) -> Result<StationFilter, ApiError> {
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        let amenity = match nonempty(&self.amenity) {
            Some(a) => Some(Amenity::parse(&a, "amenity").map_err(|e| ApiError::bad_request("amenity", e.message))?),
            None => None,
        };
        let status = match nonempty(&self.status) {
            Some(s) if s != "all" => {
                Some(StationStatus::parse(&s).map_err(|e| ApiError::bad_request("status", e.message))?)
            }
            _ => None,
        };
        Ok(StationFilter { region: nonempty(&self.region), amenity, status, q: super::search_term(self.q.as_deref())? })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StationUpdate {
    /// The version the client last read; a stale one gets 409.
    pub version: i64,
    #[serde(flatten)]
    pub fields: StationInput,
}

/// An amenity with its name in the request's language.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AmenityView {
    pub code: Amenity,
    pub name: String,
}

/// Links that open a map app at the station.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Navigation {
    /// Amap (高德) web link; opens the app on a phone that has it.
    pub amap: String,
    /// RFC 5870 `geo:` URI (Android offers the installed map apps).
    pub geo: String,
}

/// One answer of the finder.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NearbyStation {
    pub id: i64,
    pub name: String,
    pub address: String,
    /// Great-circle distance from the asked position, in whole metres.
    pub distance_m: u64,
    pub latitude: f64,
    pub longitude: f64,
    pub amenities: Vec<AmenityView>,
    /// Opening hours in the request's language.
    pub opening_hours: String,
    /// Whether the station is open now (China time).
    pub open_now: bool,
    pub contact_phone: Option<String>,
    pub navigation: Navigation,
}

impl NearbyStation {
    pub fn new(n: &Nearby, now: NaiveDateTime, lang: Lang) -> Self {
        let s = &n.station;
        let (amap, geo) = navigation_links(s.position, &s.name);
        NearbyStation {
            id: s.id,
            name: s.name.clone(),
            address: s.address.clone(),
            distance_m: n.distance_m.round().max(0.0) as u64,
            latitude: s.position.lat,
            longitude: s.position.lng,
            amenities: s
                .amenities
                .to_vec()
                .into_iter()
                .map(|a| AmenityView { code: a, name: a.name(lang.code()).to_owned() })
                .collect(),
            opening_hours: s.hours.text(lang.code()),
            open_now: s.hours.is_open(now),
            contact_phone: s.contact_phone.clone(),
            navigation: Navigation { amap, geo },
        }
    }
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
async fn nearest(
    State(s): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Json<NearestResponse>, ApiError> {
    let now = china_time(&s);
    let q = parse_nearest(raw.as_deref().unwrap_or_default(), now)?;
    let found = s.stations.nearest(&q).await?;
    let items: Vec<NearbyStation> = found.iter().map(|n| NearbyStation::new(n, now, lang)).collect();
    let meta = NearestMeta { count: items.len(), local_time: now.format("%Y-%m-%dT%H:%M").to_string() };
    Ok(Json(NearestResponse { items, meta }))
}

/// List stations, of those in the caller's scopes.
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations", params(StationQuery),
    responses((status = 200, body = ListResponse<Station>), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn list_stations(
    State(s): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<StationQuery>,
) -> Result<Json<ListResponse<Station>>, ApiError> {
    let access = scope::require(&s, &actor, Action::Read, "station.list").await?;
    let filter = q.to_filter()?;
    let page = s.store.list_stations(&filter, Paging::new(q.page, q.per_page), &access).await?;
    Ok(Json(page.into()))
}

/// Applies a finished write to the finder and audits it.
async fn after_write(s: &AppState, actor: &Actor, action: &str, id: Option<i64>, result: &Result<Station, StoreError>) {
    if let Ok(st) = result {
        s.stations.after_write(st.id).await;
    }
    scope::audit_write(s, actor, action, id.map(Target::Station), result).await;
}

/// Register a station; it must lie inside the caller's scopes.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", request_body = StationInput,
    responses((status = 201, body = Station), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_station(
    State(s): State<AppState>,
    actor: Actor,
    input: JsonBody<StationInput>,
) -> Result<impl IntoResponse, ApiError> {
    let access = scope::require(&s, &actor, Action::Write, "station.create").await?;
    let input = input.parse()?;
    let draft = StationDraft::parse(&input)?;
    let result = s.store.create_station(&draft, &access).await;
    after_write(&s, &actor, "station.create", result.as_ref().ok().map(|st| st.id), &result).await;
    let st = result?;
    let location = [(header::LOCATION, format!("/api/v1/stations/{}", st.id))];
    Ok((StatusCode::CREATED, location, etag(st.version), Json(st)))
}

/// One station.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = i64, Path)),
    responses((status = 200, body = Station), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn get_station(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    scope::authorize(&s, &actor, Action::Read, Target::Station(id), "station.read").await?;
    let st = s.store.station(id).await?;
    Ok((etag(st.version), Json(st)))
}

/// Replace a station's fields; `version` must be the one last read, and the station must stay inside
/// the caller's scopes.
#[utoipa::path(put, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = i64, Path)), request_body = StationUpdate,
    responses((status = 200, body = Station), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_station(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    u: JsonBody<StationUpdate>,
) -> Result<impl IntoResponse, ApiError> {
    let target = Target::Station(id);
    let access = scope::authorize(&s, &actor, Action::Write, target, "station.update").await?;
    let u = u.parse()?;
    let draft = StationDraft::parse(&u.fields)?;
    let result = s.store.update_station(id, &draft, u.version, &access).await;
    after_write(&s, &actor, "station.update", Some(id), &result).await;
    let st = result?;
    Ok((etag(st.version), Json(st)))
}

/// Close a station: it stays on record, and the finder no longer shows it.
#[utoipa::path(delete, path = "/api/v1/stations/{id}", tag = "stations", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, body = Station), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn close_station(
    State(s): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    q: QueryLater<VersionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let target = Target::Station(id);
    let access = scope::authorize(&s, &actor, Action::Write, target, "station.close").await?;
    let q = q.parse()?;
    let result = s.store.close_station(id, q.version, &access).await;
    after_write(&s, &actor, "station.close", Some(id), &result).await;
    let st = result?;
    Ok((etag(st.version), Json(st)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(nearest)).routes(routes!(list_stations, create_station)).routes(routes!(
        get_station,
        update_station,
        close_station
    ))
}
