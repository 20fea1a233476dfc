//! `/stations/near`: the public finder, built for a phone. A worker lets the browser share their
//! position (`/static/finder.js` fills the form) or types a district; the nearest active stations come
//! back with distance, amenities, hours and a link that opens a map app. The position is used for this
//! one answer: it is not logged (request spans carry no query string), stored or audited.

use super::amenity_options;
use crate::pages::lists::PageQuery;
use crate::pages::{Failed, PageCtx};
use crate::views::stations::{china_time, NearbyStation};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use dangjian_domain::services::finder::FinderQuery;
use dangjian_domain::services::stations::LatLng;
use minijinja::context;

/// The region a typed district names, with the centre of its stations: an exact name first, counties
/// before other levels; of regions sharing a name (朝阳区 is in Beijing and in Changchun), the first
/// that has stations. `Ok(None)` when no region has the name; a centre of `None` when none has stations.
async fn district(s: &AppState, text: &str) -> Result<Option<(String, Option<LatLng>)>, dangjian_store::StoreError> {
    let found = s.store.regions_named(text).await?;
    let Some(first) = found.first() else { return Ok(None) };
    let best_name = first.name.clone();
    for r in found.iter().filter(|r| r.name == best_name).take(10) {
        if let Some(centre) = s.store.station_centroid(&r.code).await? {
            return Ok(Some((r.name.clone(), Some(centre))));
        }
    }
    Ok(Some((best_name, None)))
}

pub async fn page(
    State(s): State<AppState>,
    ctx: PageCtx,
    q: PageQuery,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failed> {
    let raw = raw.unwrap_or_default();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
    let wanted: Vec<&str> = pairs.iter().filter(|(k, _)| k == "amenity").map(|(_, v)| v.as_str()).collect();
    let now = china_time(&s);
    let open_now = q.get("open_now").map(|_| "true");
    let limit = Some("20");
    let mut problem: Option<String> = None;
    let mut place: Option<String> = None;
    // A typed district wins over a position left in the form from an earlier search.
    let from: Option<(Option<String>, Option<String>)> = match q.get("district") {
        Some(text) => match district(&s, &text).await.map_err(ctx.store_err())? {
            None => {
                problem = Some(ctx.lang.t("near.no_district", &[("name", text)]));
                None
            }
            Some((name, centre)) => match centre {
                None => {
                    problem = Some(ctx.lang.t("near.none_in_district", &[("name", name)]));
                    None
                }
                Some(LatLng { lat, lng }) => {
                    place = Some(name);
                    Some((Some(lat.to_string()), Some(lng.to_string())))
                }
            },
        },
        None if q.get("lat").is_some() || q.get("lng").is_some() => Some((q.get("lat"), q.get("lng"))),
        None => None,
    };
    let mut results: Option<Vec<NearbyStation>> = None;
    if let Some((lat, lng)) = from {
        match FinderQuery::parse(lat.as_deref(), lng.as_deref(), limit, &wanted, open_now, now) {
            Ok(fq) => {
                let cx = crate::app::Ctx::new(&s, &crate::auth::Actor::default());
                let found = crate::app::stations::nearest(&cx, &fq).await.map_err(ctx.app_err())?;
                results = Some(found.iter().map(|n| NearbyStation::new(n, now, ctx.lang)).collect());
            }
            Err(errs) => {
                let text: Vec<String> = errs.0.iter().map(|e| e.message_in(ctx.lang.code())).collect();
                problem = Some(text.join("; "));
            }
        }
    }
    let searched_position = q.get("district").is_none() && results.is_some();
    Ok(ctx.render(
        "stations/near.html",
        context! {
            results, problem, place, searched_position,
            lat => if searched_position { q.get("lat") } else { None },
            lng => if searched_position { q.get("lng") } else { None },
            district => q.get("district"),
            wanted => wanted.iter().flat_map(|v| v.split(',')).map(str::trim).collect::<Vec<_>>(),
            open_now => open_now.is_some(),
            amenities => amenity_options(&ctx),
        },
    ))
}
