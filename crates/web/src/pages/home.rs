//! `/`: the way in — search, the provinces of the region tree, and the registry's counts.

use super::lists::count_entities;
use super::{Failed, PageCtx};
use crate::auth::Actor;
use crate::scope;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use dangjian_domain::access::Action;
use dangjian_domain::EntityKind;
use dangjian_store::entities::EntityFilter;
use dangjian_store::instructors::InstructorFilter;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::regions::RegionFilter;
use dangjian_store::Paging;
use minijinja::context;
use serde::Serialize;

#[derive(Serialize)]
struct KindCount {
    kind: &'static str,
    count: i64,
}

/// The counts are of the records the viewer may read (none for the administrators).
pub async fn show(State(s): State<AppState>, actor: Actor, ctx: PageCtx) -> Result<Response, Failed> {
    let err = ctx.store_err();
    let access = scope::filter(&actor, Action::Read);
    let mut by_kind = Vec::new();
    for k in EntityKind::ALL {
        let count = count_entities(&s.store, &EntityFilter { kind: Some(k), ..Default::default() }, &access)
            .await
            .map_err(&err)?;
        by_kind.push(KindCount { kind: k.as_str(), count });
    }
    let one = Paging::new(Some(1), Some(1));
    let units = count_entities(&s.store, &EntityFilter::default(), &access).await.map_err(&err)?;
    let operating = count_entities(&s.store, &EntityFilter { closed: Some(false), ..Default::default() }, &access)
        .await
        .map_err(&err)?;
    let organizations = s
        .store
        .list_organizations(&OrgFilter { dissolved: Some(false), ..Default::default() }, one, &access)
        .await
        .map_err(&err)?
        .total;
    let instructors = s.store.list_instructors(&InstructorFilter::default(), one, &access).await.map_err(&err)?.total;
    let provinces =
        s.store.list_regions(&RegionFilter::default(), Paging::new(Some(1), Some(100))).await.map_err(&err)?.items;
    Ok(ctx.render("home.html", context! { by_kind, units, operating, organizations, instructors, provinces }))
}
