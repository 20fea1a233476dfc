//! Party organizations (`app::organizations`): read by every registry role in scope, kept by cadres,
//! platform committees and branch secretaries.

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "organizations",
        api: crate::api::organizations::router,
        page_routes: crate::pages::organizations::declared_routes,
        pages: crate::pages::organizations::routes,
        nav: &[NavEntry {
            group: NavGroup::Registry,
            href: "/organizations",
            label: "nav.organizations",
            test_id: "",
            shown: |a| a.may(Action::Read),
            except: &[],
        }],
        actions: &[Action::Read, Action::Write],
    }
}
