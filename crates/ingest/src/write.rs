//! Exports: CSV for machines and XLSX for people, both deterministic and both safe to open in Excel.
//!
//! **Formula injection.** A cell that starts with `=`, `+`, `-`, `@`, tab or CR would be run as a formula
//! by a spreadsheet. In CSV such a cell gets one leading apostrophe (`'=1+1`), which Excel shows as text;
//! so does a cell that already starts with an apostrophe followed by one of those characters, so the
//! escaping is reversible. [`read_table`](crate::read_table) strips exactly one apostrophe from a CSV
//! cell that starts with `'` followed (after any further apostrophes) by one of those characters, so
//! export → import → export is stable. In XLSX every cell is written as a string (or a number or date
//! cell, see [`CellType`]), never as a formula, so no apostrophe is added there and none is stripped on
//! reading.

use crate::columns::{CellType, Kind};
use crate::error::IngestError;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
use std::borrow::Cow;

const FORMULA_TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell, after any leading apostrophes, starts like a formula.
fn looks_like_formula(s: &str) -> bool {
    s.trim_start_matches('\'').starts_with(FORMULA_TRIGGERS)
}

/// The CSV form of a cell: one apostrophe before a formula-looking cell (see the module docs). Cells that
/// already start with apostrophes before a trigger get one more, so [`unescape_formula`] restores them.
pub fn escape_formula(cell: &str) -> Cow<'_, str> {
    if looks_like_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undoes [`escape_formula`]: drops exactly one leading apostrophe when (after any further apostrophes)
/// a trigger character follows it.
pub fn unescape_formula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => cell,
    }
}

/// A CSV export: UTF-8 with a BOM (so Excel shows Chinese correctly), `\r\n` line ends (RFC 4180, and
/// what Excel writes), cells quoted only when they contain `,` `"` CR or LF, formula-looking cells
/// escaped. The same input always gives the same bytes.
pub fn write_csv(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                out.push(',');
            }
            let cell = escape_formula(cell);
            if cell.contains([',', '"', '\r', '\n']) {
                out.push('"');
                out.push_str(&cell.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(&cell);
            }
        }
        out.push_str("\r\n");
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out.into_bytes()
}

/// One column of an XLSX export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportColumn<'a> {
    pub header: &'a str,
    pub ty: CellType,
}

/// The export columns of `kind` with headers in `lang` (`zh…` Chinese — the default for exports, since
/// cadres open them in Excel — anything else English keys). Import accepts either.
pub fn export_columns(kind: Kind, lang: &str) -> Vec<ExportColumn<'static>> {
    kind.columns()
        .iter()
        .map(|c| ExportColumn { header: if lang.starts_with("zh") { c.zh } else { c.key }, ty: c.ty })
        .collect()
}

/// An XLSX export in which every cell is a text cell (so codes never turn into numbers).
pub fn write_xlsx(sheet_name: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, IngestError> {
    let columns: Vec<ExportColumn> =
        headers.iter().map(|&header| ExportColumn { header, ty: CellType::Text }).collect();
    write_xlsx_typed(sheet_name, &columns, rows)
}

/// The fixed creation time written into every workbook, so identical exports are identical files.
fn fixed_creation_time() -> Result<ExcelDateTime, IngestError> {
    Ok(ExcelDateTime::from_ymd(2000, 1, 1)?)
}

/// An XLSX export with typed columns on one worksheet; see [`write_xlsx_workbook`].
pub fn write_xlsx_typed(
    sheet_name: &str,
    columns: &[ExportColumn],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, IngestError> {
    write_xlsx_workbook(&[ExportSheet { name: sheet_name, columns, rows }])
}

/// One worksheet of an XLSX export.
#[derive(Debug, Clone, Copy)]
pub struct ExportSheet<'a> {
    pub name: &'a str,
    pub columns: &'a [ExportColumn<'a>],
    pub rows: &'a [Vec<String>],
}

/// An XLSX export of one or more worksheets with typed columns: [`CellType::Text`] cells are text cells
/// formatted `@`; [`CellType::Integer`] cells holding a plain whole number and [`CellType::Decimal`]
/// cells holding a plain decimal number become number cells; [`CellType::Date`] cells holding
/// `YYYY-MM-DD` become date cells shown as `yyyy-mm-dd`. Anything else is a string cell; nothing is ever
/// written as a formula. Bold, frozen header row; columns fitted to their content. Deterministic: the
/// document creation time is fixed and rust_xlsxwriter writes fixed zip timestamps.
pub fn write_xlsx_workbook(sheets: &[ExportSheet]) -> Result<Vec<u8>, IngestError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&fixed_creation_time()?));
    let header_format = Format::new().set_bold();
    let text_format = Format::new().set_num_format("@");
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for ExportSheet { name, columns, rows } in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*name)?;
        for (c, column) in columns.iter().enumerate() {
            let c = col_num(c)?;
            sheet.write_string_with_format(0, c, column.header, &header_format)?;
            if column.ty == CellType::Text {
                sheet.set_column_format(c, &text_format)?;
            }
        }
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(|_| IngestError::Write("too many rows".into()))?;
            for (c, cell) in row.iter().enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let ty = columns.get(c).map_or(CellType::Text, |col| col.ty);
                let c = col_num(c)?;
                match (ty, plain_integer(cell), plain_decimal(cell), iso_date(cell)) {
                    (CellType::Integer, Some(n), _, _) | (CellType::Decimal, _, Some(n), _) => {
                        sheet.write_number(r, c, n)?
                    }
                    (CellType::Date, _, _, Some(d)) => sheet.write_datetime_with_format(r, c, d, &date_format)?,
                    (CellType::Text, _, _, _) => sheet.write_string_with_format(r, c, cell, &text_format)?,
                    _ => sheet.write_string(r, c, cell)?,
                };
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofit();
    }
    Ok(workbook.save_to_buffer()?)
}

/// A decimal number written plainly: digits, at most one point, an optional leading minus, finite.
fn plain_decimal(s: &str) -> Option<f64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let plain = !digits.is_empty()
        && digits.len() <= 20
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.');
    plain.then(|| s.parse::<f64>().ok()).flatten().filter(|v| v.is_finite())
}

fn col_num(c: usize) -> Result<u16, IngestError> {
    u16::try_from(c).map_err(|_| IngestError::Write("too many columns".into()))
}

/// A whole number written without sign, leading zeros or separators, small enough to stay exact.
fn plain_integer(s: &str) -> Option<f64> {
    let plain =
        !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    plain.then(|| s.parse::<u64>().ok()).flatten().map(|n| n as f64)
}

fn iso_date(s: &str) -> Option<ExcelDateTime> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    use chrono::Datelike;
    let (y, m, d) = (u16::try_from(date.year()).ok()?, date.month() as u8, date.day() as u8);
    ExcelDateTime::from_ymd(y, m, d).ok()
}
