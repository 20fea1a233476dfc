//! The sectors of new employment groups (DOMAIN.md glossary): four priority sectors named by the
//! policy, three exploratory ones; administrators may add more.

use crate::error::FieldError;
use crate::Message;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SectorStage {
    /// 重点推进 — the four sectors the policy names for advancing Party-building.
    Priority,
    /// 探索推进 — sectors where options are being explored.
    Exploratory,
}

impl SectorStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Priority => "priority",
            Self::Exploratory => "exploratory",
        }
    }
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "priority" | "重点" | "重点推进" => Ok(Self::Priority),
            "exploratory" | "探索" | "探索推进" => Ok(Self::Exploratory),
            _ => Err(FieldError::new("stage", "invalid_stage", Message::new("problem.invalid_stage"))),
        }
    }
}

/// A sector code: a lowercase ASCII slug (`courier`, `food_delivery`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SectorCode(String);

impl SectorCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && s.as_bytes()[0].is_ascii_lowercase();
        if !ok {
            return Err(FieldError::new("sector", "invalid_sector_code", Message::new("problem.invalid_sector_code")));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SectorCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SectorCode> for String {
    fn from(c: SectorCode) -> Self {
        c.0
    }
}

/// A built-in sector: code, Chinese name, English name, stage.
pub struct BuiltinSector {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub stage: SectorStage,
}

/// The seven sectors of DOMAIN.md, in the policy's order.
pub const BUILTIN_SECTORS: [BuiltinSector; 7] = [
    BuiltinSector { code: "courier", name_zh: "快递", name_en: "Courier", stage: SectorStage::Priority },
    BuiltinSector {
        code: "food_delivery",
        name_zh: "外卖配送",
        name_en: "Food delivery",
        stage: SectorStage::Priority,
    },
    BuiltinSector { code: "ride_hailing", name_zh: "网约车", name_en: "Ride-hailing", stage: SectorStage::Priority },
    BuiltinSector {
        code: "road_freight",
        name_zh: "网络货运",
        name_en: "Internet road freight",
        stage: SectorStage::Priority,
    },
    BuiltinSector {
        code: "live_streaming",
        name_zh: "网络直播",
        name_en: "Live streaming",
        stage: SectorStage::Exploratory,
    },
    BuiltinSector {
        code: "social_commerce",
        name_zh: "社交电商",
        name_en: "Social commerce",
        stage: SectorStage::Exploratory,
    },
    BuiltinSector {
        code: "housekeeping",
        name_zh: "网约家政",
        name_en: "Online-hailed housekeeping",
        stage: SectorStage::Exploratory,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_sectors_are_valid_and_distinct() {
        let mut codes: Vec<&str> = BUILTIN_SECTORS.iter().map(|s| s.code).collect();
        for c in &codes {
            assert!(SectorCode::parse(c).is_ok());
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 7);
        assert_eq!(BUILTIN_SECTORS.iter().filter(|s| s.stage == SectorStage::Priority).count(), 4);
    }

    #[test]
    fn sector_codes() {
        assert!(SectorCode::parse("Courier").is_err());
        assert!(SectorCode::parse("1abc").is_err());
        assert!(SectorCode::parse("快递").is_err());
        assert_eq!(SectorStage::parse("探索推进"), Ok(SectorStage::Exploratory));
    }
}
