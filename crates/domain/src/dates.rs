//! Dates as people write them in Chinese spreadsheets and forms.

use crate::error::FieldError;
use crate::Message;
use chrono::NaiveDate;

/// Parses `2024-03-01`, `2024/3/1`, `2024.3.1`, `20240301` or `2024年3月1日`.
/// (Excel serial dates are the spreadsheet reader's business: they arrive here already converted.)
pub fn parse_flexible_date(input: &str, field: &str) -> Result<NaiveDate, FieldError> {
    let folded = crate::text::fold_code(input, field)?;
    let s = folded.as_str();
    let err = || {
        let s = crate::text::shown(s);
        FieldError::new(field, "invalid_date", Message::new("problem.invalid_date").arg("s", s))
    };
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| err());
    }
    let normalized: String = s
        .chars()
        .map(|c| match c {
            '年' | '月' | '/' | '.' => '-',
            '日' => ' ',
            c => c,
        })
        .collect();
    let parts: Vec<&str> = normalized.trim().split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return Err(err());
    }
    let num = |p: &str| p.trim().parse::<u32>().ok();
    match (parts[0].parse::<i32>().ok(), num(parts[1]), num(parts[2])) {
        (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y, m, d).ok_or_else(err),
        _ => Err(err()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 1);
        for s in ["2024-03-01", "2024/3/1", "2024年3月1日", "2024.03.01", "20240301", " 2024-3-1 "] {
            assert_eq!(parse_flexible_date(s, "d").ok(), d, "{s}");
        }
    }

    #[test]
    fn rejected_forms() {
        for s in ["2024-02-30", "24/3/1", "March 1", "", "2024-03", "2024年13月1日"] {
            let e = parse_flexible_date(s, "established_on");
            assert_eq!(e.map_err(|e| (e.field, e.code)), Err(("established_on".into(), "invalid_date".into())), "{s}");
        }
    }
}
