//! Case reference data through the API (`api::case_setup`, `app::case_settings`): the categories
//! (public: the worker's form needs them), the departments that handle cases and the routing table
//! (read by anyone signed in, changed by the system administrator). Its page, the case rules, is the
//! administrators' (see [`super::admin`]); no link of its own.

use super::Feature;
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "case_setup",
        api: crate::api::case_setup::router,
        page_routes: || &[],
        pages: axum::Router::new,
        nav: &[],
        actions: &[Action::ReadReference, Action::ManageReference],
    }
}
