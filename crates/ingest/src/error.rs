//! The two error types of this crate: [`IngestError`] when a file cannot be read as a table at all, and
//! [`ImportError`] for one problem in one cell (or header) of a table that could be read.

use serde::Serialize;

/// A file that cannot be turned into a [`Table`](crate::Table): too large, not a workbook, undecodable.
/// `Display` is English and starts with the file name (and the row, when there is one); use
/// [`IngestError::localized`] for Chinese.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: the file is {size} bytes, more than the limit of {limit}")]
    FileTooLarge { file: String, size: usize, limit: usize },
    #[error("{file}: the workbook expands to more than {limit} bytes")]
    ExpandsTooLarge { file: String, limit: u64 },
    #[error("{file}: not a readable XLSX workbook ({reason})")]
    BadWorkbook { file: String, reason: String },
    #[error("{file}: old binary .xls and password-protected workbooks cannot be read; save it as .xlsx or CSV")]
    UnsupportedFormat { file: String },
    #[error("{file}: the workbook has no worksheet")]
    NoWorksheet { file: String },
    #[error("{file}:{line}: the text is neither UTF-8 nor GBK/GB18030")]
    Encoding { file: String, line: usize },
    #[error("{file}:{line}: {reason}")]
    Csv { file: String, line: usize, reason: String },
    #[error("{file}:{line}: the row has {found} cell(s) but the header row has {expected}")]
    RowLength { file: String, line: usize, expected: usize, found: usize },
    #[error("{file}: the file has no header row")]
    NoHeader { file: String },
    #[error("cannot write the workbook: {0}")]
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

    /// The whole message (with file and row) in `lang` (`zh…` for Chinese, anything else English).
    pub fn localized(&self, lang: &str) -> String {
        if !lang.starts_with("zh") {
            return self.to_string();
        }
        match self {
            Self::FileTooLarge { file, size, limit } => {
                format!("{file}：文件大小为{size}字节，超过上限{limit}字节")
            }
            Self::ExpandsTooLarge { file, limit } => format!("{file}：工作簿解压后超过{limit}字节上限"),
            Self::BadWorkbook { file, reason } => format!("{file}：无法读取该XLSX工作簿（{reason}）"),
            Self::UnsupportedFormat { file } => {
                format!("{file}：无法读取旧版.xls或设有密码的工作簿，请另存为.xlsx或CSV后再导入")
            }
            Self::NoWorksheet { file } => format!("{file}：工作簿中没有工作表"),
            Self::Encoding { file, line } => format!("{file}:{line}：文字既不是UTF-8也不是GBK/GB18030编码"),
            Self::Csv { file, line, reason } => format!("{file}:{line}：{reason}"),
            Self::RowLength { file, line, expected, found } => {
                format!("{file}:{line}：该行有{found}个单元格，表头有{expected}列")
            }
            Self::NoHeader { file } => format!("{file}：文件中没有表头行"),
            Self::Write(reason) => format!("无法生成工作簿：{reason}"),
        }
    }
}

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
