//! `/organizations/new` and `/organizations/{id}/edit`: the organization form. Units are named by
//! their USCC or site code, one per line.

use super::org_kinds;
use crate::app::permission::{self, Target};
use crate::app::{organizations, Ctx};
use crate::auth::Actor;
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::lists::PageQuery;
use crate::pages::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Action;
use dangjian_domain::org::OrganizationInput;
use dangjian_store::organizations::Organization;
use dangjian_store::StoreError;
use minijinja::context;
use serde::Serialize;

#[derive(Debug, Default, Serialize)]
struct OrgForm {
    code: String,
    name: String,
    kind: String,
    parent_org_code: String,
    /// USCCs or site codes, one per line (commas and Chinese separators also accepted).
    units: String,
    region_code: String,
    established_on: String,
    dissolved_on: String,
    term_start: String,
    term_end: String,
    secretary: String,
    version: Option<i64>,
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl OrgForm {
    fn from_form(f: &FormData) -> Self {
        OrgForm {
            code: f.text("code"),
            name: f.text("name"),
            kind: f.text("kind"),
            parent_org_code: f.text("parent_org_code"),
            units: f.text("units"),
            region_code: f.text("region_code"),
            established_on: f.text("established_on"),
            dissolved_on: f.text("dissolved_on"),
            term_start: f.text("term_start"),
            term_end: f.text("term_end"),
            secretary: f.text("secretary"),
            version: f.get("version").and_then(|v| v.parse().ok()),
        }
    }

    fn from_org(o: &Organization) -> Self {
        OrgForm {
            code: o.code.clone(),
            name: o.name.clone(),
            kind: o.kind.as_str().to_owned(),
            parent_org_code: o.parent_code.clone().unwrap_or_default(),
            units: o.units.iter().map(|u| u.code.as_str()).collect::<Vec<_>>().join("\n"),
            region_code: o.region_code.clone(),
            established_on: date(o.established_on),
            dissolved_on: date(o.dissolved_on),
            term_start: date(o.term_start),
            term_end: date(o.term_end),
            secretary: o.secretary.clone().unwrap_or_default(),
            version: Some(o.version),
        }
    }

    fn to_input(&self) -> OrganizationInput {
        OrganizationInput {
            code: opt(&self.code),
            name: opt(&self.name),
            kind: opt(&self.kind),
            parent_id: None,
            parent_code: opt(&self.parent_org_code).map(|c| c.to_uppercase()),
            unit_ids: Vec::new(),
            unit_codes: self
                .units
                .split(['\n', '\r', ',', '，', ';', '；', '、'])
                .map(|c| c.trim().to_uppercase())
                .filter(|c| !c.is_empty())
                .collect(),
            region_code: opt(&self.region_code),
            established_on: opt(&self.established_on),
            dissolved_on: opt(&self.dissolved_on),
            term_start: opt(&self.term_start),
            term_end: opt(&self.term_end),
            secretary: opt(&self.secretary),
        }
    }
}

fn form_field(field: &str) -> String {
    match field {
        "parent" | "parent_id" | "parent_code" => "parent_org_code".into(),
        f if f.starts_with("unit") => "units".into(),
        f => f.into(),
    }
}

async fn render(
    ctx: &PageCtx,
    status: StatusCode,
    form: OrgForm,
    problems: Problems,
    org: Option<Organization>,
) -> Result<Response, Failed> {
    let action = match &org {
        Some(o) => format!("/organizations/{}/edit", o.id),
        None => "/organizations/new".to_owned(),
    };
    Ok(ctx.render_status(
        status,
        "organizations/form.html",
        context! { form, problems, org, action, kinds => org_kinds() },
    ))
}

async fn rejected(ctx: &PageCtx, form: OrgForm, e: StoreError, org: Option<Organization>) -> Result<Response, Failed> {
    match e {
        StoreError::Invalid(errs) => {
            let problems = Problems::from_errors(&errs, ctx, form_field);
            render(ctx, StatusCode::UNPROCESSABLE_ENTITY, form, problems, org).await
        }
        StoreError::StaleVersion { current } => {
            let message = ctx.lang.t("form.stale", &[("version", current.to_string())]);
            render(ctx, StatusCode::CONFLICT, form, Problems::whole_form(message), org).await
        }
        e => Err(ctx.store_err()(e)),
    }
}

pub async fn new(State(s): State<AppState>, actor: Actor, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    permission::require(&s, &actor, Action::Write, "organization.create").await.map_err(|r| r.page(&ctx))?;
    let mut form = OrgForm { kind: "branch".into(), ..Default::default() };
    if let Some(unit) = q.id("unit") {
        permission::authorize(&s, &actor, Action::Read, Target::Entity(unit), "entity.read")
            .await
            .map_err(|r| r.page(&ctx))?;
        let u = s.store.entity(unit).await.map_err(ctx.store_err())?;
        form.units = u.code().to_owned();
        form.region_code = u.region_code.clone();
    }
    render(&ctx, StatusCode::OK, form, Problems::default(), None).await
}

pub async fn create(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let pending = organizations::begin_create(&cx).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let form = OrgForm::from_form(&data);
    match pending.save(&form.to_input(), 0).await {
        Ok(o) => Ok(Redirect::to(&format!("/organizations/{}?saved=1", o.id)).into_response()),
        Err(e) => rejected(&ctx, form, ctx.input_err(e)?, None).await,
    }
}

pub async fn edit(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
) -> Result<Response, Failed> {
    permission::authorize(&s, &actor, Action::Write, Target::Organization(id), "organization.update")
        .await
        .map_err(|r| r.page(&ctx))?;
    let o = s.store.organization(id).await.map_err(ctx.store_err())?;
    render(&ctx, StatusCode::OK, OrgForm::from_org(&o), Problems::default(), Some(o)).await
}

pub async fn update(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    let pending = organizations::begin_update(&Ctx::new(&s, &actor), id).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let current = s.store.organization(id).await.map_err(ctx.store_err())?;
    let form = OrgForm::from_form(&data);
    let version = form.version.unwrap_or(-1);
    match pending.save(&form.to_input(), version).await {
        Ok(o) => Ok(Redirect::to(&format!("/organizations/{}?saved=1", o.id)).into_response()),
        Err(e) => rejected(&ctx, form, ctx.input_err(e)?, Some(current)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_split_on_any_separator() {
        let f = OrgForm { units: "mt-1\r\nMT-2， mt-3、\n".into(), ..Default::default() };
        assert_eq!(f.to_input().unit_codes, vec!["MT-1", "MT-2", "MT-3"]);
        assert_eq!(form_field("unit_codes"), "units");
    }
}
