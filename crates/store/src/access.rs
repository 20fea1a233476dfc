//! Which rows an actor reaches: an [`AccessFilter`] built from the scopes of their grants turns into
//! SQL conditions on units, organizations and instructors, so that every list, export, import and
//! write sees only rows inside those scopes. The decision itself (allow, 403, 404) is the domain's
//! (`dangjian_domain::access`); this module answers "is this row inside these scopes" for the database.
//!
//! What a scope covers:
//!
//! | scope | units | organizations | instructors |
//! |---|---|---|---|
//! | region subtree | registered in the subtree | registered in the subtree | of the subtree, or assigned to a unit in it |
//! | chain | the platform and everything below it | attached to a unit of the chain | assigned to a unit of the chain |
//! | sector in region | of the sector, in the subtree | attached to such a unit | assigned to such a unit |
//! | organization | attached to it or to its sub-organizations | it and its sub-organizations | assigned to a unit it covers |
//!
//! A worker station is inside a region scope by its own region, and inside any other scope when the
//! unit operating it is (a station run by a department is reached by region only). A case is inside a
//! region scope by the region of the department handling it, and inside no other scope. Case
//! statistics are scoped differently, by where the case happened: see [`crate::cases::stats`].

use crate::db::WriteTx;
use crate::error::StoreResult;
use crate::query::Where;
use crate::region_tree::RegionTree;
use crate::Store;
use dangjian_domain::access::Scope;
use dangjian_domain::FieldError;
use dangjian_domain::Message;
use sqlx::Row;
use std::collections::HashSet;

/// The rows inside the union of some scopes. No scopes, no rows.
///
/// A filter given to a write also says which records the write may *refer to* (a parent, covered
/// units, a higher organization, an assigned unit, a station's operator): those the writer may read
/// ([`AccessFilter::referring_to`]), or, when not said, the write's own scopes. The store checks every
/// reference against it inside the write transaction; see `docs/access.md#references`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessFilter {
    scopes: Vec<Scope>,
    references: Option<Vec<Scope>>,
}

/// The kinds of registry row a filter applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Rows {
    Entities,
    Organizations,
    Instructors,
    Stations,
    Cases,
    /// Notifications to case departments (`case_notifications n`), scoped like the cases.
    CaseNotifications,
}

impl Rows {
    fn table(self) -> &'static str {
        match self {
            Self::Entities => "entities e",
            Self::Organizations => "organizations o",
            Self::Instructors => "instructors i",
            Self::Stations => "stations s",
            Self::Cases => "cases c",
            Self::CaseNotifications => "case_notifications n",
        }
    }

    fn alias(self) -> &'static str {
        match self {
            Self::Entities => "e",
            Self::Organizations => "o",
            Self::Instructors => "i",
            Self::Stations => "s",
            Self::Cases => "c",
            Self::CaseNotifications => "n",
        }
    }
}

/// A region path as a scope holds it, made safe for a `LIKE` prefix: digits and slashes only,
/// ending in a slash (so `/44` cannot reach `/440…`).
pub(crate) fn path_prefix(path: &str) -> String {
    let mut p: String = path.chars().filter(|c| c.is_ascii_digit() || *c == '/').collect();
    if !p.ends_with('/') {
        p.push('/');
    }
    format!("{p}%")
}

impl AccessFilter {
    /// The rows inside any of `scopes`.
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut out: Vec<Scope> = Vec::new();
        for s in scopes {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Self { scopes: out, references: None }
    }

    /// The same filter, whose writes may refer to the records inside `readable` (the scopes in which
    /// the writer may read).
    pub fn referring_to(mut self, readable: &AccessFilter) -> Self {
        self.references = Some(readable.scopes.clone());
        self
    }

    /// The records a write under this filter may refer to.
    pub fn references(&self) -> AccessFilter {
        match &self.references {
            Some(r) => AccessFilter::new(r.iter().cloned()),
            None => AccessFilter::new(self.scopes.iter().cloned()),
        }
    }

    /// Every row. For the operator's command line (which holds the database anyway) and for tests;
    /// a request's filter always comes from its actor's grants.
    pub fn unrestricted() -> Self {
        Self::new([Scope::Region { path: "/".into() }])
    }

    /// No row at all.
    pub fn nothing() -> Self {
        Self::default()
    }

    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// Whether the filter lets every row through (a nationwide region scope).
    pub fn is_unrestricted(&self) -> bool {
        self.scopes.iter().any(|s| matches!(s, Scope::Region { path } if path_prefix(path) == "/%"))
    }

    /// Whether every scope of the filter is a platform's chain.
    pub fn limits_by_chain(&self) -> bool {
        !self.scopes.is_empty() && self.scopes.iter().all(|s| matches!(s, Scope::Chain { .. }))
    }

    /// Whether the filter is a region condition that narrows the rows (a region scope below the nation).
    pub fn limits_by_region(&self) -> bool {
        !self.is_unrestricted() && self.scopes.iter().any(|s| matches!(s, Scope::Region { .. }))
    }

    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// Adds to `w` the condition that a row (aliased as usual: `e`, `o`, `i`) is inside the filter, for
    /// a list of many rows: a scope reached through units is written as the set of rows it reaches,
    /// found once.
    pub(crate) fn restrict(&self, t: &RegionTree, w: &mut Where, rows: Rows) {
        self.restrict_as(t, w, rows, Reach::AsSet);
    }

    /// As [`AccessFilter::restrict`], for one row or a few already picked by another condition (a
    /// unit's organizations): a scope reached through units is checked row by row, on the row's own
    /// links — where the set form would first join every unit of a hundred-thousand-unit chain.
    pub(crate) fn restrict_row_by_row(&self, t: &RegionTree, w: &mut Where, rows: Rows) {
        self.restrict_as(t, w, rows, Reach::RowByRow);
    }

    fn restrict_as(&self, t: &RegionTree, w: &mut Where, rows: Rows, reach: Reach) {
        if self.is_unrestricted() {
            return;
        }
        if self.scopes.is_empty() {
            w.cond("1 = 0");
            return;
        }
        let alias = rows.alias();
        let parts: Vec<String> = self
            .scopes
            .iter()
            .map(|s| match rows {
                Rows::Entities => unit_cond(t, w, s, alias),
                Rows::Organizations => org_cond(t, w, s, alias, reach),
                Rows::Instructors => instructor_cond(t, w, s, alias, reach),
                Rows::Stations => station_cond(t, w, s, alias),
                Rows::Cases | Rows::CaseNotifications => case_cond(t, w, s, alias),
            })
            .collect();
        w.cond(format!("({})", parts.join(" OR ")));
    }

    /// Whether the row `id` is inside the filter, read inside a write transaction (so that the new
    /// state of a row being written is what is checked).
    pub(crate) async fn admits_in(&self, tx: &mut WriteTx, rows: Rows, id: i64) -> StoreResult<bool> {
        let (sql, w) = self.visible_query(&tx.regions.clone(), rows, id);
        Ok(w.apply(sqlx::query(&sql)).fetch_optional(&mut *tx.tx).await?.is_some())
    }

    /// Those of `ids` that exist inside the filter: one query per 500 ids, none when the filter is
    /// unrestricted (then every id the caller found is inside).
    pub(crate) async fn admitted_in(&self, tx: &mut WriteTx, rows: Rows, ids: &[i64]) -> StoreResult<HashSet<i64>> {
        if self.is_unrestricted() {
            return Ok(ids.iter().copied().collect());
        }
        let tree = tx.regions.clone();
        let mut out = HashSet::new();
        for chunk in ids.chunks(500) {
            let mut w = Where::default();
            let list: Vec<String> = chunk.iter().map(|id| format!("${}", w.int(*id))).collect();
            w.cond(format!("{}.id IN ({})", rows.alias(), list.join(",")));
            self.restrict_row_by_row(&tree, &mut w, rows);
            let sql = format!("SELECT {}.id AS id FROM {}{}", rows.alias(), rows.table(), w.sql());
            for row in w.apply(sqlx::query(&sql)).fetch_all(&mut *tx.tx).await? {
                out.insert(row.try_get::<i64, _>("id")?);
            }
        }
        Ok(out)
    }

    fn visible_query(&self, t: &RegionTree, rows: Rows, id: i64) -> (String, Where) {
        let mut w = Where::default();
        let n = w.int(id);
        w.cond(format!("{}.id = ${n}", rows.alias()));
        self.restrict_row_by_row(t, &mut w, rows);
        (format!("SELECT 1 AS x FROM {}{}", rows.table(), w.sql()), w)
    }

    async fn admits(&self, store: &Store, rows: Rows, id: i64) -> StoreResult<bool> {
        let t = store.region_tree().await?;
        let (sql, w) = self.visible_query(&t, rows, id);
        Ok(w.apply(sqlx::query(&sql)).fetch_optional(store.pool()).await?.is_some())
    }
}

/// How a condition reaches rows through their units: as the set of every row the scope reaches (one
/// pass, for lists) or row by row (for one row or a few).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    AsSet,
    RowByRow,
}

/// `{col}` is a region code inside the subtree at `path`: ranges of codes, read on an index of the
/// column ([`crate::region_tree`]).
fn in_subtree(t: &RegionTree, w: &mut Where, col: &str, path: &str) -> String {
    crate::region_tree::subtree_cond(t, w, col, path)
}

/// A query for the ids of an organization and all its sub-organizations.
fn org_subtree(w: &mut Where, org_id: i64) -> String {
    let n = w.int(org_id);
    format!(
        "WITH RECURSIVE acc_sub(id) AS (SELECT id FROM organizations WHERE id = ${n} \
         UNION SELECT c.id FROM organizations c JOIN acc_sub ON c.parent_id = acc_sub.id) SELECT id FROM acc_sub"
    )
}

/// The unit aliased `u` is inside `scope`.
fn unit_cond(t: &RegionTree, w: &mut Where, scope: &Scope, u: &str) -> String {
    match scope {
        Scope::Region { path } => in_subtree(t, w, &format!("{u}.region_code"), path),
        Scope::Chain { root_id } => {
            let n = w.int(*root_id);
            format!("{u}.root_id = ${n}")
        }
        Scope::SectorInRegion { sector, path } => {
            let n = w.text(sector.clone());
            let region = in_subtree(t, w, &format!("{u}.region_code"), path);
            format!(
                "(EXISTS (SELECT 1 FROM entity_sectors acc_es WHERE acc_es.entity_id = {u}.id AND acc_es.sector_code = ${n}) \
                 AND {region})"
            )
        }
        Scope::Organization { org_id } => {
            let sub = org_subtree(w, *org_id);
            format!(
                "{u}.id IN (SELECT acc_ou.entity_id FROM organization_units acc_ou WHERE acc_ou.organization_id IN ({sub}))"
            )
        }
    }
}

/// The organization aliased `o` is inside `scope`. A chain reaches it through the chain its links carry
/// (`organization_units.root_id`, kept from the units by triggers): one index range, however large the
/// chain.
fn org_cond(t: &RegionTree, w: &mut Where, scope: &Scope, o: &str, reach: Reach) -> String {
    match scope {
        Scope::Region { path } => in_subtree(t, w, &format!("{o}.region_code"), path),
        Scope::Organization { org_id } => {
            let sub = org_subtree(w, *org_id);
            format!("{o}.id IN ({sub})")
        }
        Scope::Chain { root_id } => {
            let n = w.int(*root_id);
            match reach {
                Reach::AsSet => format!(
                    "{o}.id IN (SELECT acc_ou2.organization_id FROM organization_units acc_ou2 WHERE acc_ou2.root_id = ${n})"
                ),
                Reach::RowByRow => format!(
                    "EXISTS (SELECT 1 FROM organization_units acc_ou2 \
                     WHERE acc_ou2.organization_id = {o}.id AND acc_ou2.root_id = ${n})"
                ),
            }
        }
        Scope::SectorInRegion { .. } => {
            let unit = unit_cond(t, w, scope, "acc_u");
            match reach {
                Reach::AsSet => format!(
                    "{o}.id IN (SELECT acc_ou2.organization_id FROM organization_units acc_ou2 \
                     JOIN entities acc_u ON acc_u.id = acc_ou2.entity_id WHERE {unit})"
                ),
                Reach::RowByRow => format!(
                    "EXISTS (SELECT 1 FROM organization_units acc_ou2 JOIN entities acc_u ON acc_u.id = acc_ou2.entity_id \
                     WHERE acc_ou2.organization_id = {o}.id AND {unit})"
                ),
            }
        }
    }
}

/// The instructor aliased `i` is inside `scope`: by their own region, or by a unit they are assigned to.
/// A region or a chain reaches the assignments through the region and chain they carry (kept from the
/// units by triggers): one index range instead of a join with every unit of a province or a chain.
fn instructor_cond(t: &RegionTree, w: &mut Where, scope: &Scope, i: &str, reach: Reach) -> String {
    // What an assignment aliased `acc_a` must satisfy, and the join it needs for that.
    let (join, link) = match scope {
        Scope::Region { path } => (String::new(), in_subtree(t, w, "acc_a.region_code", path)),
        Scope::Chain { root_id } => {
            let n = w.int(*root_id);
            (String::new(), format!("acc_a.root_id = ${n}"))
        }
        Scope::SectorInRegion { .. } | Scope::Organization { .. } => {
            (" JOIN entities acc_u ON acc_u.id = acc_a.entity_id".to_owned(), unit_cond(t, w, scope, "acc_u"))
        }
    };
    let assigned = match reach {
        Reach::AsSet => {
            format!("{i}.id IN (SELECT acc_a.instructor_id FROM instructor_assignments acc_a{join} WHERE {link})")
        }
        Reach::RowByRow => format!(
            "EXISTS (SELECT 1 FROM instructor_assignments acc_a{join} WHERE acc_a.instructor_id = {i}.id AND {link})"
        ),
    };
    match scope {
        Scope::Region { path } => {
            let own = in_subtree(t, w, &format!("{i}.region_code"), path);
            format!("({own} OR {assigned})")
        }
        _ => assigned,
    }
}

/// The station aliased `s` is inside `scope`: by its region, or by the unit that runs it.
fn station_cond(t: &RegionTree, w: &mut Where, scope: &Scope, s: &str) -> String {
    match scope {
        Scope::Region { path } => in_subtree(t, w, &format!("{s}.region_code"), path),
        _ => {
            let unit = unit_cond(t, w, scope, "acc_u");
            format!("{s}.operator_entity_id IN (SELECT acc_u.id FROM entities acc_u WHERE {unit})")
        }
    }
}

/// The case aliased `c` is inside `scope` when the department handling it lies in a region scope's
/// subtree. Chain, sector and organization scopes reach no case: a platform or an organization must not
/// see who complained about it.
fn case_cond(t: &RegionTree, w: &mut Where, scope: &Scope, c: &str) -> String {
    match scope {
        Scope::Region { path } => {
            let region = in_subtree(t, w, "acc_d.region_code", path);
            format!("EXISTS (SELECT 1 FROM departments acc_d WHERE acc_d.id = {c}.department_id AND {region})")
        }
        _ => "1 = 0".into(),
    }
}

/// The row error of an import row whose record is outside the importer's scopes — worded so that it
/// does not reveal whether the record exists.
pub(crate) fn not_yours(field: &str) -> FieldError {
    FieldError::new(field, "out_of_scope", Message::new("problem.out_of_scope"))
}

impl Store {
    /// Whether unit `id` exists inside `access`.
    pub async fn entity_visible(&self, id: i64, access: &AccessFilter) -> StoreResult<bool> {
        access.admits(self, Rows::Entities, id).await
    }

    /// Whether organization `id` exists inside `access`.
    pub async fn organization_visible(&self, id: i64, access: &AccessFilter) -> StoreResult<bool> {
        access.admits(self, Rows::Organizations, id).await
    }

    /// Whether station `id` exists inside `access`.
    pub async fn station_visible(&self, id: i64, access: &AccessFilter) -> StoreResult<bool> {
        access.admits(self, Rows::Stations, id).await
    }

    /// Whether case notification `id` exists inside `access` (addressed to a department in its regions).
    pub async fn case_notification_visible(&self, id: i64, access: &AccessFilter) -> StoreResult<bool> {
        access.admits(self, Rows::CaseNotifications, id).await
    }

    /// Whether case `id` exists inside `access` (handled by a department in its regions).
    pub async fn case_visible(&self, id: i64, access: &AccessFilter) -> StoreResult<bool> {
        access.admits(self, Rows::Cases, id).await
    }

    /// Whether instructor `id` exists inside `access`.
    pub async fn instructor_visible(&self, id: i64, access: &AccessFilter) -> StoreResult<bool> {
        access.admits(self, Rows::Instructors, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_safe_prefixes() {
        assert_eq!(path_prefix("/44/4403/"), "/44/4403/%");
        assert_eq!(path_prefix("/44"), "/44/%");
        assert_eq!(path_prefix("/4_%4/"), "/44/%");
        assert!(AccessFilter::unrestricted().is_unrestricted());
        assert!(AccessFilter::new([Scope::Region { path: String::new() }]).is_unrestricted());
        assert!(!AccessFilter::new([Scope::Region { path: "/44/".into() }]).is_unrestricted());
        assert!(AccessFilter::nothing().is_empty());
    }

    #[test]
    fn nothing_admits_no_row_and_conditions_are_or_ed() {
        let t = RegionTree::default();
        let mut w = Where::default();
        AccessFilter::nothing().restrict(&t, &mut w, Rows::Entities);
        assert_eq!(w.sql(), " WHERE 1 = 0");
        let mut w = Where::default();
        AccessFilter::new([Scope::Chain { root_id: 7 }, Scope::Organization { org_id: 3 }]).restrict(
            &t,
            &mut w,
            Rows::Instructors,
        );
        let sql = w.sql();
        assert!(sql.contains("acc_a.root_id = $1") && sql.contains(" OR ") && sql.contains("id = $2"), "{sql}");
        let mut w = Where::default();
        AccessFilter::unrestricted().restrict(&t, &mut w, Rows::Organizations);
        assert_eq!(w.sql(), "");
    }
}
