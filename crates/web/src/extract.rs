//! Extractors whose rejections are the API's JSON errors, naming the offending field.

use crate::error::ApiError;
use crate::i18n::Message;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A JSON body; a malformed body or a wrong-typed field is a 400/422 naming the field path. For a
/// request that needs a permission, take [`JsonBody`] instead and parse after deciding it.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        JsonBody::<T>::from_request(req, state).await?.parse().map(ApiJson)
    }
}

/// A JSON body read but not yet parsed, so that a handler decides the permission first and only then
/// looks at the body ([`JsonBody::parse`]): a request the actor may not make is 401/403/404 whatever
/// its body (only a body over the size limit is refused before, as 413).
pub struct JsonBody<T> {
    bytes: Bytes,
    is_json: bool,
    into: PhantomData<fn() -> T>,
}

impl<S: Send + Sync, T> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let is_json = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(|e| {
            let m = Message::new("api.body_too_large").arg("detail", e.body_text());
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", m)
        })?;
        Ok(Self { bytes, is_json, into: PhantomData })
    }
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// The body as a `T`: 415 unless it is `application/json`, 400 when it is not JSON, 422 naming
    /// the field path when a field has the wrong type.
    pub fn parse(self) -> Result<T, ApiError> {
        if !self.is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                Message::new("api.unsupported_media_type"),
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(&self.bytes);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let status = if inner.is_syntax() || inner.is_eof() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let code = if status == StatusCode::BAD_REQUEST { "malformed_json" } else { "invalid_field" };
            let mut err = ApiError::new(status, code, Message::new("api.invalid_body").arg("detail", inner));
            if field != "." {
                err = err.with_field(field);
            }
            err
        })
    }
}

/// Query parameters; a wrong-typed or unknown parameter is a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Query parameters read but not yet parsed, for a write that needs a permission: like [`JsonBody`],
/// parsed ([`QueryLater::parse`]) only after the handler decided it, so that a refused request is
/// refused whatever its parameters.
pub struct QueryLater<T> {
    query: String,
    into: PhantomData<fn() -> T>,
}

impl<S: Send + Sync, T> FromRequestParts<S> for QueryLater<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default().to_owned();
        Ok(Self { query, into: PhantomData })
    }
}

impl<T: DeserializeOwned> QueryLater<T> {
    /// The parameters as a `T`, or a 400 naming the one that is wrong.
    pub fn parse(self) -> Result<T, ApiError> {
        parse_query(&self.query)
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let m = Message::new("api.invalid_query_parameter").arg("field", &field).arg("detail", e.into_inner());
        ApiError::bad_request(&field, m)
    })
}

/// Path parameters; a malformed one (e.g. a non-numeric id) is a 400 in the API's error shape.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| {
                ApiError::bad_request("path", Message::new("api.invalid_path_parameter").arg("detail", e.body_text()))
            })
    }
}
