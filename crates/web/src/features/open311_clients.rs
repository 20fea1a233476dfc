//! Open311 clients and their keys (`app::open311_clients`): the system administrator's, through
//! `/api/v1/open311-clients` and `dangjian open311` (the GeoReport endpoints themselves, under
//! `/open311/v2/`, are Open311's own router).

use super::Feature;
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "open311_clients",
        api: crate::api::open311_clients::router,
        page_routes: || &[],
        pages: axum::Router::new,
        nav: &[],
        actions: &[Action::ManageReference],
    }
}
