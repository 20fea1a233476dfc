//! Registry units — platforms, franchisees, sites (`app::entities`): read by every registry role in
//! scope, kept by cadres, platform committees and branch secretaries.

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "entities",
        api: crate::api::entities::router,
        page_routes: crate::pages::entities::declared_routes,
        pages: crate::pages::entities::routes,
        nav: &[NavEntry {
            group: NavGroup::Registry,
            href: "/entities",
            label: "nav.entities",
            test_id: "",
            shown: |a| a.may(Action::Read),
            except: &[],
        }],
        actions: &[Action::Read, Action::Write],
    }
}
