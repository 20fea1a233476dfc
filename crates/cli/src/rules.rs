//! `dangjian rules show|set`: the coverage rules (thresholds with the dates they apply from), kept in
//! the `coverage_rules` setting. A new set is checked whole before it is stored, and audited.

use crate::args::{Lang, RulesCommand};
use crate::commands::open_migrated;
use anyhow::{bail, Context};
use dangjian_domain::coverage::rules::RuleSet;

pub async fn run(cmd: &RulesCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        RulesCommand::Show { db } => {
            let store = open_migrated(&db.db, lang).await?;
            let rules = store.coverage_rules().await?;
            println!("{}", serde_json::to_string_pretty(&rules)?);
        }
        RulesCommand::Set { db, file } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let rules = match RuleSet::from_json(&text) {
                Ok(r) => r,
                Err(e) => bail!("{}: {}", file.display(), e.message_in(lang.code())),
            };
            let store = open_migrated(&db.db, lang).await?;
            let cx = crate::accounts::operator(&store);
            dangjian_web::app::operator::set_coverage_rules(&cx, &rules).await.map_err(crate::accounts::app_error)?;
            println!("{}", lang.t("cli.rules_updated", &[("n", rules.versions.len().to_string())]));
        }
    }
    Ok(())
}
