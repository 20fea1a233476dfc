//! Units of the platform chain: listing, the chain view, and every write path (create, update,
//! close, import) through one resolver so the same rules hold everywhere.

use crate::access::{AccessFilter, Rows};
use crate::bulk::{insert_rows, Rows as BulkRows, Table, ENTITIES};
use crate::db::WriteTx;
use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::import::{param_list, ImportBatch, ImportKind, CHUNK_ROWS};
use crate::input::RegistryInput;
use crate::query::Where;
use crate::regions::unknown_region;
use crate::search::SearchMethod;
use crate::sectors::{resolve_sector_names, Sector};
use crate::{date_text, now_text, parse_date_text, DbKind, ImportSummary, Outcome, Page, Paging, Store};
use chrono::NaiveDate;
use dangjian_domain::entity::{check_no_cycle, check_parent_kind, EntityInput, EntityReferences, UnitRef};
use dangjian_domain::Message;
use dangjian_domain::{EntityDraft, EntityKind, FieldError, FieldErrors, SearchTerm};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// A registered unit as the API and pages show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Entity {
    pub id: i64,
    pub uscc: Option<String>,
    pub site_code: Option<String>,
    pub name: String,
    pub kind: EntityKind,
    /// Sector codes, sorted.
    pub sectors: Vec<String>,
    pub parent_id: Option<i64>,
    pub parent_name: Option<String>,
    /// The platform at the top of the chain (itself for a platform).
    pub root_id: Option<i64>,
    pub region_code: String,
    pub region_name: String,
    pub address: Option<String>,
    pub workers: i64,
    pub party_members: i64,
    pub probationary_members: i64,
    pub established_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl Entity {
    /// The USCC, or else the site code: how people and files name the unit.
    pub fn code(&self) -> &str {
        self.uscc.as_deref().or(self.site_code.as_deref()).unwrap_or_default()
    }

    pub fn is_operating_on(&self, date: NaiveDate) -> bool {
        self.established_on.is_none_or(|e| e <= date) && self.closed_on.is_none_or(|c| c > date)
    }
}

const ENTITY_SELECT: &str =
    "SELECT e.id, e.uscc, e.site_code, e.name, e.kind, e.parent_id, p.name AS parent_name, e.root_id, \
     e.region_code, r.name AS region_name, e.address, e.workers, e.party_members, e.probationary_members, \
     e.established_on, e.closed_on, e.version, e.created_at, e.updated_at \
     FROM entities e JOIN regions r ON r.code = e.region_code LEFT JOIN entities p ON p.id = e.parent_id";

/// The columns of a unit an import compares, without the names of the region and the parent (joining the
/// regions made PostgreSQL hash the whole regions table for every chunk).
const IMPORT_COLUMNS: &str = "e.id, e.uscc, e.site_code, e.name, e.kind, e.parent_id, e.root_id, e.region_code, \
     e.address, e.workers, e.party_members, e.probationary_members, e.established_on, e.closed_on, e.version, \
     e.created_at, e.updated_at";

/// `SELECT` of one row holding the JSON array of `items` (a JSON array expression per row) over `rest`:
/// a chunk's look-up comes back as one value instead of thousands of rows of many columns, each of which
/// the SQLite driver would hand over from its worker thread and convert on its own (measured: most of a
/// re-import's time). PostgreSQL builds JSON slower than it sends rows, so there rows it is.
fn json_rows(db: DbKind, items: &str, rest: &str) -> String {
    match db {
        DbKind::Sqlite => format!("SELECT json_group_array(json_array({items})) AS j {rest}"),
        DbKind::Postgres => {
            format!("SELECT CAST(COALESCE(json_agg(json_build_array({items})), '[]') AS TEXT) AS j {rest}")
        }
    }
}

/// Decodes the JSON array [`json_rows`] returned.
fn decode_json_rows<T: serde::de::DeserializeOwned>(row: &AnyRow) -> StoreResult<Vec<T>> {
    let text: String = row.try_get("j")?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)).into())
}

/// A unit as an import reads it ([`IMPORT_COLUMNS`], in order).
#[derive(serde::Deserialize)]
struct StoredUnit(
    i64,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
    i64,
    String,
    String,
);

impl StoredUnit {
    fn into_entity(self) -> StoreResult<Entity> {
        let StoredUnit(
            id,
            uscc,
            site_code,
            name,
            kind,
            parent_id,
            root_id,
            region_code,
            address,
            workers,
            pm,
            prob,
            est,
            closed,
            version,
            created_at,
            updated_at,
        ) = self;
        Ok(Entity {
            id,
            uscc,
            site_code,
            name,
            kind: EntityKind::parse(&kind).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            sectors: Vec::new(),
            parent_id,
            parent_name: None,
            root_id,
            region_code,
            region_name: String::new(),
            address,
            workers,
            party_members: pm,
            probationary_members: prob,
            established_on: parse_date_text(est),
            closed_on: parse_date_text(closed),
            version,
            created_at,
            updated_at,
        })
    }
}

fn entity_from_row(r: &AnyRow) -> StoreResult<Entity> {
    let kind: String = r.try_get("kind")?;
    Ok(Entity {
        id: r.try_get("id")?,
        uscc: r.try_get("uscc")?,
        site_code: r.try_get("site_code")?,
        name: r.try_get("name")?,
        kind: EntityKind::parse(&kind).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        sectors: Vec::new(),
        parent_id: r.try_get("parent_id")?,
        parent_name: r.try_get("parent_name")?,
        root_id: r.try_get("root_id")?,
        region_code: r.try_get("region_code")?,
        region_name: r.try_get("region_name")?,
        address: r.try_get("address")?,
        workers: r.try_get("workers")?,
        party_members: r.try_get("party_members")?,
        probationary_members: r.try_get("probationary_members")?,
        established_on: parse_date_text(r.try_get("established_on")?),
        closed_on: parse_date_text(r.try_get("closed_on")?),
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Filters for listing units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityFilter {
    /// Region subtree (the region and everything below it).
    pub region: Option<String>,
    pub sector: Option<String>,
    pub kind: Option<EntityKind>,
    /// Chain root: the platform's id; lists the platform and everything below it.
    pub root: Option<i64>,
    /// Name, address, USCC or site code contains (codes compared upper-cased).
    pub q: Option<SearchTerm>,
    /// `Some(true)`: only closed; `Some(false)`: only operating; `None`: both.
    pub closed: Option<bool>,
}

/// A unit's place in its chain: above it, how many of each tier below it, and one page of those below.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Chain {
    /// From the platform down to the unit's parent.
    pub ancestors: Vec<Entity>,
    pub entity: Entity,
    /// One page of the units below that match the filter, by tier (franchisees, partners, sites) then id.
    pub descendants: Vec<ChainMember>,
    /// How many units below match the filter.
    pub descendants_total: i64,
    /// How many units of each tier lie below (whatever the filter), tiers with none left out.
    pub by_tier: Vec<TierCount>,
    pub page: i64,
    pub per_page: i64,
}

/// A unit's chain as its page shows it: above it, and each tier below it with its first units.
#[derive(Debug, Clone, Serialize)]
pub struct ChainOverview {
    pub ancestors: Vec<Entity>,
    pub entity: Entity,
    pub tiers: Vec<TierPage>,
}

/// A tier below a unit: how many, and the first few.
#[derive(Debug, Clone, Serialize)]
pub struct TierPage {
    pub tier: EntityKind,
    pub count: i64,
    pub items: Vec<Entity>,
}

/// How many units of a tier.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TierCount {
    #[schema(value_type = String)]
    pub tier: EntityKind,
    pub count: i64,
}

/// Which units below a unit to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainFilter {
    pub tier: Option<EntityKind>,
    /// Name, code or address contains.
    pub q: Option<SearchTerm>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainMember {
    /// 1 for children, 2 for grandchildren, counted from the unit whose chain was asked for.
    pub depth: i64,
    #[serde(flatten)]
    pub entity: Entity,
}

/// What the resolver knows of a unit, enough to check a reference to it.
#[derive(Debug, Clone)]
struct UnitKey {
    id: i64,
    kind: EntityKind,
    parent_id: Option<i64>,
    root_id: Option<i64>,
}

/// Resolves references and checks registry rules inside one write transaction; caches what it read
/// so an import of many rows reads each region, parent and sector once.
pub(crate) struct Resolver {
    regions: HashSet<String>,
    /// Codes found missing (an import looks each up once).
    absent: HashSet<String>,
    /// The region codes as the write transaction began (imports): a code in it needs no query.
    tree: Option<std::sync::Arc<crate::region_tree::RegionTree>>,
    by_code: HashMap<String, UnitKey>,
    by_id: HashMap<i64, UnitKey>,
    sectors: Vec<Sector>,
    /// The records this write may refer to: those its writer may read.
    references: AccessFilter,
    /// Whether a record may be referred to, as found so far (records this write created may).
    referable: HashMap<(Rows, i64), bool>,
    /// What the record being written refers to already ([`Resolver::keep`]).
    kept: HashSet<(Rows, i64)>,
}

impl Resolver {
    /// A resolver for one write (or one import) under `access`, whose references must lie inside
    /// `access.references()`.
    pub(crate) async fn new(store: &Store, access: &AccessFilter) -> StoreResult<Self> {
        Ok(Self {
            regions: HashSet::new(),
            absent: HashSet::new(),
            tree: None,
            by_code: HashMap::new(),
            by_id: HashMap::new(),
            sectors: store.list_sectors().await?,
            references: access.references(),
            referable: HashMap::new(),
            kept: HashSet::new(),
        })
    }

    /// Sets the records the record about to be written refers to already (read with `sql`, which
    /// selects `id` given the record's id as `$1`): keeping a reference is no new pointing, so these
    /// need not be readable. Each resolve of a record sets them first (none for a new record).
    pub(crate) async fn keep(&mut self, tx: &mut WriteTx, rows: Rows, sql: &str, id: Option<i64>) -> StoreResult<()> {
        self.kept.clear();
        let Some(id) = id else { return Ok(()) };
        if self.references.is_unrestricted() {
            return Ok(());
        }
        for row in sqlx::query(sql).bind(id).fetch_all(&mut *tx.tx).await? {
            if let Some(k) = row.try_get::<Option<i64>, _>("id")? {
                self.kept.insert((rows, k));
            }
        }
        Ok(())
    }

    /// Whether this write may refer to the record `id` of `rows`: the writer may read it (checked
    /// inside the write transaction, before the write changes anything), this write created it, or
    /// the record written refers to it already.
    pub(crate) async fn may_refer(&mut self, tx: &mut WriteTx, rows: Rows, id: i64) -> StoreResult<bool> {
        if self.references.is_unrestricted() || self.kept.contains(&(rows, id)) {
            return Ok(true);
        }
        if let Some(ok) = self.referable.get(&(rows, id)) {
            return Ok(*ok);
        }
        let ok = self.references.admits_in(tx, rows, id).await?;
        self.referable.insert((rows, id), ok);
        Ok(ok)
    }

    /// Checks in one query (per 500) whether this write may refer to each of `ids`, for imports.
    pub(crate) async fn may_refer_all(&mut self, tx: &mut WriteTx, rows: Rows, ids: &[i64]) -> StoreResult<()> {
        if self.references.is_unrestricted() {
            return Ok(());
        }
        let mut ask: Vec<i64> = ids.iter().copied().filter(|id| !self.referable.contains_key(&(rows, *id))).collect();
        ask.sort_unstable();
        ask.dedup();
        if ask.is_empty() {
            return Ok(());
        }
        let inside = self.references.admitted_in(tx, rows, &ask).await?;
        for id in ask {
            self.referable.insert((rows, id), inside.contains(&id));
        }
        Ok(())
    }

    /// Remembers that this write created the record `id`, which its later rows may refer to (the
    /// record itself must end inside the writer's scopes, which the write checks).
    pub(crate) fn created(&mut self, rows: Rows, id: i64) {
        self.referable.insert((rows, id), true);
    }

    /// Checks region codes against the region tree the transaction began with (imports touch many; the
    /// tree is the store's cached copy of every region, so this reads nothing), asking the database only
    /// about codes not in it — once each. The foreign key on the region column stays the last word.
    pub(crate) async fn load_all_regions(&mut self, tx: &mut WriteTx) -> StoreResult<()> {
        self.tree = Some(tx.regions.clone());
        Ok(())
    }

    pub(crate) async fn check_region(&mut self, tx: &mut WriteTx, code: &str, field: &str) -> StoreResult<()> {
        if self.regions.contains(code) || self.tree.as_ref().is_some_and(|t| t.path_of(code).is_some()) {
            return Ok(());
        }
        if !self.absent.contains(code) {
            let found = sqlx::query("SELECT code FROM regions WHERE code = $1")
                .bind(code.to_owned())
                .fetch_optional(&mut *tx.tx)
                .await?
                .is_some();
            if found {
                self.regions.insert(code.to_owned());
                return Ok(());
            }
            self.absent.insert(code.to_owned());
        }
        Err(unknown_region(code, field).into())
    }

    fn remember(&mut self, code: Option<&str>, key: UnitKey) {
        if let Some(c) = code {
            self.by_code.insert(c.to_owned(), key.clone());
        }
        self.by_id.insert(key.id, key);
    }

    async fn fetch_key(&mut self, tx: &mut WriteTx, unit: &UnitRef) -> StoreResult<Option<UnitKey>> {
        let cached = match unit {
            UnitRef::Id(id) => self.by_id.get(id),
            UnitRef::Uscc(u) => self.by_code.get(u.as_str()),
            UnitRef::SiteCode(c) => self.by_code.get(c.as_str()),
        };
        if let Some(k) = cached {
            return Ok(Some(k.clone()));
        }
        let sql = "SELECT id, kind, parent_id, root_id, uscc, site_code FROM entities WHERE ";
        let row = match unit {
            UnitRef::Id(id) => sqlx::query(&format!("{sql} id = $1")).bind(*id).fetch_optional(&mut *tx.tx).await?,
            UnitRef::Uscc(u) => {
                sqlx::query(&format!("{sql} uscc = $1")).bind(u.as_str().to_owned()).fetch_optional(&mut *tx.tx).await?
            }
            UnitRef::SiteCode(c) => {
                sqlx::query(&format!("{sql} site_code = $1"))
                    .bind(c.as_str().to_owned())
                    .fetch_optional(&mut *tx.tx)
                    .await?
            }
        };
        let Some(row) = row else { return Ok(None) };
        self.remember_row(&row).map(Some)
    }

    /// Remembers a unit read as `id, kind, parent_id, root_id, uscc, site_code`, under both its codes.
    fn remember_row(&mut self, row: &AnyRow) -> StoreResult<UnitKey> {
        let kind: String = row.try_get("kind")?;
        let key = UnitKey {
            id: row.try_get("id")?,
            kind: EntityKind::parse(&kind)?,
            parent_id: row.try_get("parent_id")?,
            root_id: row.try_get("root_id")?,
        };
        let uscc: Option<String> = row.try_get("uscc")?;
        let site: Option<String> = row.try_get("site_code")?;
        if let (Some(_), Some(site)) = (&uscc, &site) {
            self.by_code.insert(site.clone(), key.clone());
        }
        self.remember(uscc.as_deref().or(site.as_deref()), key.clone());
        Ok(key)
    }

    /// Resolves a reference to an existing unit the writer may read, or a field error naming `field`
    /// (the same whether the unit does not exist or may not be read).
    pub(crate) async fn resolve_unit(&mut self, tx: &mut WriteTx, unit: &UnitRef, field: &str) -> StoreResult<i64> {
        let unknown = || FieldError::new(field, "unknown_unit", Message::new("problem.unknown_unit").arg("unit", unit));
        match self.fetch_key(tx, unit).await? {
            Some(k) if self.may_refer(tx, Rows::Entities, k.id).await? => Ok(k.id),
            Some(_) => Err(unknown().refused().into()),
            None => Err(unknown().into()),
        }
    }

    /// Ancestor ids of a unit, nearest first.
    pub(crate) async fn ancestors(&mut self, tx: &mut WriteTx, id: i64) -> StoreResult<Vec<i64>> {
        let mut out = Vec::new();
        let mut cur = self.fetch_key(tx, &UnitRef::Id(id)).await?.and_then(|k| k.parent_id);
        while let Some(p) = cur {
            if out.contains(&p) || out.len() > 16 {
                break;
            }
            out.push(p);
            cur = self.fetch_key(tx, &UnitRef::Id(p)).await?.and_then(|k| k.parent_id);
        }
        Ok(out)
    }
}

/// The checked values of one write, ready for SQL.
struct Resolved {
    parent_id: Option<i64>,
    root_id: Option<i64>,
    sectors: Vec<String>,
}

/// Checks everything about a draft that needs the database, reporting every problem found.
async fn resolve(
    r: &mut Resolver,
    tx: &mut WriteTx,
    draft: &EntityDraft,
    self_id: Option<i64>,
) -> StoreResult<Resolved> {
    let mut errs = FieldErrors::default();
    let resolved = check_references(r, tx, &EntityReferences::of(draft), self_id, &mut errs).await?;
    errs.into_result()?;
    Ok(resolved)
}

/// Checks a unit's references that parsed — the region exists, the sectors are known, the parent
/// exists, may be referred to, fits the kind and closes no cycle — adding each problem to `errs`. The
/// one check of drafts and of inputs that did not parse, so both report the same problems.
async fn check_references(
    r: &mut Resolver,
    tx: &mut WriteTx,
    refs: &EntityReferences,
    self_id: Option<i64>,
    errs: &mut FieldErrors,
) -> StoreResult<Resolved> {
    r.keep(tx, Rows::Entities, "SELECT parent_id AS id FROM entities WHERE id = $1", self_id).await?;
    if let Some(region) = &refs.region_code {
        match r.check_region(tx, region.as_str(), "region_code").await {
            Ok(()) => {}
            Err(StoreError::Invalid(e)) => errs.0.extend(e.0),
            Err(e) => return Err(e),
        }
    }
    let sectors = if refs.sectors.is_empty() {
        Vec::new()
    } else {
        match resolve_sector_names(&r.sectors, &refs.sectors, "sectors") {
            Ok(s) => s,
            Err(e) => {
                errs.0.extend(e.0);
                Vec::new()
            }
        }
    };
    let parent_field = if matches!(refs.parent, Some(UnitRef::Id(_))) { "parent_id" } else { "parent_uscc" };
    let mut parent_id = None;
    let mut root_id = None;
    if let Some(parent) = &refs.parent {
        let unknown = || {
            FieldError::new(
                parent_field,
                "unknown_parent",
                Message::new("problem.unknown_parent").arg("parent", parent),
            )
        };
        let found = match r.fetch_key(tx, parent).await? {
            Some(p) if r.may_refer(tx, Rows::Entities, p.id).await? => Some(p),
            Some(_) => {
                errs.push(unknown().refused());
                None
            }
            None => {
                errs.push(unknown());
                None
            }
        };
        if let Some(p) = found {
            match refs.kind.map(|k| check_parent_kind(k, Some(p.kind))) {
                Some(Err(e)) => errs.push(e.on_field(parent_field)),
                Some(Ok(())) | None => {
                    if let Some(id) = self_id {
                        let anc = r.ancestors(tx, p.id).await?;
                        if let Err(e) = check_no_cycle(id, p.id, &anc) {
                            errs.push(e.on_field(parent_field));
                        }
                    }
                }
            }
            parent_id = Some(p.id);
            root_id = if p.kind == EntityKind::Platform { Some(p.id) } else { p.root_id };
        }
    }
    if refs.kind == Some(EntityKind::Platform) {
        root_id = self_id;
    }
    Ok(Resolved { parent_id, root_id, sectors })
}

/// A code registered already by another unit.
fn duplicate(field: &str, code: &str) -> FieldError {
    FieldError::new(field, "duplicate", Message::new("problem.duplicate.code_registered_already").arg("code", code))
}

fn duplicate_code(e: sqlx::Error, draft: &EntityDraft) -> StoreError {
    if is_unique_violation(&e) {
        let (field, code) = if e.to_string().contains("site_code") {
            ("site_code", draft.site_code.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default())
        } else {
            ("uscc", draft.uscc.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default())
        };
        duplicate(field, &code).into()
    } else {
        e.into()
    }
}

async fn write_sectors(tx: &mut WriteTx, id: i64, sectors: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM entity_sectors WHERE entity_id = $1").bind(id).execute(&mut *tx.tx).await?;
    for s in sectors {
        sqlx::query("INSERT INTO entity_sectors (entity_id, sector_code) VALUES ($1, $2)")
            .bind(id)
            .bind(s.clone())
            .execute(&mut *tx.tx)
            .await?;
    }
    Ok(())
}

async fn insert(r: &mut Resolver, tx: &mut WriteTx, draft: &EntityDraft) -> StoreResult<i64> {
    let res = resolve(r, tx, draft, None).await?;
    let now = now_text();
    let row = sqlx::query(
        "INSERT INTO entities (uscc, site_code, name, kind, parent_id, root_id, region_code, address, workers, \
         party_members, probationary_members, established_on, closed_on, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(draft.uscc.as_ref().map(|u| u.as_str().to_owned()))
    .bind(draft.site_code.as_ref().map(|c| c.as_str().to_owned()))
    .bind(draft.name.clone())
    .bind(draft.kind.as_str())
    .bind(res.parent_id)
    .bind(res.root_id)
    .bind(draft.region_code.as_str().to_owned())
    .bind(draft.address.clone())
    .bind(draft.workers)
    .bind(draft.party_members)
    .bind(draft.probationary_members)
    .bind(date_text(draft.established_on))
    .bind(date_text(draft.closed_on))
    .bind(now.clone())
    .bind(now)
    .fetch_one(&mut *tx.tx)
    .await
    .map_err(|e| duplicate_code(e, draft))?;
    let id: i64 = row.try_get("id")?;
    let root_id = if draft.kind == EntityKind::Platform {
        sqlx::query("UPDATE entities SET root_id = $1 WHERE id = $2").bind(id).bind(id).execute(&mut *tx.tx).await?;
        Some(id)
    } else {
        res.root_id
    };
    write_sectors(tx, id, &res.sectors).await?;
    let code = draft.uscc.as_ref().map(|u| u.as_str()).or(draft.site_code.as_ref().map(|c| c.as_str()));
    r.remember(code, UnitKey { id, kind: draft.kind, parent_id: res.parent_id, root_id });
    r.created(Rows::Entities, id);
    Ok(id)
}

/// Updates a unit; `version` is the one the client read (`None` in imports, which upsert).
async fn update(
    r: &mut Resolver,
    tx: &mut WriteTx,
    id: i64,
    draft: &EntityDraft,
    version: Option<i64>,
) -> StoreResult<()> {
    let res = resolve(r, tx, draft, Some(id)).await?;
    // A unit with units below it must stay a kind they may hang under.
    let children =
        sqlx::query("SELECT DISTINCT kind FROM entities WHERE parent_id = $1").bind(id).fetch_all(&mut *tx.tx).await?;
    for c in children {
        let kind = EntityKind::parse(&c.try_get::<String, _>("kind")?)?;
        if check_parent_kind(kind, Some(draft.kind)).is_err() {
            return Err(FieldError::new(
                "kind",
                "kind_conflicts_with_children",
                Message::new("problem.kind_conflicts_with_children.units")
                    .arg("kind", kind.as_str())
                    .arg_msg("kind_name", Message::dynamic(format!("entity_kind.{}", kind.as_str()))),
            )
            .into());
        }
    }
    let old_root: Option<i64> = sqlx::query("SELECT root_id FROM entities WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .map(|row| row.try_get("root_id"))
        .transpose()?
        .flatten();
    let mut sql = String::from(
        "UPDATE entities SET uscc = $1, site_code = $2, name = $3, kind = $4, parent_id = $5, root_id = $6, \
         region_code = $7, address = $8, workers = $9, party_members = $10, probationary_members = $11, \
         established_on = $12, closed_on = $13, updated_at = $14, version = version + 1 WHERE id = $15",
    );
    if version.is_some() {
        sql.push_str(" AND version = $16");
    }
    let mut q = sqlx::query(&sql)
        .bind(draft.uscc.as_ref().map(|u| u.as_str().to_owned()))
        .bind(draft.site_code.as_ref().map(|c| c.as_str().to_owned()))
        .bind(draft.name.clone())
        .bind(draft.kind.as_str())
        .bind(res.parent_id)
        .bind(res.root_id)
        .bind(draft.region_code.as_str().to_owned())
        .bind(draft.address.clone())
        .bind(draft.workers)
        .bind(draft.party_members)
        .bind(draft.probationary_members)
        .bind(date_text(draft.established_on))
        .bind(date_text(draft.closed_on))
        .bind(now_text())
        .bind(id);
    if let Some(v) = version {
        q = q.bind(v);
    }
    let n = q.execute(&mut *tx.tx).await.map_err(|e| duplicate_code(e, draft))?.rows_affected();
    if n == 0 {
        let current: Option<i64> = sqlx::query("SELECT version FROM entities WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .map(|row| row.try_get("version"))
            .transpose()?;
        return Err(match current {
            None => StoreError::NotFound,
            Some(current) => StoreError::StaleVersion { current },
        });
    }
    if old_root != res.root_id {
        // Moving a unit to another chain moves everything below it.
        sqlx::query(
            "WITH RECURSIVE d(id) AS (SELECT id FROM entities WHERE parent_id = $1 \
             UNION ALL SELECT e.id FROM entities e JOIN d ON e.parent_id = d.id) \
             UPDATE entities SET root_id = $2 WHERE id IN (SELECT id FROM d)",
        )
        .bind(id)
        .bind(res.root_id)
        .execute(&mut *tx.tx)
        .await?;
        r.by_id.clear();
        r.by_code.clear();
        r.referable.retain(|_, created| *created);
    }
    write_sectors(tx, id, &res.sectors).await?;
    let code = draft.uscc.as_ref().map(|u| u.as_str()).or(draft.site_code.as_ref().map(|c| c.as_str()));
    r.remember(code, UnitKey { id, kind: draft.kind, parent_id: res.parent_id, root_id: res.root_id });
    Ok(())
}

/// Whether a stored unit already says exactly what the draft says (for idempotent imports).
fn same_as(e: &Entity, d: &EntityDraft, parent_id: Option<i64>, sectors: &[String]) -> bool {
    e.uscc.as_deref() == d.uscc.as_ref().map(|u| u.as_str())
        && e.site_code.as_deref() == d.site_code.as_ref().map(|c| c.as_str())
        && e.name == d.name
        && e.kind == d.kind
        && e.parent_id == parent_id
        && e.region_code == d.region_code.as_str()
        && e.address == d.address
        && e.workers == d.workers
        && e.party_members == d.party_members
        && e.probationary_members == d.probationary_members
        && e.established_on == d.established_on
        && e.closed_on == d.closed_on
        && e.sectors == sectors
}

impl Store {
    pub async fn entity(&self, id: i64) -> StoreResult<Entity> {
        let row = sqlx::query(&format!("{ENTITY_SELECT} WHERE e.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        let mut e = row.as_ref().map(entity_from_row).transpose()?.ok_or(StoreError::NotFound)?;
        self.fill_sectors(std::slice::from_mut(&mut e)).await?;
        Ok(e)
    }

    /// Looks a unit up by its USCC or site code.
    pub async fn entity_by_code(&self, code: &str) -> StoreResult<Entity> {
        let row = sqlx::query(&format!("{ENTITY_SELECT} WHERE e.uscc = $1 OR e.site_code = $2"))
            .bind(code.to_owned())
            .bind(code.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        let mut e = row.as_ref().map(entity_from_row).transpose()?.ok_or(StoreError::NotFound)?;
        self.fill_sectors(std::slice::from_mut(&mut e)).await?;
        Ok(e)
    }

    async fn fill_sectors(&self, items: &mut [Entity]) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut by_id: HashMap<i64, Vec<String>> = HashMap::new();
        for chunk in items.chunks(500) {
            let sql = format!(
                "SELECT entity_id, sector_code FROM entity_sectors WHERE entity_id IN ({}) ORDER BY sector_code",
                Store::placeholders(chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = q.bind(e.id);
            }
            for row in q.fetch_all(&self.pool).await? {
                by_id.entry(row.try_get("entity_id")?).or_default().push(row.try_get("sector_code")?);
            }
        }
        for e in items {
            e.sectors = by_id.remove(&e.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Units matching `f`, of those inside `access`, in id order.
    pub async fn list_entities(
        &self,
        f: &EntityFilter,
        paging: Paging,
        access: &AccessFilter,
    ) -> StoreResult<Page<Entity>> {
        self.list_entities_full(f, paging, access, SearchMethod::Index, None).await
    }

    /// As [`Store::list_entities`], with the number of matching units already known (the coverage
    /// index counts a region's registered units without a `COUNT(*)` over the subtree).
    pub async fn list_entities_counted(
        &self,
        f: &EntityFilter,
        paging: Paging,
        access: &AccessFilter,
        total: Option<i64>,
    ) -> StoreResult<Page<Entity>> {
        self.list_entities_full(f, paging, access, SearchMethod::Index, total).await
    }

    /// [`Store::list_entities`] with the text search done by `method` (the same rows either way).
    pub async fn list_entities_by(
        &self,
        f: &EntityFilter,
        paging: Paging,
        access: &AccessFilter,
        method: SearchMethod,
    ) -> StoreResult<Page<Entity>> {
        self.list_entities_full(f, paging, access, method, None).await
    }

    async fn list_entities_full(
        &self,
        f: &EntityFilter,
        paging: Paging,
        access: &AccessFilter,
        method: SearchMethod,
        total: Option<i64>,
    ) -> StoreResult<Page<Entity>> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        access.restrict(&tree, &mut w, Rows::Entities);
        if let Some(region) = &f.region {
            let path = tree.path_of(region).ok_or_else(|| crate::regions::unknown_region(region, "region"))?;
            let c = crate::region_tree::subtree_cond(&tree, &mut w, "e.region_code", path);
            w.cond(c);
        }
        if let Some(s) = &f.sector {
            let n = w.text(s.clone());
            w.cond(format!(
                "EXISTS (SELECT 1 FROM entity_sectors s WHERE s.entity_id = e.id AND s.sector_code = ${n})"
            ));
        }
        // Under a region condition the region's index is the way in (a county holds a few hundred
        // units; there are 850,000 sites): the kind is then compared as an expression, which no index
        // serves, so that SQLite's planner does not walk the kind's index instead.
        let by_region = f.region.is_some() || access.limits_by_region();
        if let Some(k) = f.kind {
            let n = w.text(k.as_str());
            w.cond(if by_region { format!("e.kind || '' = ${n}") } else { format!("e.kind = ${n}") });
        }
        if let Some(root) = f.root {
            let n = w.int(root);
            w.cond(format!("e.root_id = ${n}"));
        }
        match f.closed {
            Some(true) => w.cond("e.closed_on IS NOT NULL"),
            Some(false) => w.cond("e.closed_on IS NULL"),
            None => {}
        }
        // Under a region condition the list goes in region order: the `region_code` index then gives
        // the rows in order, and a page stops after its rows instead of sorting the whole subtree.
        // Inside one platform's chain (a chain scope or filter) the chain's own index is the narrower
        // way in: joined to the n-gram index, SQLite walked every match in the country (52 s for 快递
        // at the national profile); the chain's units checked one by one take a fraction of a second.
        let in_one_chain = f.root.is_some() || access.limits_by_chain();
        let method = if in_one_chain { SearchMethod::Scan } else { method };
        let (join, order) = match &f.q {
            Some(q) => {
                let s = self.entity_text_search(&mut w, q, method).await?;
                (s.join, s.order)
            }
            None if by_region => ("", "e.region_code, e.id"),
            None => ("", "e.id"),
        };
        let mut page = self
            .fetch_page_counted(
                &format!("{ENTITY_SELECT}{join}"),
                &format!("entities e{join}"),
                &w,
                order,
                paging,
                total,
                entity_from_row,
            )
            .await?;
        self.fill_sectors(&mut page.items).await?;
        Ok(page)
    }

    /// The unit with its ancestors and its first `limit` descendants (by tier, then id) — of those, only
    /// the ones inside `access` (the unit itself is the caller's to check).
    pub async fn entity_chain(&self, id: i64, limit: i64, access: &AccessFilter) -> StoreResult<Chain> {
        self.entity_chain_page(id, &ChainFilter::default(), Paging::new(Some(1), Some(limit)), access, None).await
    }

    /// The unit with its ancestors, how many units of each tier lie below it, and one page of those
    /// below that match `f` (by tier, then id) — of those, only the ones inside `access`. A platform's
    /// descendants are read through the chain's own index (`root_id`), not by walking the tree, so a
    /// page costs the same in a chain of a hundred units or of a hundred thousand. `counts`, when the
    /// caller has them (the coverage index counts a platform's chain in memory), are the units of each
    /// tier below inside `access`; otherwise they are counted here.
    pub async fn entity_chain_page(
        &self,
        id: i64,
        f: &ChainFilter,
        paging: Paging,
        access: &AccessFilter,
        counts: Option<Vec<TierCount>>,
    ) -> StoreResult<Chain> {
        let entity = self.entity(id).await?;
        let ancestors = self.chain_above(&entity, access).await?;
        let mut w = self.chain_below(&entity, access).await?;
        let by_tier = match counts {
            Some(c) => c,
            None => self.chain_counts(&w).await?,
        };
        let all_below: i64 = by_tier.iter().map(|t| t.count).sum();
        if entity.kind == EntityKind::Platform {
            // A platform's chain is paged tier by tier on its own index; a search within it checks
            // the chain's units (as a chain scope's lists do) and counts the matches by tier first.
            let mut whole = w.clone();
            let matches = match &f.q {
                None => by_tier.clone(),
                Some(term) => {
                    self.entity_text_search(&mut whole, term, SearchMethod::Scan).await?;
                    self.chain_counts(&whole).await?
                }
            };
            let page = self.chain_page_by_tier(&whole, &matches, f.tier, paging).await?;
            return self.chain_of(entity, ancestors, page, by_tier, id).await;
        }
        if let Some(k) = f.tier {
            let n = w.text(k.as_str());
            w.cond(format!("e.kind = ${n}"));
        }
        let search = match &f.q {
            Some(term) => Some(self.entity_text_search(&mut w, term, SearchMethod::Index).await?),
            None => None,
        };
        let join = search.as_ref().map_or("", |s| s.join);
        let q = f.q.as_ref();
        // Without a text search the total is already counted.
        let known = match (q, f.tier) {
            (Some(_), _) => None,
            (None, Some(k)) => Some(by_tier.iter().find(|t| t.tier == k).map_or(0, |t| t.count)),
            (None, None) => Some(all_below),
        };
        let page = self
            .fetch_page_counted(
                &format!("{ENTITY_SELECT}{join}"),
                &format!("entities e{join}"),
                &w,
                "e.kind, e.id",
                paging,
                known,
                entity_from_row,
            )
            .await?;
        self.chain_of(entity, ancestors, page, by_tier, id).await
    }

    /// The chain answer around one page of the units below `id`.
    async fn chain_of(
        &self,
        entity: Entity,
        ancestors: Vec<Entity>,
        page: Page<Entity>,
        by_tier: Vec<TierCount>,
        id: i64,
    ) -> StoreResult<Chain> {
        let mut entities = page.items;
        self.fill_sectors(&mut entities).await?;
        let depths = self.depths_below(id, &entities).await?;
        let descendants = entities
            .into_iter()
            .map(|entity| ChainMember { depth: depths.get(&entity.id).copied().unwrap_or(1), entity })
            .collect();
        Ok(Chain {
            ancestors,
            entity,
            descendants,
            descendants_total: page.total,
            by_tier,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// One page of a platform's chain in tier order, then id, without sorting the chain: the tiers'
    /// counts tell which tiers the page falls in, and each is read in id order through the chain's
    /// index (`root_id, id`) from its own offset. Sorting the largest chain's 100,034 units by tier to
    /// show fifty took a quarter of a second.
    async fn chain_page_by_tier(
        &self,
        below: &Where,
        by_tier: &[TierCount],
        only: Option<EntityKind>,
        paging: Paging,
    ) -> StoreResult<Page<Entity>> {
        let mut skip = paging.offset();
        let mut want = paging.per_page;
        let mut items = Vec::new();
        let mut total = 0;
        for t in by_tier.iter().filter(|t| only.is_none_or(|k| k == t.tier)) {
            total += t.count;
            if want <= 0 {
                continue;
            }
            if skip >= t.count {
                skip -= t.count;
                continue;
            }
            let mut w = below.clone();
            let n = w.text(t.tier.as_str());
            // As an expression: the chain's index, not the kind's, is the way in.
            w.cond(format!("e.kind || '' = ${n}"));
            let sql = format!("{ENTITY_SELECT}{} ORDER BY e.id LIMIT {want} OFFSET {skip}", w.sql());
            let rows = w.apply(sqlx::query(&sql)).fetch_all(&self.pool).await?;
            let got = rows.iter().map(entity_from_row).collect::<StoreResult<Vec<_>>>()?;
            want -= got.len() as i64;
            items.extend(got);
            skip = 0;
        }
        Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
    }

    /// The units above `entity` inside `access`, from the platform down.
    async fn chain_above(&self, entity: &Entity, access: &AccessFilter) -> StoreResult<Vec<Entity>> {
        let mut ancestors = Vec::new();
        let mut cur = entity.parent_id;
        let mut steps = 0;
        while let Some(p) = cur {
            steps += 1;
            if steps > 16 {
                break;
            }
            let e = self.entity(p).await?;
            cur = e.parent_id;
            if self.entity_visible(e.id, access).await? {
                ancestors.push(e);
            }
        }
        ancestors.reverse();
        Ok(ancestors)
    }

    /// The condition "below `entity`, inside `access`": a platform's chain by its `root_id` index, any
    /// other unit's subtree by walking down from it.
    async fn chain_below(&self, entity: &Entity, access: &AccessFilter) -> StoreResult<Where> {
        let tree = self.region_tree().await?;
        let mut w = Where::default();
        access.restrict(&tree, &mut w, Rows::Entities);
        if entity.kind == EntityKind::Platform {
            let n = w.int(entity.id);
            w.cond(format!("e.root_id = ${n}"));
            let n = w.int(entity.id);
            w.cond(format!("e.id <> ${n}"));
        } else {
            let n = w.int(entity.id);
            w.cond(format!(
                "e.id IN (WITH RECURSIVE d(id, depth) AS (SELECT id, 1 FROM entities WHERE parent_id = ${n} \
                 UNION ALL SELECT c.id, d.depth + 1 FROM entities c JOIN d ON c.parent_id = d.id AND d.depth < 16) \
                 SELECT id FROM d)"
            ));
        }
        Ok(w)
    }

    /// How many units of each tier match `w`, in tier order.
    async fn chain_counts(&self, w: &Where) -> StoreResult<Vec<TierCount>> {
        let sql = format!("SELECT e.kind AS kind, COUNT(*) AS n FROM entities e{} GROUP BY e.kind", w.sql());
        let mut by_tier: Vec<TierCount> = Vec::new();
        for r in w.apply(sqlx::query(&sql)).fetch_all(&self.pool).await? {
            let kind: String = r.try_get("kind")?;
            if let Ok(tier) = EntityKind::parse(&kind) {
                by_tier.push(TierCount { tier, count: r.try_get("n")? });
            }
        }
        by_tier.sort_by_key(|t| EntityKind::ALL.iter().position(|k| *k == t.tier));
        Ok(by_tier)
    }

    /// The unit with its ancestors and, for each tier below it, how many units and the first
    /// `per_tier` of them (by id) — inside `access`. What a unit's page shows of its chain.
    pub async fn entity_chain_overview(
        &self,
        id: i64,
        per_tier: i64,
        access: &AccessFilter,
        counts: Option<Vec<TierCount>>,
    ) -> StoreResult<ChainOverview> {
        let entity = self.entity(id).await?;
        let ancestors = self.chain_above(&entity, access).await?;
        let below = self.chain_below(&entity, access).await?;
        let counts = match counts {
            Some(c) => c,
            None => self.chain_counts(&below).await?,
        };
        let mut tiers = Vec::with_capacity(counts.len());
        for c in counts {
            let mut w = below.clone();
            let n = w.text(c.tier.as_str());
            w.cond(format!("e.kind = ${n}"));
            let paging = Paging::new(Some(1), Some(per_tier));
            let page = self
                .fetch_page_counted(ENTITY_SELECT, "entities e", &w, "e.id", paging, Some(c.count), entity_from_row)
                .await?;
            let mut items = page.items;
            self.fill_sectors(&mut items).await?;
            tiers.push(TierPage { tier: c.tier, count: c.count, items });
        }
        Ok(ChainOverview { ancestors, entity, tiers })
    }

    /// How many levels below `top` each of `units` sits, by walking their parents a level at a time
    /// (one query a level for the whole page).
    async fn depths_below(&self, top: i64, units: &[Entity]) -> StoreResult<HashMap<i64, i64>> {
        let mut depth: HashMap<i64, i64> = HashMap::new();
        // (unit, the ancestor reached so far)
        let mut open: Vec<(i64, Option<i64>)> = units.iter().map(|e| (e.id, e.parent_id)).collect();
        for level in 1..=16 {
            let mut next_ids: Vec<i64> = Vec::new();
            open.retain(|(unit, at)| match at {
                Some(a) if *a == top => {
                    depth.insert(*unit, level);
                    false
                }
                Some(a) => {
                    next_ids.push(*a);
                    true
                }
                None => false,
            });
            if open.is_empty() {
                break;
            }
            next_ids.sort_unstable();
            next_ids.dedup();
            let mut parent_of: HashMap<i64, Option<i64>> = HashMap::new();
            for chunk in next_ids.chunks(500) {
                let sql =
                    format!("SELECT id, parent_id FROM entities WHERE id IN ({})", Store::placeholders(chunk.len()));
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                for r in q.fetch_all(&self.pool).await? {
                    parent_of.insert(r.try_get("id")?, r.try_get("parent_id")?);
                }
            }
            for (_, at) in open.iter_mut() {
                *at = at.and_then(|a| parent_of.get(&a).copied().flatten());
            }
        }
        Ok(depth)
    }

    /// Registers a unit, which must then lie inside `access` (else nothing is written: `OutOfScope`).
    pub async fn create_entity(&self, draft: &EntityDraft, access: &AccessFilter) -> StoreResult<Entity> {
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        let id = insert(&mut r, &mut tx, draft).await?;
        if !access.admits_in(&mut tx, Rows::Entities, id).await? {
            return Err(StoreError::OutOfScope);
        }
        tx.commit().await?;
        self.entity(id).await
    }

    /// Parses a unit's input (for the unit `self_id` when it is an update) and, when it does not parse,
    /// adds what only the registry can see about the fields that did — an unknown region, sector or
    /// parent, a parent the writer may not refer to, a code registered already — so that a form
    /// reports every problem at once (`StoreError::Invalid`). Reads only.
    pub async fn parse_entity_input(
        &self,
        input: &EntityInput,
        self_id: Option<i64>,
        access: &AccessFilter,
    ) -> StoreResult<EntityDraft> {
        self.parse_input::<UnitInputs>(input, self_id, access).await
    }

    /// Updates a unit inside `access` if it is still at `version` (optimistic concurrency); the
    /// updated unit, and everything its move carries along, must still lie inside `access`.
    pub async fn update_entity(
        &self,
        id: i64,
        draft: &EntityDraft,
        version: i64,
        access: &AccessFilter,
    ) -> StoreResult<Entity> {
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        if !access.admits_in(&mut tx, Rows::Entities, id).await? {
            return Err(StoreError::NotFound);
        }
        update(&mut r, &mut tx, id, draft, Some(version)).await?;
        if !access.admits_in(&mut tx, Rows::Entities, id).await? {
            return Err(StoreError::OutOfScope);
        }
        tx.commit().await?;
        self.entity(id).await
    }

    /// Closes a unit (注销) inside `access` on a date; it stays in the registry for history and
    /// past-date figures.
    pub async fn close_entity(
        &self,
        id: i64,
        on: NaiveDate,
        version: i64,
        access: &AccessFilter,
    ) -> StoreResult<Entity> {
        if !self.entity_visible(id, access).await? {
            return Err(StoreError::NotFound);
        }
        let current = self.entity(id).await?;
        if current.established_on.is_some_and(|e| on < e) {
            return Err(
                FieldError::new("closed_on", "date_before_start", Message::new("problem.date_before_start")).into()
            );
        }
        let tx = self.write_tx().await?;
        let mut tx = tx;
        let n = sqlx::query(
            "UPDATE entities SET closed_on = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4",
        )
        .bind(date_text(Some(on)))
        .bind(now_text())
        .bind(id)
        .bind(version)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::StaleVersion { current: current.version });
        }
        tx.commit().await?;
        self.entity(id).await
    }

    /// Imports units whole or not at all: upserts by USCC or site code, reports every row's errors
    /// (row numbers as given; the first [`dangjian_domain::MAX_REPORTED_ERRORS`], and the count of all),
    /// and changes nothing when any row fails or `dry_run` is set.
    /// Parents may come later in the file than their units: rows are applied platforms first.
    /// Every row must be inside `access`, before and after: a row that is not is an error that does
    /// not say whether the unit exists. New units go in with one multi-row statement per chunk.
    pub async fn import_entities(
        &self,
        rows: &[(usize, EntityDraft)],
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        self.import_entity_batch(ImportBatch::parsed(rows), dry_run, access).await
    }

    /// [`Self::import_entities`], also checking what the rows that did not parse name, so that a file's
    /// every problem is reported at once.
    pub async fn import_entity_batch(
        &self,
        batch: ImportBatch<'_, EntityDraft, EntityReferences>,
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        let r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        let mut kind = EntityImport::new(self.kind(), r, &mut tx).await?;
        self.run_import(&mut kind, tx, batch, dry_run, access).await
    }

    /// Every unit inside `access`, in a stable order (chain tier, then code) for export.
    pub async fn export_entities(&self, access: &AccessFilter) -> StoreResult<Vec<Entity>> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        access.restrict(&tree, &mut w, Rows::Entities);
        let rows = w
            .apply(sqlx::query(&format!(
                "{ENTITY_SELECT}{} ORDER BY CASE e.kind WHEN 'platform' THEN 0 WHEN 'franchisee' THEN 1 WHEN 'partner' THEN 2 ELSE 3 END, \
                 COALESCE(e.uscc, ''), COALESCE(e.site_code, '')",
                w.sql()
            )))
            .fetch_all(&self.pool)
            .await?;
        let mut items = rows.iter().map(entity_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.fill_sectors(&mut items).await?;
        Ok(items)
    }

    /// The USCC of each parent of the given units, by parent id.
    pub async fn entity_codes(&self, ids: &[i64]) -> StoreResult<HashMap<i64, String>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql =
                format!("SELECT id, uscc, site_code FROM entities WHERE id IN ({})", Store::placeholders(chunk.len()));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                let uscc: Option<String> = row.try_get("uscc")?;
                let site: Option<String> = row.try_get("site_code")?;
                out.insert(row.try_get("id")?, uscc.or(site).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

fn tier(k: EntityKind) -> u8 {
    match k {
        EntityKind::Platform => 0,
        EntityKind::Franchisee | EntityKind::Partner => 1,
        EntityKind::Site => 2,
    }
}

const SECTOR_ROWS: Table = Table { name: "entity_sectors", columns: &["entity_id", "sector_code"] };

/// Entries of the coverage change feed naming a unit (what the units' and sectors' insert triggers write).
const FEED_ROWS: Table = Table { name: "coverage_changes", columns: &["entity_id"] };

/// A unit's text search document on SQLite, as the `search_entities_insert` trigger writes it.
const SEARCH_DOC: &str =
    "e.name || char(31) || COALESCE(e.address, '') || char(31) || COALESCE(e.uscc, '') || char(31) \
     || COALESCE(e.site_code, '') || char(31) || char(31)";

/// Holds off (or lets run again) the insert triggers of the coverage feed (and on SQLite of the text
/// search) inside this transaction only: a row in `feed_suspended` on SQLite, which no other connection
/// sees since it never outlives the statements it brackets; a transaction-local setting on PostgreSQL.
/// See the migration `bulk_feed`.
async fn suspend_feed(tx: &mut WriteTx, db: DbKind, on: bool) -> StoreResult<()> {
    let sql = match (db, on) {
        (DbKind::Sqlite, true) => "INSERT INTO feed_suspended (id) VALUES (1)",
        (DbKind::Sqlite, false) => "DELETE FROM feed_suspended",
        (DbKind::Postgres, true) => "SELECT set_config('dangjian.feed_suspended', 'on', true) AS v",
        (DbKind::Postgres, false) => "SELECT set_config('dangjian.feed_suspended', 'off', true) AS v",
    };
    sqlx::query(sql).execute(&mut *tx.tx).await?;
    Ok(())
}

/// Units in an import: keyed by USCC or else site code (`U:…`, `S:…`), platforms first, then franchisees
/// and partners, then sites; new units and their sectors gathered into one multi-row statement each per
/// chunk, with ids given here (so that a unit's parent may be pending in the same chunk).
struct EntityImport {
    r: Resolver,
    db: DbKind,
    /// Ids for new units, in order: on SQLite counted on from the largest (the write lock is held); on
    /// PostgreSQL taken from the identity sequence, a chunk's worth at a time.
    ids: std::collections::VecDeque<i64>,
    next_sqlite_id: i64,
    /// The unit holding each site code that a row of the chunk gives beside its USCC.
    site_owner: HashMap<String, i64>,
    /// Site codes of the rows applied so far.
    site_codes: HashSet<String>,
    pending: BulkRows,
    pending_sectors: BulkRows,
    /// The ids of the pending units, and of the pending sector rows' units, in order (for the feed).
    pending_ids: Vec<i64>,
    pending_sector_ids: Vec<i64>,
    statements: HashMap<&'static str, (usize, String)>,
    now: String,
}

impl EntityImport {
    async fn new(db: DbKind, r: Resolver, tx: &mut WriteTx) -> StoreResult<Self> {
        let mut r = r;
        r.load_all_regions(tx).await?;
        let next_sqlite_id = match db {
            DbKind::Sqlite => {
                // The unique indexes on codes are written and read at random places: with SQLite's
                // default 2 MB page cache a large import reads most index pages from the OS again and
                // again. The connection keeps the larger cache (64 MB at most, used as needed).
                sqlx::query("PRAGMA cache_size = -65536").execute(&mut *tx.tx).await?;
                let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS m FROM entities").fetch_one(&mut *tx.tx).await?;
                row.try_get::<i64, _>("m")? + 1
            }
            DbKind::Postgres => 0,
        };
        Ok(Self {
            r,
            db,
            ids: Default::default(),
            next_sqlite_id,
            site_owner: HashMap::new(),
            site_codes: HashSet::new(),
            pending: BulkRows::with_capacity(ENTITIES, CHUNK_ROWS),
            pending_sectors: BulkRows::with_capacity(SECTOR_ROWS, CHUNK_ROWS),
            pending_ids: Vec::new(),
            pending_sector_ids: Vec::new(),
            statements: HashMap::new(),
            now: now_text(),
        })
    }

    fn next_id(&mut self) -> StoreResult<i64> {
        match self.db {
            DbKind::Sqlite => {
                let id = self.next_sqlite_id;
                self.next_sqlite_id += 1;
                Ok(id)
            }
            DbKind::Postgres => self
                .ids
                .pop_front()
                .ok_or(StoreError::Conflict { code: "import_ids", message: Message::new("conflict.import_ids") }),
        }
    }

    /// The error when a row's site code belongs to another unit, or to an earlier row of the file.
    fn site_code_taken(&self, d: &EntityDraft, self_id: Option<i64>) -> Option<FieldError> {
        let code = d.site_code.as_ref()?.as_str();
        let other = self.site_owner.get(code).is_some_and(|owner| Some(*owner) != self_id);
        (other || self.site_codes.contains(code)).then(|| {
            FieldError::new(
                "site_code",
                "duplicate",
                Message::new("problem.duplicate.code_registered_already").arg("code", code),
            )
        })
    }

    /// Loads in one query the units the rows' parent references name, that the resolver does not know.
    async fn load_parents(&mut self, tx: &mut WriteTx, refs: Vec<&UnitRef>) -> StoreResult<()> {
        let mut ids = Vec::new();
        let mut codes = Vec::new();
        for u in refs {
            match u {
                UnitRef::Id(id) if !self.r.by_id.contains_key(id) => ids.push(*id),
                UnitRef::Uscc(c) if !self.r.by_code.contains_key(c.as_str()) => codes.push(c.as_str().to_owned()),
                UnitRef::SiteCode(c) if !self.r.by_code.contains_key(c.as_str()) => codes.push(c.as_str().to_owned()),
                _ => {}
            }
        }
        ids.sort_unstable();
        ids.dedup();
        codes.sort_unstable();
        codes.dedup();
        if ids.is_empty() && codes.is_empty() {
            return Ok(());
        }
        let mut conds = Vec::new();
        let mut n = 1;
        if !codes.is_empty() {
            conds.push(format!("uscc IN ({})", param_list(self.db, n, codes.len())));
            n += codes.len();
            conds.push(format!("site_code IN ({})", param_list(self.db, n, codes.len())));
            n += codes.len();
        }
        if !ids.is_empty() {
            conds.push(format!("id IN ({})", param_list(self.db, n, ids.len())));
        }
        let sql =
            format!("SELECT id, kind, parent_id, root_id, uscc, site_code FROM entities WHERE {}", conds.join(" OR "));
        let mut q = sqlx::query(&sql);
        for c in codes.iter().chain(codes.iter()) {
            q = q.bind(c.clone());
        }
        for id in &ids {
            q = q.bind(*id);
        }
        let mut found = Vec::new();
        for row in q.fetch_all(&mut *tx.tx).await? {
            found.push(self.r.remember_row(&row)?.id);
        }
        self.r.may_refer_all(tx, Rows::Entities, &found).await
    }
}

impl ImportKind for EntityImport {
    type Draft = EntityDraft;
    type Current = Entity;
    const ROWS: Rows = Rows::Entities;
    type References = EntityReferences;

    fn references_key(&self, refs: &EntityReferences) -> Option<(String, &'static str)> {
        match (&refs.uscc, &refs.site_code) {
            (Some(u), _) => Some((format!("U:{}", u.as_str()), "uscc")),
            (None, Some(c)) => Some((format!("S:{}", c.as_str()), "site_code")),
            (None, None) => None,
        }
    }

    async fn check_unparsed(
        &mut self,
        tx: &mut WriteTx,
        refs: &EntityReferences,
        self_id: Option<i64>,
        failed: &HashSet<String>,
    ) -> StoreResult<FieldErrors> {
        let mut refs = refs.clone();
        let parent_failed = match &refs.parent {
            Some(UnitRef::Uscc(u)) => failed.contains(&format!("U:{}", u.as_str())),
            Some(UnitRef::SiteCode(c)) => failed.contains(&format!("S:{}", c.as_str())),
            _ => false,
        };
        if parent_failed {
            refs.parent = None;
        }
        let mut errs = FieldErrors::default();
        check_references(&mut self.r, tx, &refs, self_id, &mut errs).await?;
        Ok(errs)
    }

    fn tier(&self, d: &EntityDraft) -> u32 {
        u32::from(tier(d.kind))
    }

    fn key(&self, d: &EntityDraft) -> Result<String, FieldError> {
        match (&d.uscc, &d.site_code) {
            (Some(u), _) => Ok(format!("U:{}", u.as_str())),
            (None, Some(c)) => Ok(format!("S:{}", c.as_str())),
            (None, None) => {
                Err(FieldError::new("site_code", "required", Message::new("problem.required.code_required")))
            }
        }
    }

    fn shown(key: &str) -> &str {
        key.get(2..).unwrap_or(key)
    }

    fn key_field(&self, d: &EntityDraft) -> &'static str {
        if d.uscc.is_some() {
            "uscc"
        } else {
            "site_code"
        }
    }

    async fn load(&mut self, tx: &mut WriteTx, keys: &[&str]) -> StoreResult<HashMap<String, Entity>> {
        let usccs: Vec<&str> = keys.iter().filter_map(|k| k.strip_prefix("U:")).collect();
        let sites: Vec<&str> = keys.iter().filter_map(|k| k.strip_prefix("S:")).collect();
        let mut out: HashMap<String, Entity> = HashMap::with_capacity(keys.len());
        for (col, prefix, codes) in [("uscc", "U:", usccs), ("site_code", "S:", sites)] {
            if codes.is_empty() {
                continue;
            }
            let rest = format!("FROM entities e WHERE e.{col} IN ({})", param_list(self.db, 1, codes.len()));
            let sql = match self.db {
                DbKind::Sqlite => json_rows(self.db, IMPORT_COLUMNS, &rest),
                DbKind::Postgres => {
                    format!("SELECT {IMPORT_COLUMNS}, CAST(NULL AS TEXT) AS parent_name, '' AS region_name {rest}")
                }
            };
            let mut q = sqlx::query(&sql);
            for c in &codes {
                q = q.bind((*c).to_owned());
            }
            let units: Vec<Entity> = match self.db {
                DbKind::Sqlite => {
                    let row = q.fetch_one(&mut *tx.tx).await?;
                    decode_json_rows::<StoredUnit>(&row)?
                        .into_iter()
                        .map(StoredUnit::into_entity)
                        .collect::<StoreResult<_>>()?
                }
                DbKind::Postgres => {
                    q.fetch_all(&mut *tx.tx).await?.iter().map(entity_from_row).collect::<StoreResult<_>>()?
                }
            };
            for e in units {
                let code = if col == "uscc" { e.uscc.clone() } else { e.site_code.clone() };
                if let Some(code) = code {
                    out.insert(format!("{prefix}{code}"), e);
                }
            }
        }
        if !out.is_empty() {
            let ids: Vec<i64> = out.values().map(|e| e.id).collect();
            // No ORDER BY: ordered by sector, a planner may walk the whole sector index for every chunk.
            let rest = format!("FROM entity_sectors WHERE entity_id IN ({})", param_list(self.db, 1, ids.len()));
            let sql = match self.db {
                DbKind::Sqlite => json_rows(self.db, "entity_id, sector_code", &rest),
                DbKind::Postgres => format!("SELECT entity_id, sector_code {rest}"),
            };
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            let pairs: Vec<(i64, String)> = match self.db {
                DbKind::Sqlite => decode_json_rows(&q.fetch_one(&mut *tx.tx).await?)?,
                DbKind::Postgres => q
                    .fetch_all(&mut *tx.tx)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("entity_id")?, r.try_get("sector_code")?)))
                    .collect::<StoreResult<_>>()?,
            };
            let mut by_id: HashMap<i64, Vec<String>> = HashMap::new();
            for (id, sector) in pairs {
                by_id.entry(id).or_default().push(sector);
            }
            for e in out.values_mut() {
                e.sectors = by_id.remove(&e.id).unwrap_or_default();
                e.sectors.sort_unstable();
            }
        }
        Ok(out)
    }

    fn id_of(e: &Entity) -> i64 {
        e.id
    }

    async fn prepare(&mut self, tx: &mut WriteTx, rows: &[(&EntityDraft, Option<&Entity>)]) -> StoreResult<()> {
        self.load_parents(tx, rows.iter().filter_map(|(d, _)| d.parent.as_ref()).collect()).await?;
        // Site codes given beside a USCC: who holds them now.
        self.site_owner.clear();
        let sites: Vec<String> = rows
            .iter()
            .filter(|(d, _)| d.uscc.is_some())
            .filter_map(|(d, _)| d.site_code.as_ref().map(|c| c.as_str().to_owned()))
            .collect();
        if !sites.is_empty() {
            let sql = format!(
                "SELECT id, site_code FROM entities WHERE site_code IN ({})",
                param_list(self.db, 1, sites.len())
            );
            let mut q = sqlx::query(&sql);
            for s in sites {
                q = q.bind(s);
            }
            for row in q.fetch_all(&mut *tx.tx).await? {
                self.site_owner.insert(row.try_get("site_code")?, row.try_get("id")?);
            }
        }
        let new = rows.iter().filter(|(_, c)| c.is_none()).count();
        if self.db == DbKind::Postgres && new > 0 {
            let rows = sqlx::query(
                "SELECT nextval(pg_get_serial_sequence('entities', 'id')) AS id FROM generate_series(1, $1)",
            )
            .bind(new as i64)
            .fetch_all(&mut *tx.tx)
            .await?;
            let mut ids = rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<Vec<_>, _>>()?;
            ids.sort_unstable();
            self.ids = ids.into();
        }
        Ok(())
    }

    async fn apply(
        &mut self,
        tx: &mut WriteTx,
        draft: &EntityDraft,
        current: Option<&Entity>,
    ) -> StoreResult<(i64, Outcome)> {
        let taken = self.site_code_taken(draft, current.map(|e| e.id));
        let resolved = resolve(&mut self.r, tx, draft, current.map(|e| e.id)).await;
        let res = match (resolved, taken) {
            (Ok(res), None) => res,
            (Ok(_), Some(e)) => return Err(e.into()),
            (Err(StoreError::Invalid(mut errs)), Some(e)) => {
                errs.push(e);
                return Err(errs.into());
            }
            (Err(e), _) => return Err(e),
        };
        if let Some(c) = &draft.site_code {
            self.site_codes.insert(c.as_str().to_owned());
        }
        let Some(e) = current else {
            let id = self.next_id()?;
            let root_id = if draft.kind == EntityKind::Platform { Some(id) } else { res.root_id };
            self.pending.push([
                id.into(),
                draft.uscc.as_ref().map(|u| u.as_str().to_owned()).into(),
                draft.site_code.as_ref().map(|c| c.as_str().to_owned()).into(),
                draft.name.clone().into(),
                draft.kind.as_str().into(),
                res.parent_id.into(),
                root_id.into(),
                draft.region_code.as_str().into(),
                draft.address.clone().into(),
                draft.workers.into(),
                draft.party_members.into(),
                draft.probationary_members.into(),
                date_text(draft.established_on).into(),
                date_text(draft.closed_on).into(),
                self.now.clone().into(),
                self.now.clone().into(),
            ]);
            self.pending_ids.push(id);
            for s in res.sectors {
                self.pending_sectors.push([id.into(), s.into()]);
                self.pending_sector_ids.push(id);
            }
            let code = draft.uscc.as_ref().map(|u| u.as_str()).or(draft.site_code.as_ref().map(|c| c.as_str()));
            self.r.remember(code, UnitKey { id, kind: draft.kind, parent_id: res.parent_id, root_id });
            self.r.created(Rows::Entities, id);
            return Ok((id, Outcome::Created));
        };
        if same_as(e, draft, res.parent_id, &res.sectors) {
            return Ok((e.id, Outcome::Unchanged));
        }
        // An update reads the table (children, the old chain): what is pending goes in first.
        self.flush(tx).await?;
        update(&mut self.r, tx, e.id, draft, None).await?;
        Ok((e.id, Outcome::Updated))
    }

    /// Inserts the pending units and their sectors with the feed triggers held off, then writes what the
    /// triggers would have written, in the same order: the coverage change feed (one entry per unit, then
    /// one per sector row) and, on SQLite, the units' text search documents.
    async fn flush(&mut self, tx: &mut WriteTx) -> StoreResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (lo, hi) = match (self.pending_ids.first(), self.pending_ids.last()) {
            (Some(lo), Some(hi)) => (*lo, *hi),
            _ => return Ok(()),
        };
        let rows = std::mem::replace(&mut self.pending, BulkRows::with_capacity(ENTITIES, CHUNK_ROWS));
        let sectors = std::mem::replace(&mut self.pending_sectors, BulkRows::with_capacity(SECTOR_ROWS, CHUNK_ROWS));
        let mut feed = BulkRows::with_capacity(FEED_ROWS, rows.len() + sectors.len());
        for id in self.pending_ids.drain(..) {
            feed.push([id.into()]);
        }
        for id in self.pending_sector_ids.drain(..) {
            feed.push([id.into()]);
        }
        suspend_feed(tx, self.db, true).await?;
        insert_rows(tx, self.db, rows, &mut self.statements).await?;
        if !sectors.is_empty() {
            insert_rows(tx, self.db, sectors, &mut self.statements).await?;
        }
        suspend_feed(tx, self.db, false).await?;
        insert_rows(tx, self.db, feed, &mut self.statements).await?;
        if self.db == DbKind::Sqlite {
            // The new ids of a flush are consecutive and above every id there was (SQLite: counted on from
            // the largest under the write lock), so the range holds exactly the units just inserted.
            sqlx::query(&format!("INSERT INTO entity_search (rowid, doc) SELECT e.id, {SEARCH_DOC} FROM entities e WHERE e.id BETWEEN $1 AND $2"))
                .bind(lo)
                .bind(hi)
                .execute(&mut *tx.tx)
                .await?;
        }
        Ok(())
    }
}

/// Units' inputs, for [`Store::parse_input`].
pub(crate) struct UnitInputs;

impl RegistryInput for UnitInputs {
    type Input = EntityInput;
    type Draft = EntityDraft;
    type References = EntityReferences;

    fn parse(input: &EntityInput) -> Result<EntityDraft, (FieldErrors, Box<EntityReferences>)> {
        EntityDraft::parse_or_references(input)
    }

    async fn check(
        _: &Store,
        r: &mut Resolver,
        tx: &mut WriteTx,
        refs: &EntityReferences,
        self_id: Option<i64>,
        found: &mut FieldErrors,
    ) -> StoreResult<()> {
        check_references(r, tx, refs, self_id, found).await?;
        let codes = [
            ("uscc", refs.uscc.as_ref().map(|u| u.as_str())),
            ("site_code", refs.site_code.as_ref().map(|c| c.as_str())),
        ];
        for (field, code) in codes {
            let Some(code) = code else { continue };
            if tx.held_by_another("entities", field, code.to_owned(), self_id).await? {
                found.push(duplicate(field, code));
            }
        }
        Ok(())
    }
}
