//! Administrative region codes (GB/T 2260 at province, prefecture and county level; 9 digits for
//! townships as in the NBS statistical division codes), plus the XPCC as its own provincial-level unit.

use crate::error::FieldError;
use crate::Message;
use serde::{Deserialize, Serialize};

/// The code this system gives the Xinjiang Production and Construction Corps (新疆生产建设兵团) as a
/// provincial-level unit. GB/T 2260 has no code for it; 66 is unused there and is the code the XPCC's
/// own statistical systems use. Its cities (6590xx in the NBS data) are placed under it.
pub const XPCC_CODE: &str = "66";

/// The prefecture-level row of the NBS data that holds the XPCC cities; it moves under [`XPCC_CODE`].
pub const XPCC_CITIES_PREFECTURE: &str = "6590";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    Prefecture,
    County,
    Township,
}

impl RegionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Prefecture => "prefecture",
            Self::County => "county",
            Self::Township => "township",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "province" => Some(Self::Province),
            "prefecture" => Some(Self::Prefecture),
            "county" => Some(Self::County),
            "township" => Some(Self::Township),
            _ => None,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Province => "省级",
            Self::Prefecture => "地级",
            Self::County => "县级",
            Self::Township => "乡级",
        }
    }
}

/// A syntactically valid region code: 2, 4, 6 or 9 digits. Whether it exists is the registry's question.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses a code. The zero-padded forms people also write are shortened to the natural length:
    /// `110000` → `11`, `110100` → `1101`, and the NBS 12-digit form `110101001000` → `110101001`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let folded = crate::text::fold_code(input, "region_code")?;
        let mut s = folded.as_str();
        let err = || {
            FieldError::new(
                "region_code",
                "invalid_region_code",
                Message::new("problem.invalid_region_code").arg("s", crate::text::shown(&folded)),
            )
        };
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        if s.len() == 12 && s.ends_with("000") {
            s = &s[..9];
        }
        if s.len() == 9 && s.ends_with("000") {
            s = &s[..6];
        }
        if s.len() == 6 && s.ends_with("00") {
            s = &s[..4];
        }
        if s.len() == 4 && s.ends_with("00") {
            s = &s[..2];
        }
        if !matches!(s.len(), 2 | 4 | 6 | 9) || s.starts_with("00") {
            return Err(err());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level the code's length implies.
    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            2 => RegionLevel::Province,
            4 => RegionLevel::Prefecture,
            6 => RegionLevel::County,
            _ => RegionLevel::Township,
        }
    }

    /// Whether units may be registered here: only counties and townships are precise enough.
    pub fn is_unit_level(&self) -> bool {
        matches!(self.level(), RegionLevel::County | RegionLevel::Township)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> Self {
        c.0
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The materialized path of a region, `/11/1101/110101/`, for subtree queries by prefix.
pub fn region_path(parent_path: Option<&str>, code: &str) -> String {
    format!("{}{code}/", parent_path.unwrap_or("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        let level = |s: &str| RegionCode::parse(s).map(|c| c.level());
        assert_eq!(level("11"), Ok(RegionLevel::Province));
        assert_eq!(level("1101"), Ok(RegionLevel::Prefecture));
        assert_eq!(level("110101"), Ok(RegionLevel::County));
        assert_eq!(level("110101001"), Ok(RegionLevel::Township));
        assert_eq!(level("110101000000"), Ok(RegionLevel::County));
        assert_eq!(level("110100000000"), Ok(RegionLevel::Prefecture));
        assert_eq!(level("110000"), Ok(RegionLevel::Province));
        assert_eq!(level("659001"), Ok(RegionLevel::County));
        assert_eq!(level("110101001000"), Ok(RegionLevel::Township));
        assert!(RegionCode::parse("1101011").is_err());
        assert!(RegionCode::parse("11a101").is_err());
        assert!(RegionCode::parse("").is_err());
    }

    #[test]
    fn unit_level_and_path() {
        assert!(RegionCode::parse("110101").map(|c| c.is_unit_level()).unwrap_or(false));
        assert!(!RegionCode::parse("1101").map(|c| c.is_unit_level()).unwrap_or(true));
        assert_eq!(region_path(Some("/11/"), "1101"), "/11/1101/");
        assert_eq!(region_path(None, "11"), "/11/");
    }
}
