//! Every route the app serves is listed in a route table: the API's in its OpenAPI document (routes and
//! document are declared together), the pages' in [`crate::pages::page_routes`]. The authorization
//! matrix test walks both tables and fails on a route without an access rule; this guard closes the
//! gap from the other side: a route added outside the tables is not served (500, logged), so it cannot
//! slip past the matrix unnoticed.

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashSet;
use std::sync::Arc;

/// The path templates of every listed route.
#[derive(Debug, Clone, Default)]
pub struct RouteTable(Arc<HashSet<String>>);

/// Routes the app itself adds beside the two tables.
pub const APP_ROUTES: &[(&str, &str)] = &[("GET", "/api/openapi.json")];

impl RouteTable {
    /// The table of the API (`openapi`) and the pages.
    pub fn new(openapi: &utoipa::openapi::OpenApi) -> Self {
        let mut paths: HashSet<String> = openapi.paths.paths.keys().cloned().collect();
        paths.extend(crate::pages::page_routes().iter().map(|(_, p)| (*p).to_owned()));
        paths.extend(APP_ROUTES.iter().map(|(_, p)| (*p).to_owned()));
        Self(Arc::new(paths))
    }

    pub fn contains(&self, path: &str) -> bool {
        self.0.contains(path)
    }
}

/// The path templates of every GET route of the tables (the API's, the pages', the app's own), sorted:
/// what `dangjian bench pages` times.
pub fn get_routes() -> Vec<String> {
    let (_, openapi) = crate::api::router().split_for_parts();
    let mut out: Vec<String> =
        openapi.paths.paths.iter().filter(|(_, item)| item.get.is_some()).map(|(p, _)| p.clone()).collect();
    out.extend(crate::pages::page_routes().iter().filter(|(m, _)| *m == "GET").map(|(_, p)| (*p).to_owned()));
    out.extend(APP_ROUTES.iter().filter(|(m, _)| *m == "GET").map(|(_, p)| (*p).to_owned()));
    out.sort();
    out.dedup();
    out
}

/// Every route the app serves as (method, path template): the API's (from its OpenAPI document), the
/// pages' and the app's own — generated from the route tables and the feature registrations
/// ([`crate::features`]). The authorization matrix test walks this list.
pub fn all_routes() -> std::collections::BTreeSet<(String, String)> {
    let (_, openapi) = crate::api::router().split_for_parts();
    let mut out = std::collections::BTreeSet::new();
    for (path, item) in &openapi.paths.paths {
        let ops = [
            ("GET", item.get.is_some()),
            ("PUT", item.put.is_some()),
            ("POST", item.post.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
            ("HEAD", item.head.is_some()),
            ("OPTIONS", item.options.is_some()),
            ("TRACE", item.trace.is_some()),
        ];
        for (m, present) in ops {
            if present {
                out.insert((m.to_owned(), path.clone()));
            }
        }
    }
    for (m, p) in crate::pages::page_routes().iter().chain(APP_ROUTES) {
        out.insert(((*m).to_owned(), (*p).to_owned()));
    }
    out
}

/// Refuses a request that matched a route missing from every table.
pub async fn guard(State(table): State<RouteTable>, req: Request, next: Next) -> Response {
    if let Some(matched) = req.extensions().get::<MatchedPath>() {
        if !table.contains(matched.as_str()) {
            tracing::error!(route = matched.as_str(), "a route outside the route tables was requested");
            return (StatusCode::INTERNAL_SERVER_ERROR, "route without an access rule").into_response();
        }
    }
    next.run(req).await
}
