//! `/coverage`: the coverage dashboard of a region, `/coverage/platforms/{id}` the same over a platform's
//! chain, `/coverage/gaps` the whole gap list. The figures come from the API's functions over the
//! reader's scope; a query the engine cannot answer (a bad date, an unknown region) shows its message
//! above the filters, with a 400. While the coverage index is being built they answer 503 with
//! `Retry-After` and a page saying when to come back.

mod gaps;
mod view;

page_routes! {
    "/coverage" => get(index),
    "/coverage/platforms/{id}" => get(platform),
    "/coverage/gaps" => get(gaps::list),
}

use super::lists::{sectors, PageQuery};
use super::{Failed, PageCtx, PageError, PageId};
use crate::auth::Actor;
use crate::coverage::CoverageParams;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dangjian_domain::access::Action;
use dangjian_domain::EntityKind;
use minijinja::context;

async fn index(State(s): State<AppState>, actor: Actor, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    show(&s, &actor, ctx, q, None).await
}

async fn platform(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    q: PageQuery,
) -> Result<Response, Failed> {
    show(&s, &actor, ctx, q, Some(id)).await
}

/// The engine's query from the page's: `chain` from the path only.
fn params(q: &PageQuery, chain: Option<i64>) -> CoverageParams {
    CoverageParams { region: q.get("region"), sector: q.get("sector"), tier: q.get("tier"), chain, date: q.get("date") }
}

/// A refusal or failure of the API's functions as a page error.
fn failed(ctx: &PageCtx, e: ApiError) -> Failed {
    let kind = match e.status {
        StatusCode::NOT_FOUND => PageError::NotFound,
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => PageError::Forbidden,
        StatusCode::SERVICE_UNAVAILABLE => PageError::Unavailable { retry_after: e.retry_after.unwrap_or(5) },
        s if s.is_client_error() => PageError::BadRequest(e.message_in(ctx.lang)),
        _ => PageError::Internal,
    };
    Failed(ctx.clone(), kind)
}

/// A query the page can show again with its message (400), rather than an error page.
fn is_bad_query(e: &ApiError) -> bool {
    e.status == StatusCode::BAD_REQUEST
}

fn tiers() -> Vec<&'static str> {
    EntityKind::ALL.iter().map(|k| k.as_str()).collect()
}

async fn show(s: &AppState, actor: &Actor, ctx: PageCtx, q: PageQuery, chain: Option<i64>) -> Result<Response, Failed> {
    let base = chain.map_or_else(|| "/coverage".to_owned(), |id| format!("/coverage/platforms/{id}"));
    let (sector_options, sector_names) = sectors(&s.store, &ctx).await.map_err(ctx.store_err())?;
    let may_export = actor.may(Action::Export);
    let (status, dashboard, problem) = match view::dashboard(s, actor, &params(&q, chain), ctx.lang).await {
        Ok(d) => (StatusCode::OK, Some(d), None),
        // A platform page about a unit that is not a platform: there is no such page.
        Err(e) if chain.is_some() && e.field.as_deref() == Some("chain") => return Err(ctx.not_found()),
        Err(e) if is_bad_query(&e) => (StatusCode::BAD_REQUEST, None, Some(e.message_in(ctx.lang))),
        Err(e) => return Err(failed(&ctx, e)),
    };
    Ok(ctx.render_status(
        status,
        "coverage/dashboard.html",
        context! { d => dashboard, problem, base, platform => chain, query => q.0, sector_options, sector_names,
        tiers => tiers(), may_export },
    ))
}
