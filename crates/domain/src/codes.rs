//! Identification codes that can only be built by parsing: the unified social credit code
//! (GB 32100-2015), the resident ID number (GB 11643-1999), mainland mobile numbers, platform-assigned
//! site codes and Party organization codes.

use crate::error::FieldError;
use crate::Message;
use serde::{Deserialize, Serialize};

/// The 31 characters a USCC may use (GB 32100-2015 table: digits and capitals without I, O, Z, S, V).
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17 in the USCC check (3^(i-1) mod 31).
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Unified social credit code (统一社会信用代码): 18 characters whose last is a mod-31 check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

impl Uscc {
    /// Parses a USCC, accepting lower case and surrounding spaces, and verifies its check character.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = crate::text::fold_code(input, "uscc")?.to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(FieldError::new(
                "uscc",
                "invalid_length",
                Message::new("problem.invalid_length").arg("v1", s.chars().count()),
            ));
        }
        let mut values = [0u32; 18];
        for (i, c) in s.chars().enumerate() {
            match USCC_ALPHABET.iter().position(|&a| char::from(a) == c) {
                Some(v) => values[i] = v as u32,
                None => {
                    let c = crate::text::shown(&c.to_string());
                    return Err(FieldError::new(
                        "uscc",
                        "invalid_character",
                        Message::new("problem.invalid_character").arg("v1", i + 1).arg("c", c),
                    ));
                }
            }
        }
        if !s.as_bytes()[2..8].iter().all(u8::is_ascii_digit) {
            return Err(FieldError::new("uscc", "invalid_region_part", Message::new("problem.invalid_region_part")));
        }
        let expected = Self::check_value(&values[..17]);
        if values[17] != expected {
            return Err(FieldError::new(
                "uscc",
                "invalid_check_character",
                Message::new("problem.invalid_check_character")
                    .arg("v1", s.as_bytes()[17] as char)
                    .arg("v2", USCC_ALPHABET[expected as usize] as char),
            ));
        }
        Ok(Self(s))
    }

    fn check_value(values: &[u32]) -> u32 {
        let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
        (31 - sum % 31) % 31
    }

    /// Completes 17 valid characters with their check character. Used by data generators and tests.
    pub fn with_check_character(first17: &str) -> Result<Self, FieldError> {
        let values: Option<Vec<u32>> =
            first17.bytes().map(|b| USCC_ALPHABET.iter().position(|&c| c == b).map(|v| v as u32)).collect();
        match values {
            Some(v) if v.len() == 17 => {
                let check = USCC_ALPHABET[Self::check_value(&v) as usize] as char;
                Self::parse(&format!("{first17}{check}"))
            }
            _ => Err(FieldError::new(
                "uscc",
                "invalid_character",
                Message::new("problem.invalid_character.uscc_characters_expected"),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Uscc {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Uscc> for String {
    fn from(u: Uscc) -> Self {
        u.0
    }
}

impl std::fmt::Display for Uscc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Weights of positions 1–17 of a resident ID number (ISO 7064 MOD 11-2: 2^(18-i) mod 11).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// Citizen identity number (公民身份号码), GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2 check.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = crate::text::fold_code(input, "id_number")?.to_ascii_uppercase();
        let bytes = s.as_bytes();
        if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err(FieldError::new("id_number", "invalid_format", Message::new("problem.invalid_format")));
        }
        let sum: u32 = bytes[..17].iter().zip(ID_WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
        let expected = ID_CHECK[(sum % 11) as usize];
        if bytes[17] != expected {
            return Err(FieldError::new(
                "id_number",
                "invalid_check_character",
                Message::new("problem.invalid_check_character")
                    .arg("v1", bytes[17] as char)
                    .arg("v2", expected as char),
            ));
        }
        let birth = &s[6..14];
        if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
            return Err(FieldError::new(
                "id_number",
                "invalid_birth_date",
                Message::new("problem.invalid_birth_date").arg("birth", birth),
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form shown on screen: first 6 and last 4 characters.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl std::fmt::Debug for IdNumber {
    // Personal data never reaches logs in full.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// Mainland mobile number (11 digits, starting 13–19); a leading +86 or 86 is accepted and dropped.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mobile(String);

impl Mobile {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let compact: String =
            crate::text::fold_code(input, "mobile")?.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("86").filter(|r| r.len() == 11))
            .unwrap_or(&compact);
        let b = digits.as_bytes();
        if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(FieldError::new("mobile", "invalid_mobile", Message::new("problem.invalid_mobile")));
        }
        Ok(Self(digits.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form shown on screen: `138****1234`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl std::fmt::Debug for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mobile({})", self.masked())
    }
}

impl TryFrom<String> for Mobile {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Mobile> for String {
    fn from(m: Mobile) -> Self {
        m.0
    }
}

fn parse_plain_code(input: &str, field: &str, what: &'static str) -> Result<String, FieldError> {
    let s = crate::text::fold_code(input, field)?;
    let s = s.as_str();
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if s.is_empty() || s.len() > 64 || !s.chars().all(ok_char) {
        return Err(FieldError::new(field, "invalid_code", Message::new(what)));
    }
    Ok(s.to_ascii_uppercase())
}

/// A platform-assigned site code (站点编码), for sites registered without a USCC.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SiteCode(String);

impl SiteCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_plain_code(input, "site_code", "problem.invalid_code.site_code").map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The unique code of a Party organization (组织代码) in this system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_plain_code(input, "code", "problem.invalid_code.org_code").map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_usccs_are_valid() {
        // Codes as printed on public business licences.
        for code in [
            "91350100M000100Y43",
            "9144030071526726XG",
            "91330100799655058B",
            "914403001922038216",
            "91110000802100433B",
        ] {
            assert!(Uscc::parse(code).is_ok(), "{code} should be valid");
        }
        assert_eq!(Uscc::parse(" 91350100m000100y43 ").map(|u| u.to_string()), Ok("91350100M000100Y43".to_owned()));
    }

    #[test]
    fn wrong_usccs_are_rejected_with_reason() {
        assert_eq!(Uscc::parse("91350100M000100Y44").map_err(|e| e.code), Err("invalid_check_character".into()));
        assert_eq!(Uscc::parse("91350100M000100Y4").map_err(|e| e.code), Err("invalid_length".into()));
        assert_eq!(Uscc::parse("91350100M000100I43").map_err(|e| e.code), Err("invalid_character".into()));
        assert_eq!(Uscc::parse("9135A100M000100Y43").map_err(|e| e.code), Err("invalid_region_part".into()));
        let e = Uscc::parse("91350100M000100Y44").err().map(|e| e.message_in("en"));
        assert_eq!(e.as_deref(), Some("check character is '4' but should be '3'"));
    }

    #[test]
    fn check_character_is_completed() {
        assert_eq!(
            Uscc::with_check_character("91350100M000100Y4").map(|u| u.to_string()),
            Ok("91350100M000100Y43".into())
        );
        // A check value of 0 must give '0', not the 31st character.
        for n in 0..200u32 {
            let body = format!("9111010{:010}", n);
            let u = Uscc::with_check_character(&body);
            assert!(u.is_ok(), "{body}");
        }
    }

    #[test]
    fn published_id_numbers() {
        // The example in GB 11643-1999 and common textbook examples.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        assert!(IdNumber::parse("440524188001010014").is_ok());
        assert_eq!(IdNumber::parse("110105194912310021").map_err(|e| e.code), Err("invalid_check_character".into()));
        assert_eq!(IdNumber::parse("11010519491231002").map_err(|e| e.code), Err("invalid_format".into()));
        assert!(IdNumber::parse("11010519490231002X").is_err());
        let id = IdNumber::parse("11010519491231002X");
        assert_eq!(id.map(|i| i.masked()), Ok("110105********002X".into()));
    }

    #[test]
    fn mobiles() {
        assert_eq!(Mobile::parse("13812341234").map(|m| m.masked()), Ok("138****1234".into()));
        assert_eq!(Mobile::parse("+86 138-1234-1234").map(|m| m.as_str().to_owned()), Ok("13812341234".into()));
        assert_eq!(Mobile::parse("8613812341234").map(|m| m.as_str().to_owned()), Ok("13812341234".into()));
        for bad in ["1381234123", "12812341234", "23812341234", "1381234123a", ""] {
            assert!(Mobile::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(format!("{:?}", Mobile::parse("13812341234")), "Ok(Mobile(138****1234))");
    }

    #[test]
    fn plain_codes() {
        assert_eq!(SiteCode::parse(" mt-bj-0001 ").map(|c| c.as_str().to_owned()), Ok("MT-BJ-0001".into()));
        assert!(SiteCode::parse("站点1").is_err());
        assert!(OrgCode::parse("").is_err());
    }
}
