//! The case rules and the routing table (reference data, the system administrator's): the commands the
//! case-settings API and the administrator's case-settings page share. A refusal is audited as
//! `case_settings.update` or `routing.update`, `denied`, on either way in; a change that reaches the
//! store is audited under the same name with its outcome, about `settings` `cases` or `routing`.

use super::permission::{self, Object};
use super::write;
use super::{AppResult, Ctx};
use dangjian_domain::access::Action;
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::routing::RoutingRule;
use dangjian_store::cases::Department;

/// A change of the case rules or of the routing table the actor may make, waiting for its input.
#[must_use]
pub struct Change {
    cx: Ctx,
}

/// May the actor see the case rules and the routing table on the administrator's page? (A refusal is
/// audited as `case_settings.read`.)
pub async fn read(cx: &Ctx) -> AppResult<()> {
    permission::require(&cx.state, &cx.actor, Action::ManageReference, "case_settings.read").await?;
    Ok(())
}

/// May the actor replace the case rules?
pub async fn begin_settings(cx: &Ctx) -> AppResult<Change> {
    permission::require(&cx.state, &cx.actor, Action::ManageReference, "case_settings.update").await?;
    Ok(Change { cx: cx.clone() })
}

/// May the actor replace the routing table?
pub async fn begin_routing(cx: &Ctx) -> AppResult<Change> {
    permission::require(&cx.state, &cx.actor, Action::ManageReference, "routing.update").await?;
    Ok(Change { cx: cx.clone() })
}

impl Change {
    /// Replaces the case rules; they apply from the next step on any case.
    pub async fn settings(self, settings: &CaseSettings) -> AppResult<()> {
        let (s, actor) = (&self.cx.state, &self.cx.actor);
        let result = s.store.set_case_settings(settings, actor.user_id()).await;
        permission::audit_write(s, actor, "case_settings.update", Some(Object::new("settings", "cases")), &result)
            .await;
        Ok(result?)
    }

    /// Replaces the routing table.
    pub async fn routing(self, rules: &[RoutingRule]) -> AppResult<()> {
        let (s, actor) = (&self.cx.state, &self.cx.actor);
        let result = s.store.replace_routing_table(rules).await;
        permission::audit_write(s, actor, "routing.update", Some(Object::new("settings", "routing")), &result).await;
        Ok(result?)
    }
}

/// A new department the actor may register, waiting for its fields.
#[must_use]
pub struct CreatingDepartment(write::Change);

/// May the actor register a department (reference data)? (A refusal is audited as
/// `department.create`.)
pub async fn begin_create_department(cx: &Ctx) -> AppResult<CreatingDepartment> {
    Ok(CreatingDepartment(write::Change::begin(cx, Action::ManageReference, "department.create").await?))
}

impl CreatingDepartment {
    /// Registers department `code` of `kind` in region `region`; audited `department.create` about
    /// `department` `<code>`.
    pub async fn save(self, code: &str, name: &str, kind: &str, region: &str) -> AppResult<Department> {
        let result = self.0.cx.state.store.create_department(code, name, kind, region).await;
        self.0.finish(|_| Some(Object::new("department", code)), result).await
    }
}
