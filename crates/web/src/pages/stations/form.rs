//! `/stations/new` and `/stations/{id}/edit`: the station form.

use super::amenity_options;
use crate::auth::Actor;
use crate::pages::form::{FormData, Problems};
use crate::pages::{Failed, PageCtx, PageId};
use crate::scope::{self, Target};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Action;
use dangjian_domain::services::stations::{StationDraft, StationInput, StationStatus};
use dangjian_store::stations::Station;
use dangjian_store::{AccessFilter, StoreError};
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

async fn save(
    s: &AppState,
    (actor, access): (&Actor, &AccessFilter),
    ctx: &PageCtx,
    form: StationForm,
    current: Option<Station>,
) -> Result<Response, Failed> {
    let (action, result) = match (StationDraft::parse(&form.to_input()), &current) {
        (Ok(d), Some(c)) => {
            ("station.update", s.store.update_station(c.id, &d, form.version.unwrap_or(-1), access).await)
        }
        (Ok(d), None) => ("station.create", s.store.create_station(&d, access).await),
        (Err(errs), _) => ("", Err(StoreError::Invalid(errs))),
    };
    if !action.is_empty() {
        if let Ok(st) = &result {
            s.stations.after_write(st.id).await;
        }
        let id = current.as_ref().map(|c| c.id).or(result.as_ref().ok().map(|st| st.id));
        scope::audit_write(s, actor, action, id.map(Target::Station), &result).await;
    }
    match result {
        Ok(st) => Ok(Redirect::to(&format!("/stations/{}?saved=1", st.id)).into_response()),
        Err(StoreError::Invalid(errs)) => {
            let problems = Problems::from_errors(&errs, ctx, form_field);
            Ok(render(ctx, StatusCode::UNPROCESSABLE_ENTITY, form, problems, current.as_ref()))
        }
        Err(StoreError::StaleVersion { current: v }) => {
            let message = ctx.lang.t("form.stale", &[("version", v.to_string())]);
            Ok(render(ctx, StatusCode::CONFLICT, form, Problems::whole_form(message), current.as_ref()))
        }
        Err(e) => Err(ctx.store_err()(e)),
    }
}

pub async fn new(State(s): State<AppState>, actor: Actor, ctx: PageCtx) -> Result<Response, Failed> {
    scope::require(&s, &actor, Action::Write, "station.create").await.map_err(|r| r.page(&ctx))?;
    let form = StationForm {
        status: "active".into(),
        fields: TEXT_FIELDS.iter().map(|k| (*k, String::new())).collect(),
        ..Default::default()
    };
    Ok(render(&ctx, StatusCode::OK, form, Problems::default(), None))
}

pub async fn create(State(s): State<AppState>, actor: Actor, ctx: PageCtx, data: FormData) -> Result<Response, Failed> {
    let access = scope::require(&s, &actor, Action::Write, "station.create").await.map_err(|r| r.page(&ctx))?;
    save(&s, (&actor, &access), &ctx, StationForm::from_form(&data), None).await
}

pub async fn edit(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
) -> Result<Response, Failed> {
    scope::authorize(&s, &actor, Action::Write, Target::Station(id), "station.update")
        .await
        .map_err(|r| r.page(&ctx))?;
    let st = s.store.station(id).await.map_err(ctx.store_err())?;
    Ok(render(&ctx, StatusCode::OK, StationForm::from_station(&st), Problems::default(), Some(&st)))
}

pub async fn update(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    data: FormData,
) -> Result<Response, Failed> {
    let access = scope::authorize(&s, &actor, Action::Write, Target::Station(id), "station.update")
        .await
        .map_err(|r| r.page(&ctx))?;
    let current = s.store.station(id).await.map_err(ctx.store_err())?;
    save(&s, (&actor, &access), &ctx, StationForm::from_form(&data), Some(current)).await
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
