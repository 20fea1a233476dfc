//! Sectors (`app::sectors`): reference data every signed-in role reads and the system administrator
//! keeps; the API only (`/api/v1/sectors`) — the pages show sectors inside the registry's lists.

use super::Feature;
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "sectors",
        api: crate::api::sectors::router,
        page_routes: || &[],
        pages: axum::Router::new,
        nav: &[],
        actions: &[Action::ReadReference, Action::ManageReference],
    }
}
