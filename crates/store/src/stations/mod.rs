//! Worker stations: registered, changed, closed and imported like the other registries, inside the
//! writer's scopes ([`crate::access`]: by the station's region, or by the unit that runs it). The
//! nearest-station [`finder`] keeps an in-memory index of the active ones.

pub mod finder;

use crate::access::{AccessFilter, Rows};
use crate::db::WriteTx;
use crate::entities::Resolver;
use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::import::{param_list, ImportBatch, ImportKind};
use crate::input::RegistryInput;
use crate::organizations::stale_or_missing;
use crate::query::Where;
use crate::{now_text, DbKind, ImportSummary, Outcome, Page, Paging, Store};
use dangjian_domain::services::finder::FinderStation;
use dangjian_domain::services::hours::OpeningHours;
use dangjian_domain::services::stations::{
    Amenity, AmenitySet, LatLng, Operator, StationDraft, StationInput, StationReferences, StationStatus,
};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors, SearchTerm};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// A station as stored.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Station {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The unit running the station, if a registered unit does.
    pub operator_entity_id: Option<i64>,
    /// That unit's USCC or site code.
    pub operator_code: Option<String>,
    pub operator_entity_name: Option<String>,
    /// The department running the station, if no registered unit does.
    pub operator_department: Option<String>,
    pub address: String,
    pub region_code: String,
    pub region_name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub amenities: Vec<Amenity>,
    /// Opening hours in their canonical (Chinese) text form.
    pub opening_hours: String,
    pub status: StationStatus,
    pub contact_phone: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

const STATION_SELECT: &str =
    "SELECT s.id, s.code, s.name, s.operator_entity_id, COALESCE(e.uscc, e.site_code) AS operator_code, \
     e.name AS operator_entity_name, s.operator_department, s.address, s.region_code, r.name AS region_name, \
     s.latitude, s.longitude, s.amenities, s.opening_hours, s.status, s.contact_phone, s.version, s.created_at, \
     s.updated_at FROM stations s JOIN regions r ON r.code = s.region_code \
     LEFT JOIN entities e ON e.id = s.operator_entity_id";

/// The stored list of amenities (`drinking_water,toilet`), in [`Amenity::ALL`] order.
fn amenities_text(list: &[Amenity]) -> String {
    AmenitySet::of(list).to_vec().iter().map(|a| a.as_str()).collect::<Vec<_>>().join(",")
}

fn amenities_of(text: &str) -> Vec<Amenity> {
    text.split(',').filter_map(|a| Amenity::parse(a, "amenities").ok()).collect()
}

fn station_from_row(r: &AnyRow) -> StoreResult<Station> {
    Ok(Station {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        operator_entity_id: r.try_get("operator_entity_id")?,
        operator_code: r.try_get("operator_code")?,
        operator_entity_name: r.try_get("operator_entity_name")?,
        operator_department: r.try_get("operator_department")?,
        address: r.try_get("address")?,
        region_code: r.try_get("region_code")?,
        region_name: r.try_get("region_name")?,
        latitude: r.try_get("latitude")?,
        longitude: r.try_get("longitude")?,
        amenities: amenities_of(&r.try_get::<String, _>("amenities")?),
        opening_hours: r.try_get("opening_hours")?,
        status: StationStatus::parse(&r.try_get::<String, _>("status")?)?,
        contact_phone: r.try_get("contact_phone")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Station {
    /// What the finder needs of the station (`None` for hours that no longer parse, which the
    /// finder then skips rather than guess).
    pub fn for_finder(&self) -> Option<FinderStation> {
        Some(FinderStation {
            id: self.id,
            name: self.name.clone(),
            address: self.address.clone(),
            region_code: self.region_code.clone(),
            position: LatLng { lat: self.latitude, lng: self.longitude },
            amenities: AmenitySet::of(&self.amenities),
            hours: OpeningHours::parse(&self.opening_hours).ok()?,
            contact_phone: self.contact_phone.clone(),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct StationFilter {
    /// Region code: the region and its whole subtree.
    pub region: Option<String>,
    pub amenity: Option<Amenity>,
    pub status: Option<StationStatus>,
    /// Code, name, address or operator contains.
    pub q: Option<SearchTerm>,
}

/// The operating unit's id, resolved inside the write (or `None` for a department).
async fn resolve_station(
    r: &mut Resolver,
    tx: &mut WriteTx,
    d: &StationDraft,
    self_id: Option<i64>,
) -> StoreResult<Option<i64>> {
    let mut errs = FieldErrors::default();
    let unit = check_station_references(r, tx, &StationReferences::of(d), self_id, &mut errs).await?;
    errs.into_result()?;
    Ok(unit)
}

/// Checks a station's references that parsed — its region, its operating unit (exists, may be
/// referred to) — adding each problem to `errs`: the one check of drafts and of inputs that did not
/// parse.
async fn check_station_references(
    r: &mut Resolver,
    tx: &mut WriteTx,
    d: &StationReferences,
    self_id: Option<i64>,
    errs: &mut FieldErrors,
) -> StoreResult<Option<i64>> {
    r.keep(tx, Rows::Entities, "SELECT operator_entity_id AS id FROM stations WHERE id = $1", self_id).await?;
    if let Some(region) = &d.region_code {
        match r.check_region(tx, region.as_str(), "region_code").await {
            Err(StoreError::Invalid(e)) => errs.0.extend(e.0),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
    }
    let unit = match &d.operator {
        None | Some(Operator::Department(_)) => None,
        Some(Operator::Unit(u)) => match r.resolve_unit(tx, u, "operator_code").await {
            Ok(id) => Some(id),
            Err(StoreError::Invalid(e)) => {
                errs.0.extend(e.0);
                None
            }
            Err(e) => return Err(e),
        },
    };
    Ok(unit)
}

/// Another station has this code.
fn code_taken() -> FieldError {
    FieldError::new("code", "duplicate", Message::new("problem.duplicate.station_code_exists"))
}

fn duplicate_code(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) {
        code_taken().into()
    } else {
        e.into()
    }
}

fn department(d: &StationDraft) -> Option<String> {
    match &d.operator {
        Operator::Department(name) => Some(name.clone()),
        Operator::Unit(_) => None,
    }
}

async fn insert_station(r: &mut Resolver, tx: &mut WriteTx, d: &StationDraft) -> StoreResult<i64> {
    let unit = resolve_station(r, tx, d, None).await?;
    let now = now_text();
    let row = sqlx::query(
        "INSERT INTO stations (code, name, operator_entity_id, operator_department, address, region_code, latitude, \
         longitude, amenities, opening_hours, status, contact_phone, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(d.code.clone())
    .bind(d.name.clone())
    .bind(unit)
    .bind(department(d))
    .bind(d.address.clone())
    .bind(d.region_code.as_str().to_owned())
    .bind(d.position.lat)
    .bind(d.position.lng)
    .bind(amenities_text(&d.amenities))
    .bind(d.hours.text("zh"))
    .bind(d.status.as_str())
    .bind(d.contact_phone.clone())
    .bind(now.clone())
    .bind(now)
    .fetch_one(&mut *tx.tx)
    .await
    .map_err(duplicate_code)?;
    Ok(row.try_get("id")?)
}

async fn update_station(
    r: &mut Resolver,
    tx: &mut WriteTx,
    id: i64,
    d: &StationDraft,
    version: Option<i64>,
) -> StoreResult<()> {
    let unit = resolve_station(r, tx, d, Some(id)).await?;
    let mut sql = String::from(
        "UPDATE stations SET code = $1, name = $2, operator_entity_id = $3, operator_department = $4, address = $5, \
         region_code = $6, latitude = $7, longitude = $8, amenities = $9, opening_hours = $10, status = $11, \
         contact_phone = $12, updated_at = $13, version = version + 1 WHERE id = $14",
    );
    if version.is_some() {
        sql.push_str(" AND version = $15");
    }
    let mut q = sqlx::query(&sql)
        .bind(d.code.clone())
        .bind(d.name.clone())
        .bind(unit)
        .bind(department(d))
        .bind(d.address.clone())
        .bind(d.region_code.as_str().to_owned())
        .bind(d.position.lat)
        .bind(d.position.lng)
        .bind(amenities_text(&d.amenities))
        .bind(d.hours.text("zh"))
        .bind(d.status.as_str())
        .bind(d.contact_phone.clone())
        .bind(now_text())
        .bind(id);
    if let Some(v) = version {
        q = q.bind(v);
    }
    if q.execute(&mut *tx.tx).await.map_err(duplicate_code)?.rows_affected() == 0 {
        return Err(stale_or_missing(tx, "stations", id).await?);
    }
    Ok(())
}

/// Whether an import row changes nothing.
fn same_station(s: &Station, d: &StationDraft, unit: Option<i64>) -> bool {
    s.name == d.name
        && s.operator_entity_id == unit
        && s.operator_department == department(d)
        && s.address == d.address
        && s.region_code == d.region_code.as_str()
        && s.latitude == d.position.lat
        && s.longitude == d.position.lng
        && s.amenities == AmenitySet::of(&d.amenities).to_vec()
        && s.opening_hours == d.hours.text("zh")
        && s.status == d.status
        && s.contact_phone == d.contact_phone
}

impl Store {
    /// One station.
    pub async fn station(&self, id: i64) -> StoreResult<Station> {
        let row = sqlx::query(&format!("{STATION_SELECT} WHERE s.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(station_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    /// Stations matching `f`, of those inside `access`.
    pub async fn list_stations(
        &self,
        f: &StationFilter,
        paging: Paging,
        access: &AccessFilter,
    ) -> StoreResult<Page<Station>> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        access.restrict(&tree, &mut w, Rows::Stations);
        if let Some(region) = &f.region {
            let path = tree.path_of(region).ok_or_else(|| crate::regions::unknown_region(region, "region"))?;
            let c = crate::region_tree::subtree_cond(&tree, &mut w, "s.region_code", path);
            w.cond(c);
        }
        if let Some(a) = f.amenity {
            let n = w.text(format!("%,{},%", a.as_str()));
            w.cond(format!("(',' || s.amenities || ',') LIKE ${n}"));
        }
        if let Some(st) = f.status {
            let n = w.text(st.as_str());
            w.cond(format!("s.status = ${n}"));
        }
        if let Some(q) = &f.q {
            let n = w.text(q.contains_pattern());
            w.cond(format!(
                "(s.code LIKE ${n} ESCAPE '\\' OR s.name LIKE ${n} ESCAPE '\\' OR s.address LIKE ${n} ESCAPE '\\' \
                 OR s.operator_department LIKE ${n} ESCAPE '\\')"
            ));
        }
        self.fetch_page(STATION_SELECT, "stations s", &w, "s.id", paging, station_from_row).await
    }

    /// Registers a station, which must then lie inside `access` (else nothing is written).
    pub async fn create_station(&self, d: &StationDraft, access: &AccessFilter) -> StoreResult<Station> {
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        let id = insert_station(&mut r, &mut tx, d).await?;
        if !access.admits_in(&mut tx, Rows::Stations, id).await? {
            return Err(StoreError::OutOfScope);
        }
        tx.commit().await?;
        self.station(id).await
    }

    /// Parses a station's input (for the station `self_id` when it is an update) and, when it does not
    /// parse, adds what only the registry can see about the fields that did (an unknown region or
    /// operating unit, one the writer may not refer to, a code another station has): every problem at
    /// once (`StoreError::Invalid`). Reads only.
    pub async fn parse_station_input(
        &self,
        input: &StationInput,
        self_id: Option<i64>,
        access: &AccessFilter,
    ) -> StoreResult<StationDraft> {
        self.parse_input::<StationInputs>(input, self_id, access).await
    }

    /// Replaces a station inside `access` if still at `version`; it must stay inside.
    pub async fn update_station(
        &self,
        id: i64,
        d: &StationDraft,
        version: i64,
        access: &AccessFilter,
    ) -> StoreResult<Station> {
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        if !access.admits_in(&mut tx, Rows::Stations, id).await? {
            return Err(StoreError::NotFound);
        }
        update_station(&mut r, &mut tx, id, d, Some(version)).await?;
        if !access.admits_in(&mut tx, Rows::Stations, id).await? {
            return Err(StoreError::OutOfScope);
        }
        tx.commit().await?;
        self.station(id).await
    }

    /// Closes a station inside `access` if still at `version`. It stays on record; the finder drops it.
    pub async fn close_station(&self, id: i64, version: i64, access: &AccessFilter) -> StoreResult<Station> {
        let mut tx = self.write_tx().await?;
        if !access.admits_in(&mut tx, Rows::Stations, id).await? {
            return Err(StoreError::NotFound);
        }
        let n = sqlx::query(
            "UPDATE stations SET status = 'closed', updated_at = $1, version = version + 1 WHERE id = $2 AND version = $3",
        )
        .bind(now_text())
        .bind(id)
        .bind(version)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(stale_or_missing(&mut tx, "stations", id).await?);
        }
        tx.commit().await?;
        self.station(id).await
    }

    /// Imports stations whole or not at all, upserting by station code. `rows` carry each row's line.
    /// Every row must be inside `access`, before and after (see [`Store::import_entities`]).
    pub async fn import_stations(
        &self,
        rows: &[(usize, StationDraft)],
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        self.import_station_batch(ImportBatch::parsed(rows), dry_run, access).await
    }

    /// [`Self::import_stations`], also checking what the rows that did not parse name.
    pub async fn import_station_batch(
        &self,
        batch: ImportBatch<'_, StationDraft, StationReferences>,
        dry_run: bool,
        access: &AccessFilter,
    ) -> StoreResult<ImportSummary> {
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.write_tx().await?;
        r.load_all_regions(&mut tx).await?;
        let mut kind = StationImport { r, db: self.kind() };
        self.run_import(&mut kind, tx, batch, dry_run, access).await
    }

    /// Every station inside `access`, by code (the export's stable order).
    pub async fn export_stations(&self, access: &AccessFilter) -> StoreResult<Vec<Station>> {
        let mut w = Where::default();
        let tree = self.region_tree().await?;
        access.restrict(&tree, &mut w, Rows::Stations);
        let sql = format!("{STATION_SELECT}{} ORDER BY s.code", w.sql());
        let rows = w.apply(sqlx::query(&sql)).fetch_all(&self.pool).await?;
        rows.iter().map(station_from_row).collect()
    }

    /// Every active station, for the finder's index.
    pub async fn finder_stations(&self) -> StoreResult<Vec<FinderStation>> {
        let rows = sqlx::query(&format!("{STATION_SELECT} WHERE s.status = 'active'")).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.extend(station_from_row(r)?.for_finder());
        }
        Ok(out)
    }

    /// The middle of the active stations in a region's subtree (the finder's starting point for a typed
    /// district), or `None` when it has none.
    pub async fn station_centroid(&self, region_code: &str) -> StoreResult<Option<LatLng>> {
        let tree = self.region_tree().await?;
        let path = tree.path_of(region_code).ok_or_else(|| crate::regions::unknown_region(region_code, "district"))?;
        let mut w = Where::default();
        w.cond("s.status = 'active'");
        let c = crate::region_tree::subtree_cond(&tree, &mut w, "s.region_code", path);
        w.cond(c);
        let sql =
            format!("SELECT COUNT(*) AS n, AVG(s.latitude) AS lat, AVG(s.longitude) AS lng FROM stations s{}", w.sql());
        let row = w.apply(sqlx::query(&sql)).fetch_one(&self.pool).await?;
        let n: i64 = row.try_get("n")?;
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(LatLng { lat: row.try_get("lat")?, lng: row.try_get("lng")? }))
    }

    /// The station counter, bumped by every change to a station in any process (a trigger).
    pub async fn station_generation(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT n FROM station_generation WHERE id = 1").fetch_one(&self.pool).await?;
        Ok(row.try_get("n")?)
    }
}

/// Stations in an import, keyed by code; each row checked and written as a single write would be, the
/// current records read a chunk at a time.
struct StationImport {
    r: Resolver,
    db: DbKind,
}

impl ImportKind for StationImport {
    type References = StationReferences;

    fn references_key(&self, refs: &StationReferences) -> Option<(String, &'static str)> {
        refs.code.as_ref().map(|c| (c.clone(), "code"))
    }

    async fn check_unparsed(
        &mut self,
        tx: &mut WriteTx,
        refs: &StationReferences,
        self_id: Option<i64>,
        _failed: &HashSet<String>,
    ) -> StoreResult<FieldErrors> {
        let mut errs = FieldErrors::default();
        check_station_references(&mut self.r, tx, refs, self_id, &mut errs).await?;
        Ok(errs)
    }
    type Draft = StationDraft;
    type Current = Station;
    const ROWS: Rows = Rows::Stations;

    fn key(&self, d: &StationDraft) -> Result<String, FieldError> {
        Ok(d.code.clone())
    }

    fn key_field(&self, _: &StationDraft) -> &'static str {
        "code"
    }

    async fn load(&mut self, tx: &mut WriteTx, keys: &[&str]) -> StoreResult<HashMap<String, Station>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!("{STATION_SELECT} WHERE s.code IN ({})", param_list(self.db, 1, keys.len()));
        let mut q = sqlx::query(&sql);
        for k in keys {
            q = q.bind((*k).to_owned());
        }
        let rows = q.fetch_all(&mut *tx.tx).await?;
        rows.iter().map(|row| station_from_row(row).map(|s| (s.code.clone(), s))).collect()
    }

    fn id_of(s: &Station) -> i64 {
        s.id
    }

    async fn apply(
        &mut self,
        tx: &mut WriteTx,
        d: &StationDraft,
        current: Option<&Station>,
    ) -> StoreResult<(i64, Outcome)> {
        let Some(s) = current else {
            return insert_station(&mut self.r, tx, d).await.map(|id| (id, Outcome::Created));
        };
        let unit = resolve_station(&mut self.r, tx, d, Some(s.id)).await?;
        if same_station(s, d, unit) {
            return Ok((s.id, Outcome::Unchanged));
        }
        update_station(&mut self.r, tx, s.id, d, None).await?;
        Ok((s.id, Outcome::Updated))
    }
}

/// Stations' inputs, for [`Store::parse_input`].
pub(crate) struct StationInputs;

impl RegistryInput for StationInputs {
    type Input = StationInput;
    type Draft = StationDraft;
    type References = StationReferences;

    fn parse(input: &StationInput) -> Result<StationDraft, (FieldErrors, Box<StationReferences>)> {
        StationDraft::parse_or_references(input)
    }

    async fn check(
        _: &Store,
        r: &mut Resolver,
        tx: &mut WriteTx,
        refs: &StationReferences,
        self_id: Option<i64>,
        found: &mut FieldErrors,
    ) -> StoreResult<()> {
        check_station_references(r, tx, refs, self_id, found).await?;
        if let Some(code) = &refs.code {
            if tx.held_by_another("stations", "code", code.clone(), self_id).await? {
                found.push(code_taken());
            }
        }
        Ok(())
    }
}
