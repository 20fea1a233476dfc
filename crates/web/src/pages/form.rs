//! Form submissions, handled in one place: every page that accepts a POST takes a [`FormBody`] (read
//! after the handler has decided the permission) or a [`FormData`] (read at once: the public and
//! sign-in forms), so request-level checks are made here once, for all forms: a form without the right
//! CSRF token ([`crate::auth::csrf`]) is refused with 403.

use super::PageCtx;
use crate::auth::csrf::{expected_token, token_matches, CSRF_COOKIE, CSRF_FIELD};
use crate::auth::session::{cookie, secure_cookies, set_cookie};
use crate::auth::Actor;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use dangjian_domain::FieldErrors;
use dangjian_security::token::generate_session_id;
use serde::Serialize;
use std::collections::BTreeMap;

/// Largest url-encoded form accepted (uploads go through multipart and the app's body limit).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// An uploaded file of a multipart form.
#[derive(Debug, Clone)]
pub struct Upload {
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The fields of a submitted form, url-encoded or multipart, in order (a name may repeat, as with
/// checkboxes).
#[derive(Debug, Default)]
pub struct FormData {
    fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl FormData {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// The first value of `name` exactly as sent (passwords: spaces are part of them).
    pub fn raw(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// The value of `name` as text, empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }

    /// Every non-blank value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Every value of `name`, trimmed, blanks included: the cells of one column of a table form, in
    /// row order.
    pub fn column(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).collect()
    }

    /// Whether any field's name starts with `prefix`, blank or not.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.fields.iter().any(|(k, _)| k.starts_with(prefix))
    }

    pub fn file(&self, field: &str) -> Option<&Upload> {
        self.files.iter().find(|f| f.field == field && !f.bytes.is_empty())
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self { fields: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), files: Vec::new() }
    }
}

/// Before sign-in a form's CSRF token is a double-submit cookie: when the browser has none yet, makes
/// one for the page and returns the cookie to set with it.
pub async fn anonymous_csrf(s: &AppState, headers: &HeaderMap, ctx: &mut PageCtx) -> Option<String> {
    if ctx.csrf_token.is_some() {
        return None;
    }
    let token = generate_session_id();
    ctx.csrf_token = Some(token.clone());
    Some(cookie(CSRF_COOKIE, &token, None, secure_cookies(headers, &s.security_config().await)))
}

/// `r` with the cookie [`anonymous_csrf`] made, if it made one.
pub fn with_cookie(mut r: Response, c: Option<String>) -> Response {
    if let Some(c) = c {
        set_cookie(&mut r, &c);
    }
    r
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        FormBody(req).read().await.map_err(IntoResponse::into_response)
    }
}

/// A submitted form not yet read: the handler decides the permission first and only then reads the
/// body ([`FormBody::read`]: the CSRF token, then the url-encoded or multipart fields), so that a POST
/// the actor may not make is 403/404 whatever its body and token. Every page POST that needs a
/// permission takes this; the public and sign-in forms may take [`FormData`], which reads at once.
pub struct FormBody(Request);

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(req))
    }
}

impl FormBody {
    /// The form's fields, once its CSRF token is the right one: a missing or wrong token is 403, a
    /// body that is not a form 400.
    pub async fn read(self) -> Result<FormData, super::Failed> {
        let (mut parts, body) = self.0.into_parts();
        let ctx = PageCtx::from_request_parts(&mut parts, &()).await.unwrap_or_else(|e| match e {});
        let expected = expected_token(parts.extensions.get::<Actor>(), &parts.headers);
        let data = FormData::parse(Request::from_parts(parts, body), &(), &ctx).await?;
        let presented = data.fields.iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.as_str());
        if !token_matches(expected.as_deref(), presented) {
            tracing::warn!(
                path = ctx.here.split('?').next().unwrap_or_default(),
                "form refused: missing or wrong CSRF token"
            );
            return Err(super::Failed(ctx, super::PageError::Csrf));
        }
        Ok(data)
    }
}

impl FormData {
    async fn parse<S: Send + Sync>(req: Request, state: &S, ctx: &PageCtx) -> Result<Self, super::Failed> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let bad = |ctx: &PageCtx| ctx.bad_request(ctx.t("error.bad_form"));
        if content_type.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, state).await.map_err(|_| bad(ctx))?;
            let mut out = FormData::default();
            while let Some(field) = mp.next_field().await.map_err(|_| bad(ctx))? {
                let name = field.name().unwrap_or_default().to_owned();
                match field.file_name().map(str::to_owned) {
                    Some(file_name) => {
                        let bytes = field.bytes().await.map_err(|_| bad(ctx))?.to_vec();
                        out.files.push(Upload { field: name, file_name, bytes });
                    }
                    None => {
                        let value = field.text().await.map_err(|_| bad(ctx))?;
                        out.fields.push((name, value));
                    }
                }
            }
            Ok(out)
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            let bytes = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES).await.map_err(|_| bad(ctx))?;
            let fields = url::form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            Ok(FormData { fields, files: Vec::new() })
        } else {
            Err(bad(ctx))
        }
    }
}

/// One line of the summary: the message (with its field's label) and the input it links to.
#[derive(Debug, Serialize)]
pub struct Problem {
    pub field: String,
    pub text: String,
}

/// Validation messages by form field, in the page's language, plus those that belong to no field of
/// the form (shown in the summary at the top).
#[derive(Debug, Default, Serialize)]
pub struct Problems {
    pub fields: BTreeMap<String, Vec<String>>,
    /// Every message, with the label of its field, for the summary.
    pub all: Vec<Problem>,
    /// A message about the whole form (e.g. a stale version).
    pub form: Option<String>,
}

impl Problems {
    /// Groups `errs` by form field; `field_of` maps an error's field name to the form's input name.
    pub fn from_errors(errs: &FieldErrors, ctx: &PageCtx, field_of: impl Fn(&str) -> String) -> Self {
        let mut p = Problems::default();
        for e in &errs.0 {
            let field = field_of(&e.field);
            let message = e.message_in(ctx.lang.code()).to_owned();
            let label = ctx.lang.lookup(&format!("field.{field}")).map(str::to_owned);
            let text = match label {
                Some(label) => ctx.lang.t("fmt.labelled", &[("label", label), ("value", message.clone())]),
                None => message.clone(),
            };
            p.all.push(Problem { field: field.clone(), text });
            p.fields.entry(field).or_default().push(message);
        }
        p
    }

    pub fn whole_form(message: String) -> Self {
        Problems { form: Some(message), ..Default::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every POST form of every template carries the CSRF token (or `FormData` would refuse it).
    #[test]
    fn every_post_form_carries_the_csrf_token() {
        for (name, source) in super::super::render::TEMPLATES {
            for (at, _) in source.match_indices("<form") {
                let tag_end = source[at..].find('>').map_or(source.len(), |e| at + e);
                if !source[at..tag_end].contains("method=\"post\"") {
                    continue;
                }
                let body_end = source[at..].find("</form>").map_or(source.len(), |e| at + e);
                assert!(
                    source[tag_end..body_end].contains("name=\"csrf_token\" value=\"{{ csrf_token }}\""),
                    "a POST form in {name} has no CSRF token"
                );
            }
        }
    }

    #[test]
    fn repeated_and_blank_fields() {
        let f = FormData::from_pairs(&[("sectors", "courier"), ("sectors", " "), ("sectors", "food_delivery")]);
        assert_eq!(f.all("sectors"), vec!["courier", "food_delivery"]);
        assert_eq!(f.get("name"), None);
        assert_eq!(FormData::from_pairs(&[("name", "  ")]).get("name"), None);
    }
}
