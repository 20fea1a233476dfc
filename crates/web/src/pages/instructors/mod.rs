//! `/instructors`: Party-building instructors and the units they are assigned to. Mobile numbers are
//! personal data: pages show them masked (`138****1234`), never in full.

mod form;

use super::lists::{PageQuery, Pager};
use super::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use dangjian_domain::Mobile;
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

/// The masked form of a stored number; a number that no longer parses is hidden entirely.
pub fn masked_mobile(mobile: &str) -> String {
    Mobile::parse(mobile).map(|m| m.masked()).unwrap_or_else(|_| "***********".to_owned())
}

impl InstructorView {
    pub fn new(i: &Instructor) -> Self {
        InstructorView {
            id: i.id,
            name: i.name.clone(),
            mobile: masked_mobile(&i.mobile),
            dispatching_org: i.dispatching_org.clone(),
            region_code: i.region_code.clone(),
            region_name: i.region_name.clone(),
            assignments: i.assignments.clone(),
            version: i.version,
        }
    }
}

async fn list(State(s): State<AppState>, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    let filter = InstructorFilter { region: q.get("region"), unit: q.id("unit"), root: q.id("root"), q: q.get("q") };
    let page = s.store.list_instructors(&filter, q.paging()).await.map_err(ctx.store_err())?;
    let instructors: Vec<InstructorView> = page.items.iter().map(InstructorView::new).collect();
    Ok(ctx.render("instructors/list.html", context! { instructors, pager => Pager::of(&page), query => q.0 }))
}

async fn show(State(s): State<AppState>, ctx: PageCtx, PageId(id): PageId, q: PageQuery) -> Result<Response, Failed> {
    let i = s.store.instructor(id).await.map_err(ctx.store_err())?;
    Ok(ctx.render(
        "instructors/show.html",
        context! { instructor => InstructorView::new(&i), saved => q.get("saved").is_some() },
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/instructors", get(list))
        .route("/instructors/new", get(form::new).post(form::create))
        .route("/instructors/{id}", get(show))
        .route("/instructors/{id}/edit", get(form::edit).post(form::update))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_are_masked() {
        assert_eq!(masked_mobile("13812341234"), "138****1234");
        assert_eq!(masked_mobile("garbage"), "***********");
    }
}
