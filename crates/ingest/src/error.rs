//! The two error types of this crate: [`IngestError`] when a file cannot be read as a table at all, and
//! [`ImportError`] for one problem in one cell (or header) of a table that could be read.

use dangjian_domain::Message;
use serde::Serialize;

/// A file that cannot be turned into a [`Table`](crate::Table): too large, not a workbook, undecodable.
/// Each starts with the file name (and the row, when there is one); [`IngestError::message`] says it
/// from the catalogue, `Display` in English.
#[derive(Debug)]
pub enum IngestError {
    FileTooLarge { file: String, size: usize, limit: usize },
    ExpandsTooLarge { file: String, limit: u64 },
    BadWorkbook { file: String, reason: String },
    UnsupportedFormat { file: String },
    NoWorksheet { file: String },
    Encoding { file: String, line: usize },
    Csv { file: String, line: usize, reason: String },
    RowLength { file: String, line: usize, expected: usize, found: usize },
    NoHeader { file: String },
    Write(String),
}

impl IngestError {
    /// The spreadsheet row the error is about, if it is about one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Encoding { line, .. } | Self::Csv { line, .. } | Self::RowLength { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The whole message (with file and row), from the catalogue.
    pub fn message(&self) -> Message {
        match self {
            Self::FileTooLarge { file, size, limit } => {
                Message::new("ingest.file_too_large").arg("file", file).arg("size", size).arg("limit", limit)
            }
            Self::ExpandsTooLarge { file, limit } => {
                Message::new("ingest.expands_too_large").arg("file", file).arg("limit", limit)
            }
            Self::BadWorkbook { file, reason } => {
                Message::new("ingest.bad_workbook").arg("file", file).arg("reason", reason)
            }
            Self::UnsupportedFormat { file } => Message::new("ingest.unsupported_format").arg("file", file),
            Self::NoWorksheet { file } => Message::new("ingest.no_worksheet").arg("file", file),
            Self::Encoding { file, line } => Message::new("ingest.encoding").arg("file", file).arg("line", line),
            Self::Csv { file, line, reason } => {
                Message::new("ingest.csv").arg("file", file).arg("line", line).arg("reason", reason)
            }
            Self::RowLength { file, line, expected, found } => Message::new("ingest.row_length")
                .arg("file", file)
                .arg("line", line)
                .arg("expected", expected)
                .arg("found", found),
            Self::NoHeader { file } => Message::new("ingest.no_header").arg("file", file),
            Self::Write(reason) => Message::new("ingest.write").arg("reason", reason),
        }
    }

    /// The whole message (with file and row) in `lang` (`zh…` for Chinese, anything else English).
    pub fn localized(&self, lang: &str) -> String {
        self.message().render(lang)
    }
}

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.localized("en"))
    }
}

impl std::error::Error for IngestError {}

impl From<rust_xlsxwriter::XlsxError> for IngestError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        Self::Write(e.to_string())
    }
}

/// One problem in one row of an imported table, located the way a spreadsheet user finds it.
///
/// `Display` is exactly `FILE:ROW:COLUMN: message`, where ROW is the 1-based spreadsheet row (the header
/// is normally row 1) and COLUMN is the column letter with the header as written in the file, e.g.
/// `C(名称)`, or `-` when the problem belongs to no single column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub file: String,
    pub line: usize,
    pub column: String,
    /// The domain field the problem is about (`uscc`, `assignments[0].start_on`, …), if any.
    pub field: Option<String>,
    /// Stable machine code (`invalid_check_character`, `unknown_column`, …).
    pub code: String,
    /// The message in the language asked for.
    pub message: String,
    /// 0-based column index, for sorting left to right within a row.
    #[serde(skip)]
    pub(crate) column_index: Option<usize>,
}

impl ImportError {
    /// 0-based index of the column, when the error has one.
    pub fn column_index(&self) -> Option<usize> {
        self.column_index
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

impl std::error::Error for ImportError {}

/// Sorts errors by row, then left to right; errors in the same cell keep the order they were found in.
pub(crate) fn sort_errors(errors: &mut [ImportError]) {
    errors.sort_by_key(|e| (e.line, e.column_index.unwrap_or(usize::MAX)));
}
