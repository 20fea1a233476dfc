//! Accounts from the command line: `user add`, `user grant`, `audit verify`, `audit purge`; and the
//! demo's one-off logins. Every change goes through the web's commands (`dangjian_web::app`) with the
//! operator as the actor, so it is decided and audited as `cli:<user>` the way the pages' are.

use crate::args::Lang;
use anyhow::{bail, Context};
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_store::accounts::Holder;
use dangjian_store::audit::VerifyError;
use dangjian_store::Store;
use dangjian_web::app::{admin, grants, operator};
use dangjian_web::app::{AppError, Ctx};
use dangjian_web::auth::accounts::{generate_one_off_password, hash_blocking};
use dangjian_web::auth::grants::{may_add, Recipient};
use dangjian_web::auth::Actor;
use dangjian_web::AppState;

/// A scope written on the command line:
/// `nation`, `region:110105`, `chain:<platform USCC>`, `sector:courier@33`, `org:<organization code>`.
pub async fn parse_scope(store: &Store, spec: &str, lang: Lang) -> anyhow::Result<Scope> {
    let spec = spec.trim();
    if spec == "nation" {
        return Ok(Scope::Region { path: "/".into() });
    }
    let Some((kind, value)) = spec.split_once(':') else {
        bail!("{}", lang.t("cli.scope_syntax", &[("spec", spec.to_owned())]));
    };
    Ok(match kind {
        "region" => Scope::Region {
            path: store
                .region(value)
                .await
                .with_context(|| lang.t("cli.scope_region", &[("code", value.to_owned())]))?
                .path,
        },
        "chain" => {
            let e = store
                .entity_by_code(value)
                .await
                .with_context(|| lang.t("cli.scope_unit", &[("code", value.to_owned())]))?;
            if e.kind != dangjian_domain::EntityKind::Platform {
                bail!(
                    "{}",
                    lang.t("cli.scope_not_a_platform", &[("spec", spec.to_owned()), ("code", value.to_owned())])
                );
            }
            Scope::Chain { root_id: e.id }
        }
        "sector" => {
            let Some((sector, region)) = value.split_once('@') else {
                bail!("{}", lang.t("cli.scope_sector_syntax", &[("spec", spec.to_owned())]))
            };
            store.sector(sector).await.with_context(|| lang.t("cli.scope_sector", &[("code", sector.to_owned())]))?;
            Scope::SectorInRegion {
                sector: sector.to_owned(),
                path: store
                    .region(region)
                    .await
                    .with_context(|| lang.t("cli.scope_region", &[("code", region.to_owned())]))?
                    .path,
            }
        }
        "org" => match store.organization_id_by_code(value).await? {
            Some(org_id) => Scope::Organization { org_id },
            None => bail!(
                "{}",
                lang.t("cli.scope_no_organization", &[("spec", spec.to_owned()), ("code", value.to_owned())])
            ),
        },
        _ => bail!("{}", lang.t("cli.scope_unknown_kind", &[("spec", spec.to_owned()), ("kind", kind.to_owned())])),
    })
}

/// The operator of a command, as the audit log names them.
pub(crate) fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into()))
}

/// The command line's operator acting on `store`: the context the web's commands run in, so that a
/// command-line change is decided, written and audited as the API's is (as `cli:<user>`).
pub(crate) fn operator(store: &Store) -> Ctx {
    Ctx::new(&AppState::for_command_line(store.clone()), &Actor::operator(cli_actor()))
}

/// A command's refusal or failure as the command line reports it.
pub(crate) fn app_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Store(e) => anyhow::Error::new(e),
        AppError::Invalid(errs) => anyhow::Error::new(dangjian_store::StoreError::Invalid(errs)),
        AppError::NotFound => anyhow::Error::new(dangjian_store::StoreError::NotFound),
        AppError::Import(e) => anyhow::Error::new(e),
        e @ (AppError::Unauthenticated | AppError::Forbidden | AppError::Internal) => anyhow::anyhow!("{e:?}"),
    }
}

/// Creates an account with a one-off password (changed at first login) and the given grants, all or
/// nothing: every scope is checked, and the grants against the three-administrator separation, before
/// the account is written. Returns the password, to be shown once.
pub async fn add_user(
    store: &Store,
    username: &str,
    name: &str,
    grants: &[(Role, String)],
    lang: Lang,
) -> anyhow::Result<String> {
    let mut parsed: Vec<Grant> = Vec::new();
    for (role, spec) in grants {
        let g = Grant { role: *role, scope: parse_scope(store, spec, lang).await? };
        if !g.role.fits_scope(&g.scope) {
            let args = [
                ("role", role.as_str().to_owned()),
                ("spec", spec.clone()),
                ("role_name", lang.t(&format!("role.{}", role.as_str()), &[])),
            ];
            bail!("{}", lang.t("cli.scope_does_not_fit_role", &args));
        }
        may_add(Recipient::User { is_self: false }, &parsed, &g)
            .map_err(|e| anyhow::anyhow!("{spec}: {}", lang.say(&e.message)))?;
        parsed.push(g);
    }
    let cx = operator(store);
    let pending = admin::begin_create_user(&cx).await.map_err(app_error)?;
    let (user, password) = pending.save(username, name).await.map_err(app_error)?;
    for g in &parsed {
        let pending = grants::begin_add(&cx, Holder::User(user.id)).await.map_err(app_error)?;
        pending.save_resolved(g).await.map_err(app_error)?;
    }
    Ok(password)
}

/// Adds a grant to an existing account.
pub async fn grant(store: &Store, username: &str, role: Role, spec: &str, lang: Lang) -> anyhow::Result<()> {
    let Some(user) = store.user_by_username(username).await? else {
        bail!("{}", lang.t("cli.no_such_account", &[("username", username.to_owned())]))
    };
    let new = Grant { role, scope: parse_scope(store, spec, lang).await? };
    let existing: Vec<Grant> = store.grants_of(Holder::User(user.id)).await?.into_iter().map(|g| g.grant).collect();
    may_add(Recipient::User { is_self: false }, &existing, &new)
        .map_err(|e| anyhow::anyhow!("{spec}: {}", lang.say(&e.message)))?;
    let cx = operator(store);
    let pending = grants::begin_add(&cx, Holder::User(user.id)).await.map_err(app_error)?;
    pending.save_resolved(&new).await.map_err(app_error)
}

/// `audit verify`: a line saying the chain holds, or an error naming the first broken record.
pub async fn verify(store: &Store) -> anyhow::Result<String> {
    match store.verify_audit().await {
        Ok(s) => Ok(format!(
            "audit chain verified: {} records{}, head {}",
            s.records,
            match (s.first_id, s.last_id) {
                (Some(a), Some(b)) => format!(" (#{a}–#{b})"),
                _ => String::new(),
            },
            s.head
        )),
        Err(VerifyError::Broken(b)) => bail!("{b}"),
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}

/// `audit purge`: deletes the records older than the retention period, returning the cut-off and how
/// many went. The purge itself is recorded.
pub async fn purge(store: &Store) -> anyhow::Result<(String, u64)> {
    operator::purge_audit(&operator(store)).await.map_err(app_error)
}

/// A demo account: username, display name, and its grants as (role, scope written as on the command line).
pub type DemoUser = (&'static str, &'static str, &'static [(Role, &'static str)]);

/// The demo's accounts: (username, display name, grants). Administrators must enrol a second factor at
/// their first login.
pub const DEMO_USERS: [DemoUser; 6] = [
    ("central.cadre", "中央社会工作部干部", &[(Role::DepartmentCadre, "nation")]),
    ("chaoyang.cadre", "朝阳区委社会工作部干部", &[(Role::DepartmentCadre, "region:110105")]),
    ("zj.postal", "浙江省邮政管理局", &[(Role::Regulator, "sector:courier@33")]),
    ("sysadmin", "系统管理员", &[(Role::SystemAdmin, "nation")]),
    ("secadmin", "安全管理员", &[(Role::SecurityAdmin, "nation")]),
    ("auditor", "审计管理员", &[(Role::AuditAdmin, "nation")]),
];

/// Creates the demo accounts if missing and gives each a fresh one-off password, returned for printing.
/// Nothing is shared or fixed: every run of the demo prints new passwords.
pub async fn demo_logins(store: &Store) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for (username, name, grants) in DEMO_USERS {
        let password = generate_one_off_password(&Default::default());
        let hash = hash_blocking(password.clone()).await.context("hashing the password")?;
        match store.user_by_username(username).await? {
            Some(u) => {
                store.set_password(u.id, &hash, false).await?;
                store.clear_login_failures(u.id).await?;
            }
            None => {
                let u = store.create_user(username, name, &hash, false).await?;
                for (role, spec) in grants {
                    let scope = parse_scope(store, spec, Lang::Zh).await?;
                    store.add_grant(Holder::User(u.id), &Grant { role: *role, scope }, None).await?;
                }
            }
        }
        let roles: Vec<&str> = grants.iter().map(|(r, _)| r.name_zh()).collect();
        out.push((username.to_owned(), password, format!("{name}（{}）", roles.join("、"))));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_accounts_keep_the_administrators_apart() {
        for (username, _, grants) in DEMO_USERS {
            let mut held: Vec<Grant> = Vec::new();
            for (role, _) in grants.iter() {
                let g = Grant { role: *role, scope: Scope::Region { path: "/".into() } };
                assert!(may_add(Recipient::User { is_self: false }, &held, &g).is_ok(), "{username}");
                held.push(g);
            }
        }
    }
}
