//! `/stations/new` and `/stations/{id}/edit`: the station form.

use super::amenity_options;
use crate::app::{stations, AppError, Ctx};
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::{Failed, PageCtx, PageId};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::services::stations::{StationInput, StationStatus};
use dangjian_store::stations::Station;
use dangjian_store::StoreError;
use minijinja::context;
use serde::Serialize;

/// The form's inputs; the station code is `station_code` so that its label is not the organization code's.
const TEXT_FIELDS: [&str; 10] = [
    "station_code",
    "name",
    "operator_code",
    "operator_department",
    "address",
    "region_code",
    "latitude",
    "longitude",
    "opening_hours",
    "contact_phone",
];

#[derive(Debug, Default, Serialize)]
struct StationForm {
    fields: std::collections::BTreeMap<&'static str, String>,
    amenities: Vec<String>,
    status: String,
    version: Option<i64>,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl StationForm {
    fn from_form(f: &FormData) -> Self {
        StationForm {
            fields: TEXT_FIELDS.iter().map(|k| (*k, f.text(k))).collect(),
            amenities: f.all("amenities"),
            status: f.text("status"),
            version: f.get("version").and_then(|v| v.parse().ok()),
        }
    }

    fn from_station(s: &Station) -> Self {
        let values = [
            s.code.clone(),
            s.name.clone(),
            s.operator_code.clone().unwrap_or_default(),
            s.operator_department.clone().unwrap_or_default(),
            s.address.clone(),
            s.region_code.clone(),
            s.latitude.to_string(),
            s.longitude.to_string(),
            s.opening_hours.clone(),
            s.contact_phone.clone().unwrap_or_default(),
        ];
        StationForm {
            fields: TEXT_FIELDS.iter().copied().zip(values).collect(),
            amenities: s.amenities.iter().map(|a| a.as_str().to_owned()).collect(),
            status: s.status.as_str().to_owned(),
            version: Some(s.version),
        }
    }

    fn to_input(&self) -> StationInput {
        let get = |k: &str| self.fields.get(k).and_then(|v| opt(v));
        StationInput {
            code: get("station_code"),
            name: get("name"),
            operator_code: get("operator_code"),
            operator_department: get("operator_department"),
            address: get("address"),
            region_code: get("region_code"),
            latitude: get("latitude"),
            longitude: get("longitude"),
            amenities: self.amenities.clone(),
            opening_hours: get("opening_hours"),
            status: opt(&self.status),
            contact_phone: get("contact_phone"),
        }
    }
}

/// The form input an error belongs to (`amenities[2]` → the amenity checkboxes).
fn form_field(field: &str) -> String {
    if field.starts_with("amenities") {
        "amenities".into()
    } else if field == "code" {
        "station_code".into()
    } else {
        field.to_owned()
    }
}

fn render(
    ctx: &PageCtx,
    status: StatusCode,
    form: StationForm,
    problems: Problems,
    current: Option<&Station>,
) -> Response {
    let action = current.map_or("/stations/new".to_owned(), |s| format!("/stations/{}/edit", s.id));
    let station = current.map(|s| context! { id => s.id, name => s.name.clone() });
    let statuses: Vec<&str> = StationStatus::ALL.iter().map(|s| s.as_str()).collect();
    ctx.render_status(
        status,
        "stations/form.html",
        context! { form, problems, action, station, amenities => amenity_options(ctx), statuses },
    )
}

/// Saves the form through the station command and answers the page: the station, or the form again
/// with its problems.
async fn save(ctx: &PageCtx, pending: stations::Pending, body: FormBody) -> Result<Response, Failed> {
    let data = body.read().await?;
    let form = StationForm::from_form(&data);
    let current = pending.current().cloned();
    let result = pending.save(&form.to_input(), form.version.unwrap_or(-1)).await;
    match result {
        Ok(st) => Ok(Redirect::to(&format!("/stations/{}?saved=1", st.id)).into_response()),
        Err(AppError::Invalid(errs) | AppError::Store(StoreError::Invalid(errs))) => {
            let problems = Problems::from_errors(&errs, ctx, form_field);
            Ok(render(ctx, StatusCode::UNPROCESSABLE_ENTITY, form, problems, current.as_ref()))
        }
        Err(AppError::Store(StoreError::StaleVersion { current: v })) => {
            let message = ctx.lang.t("form.stale", &[("version", v.to_string())]);
            Ok(render(ctx, StatusCode::CONFLICT, form, Problems::whole_form(message), current.as_ref()))
        }
        Err(e) => Err(e.page(ctx)),
    }
}

pub async fn new(cx: Ctx, ctx: PageCtx) -> Result<Response, Failed> {
    drop(stations::begin_create(&cx).await.map_err(ctx.app_err())?);
    let form = StationForm {
        status: "active".into(),
        fields: TEXT_FIELDS.iter().map(|k| (*k, String::new())).collect(),
        ..Default::default()
    };
    Ok(render(&ctx, StatusCode::OK, form, Problems::default(), None))
}

pub async fn create(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let pending = stations::begin_create(&cx).await.map_err(ctx.app_err())?;
    save(&ctx, pending, body).await
}

pub async fn edit(cx: Ctx, ctx: PageCtx, PageId(id): PageId) -> Result<Response, Failed> {
    let pending = stations::begin_update(&cx, id).await.map_err(ctx.app_err())?;
    let st = pending.current().cloned().ok_or_else(|| ctx.not_found())?;
    Ok(render(&ctx, StatusCode::OK, StationForm::from_station(&st), Problems::default(), Some(&st)))
}

pub async fn update(cx: Ctx, ctx: PageCtx, PageId(id): PageId, body: FormBody) -> Result<Response, Failed> {
    let pending = stations::begin_update(&cx, id).await.map_err(ctx.app_err())?;
    save(&ctx, pending, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_an_input_and_errors_find_their_inputs() {
        let data = FormData::from_pairs(&[
            ("station_code", "bj-1"),
            ("name", "驿站"),
            ("amenities", "toilet"),
            ("amenities", "first_aid"),
            ("latitude", " 39.9 "),
            ("status", "active"),
        ]);
        let input = StationForm::from_form(&data).to_input();
        assert_eq!(input.amenities, vec!["toilet", "first_aid"]);
        assert_eq!(input.code.as_deref(), Some("bj-1"));
        assert_eq!(form_field("code"), "station_code");
        assert_eq!(input.latitude.as_deref(), Some("39.9"));
        assert_eq!(input.address, None);
        assert_eq!(form_field("amenities[1]"), "amenities");
        assert_eq!(form_field("latitude"), "latitude");
    }
}
