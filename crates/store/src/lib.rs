//! Persistence for Dangjian over SQLite (the embedded default) and PostgreSQL (the path to national
//! scale), from one codebase: one pool type (sqlx `Any`), one set of queries with `$n` placeholders,
//! per-backend migrations. See `docs/storage.md` for why.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod bulk;
pub mod cases;
pub mod coverage;
mod db;
pub mod entities;
mod error;
mod import;
mod input;
pub mod instructors;
pub mod open311;
pub mod organizations;
pub mod personal;
mod query;
pub mod region_tree;
pub mod regions;
pub mod search;
pub mod sectors;
pub mod stations;
#[cfg(feature = "testing")]
pub mod testing;

pub use access::AccessFilter;
pub use db::{DbKind, Store};
pub use error::{StoreError, StoreResult};
pub use import::{ImportBatch, RowErrors};
pub use personal::Disclosure;

use serde::Serialize;

/// One page of a list, with the total count of matching rows.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Paging as asked by a client: 1-based page, bounded page size.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub const MAX_PER_PAGE: i64 = 500;
    /// The last page anyone can ask for: far past any list, and small enough that the offset
    /// (`page × per_page`) cannot overflow.
    pub const MAX_PAGE: i64 = 1_000_000_000;

    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self {
            page: page.unwrap_or(1).clamp(1, Self::MAX_PAGE),
            per_page: per_page.unwrap_or(50).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

#[cfg(test)]
mod paging_tests {
    use super::Paging;

    #[test]
    fn any_page_number_gives_an_offset_without_overflow() {
        for page in [i64::MIN, -1, 0, 1, 2, i64::MAX / 50, i64::MAX] {
            for per_page in [i64::MIN, 0, 1, 50, 500, i64::MAX] {
                let p = Paging::new(Some(page), Some(per_page));
                assert!((1..=Paging::MAX_PAGE).contains(&p.page), "{page}");
                assert!((1..=Paging::MAX_PER_PAGE).contains(&p.per_page), "{per_page}");
                assert!(p.offset() >= 0 && p.offset() < Paging::MAX_PAGE * Paging::MAX_PER_PAGE);
            }
        }
        assert_eq!(Paging::new(Some(3), Some(20)).offset(), 40);
    }
}

impl Default for Paging {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// What an import did with one row.
pub(crate) enum Outcome {
    Created,
    Updated,
    Unchanged,
}

impl ImportSummary {
    pub(crate) fn count(&mut self, o: Outcome) {
        match o {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

/// The current time as stored: RFC 3339, UTC, seconds.
pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(crate) fn date_text(d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

pub(crate) fn parse_date_text(s: Option<String>) -> Option<chrono::NaiveDate> {
    s.and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
}
