//! GeoReport v2 service requests: filing one (with a client's `api_key`), following requests by their
//! `service_request_id` (the tracking code), a client listing its own, and the token lookup.
//!
//! Filing goes through [`crate::app::cases::submit`] like every other way in. What is taken: the
//! service code (category), the description, the region (`attribute[region_code]`, or `address_id`,
//! which in this jurisdiction is a region code), the sector, the platform, anonymity, and a contact —
//! `phone`, else `email` — kept encrypted. Not taken: `lat`/`long` (never stored or logged; a request
//! with only coordinates is refused with a 400 asking for the region code), `address_string`,
//! `first_name`/`last_name`, `device_id`, `media_url`. `account_id` is echoed back, not stored.

use super::services::categories;
use super::{
    client_by_key, invalid_key, status_name, statuses_named, strip_json, Locale, Open311Error, Open311ErrorItem, TAG,
};
use crate::i18n::Lang;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dangjian_domain::services::cases::{parse_tracking_code, CaseStatus, Category};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, BUILTIN_SECTORS};
use dangjian_store::cases::NewCase;
use dangjian_store::open311::{FiledCase, RequestQuery};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The longest `account_id` echoed back, in characters.
pub const MAX_ACCOUNT_ID_CHARS: usize = 100;
/// The most `service_request_id`s one list may name.
pub const MAX_NAMED: usize = 100;
/// GeoReport v2: a date range may not span more than 90 days, and without dates the last 90 days.
pub const MAX_SPAN_DAYS: i64 = 90;

/// The fields of a new request, as the form (or JSON object) carries them. Documentation of the body;
/// the handler reads the pairs itself so that each error names its field.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RequestForm {
    /// Required: the client's key.
    pub api_key: Option<String>,
    /// Required: a service code from `services.json`.
    pub service_code: Option<String>,
    /// Required: what happened (at most 4,000 characters).
    pub description: Option<String>,
    /// The region (GB/T 2260 code): required, here or as `address_id`.
    #[serde(rename = "attribute[region_code]")]
    #[schema(rename = "attribute[region_code]")]
    pub region_code: Option<String>,
    /// One of the seven sector codes.
    #[serde(rename = "attribute[sector]")]
    #[schema(rename = "attribute[sector]")]
    pub sector: Option<String>,
    /// A registered unit's id.
    #[serde(rename = "attribute[platform_id]")]
    #[schema(rename = "attribute[platform_id]")]
    pub platform_id: Option<String>,
    /// `true` or `false`.
    #[serde(rename = "attribute[anonymous]")]
    #[schema(rename = "attribute[anonymous]")]
    pub anonymous: Option<String>,
    /// A region code (this jurisdiction's address ids are region codes).
    pub address_id: Option<String>,
    /// The worker's contact, kept encrypted and shown only to the handling department.
    pub phone: Option<String>,
    /// The contact when no phone is given.
    pub email: Option<String>,
    /// Echoed back, not stored.
    pub account_id: Option<String>,
    /// Refused alone (a region code is needed); never stored or logged.
    pub lat: Option<String>,
    /// Refused alone (a region code is needed); never stored or logged.
    pub long: Option<String>,
    /// Not stored.
    pub first_name: Option<String>,
    /// Not stored.
    pub last_name: Option<String>,
    /// Not stored.
    pub device_id: Option<String>,
}

/// The answer to a new request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RequestCreated {
    /// The tracking code: the worker's key to the case.
    pub service_request_id: String,
    /// Always null: the request is filed at once, so `service_request_id` is there already.
    pub token: Option<String>,
    pub service_notice: String,
    /// The `account_id` sent, if any.
    pub account_id: Option<String>,
}

/// A service request as GeoReport v2 shows it. Never the contact, never coordinates (`lat`/`long` are
/// always null), never an internal note.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceRequest {
    pub service_request_id: String,
    /// `open`/`closed`, or mySociety's extended statuses for a client that takes them.
    pub status: String,
    /// The latest public note of the handling department.
    pub status_notes: Option<String>,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: String,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    /// The acknowledgment deadline while open and unacknowledged, then the resolution deadline.
    pub expected_datetime: Option<String>,
    /// Always null: no address is kept.
    pub address: Option<String>,
    /// The region code.
    pub address_id: String,
    /// Always null.
    pub zipcode: Option<String>,
    /// Always null: no location is kept.
    pub lat: Option<f64>,
    /// Always null: no location is kept.
    pub long: Option<f64>,
    /// Always null: no media is kept.
    pub media_url: Option<String>,
}

/// `tokens/{token}.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenAnswer {
    pub service_request_id: String,
    pub token: String,
}

/// The name/value pairs of a body: form-urlencoded as the spec says, or a JSON object (scalars as
/// text; an `attribute` object becomes `attribute[key]`).
pub fn body_pairs(headers: &HeaderMap, body: &[u8], lang: Lang) -> Result<Vec<(String, String)>, Open311Error> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Ok(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect());
    }
    let bad = || Open311Error::field(StatusCode::BAD_REQUEST, "body", &lang.t("open311.body_not_object", &[]));
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad())?;
    let object = value.as_object().ok_or_else(bad)?;
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut pairs = Vec::new();
    for (k, v) in object {
        match (k.as_str(), v) {
            ("attribute", serde_json::Value::Object(attrs)) => {
                pairs.extend(attrs.iter().filter_map(|(a, v)| scalar(v).map(|v| (format!("attribute[{a}]"), v))));
            }
            _ => pairs.extend(scalar(v).map(|v| (k.clone(), v))),
        }
    }
    Ok(pairs)
}

/// The first non-empty value of `key`.
fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.trim()).find(|v| !v.is_empty())
}

/// A new request read from its fields: the case, the Open311 field each case field came from (for
/// errors the store finds), and the `account_id` to echo.
#[derive(Debug, Clone)]
pub struct Filing {
    pub case: NewCase,
    pub region_field: &'static str,
    pub contact_field: &'static str,
    pub account_id: Option<String>,
}

impl Filing {
    /// The Open311 name of a field the store named.
    pub fn rename(&self, field: &str) -> String {
        match field {
            "category" => "service_code".into(),
            "region_code" => self.region_field.into(),
            "contact" => self.contact_field.into(),
            "sector" | "platform_id" | "anonymous" => format!("attribute[{field}]"),
            other => other.into(),
        }
    }
}

fn problem(field: &str, code: &str, message: Message) -> FieldError {
    FieldError::new(field, code, message)
}

/// Reads a new request; every problem is reported at once, each naming its Open311 field. Coordinates
/// are looked at only to explain that a region code is needed; they go no further.
pub fn parse_filing(pairs: &[(String, String)], cats: &[Category]) -> Result<Filing, Vec<FieldError>> {
    let mut errs = Vec::new();
    let service_code = value(pairs, "service_code");
    match service_code {
        None => errs.push(problem("service_code", "required", Message::new("problem.required.required"))),
        Some(c) if !cats.iter().any(|cat| cat.code == c) => {
            errs.push(problem("service_code", "unknown", Message::new("problem.unknown.no_such_service")))
        }
        Some(_) => {}
    }
    let description = value(pairs, "description");
    if description.is_none() {
        errs.push(problem("description", "required", Message::new("problem.required.describe_what_happened")));
    }
    let attr_region = value(pairs, "attribute[region_code]");
    let address_id = value(pairs, "address_id");
    let (region, region_field) = match (attr_region, address_id) {
        (Some(a), Some(b)) if a != b => {
            errs.push(problem("address_id", "conflict", Message::new("problem.conflict.differs_attribute_region")));
            (None, "attribute[region_code]")
        }
        (Some(a), _) => (Some(a), "attribute[region_code]"),
        (None, Some(b)) => (Some(b), "address_id"),
        (None, None) => {
            if value(pairs, "lat").is_some()
                || value(pairs, "long").is_some()
                || value(pairs, "address_string").is_some()
            {
                errs.push(problem("attribute[region_code]", "region_needed", Message::new("problem.region_needed")));
            } else {
                errs.push(problem(
                    "attribute[region_code]",
                    "required",
                    Message::new("problem.required.required_gb_t"),
                ));
            }
            (None, "attribute[region_code]")
        }
    };
    let sector = value(pairs, "attribute[sector]");
    if sector.is_some_and(|s| !BUILTIN_SECTORS.iter().any(|b| b.code == s)) {
        errs.push(problem("attribute[sector]", "unknown", Message::new("problem.unknown.one_seven_sector")));
    }
    let platform_id = match value(pairs, "attribute[platform_id]") {
        None => None,
        Some(p) => match p.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push(problem("attribute[platform_id]", "not_a_number", Message::new("problem.not_a_number")));
                None
            }
        },
    };
    let anonymous = match value(pairs, "attribute[anonymous]").map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => {
            errs.push(problem("attribute[anonymous]", "not_a_boolean", Message::new("problem.not_a_boolean")));
            false
        }
    };
    let account_id = value(pairs, "account_id");
    if account_id.is_some_and(|a| a.chars().count() > MAX_ACCOUNT_ID_CHARS) {
        errs.push(problem(
            "account_id",
            "too_long",
            Message::new("problem.too_long.most_max_account").arg("max", MAX_ACCOUNT_ID_CHARS),
        ));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let (contact, contact_field) = match (value(pairs, "phone"), value(pairs, "email")) {
        (Some(p), _) => (Some(p), "phone"),
        (None, Some(e)) => (Some(e), "email"),
        (None, None) => (None, "phone"),
    };
    Ok(Filing {
        case: NewCase {
            category: service_code.unwrap_or_default().to_owned(),
            sector: sector.map(str::to_owned),
            platform_id,
            region_code: region.unwrap_or_default().to_owned(),
            description: description.unwrap_or_default().to_owned(),
            contact: if anonymous { None } else { contact.map(str::to_owned) },
            anonymous,
            open311_client_id: None,
        },
        region_field,
        contact_field,
        account_id: account_id.map(str::to_owned),
    })
}

/// Who handles it and by when, in `lang`.
fn notice(department: &str, ack_due: &str, resolve_due: &str, lang: Lang) -> String {
    lang.t(
        "open311.handled_by",
        &[
            ("department", department.to_string()),
            ("ack_due", ack_due.to_string()),
            ("resolve_due", resolve_due.to_string()),
        ],
    )
}

/// A filed case as GeoReport v2 shows it.
pub fn service_request(c: &FiledCase, cats: &[Category], extended: bool, lang: Lang) -> ServiceRequest {
    let service_name = cats
        .iter()
        .find(|cat| cat.code == c.category)
        .map(|cat| lang.pick(&cat.name_zh, &cat.name_en))
        .unwrap_or_else(|| c.category.clone());
    let expected = match c.status {
        CaseStatus::Submitted => Some(c.ack_due.clone()),
        CaseStatus::Acknowledged => Some(c.resolve_due.clone()),
        CaseStatus::Resolved | CaseStatus::Closed => None,
    };
    ServiceRequest {
        service_request_id: c.tracking_code.clone(),
        status: status_name(c.status, extended).to_owned(),
        status_notes: c.status_note.clone(),
        service_name,
        service_code: c.category.clone(),
        description: c.description.clone(),
        agency_responsible: c.department_name.clone(),
        service_notice: notice(&c.department_name, &c.ack_due, &c.resolve_due, lang),
        requested_datetime: c.created_at.clone(),
        updated_datetime: c.updated_at.clone(),
        expected_datetime: expected,
        address: None,
        address_id: c.region_code.clone(),
        zipcode: None,
        lat: None,
        long: None,
        media_url: None,
    }
}

/// File a service request (form-urlencoded, or a JSON object). Needs `api_key`; counts against the
/// filing quota per client address. Answers the `service_request_id` (tracking code) at once.
#[utoipa::path(post, path = "/open311/v2/requests.json", tag = TAG, security(()),
    request_body(content = RequestForm, content_type = "application/x-www-form-urlencoded"),
    params(("locale" = Option<String>, Query, description = "`zh-CN` (default) or `en`")),
    responses((status = 201, body = Vec<RequestCreated>), (status = 400, body = Vec<Open311ErrorItem>),
        (status = 403, body = Vec<Open311ErrorItem>), (status = 409, body = Vec<Open311ErrorItem>),
        (status = 429, body = Vec<Open311ErrorItem>)))]
async fn create_request(
    State(s): State<AppState>,
    Locale(lang): Locale,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Vec<RequestCreated>>), Open311Error> {
    let pairs = body_pairs(&headers, &body, lang)?;
    let client = client_by_key(&s, value(&pairs, "api_key"), lang).await?.ok_or_else(|| invalid_key(lang))?;
    let cats = categories(&s, lang).await?;
    let mut filing = parse_filing(&pairs, &cats).map_err(|e| Open311Error::fields(&e, lang, str::to_owned))?;
    filing.case.open311_client_id = Some(client.id);
    let done = crate::app::cases::submit(&s, &filing.case)
        .await
        .map_err(|e| Open311Error::from_store(e, lang, |f| filing.rename(f)))?;
    tracing::info!(client = client.id, "open311: case filed");
    let created = RequestCreated {
        service_request_id: done.tracking_code,
        token: None,
        service_notice: notice(&done.department_name, &done.ack_due, &done.resolve_due, lang),
        account_id: filing.account_id,
    };
    Ok((StatusCode::CREATED, Json(vec![created])))
}

/// `GET requests.json` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// Comma-separated service request ids (tracking codes): these, whoever filed them; every other
    /// filter is then ignored.
    pub service_request_id: Option<String>,
    /// Without ids: the key of the client whose own requests are listed.
    pub api_key: Option<String>,
    /// A service code.
    pub service_code: Option<String>,
    /// Earliest `requested_datetime` (ISO 8601 with time zone). Default: 90 days ago.
    pub start_date: Option<String>,
    /// Latest `requested_datetime`. At most 90 days after `start_date`.
    pub end_date: Option<String>,
    /// Comma-separated: `open`, `closed` (or `in_progress`, `fixed`).
    pub status: Option<String>,
    /// `zh-CN` (default) or `en`.
    pub locale: Option<String>,
    /// Ignored: one jurisdiction.
    pub jurisdiction_id: Option<String>,
}

fn date(field: &str, v: Option<&str>, lang: Lang) -> Result<Option<DateTime<Utc>>, Open311Error> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|d| Some(d.with_timezone(&Utc)))
            .map_err(|_| Open311Error::field(StatusCode::BAD_REQUEST, field, &lang.t("open311.bad_time", &[]))),
    }
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The store's query for `q` at `now`, for `client` (if a key was given).
pub fn requests_query(
    q: &RequestsQuery,
    client: Option<i64>,
    cats: &[Category],
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<RequestQuery, Open311Error> {
    let bad = |field: &str, m: Message| Open311Error::field(StatusCode::BAD_REQUEST, field, &lang.say(&m));
    if let Some(ids) = q.service_request_id.as_deref().filter(|v| !v.trim().is_empty()) {
        let mut codes = Vec::new();
        for id in ids.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            codes.push(
                parse_tracking_code(id)
                    .map_err(|_| bad("service_request_id", Message::new("open311.bad_request_id").arg("id", id)))?,
            );
        }
        if codes.len() > MAX_NAMED {
            return Err(bad("service_request_id", Message::new("open311.too_many_ids").arg("max", MAX_NAMED)));
        }
        return Ok(RequestQuery { codes, ..Default::default() });
    }
    let Some(client) = client else {
        return Err(bad("service_request_id", Message::new("open311.name_the_requests")));
    };
    let category = match q.service_code.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(c) if !cats.iter().any(|cat| cat.code == c) => {
            return Err(bad("service_code", Message::new("open311.no_such_service")))
        }
        other => other.map(str::to_owned),
    };
    let mut statuses = Vec::new();
    for name in q.status.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let set = statuses_named(name).ok_or_else(|| bad("status", Message::new("open311.bad_status")))?;
        statuses.extend_from_slice(set);
    }
    let start = date("start_date", q.start_date.as_deref(), lang)?;
    let end = date("end_date", q.end_date.as_deref(), lang)?;
    let span = Duration::days(MAX_SPAN_DAYS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) if e < s => return Err(bad("end_date", Message::new("open311.end_before_start"))),
        (Some(s), Some(e)) if e - s > span => return Err(bad("end_date", Message::new("open311.period_too_long"))),
        (Some(s), e) => (s, e),
        (None, Some(e)) => (e - span, Some(e)),
        (None, None) => (now - span, None),
    };
    Ok(RequestQuery {
        codes: Vec::new(),
        client_id: Some(client),
        category,
        statuses,
        start: Some(text(start)),
        end: end.map(text),
    })
}

/// Service requests: those named by `service_request_id`, or — with `api_key` — the client's own,
/// filtered by service, dates (default the last 90 days) and status. Nothing else is listed.
#[utoipa::path(get, path = "/open311/v2/requests.json", tag = TAG, security(()), params(RequestsQuery),
    responses((status = 200, body = Vec<ServiceRequest>), (status = 400, body = Vec<Open311ErrorItem>),
        (status = 403, body = Vec<Open311ErrorItem>), (status = 429, body = Vec<Open311ErrorItem>)))]
async fn list_requests(
    State(s): State<AppState>,
    Locale(lang): Locale,
    Query(q): Query<RequestsQuery>,
) -> Result<Json<Vec<ServiceRequest>>, Open311Error> {
    let client = client_by_key(&s, q.api_key.as_deref(), lang).await?;
    let cats = categories(&s, lang).await?;
    let query = requests_query(&q, client.as_ref().map(|c| c.id), &cats, s.clock.now(), lang)?;
    let found = s.store.open311_requests(&query).await.map_err(|e| Open311Error::from_store(e, lang, str::to_owned))?;
    let extended = client.is_some_and(|c| c.extended_statuses);
    Ok(Json(found.iter().map(|c| service_request(c, &cats, extended, lang)).collect()))
}

/// `?api_key=` on single lookups: only to choose the status vocabulary.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyQuery {
    /// A client's key (optional): its status vocabulary is used.
    pub api_key: Option<String>,
    /// `zh-CN` (default) or `en`.
    pub locale: Option<String>,
}

/// The case behind a `{service_request_id}.json` segment.
async fn named(s: &AppState, segment: &str, field: &str, lang: Lang) -> Result<FiledCase, Open311Error> {
    let id = strip_json(segment).ok_or_else(|| Open311Error::not_found(field, lang))?;
    let code = parse_tracking_code(id)
        .map_err(|_| Open311Error::field(StatusCode::BAD_REQUEST, field, &lang.t("open311.not_a_request_id", &[])))?;
    let q = RequestQuery { codes: vec![code], ..Default::default() };
    let found = s.store.open311_requests(&q).await.map_err(|e| Open311Error::from_store(e, lang, str::to_owned))?;
    found.into_iter().next().ok_or_else(|| Open311Error::not_found(field, lang))
}

/// One service request by its id (the tracking code). The segment is `{service_request_id}.json`;
/// the answer is a list of one, as the spec has it.
#[utoipa::path(get, path = "/open311/v2/requests/{id}", tag = TAG, security(()),
    params(("id" = String, Path, description = "The service request id followed by `.json`, e.g. `7K3M-Q9PXA.json`"), KeyQuery),
    responses((status = 200, body = Vec<ServiceRequest>), (status = 400, body = Vec<Open311ErrorItem>),
        (status = 403, body = Vec<Open311ErrorItem>), (status = 404, body = Vec<Open311ErrorItem>),
        (status = 429, body = Vec<Open311ErrorItem>)))]
async fn get_request(
    State(s): State<AppState>,
    Locale(lang): Locale,
    Path(segment): Path<String>,
    Query(q): Query<KeyQuery>,
) -> Result<Json<Vec<ServiceRequest>>, Open311Error> {
    let client = client_by_key(&s, q.api_key.as_deref(), lang).await?;
    let case = named(&s, &segment, "service_request_id", lang).await?;
    let extended = client.is_some_and(|c| c.extended_statuses);
    Ok(Json(vec![service_request(&case, &categories(&s, lang).await?, extended, lang)]))
}

/// The service request id behind a token. Requests are filed at once, so no token is handed out; a
/// service request id serves as its own token, for clients that always take this path.
#[utoipa::path(get, path = "/open311/v2/tokens/{token}", tag = TAG, security(()),
    params(("token" = String, Path, description = "The token followed by `.json`")),
    responses((status = 200, body = Vec<TokenAnswer>), (status = 400, body = Vec<Open311ErrorItem>),
        (status = 404, body = Vec<Open311ErrorItem>), (status = 429, body = Vec<Open311ErrorItem>)))]
async fn token(
    State(s): State<AppState>,
    Locale(lang): Locale,
    Path(segment): Path<String>,
) -> Result<Json<Vec<TokenAnswer>>, Open311Error> {
    let case = named(&s, &segment, "token", lang).await?;
    Ok(Json(vec![TokenAnswer { token: case.tracking_code.clone(), service_request_id: case.tracking_code }]))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_request, list_requests))
        .routes(routes!(get_request))
        .routes(routes!(token))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        kv.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn fields(e: &[FieldError]) -> Vec<&str> {
        e.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_filing_is_read_from_the_spec_fields() {
        let f = parse_filing(
            &pairs(&[
                ("service_code", "wage_arrears"),
                ("description", " 欠薪 "),
                ("attribute[region_code]", "440305"),
                ("attribute[sector]", "courier"),
                ("attribute[platform_id]", "7"),
                ("email", "w@example.org"),
                ("first_name", "张"),
                ("lat", "22.5"),
                ("long", "113.9"),
                ("account_id", "acc-1"),
            ]),
            &dangjian_domain::services::cases::default_categories(),
        )
        .unwrap();
        assert_eq!(f.case.region_code, "440305");
        assert_eq!(f.case.description, "欠薪");
        assert_eq!((f.case.sector.as_deref(), f.case.platform_id), (Some("courier"), Some(7)));
        assert_eq!((f.case.contact.as_deref(), f.contact_field), (Some("w@example.org"), "email"));
        assert_eq!(f.account_id.as_deref(), Some("acc-1"));
        // Nothing of the name or the location reaches the case.
        let all = format!("{:?}", f.case);
        assert!(!all.contains("张") && !all.contains("22.5") && !all.contains("113.9"), "{all}");
        assert_eq!(f.rename("region_code"), "attribute[region_code]");
        assert_eq!(f.rename("contact"), "email");

        // The phone wins over the email; anonymity drops both; address_id carries the region.
        let f = parse_filing(
            &pairs(&[
                ("service_code", "other"),
                ("description", "x"),
                ("address_id", "440305001"),
                ("phone", "13812341234"),
                ("email", "w@example.org"),
            ]),
            &dangjian_domain::services::cases::default_categories(),
        )
        .unwrap();
        assert_eq!((f.case.region_code.as_str(), f.region_field), ("440305001", "address_id"));
        assert_eq!(f.case.contact.as_deref(), Some("13812341234"));
        let f = parse_filing(
            &pairs(&[
                ("service_code", "other"),
                ("description", "x"),
                ("address_id", "440305"),
                ("phone", "13812341234"),
                ("attribute[anonymous]", "true"),
            ]),
            &dangjian_domain::services::cases::default_categories(),
        )
        .unwrap();
        assert!(f.case.anonymous && f.case.contact.is_none());
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = parse_filing(&pairs(&[]), &dangjian_domain::services::cases::default_categories()).unwrap_err();
        assert_eq!(fields(&e), ["service_code", "description", "attribute[region_code]"]);
        let e = parse_filing(
            &pairs(&[
                ("service_code", "potholes"),
                ("description", "x"),
                ("lat", "22.5"),
                ("long", "113.9"),
                ("attribute[sector]", "plumbing"),
                ("attribute[platform_id]", "seven"),
                ("attribute[anonymous]", "maybe"),
                ("account_id", &"a".repeat(101)),
            ]),
            &dangjian_domain::services::cases::default_categories(),
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            [
                "service_code",
                "attribute[region_code]",
                "attribute[sector]",
                "attribute[platform_id]",
                "attribute[anonymous]",
                "account_id"
            ]
        );
        assert_eq!(e[1].code, "region_needed");
        let e = parse_filing(
            &pairs(&[
                ("service_code", "other"),
                ("description", "x"),
                ("attribute[region_code]", "440305"),
                ("address_id", "110105"),
            ]),
            &dangjian_domain::services::cases::default_categories(),
        )
        .unwrap_err();
        assert_eq!(fields(&e), ["address_id"]);
    }

    #[test]
    fn json_bodies_are_read_like_forms() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        let body =
            br#"{"service_code": "other", "attribute": {"region_code": "440305", "platform_id": 3}, "lat": null}"#;
        let p = body_pairs(&h, body, Lang::En).unwrap();
        assert_eq!(value(&p, "attribute[region_code]"), Some("440305"));
        assert_eq!(value(&p, "attribute[platform_id]"), Some("3"));
        assert_eq!(value(&p, "lat"), None);
        assert!(body_pairs(&h, b"[1]", Lang::En).is_err());
        let p = body_pairs(&HeaderMap::new(), b"attribute%5Bsector%5D=courier&a=1", Lang::En).unwrap();
        assert_eq!(value(&p, "attribute[sector]"), Some("courier"));
    }

    #[test]
    fn lists_need_ids_or_a_key_and_keep_to_90_days() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().with_timezone(&Utc);
        let cats = dangjian_domain::services::cases::default_categories();
        let none = RequestsQuery::default();
        let e = requests_query(&none, None, &cats, now, Lang::En).unwrap_err();
        assert!(e.items[0].description.starts_with("service_request_id: "), "{e:?}");
        let own = requests_query(&none, Some(4), &cats, now, Lang::En).unwrap();
        assert_eq!((own.client_id, own.start.as_deref()), (Some(4), Some("2026-08-29T08:00:00Z")));
        let q = RequestsQuery {
            start_date: Some("2026-11-01T00:00:00+08:00".into()),
            status: Some("open,fixed".into()),
            service_code: Some("wage_arrears".into()),
            ..Default::default()
        };
        let q = requests_query(&q, Some(4), &cats, now, Lang::En).unwrap();
        assert_eq!(q.start.as_deref(), Some("2026-10-31T16:00:00Z"));
        assert_eq!(q.statuses, [CaseStatus::Submitted, CaseStatus::Acknowledged, CaseStatus::Resolved]);
        let bad = |q: RequestsQuery| {
            requests_query(&q, Some(4), &cats, now, Lang::En).unwrap_err().items[0].description.clone()
        };
        assert!(bad(RequestsQuery { status: Some("lost".into()), ..Default::default() }).starts_with("status: "));
        assert!(bad(RequestsQuery { start_date: Some("yesterday".into()), ..Default::default() })
            .starts_with("start_date: "));
        assert!(bad(RequestsQuery {
            start_date: Some("2026-01-01T00:00:00Z".into()),
            end_date: Some("2026-06-01T00:00:00Z".into()),
            ..Default::default()
        })
        .starts_with("end_date: "));
        assert!(bad(RequestsQuery { service_code: Some("potholes".into()), ..Default::default() })
            .starts_with("service_code: "));
        // Ids override everything else, and need no key.
        let q = RequestsQuery { service_request_id: Some("nonsense".into()), ..Default::default() };
        assert!(requests_query(&q, None, &cats, now, Lang::En).unwrap_err().items[0]
            .description
            .starts_with("service_request_id: "));
    }
}
