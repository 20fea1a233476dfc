//! XLSX through calamine (first worksheet), after the zip has been checked not to expand beyond the limit.

use crate::columns::is_date_header;
use crate::error::IngestError;
use calamine::{open_workbook_from_rs, Data, ExcelDateTime, ExcelDateTimeType, Reader, Xlsx};
use std::io::{Cursor, Read};

/// Excel serial of 9999-12-31, the last date Excel knows.
const LAST_EXCEL_SERIAL: f64 = 2_958_465.0;

pub(super) fn read_rows(
    file: &str,
    bytes: &[u8],
    max_uncompressed: u64,
) -> Result<Vec<(usize, Vec<String>)>, IngestError> {
    check_expansion(file, bytes, max_uncompressed)?;
    let bad = |e: calamine::XlsxError| IngestError::BadWorkbook { file: file.to_owned(), reason: e.to_string() };
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(bad)?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| IngestError::NoWorksheet { file: file.to_owned() })?
        .map_err(bad)?;
    let Some((first_row, first_col)) = range.start() else { return Ok(Vec::new()) };
    let (first_row, first_col) = (first_row as usize, first_col as usize);

    // A numeric cell is an Excel serial date when its column's header names a date column.
    let header = range.rows().find(|r| r.iter().any(|c| !cell_text(c, false).trim().is_empty()));
    let date_columns: Vec<bool> =
        header.map(|r| r.iter().map(|c| is_date_header(&cell_text(c, false))).collect()).unwrap_or_default();

    let rows = range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            // Pad so that index 0 is always column A, whatever the sheet's used range starts at.
            let mut cells = vec![String::new(); first_col];
            cells.extend(
                row.iter().enumerate().map(|(j, c)| cell_text(c, date_columns.get(j).copied().unwrap_or(false))),
            );
            (first_row + i + 1, cells)
        })
        .collect();
    Ok(rows)
}

/// Refuses a workbook whose entries would expand beyond `limit` bytes: first by the sizes the central
/// directory declares (cheap), then by actually inflating each entry into a sink with a cap, since the
/// declared sizes of a hostile file can lie and neither zip nor calamine bounds the output.
fn check_expansion(file: &str, bytes: &[u8], limit: u64) -> Result<(), IngestError> {
    let bad = |reason: String| IngestError::BadWorkbook { file: file.to_owned(), reason };
    let too_large = || IngestError::ExpandsTooLarge { file: file.to_owned(), limit };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let mut declared = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| bad(e.to_string()))?;
        declared = declared.saturating_add(entry.size());
        if declared > limit {
            return Err(too_large());
        }
    }
    let mut remaining = limit;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| bad(e.to_string()))?;
        let inflated = std::io::copy(&mut entry.take(remaining.saturating_add(1)), &mut std::io::sink())
            .map_err(|e| bad(e.to_string()))?;
        if inflated > remaining {
            return Err(too_large());
        }
        remaining -= inflated;
    }
    Ok(())
}

/// The text a person sees in the cell: whole numbers without `.0`, dates as `YYYY-MM-DD`.
fn cell_text(cell: &Data, date_column: bool) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) if date_column => serial_date(*i as f64).unwrap_or_else(|| i.to_string()),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if date_column => serial_date(*f).unwrap_or_else(|| number_text(*f)),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) if dt.is_duration() => number_text(dt.as_f64()),
        Data::DateTime(dt) => datetime_text(dt, date_column),
        Data::DateTimeIso(s) => iso_text(s, date_column),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// A number in a date column read as an Excel (1900 system) serial date, when it is in Excel's date range.
fn serial_date(serial: f64) -> Option<String> {
    (1.0..=LAST_EXCEL_SERIAL)
        .contains(&serial)
        .then(|| datetime_text(&ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false), true))
}

/// `YYYY-MM-DD`, with ` HH:MM:SS` only when the cell has a time of day and is not in a date column.
fn datetime_text(dt: &ExcelDateTime, date_column: bool) -> String {
    let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
    if date_column || (hh, mm, ss) == (0, 0, 0) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
    }
}

fn iso_text(s: &str, date_column: bool) -> String {
    match s.split_once('T') {
        Some((date, time)) if date_column || time.chars().all(|c| matches!(c, '0' | ':' | '.' | 'Z')) => {
            date.to_owned()
        }
        Some((date, time)) => format!("{date} {time}"),
        None => s.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::read::{read_table, read_table_with_limits, Limits};
    use rust_xlsxwriter::{ExcelDateTime as WDate, Format, Workbook};

    #[test]
    fn cells_as_people_see_them() {
        assert_eq!(cell_text(&Data::Float(12.0), false), "12");
        assert_eq!(cell_text(&Data::Float(12.5), false), "12.5");
        assert_eq!(cell_text(&Data::Float(13912345678.0), false), "13912345678");
        assert_eq!(cell_text(&Data::Int(45352), true), "2024-03-01");
        assert_eq!(cell_text(&Data::Float(45352.75), true), "2024-03-01");
        assert_eq!(cell_text(&Data::Float(20240301.0), true), "20240301");
        assert_eq!(cell_text(&Data::Float(45352.0), false), "45352");
        assert_eq!(cell_text(&Data::DateTimeIso("2024-03-01T00:00:00".into()), false), "2024-03-01");
        assert_eq!(cell_text(&Data::DateTimeIso("2024-03-01T08:30:00".into()), false), "2024-03-01 08:30:00");
        assert_eq!(cell_text(&Data::Error(calamine::CellErrorType::NA), false), "#N/A");
        let dt = ExcelDateTime::new(45352.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(dt), false), "2024-03-01 12:00:00");
        let dt = ExcelDateTime::new(43890.0, ExcelDateTimeType::DateTime, true);
        assert_eq!(cell_text(&Data::DateTime(dt), false), "2024-03-01");
    }

    fn workbook_bytes() -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let date = Format::new().set_num_format("yyyy/m/d");
        // Headers start at B2: the table still reports Excel's own row numbers and column letters.
        for (c, h) in ["名称", "从业人员数", "成立日期", "注销日期", "行政区划代码"].iter().enumerate()
        {
            ws.write_string(1, 1 + c as u16, *h).unwrap();
        }
        ws.write_string(2, 1, "望京站").unwrap();
        ws.write_number(2, 2, 40.0).unwrap();
        ws.write_datetime_with_format(2, 3, WDate::from_ymd(2021, 5, 1).unwrap(), &date).unwrap();
        ws.write_number(2, 4, 45352.0).unwrap();
        ws.write_string(2, 5, "110105").unwrap();
        ws.write_string(4, 1, "酒仙桥站").unwrap();
        ws.write_number(4, 2, 7.5).unwrap();
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn dates_numbers_and_positions_read_back() {
        let t = read_table("站点.xlsx", &workbook_bytes()).unwrap();
        assert_eq!(t.header_line, 2);
        assert_eq!(t.headers, vec!["", "名称", "从业人员数", "成立日期", "注销日期", "行政区划代码"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.rows[0].cells, vec!["", "望京站", "40", "2021-05-01", "2024-03-01", "110105"]);
        assert_eq!(t.rows[1].line, 5);
        assert_eq!(t.rows[1].cells[1..3], ["酒仙桥站".to_owned(), "7.5".to_owned()]);
    }

    #[test]
    fn declared_size_over_the_limit_is_refused() {
        let bytes = workbook_bytes();
        let limits = Limits { max_uncompressed_bytes: 1000, ..Limits::default() };
        let e = read_table_with_limits("bomb.xlsx", &bytes, limits).unwrap_err();
        assert!(matches!(e, IngestError::ExpandsTooLarge { limit: 1000, .. }), "{e}");
        assert!(read_table("bomb.xlsx", &bytes).is_ok());
    }

    /// A zip whose central directory claims 10 bytes for an entry that inflates to 1 MiB.
    fn lying_zip() -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        w.start_file("xl/big.xml", opts).unwrap();
        w.write_all(&vec![b'a'; 1 << 20]).unwrap();
        let mut bytes = w.finish().unwrap().into_inner();
        let patch = |bytes: &mut Vec<u8>, sig: &[u8], offset: usize| {
            let at = bytes.windows(4).position(|w| w == sig).unwrap() + offset;
            bytes[at..at + 4].copy_from_slice(&10u32.to_le_bytes());
        };
        patch(&mut bytes, b"PK\x03\x04", 22);
        patch(&mut bytes, b"PK\x01\x02", 24);
        bytes
    }

    #[test]
    fn lying_declared_sizes_are_caught_while_inflating() {
        let limits = Limits { max_uncompressed_bytes: 64 * 1024, ..Limits::default() };
        let e = read_table_with_limits("bomb.xlsx", &lying_zip(), limits).unwrap_err();
        assert!(matches!(e, IngestError::ExpandsTooLarge { .. }), "{e}");
    }

    #[test]
    fn a_zip_that_is_not_a_workbook() {
        let e = read_table("x.xlsx", b"PK\x03\x04garbage").unwrap_err();
        assert!(matches!(e, IngestError::BadWorkbook { .. }), "{e}");
    }
}
