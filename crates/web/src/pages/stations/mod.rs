//! `/stations`: worker stations for the cadres who manage them — list with filters, one station, the
//! forms (in `form`) — and `/stations/near`, the public finder for workers (in `near`).

pub(super) mod form;
pub(super) mod near;

page_routes! {
    "/stations" => get(list),
    "/stations/near" => get(near::page),
    "/stations/new" => get(form::new).post(form::create),
    "/stations/{id}" => get(show),
    "/stations/{id}/edit" => get(form::edit).post(form::update),
}

use super::lists::{PageQuery, Pager};
use super::{Failed, PageCtx, PageId};
use crate::app::{stations, Ctx};
use crate::views::stations::StationQuery;
use axum::response::Response;
use dangjian_domain::services::stations::{navigation_links, Amenity, LatLng, StationStatus};
use dangjian_store::stations::Station;
use minijinja::context;
use serde::Serialize;

/// An amenity for checkboxes and labels, named in the page's language.
#[derive(Debug, Serialize)]
pub struct AmenityOption {
    pub code: &'static str,
    pub name: &'static str,
}

pub fn amenity_options(ctx: &PageCtx) -> Vec<AmenityOption> {
    Amenity::ALL.iter().map(|a| AmenityOption { code: a.as_str(), name: a.name(ctx.lang.code()) }).collect()
}

/// A station as pages show it.
#[derive(Debug, Serialize)]
struct StationView {
    #[serde(flatten)]
    station: Station,
    amenity_names: Vec<&'static str>,
    hours_text: String,
    amap: String,
}

impl StationView {
    fn new(s: Station, ctx: &PageCtx) -> Self {
        let amenity_names = s.amenities.iter().map(|a| a.name(ctx.lang.code())).collect();
        let hours_text = dangjian_domain::services::hours::OpeningHours::parse(&s.opening_hours)
            .map(|h| h.text(ctx.lang.code()))
            .unwrap_or_else(|_| s.opening_hours.clone());
        let (amap, _) = navigation_links(LatLng { lat: s.latitude, lng: s.longitude }, &s.name);
        Self { station: s, amenity_names, hours_text, amap }
    }
}

fn statuses() -> Vec<&'static str> {
    StationStatus::ALL.iter().map(|s| s.as_str()).collect()
}

pub(super) async fn list(cx: Ctx, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    let listing = stations::begin_list(&cx).await.map_err(ctx.app_err())?;
    let query = StationQuery {
        region: q.get("region"),
        amenity: q.get("amenity"),
        status: q.get("status"),
        q: q.get("q"),
        ..Default::default()
    };
    let filter = query.to_filter().map_err(|e| ctx.bad_request(e.message_in(ctx.lang)))?;
    let page = listing.run(&filter, q.paging()).await.map_err(ctx.app_err())?;
    let pager = Pager::of(&page);
    let stations: Vec<StationView> = page.items.into_iter().map(|st| StationView::new(st, &ctx)).collect();
    Ok(ctx.render(
        "stations/list.html",
        context! { stations, pager, query => q.0, amenities => amenity_options(&ctx), statuses => statuses() },
    ))
}

pub(super) async fn show(cx: Ctx, ctx: PageCtx, PageId(id): PageId, q: PageQuery) -> Result<Response, Failed> {
    let st = stations::read(&cx, id).await.map_err(ctx.app_err())?;
    Ok(ctx.render(
        "stations/show.html",
        context! { station => StationView::new(st, &ctx), saved => q.get("saved").is_some() },
    ))
}
