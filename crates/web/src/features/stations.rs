//! Worker stations: managed by the cadres whose scope holds them (`app::stations`), found by workers
//! with no account (`/stations/near`, `/api/v1/stations/nearest`).

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "stations",
        api: crate::api::stations::router,
        page_routes: crate::pages::stations::declared_routes,
        pages: crate::pages::stations::routes,
        nav: &[NavEntry {
            group: NavGroup::Registry,
            href: "/stations",
            label: "nav.stations",
            test_id: "nav-stations",
            shown: |a| a.may(Action::Read),
            except: &[],
        }],
        actions: &[Action::Read, Action::Write],
    }
}
