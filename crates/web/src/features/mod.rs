//! One place to register a feature. A resource declares here, once, what it adds to the app: its
//! JSON API routes (with their OpenAPI document), its page routes, its navigation entries (each shown
//! only to those its rule lets use it), the actions its commands ask the permission path for, and the
//! prefix of its templates and translation keys. The central lists are generated from the
//! registrations collected in [`crate::features()`]: the API router and document
//! ([`crate::api::router`]), the page router and table ([`crate::pages::page_routes`]), the route
//! table the app serves from ([`crate::route_table`]) and the authorization matrix test walks, and the
//! navigation of every page (`templates/base.html`, from [`nav`]).
//!
//! Coverage, regions, sectors, units, organizations, instructors, personal-data reveals, stations,
//! imports and exports, case statistics, case setup, cases, the members' rules, Open311 clients, the
//! account and the administrators' pages are registered so. The central tables of `api/mod.rs` and
//! `pages/mod.rs` keep only what is cross-cutting: health, the OpenAPI document, static assets, the
//! language switch, the home page (and its link in the navigation), signing in and out, Open311's
//! GeoReport router.

pub mod account;
pub mod admin;
pub mod case_setup;
pub mod case_stats;
pub mod cases;
pub mod coverage;
pub mod entities;
pub mod instructors;
pub mod members;
pub mod open311_clients;
pub mod organizations;
pub mod personal;
pub mod regions;
pub mod sectors;
pub mod stations;
pub mod transfer;

use crate::auth::Actor;
use crate::AppState;
use axum::Router;
use dangjian_domain::access::Action;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;

/// What a resource adds to the app.
pub struct Feature {
    /// The resource's name: also the folder of its templates (`templates/<name>/`) and the prefix of
    /// its translation keys (`<name>.…`, `nav.<name>`).
    pub name: &'static str,
    /// Its API routes, declared with their OpenAPI document.
    pub api: fn() -> OpenApiRouter<AppState>,
    /// Its page routes as (method, path template) — the same table [`Feature::pages`] is built from.
    pub page_routes: fn() -> &'static [(&'static str, &'static str)],
    /// Its page router.
    pub pages: fn() -> Router<AppState>,
    /// Its navigation entries, in order.
    pub nav: &'static [NavEntry],
    /// The actions its commands ask the permission path ([`crate::app::permission`]) for.
    pub actions: &'static [Action],
}

/// Where in the navigation a link goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NavGroup {
    /// After the home page: coverage, then the region tree.
    Overview,
    /// The registry's links (units, organizations, instructors, stations), the import and the case
    /// statistics.
    Registry,
    /// After the registry's links and the statistics: the case inbox, the members' rules.
    Work,
    /// Last: the administrators' pages.
    Admin,
}

/// A link in the navigation of every page.
pub struct NavEntry {
    pub href: &'static str,
    pub group: NavGroup,
    /// Translation key of the link's text.
    pub label: &'static str,
    /// `data-testid` of the link (empty: none).
    pub test_id: &'static str,
    /// Who sees the link: those who may use what it leads to.
    pub shown: fn(&Actor) -> bool,
    /// Paths under `href` that belong to another entry (`/cases/stats` is not the inbox).
    pub except: &'static [&'static str],
}

/// A navigation link as the page header shows it.
#[derive(Debug, Clone, Serialize)]
pub struct NavLink {
    pub href: &'static str,
    pub group: NavGroup,
    pub label: &'static str,
    pub test_id: &'static str,
    pub except: &'static [&'static str],
}

/// The feature navigation `actor` sees.
pub fn nav(actor: &Actor) -> Vec<NavLink> {
    crate::features()
        .iter()
        .flat_map(|f| f.nav.iter())
        .filter(|e| (e.shown)(actor))
        .map(|e| NavLink { href: e.href, group: e.group, label: e.label, test_id: e.test_id, except: e.except })
        .collect()
}
