//! Members' rules as a service: the dues calculator and the development checker. Both are pure
//! calculations over what the caller sends (nothing is read from or written to the store, nothing
//! personal is kept), so the command is only the permission — the rules are reference material, read
//! by every signed-in role (`Action::ReadReference`) — and the rules in force on China's today.

use super::{permission, AppResult, Ctx};
use dangjian_domain::access::Action;
use dangjian_domain::members::development::{check, DevelopmentRecord, DevelopmentRuleSet, Violation};
use dangjian_domain::members::dues::{DuesInput, DuesOutcome, DuesParams, DuesRules};
use dangjian_domain::FieldErrors;

/// The members' rules, once the permission is decided.
pub struct MemberRules {
    /// Today in China: the day dates are judged on and whose dues rules apply by default.
    pub today: chrono::NaiveDate,
    pub dues: DuesRules,
    pub development: DevelopmentRuleSet,
}

/// Decides the permission (401 for nobody; 403, audited, for an account with no role).
pub async fn begin(cx: &Ctx) -> AppResult<MemberRules> {
    permission::require(&cx.state, &cx.actor, Action::ReadReference, "member_rules.use").await?;
    Ok(MemberRules {
        today: crate::views::stations::china_time(&cx.state).date(),
        dues: DuesRules::default(),
        development: DevelopmentRuleSet::default(),
    })
}

impl MemberRules {
    /// The dues of the parameters, or every parameter's problem.
    pub fn dues(&self, p: &DuesParams<'_>) -> Result<DuesOutcome, FieldErrors> {
        let input = DuesInput::parse(p, self.today)?;
        self.dues.calculate(&input).map_err(FieldErrors::from)
    }

    /// Every development rule the record breaks.
    pub fn check(&self, r: &DevelopmentRecord) -> Vec<Violation> {
        check(r, &self.development, self.today)
    }
}
