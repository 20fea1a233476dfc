//! Personal-data reveals (`app::personal`): personal data in full, one audited request at a time, to
//! those with `ReadPersonal` in a scope that covers it (`GET /api/v1/instructors/{id}/mobile`, never
//! cached). No page or link of its own: the instructor page's reveal form calls `app::personal` itself.

use super::Feature;
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "personal",
        api: crate::api::personal::router,
        page_routes: || &[],
        pages: axum::Router::new,
        nav: &[],
        actions: &[Action::ReadPersonal],
    }
}
