//! HTTP for Dangjian: the JSON API under `/api/v1/` (with its OpenAPI document) and the
//! server-rendered pages. Handlers stay thin: parse the input into domain types, call the store, map
//! the outcome.

pub mod api;
pub mod app;
pub mod auth;
pub mod body_limit;
pub mod coverage;
pub mod error;
pub mod extract;
pub mod features;
pub mod i18n;
pub mod open311;
pub mod pages;
pub mod panic;
pub mod rate_limit;
pub mod route_table;
pub mod security_headers;
pub mod transfer;
pub mod views;

use auth::config::SecurityConfig;
use auth::{SharedClock, SystemClock};
use axum::Router;
use dangjian_security::field_cipher::Keyring;
use dangjian_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted (uploads included).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// Every registered feature (see [`features`]): the API and page routers, the route table, the
/// authorization matrix and the navigation are generated from this list.
pub fn features() -> [features::Feature; 16] {
    [
        features::coverage::feature(),
        features::regions::feature(),
        features::sectors::feature(),
        features::entities::feature(),
        features::organizations::feature(),
        features::instructors::feature(),
        features::personal::feature(),
        features::stations::feature(),
        features::transfer::feature(),
        features::case_stats::feature(),
        features::case_setup::feature(),
        features::cases::feature(),
        features::members::feature(),
        features::open311_clients::feature(),
        features::account::feature(),
        features::admin::feature(),
    ]
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Keys for personal data at rest (never in the database).
    pub keys: Arc<Keyring>,
    pub clock: SharedClock,
    /// Request rate limits per client address ([`rate_limit`]).
    pub rate_limits: Arc<rate_limit::RateLimiter>,
    security: Arc<tokio::sync::RwLock<Option<SecurityConfig>>>,
    /// The coverage index, kept current from the database's change feed.
    pub coverage: dangjian_store::coverage::Coverage,
    /// The nearest-station index, kept current by the station counter.
    pub stations: dangjian_store::stations::finder::Finder,
    /// Coverage trends computed from the index as it is now ([`coverage::TrendCache`]).
    pub trends: coverage::TrendCache,
}

impl AppState {
    pub fn new(store: Store, keys: Keyring) -> Self {
        Self::with_clock(store, keys, Arc::new(SystemClock))
    }

    /// The state over `store`, which is given `keys` for personal data at rest — unless it already holds a
    /// keyring (a test store), which then stays: one keyring per process.
    pub fn with_clock(store: Store, keys: Keyring, clock: SharedClock) -> Self {
        let keys = store.keys().cloned().unwrap_or_else(|| Arc::new(keys));
        let store = store.with_keys(keys.clone());
        Self::assemble(store, keys, clock)
    }

    /// The state a command-line command runs its commands in: `store` keeps the keys it was opened
    /// with, or none (then the store refuses to read or write personal data, as it did before).
    pub fn for_command_line(store: Store) -> Self {
        let keys = store.keys().cloned().unwrap_or_else(|| Arc::new(Keyring::generate()));
        Self::assemble(store, keys, Arc::new(SystemClock))
    }

    fn assemble(store: Store, keys: Arc<Keyring>, clock: SharedClock) -> Self {
        let rate_limits = Arc::new(rate_limit::RateLimiter::new(Default::default()));
        let today_clock = clock.clone();
        let coverage = dangjian_store::coverage::Coverage::new(store.clone())
            .with_today(move || (today_clock.now() + chrono::Duration::hours(8)).date_naive());
        let stations = dangjian_store::stations::finder::Finder::new(store.clone());
        Self {
            store,
            keys,
            clock,
            rate_limits,
            security: Default::default(),
            coverage,
            stations,
            trends: Default::default(),
        }
    }

    /// The same state with other rate limits (trusted proxies, or looser limits for a load test).
    pub fn with_rate_limits(mut self, config: rate_limit::RateLimitConfig) -> Self {
        self.rate_limits = Arc::new(rate_limit::RateLimiter::new(config));
        self
    }

    /// The security settings in force (read once, re-read after a change).
    pub async fn security_config(&self) -> SecurityConfig {
        if let Some(c) = self.security.read().await.clone() {
            return c;
        }
        let loaded = match self.store.settings().await {
            Ok(s) => SecurityConfig::from_settings(&s),
            Err(e) => {
                tracing::error!(error = %e, "could not read security settings; using defaults");
                return SecurityConfig::default();
            }
        };
        *self.security.write().await = Some(loaded.clone());
        loaded
    }

    /// Forgets the cached settings after the security administrator changed them.
    pub async fn reload_security_config(&self) {
        *self.security.write().await = None;
    }
}

/// The whole application: API, OpenAPI document, pages and static files.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let routes = route_table::RouteTable::new(&openapi);
    let openapi = std::sync::Arc::new(openapi);
    let app = api_router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(pages::router())
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(routes, route_table::guard))
        .layer(axum::middleware::from_fn(auth::gate::require_sign_in))
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::layer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::resolve_actor))
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(body_limit::layer))
        .layer(axum::middleware::from_fn(error::localize));
    outer_layers(app)
}

/// What wraps the whole app, outermost last: the panic guard, then the security headers (so that a
/// panic's 500 carries them too), then the request's log span.
fn outer_layers(app: Router) -> Router {
    panic::guard(app)
        .layer(axum::middleware::from_fn(security_headers::layer))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

/// The span of a request: method and path, never the query string — it can carry a worker's position
/// (`/api/v1/stations/nearest?lat=…`), which is used for that one answer and must not reach a log.
/// A case's tracking code is the worker's only key to it, so it is left out of the path too.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
}

/// The path as logs may show it: a tracking code (the API's, the phone page's, Open311's request and
/// token ids) replaced by its placeholder.
fn loggable_path(path: &str) -> &str {
    const TRACKED: [(&str, &str); 4] = [
        ("/api/v1/cases/track/", "/api/v1/cases/track/{code}"),
        ("/track/", "/track/{code}"),
        ("/open311/v2/requests/", "/open311/v2/{requests|tokens}/{id}"),
        ("/open311/v2/tokens/", "/open311/v2/{requests|tokens}/{id}"),
    ];
    TRACKED.iter().find(|(prefix, _)| path.starts_with(prefix)).map_or(path, |(_, placeholder)| placeholder)
}

/// Serves the application on `addr` until Ctrl-C; calls `on_ready` with the bound address.
/// Before listening, personal data still in plain text from an older release is encrypted.
pub async fn serve(state: AppState, addr: SocketAddr, on_ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    panic::quiet_panic_hook();
    state.store.protect_legacy_plaintext(&state.keys).await.map_err(std::io::Error::other)?;
    tokio::spawn(app::jobs::purge_audit_daily(state.clone()));
    tokio::spawn(app::cases::deadline_job(state.clone()));
    // Build the coverage index in the background while the server answers: coverage pages and API
    // answer 503 with Retry-After until it is done, every other page at once.
    state.coverage.start_building();
    // And the case statistics' index, rather than at the first statistics request.
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.case_index().await {
            tracing::error!(error = %e, "building the case index failed; it is retried at the next read");
        }
    });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    on_ready(listener.local_addr()?);
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::{loggable_path, outer_layers};
    use axum::Router;

    /// A panic's 500 goes out through the security headers like every other answer.
    #[tokio::test]
    async fn a_panics_answer_carries_the_security_headers() {
        async fn boom() -> &'static str {
            panic!("a handler's bug")
        }
        let app = outer_layers(Router::new().route("/boom", axum::routing::get(boom)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let resp = reqwest::get(format!("http://{addr}/boom")).await.expect("an answer");
        assert_eq!(resp.status(), reqwest::StatusCode::INTERNAL_SERVER_ERROR);
        for h in ["content-security-policy", "x-content-type-options", "x-request-id"] {
            assert!(resp.headers().contains_key(h), "{h} on a panic's answer: {:?}", resp.headers());
        }
    }

    #[test]
    fn tracking_codes_stay_out_of_logged_paths() {
        assert_eq!(loggable_path("/track/7K3M-Q9PXA"), "/track/{code}");
        assert_eq!(loggable_path("/api/v1/cases/track/7K3M-Q9PXA/actions"), "/api/v1/cases/track/{code}");
        assert_eq!(loggable_path("/open311/v2/requests/7K3M-Q9PXA.json"), "/open311/v2/{requests|tokens}/{id}");
        assert_eq!(loggable_path("/open311/v2/requests.json"), "/open311/v2/requests.json");
        assert_eq!(loggable_path("/track"), "/track");
        assert_eq!(loggable_path("/cases/12"), "/cases/12");
    }
}
