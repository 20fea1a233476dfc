//! The straightforward SQL for the coverage figures: a recursive region query and `EXISTS` sub-queries
//! for organizations and instructors over the raw tables, grouped by sector and tier. It is the oracle
//! the engine is tested against and the baseline it is benchmarked against.

use crate::error::StoreResult;
use crate::Store;
use chrono::NaiveDate;
use dangjian_domain::coverage::index::{Figures, Filter};
use dangjian_domain::EntityKind;
use sqlx::Row;

/// Figures by (sector, tier), and the totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaselineFigures {
    pub totals: Figures,
    pub table: Vec<(String, EntityKind, Figures)>,
}

/// The state of unit `e` on date `$1`, best first, as SQL.
const STATE: &str = "CASE \
    WHEN EXISTS (SELECT 1 FROM organization_units ou JOIN organizations o ON o.id = ou.organization_id \
        WHERE ou.entity_id = e.id AND o.kind <> 'joint_branch' AND ou.via_chain = 0 \
        AND (o.established_on IS NULL OR o.established_on <= $1) AND (o.dissolved_on IS NULL OR o.dissolved_on > $1)) THEN 'own' \
    WHEN EXISTS (SELECT 1 FROM organization_units ou JOIN organizations o ON o.id = ou.organization_id \
        WHERE ou.entity_id = e.id AND o.kind = 'joint_branch' \
        AND (o.established_on IS NULL OR o.established_on <= $1) AND (o.dissolved_on IS NULL OR o.dissolved_on > $1)) THEN 'joint' \
    WHEN EXISTS (SELECT 1 FROM organization_units ou JOIN organizations o ON o.id = ou.organization_id \
        WHERE ou.entity_id = e.id AND o.kind <> 'joint_branch' AND ou.via_chain = 1 \
        AND (o.established_on IS NULL OR o.established_on <= $1) AND (o.dissolved_on IS NULL OR o.dissolved_on > $1)) THEN 'chain' \
    WHEN EXISTS (SELECT 1 FROM instructor_assignments a WHERE a.entity_id = e.id \
        AND a.start_on <= $1 AND (a.end_on IS NULL OR a.end_on >= $1)) THEN 'instructor_only' \
    ELSE 'none' END";

const SUMS: &str = "COUNT(*) AS units, \
    CAST(COALESCE(SUM(CASE WHEN state = 'own' THEN 1 ELSE 0 END), 0) AS BIGINT) AS own, \
    CAST(COALESCE(SUM(CASE WHEN state = 'joint' THEN 1 ELSE 0 END), 0) AS BIGINT) AS joint, \
    CAST(COALESCE(SUM(CASE WHEN state = 'chain' THEN 1 ELSE 0 END), 0) AS BIGINT) AS chain, \
    CAST(COALESCE(SUM(CASE WHEN state = 'instructor_only' THEN 1 ELSE 0 END), 0) AS BIGINT) AS instructor_only, \
    CAST(COALESCE(SUM(CASE WHEN state = 'none' THEN 1 ELSE 0 END), 0) AS BIGINT) AS none_, \
    CAST(COALESCE(SUM(party_members), 0) AS BIGINT) AS members, \
    CAST(COALESCE(SUM(workers), 0) AS BIGINT) AS workers, \
    CAST(COALESCE(SUM(CASE WHEN party_members >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS needing";

fn figures(r: &sqlx::any::AnyRow) -> StoreResult<Figures> {
    let n = |c: &str| -> StoreResult<u64> { Ok(r.try_get::<i64, _>(c)?.max(0) as u64) };
    let mut f = Figures {
        units: n("units")?,
        own: n("own")?,
        joint: n("joint")?,
        chain: n("chain")?,
        instructor_only: n("instructor_only")?,
        none: n("none_")?,
        members: n("members")?,
        workers: n("workers")?,
        units_needing_own: n("needing")?,
        ..Default::default()
    };
    f.finish();
    Ok(f)
}

impl Store {
    /// The coverage figures for `filter` on `date` by the straightforward SQL (no access scoping: the
    /// whole registry). `own_min` is the threshold for "needs its own organization".
    pub async fn baseline_coverage(
        &self,
        filter: &Filter,
        date: NaiveDate,
        own_min: u32,
    ) -> StoreResult<BaselineFigures> {
        let day = date.format("%Y-%m-%d").to_string();
        let mut conds = vec![
            "(e.established_on IS NULL OR e.established_on <= $1)".to_owned(),
            "(e.closed_on IS NULL OR e.closed_on > $1)".to_owned(),
        ];
        let mut binds: Vec<String> = Vec::new();
        let mut next = 3;
        let mut with = String::new();
        if let Some(region) = &filter.region {
            with = format!(
                "WITH RECURSIVE sub(code) AS (SELECT code FROM regions WHERE code = ${next} \
                 UNION ALL SELECT r.code FROM regions r JOIN sub ON r.parent_code = sub.code) "
            );
            binds.push(region.clone());
            next += 1;
            conds.push("e.region_code IN (SELECT code FROM sub)".into());
        }
        if let Some(tier) = filter.tier {
            conds.push(format!("e.kind = ${next}"));
            binds.push(tier.as_str().to_owned());
            next += 1;
        }
        if let Some(chain) = filter.chain {
            conds.push(format!("e.root_id = {chain}"));
        }
        if let Some(sector) = &filter.sector {
            conds.push(format!(
                "EXISTS (SELECT 1 FROM entity_sectors s WHERE s.entity_id = e.id AND s.sector_code = ${next})"
            ));
            binds.push(sector.clone());
        }
        let units = format!(
            "SELECT e.id, e.kind, e.party_members, e.workers, {STATE} AS state FROM entities e WHERE {}",
            conds.join(" AND ")
        );
        // Totals.
        let sql = format!("{with}SELECT {SUMS} FROM ({units}) u");
        let mut q = sqlx::query(&sql).bind(day.clone()).bind(i64::from(own_min));
        for b in &binds {
            q = q.bind(b.clone());
        }
        let totals_row = q.fetch_one(&self.pool).await?;
        let mut totals = figures(&totals_row)?;
        // Distinct organizations and instructors attached to those units.
        let sql = format!(
            "{with}SELECT COUNT(DISTINCT o.id) AS n FROM ({units}) u JOIN organization_units ou ON ou.entity_id = u.id \
             JOIN organizations o ON o.id = ou.organization_id \
             WHERE (o.established_on IS NULL OR o.established_on <= $1) AND (o.dissolved_on IS NULL OR o.dissolved_on > $1) \
             AND $2 = $2"
        );
        let mut q = sqlx::query(&sql).bind(day.clone()).bind(i64::from(own_min));
        for b in &binds {
            q = q.bind(b.clone());
        }
        totals.organizations = Some(q.fetch_one(&self.pool).await?.try_get::<i64, _>("n")?.max(0) as u64);
        let sql = format!(
            "{with}SELECT COUNT(DISTINCT a.instructor_id) AS n FROM ({units}) u \
             JOIN instructor_assignments a ON a.entity_id = u.id \
             WHERE a.start_on <= $1 AND (a.end_on IS NULL OR a.end_on >= $1) AND $2 = $2"
        );
        let mut q = sqlx::query(&sql).bind(day.clone()).bind(i64::from(own_min));
        for b in &binds {
            q = q.bind(b.clone());
        }
        totals.instructors = Some(q.fetch_one(&self.pool).await?.try_get::<i64, _>("n")?.max(0) as u64);
        // Sector × tier.
        let sql = format!(
            "{with}SELECT es.sector_code AS sector, u.kind AS kind, {SUMS} FROM ({units}) u \
             JOIN entity_sectors es ON es.entity_id = u.id GROUP BY es.sector_code, u.kind ORDER BY es.sector_code, u.kind"
        );
        let mut q = sqlx::query(&sql).bind(day).bind(i64::from(own_min));
        for b in &binds {
            q = q.bind(b.clone());
        }
        let mut table = Vec::new();
        for r in q.fetch_all(&self.pool).await? {
            let kind: String = r.try_get("kind")?;
            table.push((r.try_get("sector")?, EntityKind::parse(&kind).unwrap_or(EntityKind::Site), figures(&r)?));
        }
        Ok(BaselineFigures { totals, table })
    }
}
