//! Party-building instructors and their assignments to units.

use crate::db::WriteTx;
use crate::entities::Resolver;
use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::organizations::stale_or_missing;
use crate::query::{contains_pattern, Where};
use crate::{date_text, now_text, parse_date_text, ImportSummary, Outcome, Page, Paging, Store};
use chrono::NaiveDate;
use dangjian_domain::{EntityKind, FieldError, FieldErrors, InstructorDraft};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;

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
    pub mobile: String,
    pub dispatching_org: Option<String>,
    pub region_code: String,
    pub region_name: String,
    pub assignments: Vec<Assignment>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

const INSTRUCTOR_SELECT: &str =
    "SELECT i.id, i.name, i.mobile, i.dispatching_org, i.region_code, r.name AS region_name, \
     i.version, i.created_at, i.updated_at FROM instructors i JOIN regions r ON r.code = i.region_code";

fn instructor_from_row(r: &AnyRow) -> StoreResult<Instructor> {
    Ok(Instructor {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        mobile: r.try_get("mobile")?,
        dispatching_org: r.try_get("dispatching_org")?,
        region_code: r.try_get("region_code")?,
        region_name: r.try_get("region_name")?,
        assignments: Vec::new(),
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
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
    pub q: Option<String>,
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
) -> StoreResult<Vec<ResolvedAssignment>> {
    let mut errs = FieldErrors::default();
    if let Err(e) = r.check_region(tx, d.region_code.as_str(), "region_code").await {
        match e {
            StoreError::Invalid(e) => errs.0.extend(e.0),
            e => return Err(e),
        }
    }
    let mut out = Vec::new();
    for (i, a) in d.assignments.iter().enumerate() {
        let field = if matches!(a.unit, dangjian_domain::entity::UnitRef::Id(_)) {
            format!("assignments[{i}].entity_id")
        } else {
            format!("assignments[{i}].unit_code")
        };
        match r.resolve_unit(tx, &a.unit, &field).await {
            Ok(entity_id) => out.push(ResolvedAssignment { entity_id, start_on: a.start_on, end_on: a.end_on }),
            Err(StoreError::Invalid(e)) => errs.0.extend(e.0),
            Err(e) => return Err(e),
        }
    }
    errs.into_result()?;
    out.sort_by_key(|a| (a.entity_id, a.start_on));
    Ok(out)
}

fn duplicate_mobile(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) {
        FieldError::new(
            "mobile",
            "duplicate",
            "an instructor with this mobile number exists",
            "已有使用该手机号码的指导员",
        )
        .into()
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

async fn insert_instructor(r: &mut Resolver, tx: &mut WriteTx, d: &InstructorDraft) -> StoreResult<i64> {
    let list = resolve_instructor(r, tx, d).await?;
    let now = now_text();
    let row = sqlx::query(
        "INSERT INTO instructors (name, mobile, dispatching_org, region_code, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(d.name.clone())
    .bind(d.mobile.as_str().to_owned())
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
    r: &mut Resolver,
    tx: &mut WriteTx,
    id: i64,
    d: &InstructorDraft,
    version: Option<i64>,
) -> StoreResult<()> {
    let list = resolve_instructor(r, tx, d).await?;
    let mut sql = String::from(
        "UPDATE instructors SET name = $1, mobile = $2, dispatching_org = $3, region_code = $4, updated_at = $5, \
         version = version + 1 WHERE id = $6",
    );
    if version.is_some() {
        sql.push_str(" AND version = $7");
    }
    let mut q = sqlx::query(&sql)
        .bind(d.name.clone())
        .bind(d.mobile.as_str().to_owned())
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

fn same_instructor(i: &Instructor, d: &InstructorDraft, list: &[ResolvedAssignment]) -> bool {
    let mut current: Vec<(i64, NaiveDate, Option<NaiveDate>)> =
        i.assignments.iter().map(|a| (a.entity_id, a.start_on, a.end_on)).collect();
    current.sort();
    let new: Vec<(i64, NaiveDate, Option<NaiveDate>)> =
        list.iter().map(|a| (a.entity_id, a.start_on, a.end_on)).collect();
    i.name == d.name
        && i.mobile == d.mobile.as_str()
        && i.dispatching_org == d.dispatching_org
        && i.region_code == d.region_code.as_str()
        && current == new
}

impl Store {
    pub async fn instructor(&self, id: i64) -> StoreResult<Instructor> {
        let row =
            sqlx::query(&format!("{INSTRUCTOR_SELECT} WHERE i.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        let mut i = row.as_ref().map(instructor_from_row).transpose()?.ok_or(StoreError::NotFound)?;
        self.fill_assignments(std::slice::from_mut(&mut i)).await?;
        Ok(i)
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
                 WHERE a.instructor_id IN ({}) ORDER BY a.start_on, code, a.id",
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

    pub async fn list_instructors(&self, f: &InstructorFilter, paging: Paging) -> StoreResult<Page<Instructor>> {
        let mut w = Where::default();
        if let Some(region) = &f.region {
            let path = self.region_path_of(region, "region").await?;
            let n = w.text(format!("{path}%"));
            w.cond(format!("i.region_code IN (SELECT code FROM regions WHERE path LIKE ${n})"));
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
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let n = w.text(contains_pattern(q));
            w.cond(format!("(i.name LIKE ${n} OR i.dispatching_org LIKE ${n})"));
        }
        let mut page =
            self.fetch_page(INSTRUCTOR_SELECT, "instructors i", &w, "i.id", paging, instructor_from_row).await?;
        self.fill_assignments(&mut page.items).await?;
        Ok(page)
    }

    pub async fn create_instructor(&self, d: &InstructorDraft) -> StoreResult<Instructor> {
        let mut r = Resolver::new(self).await?;
        let mut tx = self.write_tx().await?;
        let id = insert_instructor(&mut r, &mut tx, d).await?;
        tx.commit().await?;
        self.instructor(id).await
    }

    pub async fn update_instructor(&self, id: i64, d: &InstructorDraft, version: i64) -> StoreResult<Instructor> {
        let mut r = Resolver::new(self).await?;
        let mut tx = self.write_tx().await?;
        update_instructor(&mut r, &mut tx, id, d, Some(version)).await?;
        tx.commit().await?;
        self.instructor(id).await
    }

    /// Removes an instructor and their assignments (personal data is not kept longer than needed).
    pub async fn delete_instructor(&self, id: i64, version: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
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

    /// Imports instructors whole or not at all, upserting by mobile number; an instructor's
    /// assignments become exactly those in the file. `rows` carry the line of each instructor's first row.
    pub async fn import_instructors(
        &self,
        rows: &[(usize, InstructorDraft)],
        dry_run: bool,
    ) -> StoreResult<ImportSummary> {
        let mut r = Resolver::new(self).await?;
        let mut tx = self.write_tx().await?;
        r.load_all_regions(&mut tx).await?;
        let mut summary = ImportSummary::default();
        let mut errors: Vec<(usize, FieldError)> = Vec::new();
        for (line, d) in rows {
            let existing = sqlx::query(&format!("{INSTRUCTOR_SELECT} WHERE i.mobile = $1"))
                .bind(d.mobile.as_str().to_owned())
                .fetch_optional(&mut *tx.tx)
                .await?;
            let outcome = match existing {
                None => insert_instructor(&mut r, &mut tx, d).await.map(|_| Outcome::Created),
                Some(row) => {
                    let mut current = instructor_from_row(&row)?;
                    current.assignments = self.assignments_in(&mut tx, current.id).await?;
                    match resolve_instructor(&mut r, &mut tx, d).await {
                        Ok(list) if same_instructor(&current, d, &list) => Ok(Outcome::Unchanged),
                        Ok(_) => {
                            update_instructor(&mut r, &mut tx, current.id, d, None).await.map(|_| Outcome::Updated)
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match outcome {
                Ok(o) => summary.count(o),
                Err(StoreError::Invalid(errs)) => errors.extend(errs.0.into_iter().map(|e| (*line, e))),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|(line, _)| *line);
            return Err(StoreError::ImportRows(errors));
        }
        if !dry_run {
            tx.commit().await?;
        }
        Ok(summary)
    }

    async fn assignments_in(&self, tx: &mut WriteTx, id: i64) -> StoreResult<Vec<Assignment>> {
        let rows = sqlx::query(
            "SELECT a.id, a.entity_id, e.name, e.kind, COALESCE(e.uscc, e.site_code) AS code, a.start_on, a.end_on \
             FROM instructor_assignments a JOIN entities e ON e.id = a.entity_id WHERE a.instructor_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *tx.tx)
        .await?;
        rows.iter().map(assignment_from_row).collect()
    }

    /// Every instructor in a stable order (by mobile) for export.
    pub async fn export_instructors(&self) -> StoreResult<Vec<Instructor>> {
        let rows = sqlx::query(&format!("{INSTRUCTOR_SELECT} ORDER BY i.mobile")).fetch_all(&self.pool).await?;
        let mut items = rows.iter().map(instructor_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.fill_assignments(&mut items).await?;
        Ok(items)
    }
}
