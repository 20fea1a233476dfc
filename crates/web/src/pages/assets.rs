//! Static files, embedded in the binary.

use axum::http::header;
use axum::response::IntoResponse;

const APP_CSS: &str = include_str!("../../static/app.css");

pub(super) async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        APP_CSS,
    )
}
