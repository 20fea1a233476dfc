//! `/entities`: the units of platform chains — list with filters, a unit with its chain, organizations
//! and instructors, and the create and edit forms (in `form`).

pub(super) mod form;

use super::instructors::InstructorView;
use super::lists::{entity_filter, entity_kinds, sectors, PageQuery, Pager};
use super::{Failed, PageCtx, PageId};
use crate::auth::Actor;
use crate::scope::{self, Target};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dangjian_domain::access::Action;
use dangjian_store::instructors::InstructorFilter;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::{Paging, StoreError};
use minijinja::context;

/// Descendants shown on a unit's page; the rest are reachable through the list filtered by chain.
const CHAIN_LIMIT: i64 = 200;

pub(super) async fn list(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    q: PageQuery,
) -> Result<Response, Failed> {
    let access = scope::require(&s, &actor, Action::Read, "entity.list").await.map_err(|r| r.page(&ctx))?;
    let err = ctx.store_err();
    let (sector_options, sector_names) = sectors(&s.store, &ctx).await.map_err(&err)?;
    let filter = entity_filter(&q, ctx.lang);
    let (page, problem) = match filter {
        Ok(f) => match s.store.list_entities(&f, q.paging(), &access).await {
            Ok(p) => (Some(p), None),
            Err(StoreError::Invalid(e)) => (
                None,
                Some(e.0.iter().map(|e| e.message_in(ctx.lang.code()).to_owned()).collect::<Vec<_>>().join("; ")),
            ),
            Err(e) => return Err(err(e)),
        },
        Err(m) => (None, Some(m)),
    };
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let pager = page.as_ref().map(Pager::of);
    let units = page.map(|p| p.items).unwrap_or_default();
    Ok(ctx.render_status(
        status,
        "entities/list.html",
        context! { units, pager, problem, query => q.0, sector_options, sector_names, kinds => entity_kinds() },
    ))
}

/// A unit with the parts of its chain, its organizations and its instructors that the viewer may read.
pub(super) async fn show(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    q: PageQuery,
) -> Result<Response, Failed> {
    let access = scope::authorize(&s, &actor, Action::Read, Target::Entity(id), "entity.read")
        .await
        .map_err(|r| r.page(&ctx))?;
    let err = ctx.store_err();
    let chain = s.store.entity_chain(id, CHAIN_LIMIT, &access).await.map_err(&err)?;
    let all = Paging::new(Some(1), Some(Paging::MAX_PER_PAGE));
    let organizations = s
        .store
        .list_organizations(&OrgFilter { unit: Some(id), ..Default::default() }, all, &access)
        .await
        .map_err(&err)?;
    let instructors = s
        .store
        .list_instructors(&InstructorFilter { unit: Some(id), ..Default::default() }, all, &access)
        .await
        .map_err(&err)?;
    let instructors: Vec<InstructorView> = instructors.items.iter().map(InstructorView::new).collect();
    let (_, sector_names) = sectors(&s.store, &ctx).await.map_err(&err)?;
    Ok(ctx.render(
        "entities/show.html",
        context! {
            entity => chain.entity,
            ancestors => chain.ancestors,
            descendants => chain.descendants,
            descendants_total => chain.descendants_total,
            organizations => organizations.items,
            instructors,
            sector_names,
            saved => q.get("saved").is_some(),
        },
    ))
}
