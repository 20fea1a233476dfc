//! `/entities`: the units of platform chains — list with filters, a unit with its chain, organizations
//! and instructors, and the create and edit forms (in `form`).

mod form;

use super::instructors::InstructorView;
use super::lists::{entity_filter, entity_kinds, sectors, PageQuery, Pager};
use super::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use dangjian_store::instructors::InstructorFilter;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::{Paging, StoreError};
use minijinja::context;

/// Descendants shown on a unit's page; the rest are reachable through the list filtered by chain.
const CHAIN_LIMIT: i64 = 200;

async fn list(State(s): State<AppState>, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    let err = ctx.store_err();
    let (sector_options, sector_names) = sectors(&s.store, &ctx).await.map_err(&err)?;
    let filter = entity_filter(&q, ctx.lang);
    let (page, problem) = match filter {
        Ok(f) => match s.store.list_entities(&f, q.paging()).await {
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

async fn show(State(s): State<AppState>, ctx: PageCtx, PageId(id): PageId, q: PageQuery) -> Result<Response, Failed> {
    let err = ctx.store_err();
    let chain = s.store.entity_chain(id, CHAIN_LIMIT).await.map_err(&err)?;
    let all = Paging::new(Some(1), Some(Paging::MAX_PER_PAGE));
    let organizations =
        s.store.list_organizations(&OrgFilter { unit: Some(id), ..Default::default() }, all).await.map_err(&err)?;
    let instructors = s
        .store
        .list_instructors(&InstructorFilter { unit: Some(id), ..Default::default() }, all)
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/entities", get(list))
        .route("/entities/new", get(form::new).post(form::create))
        .route("/entities/{id}", get(show))
        .route("/entities/{id}/edit", get(form::edit).post(form::update))
}
