//! Text search terms (`q=` on every list): what a term may be, and how it becomes a `LIKE` pattern
//! and the n-grams the search indexes are keyed by.

use crate::FieldError;
use crate::Message;

/// The longest search term, in characters. Names are at most 200 characters and addresses 300;
/// nobody types more than this into a search box, and a bound keeps patterns and index queries small.
pub const MAX_SEARCH_CHARS: usize = 100;

/// The escape character of every `LIKE` pattern built from a term (`… LIKE $1 ESCAPE '\'`).
pub const LIKE_ESCAPE: char = '\\';

/// A search term: trimmed, 1 to [`MAX_SEARCH_CHARS`] characters, no control characters.
/// `%` and `_` are ordinary characters in it: they are matched literally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// Parses the value of the query parameter `field`; blank is no term (`Ok(None)`).
    pub fn parse(input: &str, field: &str) -> Result<Option<Self>, FieldError> {
        let s = input.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(field, "control_character", Message::new("problem.control_character")));
        }
        if s.chars().count() > MAX_SEARCH_CHARS {
            return Err(FieldError::new(
                field,
                "too_long",
                Message::new("problem.too_long.search_term_most").arg("max", MAX_SEARCH_CHARS),
            ));
        }
        Ok(Some(Self(s.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The length in characters.
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }

    /// `%term%` with `\`, `%` and `_` escaped by [`LIKE_ESCAPE`]: "contains", literally.
    pub fn contains_pattern(&self) -> String {
        contains_pattern(&self.0)
    }

    /// [`SearchTerm::contains_pattern`] of the upper-cased term, for codes (USCCs and site codes are
    /// stored upper-case).
    pub fn upper_contains_pattern(&self) -> String {
        contains_pattern(&self.0.to_uppercase())
    }

    /// The distinct runs of `n` consecutive characters of the term, in order of first appearance
    /// (none when the term is shorter than `n`).
    pub fn ngrams(&self, n: usize) -> Vec<String> {
        let chars: Vec<char> = self.0.chars().collect();
        let mut out: Vec<String> = Vec::new();
        for w in chars.windows(n.max(1)) {
            let g: String = w.iter().collect();
            if !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }

    /// Whether case folding cannot change the term except for ASCII letters: then lower-casing ASCII
    /// gives what any index's case folding gives (Chinese characters, digits and punctuation have no case).
    pub fn folds_as_ascii(&self) -> bool {
        self.0.chars().all(|c| c.is_ascii() || (!c.is_lowercase() && !c.is_uppercase()))
    }
}

fn contains_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(s: &str) -> SearchTerm {
        SearchTerm::parse(s, "q").ok().flatten().unwrap_or_else(|| SearchTerm(String::new()))
    }

    #[test]
    fn blank_is_no_term_and_terms_are_trimmed() {
        assert_eq!(SearchTerm::parse("  ", "q"), Ok(None));
        assert_eq!(term(" 快递 ").as_str(), "快递");
    }

    #[test]
    fn control_characters_and_long_terms_are_refused_naming_the_field() {
        for bad in ["a\0b", "快\u{7}递", "x\u{9b}y"] {
            let e = SearchTerm::parse(bad, "q").err();
            assert_eq!(e.as_ref().map(|e| (e.field.as_str(), e.code.as_str())), Some(("q", "control_character")));
        }
        let long = "快".repeat(MAX_SEARCH_CHARS + 1);
        let e = SearchTerm::parse(&long, "q").err();
        assert_eq!(e.map(|e| (e.field, e.code)), Some(("q".into(), "too_long".into())));
        assert!(SearchTerm::parse(&"快".repeat(MAX_SEARCH_CHARS), "q").is_ok());
    }

    #[test]
    fn wildcards_and_the_escape_character_are_matched_literally() {
        assert_eq!(term("50%_off").contains_pattern(), r"%50\%\_off%");
        assert_eq!(term(r"a\b").contains_pattern(), r"%a\\b%");
        assert_eq!(term("mg2f").upper_contains_pattern(), "%MG2F%");
    }

    #[test]
    fn ngrams_are_distinct_and_in_order() {
        assert_eq!(term("快递快递").ngrams(2), ["快递", "递快"]);
        assert_eq!(term("和平路").ngrams(3), ["和平路"]);
        assert!(term("快递").ngrams(3).is_empty());
    }

    #[test]
    fn folding() {
        assert!(term("快递 MG2f_%").folds_as_ascii());
        assert!(!term("Élan").folds_as_ascii());
        assert!(!term("ａ").folds_as_ascii());
    }
}
