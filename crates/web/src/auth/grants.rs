//! Rules for granting roles, on top of the store's check that a scope fits its role.
//!
//! Separation of the three administrators (GB/T 22239-2019 8.1.4.2 c, "权限分离"): an account that
//! holds an administrator role holds nothing else, so one person cannot both grant and use access, or
//! both act and read the record of their acts. No one changes their own grants. An API token, which
//! has no second factor, is never an administrator.

use dangjian_domain::access::Grant;
use dangjian_domain::FieldError;
use dangjian_domain::Message;

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
    let refuse = |code: &str, m: Message| Err(FieldError::new("role", code, m));
    if recipient == (Recipient::User { is_self: true }) {
        return refuse("own_grants", Message::new("problem.own_grants"));
    }
    if recipient == Recipient::Token && new.role.is_administrator() {
        return refuse("token_administrator", Message::new("problem.token_administrator"));
    }
    if existing.contains(new) {
        return refuse("duplicate", Message::new("problem.duplicate.grant_exists_already"));
    }
    let holds_admin = existing.iter().any(|g| g.role.is_administrator());
    if (new.role.is_administrator() && !existing.is_empty()) || holds_admin {
        return refuse("separation_of_duties", Message::new("problem.separation_of_duties"));
    }
    Ok(())
}

/// Whether a grant may be removed from a holder.
pub fn may_remove(recipient: Recipient) -> Result<(), FieldError> {
    if recipient == (Recipient::User { is_self: true }) {
        return Err(FieldError::new("role", "own_grants", Message::new("problem.own_grants")));
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
