//! `/coverage/gaps`: every gap of the query — by rule, sorted, a page at a time — each row linking to its
//! unit, with the rule it breaks and the fix; the same list as a spreadsheet through the API's export.

use super::{failed, is_bad_query, tiers};
use crate::auth::Actor;
use crate::coverage::{CoverageParams, GapParams};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::pages::lists::{sectors, PageQuery, Pager};
use crate::pages::{Failed, PageCtx};
use crate::views::coverage::{gap_items, gap_options, gap_page, prepare, GapItem};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use dangjian_domain::access::Action;
use dangjian_domain::coverage::gaps::GapRule;
use dangjian_store::{Page, Paging};
use minijinja::context;
use serde::Serialize;

/// Rows per page of the gap list.
const PER_PAGE: i64 = 50;

/// A rule for the filter's select, named in the page's language.
#[derive(Serialize)]
struct RuleOption {
    code: &'static str,
    text: &'static str,
}

#[derive(Serialize)]
struct GapPage {
    date: NaiveDate,
    items: Vec<GapItem>,
    pager: Pager,
}

async fn load(s: &AppState, actor: &Actor, q: &PageQuery, lang: Lang) -> Result<GapPage, ApiError> {
    let params = CoverageParams {
        region: q.get("region"),
        sector: q.get("sector"),
        tier: q.get("tier"),
        chain: q.id("chain"),
        date: q.get("date"),
    };
    let options = GapParams { rule: q.get("rule"), sort: q.get("sort"), page: None, per_page: None };
    let p = prepare(s, actor, &params, "gaps.read").await?;
    let (rule, order) = gap_options(&options)?;
    // The asked-for page, or the last one when it is past the end.
    let asked = Paging::new(q.id("page"), Some(PER_PAGE));
    let offset = usize::try_from(asked.offset()).unwrap_or(usize::MAX);
    let (total, mut shown) = gap_page(s, actor, &p, rule, order, offset, PER_PAGE as usize).await?;
    let total = total as i64;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = asked.page.min(pages);
    if page < asked.page {
        let offset = usize::try_from((page - 1) * PER_PAGE).unwrap_or(0);
        shown = gap_page(s, actor, &p, rule, order, offset, PER_PAGE as usize).await?.1;
    }
    let items = gap_items(s, shown, lang).await?;
    let pager = Pager::of(&Page { items: Vec::<()>::new(), total, page, per_page: PER_PAGE });
    Ok(GapPage { date: p.date, items, pager })
}

pub(in crate::pages) async fn list(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    q: PageQuery,
) -> Result<Response, Failed> {
    let (sector_options, sector_names) = sectors(&s.store, &ctx).await.map_err(ctx.store_err())?;
    let (status, gaps, problem) = match load(&s, &actor, &q, ctx.lang).await {
        Ok(g) => (StatusCode::OK, Some(g), None),
        Err(e) if is_bad_query(&e) => (StatusCode::BAD_REQUEST, None, Some(e.message_in(ctx.lang))),
        Err(e) => return Err(failed(&ctx, e)),
    };
    let rules: Vec<RuleOption> =
        GapRule::ALL.iter().map(|r| RuleOption { code: r.as_str(), text: r.text(ctx.lang.code()) }).collect();
    Ok(ctx.render_status(
        status,
        "coverage/gaps.html",
        context! { g => gaps, problem, query => q.0, rules, sorts => ["rule", "members", "region"], sector_options,
        sector_names, tiers => tiers(), may_export => actor.may(Action::Export) },
    ))
}
