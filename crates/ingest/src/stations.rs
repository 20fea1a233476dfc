//! Worker stations, one per row (`StationInput` ⇄ spreadsheet row).

use crate::columns::{Kind, EXPORT_LIST_SEPARATOR};
use crate::error::ImportError;
use crate::read::Table;
use crate::sheet::{duplicate_error, resolve_columns, text, Cells, Checked, Located, Sheet};
use dangjian_domain::services::stations::StationReferences;
use dangjian_domain::services::stations::{StationDraft, StationInput};
use std::collections::HashMap;

/// Turns each row into a [`StationInput`]; the `amenities` cell may list several codes or names. A
/// station code repeated in the file is a problem of the later row.
pub fn map_stations(table: &Table, lang: &str) -> Result<Sheet<StationInput>, Vec<ImportError>> {
    let columns = resolve_columns(table, Kind::Stations, lang)?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let c = Cells { columns: &columns, row };
        let value = StationInput {
            code: c.get("code"),
            name: c.get("name"),
            operator_code: c.get("operator_code"),
            operator_department: c.get("operator_department"),
            address: c.get("address"),
            region_code: c.get("region_code"),
            latitude: c.get("latitude"),
            longitude: c.get("longitude"),
            amenities: c.list("amenities"),
            opening_hours: c.get("opening_hours"),
            status: c.get("status"),
            contact_phone: c.get("contact_phone"),
        };
        let mut located = Located::new(row.line, value);
        if let Some(code) = &located.value.code {
            let first = *seen.entry(code.trim().to_uppercase()).or_insert(row.line);
            if first != row.line {
                located.problems.push((row.line, duplicate_error("code", first)));
            }
        }
        rows.push(located);
    }
    Ok(Sheet { file_name: table.file_name.clone(), columns, rows })
}

/// Maps and parses every row with [`StationDraft::parse`]; every error of every row, sorted by row, or
/// the drafts if there is none.
pub fn validate_stations(table: &Table, lang: &str) -> Result<Sheet<StationDraft>, Vec<ImportError>> {
    map_stations(table, lang)?.parse_all(StationDraft::parse, lang)
}

/// The import's first step for stations: the rows that pass every check that needs no database, and the
/// first `cap` errors of the others (with the count of all) and what
/// those rows still name, for the database to check in the same pass; `Err` only when the header row cannot be used.
pub fn check_stations(
    table: &Table,
    lang: &str,
    cap: usize,
) -> Result<Checked<StationDraft, StationReferences>, Vec<ImportError>> {
    Ok(map_stations(table, lang)?.check_rows_and_references(
        StationDraft::parse_or_references,
        StationReferences::of,
        lang,
        cap,
    ))
}

/// The export row of a station, in [`Kind::Stations`] column order (amenities by Chinese name, joined
/// with `、`).
pub fn station_row(s: &StationInput) -> Vec<String> {
    Kind::Stations
        .columns()
        .iter()
        .map(|c| match c.key {
            "code" => text(&s.code),
            "name" => text(&s.name),
            "operator_code" => text(&s.operator_code),
            "operator_department" => text(&s.operator_department),
            "address" => text(&s.address),
            "region_code" => text(&s.region_code),
            "latitude" => text(&s.latitude),
            "longitude" => text(&s.longitude),
            "amenities" => s.amenities.join(EXPORT_LIST_SEPARATOR),
            "opening_hours" => text(&s.opening_hours),
            "status" => text(&s.status),
            "contact_phone" => text(&s.contact_phone),
            _ => String::new(),
        })
        .collect()
}
