//! Text search over units (`q=`): the `LIKE` conditions every search is decided by, and the n-gram indexes
//! that find the candidates fast (SQLite: FTS5 trigram table `entity_search`; PostgreSQL: a GIN index of
//! bigrams, `entities_search`). See docs/storage.md, "Text search".
//!
//! The index only narrows: every candidate is checked with the same `LIKE` conditions a plain scan uses,
//! so an indexed search returns exactly what the scan returns, as long as the index finds a superset.

use crate::db::WriteTx;
use crate::error::StoreResult;
use crate::query::Where;
use crate::{DbKind, Store};
use dangjian_domain::SearchTerm;
use sqlx::Row;

/// How a text search finds its rows. Lists use [`SearchMethod::Index`]; the scan is the oracle the index
/// is tested against and the baseline `dangjian bench search` compares it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchMethod {
    /// The n-gram index where it serves the term, else the scan.
    #[default]
    Index,
    /// `LIKE` over every row in scope, in id order (a page stops at its last row; the count reads all).
    Scan,
}

/// Above this many indexed trigrams starting with a two-character term, SQLite scans instead (the `OR` of
/// that many trigrams costs more than it saves; no two-character term of the national dataset comes near).
const MAX_TRIGRAMS_FOR_PREFIX: usize = 4000;

/// What a unit search adds to a list query besides its conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextSearch {
    /// Appended to the `FROM` clause (a join to the index table, or nothing).
    pub join: &'static str,
    /// The `ORDER BY` that lists matches in id order and lets a page stop early.
    pub order: &'static str,
    /// Whether the index serves this search.
    pub indexed: bool,
}

const NO_JOIN: TextSearch = TextSearch { join: "", order: "e.id", indexed: false };

/// Quotes a string for an FTS5 query: in double quotes, inner ones doubled.
fn fts_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The FTS5 query for a term of three characters or more: every trigram of it (the trigram tokenizer
/// folds case on both sides). Without positions (detail=none) this is a superset of "contains".
pub(crate) fn trigram_query(term: &SearchTerm) -> String {
    term.ngrams(3).iter().map(|g| fts_string(g)).collect::<Vec<_>>().join(" AND ")
}

/// The range `[from, to)` of indexed trigrams that start with `prefix` (UTF-8 byte order is code-point order):
/// up to the prefix with its last character's successor. `None` when that character has none.
fn prefix_range(prefix: &str) -> Option<(String, String)> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32)?;
    chars.push(next);
    Some((prefix.to_owned(), chars.into_iter().collect()))
}

impl Store {
    /// Adds the conditions of a unit text search (alias `e`) to `w`, and says how to join and order.
    pub(crate) async fn entity_text_search(
        &self,
        w: &mut Where,
        term: &SearchTerm,
        method: SearchMethod,
    ) -> StoreResult<TextSearch> {
        let plain = w.text(term.contains_pattern());
        let upper = w.text(term.upper_contains_pattern());
        w.cond(format!(
            "(e.name LIKE ${plain} ESCAPE '\\' OR e.address LIKE ${plain} ESCAPE '\\' \
             OR e.uscc LIKE ${upper} ESCAPE '\\' OR e.site_code LIKE ${upper} ESCAPE '\\')"
        ));
        if method == SearchMethod::Scan {
            return Ok(NO_JOIN);
        }
        let len = term.chars();
        match self.kind() {
            DbKind::Postgres if len >= 2 => {
                let n = w.text(term.as_str());
                w.cond(format!("dj_entity_bigrams(e.name, e.address, e.uscc, e.site_code) @> dj_bigrams(${n})"));
                Ok(TextSearch { join: "", order: "e.id", indexed: true })
            }
            DbKind::Sqlite if len >= 3 => {
                let n = w.text(trigram_query(term));
                w.cond(format!("entity_search MATCH ${n}"));
                Ok(indexed_join())
            }
            DbKind::Sqlite if len == 2 && term.folds_as_ascii() => {
                let Some((from, to)) = prefix_range(&term.as_str().to_ascii_lowercase()) else { return Ok(NO_JOIN) };
                let rows = sqlx::query(&format!(
                    "SELECT term FROM entity_search_terms WHERE term >= $1 AND term < $2 LIMIT {}",
                    MAX_TRIGRAMS_FOR_PREFIX + 1
                ))
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                if rows.len() > MAX_TRIGRAMS_FOR_PREFIX {
                    return Ok(NO_JOIN);
                }
                if rows.is_empty() {
                    // Every two-character run of a unit starts an indexed trigram: none, so no unit has it.
                    w.cond("1 = 0");
                    return Ok(NO_JOIN);
                }
                let terms = rows
                    .iter()
                    .map(|r| r.try_get::<String, _>("term").map(|t| fts_string(&t)))
                    .collect::<Result<Vec<_>, _>>()?;
                let n = w.text(terms.join(" OR "));
                w.cond(format!("entity_search MATCH ${n}"));
                Ok(indexed_join())
            }
            _ => Ok(NO_JOIN),
        }
    }
}

/// Empties SQLite's unit search index and fills it from every unit, as the migration's backfill does and
/// the triggers would have (used after a bulk load, which suspends them).
pub(crate) async fn rebuild_sqlite_entity_search(tx: &mut WriteTx) -> StoreResult<()> {
    sqlx::query("INSERT INTO entity_search (entity_search) VALUES ('delete-all')").execute(&mut *tx.tx).await?;
    sqlx::query(
        "INSERT INTO entity_search (rowid, doc) SELECT id, name || char(31) || COALESCE(address, '') || char(31) \
         || COALESCE(uscc, '') || char(31) || COALESCE(site_code, '') || char(31) || char(31) FROM entities",
    )
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

/// The join to SQLite's index table; ordering by its rowid lets FTS5 hand out matches in id order, so a
/// page reads only as many candidates as it shows (ordering by `e.id` would sort all of them first).
fn indexed_join() -> TextSearch {
    TextSearch {
        join: " JOIN entity_search ON entity_search.rowid = e.id",
        order: "entity_search.rowid",
        indexed: true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn term(s: &str) -> SearchTerm {
        SearchTerm::parse(s, "q").unwrap().unwrap()
    }

    #[test]
    fn trigram_queries_quote_every_trigram() {
        assert_eq!(trigram_query(&term("和平路")), "\"和平路\"");
        assert_eq!(trigram_query(&term("a\"b_%")), "\"a\"\"b\" AND \"\"\"b_\" AND \"b_%\"");
    }

    #[test]
    fn prefix_ranges_cover_every_continuation() {
        let (from, to) = prefix_range("快递").unwrap();
        for t in ["快递", "快递公", "快递\u{1f}\u{1f}", "快递\u{10ffff}"] {
            assert!(from.as_str() <= t && t < to.as_str(), "{t}");
        }
        for t in ["快逓", "快逓a", "快达x"] {
            assert!(!(from.as_str() <= t && t < to.as_str()), "{t}");
        }
        assert_eq!(prefix_range("a\u{d7ff}").unwrap().1, "a\u{e000}");
        assert_eq!(prefix_range("a\u{10ffff}"), None);
    }
}
