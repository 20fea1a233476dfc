//! Coverage: the two coverages of a region × sector × tier × platform chain on any date, their trend
//! and the gap list (`crate::coverage`, over the reader's scope; the gap list's export through
//! `app::transfer`). Right after the home page in the navigation, for those who read the registry.

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "coverage",
        api: crate::api::coverage::router,
        page_routes: crate::pages::coverage::declared_routes,
        pages: crate::pages::coverage::routes,
        nav: &[NavEntry {
            group: NavGroup::Overview,
            href: "/coverage",
            label: "nav.coverage",
            test_id: "",
            shown: |a| a.may(Action::Read),
            except: &[],
        }],
        actions: &[Action::Read, Action::Export],
    }
}
