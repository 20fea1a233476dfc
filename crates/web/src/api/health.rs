use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// The newest applied migration.
    pub schema_version: Option<i64>,
    /// The newest migration this build knows.
    pub expected_schema_version: i64,
    pub version: &'static str,
}

/// Liveness and readiness: the database answers and its schema is current.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorEnvelope)))]
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let store = &state.store;
    let schema_version = store.schema_version().await.map_err(|e| {
        let mut err = ApiError::from(e);
        err.status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
        err
    })?;
    let expected = store.latest_known_version();
    Ok(Json(Health {
        status: if schema_version == Some(expected) { "ok" } else { "migration_needed" },
        database: store.kind().as_str(),
        schema_version,
        expected_schema_version: expected,
        version: env!("CARGO_PKG_VERSION"),
    }))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}
