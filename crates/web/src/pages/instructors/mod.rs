//! `/instructors`: Party-building instructors and the units they are assigned to. Mobile numbers are
//! personal data: pages show them masked (`138****1234`), never in full.

pub(super) mod form;
pub(super) mod mobile;

page_routes! {
    "/instructors" => get(list),
    "/instructors/new" => get(form::new).post(form::create),
    "/instructors/{id}" => get(show),
    "/instructors/{id}/edit" => get(form::edit).post(form::update),
    "/instructors/{id}/mobile" => post(mobile::reveal),
}

use super::lists::{PageQuery, Pager};
use super::{Failed, PageCtx, PageId};
use crate::app::permission::{self, Target};
use crate::auth::Actor;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use dangjian_domain::access::Action;
use dangjian_store::instructors::{Assignment, Instructor, InstructorFilter};
use minijinja::context;
use serde::Serialize;

/// An instructor as pages show them: the mobile number masked.
#[derive(Debug, Serialize)]
pub struct InstructorView {
    pub id: i64,
    pub name: String,
    pub mobile: String,
    pub dispatching_org: Option<String>,
    pub region_code: String,
    pub region_name: String,
    pub assignments: Vec<Assignment>,
    pub version: i64,
}

impl InstructorView {
    pub fn new(i: &Instructor) -> Self {
        InstructorView {
            id: i.id,
            name: i.name.clone(),
            mobile: i.mobile_masked.clone(),
            dispatching_org: i.dispatching_org.clone(),
            region_code: i.region_code.clone(),
            region_name: i.region_name.clone(),
            assignments: i.assignments.clone(),
            version: i.version,
        }
    }
}

pub(super) async fn list(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    q: PageQuery,
) -> Result<Response, Failed> {
    let access = permission::require(&s, &actor, Action::Read, "instructor.list").await.map_err(|r| r.page(&ctx))?;
    let term = super::lists::search_term(&q, ctx.lang).map_err(|m| ctx.bad_request(m))?;
    let filter = InstructorFilter { region: q.get("region"), unit: q.id("unit"), root: q.id("root"), q: term };
    let page = s.store.list_instructors(&filter, q.paging(), &access).await.map_err(ctx.store_err())?;
    let instructors: Vec<InstructorView> = page.items.iter().map(InstructorView::new).collect();
    Ok(ctx.render("instructors/list.html", context! { instructors, pager => Pager::of(&page), query => q.0 }))
}

pub(super) async fn show(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    q: PageQuery,
) -> Result<Response, Failed> {
    permission::authorize(&s, &actor, Action::Read, Target::Instructor(id), "instructor.read")
        .await
        .map_err(|r| r.page(&ctx))?;
    let i = s.store.instructor(id).await.map_err(ctx.store_err())?;
    let may_reveal_mobile = crate::app::personal::may_reveal_instructor_mobile(&s, &actor, id).await;
    Ok(ctx.render(
        "instructors/show.html",
        context! { instructor => InstructorView::new(&i), saved => q.get("saved").is_some(), may_reveal_mobile },
    ))
}
