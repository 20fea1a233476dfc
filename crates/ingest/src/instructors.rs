//! Instructors: one row per assignment; rows with the same mobile number are one instructor
//! (`InstructorInput` ⇄ spreadsheet rows).

use crate::columns::Kind;
use crate::error::ImportError;
use crate::read::Table;
use crate::sheet::{resolve_columns, text, Cells, Checked, Located, Sheet};
use dangjian_domain::instructor::InstructorReferences;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, InstructorDraft};
use std::collections::HashMap;

/// Groups rows by mobile number (digits only, without a leading `86`) into instructors with all their
/// assignments, remembering each assignment's row. A row with an empty unit, start and end date adds no
/// assignment. Later rows may leave name, dispatching unit and region empty; if they give a different
/// value, that is a problem of the later row. Rows without a usable mobile number stay on their own.
pub fn map_instructors(table: &Table, lang: &str) -> Result<Sheet<InstructorInput>, Vec<ImportError>> {
    let columns = resolve_columns(table, Kind::Instructors, lang)?;
    let mut groups: Vec<Located<InstructorInput>> = Vec::new();
    let mut by_mobile: HashMap<String, usize> = HashMap::new();
    for row in &table.rows {
        let c = Cells { columns: &columns, row };
        let (unit_code, start_on, end_on) = (c.get("unit"), c.get("start_on"), c.get("end_on"));
        let assignment = (unit_code.is_some() || start_on.is_some() || end_on.is_some()).then_some(AssignmentInput {
            entity_id: None,
            unit_code,
            start_on,
            end_on,
        });
        let key = c.get("mobile").map(|m| mobile_key(&m)).filter(|k| !k.is_empty());
        let existing = key.as_ref().and_then(|k| by_mobile.get(k)).copied();
        let group = match existing {
            Some(g) => {
                let group = &mut groups[g];
                let first = group.line;
                let v = &mut group.value;
                for (field, slot) in [
                    ("name", &mut v.name),
                    ("dispatching_org", &mut v.dispatching_org),
                    ("region_code", &mut v.region_code),
                ] {
                    if let Some(e) = merge(slot, c.get(field), field, first) {
                        group.problems.push((row.line, e));
                    }
                }
                group
            }
            None => {
                if let Some(k) = key {
                    by_mobile.insert(k, groups.len());
                }
                let value = InstructorInput {
                    name: c.get("name"),
                    mobile: c.get("mobile"),
                    dispatching_org: c.get("dispatching_org"),
                    region_code: c.get("region_code"),
                    assignments: Vec::new(),
                };
                groups.push(Located::new(row.line, value));
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        if let Some(a) = assignment {
            group.value.assignments.push(a);
            group.assignment_lines.push(row.line);
        }
    }
    Ok(Sheet { file_name: table.file_name.clone(), columns, rows: groups })
}

/// Maps, groups and parses every instructor with [`InstructorDraft::parse`]; every error of every row,
/// sorted by row, or the drafts if there is none.
pub fn validate_instructors(table: &Table, lang: &str) -> Result<Sheet<InstructorDraft>, Vec<ImportError>> {
    map_instructors(table, lang)?.parse_all(InstructorDraft::parse, lang)
}

/// The import's first step for instructors: the rows that pass every check that needs no database, and the
/// first `cap` errors of the others (with the count of all) and what
/// those rows still name, for the database to check in the same pass; `Err` only when the header row cannot be used.
pub fn check_instructors(
    table: &Table,
    lang: &str,
    cap: usize,
) -> Result<Checked<InstructorDraft, InstructorReferences>, Vec<ImportError>> {
    Ok(map_instructors(table, lang)?.check_rows_and_references(
        InstructorDraft::parse_or_references,
        InstructorReferences::of,
        lang,
        cap,
    ))
}

/// The export rows of an instructor, in [`Kind::Instructors`] column order: one per assignment (by unit
/// code), or one with empty assignment cells if there is none.
pub fn instructor_rows(i: &InstructorInput) -> Vec<Vec<String>> {
    let row = |a: Option<&AssignmentInput>| -> Vec<String> {
        Kind::Instructors
            .columns()
            .iter()
            .map(|c| match c.key {
                "name" => text(&i.name),
                "mobile" => text(&i.mobile),
                "dispatching_org" => text(&i.dispatching_org),
                "region_code" => text(&i.region_code),
                "unit" => a.map(|a| text(&a.unit_code)).unwrap_or_default(),
                "start_on" => a.map(|a| text(&a.start_on)).unwrap_or_default(),
                "end_on" => a.map(|a| text(&a.end_on)).unwrap_or_default(),
                _ => String::new(),
            })
            .collect()
    };
    if i.assignments.is_empty() {
        vec![row(None)]
    } else {
        i.assignments.iter().map(|a| row(Some(a))).collect()
    }
}

/// The grouping key of a mobile number: its digits, without a leading `86` country code.
fn mobile_key(mobile: &str) -> String {
    let digits: String = mobile.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest.to_owned(),
        _ => digits,
    }
}

/// Fills an empty slot from a later row, or reports a later row that disagrees with the first.
fn merge(slot: &mut Option<String>, given: Option<String>, field: &str, first_line: usize) -> Option<FieldError> {
    match (slot.as_deref(), given) {
        (_, None) => None,
        (None, Some(v)) => {
            *slot = Some(v);
            None
        }
        (Some(have), Some(v)) if have == v => None,
        (Some(have), Some(v)) => Some(FieldError::new(
            field,
            "conflicting_value",
            Message::new("problem.conflicting_value").arg("first_line", first_line).arg("have", have).arg("v", v),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_keys() {
        assert_eq!(mobile_key("139 1234 5678"), "13912345678");
        assert_eq!(mobile_key("+86-139-1234-5678"), "13912345678");
        assert_eq!(mobile_key("8613912345678"), "13912345678");
        assert_eq!(mobile_key("无"), "");
    }
}
