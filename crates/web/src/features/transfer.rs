//! Imports and exports of spreadsheets (`app::transfer`): the import page and
//! `/api/v1/imports/{kind}` for those who may import, `/api/v1/exports/{kind}` for those who may
//! export. The import link shows to every registry reader (the page says what they may not do).

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "import",
        api: crate::api::transfer::router,
        page_routes: crate::pages::import::declared_routes,
        pages: crate::pages::import::routes,
        nav: &[NavEntry {
            group: NavGroup::Registry,
            href: "/import",
            label: "nav.import",
            test_id: "",
            shown: |a| a.may(Action::Read),
            except: &[],
        }],
        actions: &[Action::Import, Action::Export],
    }
}
