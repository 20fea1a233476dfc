//! `/`: the way in. For a visitor not signed in, the workers' front door (find a station, report a need or
//! a problem, follow a case; the cadres' sign-in one tap away). For a cadre: search, the registry's counts and today's coverage in the viewer's scope, and the
//! provinces of the region tree. The counts come from the coverage index (one pass in memory), not
//! from a `COUNT(*)` per figure over the registry.

use super::{Failed, PageCtx};
use crate::auth::Actor;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use dangjian_domain::coverage::index::Filter;
use dangjian_store::coverage::ReadIfReady;
use dangjian_store::regions::RegionFilter;
use dangjian_store::Paging;
use minijinja::context;
use serde::Serialize;

#[derive(Serialize)]
struct KindCount {
    kind: &'static str,
    count: u64,
}

/// The counts are of the records the viewer may read (none for the administrators). While the coverage
/// index is first built the page still answers, without the counts.
pub async fn show(State(s): State<AppState>, actor: Actor, ctx: PageCtx) -> Result<Response, Failed> {
    // A visitor who is not signed in is a worker as often as not: the worker services, sign-in a tap away.
    if !actor.is_authenticated() {
        return Ok(ctx.render("front.html", context! {}));
    }
    let err = ctx.store_err();
    let today = crate::coverage::today(&s);
    let counts = match s.coverage.read_if_ready().await.map_err(&err)? {
        ReadIfReady::Ready(index) => {
            let visible = crate::coverage::visibility(&index, &actor);
            let registered = index.registered_units(None, &visible).map_err(|_| ctx.not_found())?;
            let rollup = index.rollup(&Filter::default(), today, &visible).map_err(|_| ctx.not_found())?;
            Some((registered, rollup.totals))
        }
        ReadIfReady::Building { .. } => None,
    };
    let provinces =
        s.store.list_regions(&RegionFilter::default(), Paging::new(Some(1), Some(100))).await.map_err(&err)?.items;
    let Some((registered, totals)) = counts else {
        return Ok(ctx.render("home.html", context! { building => true, provinces }));
    };
    let by_kind: Vec<KindCount> =
        registered.by_tier.iter().map(|(k, n)| KindCount { kind: k.as_str(), count: *n }).collect();
    Ok(ctx.render(
        "home.html",
        context! {
            by_kind, units => registered.total, operating => totals.units,
            organizations => totals.organizations.unwrap_or(0), instructors => totals.instructors.unwrap_or(0),
            coverage_rate => totals.coverage_rate, work_coverage_rate => totals.work_coverage_rate, provinces
        },
    ))
}
