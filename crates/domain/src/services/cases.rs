//! Needs and rights cases: categories with their deadlines, the life cycle, and tracking codes.

use crate::FieldError;
use crate::Message;
use serde::{Deserialize, Serialize};

/// A case category: code, Chinese and English names, working days to acknowledge and to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub ack_days: u32,
    pub resolve_days: u32,
}

/// The default categories (DOMAIN.md): code, names, days to acknowledge, days to resolve.
pub const DEFAULT_CATEGORIES: [(&str, &str, &str, u32, u32); 9] = [
    ("wage_arrears", "欠薪", "Wage arrears", 1, 10),
    ("occupational_injury", "职业伤害保障", "Occupational injury protection", 1, 15),
    ("social_insurance", "社会保险", "Social insurance", 2, 15),
    ("algorithmic_dispatch", "算法派单与处罚", "Algorithmic dispatch and penalties", 2, 15),
    ("traffic_safety", "交通与安全", "Traffic and safety", 1, 10),
    ("rest_facilities", "休息场所", "Rest facilities", 3, 20),
    ("legal_aid", "法律援助", "Legal aid", 1, 10),
    ("housing_schooling", "住房与子女入学", "Housing and schooling", 3, 30),
    ("other", "其他", "Other", 3, 20),
];

pub fn default_categories() -> Vec<Category> {
    DEFAULT_CATEGORIES
        .iter()
        .map(|(code, zh, en, ack, resolve)| Category {
            code: (*code).into(),
            name_zh: (*zh).into(),
            name_en: (*en).into(),
            ack_days: *ack,
            resolve_days: *resolve,
        })
        .collect()
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Filed, waiting for the department to acknowledge it.
    Submitted,
    /// Acknowledged; being worked on.
    Acknowledged,
    /// The department says it is resolved; the worker may rate it or reopen it.
    Resolved,
    /// Rated, or resolved long enough ago: done.
    Closed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Submitted, Self::Acknowledged, Self::Resolved, Self::Closed].into_iter().find(|c| c.as_str() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Submitted => "待受理",
            Self::Acknowledged => "办理中",
            Self::Resolved => "已办结",
            Self::Closed => "已关闭",
        }
    }

    /// Whether the case still waits for the department.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitted | Self::Acknowledged)
    }
}

/// What someone does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    Acknowledge,
    Assign,
    Note,
    Transfer,
    Resolve,
    Reopen,
    /// The worker adds information.
    AddInfo,
    /// The worker rates the outcome.
    Rate,
    /// The deadline job moved it one level up.
    Escalate,
}

fn refused(action: CaseAction, status: CaseStatus) -> FieldError {
    FieldError::new(
        "action",
        "not_allowed_now",
        Message::new("problem.not_allowed_now")
            .arg("status", status.as_str())
            .arg("action", format!("{action:?}d").to_lowercase())
            .arg_msg("status_name", Message::dynamic(format!("case_status_short.{}", status.as_str()))),
    )
}

/// The status after `action`, or why it cannot be done now.
pub fn next_status(status: CaseStatus, action: CaseAction) -> Result<CaseStatus, FieldError> {
    use CaseAction as A;
    use CaseStatus as S;
    match (status, action) {
        (S::Submitted, A::Acknowledge) => Ok(S::Acknowledged),
        (S::Submitted | S::Acknowledged, A::Assign | A::Note | A::Transfer | A::Escalate | A::AddInfo) => Ok(status),
        // Transfer sends it back to be acknowledged by the receiving department.
        (S::Submitted | S::Acknowledged, A::Resolve) => Ok(S::Resolved),
        (S::Resolved, A::Reopen) => Ok(S::Acknowledged),
        (S::Resolved, A::Rate) => Ok(S::Closed),
        (S::Resolved, A::Note | A::AddInfo) => Ok(status),
        _ => Err(refused(action, status)),
    }
}

/// The alphabet of tracking codes: digits and capitals without I, L, O, U (Crockford's base 32).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A tracking code from 40 random bits: `8` characters and a check character (mod 37 over the value),
/// shown as `XXXX-XXXXC`. The check character catches a mistyped or swapped character.
pub fn tracking_code(random: u64) -> String {
    let mut v = random & ((1u64 << 40) - 1);
    let mut chars = [0u8; 8];
    for c in chars.iter_mut().rev() {
        *c = ALPHABET[(v % 32) as usize];
        v /= 32;
    }
    let body: String = chars.iter().map(|&c| c as char).collect();
    format!("{}-{}{}", &body[..4], &body[4..], check_char(&body))
}

fn check_char(body: &str) -> char {
    const CHECK: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
    let mut value: u64 = 0;
    for b in body.bytes() {
        let digit = ALPHABET.iter().position(|&a| a == b).unwrap_or(0) as u64;
        value = value * 32 + digit;
    }
    CHECK[(value % 37) as usize] as char
}

/// Normalizes a typed tracking code (case, spaces, dashes, look-alikes) and checks it.
pub fn parse_tracking_code(input: &str) -> Result<String, FieldError> {
    let bad = || FieldError::new("code", "invalid_tracking_code", Message::new("problem.invalid_tracking_code"));
    let folded = crate::text::fold_code(input, "code").map_err(|_| bad())?;
    let cleaned: String = folded
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    // Only the code's own alphabet from here on, so that the byte positions below are characters.
    if cleaned.len() != 9 || !cleaned.is_ascii() {
        return Err(bad());
    }
    let (body, check) = cleaned.split_at(8);
    if !body.bytes().all(|b| ALPHABET.contains(&b)) || !check.starts_with(check_char(body)) {
        return Err(bad());
    }
    Ok(format!("{}-{}{}", &body[..4], &body[4..], check))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A multibyte character where the check character would be (`ABCDEFG中X`) is refused, not a panic.
    #[test]
    fn tracking_codes_with_multibyte_characters_are_refused() {
        for input in ["ABCDEFG中X", "中BCDEFGHX", "ABCDEFGH中", "ＡBCDEFGHJ", "ABCD-EFG\u{0}X", "🙂🙂🙂🙂🙂🙂🙂🙂🙂"]
        {
            assert!(parse_tracking_code(input).is_err(), "{input}");
        }
    }

    #[test]
    fn the_life_cycle() {
        use CaseAction as A;
        use CaseStatus as S;
        assert_eq!(next_status(S::Submitted, A::Acknowledge).ok(), Some(S::Acknowledged));
        assert_eq!(next_status(S::Acknowledged, A::Resolve).ok(), Some(S::Resolved));
        assert_eq!(next_status(S::Resolved, A::Reopen).ok(), Some(S::Acknowledged));
        assert_eq!(next_status(S::Resolved, A::Rate).ok(), Some(S::Closed));
        assert!(next_status(S::Submitted, A::Rate).is_err());
        assert!(next_status(S::Closed, A::Reopen).is_err());
        assert!(next_status(S::Acknowledged, A::Acknowledge).is_err());
        assert!(S::Submitted.is_open() && !S::Resolved.is_open());
    }

    #[test]
    fn tracking_codes_check_themselves() {
        let code = tracking_code(0x12_3456_789A);
        assert_eq!(code.len(), 10);
        assert_eq!(parse_tracking_code(&code).ok(), Some(code.clone()));
        assert_eq!(parse_tracking_code(&code.to_lowercase().replace('-', " ")).ok(), Some(code.clone()));
        // One wrong character, or two swapped, is caught.
        let mut chars: Vec<char> = code.chars().collect();
        chars[1] = if chars[1] == '2' { '3' } else { '2' };
        assert!(parse_tracking_code(&chars.iter().collect::<String>()).is_err());
        let mut swapped: Vec<char> = code.chars().collect();
        if swapped[5] != swapped[6] {
            swapped.swap(5, 6);
            assert!(parse_tracking_code(&swapped.iter().collect::<String>()).is_err());
        }
        assert!(parse_tracking_code("nonsense").is_err());
        assert_ne!(tracking_code(1), tracking_code(2));
    }

    #[test]
    fn every_default_category_has_deadlines() {
        let cats = default_categories();
        assert_eq!(cats.len(), 9);
        assert!(cats.iter().all(|c| c.ack_days >= 1 && c.resolve_days > c.ack_days));
    }
}
