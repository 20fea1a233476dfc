//! Party-building instructors (`app::instructors`): read by every registry role in scope, kept by
//! cadres, platform committees and branch secretaries; their mobile number in full only for those
//! who may read personal data (`app::personal`).

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "instructors",
        api: crate::api::instructors::router,
        page_routes: crate::pages::instructors::declared_routes,
        pages: crate::pages::instructors::routes,
        nav: &[NavEntry {
            group: NavGroup::Registry,
            href: "/instructors",
            label: "nav.instructors",
            test_id: "",
            shown: |a| a.may(Action::Read),
            except: &[],
        }],
        actions: &[Action::Read, Action::Write, Action::ReadPersonal],
    }
}
