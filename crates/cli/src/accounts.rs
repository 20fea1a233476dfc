//! Accounts and keys from the command line: `user add`, `user grant`, `keys init`, `audit verify`,
//! `audit purge`; and the demo's one-off logins.

use anyhow::{bail, Context};
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_security::password::hash_password;
use dangjian_store::accounts::Holder;
use dangjian_store::audit::{AuditEntry, VerifyError};
use dangjian_store::Store;
use rand::Rng;

/// A scope written on the command line:
/// `nation`, `region:110105`, `chain:<platform USCC>`, `sector:courier@33`, `org:<organization code>`.
pub async fn parse_scope(store: &Store, spec: &str) -> anyhow::Result<Scope> {
    let spec = spec.trim();
    if spec == "nation" {
        return Ok(Scope::Region { path: "/".into() });
    }
    let Some((kind, value)) = spec.split_once(':') else {
        bail!("scope '{spec}': use nation, region:CODE, chain:USCC, sector:CODE@REGION or org:CODE");
    };
    Ok(match kind {
        "region" => Scope::Region { path: store.region(value).await.with_context(|| format!("region {value}"))?.path },
        "chain" => {
            let e = store.entity_by_code(value).await.with_context(|| format!("unit {value}"))?;
            if e.kind != dangjian_domain::EntityKind::Platform {
                bail!("scope '{spec}': {value} is not a platform enterprise");
            }
            Scope::Chain { root_id: e.id }
        }
        "sector" => {
            let Some((sector, region)) = value.split_once('@') else { bail!("scope '{spec}': use sector:CODE@REGION") };
            store.sector(sector).await.with_context(|| format!("sector {sector}"))?;
            Scope::SectorInRegion {
                sector: sector.to_owned(),
                path: store.region(region).await.with_context(|| format!("region {region}"))?.path,
            }
        }
        "org" => match store.organization_id_by_code(value).await? {
            Some(org_id) => Scope::Organization { org_id },
            None => bail!("scope '{spec}': no organization has the code {value}"),
        },
        _ => bail!("scope '{spec}': unknown kind '{kind}'"),
    })
}

/// A one-off password: 16 characters from an alphabet without look-alikes (≈ 90 bits).
pub fn one_off_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into()))
}

async fn audit(store: &Store, action: &str, object_type: &str, object_id: String) -> anyhow::Result<()> {
    store
        .append_audit(&AuditEntry {
            actor: cli_actor(),
            action: action.into(),
            object_type: Some(object_type.into()),
            object_id: Some(object_id),
            outcome: "ok".into(),
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// Creates an account with a one-off password (changed at first login) and the given grants.
pub async fn add_user(
    store: &Store,
    username: &str,
    name: &str,
    grants: &[(Role, String)],
) -> anyhow::Result<String> {
    let mut parsed = Vec::new();
    for (role, spec) in grants {
        parsed.push(Grant { role: *role, scope: parse_scope(store, spec).await? });
    }
    let password = one_off_password();
    let hash = hash_password(&password).context("hashing the password")?;
    let user = store.create_user(username, name, &hash, true).await?;
    for g in &parsed {
        store.add_grant(Holder::User(user.id), g, None).await?;
    }
    audit(store, "user.create", "user", user.id.to_string()).await?;
    Ok(password)
}

/// Adds a grant to an existing account.
pub async fn grant(store: &Store, username: &str, role: Role, spec: &str) -> anyhow::Result<()> {
    let Some(user) = store.user_by_username(username).await? else { bail!("no account named {username}") };
    let scope = parse_scope(store, spec).await?;
    let g = store.add_grant(Holder::User(user.id), &Grant { role, scope }, None).await?;
    audit(store, "grant.add", "grant", g.id.to_string()).await
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

/// The demo's accounts: (username, display name, grants). Administrators must enrol a second factor at
/// their first login.
pub const DEMO_USERS: [(&str, &str, &[(Role, &str)]); 6] = [
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
        let password = one_off_password();
        let hash = hash_password(&password).context("hashing the password")?;
        match store.user_by_username(username).await? {
            Some(u) => {
                store.set_password(u.id, &hash, false).await?;
                store.clear_login_failures(u.id).await?;
            }
            None => {
                let u = store.create_user(username, name, &hash, false).await?;
                for (role, spec) in grants {
                    let scope = parse_scope(store, spec).await?;
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
    fn one_off_passwords_are_long_and_distinct() {
        let a = one_off_password();
        assert_eq!(a.chars().count(), 16);
        assert_ne!(a, one_off_password());
        assert!(dangjian_security::password::PasswordPolicy::default().check(&a, "someone").is_ok());
    }
}
