//! Party-building instructors and their assignments to units. Mobile numbers are personal data: stored
//! encrypted with a blind index ([`crate::personal`]), handed out masked, and in full only through
//! [`Store::instructor_mobile`] and a [`Disclosure::Full`] export, both for callers that audit the read.

use crate::access::{AccessFilter, Rows};
use crate::db::WriteTx;
use crate::entities::Resolver;
use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::import::{param_list, ImportBatch, ImportKind};
use crate::input::RegistryInput;
use crate::organizations::stale_or_missing;
use crate::personal::{masked_mobile, open, seal, Disclosure, INSTRUCTOR_MOBILE};
use crate::query::Where;
use crate::{date_text, now_text, parse_date_text, DbKind, ImportSummary, Outcome, Page, Paging, Store};
use chrono::NaiveDate;
use dangjian_domain::instructor::{assignment_unit_field, InstructorInput, InstructorReferences};
use dangjian_domain::Message;
use dangjian_domain::{EntityKind, FieldError, FieldErrors, InstructorDraft, Mobile, SearchTerm};
use dangjian_security::field_cipher::Keyring;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Assignment {
    pub id: i64,
    pub entity_id: i64,
    pub entity_name: String,
    pub entity_kind: EntityKind,
    /// USCC or site code of the unit.
    pub entity_code: String,
    pub start_on: NaiveDate,
    pub end_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Instructor {
    pub id: i64,
    pub name: String,
    /// The mobile number masked (`138****1234`). The full number is personal data: readable only by roles
    /// allowed to, one audited request at a time (`GET /api/v1/instructors/{id}/mobile`).
    pub mobile_masked: String,
    pub dispatching_org: Option<String>,
    pub region_code: String,
    pub region_name: String,
    pub assignments: Vec<Assignment>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// An instructor as exported, with the mobile number as the export's [`Disclosure`] allows.
#[derive(Debug, Clone)]
pub struct ExportedInstructor {
    pub instructor: Instructor,
    pub mobile: String,
}

const INSTRUCTOR_SELECT: &str =
    "SELECT i.id, i.name, i.mobile, i.dispatching_org, i.region_code, r.name AS region_name, \
     i.version, i.created_at, i.updated_at FROM instructors i JOIN regions r ON r.code = i.region_code";

/// Maps a row of [`INSTRUCTOR_SELECT`], decrypting the mobile number only to mask it.
fn instructor_from_row(keys: &Keyring) -> impl Fn(&AnyRow) -> StoreResult<Instructor> + '_ {
    move |r| Ok(with_mobile(keys, r)?.0)
}

/// An instructor and their full mobile number (for exports that may disclose it).
fn with_mobile(keys: &Keyring, r: &AnyRow) -> StoreResult<(Instructor, String)> {
    let id: i64 = r.try_get("id")?;
    let mobile = open(keys, &INSTRUCTOR_MOBILE, id, &r.try_get::<String, _>("mobile")?)?;
    let instructor = Instructor {
        id,
        name: r.try_get("name")?,
        mobile_masked: masked_mobile(&mobile),
        dispatching_org: r.try_get("dispatching_org")?,
        region_code: r.try_get("region_code")?,
        region_name: r.try_get("region_name")?,
        assignments: Vec::new(),
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    };
    Ok((instructor, mobile))
}

fn assignment_from_row(row: &AnyRow) -> StoreResult<Assignment> {
    Ok(Assignment {
        id: row.try_get("id")?,
        entity_id: row.try_get("entity_id")?,
        entity_name: row.try_get("name")?,
        entity_kind: EntityKind::parse(&row.try_get::<String, _>("kind")?)?,
        entity_code: row.try_get("code")?,
        start_on: parse_date_text(row.try_get("start_on")?).unwrap_or_default(),
        end_on: parse_date_text(row.try_get("end_on")?),
    })
}

#[derive(Debug, Clone, Default)]
pub struct InstructorFilter {
    pub region: Option<String>,
    /// Instructors assigned (ever) to this unit.
    pub unit: Option<i64>,
    /// Instructors assigned to any unit of this platform's chain.
    pub root: Option<i64>,
    /// Name or dispatching organization contains.
    pub q: Option<SearchTerm>,
}

struct ResolvedAssignment {
    entity_id: i64,
    start_on: NaiveDate,
    end_on: Option<NaiveDate>,
}

async fn resolve_instructor(
    r: &mut Resolver,
    tx: &mut WriteTx,
    d: &InstructorDraft,
    self_id: Option<i64>,
) -> StoreResult<Vec<ResolvedAssignment>> {
    let mut errs = FieldErrors::default();
    let ids = check_instructor_references(r, tx, &InstructorReferences::of(d), self_id, &mut errs).await?;
    errs.into_result()?;
    let mut out: Vec<ResolvedAssignment> = d
        .assignments
        .iter()
        .zip(ids)
        .map(|(a, entity_id)| ResolvedAssignment { entity_id, start_on: a.start_on, end_on: a.end_on })
        .collect();
    out.sort_by_key(|a| (a.entity_id, a.start_on));
    Ok(out)
}

/// Checks an instructor's references that parsed — the region, each assignment's unit (exists, may be
/// referred to) — adding each problem to `errs`; the units' ids in the order given. The one check of
/// drafts and of inputs that did not parse.
async fn check_instructor_references(
    r: &mut Resolver,
    tx: &mut WriteTx,
    d: &InstructorReferences,
    self_id: Option<i64>,
    errs: &mut FieldErrors,
) -> StoreResult<Vec<i64>> {
    r.keep(tx, Rows::Entities, "SELECT entity_id AS id FROM instructor_assignments WHERE instructor_id = $1", self_id)
        .await?;
    if let Some(region) = &d.region_code {
        match r.check_region(tx, region.as_str(), "region_code").await {
            Ok(()) => {}
            Err(StoreError::Invalid(e)) => errs.0.extend(e.0),
            Err(e) => return Err(e),
        }
    }
    let mut ids = Vec::new();
    for (i, unit) in &d.units {
        match r.resolve_unit(tx, unit, &assignment_unit_field(*i, unit)).await {
            Ok(entity_id) => ids.push(entity_id),
            Err(StoreError::Invalid(e)) => errs.0.extend(e.0),
            Err(e) => return Err(e),
        }
    }
    Ok(ids)
}

/// Another instructor has this mobile number.
fn mobile_taken() -> FieldError {
    FieldError::new("mobile", "duplicate", Message::new("problem.duplicate.instructor_mobile_number"))
}

fn duplicate_mobile(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) {
        mobile_taken().into()
    } else {
        e.into()
    }
}

async fn write_assignments(tx: &mut WriteTx, id: i64, list: &[ResolvedAssignment]) -> StoreResult<()> {
    sqlx::query("DELETE FROM instructor_assignments WHERE instructor_id = $1").bind(id).execute(&mut *tx.tx).await?;
    for a in list {
        sqlx::query(
            "INSERT INTO instructor_assignments (instructor_id, entity_id, start_on, end_on) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(a.entity_id)
        .bind(date_text(Some(a.start_on)))
        .bind(date_text(a.end_on))
        .execute(&mut *tx.tx)
        .await?;
    }
    Ok(())
}

async fn insert_instructor(
    keys: &Keyring,
    r: &mut Resolver,
    tx: &mut WriteTx,
    d: &InstructorDraft,
) -> StoreResult<i64> {
    let list = resolve_instructor(r, tx, d, None).await?;
    let mobile = seal(keys, &INSTRUCTOR_MOBILE, None, d.mobile.as_str())?;
    let now = now_text();
    let row = sqlx::query(
        "INSERT INTO instructors (name, mobile, mobile_idx, dispatching_org, region_code, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(d.name.clone())
    .bind(mobile.stored)
    .bind(mobile.index)
    .bind(d.dispatching_org.clone())
    .bind(d.region_code.as_str().to_owned())
    .bind(now.clone())
    .bind(now)
    .fetch_one(&mut *tx.tx)
    .await
    .map_err(duplicate_mobile)?;
    let id: i64 = row.try_get("id")?;
    write_assignments(tx, id, &list).await?;
    Ok(id)
}

async fn update_instructor(
    keys: &Keyring,
    r: &mut Resolver,
    tx: &mut WriteTx,
    id: i64,
    d: &InstructorDraft,
    version: Option<i64>,
) -> StoreResult<()> {
    let list = resolve_instructor(r, tx, d, Some(id)).await?;
    let mobile = seal(keys, &INSTRUCTOR_MOBILE, Some(id), d.mobile.as_str())?;
    let mut sql = String::from(
        "UPDATE instructors SET name = $1, mobile = $2, mobile_idx = $3, dispatching_org = $4, region_code = $5, \
         updated_at = $6, version = version + 1 WHERE id = $7",
    );
    if version.is_some() {
        sql.push_str(" AND version = $8");
    }
    let mut q = sqlx::query(&sql)
        .bind(d.name.clone())
        .bind(mobile.stored)
        .bind(mobile.index)
        .bind(d.dispatching_org.clone())
        .bind(d.region_code.as_str().to_owned())
        .bind(now_text())
        .bind(id);
    if let Some(v) = version {
        q = q.bind(v);
    }
    let n = q.execute(&mut *tx.tx).await.map_err(duplicate_mobile)?.rows_affected();
    if n == 0 {
        return Err(stale_or_missing(tx, "instructors", id).await?);
    }
    write_assignments(tx, id, &list).await
}

/// Whether an import row changes nothing. The mobile number is equal by construction: the row was found by
/// its blind index.
fn same_instructor(i: &Instructor, d: &InstructorDraft, list: &[ResolvedAssignment]) -> bool {
    let mut current: Vec<(i64, NaiveDate, Option<NaiveDate>)> =
        i.assignments.iter().map(|a| (a.entity_id, a.start_on, a.end_on)).collect();
    current.sort();
    let new: Vec<(i64, NaiveDate, Option<NaiveDate>)> =
        list.iter().map(|a| (a.entity_id, a.start_on, a.end_on)).collect();
    i.name == d.name
        && i.dispatching_org == d.dispatching_org
        && i.region_code == d.region_code.as_str()
        && current == new
}

impl Store {
    /// One instructor, the mobile number masked.
    pub async fn instructor(&self, id: i64) -> StoreResult<Instructor> {
        let keys = self.keyring()?;
        let row =
            sqlx::query(&format!("{INSTRUCTOR_SELECT} WHERE i.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        let mut i = row.as_ref().map(instructor_from_row(keys)).transpose()?.ok_or(StoreError::NotFound)?;
        self.fill_assignments(std::slice::from_mut(&mut i)).await?;
        Ok(i)
    }

    /// An instructor's full mobile number. Personal data: call it only for an actor allowed to read it, and
    /// record the read in the audit log (`instructor.read_personal`).
    pub async fn instructor_mobile(&self, id: i64) -> StoreResult<Mobile> {
        let keys = self.keyring()?;
        let row = sqlx::query("SELECT mobile FROM instructors WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let plain = open(keys, &INSTRUCTOR_MOBILE, id, &row.try_get::<String, _>("mobile")?)?;
        Mobile::parse(&plain).map_err(|_| StoreError::FieldCipher {
            record: format!("instructors#{id}"),
            source: dangjian_security::field_cipher::FieldCipherError::Malformed,
        })
    }

    /// The instructor with this mobile number, found by its blind index (exact match).
    pub async fn instructor_by_mobile(&self, mobile: &Mobile) -> StoreResult<Option<Instructor>> {
        let keys = self.keyring()?;
        let row = sqlx::query(&format!("{INSTRUCTOR_SELECT} WHERE i.mobile_idx = $1"))
            .bind(keys.blind_index(mobile.as_str()))
            .fetch_optional(&self.pool)
            .await?;
        let Some(mut i) = row.as_ref().map(instructor_from_row(keys)).transpose()? else { return Ok(None) };
        self.fill_assignments(std::slice::from_mut(&mut i)).await?;
        Ok(Some(i))
    }

    async fn fill_assignments(&self, items: &mut [Instructor]) -> StoreResult<()> {
        let mut by_id: HashMap<i64, Vec<Assignment>> = HashMap::new();
        for chunk in items.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT a.id, a.instructor_id, a.entity_id, e.name, e.kind, COALESCE(e.uscc, e.site_code) AS code, \
                 a.start_on, a.end_on FROM instructor_assignments a JOIN entities e ON e.id = a.entity_id \
                 WHERE a.instructor_id IN ({}) ORDER BY a.start_on, a.id",
                Store::placeholders(chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for i in chunk {
                q = q.bind(i.id);
            }
            for row in q.fetch_all(&self.pool).await? {
                by_id.entry(row.try_get("instructor_id")?).or_default().push(assignment_from_row(&row)?);
            }
        }
        for i in items {
            i.assignments = by_id.remove(&i.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Instructors matching `f`, of those inside `access`.
    pub async fn list_instructors(
        &self,
        f: &InstructorFilter,
        paging: Paging,
        access: &AccessFilter,
    ) -> StoreResult<Page<Instructor>> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        // One unit's records are a handful: checked row by row, not against the scope's whole set.
        if f.unit.is_some() {
            access.restrict_row_by_row(&tree, &mut w, Rows::Instructors);
        } else {
            access.restrict(&tree, &mut w, Rows::Instructors);
        }
        if let Some(region) = &f.region {
            let path = tree.path_of(region).ok_or_else(|| crate::regions::unknown_region(region, "region"))?;
            let c = crate::region_tree::subtree_cond(&tree, &mut w, "i.region_code", path);
            w.cond(c);
        }
        if let Some(u) = f.unit {
            let n = w.int(u);
            w.cond(format!("i.id IN (SELECT instructor_id FROM instructor_assignments WHERE entity_id = ${n})"));
        }
        if let Some(root) = f.root {
            let n = w.int(root);
            w.cond(format!(
                "i.id IN (SELECT a.instructor_id FROM instructor_assignments a JOIN entities e ON e.id = a.entity_id WHERE e.root_id = ${n})"
            ));
        }
        if let Some(q) = &f.q {
            let n = w.text(q.contains_pattern());
            w.cond(format!("(i.name LIKE ${n} ESCAPE '\\' OR i.dispatching_org LIKE ${n} ESCAPE '\\')"));
        }
        let keys = self.keyring()?;
        let mut page =
            self.fetch_page(INSTRUCTOR_SELECT, "instructors i", &w, "i.id", paging, instructor_from_row(keys)).await?;
        self.fill_assignments(&mut page.items).await?;
        Ok(page)
    }

    /// Registers an instructor, who must then lie inside `access` (else nothing is written).
    pub async fn create_instructor(&self, d: &InstructorDraft, access: &AccessFilter) -> StoreResult<Instructor> {
        let keys = self.keyring()?;
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        let id = insert_instructor(keys, &mut r, &mut tx, d).await?;
        if !access.admits_in(&mut tx, Rows::Instructors, id).await? {
            return Err(StoreError::OutOfScope);
        }
        tx.commit().await?;
        self.instructor(id).await
    }

    /// Parses an instructor's input (for the instructor `self_id` when it is an update) and, when it does
    /// not parse, adds what only the registry can see about the fields that did (an unknown region or
    /// unit, one the writer may not refer to, a mobile number another instructor has): every problem at
    /// once (`StoreError::Invalid`). Reads only.
    pub async fn parse_instructor_input(
        &self,
        input: &InstructorInput,
        self_id: Option<i64>,
        access: &AccessFilter,
    ) -> StoreResult<InstructorDraft> {
        self.parse_input::<InstructorInputs>(input, self_id, access).await
    }

    /// Updates an instructor inside `access` if still at `version`; they must stay inside.
    pub async fn update_instructor(
        &self,
        id: i64,
        d: &InstructorDraft,
        version: i64,
        access: &AccessFilter,
    ) -> StoreResult<Instructor> {
        let keys = self.keyring()?;
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        if !access.admits_in(&mut tx, Rows::Instructors, id).await? {
            return Err(StoreError::NotFound);
        }
        update_instructor(keys, &mut r, &mut tx, id, d, Some(version)).await?;
        if !access.admits_in(&mut tx, Rows::Instructors, id).await? {
            return Err(StoreError::OutOfScope);
        }
        tx.commit().await?;
        self.instructor(id).await
    }

    /// Removes an instructor inside `access` and their assignments (personal data is not kept longer
    /// than needed).
    pub async fn delete_instructor(&self, id: i64, version: i64, access: &AccessFilter) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        if !access.admits_in(&mut tx, Rows::Instructors, id).await? {
            return Err(StoreError::NotFound);
        }
        let n = sqlx::query("DELETE FROM instructors WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(version)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(stale_or_missing(&mut tx, "instructors", id).await?);
        }
        tx.commit().await
    }

    /// Imports instructors whole or not at all, upserting by mobile number (its blind index); an instructor's
    /// assignments become exactly those in the file. `rows` carry the line of each instructor's first row.
    /// Every row must be inside `access`, before and after (see [`Store::import_entities`]).
    pub async fn import_instructors(
        &self,
        rows: &[(usize, InstructorDraft)],
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        self.import_instructor_batch(ImportBatch::parsed(rows), dry_run, access).await
    }

    /// [`Self::import_instructors`], also checking what the rows that did not parse name.
    pub async fn import_instructor_batch(
        &self,
        batch: ImportBatch<'_, InstructorDraft, InstructorReferences>,
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        let keys = self.keyring()?;
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        r.load_all_regions(&mut tx).await?;
        let mut kind = InstructorImport { keys, r, db: self.kind() };
        self.run_import(&mut kind, tx, batch, dry_run, access).await
    }

    /// Every instructor for export, in a stable order (by mobile number), each with the mobile number as
    /// `disclosure` allows: masked, or in full (only for an actor allowed to read personal data; the
    /// export is audited). Only a full export can be imported again.
    /// Only instructors inside `access` are exported.
    pub async fn export_instructors(
        &self,
        disclosure: Disclosure,
        access: &AccessFilter,
    ) -> StoreResult<Vec<ExportedInstructor>> {
        let keys = self.keyring()?;
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        access.restrict(&tree, &mut w, Rows::Instructors);
        let rows = w.apply(sqlx::query(&format!("{INSTRUCTOR_SELECT}{}", w.sql()))).fetch_all(&self.pool).await?;
        let mut pairs = rows.iter().map(|r| with_mobile(keys, r)).collect::<StoreResult<Vec<_>>>()?;
        pairs.sort_by(|a, b| (&a.1, a.0.id).cmp(&(&b.1, b.0.id)));
        let (mut items, mobiles): (Vec<Instructor>, Vec<String>) = pairs.into_iter().unzip();
        self.fill_assignments(&mut items).await?;
        Ok(items
            .into_iter()
            .zip(mobiles)
            .map(|(instructor, full)| {
                let mobile = match disclosure {
                    Disclosure::Full => full,
                    Disclosure::Masked => instructor.mobile_masked.clone(),
                };
                ExportedInstructor { instructor, mobile }
            })
            .collect())
    }
}

/// Instructors in an import, keyed by the blind index of their mobile number; each row checked and
/// written as a single write would be, the current records read a chunk at a time.
struct InstructorImport<'k> {
    keys: &'k Keyring,
    r: Resolver,
    db: DbKind,
}

impl ImportKind for InstructorImport<'_> {
    type References = InstructorReferences;

    fn references_key(&self, refs: &InstructorReferences) -> Option<(String, &'static str)> {
        refs.mobile.as_ref().map(|m| (self.keys.blind_index(m.as_str()), "mobile"))
    }

    async fn check_unparsed(
        &mut self,
        tx: &mut WriteTx,
        refs: &InstructorReferences,
        self_id: Option<i64>,
        _failed: &HashSet<String>,
    ) -> StoreResult<FieldErrors> {
        let mut errs = FieldErrors::default();
        check_instructor_references(&mut self.r, tx, refs, self_id, &mut errs).await?;
        Ok(errs)
    }
    type Draft = InstructorDraft;
    type Current = Instructor;
    const ROWS: Rows = Rows::Instructors;

    fn key(&self, d: &InstructorDraft) -> Result<String, FieldError> {
        Ok(self.keys.blind_index(d.mobile.as_str()))
    }

    fn key_field(&self, _: &InstructorDraft) -> &'static str {
        "mobile"
    }

    async fn load(&mut self, tx: &mut WriteTx, keys: &[&str]) -> StoreResult<HashMap<String, Instructor>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "{} WHERE i.mobile_idx IN ({})",
            INSTRUCTOR_SELECT.replacen("SELECT ", "SELECT i.mobile_idx, ", 1),
            param_list(self.db, 1, keys.len())
        );
        let mut q = sqlx::query(&sql);
        for k in keys {
            q = q.bind((*k).to_owned());
        }
        let mut found: Vec<(String, Instructor)> = Vec::new();
        for row in q.fetch_all(&mut *tx.tx).await? {
            found.push((row.try_get("mobile_idx")?, instructor_from_row(self.keys)(&row)?));
        }
        if !found.is_empty() {
            let sql = format!(
                "SELECT a.instructor_id, a.id, a.entity_id, e.name, e.kind, COALESCE(e.uscc, e.site_code) AS code, \
                 a.start_on, a.end_on FROM instructor_assignments a JOIN entities e ON e.id = a.entity_id \
                 WHERE a.instructor_id IN ({})",
                param_list(self.db, 1, found.len())
            );
            let mut q = sqlx::query(&sql);
            for (_, i) in &found {
                q = q.bind(i.id);
            }
            let mut by_id: HashMap<i64, Vec<Assignment>> = HashMap::new();
            for row in q.fetch_all(&mut *tx.tx).await? {
                by_id.entry(row.try_get("instructor_id")?).or_default().push(assignment_from_row(&row)?);
            }
            for (_, i) in &mut found {
                i.assignments = by_id.remove(&i.id).unwrap_or_default();
            }
        }
        Ok(found.into_iter().collect())
    }

    fn id_of(i: &Instructor) -> i64 {
        i.id
    }

    async fn apply(
        &mut self,
        tx: &mut WriteTx,
        d: &InstructorDraft,
        current: Option<&Instructor>,
    ) -> StoreResult<(i64, Outcome)> {
        let Some(i) = current else {
            return insert_instructor(self.keys, &mut self.r, tx, d).await.map(|id| (id, Outcome::Created));
        };
        let list = resolve_instructor(&mut self.r, tx, d, Some(i.id)).await?;
        if same_instructor(i, d, &list) {
            return Ok((i.id, Outcome::Unchanged));
        }
        update_instructor(self.keys, &mut self.r, tx, i.id, d, None).await?;
        Ok((i.id, Outcome::Updated))
    }
}

/// Instructors' inputs, for [`Store::parse_input`].
pub(crate) struct InstructorInputs;

impl RegistryInput for InstructorInputs {
    type Input = InstructorInput;
    type Draft = InstructorDraft;
    type References = InstructorReferences;

    fn parse(input: &InstructorInput) -> Result<InstructorDraft, (FieldErrors, Box<InstructorReferences>)> {
        InstructorDraft::parse_or_references(input)
    }

    async fn check(
        store: &Store,
        r: &mut Resolver,
        tx: &mut WriteTx,
        refs: &InstructorReferences,
        self_id: Option<i64>,
        found: &mut FieldErrors,
    ) -> StoreResult<()> {
        let keys = store.keyring()?;
        check_instructor_references(r, tx, refs, self_id, found).await?;
        if let Some(mobile) = &refs.mobile {
            if tx.held_by_another("instructors", "mobile_idx", keys.blind_index(mobile.as_str()), self_id).await? {
                found.push(mobile_taken());
            }
        }
        Ok(())
    }
}
