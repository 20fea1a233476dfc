//! Masked display of personal data, so that lists and logs show only what a reader needs to tell records apart
//! (PIPL Art. 51 technical measures; de-identification by masking in the sense of GB/T 35273-2020). Pure functions over
//! text; counts are in Unicode characters, so Chinese text is never cut inside a character.

const MASK: char = '*';

/// `13812341234` → `138****1234`: the first 3 and last 4 characters of an 11-digit mainland number, as
/// `Mobile::masked` in the domain crate shows it. Other values of 8 or more characters are masked the same way,
/// 5 to 7 characters keep only the last 2, and shorter values are masked entirely.
pub fn mask_mobile(mobile: &str) -> String {
    let chars: Vec<char> = mobile.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        n if n >= 8 => keep_ends(&chars, 3, 4),
        n if n >= 5 => keep_ends(&chars, 0, 2),
        _ => mask_all(&chars),
    }
}

/// `11010519491231002X` → `110105********002X`: the first 6 (region) and last 4 characters of an 18-character
/// citizen ID number, hiding the birth date, as `IdNumber::masked` in the domain crate shows it. A 15-character
/// number keeps 6 and 3; other lengths keep the first 1 and last 2, and very short values are masked entirely.
pub fn mask_id_number(id_number: &str) -> String {
    let chars: Vec<char> = id_number.trim().chars().collect();
    match chars.len() {
        18 => keep_ends(&chars, 6, 4),
        15 => keep_ends(&chars, 6, 3),
        n if n >= 6 => keep_ends(&chars, 1, 2),
        _ => mask_all(&chars),
    }
}

/// `张三丰` → `张**`, `欧阳娜娜` → `欧***`: the first character, the rest masked one for one. Separators in
/// transliterated minority and foreign names (`·`, space) stay, so `阿依古丽·买买提` → `阿***·***`. A one-character
/// name becomes `*`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    if chars.len() <= 1 {
        return mask_all(&chars);
    }
    chars.iter().enumerate().map(|(i, &c)| if i == 0 || is_name_separator(c) { c } else { MASK }).collect()
}

fn is_name_separator(c: char) -> bool {
    matches!(c, '·' | '•' | '・' | '.' | ' ' | '-')
}

fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    chars.iter().enumerate().map(|(i, &c)| if i < head || i >= n - tail { c } else { MASK }).collect()
}

fn mask_all(chars: &[char]) -> String {
    chars.iter().map(|_| MASK).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile() {
        assert_eq!(mask_mobile("13812341234"), "138****1234");
        assert_eq!(mask_mobile(" 13812341234 "), "138****1234");
        assert_eq!(mask_mobile("02112345678"), "021****5678");
        assert_eq!(mask_mobile("12345"), "***45");
        assert_eq!(mask_mobile("1234"), "****");
        assert_eq!(mask_mobile(""), "");
    }

    #[test]
    fn id_number() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_id_number("110105491231002"), "110105******002");
        assert_eq!(mask_id_number("G12345678"), "G******78");
        assert_eq!(mask_id_number("12345"), "*****");
    }

    #[test]
    fn name() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("阿依古丽·买买提"), "阿***·***");
        assert_eq!(mask_name("John Smith"), "J*** *****");
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn masks_never_reveal_more_than_they_keep() {
        let masked = mask_mobile("13812341234");
        assert!(!masked.contains("5678") && !masked.contains("2341"));
        assert!(!mask_id_number("11010519491231002X").contains("19491231"));
    }
}
