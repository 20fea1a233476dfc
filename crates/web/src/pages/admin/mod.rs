//! `/admin/…`: the three administrators' pages, each behind its role (403 otherwise) — accounts and
//! API tokens for the system administrator, grants, unlocking and security settings for the security
//! administrator, the audit log for the audit administrator. Every action is a command of the
//! application layer (`app::admin`, `app::grants`, `app::audit_log`, `app::case_settings`), which
//! decides the permission and writes the audit log.

pub mod audit;
pub mod case_settings;
pub mod grants;
pub mod settings;
pub mod tokens;
pub mod users;

page_routes! {
    "/admin/users" => get(users::list).post(users::create),
    "/admin/users/{id}" => get(users::show),
    "/admin/users/{id}/disable" => post(users::disable),
    "/admin/users/{id}/enable" => post(users::enable),
    "/admin/users/{id}/reset-password" => post(users::reset_password),
    "/admin/users/{id}/end-sessions" => post(users::end_sessions),
    "/admin/users/{id}/unlock" => post(users::unlock),
    "/admin/users/{id}/grants" => post(grants::add_to_user),
    "/admin/tokens" => get(tokens::list).post(tokens::create),
    "/admin/tokens/{id}" => get(tokens::show),
    "/admin/tokens/{id}/revoke" => post(tokens::revoke),
    "/admin/tokens/{id}/grants" => post(grants::add_to_token),
    "/admin/grants/{id}/remove" => post(grants::remove),
    "/admin/settings" => get(settings::form).post(settings::save),
    "/admin/case-settings" => get(case_settings::form).post(case_settings::save),
    "/admin/case-routing" => post(case_settings::save_routing),
    "/admin/audit" => get(audit::search),
    "/admin/audit/export" => get(audit::export),
    "/admin/audit/verify" => post(audit::verify),
}

use crate::i18n::Lang;
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_store::accounts::StoredGrant;
use dangjian_store::{Store, StoreResult};
use serde::Serialize;

/// A grant as pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct GrantView {
    pub id: Option<i64>,
    pub role: &'static str,
    pub role_label: String,
    pub scope_kind: &'static str,
    pub scope: String,
}

pub fn role_label(role: Role, lang: Lang) -> String {
    lang.t(&format!("role.{}", role.as_str()), &[])
}

fn scope_kind(scope: &Scope) -> &'static str {
    match scope {
        Scope::Region { .. } => "region",
        Scope::Chain { .. } => "chain",
        Scope::SectorInRegion { .. } => "sector_in_region",
        Scope::Organization { .. } => "organization",
    }
}

/// The last region code of a path (`/11/1101/` → `1101`); `None` for the whole country.
pub fn region_code_of(path: &str) -> Option<&str> {
    path.trim_end_matches('/').rsplit('/').next().filter(|c| !c.is_empty())
}

impl GrantView {
    /// Without looking names up: codes and ids only.
    pub fn plain(g: &Grant, lang: Lang) -> Self {
        let scope = match &g.scope {
            Scope::Region { path } => {
                region_code_of(path).map(str::to_owned).unwrap_or_else(|| lang.t("scope.country", &[]))
            }
            Scope::Chain { root_id } => format!("#{root_id}"),
            Scope::SectorInRegion { sector, path } => {
                let region = region_code_of(path).map(str::to_owned).unwrap_or_else(|| lang.t("scope.country", &[]));
                format!("{sector} · {region}")
            }
            Scope::Organization { org_id } => format!("#{org_id}"),
        };
        Self {
            id: None,
            role: g.role.as_str(),
            role_label: role_label(g.role, lang),
            scope_kind: scope_kind(&g.scope),
            scope,
        }
    }

    /// With the names of the regions, platforms, sectors and organizations the scope names.
    pub async fn named(store: &Store, g: &StoredGrant, lang: Lang) -> StoreResult<Self> {
        let mut v = Self::plain(&g.grant, lang);
        v.id = Some(g.id);
        let region_name = |path: &str| {
            let code = region_code_of(path).map(str::to_owned);
            async move {
                match code {
                    None => Ok(lang.t("scope.country", &[])),
                    Some(c) => store.region(&c).await.map(|r| format!("{}（{}）", r.name, r.code)),
                }
            }
        };
        v.scope = match &g.grant.scope {
            Scope::Region { path } => region_name(path).await?,
            Scope::Chain { root_id } => match store.entity(*root_id).await {
                Ok(e) => format!("{}（{}）", e.name, e.code()),
                Err(_) => format!("#{root_id}"),
            },
            Scope::SectorInRegion { sector, path } => {
                let name = match store.sector(sector).await {
                    Ok(x) => lang.pick(&x.name_zh, &x.name_en),
                    Err(_) => sector.clone(),
                };
                format!("{name} · {}", region_name(path).await?)
            }
            Scope::Organization { org_id } => match store.organization(*org_id).await {
                Ok(o) => format!("{}（{}）", o.name, o.code),
                Err(_) => format!("#{org_id}"),
            },
        };
        Ok(v)
    }
}

/// The grants of a holder with names, for its page.
pub async fn grant_views(store: &Store, grants: &[StoredGrant], lang: Lang) -> StoreResult<Vec<GrantView>> {
    let mut out = Vec::with_capacity(grants.len());
    for g in grants {
        out.push(GrantView::named(store, g, lang).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_come_from_the_end_of_a_path() {
        assert_eq!(region_code_of("/11/1101/110105/"), Some("110105"));
        assert_eq!(region_code_of("/44/"), Some("44"));
        assert_eq!(region_code_of("/"), None);
        let g = Grant { role: Role::SystemAdmin, scope: Scope::Region { path: "/".into() } };
        assert_eq!(GrantView::plain(&g, Lang::En).scope, Lang::En.t("scope.country", &[]));
    }
}
