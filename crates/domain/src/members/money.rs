//! Exact money in yuan and fen. Renminbi has two decimal places, so an amount is a whole number of fen
//! (`i64`): arithmetic is exact, rounding happens only where a rule says so (half-up, to the fen), and
//! the same integer is what the ledger will store — sqlx's `Any` driver over SQLite and PostgreSQL has
//! no decimal type, so a decimal crate would be converted to fen at the store anyway.

use crate::{FieldError, Message};
use serde::{Serialize, Serializer};

/// An amount of money in fen (0.01 yuan), never negative once parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// The largest amount an input may state: a hundred million yuan a month is far above any income the
/// rules are about, and keeps every product of a rate exact in `i64`.
pub const MAX_INPUT_YUAN: i64 = 100_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    /// An amount of `fen`.
    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    /// An amount of whole `yuan`.
    pub const fn from_yuan(yuan: i64) -> Self {
        Money(yuan * 100)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Parses `4700`, `4700.5` or `4700.50`: digits, and at most two after a point. Signs, exponents,
    /// grouping commas and a third decimal are refused, each with its own message naming `field`.
    pub fn parse(input: &str, field: &str) -> Result<Money, FieldError> {
        let s = input.trim();
        let shown = crate::text::shown(s);
        let invalid =
            || FieldError::new(field, "invalid_amount", Message::new("problem.invalid_amount").arg("s", &shown));
        if let Some(rest) = s.strip_prefix('-') {
            if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return Err(FieldError::new(field, "negative", Message::new("problem.amount_negative")));
            }
            return Err(invalid());
        }
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || (s.contains('.') && frac.is_empty()) {
            return Err(invalid());
        }
        if frac.len() > 2 {
            return Err(FieldError::new(field, "too_many_decimals", Message::new("problem.amount_decimals")));
        }
        let too_large =
            || FieldError::new(field, "too_large", Message::new("problem.amount_too_large").arg("max", MAX_INPUT_YUAN));
        let whole = whole.trim_start_matches('0');
        if whole.len() > 10 {
            return Err(too_large());
        }
        let yuan: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
        if yuan > MAX_INPUT_YUAN {
            return Err(too_large());
        }
        let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| invalid())?;
        let m = Money(yuan * 100 + fen);
        if m > Money::from_yuan(MAX_INPUT_YUAN) {
            return Err(too_large());
        }
        Ok(m)
    }

    /// `self × bp / 10,000` (a rate in basis points: 150 is 1.5%), rounded half-up to the fen.
    pub fn times_basis_points(self, bp: u32) -> Money {
        Money(div_half_up(self.0 * i64::from(bp), 10_000))
    }

    /// The mean of `amounts`, rounded half-up to the fen (zero for none).
    pub fn average(amounts: &[Money]) -> Money {
        let n = i64::try_from(amounts.len()).unwrap_or(i64::MAX);
        if n == 0 {
            return Money::ZERO;
        }
        Money(div_half_up(amounts.iter().map(|m| m.0).sum(), n))
    }
}

/// `a / b` rounded half-up, for `a ≥ 0` and `b > 0`.
fn div_half_up(a: i64, b: i64) -> i64 {
    (2 * a + b) / (2 * b)
}

impl std::fmt::Display for Money {
    /// Yuan with two decimals: `47.00`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// As a decimal string (`"47.00"`), never a JSON number: a client's float would not be exact.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> String {
        Money::parse(s, "monthly_income").map_or_else(|e| e.code, |m| m.to_string())
    }

    #[test]
    fn amounts_parse_exactly() {
        for (input, want) in [
            ("4700", "4700.00"),
            ("4700.5", "4700.50"),
            ("3000.01", "3000.01"),
            (" 0 ", "0.00"),
            ("0.2", "0.20"),
            ("007.10", "7.10"),
            ("100000000", "100000000.00"),
        ] {
            assert_eq!(code(input), want, "{input}");
        }
    }

    #[test]
    fn bad_amounts_say_why() {
        for (input, want) in [
            ("abc", "invalid_amount"),
            ("", "invalid_amount"),
            ("1e3", "invalid_amount"),
            ("1,000", "invalid_amount"),
            ("12.", "invalid_amount"),
            (".5", "invalid_amount"),
            ("+5", "invalid_amount"),
            ("-5", "negative"),
            ("-0.01", "negative"),
            ("1.001", "too_many_decimals"),
            ("100000000.01", "too_large"),
            ("99999999999999999999", "too_large"),
        ] {
            assert_eq!(code(input), want, "{input}");
        }
    }

    #[test]
    fn rates_round_half_up_to_the_fen() {
        assert_eq!(Money::from_yuan(4700).times_basis_points(100).to_string(), "47.00");
        // 3000.01 × 1% = 30.0001 → 30.00; 1.01 × 0.5% = 0.00505 → 0.01; 0.99 × 0.5% = 0.00495 → 0.00.
        assert_eq!(Money::from_fen(300_001).times_basis_points(100).to_string(), "30.00");
        assert_eq!(Money::from_fen(101).times_basis_points(50).to_string(), "0.01");
        assert_eq!(Money::from_fen(99).times_basis_points(50).to_string(), "0.00");
    }

    #[test]
    fn averages_round_half_up() {
        let m = |f| Money::from_fen(f);
        assert_eq!(Money::average(&[m(100), m(100), m(101)]).fen(), 100);
        assert_eq!(Money::average(&[m(100), m(101), m(101)]).fen(), 101);
        assert_eq!(Money::average(&[]), Money::ZERO);
    }
}
