//! Party organizations: the units they are attached to, how they nest, and every write path.

use crate::access::{AccessFilter, Rows};
use crate::db::WriteTx;
use crate::entities::Resolver;
use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::import::{param_list, ImportBatch, ImportKind};
use crate::input::RegistryInput;
use crate::query::Where;
use crate::{date_text, now_text, parse_date_text, DbKind, ImportSummary, Outcome, Page, Paging, Store};
use chrono::NaiveDate;
use dangjian_domain::org::{check_parent_org_kind, OrgRef, OrganizationInput, OrganizationReferences};
use dangjian_domain::Message;
use dangjian_domain::{EntityKind, FieldError, FieldErrors, OrgKind, OrganizationDraft, SearchTerm};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// A unit an organization is attached to, as shown beside it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct UnitSummary {
    pub id: i64,
    pub name: String,
    pub kind: EntityKind,
    /// USCC or site code.
    pub code: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Organization {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
    pub parent_id: Option<i64>,
    pub parent_name: Option<String>,
    pub parent_code: Option<String>,
    pub units: Vec<UnitSummary>,
    pub region_code: String,
    pub region_name: String,
    pub established_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub secretary: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

const ORG_SELECT: &str =
    "SELECT o.id, o.code, o.name, o.kind, o.parent_id, p.name AS parent_name, p.code AS parent_code, \
     o.region_code, r.name AS region_name, o.established_on, o.dissolved_on, o.term_start, o.term_end, o.secretary, \
     o.version, o.created_at, o.updated_at \
     FROM organizations o JOIN regions r ON r.code = o.region_code LEFT JOIN organizations p ON p.id = o.parent_id";

fn org_from_row(r: &AnyRow) -> StoreResult<Organization> {
    let kind: String = r.try_get("kind")?;
    Ok(Organization {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: OrgKind::parse(&kind)?,
        parent_id: r.try_get("parent_id")?,
        parent_name: r.try_get("parent_name")?,
        parent_code: r.try_get("parent_code")?,
        units: Vec::new(),
        region_code: r.try_get("region_code")?,
        region_name: r.try_get("region_name")?,
        established_on: parse_date_text(r.try_get("established_on")?),
        dissolved_on: parse_date_text(r.try_get("dissolved_on")?),
        term_start: parse_date_text(r.try_get("term_start")?),
        term_end: parse_date_text(r.try_get("term_end")?),
        secretary: r.try_get("secretary")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn unit_summary_from_row(row: &AnyRow) -> StoreResult<UnitSummary> {
    Ok(UnitSummary {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: EntityKind::parse(&row.try_get::<String, _>("kind")?)?,
        code: row.try_get("code")?,
    })
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub region: Option<String>,
    pub kind: Option<OrgKind>,
    /// Organizations attached to this unit.
    pub unit: Option<i64>,
    /// Organizations attached to any unit of this platform's chain.
    pub root: Option<i64>,
    /// Organizations attached to any unit of this sector.
    pub sector: Option<String>,
    /// Direct sub-organizations of this one.
    pub parent: Option<i64>,
    /// Name, secretary or code contains (the code compared upper-cased).
    pub q: Option<SearchTerm>,
    pub dissolved: Option<bool>,
}

struct OrgKey {
    id: i64,
    kind: OrgKind,
}

async fn find_org(tx: &mut WriteTx, r: &OrgRef) -> StoreResult<Option<OrgKey>> {
    let row = match r {
        OrgRef::Id(id) => {
            sqlx::query("SELECT id, kind FROM organizations WHERE id = $1")
                .bind(*id)
                .fetch_optional(&mut *tx.tx)
                .await?
        }
        OrgRef::Code(c) => {
            sqlx::query("SELECT id, kind FROM organizations WHERE code = $1")
                .bind(c.as_str().to_owned())
                .fetch_optional(&mut *tx.tx)
                .await?
        }
    };
    row.map(|row| Ok(OrgKey { id: row.try_get("id")?, kind: OrgKind::parse(&row.try_get::<String, _>("kind")?)? }))
        .transpose()
}

async fn org_ancestors(tx: &mut WriteTx, id: i64) -> StoreResult<Vec<i64>> {
    let mut out = Vec::new();
    let mut cur = Some(id);
    while let Some(c) = cur {
        if out.len() > 32 {
            break;
        }
        cur = sqlx::query("SELECT parent_id FROM organizations WHERE id = $1")
            .bind(c)
            .fetch_optional(&mut *tx.tx)
            .await?
            .map(|r| r.try_get::<Option<i64>, _>("parent_id"))
            .transpose()?
            .flatten();
        if let Some(p) = cur {
            out.push(p);
        }
    }
    Ok(out)
}

struct ResolvedOrg {
    parent_id: Option<i64>,
    unit_ids: Vec<i64>,
    /// The home unit of an organization other than a joint branch; its other units are covered through
    /// the chain.
    home: Option<i64>,
}

async fn resolve_org(
    r: &mut Resolver,
    tx: &mut WriteTx,
    d: &OrganizationDraft,
    self_id: Option<i64>,
) -> StoreResult<ResolvedOrg> {
    let mut errs = FieldErrors::default();
    let resolved = check_org_references(r, tx, &OrganizationReferences::of(d), self_id, &mut errs).await?;
    errs.into_result()?;
    Ok(resolved)
}

/// Checks an organization's references that parsed — region, parent (exists, may be referred to, may
/// lead this kind, no cycle), units (exist, may be referred to, one home unit with its chain below) —
/// adding each problem to `errs`: the one check of drafts and of inputs that did not parse.
async fn check_org_references(
    r: &mut Resolver,
    tx: &mut WriteTx,
    d: &OrganizationReferences,
    self_id: Option<i64>,
    errs: &mut FieldErrors,
) -> StoreResult<ResolvedOrg> {
    r.keep(tx, Rows::Entities, "SELECT entity_id AS id FROM organization_units WHERE organization_id = $1", self_id)
        .await?;
    let kept_parent: Option<i64> = match self_id {
        Some(id) => sqlx::query("SELECT parent_id FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .map(|row| row.try_get::<Option<i64>, _>("parent_id"))
            .transpose()?
            .flatten(),
        None => None,
    };
    if let Some(region) = &d.region_code {
        collect(errs, r.check_region(tx, region.as_str(), "region_code").await)?;
    }
    let parent_field = if matches!(d.parent, Some(OrgRef::Id(_))) { "parent_id" } else { "parent_code" };
    let mut parent_id = None;
    if let Some(p) = &d.parent {
        let unknown =
            FieldError::new(parent_field, "unknown_parent", Message::new("problem.unknown_parent.no_such_parent"));
        let found = match find_org(tx, p).await? {
            Some(pk) if kept_parent == Some(pk.id) || r.may_refer(tx, Rows::Organizations, pk.id).await? => Some(pk),
            Some(_) => {
                errs.push(unknown.refused());
                None
            }
            None => {
                errs.push(unknown);
                None
            }
        };
        if let Some(pk) = found {
            if let Some(Err(e)) = d.kind.map(|k| check_parent_org_kind(k, pk.kind)) {
                errs.push(e.on_field(parent_field));
            }
            if let Some(id) = self_id {
                let anc = org_ancestors(tx, pk.id).await?;
                if pk.id == id || anc.contains(&id) {
                    errs.push(FieldError::new(parent_field, "org_cycle", Message::new("problem.org_cycle")));
                }
            }
            parent_id = Some(pk.id);
        }
    }
    let mut unit_ids = Vec::new();
    for u in &d.units {
        if let Some(id) = collect(errs, r.resolve_unit(tx, u, "units").await)? {
            if !unit_ids.contains(&id) {
                unit_ids.push(id);
            }
        }
    }
    let joint = d.kind.is_none_or(OrgKind::is_joint);
    let mut home = if joint { None } else { unit_ids.first().copied() };
    if !joint && unit_ids.len() > 1 && errs.is_empty() {
        // One home unit; every other unit must lie below it in its chain (covered through the chain).
        let mut lineages = Vec::with_capacity(unit_ids.len());
        for &u in &unit_ids {
            lineages.push((u, r.ancestors(tx, u).await?));
        }
        home = unit_ids.iter().copied().find(|&h| lineages.iter().all(|(u, up)| *u == h || up.contains(&h)));
        if home.is_none() {
            errs.push(FieldError::new("units", "units_outside_chain", Message::new("problem.units_outside_chain")));
        }
    }
    Ok(ResolvedOrg { parent_id, unit_ids, home })
}

/// Moves validation errors of a step into `errs`; passes other errors up.
fn collect<T>(errs: &mut FieldErrors, r: StoreResult<T>) -> StoreResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::Invalid(e)) => {
            errs.0.extend(e.0);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// An organization code registered already.
fn duplicate_code(c: &str) -> FieldError {
    FieldError::new("code", "duplicate", Message::new("problem.duplicate.c_registered_already").arg("c", c))
}

fn duplicate_org_code(e: sqlx::Error, d: &OrganizationDraft) -> StoreError {
    if is_unique_violation(&e) {
        let c = d.code.as_str();
        duplicate_code(c).into()
    } else {
        e.into()
    }
}

async fn write_units(tx: &mut WriteTx, id: i64, res: &ResolvedOrg) -> StoreResult<()> {
    sqlx::query("DELETE FROM organization_units WHERE organization_id = $1").bind(id).execute(&mut *tx.tx).await?;
    for &u in &res.unit_ids {
        let via_chain = res.home.is_some_and(|h| h != u);
        sqlx::query("INSERT INTO organization_units (organization_id, entity_id, via_chain) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(u)
            .bind(i64::from(via_chain))
            .execute(&mut *tx.tx)
            .await?;
    }
    Ok(())
}

async fn insert_org(r: &mut Resolver, tx: &mut WriteTx, d: &OrganizationDraft) -> StoreResult<i64> {
    let res = resolve_org(r, tx, d, None).await?;
    let now = now_text();
    let row = sqlx::query(
        "INSERT INTO organizations (code, name, kind, parent_id, region_code, established_on, dissolved_on, \
         term_start, term_end, secretary, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(d.code.as_str().to_owned())
    .bind(d.name.clone())
    .bind(d.kind.as_str())
    .bind(res.parent_id)
    .bind(d.region_code.as_str().to_owned())
    .bind(date_text(d.established_on))
    .bind(date_text(d.dissolved_on))
    .bind(date_text(d.term_start))
    .bind(date_text(d.term_end))
    .bind(d.secretary.clone())
    .bind(now.clone())
    .bind(now)
    .fetch_one(&mut *tx.tx)
    .await
    .map_err(|e| duplicate_org_code(e, d))?;
    let id: i64 = row.try_get("id")?;
    write_units(tx, id, &res).await?;
    Ok(id)
}

async fn update_org(
    r: &mut Resolver,
    tx: &mut WriteTx,
    id: i64,
    d: &OrganizationDraft,
    version: Option<i64>,
) -> StoreResult<()> {
    let res = resolve_org(r, tx, d, Some(id)).await?;
    let children = sqlx::query("SELECT DISTINCT kind FROM organizations WHERE parent_id = $1")
        .bind(id)
        .fetch_all(&mut *tx.tx)
        .await?;
    for c in children {
        let kind = OrgKind::parse(&c.try_get::<String, _>("kind")?)?;
        if !d.kind.may_lead(kind) {
            return Err(FieldError::new(
                "kind",
                "kind_conflicts_with_children",
                Message::new("problem.kind_conflicts_with_children.organizations")
                    .arg("kind", kind.as_str())
                    .arg_msg("kind_name", Message::dynamic(format!("org_kind.{}", kind.as_str()))),
            )
            .into());
        }
    }
    let mut sql = String::from(
        "UPDATE organizations SET code = $1, name = $2, kind = $3, parent_id = $4, region_code = $5, established_on = $6, \
         dissolved_on = $7, term_start = $8, term_end = $9, secretary = $10, updated_at = $11, version = version + 1 \
         WHERE id = $12",
    );
    if version.is_some() {
        sql.push_str(" AND version = $13");
    }
    let mut q = sqlx::query(&sql)
        .bind(d.code.as_str().to_owned())
        .bind(d.name.clone())
        .bind(d.kind.as_str())
        .bind(res.parent_id)
        .bind(d.region_code.as_str().to_owned())
        .bind(date_text(d.established_on))
        .bind(date_text(d.dissolved_on))
        .bind(date_text(d.term_start))
        .bind(date_text(d.term_end))
        .bind(d.secretary.clone())
        .bind(now_text())
        .bind(id);
    if let Some(v) = version {
        q = q.bind(v);
    }
    let n = q.execute(&mut *tx.tx).await.map_err(|e| duplicate_org_code(e, d))?.rows_affected();
    if n == 0 {
        return Err(stale_or_missing(tx, "organizations", id).await?);
    }
    write_units(tx, id, &res).await
}

/// After an optimistic update touched no row: the record is gone, or someone changed it first.
pub(crate) async fn stale_or_missing(tx: &mut WriteTx, table: &str, id: i64) -> StoreResult<StoreError> {
    let current: Option<i64> = sqlx::query(&format!("SELECT version FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|row| row.try_get("version"))
        .transpose()?;
    Ok(match current {
        None => StoreError::NotFound,
        Some(current) => StoreError::StaleVersion { current },
    })
}

fn same_org(o: &Organization, d: &OrganizationDraft, res: &ResolvedOrg) -> bool {
    let mut units: Vec<i64> = o.units.iter().map(|u| u.id).collect();
    let mut new_units = res.unit_ids.clone();
    units.sort_unstable();
    new_units.sort_unstable();
    o.code == d.code.as_str()
        && o.name == d.name
        && o.kind == d.kind
        && o.parent_id == res.parent_id
        && o.region_code == d.region_code.as_str()
        && o.established_on == d.established_on
        && o.dissolved_on == d.dissolved_on
        && o.term_start == d.term_start
        && o.term_end == d.term_end
        && o.secretary == d.secretary
        && units == new_units
}

/// How many parents above each code of the file are defined in the same file, so that parents are
/// written before their children.
fn parent_depths(rows: &[(usize, OrganizationDraft)]) -> HashMap<String, u32> {
    let by_code: HashMap<&str, &OrganizationDraft> = rows.iter().map(|(_, d)| (d.code.as_str(), d)).collect();
    let depth = |d: &OrganizationDraft| {
        let mut n = 0u32;
        let mut cur = d;
        while let Some(OrgRef::Code(p)) = &cur.parent {
            match by_code.get(p.as_str()) {
                Some(next) if (n as usize) < rows.len() => {
                    n += 1;
                    cur = next;
                }
                _ => break,
            }
        }
        n
    };
    rows.iter().map(|(_, d)| (d.code.as_str().to_owned(), depth(d))).collect()
}

/// Organizations in an import, keyed by code, parents first; each row checked and written as a single
/// write would be, the current records read a chunk at a time.
struct OrgImport {
    r: Resolver,
    db: DbKind,
    depth: HashMap<String, u32>,
}

impl ImportKind for OrgImport {
    type References = OrganizationReferences;

    fn references_key(&self, refs: &OrganizationReferences) -> Option<(String, &'static str)> {
        refs.code.as_ref().map(|c| (c.as_str().to_owned(), "code"))
    }

    async fn check_unparsed(
        &mut self,
        tx: &mut WriteTx,
        refs: &OrganizationReferences,
        self_id: Option<i64>,
        failed: &HashSet<String>,
    ) -> StoreResult<FieldErrors> {
        let mut refs = refs.clone();
        if matches!(&refs.parent, Some(OrgRef::Code(c)) if failed.contains(c.as_str())) {
            refs.parent = None;
        }
        let mut errs = FieldErrors::default();
        check_org_references(&mut self.r, tx, &refs, self_id, &mut errs).await?;
        Ok(errs)
    }
    type Draft = OrganizationDraft;
    type Current = Organization;
    const ROWS: Rows = Rows::Organizations;

    fn tier(&self, d: &OrganizationDraft) -> u32 {
        self.depth.get(d.code.as_str()).copied().unwrap_or(0)
    }

    fn key(&self, d: &OrganizationDraft) -> Result<String, FieldError> {
        Ok(d.code.as_str().to_owned())
    }

    fn key_field(&self, _: &OrganizationDraft) -> &'static str {
        "code"
    }

    async fn load(&mut self, tx: &mut WriteTx, keys: &[&str]) -> StoreResult<HashMap<String, Organization>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!("{ORG_SELECT} WHERE o.code IN ({})", param_list(self.db, 1, keys.len()));
        let mut q = sqlx::query(&sql);
        for k in keys {
            q = q.bind((*k).to_owned());
        }
        let mut found = q.fetch_all(&mut *tx.tx).await?.iter().map(org_from_row).collect::<StoreResult<Vec<_>>>()?;
        if !found.is_empty() {
            let sql = format!(
                "SELECT ou.organization_id, e.id, e.name, e.kind, COALESCE(e.uscc, e.site_code) AS code \
                 FROM organization_units ou JOIN entities e ON e.id = ou.entity_id \
                 WHERE ou.organization_id IN ({}) ORDER BY e.id",
                param_list(self.db, 1, found.len())
            );
            let mut q = sqlx::query(&sql);
            for o in &found {
                q = q.bind(o.id);
            }
            let mut units: HashMap<i64, Vec<UnitSummary>> = HashMap::new();
            for row in q.fetch_all(&mut *tx.tx).await? {
                units.entry(row.try_get("organization_id")?).or_default().push(unit_summary_from_row(&row)?);
            }
            for o in &mut found {
                o.units = units.remove(&o.id).unwrap_or_default();
            }
        }
        Ok(found.into_iter().map(|o| (o.code.clone(), o)).collect())
    }

    fn id_of(o: &Organization) -> i64 {
        o.id
    }

    async fn apply(
        &mut self,
        tx: &mut WriteTx,
        d: &OrganizationDraft,
        current: Option<&Organization>,
    ) -> StoreResult<(i64, Outcome)> {
        let Some(o) = current else {
            return insert_org(&mut self.r, tx, d).await.map(|id| (id, Outcome::Created));
        };
        let res = resolve_org(&mut self.r, tx, d, Some(o.id)).await?;
        if same_org(o, d, &res) {
            return Ok((o.id, Outcome::Unchanged));
        }
        update_org(&mut self.r, tx, o.id, d, None).await?;
        Ok((o.id, Outcome::Updated))
    }
}

impl Store {
    pub async fn organization(&self, id: i64) -> StoreResult<Organization> {
        let row = sqlx::query(&format!("{ORG_SELECT} WHERE o.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        let mut o = row.as_ref().map(org_from_row).transpose()?.ok_or(StoreError::NotFound)?;
        self.fill_units(std::slice::from_mut(&mut o)).await?;
        Ok(o)
    }

    async fn fill_units(&self, items: &mut [Organization]) -> StoreResult<()> {
        let mut by_org: HashMap<i64, Vec<UnitSummary>> = HashMap::new();
        for chunk in items.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT ou.organization_id, e.id, e.name, e.kind, COALESCE(e.uscc, e.site_code) AS code \
                 FROM organization_units ou JOIN entities e ON e.id = ou.entity_id \
                 WHERE ou.organization_id IN ({}) ORDER BY e.id",
                Store::placeholders(chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = q.bind(o.id);
            }
            for row in q.fetch_all(&self.pool).await? {
                by_org.entry(row.try_get("organization_id")?).or_default().push(unit_summary_from_row(&row)?);
            }
        }
        for o in items {
            o.units = by_org.remove(&o.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Organizations matching `f`, of those inside `access`.
    pub async fn list_organizations(
        &self,
        f: &OrgFilter,
        paging: Paging,
        access: &AccessFilter,
    ) -> StoreResult<Page<Organization>> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        // One unit's records are a handful: checked row by row, not against the scope's whole set.
        if f.unit.is_some() {
            access.restrict_row_by_row(&tree, &mut w, Rows::Organizations);
        } else {
            access.restrict(&tree, &mut w, Rows::Organizations);
        }
        if let Some(region) = &f.region {
            let path = tree.path_of(region).ok_or_else(|| crate::regions::unknown_region(region, "region"))?;
            let c = crate::region_tree::subtree_cond(&tree, &mut w, "o.region_code", path);
            w.cond(c);
        }
        if let Some(k) = f.kind {
            let n = w.text(k.as_str());
            w.cond(format!("o.kind = ${n}"));
        }
        if let Some(u) = f.unit {
            let n = w.int(u);
            w.cond(format!("o.id IN (SELECT organization_id FROM organization_units WHERE entity_id = ${n})"));
        }
        if let Some(root) = f.root {
            let n = w.int(root);
            w.cond(format!(
                "o.id IN (SELECT ou.organization_id FROM organization_units ou JOIN entities e ON e.id = ou.entity_id WHERE e.root_id = ${n})"
            ));
        }
        if let Some(s) = &f.sector {
            let n = w.text(s.clone());
            w.cond(format!(
                "o.id IN (SELECT ou.organization_id FROM organization_units ou JOIN entity_sectors es ON es.entity_id = ou.entity_id WHERE es.sector_code = ${n})"
            ));
        }
        if let Some(p) = f.parent {
            let n = w.int(p);
            w.cond(format!("o.parent_id = ${n}"));
        }
        if let Some(q) = &f.q {
            let n1 = w.text(q.contains_pattern());
            let n2 = w.text(q.upper_contains_pattern());
            w.cond(format!(
                "(o.name LIKE ${n1} ESCAPE '\\' OR o.secretary LIKE ${n1} ESCAPE '\\' OR o.code LIKE ${n2} ESCAPE '\\')"
            ));
        }
        match f.dissolved {
            Some(true) => w.cond("o.dissolved_on IS NOT NULL"),
            Some(false) => w.cond("o.dissolved_on IS NULL"),
            None => {}
        }
        let mut page = self.fetch_page(ORG_SELECT, "organizations o", &w, "o.id", paging, org_from_row).await?;
        self.fill_units(&mut page.items).await?;
        Ok(page)
    }

    /// Registers an organization, which must then lie inside `access` (else nothing is written).
    pub async fn create_organization(&self, d: &OrganizationDraft, access: &AccessFilter) -> StoreResult<Organization> {
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        let id = insert_org(&mut r, &mut tx, d).await?;
        if !access.admits_in(&mut tx, Rows::Organizations, id).await? {
            return Err(StoreError::OutOfScope);
        }
        tx.commit().await?;
        self.organization(id).await
    }

    /// Parses an organization's input (for the organization `self_id` when it is an update) and, when it
    /// does not parse, adds what only the registry can see about the fields that did (an unknown
    /// region, parent or unit, one the writer may not refer to, a code registered already): every
    /// problem at once (`StoreError::Invalid`). Reads only.
    pub async fn parse_organization_input(
        &self,
        input: &OrganizationInput,
        self_id: Option<i64>,
        access: &AccessFilter,
    ) -> StoreResult<OrganizationDraft> {
        self.parse_input::<OrganizationInputs>(input, self_id, access).await
    }

    /// Updates an organization inside `access` if it is still at `version`; it must stay inside.
    pub async fn update_organization(
        &self,
        id: i64,
        d: &OrganizationDraft,
        version: i64,
        access: &AccessFilter,
    ) -> StoreResult<Organization> {
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        if !access.admits_in(&mut tx, Rows::Organizations, id).await? {
            return Err(StoreError::NotFound);
        }
        update_org(&mut r, &mut tx, id, d, Some(version)).await?;
        if !access.admits_in(&mut tx, Rows::Organizations, id).await? {
            return Err(StoreError::OutOfScope);
        }
        tx.commit().await?;
        self.organization(id).await
    }

    /// Dissolves an organization (撤销) inside `access` on a date; it stays for history.
    pub async fn dissolve_organization(
        &self,
        id: i64,
        on: NaiveDate,
        version: i64,
        access: &AccessFilter,
    ) -> StoreResult<Organization> {
        if !self.organization_visible(id, access).await? {
            return Err(StoreError::NotFound);
        }
        let current = self.organization(id).await?;
        if current.established_on.is_some_and(|e| on < e) {
            return Err(FieldError::new(
                "dissolved_on",
                "date_before_start",
                Message::new("problem.date_before_start.organization_dissolved_before"),
            )
            .into());
        }
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE organizations SET dissolved_on = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4",
        )
        .bind(date_text(Some(on)))
        .bind(now_text())
        .bind(id)
        .bind(version)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(stale_or_missing(&mut tx, "organizations", id).await?);
        }
        tx.commit().await?;
        self.organization(id).await
    }

    /// Imports organizations whole or not at all, upserting by organization code. Every row must be
    /// inside `access`, before and after (see [`Store::import_entities`]).
    pub async fn import_organizations(
        &self,
        rows: &[(usize, OrganizationDraft)],
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        self.import_organization_batch(ImportBatch::parsed(rows), dry_run, access).await
    }

    /// [`Self::import_organizations`], also checking what the rows that did not parse name.
    pub async fn import_organization_batch(
        &self,
        batch: ImportBatch<'_, OrganizationDraft, OrganizationReferences>,
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        let rows = batch.parsed;
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        r.load_all_regions(&mut tx).await?;
        let mut kind = OrgImport { r, db: self.kind(), depth: parent_depths(rows) };
        self.run_import(&mut kind, tx, batch, dry_run, access).await
    }

    /// Every organization inside `access`, in a stable order (by code) for export.
    pub async fn export_organizations(&self, access: &AccessFilter) -> StoreResult<Vec<Organization>> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        access.restrict(&tree, &mut w, Rows::Organizations);
        let rows =
            w.apply(sqlx::query(&format!("{ORG_SELECT}{} ORDER BY o.code", w.sql()))).fetch_all(&self.pool).await?;
        let mut items = rows.iter().map(org_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.fill_units(&mut items).await?;
        Ok(items)
    }
}

/// Organizations' inputs, for [`Store::parse_input`].
pub(crate) struct OrganizationInputs;

impl RegistryInput for OrganizationInputs {
    type Input = OrganizationInput;
    type Draft = OrganizationDraft;
    type References = OrganizationReferences;

    fn parse(input: &OrganizationInput) -> Result<OrganizationDraft, (FieldErrors, Box<OrganizationReferences>)> {
        OrganizationDraft::parse_or_references(input)
    }

    async fn check(
        _: &Store,
        r: &mut Resolver,
        tx: &mut WriteTx,
        refs: &OrganizationReferences,
        self_id: Option<i64>,
        found: &mut FieldErrors,
    ) -> StoreResult<()> {
        check_org_references(r, tx, refs, self_id, found).await?;
        if let Some(code) = &refs.code {
            if tx.held_by_another("organizations", "code", code.as_str().to_owned(), self_id).await? {
                found.push(duplicate_code(code.as_str()));
            }
        }
        Ok(())
    }
}
