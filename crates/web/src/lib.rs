//! HTTP for Dangjian: the JSON API under `/api/v1/` (with its OpenAPI document) and the
//! server-rendered pages. Handlers stay thin: parse the input into domain types, call the store, map
//! the outcome.

pub mod api;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod pages;
pub mod transfer;

use axum::Router;
use dangjian_store::Store;
use std::net::SocketAddr;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted (uploads included).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
}

/// The whole application: API, OpenAPI document, pages and static files.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = std::sync::Arc::new(openapi);
    api_router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(pages::router())
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
}

/// Serves the application on `addr` until Ctrl-C; calls `on_ready` with the bound address.
pub async fn serve(store: Store, addr: SocketAddr, on_ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    on_ready(listener.local_addr()?);
    axum::serve(listener, app(AppState { store }))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
