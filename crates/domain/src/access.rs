//! Who may do what to which record: roles, scopes, grants and the one decision function every route
//! calls. A user's access is the union of their grants; a record outside every grant's scope does not
//! exist for them (404), a record inside a scope whose role does not allow the action is refused (403).
//!
//! Separation of the "three administrators" (MLPS 2.0 level 3, GB/T 22239-2019 §8.1.4.2): the system
//! administrator runs accounts and reference data, the security administrator grants roles and sets
//! security policy, the audit administrator reads the audit log; none of them reads registry records
//! or personal data by virtue of that role.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员 — accounts, API tokens, reference data.
    SystemAdmin,
    /// 安全管理员 — grants, unlocking, security policy.
    SecurityAdmin,
    /// 审计管理员 — the audit log.
    AuditAdmin,
    /// 组织部门/社会工作部门干部 — the registry of their region.
    DepartmentCadre,
    /// 行业主管部门 — read-only view of a sector in a region.
    Regulator,
    /// 平台企业党委 — its whole chain, nationwide.
    PlatformCommittee,
    /// 党支部书记 — one organization and the units it covers.
    BranchSecretary,
    /// 党建指导员 — read-only view of the units they serve.
    Instructor,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Self::SystemAdmin,
        Self::SecurityAdmin,
        Self::AuditAdmin,
        Self::DepartmentCadre,
        Self::Regulator,
        Self::PlatformCommittee,
        Self::BranchSecretary,
        Self::Instructor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SystemAdmin => "system_admin",
            Self::SecurityAdmin => "security_admin",
            Self::AuditAdmin => "audit_admin",
            Self::DepartmentCadre => "department_cadre",
            Self::Regulator => "regulator",
            Self::PlatformCommittee => "platform_committee",
            Self::BranchSecretary => "branch_secretary",
            Self::Instructor => "instructor",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::SystemAdmin => "系统管理员",
            Self::SecurityAdmin => "安全管理员",
            Self::AuditAdmin => "审计管理员",
            Self::DepartmentCadre => "部门干部",
            Self::Regulator => "行业主管部门",
            Self::PlatformCommittee => "平台企业党委",
            Self::BranchSecretary => "党支部书记",
            Self::Instructor => "党建指导员",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim() || r.name_zh() == s.trim())
    }

    /// Whether the role is one of the three administrators (which require a second factor).
    pub fn is_administrator(self) -> bool {
        matches!(self, Self::SystemAdmin | Self::SecurityAdmin | Self::AuditAdmin)
    }

    /// The kinds of work the role does. A role grants every action of these categories, so a new verb
    /// ([`Action`]) is given a category and thereby reaches every role that does that kind of work,
    /// without a role being edited.
    pub fn categories(self) -> &'static [Category] {
        use Category::*;
        match self {
            Self::SystemAdmin => &[Reference, ReferenceAdmin, AccountAdmin],
            Self::SecurityAdmin => &[Reference, GrantAdmin],
            Self::AuditAdmin => &[Reference, AuditReading],
            Self::DepartmentCadre | Self::PlatformCommittee => {
                &[Reference, Reading, PersonalData, Keeping, Oversight, Importing, Exporting]
            }
            Self::BranchSecretary => &[Reference, Reading, PersonalData, Keeping],
            Self::Regulator | Self::Instructor => &[Reference, Reading, Exporting],
        }
    }

    /// The actions the role allows on records inside its scope: those of its [`categories`](Self::categories).
    pub fn allows(self, action: Action) -> bool {
        self.categories().contains(&action.category())
    }

    /// The scope kinds a grant of this role may carry.
    pub fn fits_scope(self, scope: &Scope) -> bool {
        match self {
            Self::SystemAdmin | Self::SecurityAdmin | Self::AuditAdmin => {
                matches!(scope, Scope::Region { path } if path == "/")
            }
            Self::DepartmentCadre | Self::Instructor => matches!(scope, Scope::Region { .. }),
            Self::Regulator => matches!(scope, Scope::SectorInRegion { .. }),
            Self::PlatformCommittee => matches!(scope, Scope::Chain { .. }),
            Self::BranchSecretary => matches!(scope, Scope::Organization { .. }),
        }
    }
}

/// What is being done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read registry records (masked personal data).
    Read,
    /// Create, update, close registry records.
    Write,
    /// Assign a person to a record (an instructor to a unit, a case to a handler).
    Assign,
    /// Record a payment (Party dues) against a member's record.
    RecordPayment,
    /// Approve a step that needs a supervising body's decision (a development stage, a transfer).
    Approve,
    /// Publish something to those it concerns (a notice, a statistics release).
    Publish,
    Import,
    Export,
    /// See personal data (mobile and ID numbers) unmasked; every use is audited.
    ReadPersonal,
    /// Read regions and sectors.
    ReadReference,
    /// Add or change regions and sectors.
    ManageReference,
    ManageAccounts,
    ManageGrants,
    ManageTokens,
    ReadAudit,
}

impl Action {
    pub const ALL: [Action; 15] = [
        Self::Read,
        Self::Write,
        Self::Assign,
        Self::RecordPayment,
        Self::Approve,
        Self::Publish,
        Self::Import,
        Self::Export,
        Self::ReadPersonal,
        Self::ReadReference,
        Self::ManageReference,
        Self::ManageAccounts,
        Self::ManageGrants,
        Self::ManageTokens,
        Self::ReadAudit,
    ];

    /// The kind of work the action is: which roles allow it follows from this alone.
    pub fn category(self) -> Category {
        match self {
            Self::Read => Category::Reading,
            Self::Write | Self::Assign | Self::RecordPayment => Category::Keeping,
            Self::Approve | Self::Publish => Category::Oversight,
            Self::Import => Category::Importing,
            Self::Export => Category::Exporting,
            Self::ReadPersonal => Category::PersonalData,
            Self::ReadReference => Category::Reference,
            Self::ManageReference => Category::ReferenceAdmin,
            Self::ManageAccounts | Self::ManageTokens => Category::AccountAdmin,
            Self::ManageGrants => Category::GrantAdmin,
            Self::ReadAudit => Category::AuditReading,
        }
    }
}

/// A kind of work: roles grant categories, actions belong to one (see [`Role::categories`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Reading registry records in scope.
    Reading,
    /// Keeping records in scope: creating, changing, closing, assigning, recording payments.
    Keeping,
    /// A supervising body's decisions: approving, publishing.
    Oversight,
    Importing,
    Exporting,
    /// Personal data in full.
    PersonalData,
    /// Regions, sectors, case categories — read by every role.
    Reference,
    ReferenceAdmin,
    /// Accounts and API tokens (system administrator).
    AccountAdmin,
    /// Grants and security policy (security administrator).
    GrantAdmin,
    /// The audit log (audit administrator).
    AuditReading,
}

/// The part of the registry a grant reaches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Scope {
    /// A region and everything below it, by materialized path (`/11/1101/`); `/` is the whole country.
    Region { path: String },
    /// A platform and everything below it in its chain, in every province.
    Chain { root_id: i64 },
    /// One sector within a region subtree.
    SectorInRegion { sector: String, path: String },
    /// One Party organization and the units it is attached to.
    Organization { org_id: i64 },
}

impl Scope {
    /// Whether the scope covers a record with these facts.
    pub fn covers(&self, s: &Subject) -> bool {
        match self {
            Scope::Region { path } => s.region_paths.iter().any(|p| p.starts_with(path.as_str())),
            Scope::Chain { root_id } => s.chain_roots.contains(root_id),
            Scope::SectorInRegion { sector, path } => {
                s.sectors.iter().any(|x| x == sector) && s.region_paths.iter().any(|p| p.starts_with(path.as_str()))
            }
            Scope::Organization { org_id } => s.org_ids.contains(org_id),
        }
    }
}

/// A role held over a scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

/// The facts about a record that scopes are decided on. A record may sit in several places (an
/// organization attached to units of two chains, an instructor serving units in two counties).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub region_paths: Vec<String>,
    pub chain_roots: Vec<i64>,
    pub sectors: Vec<String>,
    pub org_ids: Vec<i64>,
}

/// The outcome of an access check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Inside a scope, but no role there allows the action: 403.
    Forbidden,
    /// Outside every scope: the record does not exist for this actor (404).
    NotFound,
}

/// Decides an action on a record. `None` as subject means an action on no particular record (e.g.
/// creating one is checked against the new record's own facts instead; listing is filtered by scope).
pub fn decide(grants: &[Grant], action: Action, subject: &Subject) -> Decision {
    let mut in_scope = false;
    for g in grants.iter().filter(|g| g.scope.covers(subject)) {
        in_scope = true;
        if g.role.allows(action) {
            return Decision::Allow;
        }
    }
    if in_scope {
        Decision::Forbidden
    } else {
        Decision::NotFound
    }
}

/// Whether any grant allows an action that concerns no registry record (account administration,
/// the audit log, reference data).
pub fn may(grants: &[Grant], action: Action) -> bool {
    grants.iter().any(|g| g.role.allows(action))
}

/// The scopes in which the actor may perform `action`: a list is filtered to their union.
pub fn scopes_for(grants: &[Grant], action: Action) -> Vec<&Scope> {
    grants.iter().filter(|g| g.role.allows(action)).map(|g| &g.scope).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(path: &str) -> Scope {
        Scope::Region { path: path.into() }
    }

    fn site_in(path: &str, root: i64, sector: &str, orgs: &[i64]) -> Subject {
        Subject {
            region_paths: vec![path.into()],
            chain_roots: vec![root],
            sectors: vec![sector.into()],
            org_ids: orgs.to_vec(),
        }
    }

    #[test]
    fn a_county_cadre_sees_their_subtree_only() {
        let g = [Grant { role: Role::DepartmentCadre, scope: region("/44/4403/440305/") }];
        let inside = site_in("/44/4403/440305/440305001/", 1, "courier", &[]);
        let outside = site_in("/44/4403/440304/", 1, "courier", &[]);
        assert_eq!(decide(&g, Action::Write, &inside), Decision::Allow);
        assert_eq!(decide(&g, Action::Read, &outside), Decision::NotFound);
        assert_eq!(decide(&g, Action::ManageAccounts, &inside), Decision::Forbidden);
    }

    #[test]
    fn a_platform_committee_sees_its_chain_nationwide_and_nothing_of_a_competitor() {
        let g = [Grant { role: Role::PlatformCommittee, scope: Scope::Chain { root_id: 7 } }];
        assert_eq!(decide(&g, Action::Import, &site_in("/65/6501/", 7, "food_delivery", &[])), Decision::Allow);
        assert_eq!(decide(&g, Action::Read, &site_in("/11/1101/", 8, "food_delivery", &[])), Decision::NotFound);
    }

    #[test]
    fn a_regulator_reads_its_sector_and_writes_nothing() {
        let g = [Grant {
            role: Role::Regulator,
            scope: Scope::SectorInRegion { sector: "courier".into(), path: "/33/".into() },
        }];
        let courier = site_in("/33/3301/", 1, "courier", &[]);
        assert_eq!(decide(&g, Action::Read, &courier), Decision::Allow);
        assert_eq!(decide(&g, Action::Write, &courier), Decision::Forbidden);
        assert_eq!(decide(&g, Action::ReadPersonal, &courier), Decision::Forbidden);
        assert_eq!(decide(&g, Action::Read, &site_in("/33/3301/", 1, "ride_hailing", &[])), Decision::NotFound);
        assert_eq!(decide(&g, Action::Read, &site_in("/32/", 1, "courier", &[])), Decision::NotFound);
    }

    #[test]
    fn grants_add_up() {
        let g = [
            Grant {
                role: Role::Regulator,
                scope: Scope::SectorInRegion { sector: "courier".into(), path: "/".into() },
            },
            Grant { role: Role::BranchSecretary, scope: Scope::Organization { org_id: 3 } },
        ];
        let s = site_in("/11/", 1, "courier", &[3]);
        assert_eq!(decide(&g, Action::Write, &s), Decision::Allow);
        assert_eq!(decide(&g, Action::Import, &s), Decision::Forbidden);
    }

    #[test]
    fn the_three_administrators_are_separate() {
        let sys = [Grant { role: Role::SystemAdmin, scope: region("/") }];
        let sec = [Grant { role: Role::SecurityAdmin, scope: region("/") }];
        let aud = [Grant { role: Role::AuditAdmin, scope: region("/") }];
        let any = site_in("/11/", 1, "courier", &[]);
        for g in [&sys[..], &sec[..], &aud[..]] {
            assert_eq!(decide(g, Action::Read, &any), Decision::Forbidden);
            assert_eq!(decide(g, Action::ReadPersonal, &any), Decision::Forbidden);
        }
        assert!(may(&sys, Action::ManageAccounts) && !may(&sys, Action::ManageGrants) && !may(&sys, Action::ReadAudit));
        assert!(may(&sec, Action::ManageGrants) && !may(&sec, Action::ManageAccounts) && !may(&sec, Action::ReadAudit));
        assert!(may(&aud, Action::ReadAudit) && !may(&aud, Action::ManageAccounts) && !may(&aud, Action::ManageGrants));
        assert!(Role::ALL
            .iter()
            .all(|r| r.is_administrator() == matches!(r, Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin)));
    }

    #[test]
    fn roles_fit_their_scope_kinds() {
        assert!(Role::DepartmentCadre.fits_scope(&region("/44/")));
        assert!(!Role::DepartmentCadre.fits_scope(&Scope::Chain { root_id: 1 }));
        assert!(Role::PlatformCommittee.fits_scope(&Scope::Chain { root_id: 1 }));
        assert!(!Role::SystemAdmin.fits_scope(&region("/44/")));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(Role::parse(r.name_zh()), Some(r));
        }
    }

    /// Every role against every action, one row per action: `A` allowed, `-` not; columns in
    /// `Role::ALL` order (system, security, audit administrators; cadre, regulator, committee,
    /// secretary, instructor). A new action is one row here and one line in `Action::category`.
    #[test]
    fn the_permission_table() {
        const TABLE: &[(Action, &str)] = &[
            (Action::Read, "--- AAAAA"),
            (Action::Write, "--- A-AA-"),
            (Action::Assign, "--- A-AA-"),
            (Action::RecordPayment, "--- A-AA-"),
            (Action::Approve, "--- A-A--"),
            (Action::Publish, "--- A-A--"),
            (Action::Import, "--- A-A--"),
            (Action::Export, "--- AAA-A"),
            (Action::ReadPersonal, "--- A-AA-"),
            (Action::ReadReference, "AAA AAAAA"),
            (Action::ManageReference, "A-- -----"),
            (Action::ManageAccounts, "A-- -----"),
            (Action::ManageGrants, "-A- -----"),
            (Action::ManageTokens, "A-- -----"),
            (Action::ReadAudit, "--A -----"),
        ];
        assert_eq!(TABLE.len(), Action::ALL.len(), "one row per action");
        for (action, row) in TABLE {
            let expected: Vec<bool> = row.chars().filter(|c| !c.is_whitespace()).map(|c| c == 'A').collect();
            let actual: Vec<bool> = Role::ALL.iter().map(|r| r.allows(*action)).collect();
            assert_eq!(actual, expected, "{action:?}: {row}");
        }
    }
}
