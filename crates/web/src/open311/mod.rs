//! Open311 GeoReport v2 under `/open311/v2/`, JSON only, so that existing civic-reporting clients can
//! file and follow needs and rights cases (docs/open311.md). Public like the worker's own case API and
//! rate-limited per client address the same way; filing needs a client's `api_key`.
//!
//! The product's privacy rules shape the mapping: no location is taken (a case needs a region code;
//! `lat`/`long` are never stored or logged), names are not stored, the contact (phone, else email) is
//! encrypted like every contact, and answers carry no contact, no coordinates and no internal note.
//! `service_request_id` is the case's tracking code: requests are not enumerable.
//!
//! axum 0.8 (matchit 0.8) cannot route a parameter with a suffix (`{code}.json`), so the last segment
//! is captured whole and must end in `.json` ([`strip_json`]); anything else is a 404.

pub mod requests;
pub mod services;

use crate::i18n::Lang;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dangjian_domain::services::cases::CaseStatus;
use dangjian_domain::FieldError;
use dangjian_store::open311::Open311Client;
use dangjian_store::StoreError;
use serde::Serialize;
use std::convert::Infallible;
use utoipa_axum::router::OpenApiRouter;

/// Where the Open311 endpoints live.
pub const PREFIX: &str = "/open311/v2/";

/// The OpenAPI tag of the Open311 endpoints.
pub const TAG: &str = "open311";

/// One error as GeoReport v2 shapes them: the HTTP status as `code`, and a description that starts
/// with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Open311ErrorItem {
    pub code: u16,
    pub description: String,
}

/// An error answer: a status and the spec's error array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    pub status: StatusCode,
    pub items: Vec<Open311ErrorItem>,
}

impl Open311Error {
    /// An error about `field`.
    pub fn field(status: StatusCode, field: &str, message: &str) -> Self {
        Self {
            status,
            items: vec![Open311ErrorItem { code: status.as_u16(), description: format!("{field}: {message}") }],
        }
    }

    /// 400 with one item per field error, each renamed by `rename` to the Open311 field it came from.
    pub fn fields(errs: &[FieldError], lang: Lang, rename: impl Fn(&str) -> String) -> Self {
        let status = StatusCode::BAD_REQUEST;
        let items = errs
            .iter()
            .map(|e| Open311ErrorItem {
                code: status.as_u16(),
                description: format!("{}: {}", rename(&e.field), e.message_in(lang.code())),
            })
            .collect();
        Self { status, items }
    }

    pub fn not_found(field: &str, lang: Lang) -> Self {
        Self::field(StatusCode::NOT_FOUND, field, &lang.t("open311.not_found", &[]))
    }

    /// A store failure: field errors are 400s (renamed), a missing record 404, a conflict 409.
    pub fn from_store(e: StoreError, lang: Lang, rename: impl Fn(&str) -> String) -> Self {
        match e {
            StoreError::Invalid(errs) => Self::fields(&errs.0, lang, rename),
            StoreError::NotFound => Self::not_found("service_request_id", lang),
            StoreError::Conflict { code, message } => Self::field(StatusCode::CONFLICT, code, &lang.say(&message)),
            other => {
                tracing::error!(error = %other, "open311: storage failure");
                Self::field(StatusCode::INTERNAL_SERVER_ERROR, "server", &lang.t("open311.internal_error", &[]))
            }
        }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        (self.status, Json(self.items)).into_response()
    }
}

/// The spec's error array for a condition that concerns no field (the rate limit).
pub fn error_response(status: StatusCode, message: &str) -> Response {
    (status, Json(vec![Open311ErrorItem { code: status.as_u16(), description: message.to_owned() }])).into_response()
}

/// The answer language: GeoReport v2.1's `?locale=` first, then the usual `?lang=`, cookie or
/// `Accept-Language` ([`Lang::from_parts`]); Chinese by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for Locale {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let asked = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "locale").and_then(|(_, v)| Lang::parse(&v))
        });
        Ok(Self(asked.unwrap_or_else(|| Lang::from_parts(parts))))
    }
}

/// The last path segment without its `.json`; `None` (a 404) for any other format or none.
pub fn strip_json(segment: &str) -> Option<&str> {
    segment.strip_suffix(".json").filter(|s| !s.is_empty())
}

/// A request's status as GeoReport v2 names it (`open`/`closed`), or with mySociety's extended statuses
/// for a client that takes them: acknowledged → `in_progress`, resolved (waiting for the worker's
/// rating, may be reopened) → `fixed`. A transferred case is acknowledged anew by the receiving
/// department, so it is `open` again; a closed one `closed`.
pub fn status_name(status: CaseStatus, extended: bool) -> &'static str {
    match (status, extended) {
        (CaseStatus::Submitted, _) => "open",
        (CaseStatus::Acknowledged, false) => "open",
        (CaseStatus::Acknowledged, true) => "in_progress",
        (CaseStatus::Resolved, false) => "closed",
        (CaseStatus::Resolved, true) => "fixed",
        (CaseStatus::Closed, _) => "closed",
    }
}

/// The case statuses a `status` filter value stands for (either vocabulary), or `None` if unknown.
pub fn statuses_named(name: &str) -> Option<&'static [CaseStatus]> {
    match name.trim().to_ascii_lowercase().as_str() {
        "open" => Some(&[CaseStatus::Submitted, CaseStatus::Acknowledged]),
        "closed" => Some(&[CaseStatus::Resolved, CaseStatus::Closed]),
        "in_progress" => Some(&[CaseStatus::Acknowledged]),
        "fixed" => Some(&[CaseStatus::Resolved]),
        _ => None,
    }
}

/// The live client holding `key` (marked used), `None` without a key, or a 403 naming `api_key` for
/// an unknown or revoked key.
pub async fn client_by_key(s: &AppState, key: Option<&str>, lang: Lang) -> Result<Option<Open311Client>, Open311Error> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else { return Ok(None) };
    let hash = dangjian_security::token::hash_token(key);
    match s.store.use_open311_key(&hash).await {
        Ok(Some(c)) => Ok(Some(c)),
        Ok(None) => Err(invalid_key(lang)),
        Err(e) => Err(Open311Error::from_store(e, lang, str::to_owned)),
    }
}

pub fn invalid_key(lang: Lang) -> Open311Error {
    Open311Error::field(StatusCode::FORBIDDEN, "api_key", &lang.t("open311.invalid_api_key", &[]))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(services::router()).merge(requests::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_georeport_and_to_mysociety_extended_ones() {
        use CaseStatus::*;
        let plain: Vec<&str> = [Submitted, Acknowledged, Resolved, Closed].map(|s| status_name(s, false)).to_vec();
        assert_eq!(plain, ["open", "open", "closed", "closed"]);
        let extended: Vec<&str> = [Submitted, Acknowledged, Resolved, Closed].map(|s| status_name(s, true)).to_vec();
        assert_eq!(extended, ["open", "in_progress", "fixed", "closed"]);
        // Every status a filter names maps back to itself.
        for s in [Submitted, Acknowledged, Resolved, Closed] {
            for ext in [false, true] {
                assert!(statuses_named(status_name(s, ext)).is_some_and(|set| set.contains(&s)), "{s:?}");
            }
        }
        assert_eq!(statuses_named(" OPEN "), Some(&[Submitted, Acknowledged][..]));
        assert_eq!(statuses_named("investigating"), None);
    }

    #[test]
    fn only_json_segments_are_served() {
        assert_eq!(strip_json("wage_arrears.json"), Some("wage_arrears"));
        assert_eq!(strip_json("7K3M-Q9PXA.json"), Some("7K3M-Q9PXA"));
        assert_eq!(strip_json("wage_arrears.xml"), None);
        assert_eq!(strip_json("wage_arrears"), None);
        assert_eq!(strip_json(".json"), None);
    }

    #[test]
    fn errors_name_their_field_in_the_spec_shape() {
        let e = Open311Error::field(StatusCode::BAD_REQUEST, "service_code", "required");
        assert_eq!(e.items, [Open311ErrorItem { code: 400, description: "service_code: required".into() }]);
        let errs = [FieldError::new(
            "region_code",
            "unknown",
            dangjian_domain::Message::new("problem.unknown.unknown_region"),
        )];
        let e = Open311Error::fields(&errs, Lang::En, |f| format!("attribute[{f}]"));
        assert_eq!(e.items[0].description, "attribute[region_code]: unknown region");
    }
}
