//! What the station API and the station pages share: the list's query parameters and the finder's
//! answer, in the request's language.

use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;
use chrono::NaiveDateTime;
use dangjian_domain::services::finder::Nearby;
use dangjian_domain::services::stations::{navigation_links, Amenity, StationStatus};
use dangjian_store::stations::StationFilter;
use serde::{Deserialize, Serialize};

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
        Ok(StationFilter {
            region: nonempty(&self.region),
            amenity,
            status,
            q: crate::api::search_term(self.q.as_deref())?,
        })
    }
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
