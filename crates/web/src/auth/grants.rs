//! Rules for granting roles, on top of the store's check that a scope fits its role.
//!
//! Separation of the three administrators (GB/T 22239-2019 8.1.4.2 c, "权限分离"): an account that
//! holds an administrator role holds nothing else, so one person cannot both grant and use access, or
//! both act and read the record of their acts. No one changes their own grants. An API token, which
//! has no second factor, is never an administrator.

use dangjian_domain::access::Grant;
use dangjian_domain::FieldError;

/// Who would receive a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// A user account; `is_self` when it is the granting administrator's own.
    User {
        is_self: bool,
    },
    Token,
}

/// Whether `new` may be added to a holder that already has `existing`.
pub fn may_add(recipient: Recipient, existing: &[Grant], new: &Grant) -> Result<(), FieldError> {
    let refuse = |code: &str, en: &str, zh: &str| Err(FieldError::new("role", code, en, zh));
    if recipient == (Recipient::User { is_self: true }) {
        return refuse("own_grants", "no one may change their own grants", "不能修改自己的授权");
    }
    if recipient == Recipient::Token && new.role.is_administrator() {
        return refuse(
            "token_administrator",
            "an API token cannot hold an administrator role",
            "API令牌不能担任管理员角色",
        );
    }
    if existing.contains(new) {
        return refuse("duplicate", "this grant exists already", "该授权已存在");
    }
    let holds_admin = existing.iter().any(|g| g.role.is_administrator());
    if (new.role.is_administrator() && !existing.is_empty()) || holds_admin {
        return refuse(
            "separation_of_duties",
            "an administrator role must be the account's only role (three-administrator separation)",
            "管理员角色须单独授予，不能与其他角色同属一个账号（三员分立）",
        );
    }
    Ok(())
}

/// Whether a grant may be removed from a holder.
pub fn may_remove(recipient: Recipient) -> Result<(), FieldError> {
    if recipient == (Recipient::User { is_self: true }) {
        return Err(FieldError::new("role", "own_grants", "no one may change their own grants", "不能修改自己的授权"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dangjian_domain::access::{Role, Scope};

    fn g(role: Role, scope: Scope) -> Grant {
        Grant { role, scope }
    }

    fn root() -> Scope {
        Scope::Region { path: "/".into() }
    }

    fn code(r: Result<(), FieldError>) -> Option<String> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn administrators_stand_alone() {
        let other = Recipient::User { is_self: false };
        let cadre = g(Role::DepartmentCadre, Scope::Region { path: "/11/".into() });
        let sys = g(Role::SystemAdmin, root());
        let sec = g(Role::SecurityAdmin, root());
        assert_eq!(code(may_add(other, &[], &sys)), None);
        assert_eq!(code(may_add(other, &[], &cadre)), None);
        assert_eq!(code(may_add(other, std::slice::from_ref(&cadre), &sys)).as_deref(), Some("separation_of_duties"));
        assert_eq!(code(may_add(other, std::slice::from_ref(&sys), &sec)).as_deref(), Some("separation_of_duties"));
        assert_eq!(code(may_add(other, std::slice::from_ref(&sys), &cadre)).as_deref(), Some("separation_of_duties"));
        let regulator = g(Role::Regulator, Scope::SectorInRegion { sector: "courier".into(), path: "/".into() });
        assert_eq!(code(may_add(other, std::slice::from_ref(&cadre), &regulator)), None, "registry roles add up");
        assert_eq!(code(may_add(other, std::slice::from_ref(&cadre), &cadre)).as_deref(), Some("duplicate"));
    }

    #[test]
    fn no_one_grants_themselves_and_tokens_are_never_administrators() {
        let cadre = g(Role::DepartmentCadre, Scope::Region { path: "/11/".into() });
        assert_eq!(code(may_add(Recipient::User { is_self: true }, &[], &cadre)).as_deref(), Some("own_grants"));
        assert_eq!(code(may_remove(Recipient::User { is_self: true })).as_deref(), Some("own_grants"));
        assert_eq!(code(may_remove(Recipient::Token)), None);
        assert_eq!(code(may_add(Recipient::Token, &[], &cadre)), None);
        assert_eq!(
            code(may_add(Recipient::Token, &[], &g(Role::AuditAdmin, root()))).as_deref(),
            Some("token_administrator")
        );
    }
}
