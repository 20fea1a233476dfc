//! Needs and rights cases: filed and followed by workers with no account, handled by the departments
//! in the cadres' region scopes (`app::cases`; handling is writing), notified to them.

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    crate::api::cases::router().merge(crate::api::case_notifications::router())
}

pub fn feature() -> Feature {
    Feature {
        name: "cases",
        api: router,
        page_routes: crate::pages::cases::declared_routes,
        pages: crate::pages::cases::routes,
        nav: &[NavEntry {
            group: NavGroup::Work,
            href: "/cases",
            label: "nav.cases",
            test_id: "nav-cases",
            shown: |a| a.may(Action::Write),
            except: &["/cases/stats"],
        }],
        actions: &[Action::Write, Action::ReadPersonal],
    }
}
