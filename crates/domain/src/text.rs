//! Text from outside, normalized once at the edge: every draft's text fields and codes go through
//! here, so the API, the pages, imports and the command line store the same characters.
//!
//! - Unicode NFC (a name typed with a combining mark equals the same name typed precomposed);
//! - control characters (C0 and C1: NUL, ESC, …) are refused with a field error, except tab and line
//!   breaks in multi-line fields;
//! - bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+061C, U+200E–U+200F) and
//!   invisible characters (zero-width spaces and joiners, U+2060, U+FEFF) are refused in names, codes
//!   and other single-line fields: they make text read differently from what it says;
//! - codes are folded with NFKC first, so full-width `９１３５…` is read as `9135…`.

use crate::error::FieldError;
use crate::Message;
use unicode_normalization::UnicodeNormalization;

/// What a text field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A name, address, code or other one-line value.
    Line,
    /// Free text over several lines (a description, a note): tab and line breaks allowed.
    Lines,
}

/// Whether `c` reorders or hides text: bidi embeddings, overrides, isolates and marks, and
/// zero-width characters.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}' | '\u{180E}')
}

/// Checks and normalizes one text field (NFC), not yet trimmed.
pub fn clean(input: &str, field: &str, kind: TextKind) -> Result<String, FieldError> {
    for c in input.chars() {
        let allowed_control = kind == TextKind::Lines && matches!(c, '\t' | '\n' | '\r');
        if c.is_control() && !allowed_control {
            return Err(FieldError::new(
                field,
                "control_character",
                Message::new("problem.control_character.control_characters_here")
                    .arg("v1", format!("{:04X}", u32::from(c))),
            ));
        }
        if kind == TextKind::Line && is_invisible_format(c) {
            return Err(FieldError::new(
                field,
                "invisible_character",
                Message::new("problem.invisible_character").arg("v1", format!("{:04X}", u32::from(c))),
            ));
        }
    }
    Ok(input.nfc().collect())
}

/// A code as typed, made comparable: checked like a [`TextKind::Line`], folded with NFKC (full-width
/// letters and digits become ASCII, the ideographic space a space) and trimmed.
pub fn fold_code(input: &str, field: &str) -> Result<String, FieldError> {
    let s = clean(input, field, TextKind::Line)?;
    Ok(s.nfkc().collect::<String>().trim().to_owned())
}

/// Outside text as an error message may repeat it: at most 40 characters, with control and
/// invisible characters shown as `\u{…}` escapes.
pub fn shown(input: &str) -> String {
    let mut out = String::new();
    for (i, c) in input.chars().enumerate() {
        if i == 40 {
            out.push('…');
            break;
        }
        if c.is_control() || is_invisible_format(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_refused_naming_the_field() {
        let e = clean("甲\0乙", "name", TextKind::Line).err();
        assert_eq!(e.as_ref().map(|e| (e.field.as_str(), e.code.as_str())), Some(("name", "control_character")));
        assert!(clean("a\u{1b}[31m", "name", TextKind::Line).is_err());
        assert!(clean("a\u{85}b", "name", TextKind::Lines).is_err(), "C1 too");
        assert!(clean("第一行\n第二行\t", "description", TextKind::Lines).is_ok());
        assert!(clean("第一行\n第二行", "name", TextKind::Line).is_err());
    }

    #[test]
    fn bidi_and_zero_width_are_refused_in_lines() {
        for bad in ["abc\u{202E}gpj.exe", "美\u{200B}团", "\u{2067}x", "\u{FEFF}x"] {
            let e = clean(bad, "name", TextKind::Line).err();
            assert_eq!(e.map(|e| e.code), Some("invisible_character".to_owned()), "{bad:?}");
        }
        assert!(clean("一家👨\u{200D}👩\u{200D}👧", "description", TextKind::Lines).is_ok());
    }

    #[test]
    fn text_is_nfc_and_codes_are_nfkc() {
        assert_eq!(clean("Cafe\u{301}", "name", TextKind::Line).ok().as_deref(), Some("Caf\u{e9}"));
        assert_eq!(fold_code("\u{3000}９１３５ＡＢ\u{3000}", "uscc").ok().as_deref(), Some("9135AB"));
    }

    #[test]
    fn shown_escapes_and_bounds() {
        assert_eq!(shown("a\0b\u{202E}"), "a\\u{0}b\\u{202e}");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 41);
    }
}
