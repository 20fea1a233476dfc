//! `/entities/new` and `/entities/{id}/edit`: the unit form. A rejected submission comes back with
//! the user's input and a message beside each field; a stale version says so.

use crate::app::permission::{self, Target};
use crate::app::{entities, AppError, Ctx};
use crate::auth::Actor;
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::lists::PageQuery;
use crate::pages::lists::{entity_kinds, sectors};
use crate::pages::{Failed, PageCtx, PageId};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Action;
use dangjian_domain::entity::EntityInput;
use dangjian_domain::EntityKind;
use dangjian_store::entities::Entity;
use dangjian_store::StoreError;
use minijinja::context;
use serde::Serialize;

/// The form's values as typed (text), so a rejected submission shows exactly what was sent.
#[derive(Debug, Default, Serialize)]
struct EntityForm {
    uscc: String,
    site_code: String,
    name: String,
    kind: String,
    sectors: Vec<String>,
    parent_code: String,
    region_code: String,
    address: String,
    workers: String,
    party_members: String,
    probationary_members: String,
    established_on: String,
    closed_on: String,
    version: Option<i64>,
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl EntityForm {
    fn from_form(f: &FormData) -> Self {
        EntityForm {
            uscc: f.text("uscc"),
            site_code: f.text("site_code"),
            name: f.text("name"),
            kind: f.text("kind"),
            sectors: f.all("sectors"),
            parent_code: f.text("parent_code"),
            region_code: f.text("region_code"),
            address: f.text("address"),
            workers: f.text("workers"),
            party_members: f.text("party_members"),
            probationary_members: f.text("probationary_members"),
            established_on: f.text("established_on"),
            closed_on: f.text("closed_on"),
            version: f.get("version").and_then(|v| v.parse().ok()),
        }
    }

    fn from_entity(e: &Entity, parent_code: String) -> Self {
        EntityForm {
            uscc: e.uscc.clone().unwrap_or_default(),
            site_code: e.site_code.clone().unwrap_or_default(),
            name: e.name.clone(),
            kind: e.kind.as_str().to_owned(),
            sectors: e.sectors.clone(),
            parent_code,
            region_code: e.region_code.clone(),
            address: e.address.clone().unwrap_or_default(),
            workers: e.workers.to_string(),
            party_members: e.party_members.to_string(),
            probationary_members: e.probationary_members.to_string(),
            established_on: date(e.established_on),
            closed_on: date(e.closed_on),
            version: Some(e.version),
        }
    }

    fn to_input(&self) -> EntityInput {
        EntityInput {
            uscc: opt(&self.uscc).map(|u| u.to_uppercase()),
            site_code: opt(&self.site_code),
            name: opt(&self.name),
            kind: opt(&self.kind),
            sectors: self.sectors.clone(),
            parent_id: None,
            parent_uscc: opt(&self.parent_code).map(|u| u.to_uppercase()),
            region_code: opt(&self.region_code),
            address: opt(&self.address),
            workers: opt(&self.workers),
            party_members: opt(&self.party_members),
            probationary_members: opt(&self.probationary_members),
            established_on: opt(&self.established_on),
            closed_on: opt(&self.closed_on),
        }
    }
}

/// The form input an error's field belongs to.
fn form_field(field: &str) -> String {
    match field {
        "parent" | "parent_id" | "parent_uscc" => "parent_code".into(),
        "sector" => "sectors".into(),
        f => f.into(),
    }
}

async fn render(
    s: &AppState,
    ctx: &PageCtx,
    status: StatusCode,
    form: EntityForm,
    problems: Problems,
    entity: Option<Entity>,
) -> Result<Response, Failed> {
    let (sector_options, _) = sectors(&s.store, ctx).await.map_err(ctx.store_err())?;
    let action = match &entity {
        Some(e) => format!("/entities/{}/edit", e.id),
        None => "/entities/new".to_owned(),
    };
    Ok(ctx.render_status(
        status,
        "entities/form.html",
        context! { form, problems, entity, action, sector_options, kinds => entity_kinds() },
    ))
}

/// Maps a failed save to the re-rendered form, or to an error page when it is not about the input.
async fn rejected(
    s: &AppState,
    ctx: &PageCtx,
    form: EntityForm,
    e: AppError,
    entity: Option<Entity>,
) -> Result<Response, Failed> {
    let e = match e {
        AppError::Store(e) => e,
        AppError::Invalid(errs) => StoreError::Invalid(errs),
        e => return Err(e.page(ctx)),
    };
    match e {
        StoreError::Invalid(errs) => {
            let problems = Problems::from_errors(&errs, ctx, form_field);
            render(s, ctx, StatusCode::UNPROCESSABLE_ENTITY, form, problems, entity).await
        }
        StoreError::StaleVersion { current } => {
            let message = ctx.lang.t("form.stale", &[("version", current.to_string())]);
            render(s, ctx, StatusCode::CONFLICT, form, Problems::whole_form(message), entity).await
        }
        e => Err(ctx.store_err()(e)),
    }
}

pub async fn new(State(s): State<AppState>, actor: Actor, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    permission::require(&s, &actor, Action::Write, "entity.create").await.map_err(|r| r.page(&ctx))?;
    let mut form = EntityForm { region_code: q.get("region").unwrap_or_default(), ..Default::default() };
    if let Some(parent) = q.id("parent") {
        permission::authorize(&s, &actor, Action::Read, Target::Entity(parent), "entity.read")
            .await
            .map_err(|r| r.page(&ctx))?;
        let p = s.store.entity(parent).await.map_err(ctx.store_err())?;
        form.parent_code = p.code().to_owned();
        form.region_code = p.region_code.clone();
        form.sectors = p.sectors.clone();
        form.kind = match p.kind {
            EntityKind::Platform => EntityKind::Franchisee,
            _ => EntityKind::Site,
        }
        .as_str()
        .to_owned();
    }
    render(&s, &ctx, StatusCode::OK, form, Problems::default(), None).await
}

pub async fn create(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let pending = entities::begin_create(&cx).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let form = EntityForm::from_form(&data);
    match pending.save(&form.to_input(), 0).await {
        Ok(e) => Ok(Redirect::to(&format!("/entities/{}?saved=1", e.id)).into_response()),
        Err(e) => rejected(&cx.state, &ctx, form, e, None).await,
    }
}

pub async fn edit(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
) -> Result<Response, Failed> {
    permission::authorize(&s, &actor, Action::Write, Target::Entity(id), "entity.update")
        .await
        .map_err(|r| r.page(&ctx))?;
    let e = s.store.entity(id).await.map_err(ctx.store_err())?;
    let parent_code = match e.parent_id {
        Some(p) => s.store.entity(p).await.map_err(ctx.store_err())?.code().to_owned(),
        None => String::new(),
    };
    let form = EntityForm::from_entity(&e, parent_code);
    render(&s, &ctx, StatusCode::OK, form, Problems::default(), Some(e)).await
}

pub async fn update(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    let cx = Ctx::new(&s, &actor);
    let pending = entities::begin_update(&cx, id).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let current = s.store.entity(id).await.map_err(ctx.store_err())?;
    let form = EntityForm::from_form(&data);
    let version = form.version.unwrap_or(-1);
    match pending.save(&form.to_input(), version).await {
        Ok(e) => Ok(Redirect::to(&format!("/entities/{}?saved=1", e.id)).into_response()),
        Err(e) => rejected(&s, &ctx, form, e, Some(current)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_round_trip_keeps_text() {
        let data = FormData::from_pairs(&[
            ("name", " 望京站 "),
            ("kind", "site"),
            ("sectors", "food_delivery"),
            ("sectors", "courier"),
            ("parent_code", "91350100m000100y43"),
            ("workers", "abc"),
            ("version", "3"),
        ]);
        let f = EntityForm::from_form(&data);
        assert_eq!(f.version, Some(3));
        let input = f.to_input();
        assert_eq!(input.parent_uscc.as_deref(), Some("91350100M000100Y43"));
        assert_eq!(input.sectors, vec!["food_delivery", "courier"]);
        assert_eq!(input.workers.as_deref(), Some("abc"));
        assert_eq!(form_field("parent"), "parent_code");
    }
}
