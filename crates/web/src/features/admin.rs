//! The three administrators' pages (`app::admin`, `app::grants`, `app::audit_log`,
//! `app::case_settings`): accounts and API tokens (system administrator), grants, unlocking and the
//! security settings (security administrator), the case rules (reference data), the audit log (audit
//! administrator). Each link shows to the administrators its page serves.

use super::{Feature, NavEntry, NavGroup};
use dangjian_domain::access::Action;

pub fn feature() -> Feature {
    Feature {
        name: "admin",
        api: utoipa_axum::router::OpenApiRouter::new,
        page_routes: crate::pages::admin::declared_routes,
        pages: crate::pages::admin::routes,
        nav: &[
            NavEntry {
                group: NavGroup::Admin,
                href: "/admin/users",
                label: "nav.admin_users",
                test_id: "",
                shown: |a| a.may(Action::ManageAccounts) || a.may(Action::ManageGrants),
                except: &[],
            },
            NavEntry {
                group: NavGroup::Admin,
                href: "/admin/tokens",
                label: "nav.admin_tokens",
                test_id: "",
                shown: |a| a.may(Action::ManageTokens) || a.may(Action::ManageGrants),
                except: &[],
            },
            NavEntry {
                group: NavGroup::Admin,
                href: "/admin/settings",
                label: "nav.admin_settings",
                test_id: "",
                shown: |a| a.may(Action::ManageGrants),
                except: &[],
            },
            NavEntry {
                group: NavGroup::Admin,
                href: "/admin/case-settings",
                label: "nav.case_settings",
                test_id: "",
                shown: |a| a.may(Action::ManageReference),
                except: &[],
            },
            NavEntry {
                group: NavGroup::Admin,
                href: "/admin/audit",
                label: "nav.admin_audit",
                test_id: "",
                shown: |a| a.may(Action::ReadAudit),
                except: &[],
            },
        ],
        actions: &[
            Action::ManageAccounts,
            Action::ManageTokens,
            Action::ManageGrants,
            Action::ManageReference,
            Action::ReadAudit,
        ],
    }
}
