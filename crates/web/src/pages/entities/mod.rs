//! `/entities`: the units of platform chains — list with filters, a unit with its chain, organizations
//! and instructors, and the create and edit forms (in `form`).

pub(super) mod form;

page_routes! {
    "/entities" => get(list),
    "/entities/new" => get(form::new).post(form::create),
    "/entities/{id}" => get(show),
    "/entities/{id}/edit" => get(form::edit).post(form::update),
}

use super::instructors::InstructorView;
use super::lists::{entity_filter, entity_kinds, sectors, PageQuery, Pager};
use super::{Failed, PageCtx, PageId};
use crate::app::permission::{self, Target};
use crate::auth::Actor;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dangjian_domain::access::Action;
use dangjian_domain::{EntityKind, SearchTerm};
use dangjian_store::entities::{ChainFilter, TierPage};
use dangjian_store::instructors::InstructorFilter;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::{Page, Paging, StoreError};
use minijinja::context;

/// Units of each tier below a unit shown on its page; the rest are a search or a tier's pages away.
const CHAIN_PREVIEW: i64 = 10;

pub(super) async fn list(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    q: PageQuery,
) -> Result<Response, Failed> {
    let access = permission::require(&s, &actor, Action::Read, "entity.list").await.map_err(|r| r.page(&ctx))?;
    let err = ctx.store_err();
    let (sector_options, sector_names) = sectors(&s.store, &ctx).await.map_err(&err)?;
    let filter = entity_filter(&q, ctx.lang);
    let (page, problem) = match filter {
        Ok(f) => match s
            .store
            .list_entities_counted(&f, q.paging(), &access, crate::coverage::registered_total(&s, &actor, &f).await)
            .await
        {
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
    let access = permission::authorize(&s, &actor, Action::Read, Target::Entity(id), "entity.read")
        .await
        .map_err(|r| r.page(&ctx))?;
    let err = ctx.store_err();
    let tier = match q.get("tier").filter(|t| !t.trim().is_empty()) {
        Some(t) => Some(EntityKind::parse(t.trim()).map_err(|e| ctx.bad_request(e.message_in(ctx.lang.code())))?),
        None => None,
    };
    let text = SearchTerm::parse(&q.get("q").unwrap_or_default(), "q")
        .map_err(|e| ctx.bad_request(e.message_in(ctx.lang.code())))?;
    // A search or one tier: a paged list; otherwise each tier's first units.
    let (ancestors, entity, tiers, below) = if tier.is_some() || text.is_some() {
        let f = ChainFilter { tier, q: text };
        let counts = crate::coverage::chain_tier_counts(&s, &actor, id).await;
        let c = s.store.entity_chain_page(id, &f, q.paging(), &access, counts).await.map_err(&err)?;
        let page = Page { items: Vec::<()>::new(), total: c.descendants_total, page: c.page, per_page: c.per_page };
        let tiers = c.by_tier.iter().map(|t| TierPage { tier: t.tier, count: t.count, items: Vec::new() }).collect();
        let items: Vec<_> = c.descendants.into_iter().map(|m| m.entity).collect();
        (c.ancestors, c.entity, tiers, Some((items, Pager::of(&page))))
    } else {
        let counts = crate::coverage::chain_tier_counts(&s, &actor, id).await;
        let o = s.store.entity_chain_overview(id, CHAIN_PREVIEW, &access, counts).await.map_err(&err)?;
        (o.ancestors, o.entity, o.tiers, None)
    };
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
    let descendants_total: i64 = tiers.iter().map(|t| t.count).sum();
    let (found, pager) = below.map_or((None, None), |(items, pager)| (Some(items), Some(pager)));
    Ok(ctx.render(
        "entities/show.html",
        context! {
            entity, ancestors, tiers, descendants_total, found, pager,
            chain_query => q.0.clone(), query => q.0,
            organizations => organizations.items,
            instructors,
            sector_names,
            saved => q.get("saved").is_some(),
        },
    ))
}
