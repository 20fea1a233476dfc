//! Members' rules: the dues calculator and the development checker (`app::members`), for every
//! signed-in role — the rules are reference material; nothing is stored.

use super::{Feature, NavEntry, NavGroup};
use crate::AppState;
use dangjian_domain::access::Action;
use utoipa_axum::router::OpenApiRouter;

fn api() -> OpenApiRouter<AppState> {
    crate::api::dues::router().merge(crate::api::development::router())
}

pub fn feature() -> Feature {
    Feature {
        name: "members",
        api,
        page_routes: crate::pages::members::declared_routes,
        pages: crate::pages::members::routes,
        nav: &[
            NavEntry {
                group: NavGroup::Work,
                href: "/dues/calculator",
                label: "nav.dues_calculator",
                test_id: "nav-dues",
                shown: |a| a.may(Action::ReadReference),
                except: &[],
            },
            NavEntry {
                group: NavGroup::Work,
                href: "/development/check",
                label: "nav.development_check",
                test_id: "nav-development",
                shown: |a| a.may(Action::ReadReference),
                except: &[],
            },
        ],
        actions: &[Action::ReadReference],
    }
}
