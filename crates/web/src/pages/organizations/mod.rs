//! `/organizations`: Party organizations — list with filters, one organization with its units and
//! sub-organizations, and the create and edit forms (in `form`).

pub(super) mod form;

page_routes! {
    "/organizations" => get(list),
    "/organizations/new" => get(form::new).post(form::create),
    "/organizations/{id}" => get(show),
    "/organizations/{id}/edit" => get(form::edit).post(form::update),
}

use super::lists::{PageQuery, Pager};
use super::{Failed, PageCtx, PageId};
use crate::app::permission::{self, Target};
use crate::auth::Actor;
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dangjian_domain::access::Action;
use dangjian_domain::OrgKind;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::{Paging, StoreError};
use minijinja::context;

fn org_filter(q: &PageQuery, lang: Lang) -> Result<OrgFilter, String> {
    let kind = match q.get("kind") {
        Some(k) => Some(OrgKind::parse(&k).map_err(|e| e.message_in(lang.code()).to_owned())?),
        None => None,
    };
    let dissolved = match q.get("status").as_deref() {
        None | Some("all") => None,
        Some("active") => Some(false),
        Some("dissolved") => Some(true),
        Some(_) => return Err(lang.t("filter.bad_status", &[])),
    };
    Ok(OrgFilter {
        region: q.get("region"),
        kind,
        unit: q.id("unit"),
        root: q.id("root"),
        sector: q.get("sector"),
        parent: q.id("parent"),
        q: super::lists::search_term(q, lang)?,
        dissolved,
    })
}

fn org_kinds() -> Vec<&'static str> {
    OrgKind::ALL.iter().map(|k| k.as_str()).collect()
}

pub(super) async fn list(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    q: PageQuery,
) -> Result<Response, Failed> {
    let access = permission::require(&s, &actor, Action::Read, "organization.list").await.map_err(|r| r.page(&ctx))?;
    let (page, problem) = match org_filter(&q, ctx.lang) {
        Ok(f) => match s.store.list_organizations(&f, q.paging(), &access).await {
            Ok(p) => (Some(p), None),
            Err(StoreError::Invalid(e)) => (
                None,
                Some(e.0.iter().map(|e| e.message_in(ctx.lang.code()).to_owned()).collect::<Vec<_>>().join("; ")),
            ),
            Err(e) => return Err(ctx.store_err()(e)),
        },
        Err(m) => (None, Some(m)),
    };
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let pager = page.as_ref().map(Pager::of);
    let organizations = page.map(|p| p.items).unwrap_or_default();
    Ok(ctx.render_status(
        status,
        "organizations/list.html",
        context! { organizations, pager, problem, query => q.0, kinds => org_kinds() },
    ))
}

/// An organization with the sub-organizations the viewer may read.
pub(super) async fn show(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    q: PageQuery,
) -> Result<Response, Failed> {
    let access = permission::authorize(&s, &actor, Action::Read, Target::Organization(id), "organization.read")
        .await
        .map_err(|r| r.page(&ctx))?;
    let err = ctx.store_err();
    let org = s.store.organization(id).await.map_err(&err)?;
    let all = Paging::new(Some(1), Some(Paging::MAX_PER_PAGE));
    let children = s
        .store
        .list_organizations(&OrgFilter { parent: Some(id), ..Default::default() }, all, &access)
        .await
        .map_err(&err)?;
    Ok(ctx.render(
        "organizations/show.html",
        context! { org, children => children.items, saved => q.get("saved").is_some() },
    ))
}
