//! A table whose header has been recognised for one [`Kind`]: typed rows that remember their spreadsheet
//! row, and the column map that turns a domain [`FieldError`] back into `FILE:ROW:COLUMN: message`.

use crate::columns::{column_letter, label, normalize_header, ColumnMap, HeaderProblem, Kind, LIST_SEPARATORS};
use crate::error::{sort_errors, ImportError};
use crate::read::{Table, TableRow};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors, Firsts};
use dangjian_i18n::text as say;

/// A value built from one or more spreadsheet rows.
#[derive(Debug, Clone)]
pub struct Located<T> {
    /// The spreadsheet row the value comes from (for an instructor, its first row).
    pub line: usize,
    pub value: T,
    /// For instructors: the row of each assignment, index-aligned with `value.assignments`, so that an
    /// error on `assignments[i].…` points at that row. Empty for other kinds.
    pub assignment_lines: Vec<usize>,
    /// Problems found while building the value (conflicting or duplicate rows), each with its own row.
    pub problems: Vec<(usize, FieldError)>,
}

impl<T> Located<T> {
    pub fn new(line: usize, value: T) -> Self {
        Self { line, value, assignment_lines: Vec::new(), problems: Vec::new() }
    }

    /// The row an error on `field` belongs to: the assignment's row for `assignments[i].…`, else [`Self::line`].
    pub fn line_of(&self, field: &str) -> usize {
        field
            .strip_prefix("assignments[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(i, _)| i.parse::<usize>().ok())
            .and_then(|i| self.assignment_lines.get(i).copied())
            .unwrap_or(self.line)
    }
}

/// The typed rows of one file, with what is needed to locate any error in them.
#[derive(Debug, Clone)]
pub struct Sheet<T> {
    pub file_name: String,
    pub columns: ColumnMap,
    pub rows: Vec<Located<T>>,
}

impl<T> Sheet<T> {
    pub fn kind(&self) -> Kind {
        self.columns.kind()
    }

    /// Locates a field error at spreadsheet row `line`: the field's column (or `-`) and the message in `lang`.
    pub fn error_at(&self, line: usize, e: &FieldError, lang: &str) -> ImportError {
        let (column_index, column) = self.columns.locate_field(&e.field);
        ImportError {
            file: self.file_name.clone(),
            line,
            column,
            field: Some(e.field.clone()),
            code: e.code.clone(),
            message: e.message_in(lang).to_owned(),
            column_index,
        }
    }

    /// Locates a field error about `row` (of this sheet or of one derived from it, e.g. after parsing;
    /// also for errors found later, such as a parent USCC that is not in the database).
    pub fn error_for<X>(&self, row: &Located<X>, e: &FieldError, lang: &str) -> ImportError {
        self.error_at(row.line_of(&e.field), e, lang)
    }

    /// Parses every row, collecting every error of every row (sorted by row, then column) together with
    /// the rows that parsed cleanly.
    pub fn parse_rows<U>(
        self,
        parse: impl Fn(&T) -> Result<U, FieldErrors>,
        lang: &str,
    ) -> (Sheet<U>, Vec<ImportError>) {
        let checked = self.check_rows(parse, lang, usize::MAX);
        (checked.sheet, checked.errors.into_sorted())
    }

    /// Parses every row: the rows that parsed cleanly, and of the errors of the others the first `cap`
    /// by row and column (and the count of all), in memory bounded by `cap` however many rows fail.
    pub fn check_rows<U>(self, parse: impl Fn(&T) -> Result<U, FieldErrors>, lang: &str, cap: usize) -> Checked<U> {
        let checked = self.check_rows_and_references(|v| parse(v).map_err(|e| (e, Box::new(()))), |_| (), lang, cap);
        Checked { unparsed: Vec::new(), ..checked }
    }

    /// [`Self::check_rows`], keeping also what the first `cap` rows that failed still name (`parse`'s
    /// references on failure, `references` of a value that parsed but whose row had problems), so that
    /// the store can check those against the database in the same pass.
    pub fn check_rows_and_references<U, R>(
        self,
        parse: impl Fn(&T) -> Result<U, (FieldErrors, Box<R>)>,
        references: impl Fn(&U) -> R,
        lang: &str,
        cap: usize,
    ) -> Checked<U, R> {
        let mut errors = Firsts::new(cap);
        let mut ok = Vec::new();
        let mut unparsed = Vec::new();
        for row in &self.rows {
            let before = errors.total();
            for (line, e) in &row.problems {
                push_error(&mut errors, self.error_at(*line, e, lang));
            }
            let refs = match parse(&row.value) {
                Ok(value) if errors.total() == before => {
                    ok.push(Located {
                        line: row.line,
                        value,
                        assignment_lines: row.assignment_lines.clone(),
                        problems: Vec::new(),
                    });
                    continue;
                }
                Ok(value) => references(&value),
                Err((errs, refs)) => {
                    for e in &errs.0 {
                        push_error(&mut errors, self.error_for(row, e, lang));
                    }
                    *refs
                }
            };
            if unparsed.len() < cap {
                unparsed.push((row.line, refs));
            }
        }
        Checked { sheet: Sheet { file_name: self.file_name, columns: self.columns, rows: ok }, errors, unparsed }
    }

    /// [`Self::parse_rows`], all or nothing: the parsed sheet only if no row has an error.
    pub fn parse_all<U>(
        self,
        parse: impl Fn(&T) -> Result<U, FieldErrors>,
        lang: &str,
    ) -> Result<Sheet<U>, Vec<ImportError>> {
        let (sheet, errors) = self.parse_rows(parse, lang);
        if errors.is_empty() {
            Ok(sheet)
        } else {
            Err(errors)
        }
    }
}

/// A file's rows after the checks that need no database: the rows that passed, and the first errors of
/// the others (see [`Sheet::check_rows`]).
#[derive(Debug, Clone)]
pub struct Checked<T, R = ()> {
    pub sheet: Sheet<T>,
    pub errors: ErrorList,
    /// What the first rows that failed still name, by row (see [`Sheet::check_rows_and_references`]).
    pub unparsed: Vec<(usize, R)>,
}

/// Import errors kept in bounded memory: the first by row and column, and the count of all.
pub type ErrorList = Firsts<(usize, usize), ImportError>;

/// Adds an error to `list` under its place in the file.
pub fn push_error(list: &mut ErrorList, e: ImportError) {
    list.push((e.line, e.column_index.unwrap_or(usize::MAX)), e);
}

/// Recognises the header row of `table` as `kind`, reporting every unknown, repeated or missing header,
/// and every column that has data but no header.
pub(crate) fn resolve_columns(table: &Table, kind: Kind, lang: &str) -> Result<ColumnMap, Vec<ImportError>> {
    let file = &table.file_name;
    let at = |line: usize, index: Option<usize>, code: &str, message: String| ImportError {
        file: file.clone(),
        line,
        column: index.map_or_else(|| "-".to_owned(), |i| label(&table.headers, i)),
        field: None,
        code: code.to_owned(),
        message,
        column_index: index,
    };
    let mut errors = Vec::new();
    let map = match ColumnMap::resolve(kind, &table.headers) {
        Ok(map) => Some(map),
        Err(problems) => {
            for p in problems {
                errors.push(match p {
                    HeaderProblem::Unknown { index } => {
                        let h = &table.headers[index];
                        let known = kind.headers(lang).join(&say(lang, "ingest.list_separator", &[]));
                        let message = say(lang, "ingest.unknown_column", &[("h", h.clone()), ("known", known)]);
                        at(table.header_line, Some(index), "unknown_column", message)
                    }
                    HeaderProblem::Duplicate { index, first } => {
                        let first = column_letter(first);
                        let message = say(lang, "ingest.duplicate_column", &[("first", first)]);
                        at(table.header_line, Some(index), "duplicate_column", message)
                    }
                    HeaderProblem::Missing { keys } => {
                        let names: Vec<String> = keys
                            .iter()
                            .filter_map(|k| kind.columns().iter().find(|c| c.key == *k))
                            .map(|c| {
                                say(
                                    lang,
                                    "ingest.missing_column_name",
                                    &[("key", c.key.to_owned()), ("zh", c.zh.to_owned())],
                                )
                            })
                            .collect();
                        let message =
                            say(lang, "ingest.missing_column", &[("names", names.join(&say(lang, "ingest.or", &[])))]);
                        at(table.header_line, None, "missing_column", message)
                    }
                });
            }
            None
        }
    };
    for index in (0..table.headers.len()).filter(|&i| normalize_header(&table.headers[i]).is_empty()) {
        if let Some(row) = table.rows.iter().find(|r| !r.cell(index).trim().is_empty()) {
            let message = say(lang, "ingest.unnamed_column", &[]);
            errors.push(at(row.line, Some(index), "unnamed_column", message));
        }
    }
    sort_errors(&mut errors);
    match map {
        Some(map) if errors.is_empty() => Ok(map),
        _ => Err(errors),
    }
}

/// Reads the cells of one row by column key.
pub(crate) struct Cells<'a> {
    pub columns: &'a ColumnMap,
    pub row: &'a TableRow,
}

impl Cells<'_> {
    /// The trimmed cell, `None` when the column is absent or the cell blank.
    pub fn get(&self, key: &str) -> Option<String> {
        let i = self.columns.index_of(key)?;
        let s = self.row.cell(i).trim();
        (!s.is_empty()).then(|| s.to_owned())
    }

    /// The cell split on [`LIST_SEPARATORS`], trimmed, without empty items.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|s| s.split(LIST_SEPARATORS).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// The error put on a later row that repeats a key of an earlier one.
pub(crate) fn duplicate_error(field: &str, first_line: usize) -> FieldError {
    FieldError::new(field, "duplicate_in_file", Message::new("problem.duplicate_in_file").arg("first_line", first_line))
}

/// An export cell for an optional text.
pub(crate) fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_errors_point_at_their_row() {
        let mut l = Located::new(4, ());
        l.assignment_lines = vec![4, 9, 12];
        assert_eq!(l.line_of("assignments[1].start_on"), 9);
        assert_eq!(l.line_of("assignments[2].unit_code"), 12);
        assert_eq!(l.line_of("assignments[7].unit_code"), 4);
        assert_eq!(l.line_of("mobile"), 4);
    }
}
