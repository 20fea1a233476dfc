//! Spreadsheet import and export over the registry: the one pipeline behind the CLI, the API and the
//! import page. Reading and column mapping happen in `dangjian-ingest`; checks that need the database
//! happen in the store, inside the import's transaction; every error comes back located in the file.

use dangjian_domain::access::{Action, Grant};
use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::MAX_REPORTED_ERRORS;
use dangjian_ingest::{
    check_entities, check_instructors, check_organizations, check_stations, entity_row, export_columns,
    instructor_rows, organization_row, push_error, read_table, station_row, write_csv, write_xlsx_typed, Checked,
    ErrorList, ImportError, IngestError, Kind, Sheet,
};
use dangjian_store::{AccessFilter, Disclosure, ImportBatch, ImportSummary, Store, StoreError};
use std::collections::{HashMap, HashSet};

/// Why an import did not happen. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The file could not be read at all (format, encoding, size).
    #[error("{0}")]
    Unreadable(IngestError),
    /// Rows with errors, located `FILE:ROW:COLUMN`: those found reading the rows and those found in the
    /// database, together (the first [`MAX_REPORTED_ERRORS`], and the count of all).
    #[error("{} errors", .0.total)]
    Rows(RowFailures),
    #[error(transparent)]
    Store(StoreError),
}

/// The errors of a rejected file: the first [`MAX_REPORTED_ERRORS`] by row and column, and how many
/// there were in all (`total` ≥ `errors.len()`).
#[derive(Debug, Clone, Default)]
pub struct RowFailures {
    pub errors: Vec<ImportError>,
    pub total: usize,
    /// How many of the listed errors are references to records the importer may not read (said as
    /// unknown references; counted to audit the import as `denied`).
    pub refused: usize,
}

impl RowFailures {
    fn from_list(list: ErrorList) -> Self {
        let total = list.total();
        Self { errors: list.into_sorted(), total, refused: 0 }
    }

    /// Errors of the header row (a handful at most: one per column).
    fn header(errors: Vec<ImportError>) -> ImportFailure {
        ImportFailure::Rows(Self { total: errors.len(), errors, refused: 0 })
    }

    /// Whether some errors were counted but not listed.
    pub fn is_truncated(&self) -> bool {
        self.total > self.errors.len()
    }
}

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// The outcome of an import whose rows were read into `sheet` with `errors` (the rows that failed are
/// not in `sheet`, and when there were any the store ran a dry run): the store's errors located in the
/// file and reported together with those found reading it.
fn settle<T>(
    sheet: &Sheet<T>,
    mut errors: ErrorList,
    result: Result<ImportSummary, StoreError>,
    lang: &str,
) -> Result<ImportSummary, ImportFailure> {
    match result {
        Ok(summary) if errors.is_empty() => Ok(summary),
        Ok(_) => Err(ImportFailure::Rows(RowFailures::from_list(errors))),
        Err(StoreError::ImportRows(rows)) => {
            let by_line: HashMap<usize, usize> = sheet.rows.iter().enumerate().map(|(i, r)| (r.line, i)).collect();
            // A field that failed to parse was not checked against the database; should the store still
            // say something of it (a code's own error reaches the row), the parse's error stands alone.
            let said: HashSet<(usize, String)> =
                errors.iter().filter_map(|e| Some((e.line, e.field.clone()?))).collect();
            errors.count_more(rows.total.saturating_sub(rows.errors.len()));
            for (line, fe) in &rows.errors {
                if said.contains(&(*line, fe.field.clone())) {
                    continue;
                }
                let located = match by_line.get(line) {
                    Some(&i) => sheet.error_for(&sheet.rows[i], fe, lang),
                    None => sheet.error_at(*line, fe, lang),
                };
                push_error(&mut errors, located);
            }
            let refused = rows.errors.iter().filter(|(_, fe)| fe.refused).count();
            Err(ImportFailure::Rows(RowFailures { refused, ..RowFailures::from_list(errors) }))
        }
        Err(e) => Err(ImportFailure::Store(e)),
    }
}

/// Imports a file of `kind` whole or not at all; every row must lie inside `access` (the importer's
/// scopes). `lang` chooses the language of error messages. Every error is reported at once: rows that
/// fail the checks that need no database skip the database's, and the other rows are checked against
/// the database in a dry run, so that both kinds of error come back together.
pub async fn import_file(
    store: &Store,
    kind: Kind,
    file_name: &str,
    bytes: &[u8],
    dry_run: bool,
    lang: &str,
    access: &AccessFilter,
) -> Result<ImportSummary, ImportFailure> {
    let table = read_table(file_name, bytes).map_err(ImportFailure::Unreadable)?;
    let cap = MAX_REPORTED_ERRORS;
    match kind {
        Kind::Entities => {
            let Checked { sheet, errors, unparsed } = check_entities(&table, lang, cap).map_err(RowFailures::header)?;
            drop(table);
            let rows: Vec<_> = sheet.rows.iter().map(|r| (r.line, r.value.clone())).collect();
            let batch = ImportBatch { parsed: &rows, unparsed: &unparsed };
            let result = store.import_entity_batch(batch, dry_run || !errors.is_empty(), access).await;
            settle(&sheet, errors, result, lang)
        }
        Kind::Organizations => {
            let Checked { sheet, errors, unparsed } =
                check_organizations(&table, lang, cap).map_err(RowFailures::header)?;
            let rows: Vec<_> = sheet.rows.iter().map(|r| (r.line, r.value.clone())).collect();
            let batch = ImportBatch { parsed: &rows, unparsed: &unparsed };
            let result = store.import_organization_batch(batch, dry_run || !errors.is_empty(), access).await;
            settle(&sheet, errors, result, lang)
        }
        Kind::Instructors => {
            let Checked { sheet, errors, unparsed } =
                check_instructors(&table, lang, cap).map_err(RowFailures::header)?;
            let rows: Vec<_> = sheet.rows.iter().map(|r| (r.line, r.value.clone())).collect();
            let batch = ImportBatch { parsed: &rows, unparsed: &unparsed };
            let result = store.import_instructor_batch(batch, dry_run || !errors.is_empty(), access).await;
            settle(&sheet, errors, result, lang)
        }
        Kind::Stations => {
            let Checked { sheet, errors, unparsed } = check_stations(&table, lang, cap).map_err(RowFailures::header)?;
            let rows: Vec<_> = sheet.rows.iter().map(|r| (r.line, r.value.clone())).collect();
            let batch = ImportBatch { parsed: &rows, unparsed: &unparsed };
            let result = store.import_station_batch(batch, dry_run || !errors.is_empty(), access).await;
            settle(&sheet, errors, result, lang)
        }
    }
}

fn date(d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// How much personal data an export by the holder of `grants` may carry: in full only when every grant
/// that allows exporting also allows reading personal data (the same scope), so that no row reaches a
/// file unmasked through a grant that could only see it masked (PIPL Art. 6, minimum necessary). A
/// masked export cannot be imported again; the full one, for the roles that may read personal data,
/// round-trips.
pub fn disclosure_for(grants: &[Grant]) -> Disclosure {
    let mut exporting = grants.iter().filter(|g| g.role.allows(Action::Export)).peekable();
    if exporting.peek().is_some() && exporting.all(|g| g.role.allows(Action::ReadPersonal)) {
        Disclosure::Full
    } else {
        Disclosure::Masked
    }
}

/// The rows of an export of `kind` inside `access` (the exporter's scopes), in the file's column order
/// and a stable row order; personal data as `disclosure` allows.
pub async fn export_rows(
    store: &Store,
    kind: Kind,
    disclosure: Disclosure,
    access: &AccessFilter,
) -> Result<Vec<Vec<String>>, StoreError> {
    let sectors: HashMap<String, String> =
        store.list_sectors().await?.into_iter().map(|s| (s.code, s.name_zh)).collect();
    Ok(match kind {
        Kind::Entities => {
            let all = store.export_entities(access).await?;
            let parent_ids: Vec<i64> = all.iter().filter_map(|e| e.parent_id).collect();
            let codes = store.entity_codes(&parent_ids).await?;
            all.iter()
                .map(|e| {
                    entity_row(&EntityInput {
                        uscc: e.uscc.clone(),
                        site_code: e.site_code.clone(),
                        name: Some(e.name.clone()),
                        kind: Some(e.kind.name_zh().to_owned()),
                        sectors: e
                            .sectors
                            .iter()
                            .map(|s| sectors.get(s).cloned().unwrap_or_else(|| s.clone()))
                            .collect(),
                        parent_id: None,
                        parent_uscc: e.parent_id.and_then(|p| codes.get(&p).cloned()),
                        region_code: Some(e.region_code.clone()),
                        address: e.address.clone(),
                        workers: Some(e.workers.to_string()),
                        party_members: Some(e.party_members.to_string()),
                        probationary_members: Some(e.probationary_members.to_string()),
                        established_on: date(e.established_on),
                        closed_on: date(e.closed_on),
                    })
                })
                .collect()
        }
        Kind::Organizations => store
            .export_organizations(access)
            .await?
            .iter()
            .map(|o| {
                organization_row(&OrganizationInput {
                    code: Some(o.code.clone()),
                    name: Some(o.name.clone()),
                    kind: Some(o.kind.name_zh().to_owned()),
                    parent_id: None,
                    parent_code: o.parent_code.clone(),
                    unit_ids: Vec::new(),
                    unit_codes: o.units.iter().map(|u| u.code.clone()).collect(),
                    region_code: Some(o.region_code.clone()),
                    established_on: date(o.established_on),
                    dissolved_on: date(o.dissolved_on),
                    term_start: date(o.term_start),
                    term_end: date(o.term_end),
                    secretary: o.secretary.clone(),
                })
            })
            .collect(),
        Kind::Instructors => store
            .export_instructors(disclosure, access)
            .await?
            .iter()
            .flat_map(|e| {
                let i = &e.instructor;
                instructor_rows(&InstructorInput {
                    name: Some(i.name.clone()),
                    mobile: Some(e.mobile.clone()),
                    dispatching_org: i.dispatching_org.clone(),
                    region_code: Some(i.region_code.clone()),
                    assignments: i
                        .assignments
                        .iter()
                        .map(|a| AssignmentInput {
                            entity_id: None,
                            unit_code: Some(a.entity_code.clone()),
                            start_on: date(Some(a.start_on)),
                            end_on: date(a.end_on),
                        })
                        .collect(),
                })
            })
            .collect(),
        Kind::Stations => store.export_stations(access).await?.iter().map(|s| station_row(&station_input(s))).collect(),
    })
}

/// A stored station as the input that would write it again (amenities by Chinese name, status by code).
fn station_input(s: &dangjian_store::stations::Station) -> dangjian_domain::services::stations::StationInput {
    dangjian_domain::services::stations::StationInput {
        code: Some(s.code.clone()),
        name: Some(s.name.clone()),
        operator_code: s.operator_code.clone(),
        operator_department: s.operator_department.clone(),
        address: Some(s.address.clone()),
        region_code: Some(s.region_code.clone()),
        latitude: Some(s.latitude.to_string()),
        longitude: Some(s.longitude.to_string()),
        amenities: s.amenities.iter().map(|a| a.name_zh().to_owned()).collect(),
        opening_hours: Some(s.opening_hours.clone()),
        status: Some(s.status.as_str().to_owned()),
        contact_phone: s.contact_phone.clone(),
    }
}

/// A whole export file of `kind` (Chinese headers), personal data as `disclosure` allows
/// ([`disclosure_for`] the requesting actor; the operator's command line exports in full).
pub async fn export_file(
    store: &Store,
    kind: Kind,
    format: ExportFormat,
    disclosure: Disclosure,
    access: &AccessFilter,
) -> Result<Vec<u8>, ImportFailure> {
    let rows = export_rows(store, kind, disclosure, access).await.map_err(ImportFailure::Store)?;
    let columns = export_columns(kind, "zh");
    match format {
        ExportFormat::Csv => {
            let headers: Vec<&str> = columns.iter().map(|c| c.header).collect();
            Ok(write_csv(&headers, &rows))
        }
        ExportFormat::Xlsx => write_xlsx_typed(kind.as_str(), &columns, &rows).map_err(ImportFailure::Unreadable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dangjian_domain::access::{Role, Scope};

    fn grant(role: Role) -> Grant {
        let scope = match role {
            Role::Regulator => Scope::SectorInRegion { sector: "courier".into(), path: "/44/".into() },
            Role::PlatformCommittee => Scope::Chain { root_id: 1 },
            Role::BranchSecretary => Scope::Organization { org_id: 1 },
            _ => Scope::Region { path: "/44/".into() },
        };
        Grant { role, scope }
    }

    #[test]
    fn exports_carry_full_numbers_only_for_roles_that_may_read_them() {
        let full = |roles: &[Role]| disclosure_for(&roles.iter().copied().map(grant).collect::<Vec<_>>());
        assert_eq!(full(&[Role::DepartmentCadre]), Disclosure::Full);
        assert_eq!(full(&[Role::PlatformCommittee]), Disclosure::Full);
        assert_eq!(full(&[Role::Regulator]), Disclosure::Masked);
        assert_eq!(full(&[Role::Instructor]), Disclosure::Masked);
        assert_eq!(full(&[Role::SystemAdmin]), Disclosure::Masked);
        assert_eq!(full(&[]), Disclosure::Masked);
        // A regulator's export stays masked even if the same person is a branch secretary elsewhere.
        assert_eq!(full(&[Role::Regulator, Role::BranchSecretary]), Disclosure::Masked);
        assert_eq!(full(&[Role::DepartmentCadre, Role::Regulator]), Disclosure::Masked);
        assert_eq!(full(&[Role::DepartmentCadre, Role::BranchSecretary]), Disclosure::Full);
    }
}
