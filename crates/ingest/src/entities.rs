//! Units of the platform chain, one per row (`EntityInput` ⇄ spreadsheet row).

use crate::columns::{Kind, EXPORT_LIST_SEPARATOR};
use crate::error::ImportError;
use crate::read::Table;
use crate::sheet::{duplicate_error, resolve_columns, text, Cells, Checked, Located, Sheet};
use dangjian_domain::entity::EntityInput;
use dangjian_domain::entity::EntityReferences;
use dangjian_domain::EntityDraft;
use std::collections::HashMap;

/// Turns each row into an [`EntityInput`]. Header problems are errors; a USCC or site code repeated in
/// the file is recorded as a problem of the later row (reported by [`Sheet::parse_rows`]).
pub fn map_entities(table: &Table, lang: &str) -> Result<Sheet<EntityInput>, Vec<ImportError>> {
    let columns = resolve_columns(table, Kind::Entities, lang)?;
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let c = Cells { columns: &columns, row };
        let value = EntityInput {
            uscc: c.get("uscc"),
            site_code: c.get("site_code"),
            name: c.get("name"),
            kind: c.get("kind"),
            sectors: c.list("sector"),
            parent_id: None,
            parent_uscc: c.get("parent_uscc"),
            region_code: c.get("region_code"),
            address: c.get("address"),
            workers: c.get("workers"),
            party_members: c.get("party_members"),
            probationary_members: c.get("probationary_members"),
            established_on: c.get("established_on"),
            closed_on: c.get("closed_on"),
        };
        let mut located = Located::new(row.line, value);
        for (field, code) in [("uscc", &located.value.uscc), ("site_code", &located.value.site_code)] {
            if let Some(code) = code {
                let first = *seen.entry((field, code.to_uppercase())).or_insert(row.line);
                if first != row.line {
                    located.problems.push((row.line, duplicate_error(field, first)));
                }
            }
        }
        rows.push(located);
    }
    Ok(Sheet { file_name: table.file_name.clone(), columns, rows })
}

/// Maps and parses every row with [`EntityDraft::parse`]; every error of every row, sorted by row, or
/// the drafts if there is none.
pub fn validate_entities(table: &Table, lang: &str) -> Result<Sheet<EntityDraft>, Vec<ImportError>> {
    map_entities(table, lang)?.parse_all(EntityDraft::parse, lang)
}

/// The import's first step for entities: the rows that pass every check that needs no database, and the
/// first `cap` errors of the others (with the count of all) and what
/// those rows still name, for the database to check in the same pass; `Err` only when the header row cannot be used.
pub fn check_entities(
    table: &Table,
    lang: &str,
    cap: usize,
) -> Result<Checked<EntityDraft, EntityReferences>, Vec<ImportError>> {
    Ok(map_entities(table, lang)?.check_rows_and_references(
        EntityDraft::parse_or_references,
        EntityReferences::of,
        lang,
        cap,
    ))
}

/// The export row of a unit, in [`Kind::Entities`] column order (sectors joined with `、`; the parent
/// by `parent_uscc`, since ids mean nothing in a file).
pub fn entity_row(e: &EntityInput) -> Vec<String> {
    Kind::Entities
        .columns()
        .iter()
        .map(|c| match c.key {
            "uscc" => text(&e.uscc),
            "site_code" => text(&e.site_code),
            "name" => text(&e.name),
            "kind" => text(&e.kind),
            "sector" => e.sectors.join(EXPORT_LIST_SEPARATOR),
            "parent_uscc" => text(&e.parent_uscc),
            "region_code" => text(&e.region_code),
            "address" => text(&e.address),
            "workers" => text(&e.workers),
            "party_members" => text(&e.party_members),
            "probationary_members" => text(&e.probationary_members),
            "established_on" => text(&e.established_on),
            "closed_on" => text(&e.closed_on),
            _ => String::new(),
        })
        .collect()
}
