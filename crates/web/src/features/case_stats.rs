//! Case statistics (`views::case_stats`, over where the reader's scopes see cases; the workbook through
//! the export). The link shows, after the registry's, to those who read the registry in a scope that
//! sees cases (chain and organization scopes see none).

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "case_stats",
        api: crate::api::case_stats::router,
        page_routes: crate::pages::case_stats::declared_routes,
        pages: crate::pages::case_stats::routes,
        nav: &[NavEntry {
            group: NavGroup::Registry,
            href: "/cases/stats",
            label: "nav.stats",
            test_id: "nav-stats",
            shown: |a| {
                a.may(Action::Read)
                    && a.scopes_for(Action::Read).iter().any(dangjian_store::cases::stats::scope_sees_cases)
            },
            except: &[],
        }],
        actions: &[Action::Read, Action::Export],
    }
}
