//! Server-rendered pages: one module per resource, each handler parse → store → render. Templates
//! and the stylesheet are embedded in the binary; all texts come from the translation catalogue.

/// The route table's name for a routing function.
macro_rules! method_name {
    (get) => {
        "GET"
    };
    (post) => {
        "POST"
    };
    (put) => {
        "PUT"
    };
    (delete) => {
        "DELETE"
    };
}

/// Declares every page route once: the router is built from this table and [`page_routes`] lists it,
/// so the authorization matrix test (`tests/authz_matrix.rs`) sees every page — and a page without a
/// rule there fails it. Add page routes here, nowhere else: the app refuses to serve a route that is in
/// no route table (see [`crate::route_table`]).
/// A feature's page module declares its own table the same way (see [`crate::feature`]).
macro_rules! page_routes {
    ($($path:literal => $method:ident($handler:expr) $(.$more:ident($more_handler:expr))* ,)*) => {
        /// The page routes declared here as (method, path template), in the order declared.
        pub fn declared_routes() -> &'static [(&'static str, &'static str)] {
            &[$((method_name!($method), $path), $((method_name!($more), $path),)*)*]
        }

        /// The router of the page routes declared here.
        pub fn routes() -> axum::Router<$crate::AppState> {
            axum::Router::new()$(.route($path, axum::routing::$method($handler)$(.$more($more_handler))*))*
        }
    };
}

pub(crate) mod account;
pub(crate) mod admin;
mod assets;
pub(crate) mod case_stats;
pub(crate) mod cases;
mod charts;
pub(crate) mod coverage;
pub(crate) mod entities;
mod form;
mod home;
pub(crate) mod import;
pub(crate) mod instructors;
mod lists;
mod login;
pub(crate) mod members;
pub(crate) mod organizations;
pub(crate) mod regions;
pub mod render;
pub(crate) mod stations;
mod viewer;

use crate::i18n::Lang;
use crate::AppState;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use dangjian_store::StoreError;
use minijinja::{context, Value};
use serde::Deserialize;
use std::convert::Infallible;

page_routes! {
    "/" => get(home::show),
    "/lang/{code}" => get(switch_language),
    "/static/app.css" => get(assets::app_css),
    "/static/finder.js" => get(assets::finder_js),
    "/login" => get(login::form).post(login::submit),
    "/login/totp" => get(login::totp_form).post(login::totp_submit),
    "/logout" => post(login::logout),
}

/// Every page route as (method, path template): those of this table, then each feature's.
pub fn page_routes() -> Vec<(&'static str, &'static str)> {
    let mut out = declared_routes().to_vec();
    for f in crate::features() {
        out.extend_from_slice((f.page_routes)());
    }
    out
}

/// The pages: every route of [`page_routes`], and a 404 page for anything else.
pub fn router() -> Router<AppState> {
    crate::features().iter().fold(routes(), |r, f| r.merge((f.pages)())).fallback(not_found)
}

/// What every page needs from its request: the language and where it is (for the language switch).
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub lang: Lang,
    /// Path and query of the request.
    pub here: String,
    /// The CSRF token every form of the page carries (see [`crate::auth::csrf`]).
    pub csrf_token: Option<String>,
    /// The signed-in user, for the page header.
    pub viewer: Option<Box<viewer::Viewer>>,
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let here = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        let (csrf_token, viewer) = viewer::of_request(parts);
        Ok(Self { lang: Lang::from_parts(parts), here, csrf_token, viewer: viewer.map(Box::new) })
    }
}

impl PageCtx {
    /// The context every template sees, merged with the page's own.
    fn base(&self, page: Value) -> Value {
        let other = self.lang.other();
        let switch_url = format!(
            "/lang/{}?{}",
            other.code(),
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &without_lang(&self.here))
                .finish()
        );
        context! {
            lang => self.lang.code(),
            switch_url,
            switch_label => other.t("lang.name", &[]),
            here => self.here.split('?').next().unwrap_or("/"),
            csrf_token => self.csrf_token,
            viewer => self.viewer,
            ..page
        }
    }

    pub fn render(&self, template: &str, page: Value) -> Response {
        self.render_status(StatusCode::OK, template, page)
    }

    pub fn render_status(&self, status: StatusCode, template: &str, page: Value) -> Response {
        render::page(status, self.lang, template, self.base(page))
    }

    pub fn error(&self, e: PageError) -> Response {
        let (status, message) = match &e {
            PageError::NotFound => (StatusCode::NOT_FOUND, self.lang.t("error.not_found", &[])),
            PageError::Forbidden => (StatusCode::FORBIDDEN, self.lang.t("error.forbidden", &[])),
            PageError::Csrf => (StatusCode::FORBIDDEN, self.lang.t("error.csrf", &[])),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            PageError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, self.lang.t("error.internal", &[])),
            PageError::Unavailable { retry_after } => {
                (StatusCode::SERVICE_UNAVAILABLE, self.lang.say(&crate::error::coverage_building_message(*retry_after)))
            }
        };
        let mut r = self.render_status(status, "error.html", context! { status => status.as_u16(), message });
        if let PageError::Unavailable { retry_after } = e {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(retry_after));
        }
        r
    }

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key, &[])
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    /// Signed in, but no grant allows this here (403).
    Forbidden,
    /// A form without the right CSRF token (403).
    Csrf,
    BadRequest(String),
    Internal,
    /// Not yet: the coverage index is being built (503 with `Retry-After` in seconds).
    Unavailable {
        retry_after: u64,
    },
}

impl PageError {
    pub fn from_store(e: StoreError, lang: Lang) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::OutOfScope => Self::Forbidden,
            StoreError::Invalid(errs) => Self::BadRequest(
                errs.0.iter().map(|e| e.message_in(lang.code()).to_owned()).collect::<Vec<_>>().join("; "),
            ),
            StoreError::Conflict { message, .. } => Self::BadRequest(lang.say(&message)),
            e => {
                tracing::error!(error = %e, "page failed");
                Self::Internal
            }
        }
    }
}

/// A page error on its way to being rendered; handlers return `Result<Response, Failed>`.
pub struct Failed(pub PageCtx, pub PageError);

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        self.0.error(self.1)
    }
}

impl PageCtx {
    /// A mapper from store errors to a rendered error page, for `.map_err(ctx.store_err())?`.
    pub fn store_err(&self) -> impl Fn(StoreError) -> Failed + '_ {
        move |e| Failed(self.clone(), PageError::from_store(e, self.lang))
    }

    /// The store's answer behind a command's refusal, for a form that shows it by field (a refused
    /// input, a stale version); any other refusal is the error page.
    pub fn input_err(&self, e: crate::app::AppError) -> Result<StoreError, Failed> {
        match e {
            crate::app::AppError::Store(e) => Ok(e),
            crate::app::AppError::Invalid(errs) => Ok(StoreError::Invalid(errs)),
            e => Err(e.page(self)),
        }
    }

    /// A mapper from a command's error to a rendered error page, for `.map_err(ctx.app_err())?`.
    pub fn app_err(&self) -> impl Fn(crate::app::AppError) -> Failed + '_ {
        move |e| e.page(self)
    }

    pub fn not_found(&self) -> Failed {
        Failed(self.clone(), PageError::NotFound)
    }

    pub fn bad_request(&self, message: String) -> Failed {
        Failed(self.clone(), PageError::BadRequest(message))
    }
}

impl crate::app::AppError {
    /// The pages' answer: the error page with the same status (a form's field problems are shown on
    /// the form by its handler before it gets here).
    pub fn page(self, ctx: &PageCtx) -> Failed {
        use crate::app::AppError;
        match self {
            AppError::Unauthenticated | AppError::Forbidden => Failed(ctx.clone(), PageError::Forbidden),
            AppError::NotFound => ctx.not_found(),
            AppError::Invalid(errs) => ctx.store_err()(StoreError::Invalid(errs)),
            AppError::Store(e) => ctx.store_err()(e),
            AppError::Import(crate::transfer::ImportFailure::Store(e)) => ctx.store_err()(e),
            AppError::Import(crate::transfer::ImportFailure::Unreadable(e)) => {
                ctx.bad_request(e.localized(ctx.lang.code()))
            }
            AppError::Import(e) => ctx.bad_request(e.to_string()),
            AppError::Internal => Failed(ctx.clone(), PageError::Internal),
        }
    }
}

/// A numeric id from the path; anything else is a 404 page, not a 400.
pub struct PageId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PageId {
    type Rejection = Failed;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = PageCtx::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
        let raw = axum::extract::Path::<String>::from_request_parts(parts, state).await.map_err(|_| ctx.not_found())?;
        raw.0.parse::<i64>().map(PageId).map_err(|_| ctx.not_found())
    }
}

/// The request's query without `lang=`, so the switch link does not fight the cookie.
fn without_lang(here: &str) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        return path.to_owned();
    }
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &kept {
        ser.append_pair(k, v);
    }
    format!("{path}?{}", ser.finish())
}

/// Only a local path may be a redirect target (no `//host` or `/\host`).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/",
    }
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// `/lang/{code}?next=/path`: remembers the language in the `lang` cookie for a year and goes back.
async fn switch_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
    let mut r = Redirect::to(safe_next(q.next.as_deref())).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Unknown paths: a 404 page, or the API's JSON 404 under `/api/`.
async fn not_found(ctx: PageCtx, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::error::ApiError::not_found().into_response();
    }
    ctx.error(PageError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_local() {
        assert_eq!(safe_next(Some("/entities?kind=site")), "/entities?kind=site");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn switch_link_drops_lang() {
        assert_eq!(without_lang("/entities?lang=en&kind=site"), "/entities?kind=site");
        assert_eq!(without_lang("/?lang=en"), "/");
    }
}
