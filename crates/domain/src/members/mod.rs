//! Party members' rules: the dues a member owes ([`dues`], over exact money, [`money`]) and the dated
//! checks of the development pipeline from applicant to full member ([`development`]). Pure: plain
//! data in, plain answers out, each rule with its source (DOMAIN.md, "Party dues" and "Member
//! development"; `docs/rules.md`).

pub mod development;
pub mod dues;
pub mod money;

pub use development::{DevelopmentRecord, DevelopmentRules, Violation};
pub use dues::{DuesCategory, DuesInput, DuesOutcome, DuesRules};
pub use money::Money;
