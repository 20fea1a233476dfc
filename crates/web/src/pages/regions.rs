//! `/regions` and `/regions/{code}`: the region tree — lineage, children with the number of units
//! registered below each (counted by the coverage index), and the units of the subtree with the list
//! filters.

use super::lists::{entity_filter, entity_kinds, sectors, PageQuery, Pager};
use super::{Failed, PageCtx};
use crate::app::{regions, Ctx};
use crate::auth::Actor;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use dangjian_store::coverage::ReadIfReady;
use dangjian_store::regions::{Region, RegionFilter};
use dangjian_store::{Paging, StoreError};
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;

page_routes! {
    "/regions" => get(index),
    "/regions/{code}" => get(show),
}

#[derive(Serialize)]
struct Child {
    #[serde(flatten)]
    region: Region,
    /// Regions directly below it.
    children: i64,
    /// Units registered in its subtree (that the viewer may read).
    units: u64,
}

pub async fn index(state: State<AppState>, actor: Actor, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    tree(state, actor, ctx, q, None).await
}

pub async fn show(
    state: State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    q: PageQuery,
    Path(code): Path<String>,
) -> Result<Response, Failed> {
    tree(state, actor, ctx, q, Some(code)).await
}

/// The tree is reference data, open to every signed-in role; the units in it are those the viewer
/// may read.
async fn tree(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    q: PageQuery,
    code: Option<String>,
) -> Result<Response, Failed> {
    let reading = regions::begin_read(&Ctx::new(&s, &actor)).await.map_err(ctx.app_err())?;
    let access = reading.registry_access();
    let err = ctx.store_err();
    let lineage = match &code {
        Some(c) => reading.lineage(c).await.map_err(ctx.app_err())?,
        None => Vec::new(),
    };
    let filter = RegionFilter { parent: Some(code.clone().unwrap_or_default()), ..Default::default() };
    let regions =
        reading.list(&filter, Paging::new(Some(1), Some(Paging::MAX_PER_PAGE))).await.map_err(ctx.app_err())?;
    let codes: Vec<String> = regions.items.iter().map(|r| r.code.clone()).collect();
    let child_counts = s.store.region_child_counts(&codes).await.map_err(&err)?;
    // Units per sub-region from the coverage index: one pass over the region's units in memory, not a
    // COUNT per sub-region.
    // While the coverage index is first built the page still answers, without the counts.
    let registered = match s.coverage.read_if_ready().await.map_err(&err)? {
        ReadIfReady::Ready(index) => {
            let visible = crate::coverage::visibility(&index, &actor);
            Some(index.registered_units(code.as_deref(), &visible).map_err(|_| ctx.not_found())?)
        }
        ReadIfReady::Building { .. } => None,
    };
    let counted = registered.is_some();
    let registered = registered.unwrap_or_default();
    let units_in: HashMap<&str, u64> = registered.children.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    let children: Vec<Child> = regions
        .items
        .into_iter()
        .map(|region| Child {
            children: child_counts.get(&region.code).copied().unwrap_or(0),
            units: units_in.get(region.code.as_str()).copied().unwrap_or(0),
            region,
        })
        .collect();
    let mut filter = entity_filter(&q, ctx.lang).map_err(|m| ctx.bad_request(m))?;
    filter.region = code.clone();
    let known_total = crate::coverage::registered_total(&s, &actor, &filter).await;
    let page = s.store.list_entities_counted(&filter, q.paging(), &access, known_total).await.map_err(|e| match e {
        StoreError::Invalid(_) => ctx.not_found(),
        e => err(e),
    })?;
    let (sector_options, sector_names) = sectors(&s.store, &ctx).await.map_err(&err)?;
    let region = lineage.last().cloned();
    Ok(ctx.render(
        "regions.html",
        context! {
            region, lineage, children,
            units => page.items, pager => Pager::of(&page), counted,
            query => q.0, sector_options, sector_names, kinds => entity_kinds(),
        },
    ))
}
