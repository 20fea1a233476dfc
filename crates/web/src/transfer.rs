//! Spreadsheet import and export over the registry: the one pipeline behind the CLI, the API and the
//! import page. Reading and column mapping happen in `dangjian-ingest`; checks that need the database
//! happen in the store, inside the import's transaction; every error comes back located in the file.

use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::{EntityDraft, InstructorDraft, OrganizationDraft};
use dangjian_ingest::{
    entity_row, export_columns, instructor_rows, map_entities, map_instructors, map_organizations, organization_row,
    read_table, write_csv, write_xlsx_typed, ImportError, IngestError, Kind, Sheet,
};
use dangjian_store::{ImportSummary, Store, StoreError};
use std::collections::HashMap;

/// Why an import did not happen. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The file could not be read at all (format, encoding, size).
    #[error("{0}")]
    Unreadable(IngestError),
    /// Rows with errors, every one of them, located `FILE:ROW:COLUMN`.
    #[error("{} errors", .0.len())]
    Rows(Vec<ImportError>),
    #[error(transparent)]
    Store(StoreError),
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

fn locate_store_errors<T>(sheet: &Sheet<T>, e: StoreError, lang: &str) -> ImportFailure {
    match e {
        StoreError::ImportRows(rows) => {
            let by_line: HashMap<usize, usize> = sheet.rows.iter().enumerate().map(|(i, r)| (r.line, i)).collect();
            let mut errs: Vec<ImportError> = rows
                .iter()
                .map(|(line, fe)| match by_line.get(line) {
                    Some(&i) => sheet.error_for(&sheet.rows[i], fe, lang),
                    None => sheet.error_at(*line, fe, lang),
                })
                .collect();
            errs.sort_by_key(|e| (e.line, e.column_index()));
            ImportFailure::Rows(errs)
        }
        e => ImportFailure::Store(e),
    }
}

/// Imports a file of `kind` whole or not at all. `lang` chooses the language of error messages.
///
/// Every error is reported in one pass: rows that fail their own checks are reported, and the rows
/// that pass are still run through the database's checks (in a transaction that is rolled back), so
/// an unknown region in row 9 is reported together with a bad check character in row 7.
pub async fn import_file(
    store: &Store,
    kind: Kind,
    file_name: &str,
    bytes: &[u8],
    dry_run: bool,
    lang: &str,
) -> Result<ImportSummary, ImportFailure> {
    let table = read_table(file_name, bytes).map_err(ImportFailure::Unreadable)?;
    match kind {
        Kind::Entities => {
            let (sheet, errors) =
                map_entities(&table, lang).map_err(ImportFailure::Rows)?.parse_rows(EntityDraft::parse, lang);
            let rows: Vec<_> = sheet.rows.iter().map(|r| (r.line, r.value.clone())).collect();
            let result = store.import_entities(&rows, dry_run || !errors.is_empty()).await;
            finish(&sheet, errors, result, lang)
        }
        Kind::Organizations => {
            let (sheet, errors) = map_organizations(&table, lang)
                .map_err(ImportFailure::Rows)?
                .parse_rows(OrganizationDraft::parse, lang);
            let rows: Vec<_> = sheet.rows.iter().map(|r| (r.line, r.value.clone())).collect();
            let result = store.import_organizations(&rows, dry_run || !errors.is_empty()).await;
            finish(&sheet, errors, result, lang)
        }
        Kind::Instructors => {
            let (sheet, errors) =
                map_instructors(&table, lang).map_err(ImportFailure::Rows)?.parse_rows(InstructorDraft::parse, lang);
            let rows: Vec<_> = sheet.rows.iter().map(|r| (r.line, r.value.clone())).collect();
            let result = store.import_instructors(&rows, dry_run || !errors.is_empty()).await;
            finish(&sheet, errors, result, lang)
        }
    }
}

/// Merges the rows' own errors with what the database's checks said about the other rows.
fn finish<T>(
    sheet: &Sheet<T>,
    mut errors: Vec<ImportError>,
    result: Result<ImportSummary, StoreError>,
    lang: &str,
) -> Result<ImportSummary, ImportFailure> {
    match result {
        Ok(summary) if errors.is_empty() => return Ok(summary),
        Ok(_) => {}
        Err(e) => match locate_store_errors(sheet, e, lang) {
            ImportFailure::Rows(more) => errors.extend(more),
            other if errors.is_empty() => return Err(other),
            _ => {}
        },
    }
    errors.sort_by_key(|e| (e.line, e.column_index()));
    errors.dedup_by(|a, b| a.line == b.line && a.column == b.column && a.code == b.code);
    Err(ImportFailure::Rows(errors))
}

fn date(d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// The rows of an export of `kind`, in the file's column order and a stable row order.
pub async fn export_rows(store: &Store, kind: Kind) -> Result<Vec<Vec<String>>, StoreError> {
    let sectors: HashMap<String, String> =
        store.list_sectors().await?.into_iter().map(|s| (s.code, s.name_zh)).collect();
    Ok(match kind {
        Kind::Entities => {
            let all = store.export_entities().await?;
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
            .export_organizations()
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
            .export_instructors()
            .await?
            .iter()
            .flat_map(|i| {
                instructor_rows(&InstructorInput {
                    name: Some(i.name.clone()),
                    mobile: Some(i.mobile.clone()),
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
    })
}

/// A whole export file of `kind` (Chinese headers).
pub async fn export_file(store: &Store, kind: Kind, format: ExportFormat) -> Result<Vec<u8>, ImportFailure> {
    let rows = export_rows(store, kind).await.map_err(ImportFailure::Store)?;
    let columns = export_columns(kind, "zh");
    match format {
        ExportFormat::Csv => {
            let headers: Vec<&str> = columns.iter().map(|c| c.header).collect();
            Ok(write_csv(&headers, &rows))
        }
        ExportFormat::Xlsx => write_xlsx_typed(kind.as_str(), &columns, &rows).map_err(ImportFailure::Unreadable),
    }
}
