//! The signed-in user's own account (`app::accounts`): password, second factor, sessions. Every
//! signed-in user's; reached from their name in the page header, not from the navigation.

use super::Feature;

pub fn feature() -> Feature {
    Feature {
        name: "account",
        api: utoipa_axum::router::OpenApiRouter::new,
        page_routes: crate::pages::account::declared_routes,
        pages: crate::pages::account::routes,
        nav: &[],
        actions: &[],
    }
}
