//! Administrative regions (`app::regions`): reference data every signed-in role reads — the region
//! tree's pages and `/api/v1/regions` — and the system administrator keeps.

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "regions",
        api: crate::api::regions::router,
        page_routes: crate::pages::regions::declared_routes,
        pages: crate::pages::regions::routes,
        nav: &[NavEntry {
            group: NavGroup::Overview,
            href: "/regions",
            label: "nav.regions",
            test_id: "",
            shown: |a| a.may(Action::Read),
            except: &[],
        }],
        actions: &[Action::ReadReference, Action::ManageReference, Action::Read],
    }
}
