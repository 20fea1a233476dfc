//! Party organizations, one per row (`OrganizationInput` ⇄ spreadsheet row).

use crate::columns::{Kind, EXPORT_LIST_SEPARATOR};
use crate::error::ImportError;
use crate::read::Table;
use crate::sheet::{duplicate_error, resolve_columns, text, Cells, Checked, Located, Sheet};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::org::OrganizationReferences;
use dangjian_domain::OrganizationDraft;
use std::collections::HashMap;

/// Turns each row into an [`OrganizationInput`]; the `units` cell may list several USCCs or site codes.
/// An organization code repeated in the file is a problem of the later row.
pub fn map_organizations(table: &Table, lang: &str) -> Result<Sheet<OrganizationInput>, Vec<ImportError>> {
    let columns = resolve_columns(table, Kind::Organizations, lang)?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let c = Cells { columns: &columns, row };
        let value = OrganizationInput {
            code: c.get("code"),
            name: c.get("name"),
            kind: c.get("kind"),
            parent_id: None,
            parent_code: c.get("parent_code"),
            unit_ids: Vec::new(),
            unit_codes: c.list("units"),
            region_code: c.get("region_code"),
            established_on: c.get("established_on"),
            dissolved_on: c.get("dissolved_on"),
            term_start: c.get("term_start"),
            term_end: c.get("term_end"),
            secretary: c.get("secretary"),
        };
        let mut located = Located::new(row.line, value);
        if let Some(code) = &located.value.code {
            let first = *seen.entry(code.to_uppercase()).or_insert(row.line);
            if first != row.line {
                located.problems.push((row.line, duplicate_error("code", first)));
            }
        }
        rows.push(located);
    }
    Ok(Sheet { file_name: table.file_name.clone(), columns, rows })
}

/// Maps and parses every row with [`OrganizationDraft::parse`]; every error of every row, sorted by row,
/// or the drafts if there is none.
pub fn validate_organizations(table: &Table, lang: &str) -> Result<Sheet<OrganizationDraft>, Vec<ImportError>> {
    map_organizations(table, lang)?.parse_all(OrganizationDraft::parse, lang)
}

/// The import's first step for organizations: the rows that pass every check that needs no database, and the
/// first `cap` errors of the others (with the count of all) and what
/// those rows still name, for the database to check in the same pass; `Err` only when the header row cannot be used.
pub fn check_organizations(
    table: &Table,
    lang: &str,
    cap: usize,
) -> Result<Checked<OrganizationDraft, OrganizationReferences>, Vec<ImportError>> {
    Ok(map_organizations(table, lang)?.check_rows_and_references(
        OrganizationDraft::parse_or_references,
        OrganizationReferences::of,
        lang,
        cap,
    ))
}

/// The export row of an organization, in [`Kind::Organizations`] column order (units by code, joined
/// with `、`; the parent by code).
pub fn organization_row(o: &OrganizationInput) -> Vec<String> {
    Kind::Organizations
        .columns()
        .iter()
        .map(|c| match c.key {
            "code" => text(&o.code),
            "name" => text(&o.name),
            "kind" => text(&o.kind),
            "parent_code" => text(&o.parent_code),
            "units" => o.unit_codes.join(EXPORT_LIST_SEPARATOR),
            "region_code" => text(&o.region_code),
            "established_on" => text(&o.established_on),
            "dissolved_on" => text(&o.dissolved_on),
            "term_start" => text(&o.term_start),
            "term_end" => text(&o.term_end),
            "secretary" => text(&o.secretary),
            _ => String::new(),
        })
        .collect()
}
