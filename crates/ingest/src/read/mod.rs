//! Reading an uploaded file into a [`Table`] of text cells: format and encoding detection, size limits,
//! XLSX cell values turned into the text a person sees.

mod csv_text;
mod xlsx;

use crate::error::IngestError;
use crate::write::unescape_formula;

/// Largest file accepted, in bytes (20 MiB).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Largest total size of an XLSX workbook's zip entries once expanded, in bytes (200 MiB).
pub const MAX_UNCOMPRESSED_BYTES: u64 = 200 * 1024 * 1024;

/// Size limits applied while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: usize,
    pub max_uncompressed_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_file_bytes: MAX_FILE_BYTES, max_uncompressed_bytes: MAX_UNCOMPRESSED_BYTES }
    }
}

/// A sheet as text: the header row and the non-empty rows under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub file_name: String,
    /// Spreadsheet row of the header: the first non-empty row, normally 1.
    pub header_line: usize,
    /// Headers as written, without BOM and surrounding spaces. Index 0 is column `A`.
    pub headers: Vec<String>,
    pub rows: Vec<TableRow>,
}

/// One non-empty row under the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// 1-based spreadsheet row number, as Excel shows it (the header is normally row 1; blank rows count).
    pub line: usize,
    /// Cells as text, index-aligned with [`Table::headers`].
    pub cells: Vec<String>,
}

impl TableRow {
    /// The cell at `index`, or `""` past the end.
    pub fn cell(&self, index: usize) -> &str {
        self.cells.get(index).map(String::as_str).unwrap_or("")
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads a CSV or XLSX file with the default [`Limits`].
///
/// The format is detected from the content, not the name: a zip (`PK\x03\x04`) is read as XLSX (first
/// worksheet), anything else as CSV (UTF-8 with or without BOM, UTF-16 with BOM, otherwise GBK/GB18030).
/// Fully empty rows are skipped; the first non-empty row is the header. In CSV, a cell that starts with
/// `'` followed (after any further apostrophes) by `=`, `+`, `-`, `@`, tab or CR loses exactly that one
/// apostrophe, undoing the formula escaping of [`write_csv`](crate::write_csv), so export → import →
/// export is stable. XLSX cells are taken as they are: exports never escape them, and Excel itself drops
/// the apostrophe when it opens such a CSV.
pub fn read_table(file_name: &str, bytes: &[u8]) -> Result<Table, IngestError> {
    read_table_with_limits(file_name, bytes, Limits::default())
}

/// [`read_table`] with explicit size limits.
pub fn read_table_with_limits(file_name: &str, bytes: &[u8], limits: Limits) -> Result<Table, IngestError> {
    if bytes.len() > limits.max_file_bytes {
        return Err(IngestError::FileTooLarge {
            file: file_name.to_owned(),
            size: bytes.len(),
            limit: limits.max_file_bytes,
        });
    }
    if bytes.starts_with(ZIP_MAGIC) {
        let rows = xlsx::read_rows(file_name, bytes, limits.max_uncompressed_bytes)?;
        assemble(file_name, rows, Format::Xlsx)
    } else if bytes.starts_with(OLE_MAGIC) {
        Err(IngestError::UnsupportedFormat { file: file_name.to_owned() })
    } else {
        let rows = csv_text::read_rows(file_name, bytes)?;
        assemble(file_name, rows, Format::Csv)
    }
}

fn is_blank(cell: &str) -> bool {
    cell.trim().is_empty()
}

fn clean_header(h: &str) -> String {
    h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}').to_owned()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// Builds the table from raw `(line, cells)` rows: drops blank rows, takes the first as header, and for
/// CSV checks every row has as many cells as the header and strips the formula escaping.
fn assemble(file: &str, raw: Vec<(usize, Vec<String>)>, format: Format) -> Result<Table, IngestError> {
    let mut rows = raw.into_iter().filter(|(_, cells)| !cells.iter().all(|c| is_blank(c)));
    let (header_line, header) = rows.next().ok_or_else(|| IngestError::NoHeader { file: file.to_owned() })?;
    let headers: Vec<String> = header.iter().map(|h| clean_header(h)).collect();
    let mut out = Vec::new();
    for (line, cells) in rows {
        if format == Format::Csv && cells.len() != headers.len() {
            return Err(IngestError::RowLength {
                file: file.to_owned(),
                line,
                expected: headers.len(),
                found: cells.len(),
            });
        }
        let cells = match format {
            Format::Csv => cells.into_iter().map(|c| unescape_formula(&c).to_owned()).collect(),
            Format::Xlsx => cells,
        };
        out.push(TableRow { line, cells });
    }
    Ok(Table { file_name: file.to_owned(), header_line, headers, rows: out })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn too_large() {
        let limits = Limits { max_file_bytes: 10, ..Limits::default() };
        let e = read_table_with_limits("a.csv", b"name,kind\nx,y\n", limits).unwrap_err();
        assert!(matches!(e, IngestError::FileTooLarge { size: 14, limit: 10, .. }), "{e}");
    }

    #[test]
    fn old_xls_is_refused_clearly() {
        let mut bytes = OLE_MAGIC.to_vec();
        bytes.extend_from_slice(&[0; 100]);
        let e = read_table("旧表.xls", &bytes).unwrap_err();
        assert!(matches!(e, IngestError::UnsupportedFormat { .. }));
        assert!(e.localized("zh").contains("另存为"));
    }

    #[test]
    fn empty_file_has_no_header() {
        assert!(matches!(read_table("e.csv", b"\xEF\xBB\xBF\r\n,,\r\n"), Err(IngestError::NoHeader { .. })));
    }
}
