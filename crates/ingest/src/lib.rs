//! Spreadsheets in and out of Dangjian. Pure: bytes in, values out — no database, no async.
//!
//! Import is three steps, each usable alone:
//! 1. [`read_table`]: CSV or XLSX bytes → a [`Table`] of text cells with spreadsheet row numbers
//!    (encodings, Excel dates and numbers, size limits).
//! 2. [`map_entities`] / [`map_organizations`] / [`map_instructors`]: headers (English or Chinese) →
//!    a [`Sheet`] of domain inputs, each [`Located`] at its row.
//! 3. [`Sheet::parse_rows`] with the domain parsers, or [`validate_entities`] & co. for all three steps
//!    after reading: every error of every row as an [`ImportError`] (`FILE:ROW:COLUMN: message`).
//!
//! Export: [`write_csv`] and [`write_xlsx`] / [`write_xlsx_typed`], deterministic and safe against
//! formula injection, with the headers of [`Kind::headers`] and the rows of [`entity_row`] & co.

pub mod columns;
mod entities;
mod error;
mod instructors;
mod organizations;
pub mod read;
mod sheet;
mod stations;
pub mod write;

pub use columns::{CellType, ColumnMap, ColumnSpec, Kind};
pub use entities::{check_entities, entity_row, map_entities, validate_entities};
pub use error::{ImportError, IngestError};
pub use instructors::{check_instructors, instructor_rows, map_instructors, validate_instructors};
pub use organizations::{check_organizations, map_organizations, organization_row, validate_organizations};
pub use read::{read_table, read_table_with_limits, Limits, Table, TableRow, MAX_FILE_BYTES, MAX_UNCOMPRESSED_BYTES};
pub use sheet::{push_error, Checked, ErrorList, Located, Sheet};
pub use stations::{check_stations, map_stations, station_row, validate_stations};
pub use write::{
    escape_formula, export_columns, unescape_formula, write_csv, write_xlsx, write_xlsx_typed, write_xlsx_workbook,
    ExportColumn, ExportSheet,
};
