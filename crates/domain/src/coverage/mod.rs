//! The two coverages (DOMAIN.md, "The two coverages"): for every unit on any date, whether Party
//! organization reaches it (its own organization, a joint branch, an organization of its chain) and
//! whether Party work does (organization, or an instructor); the rates and counts rolled up by region ×
//! sector × chain tier × platform chain; the gap list with the rule each unit breaks and its fix.
//!
//! Everything here is pure: [`rules`] holds the thresholds with their effective dates, [`state`] the
//! state of one unit on one day, [`gaps`] the rules a unit or organization breaks, and [`index`] an
//! in-memory index over every unit that answers roll-ups, trends and gap lists by scanning compact
//! records — the store feeds it and keeps it current.

pub mod gaps;
pub mod index;
pub mod rules;
pub mod state;

use chrono::{Datelike, NaiveDate};

/// A date as a day number (days since 0001-01-01, day 1), so that comparisons are integer compares.
pub type Day = i32;

/// The day number of a date.
pub fn day_of(d: NaiveDate) -> Day {
    d.num_days_from_ce()
}

/// The date of a day number.
pub fn date_of(day: Day) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(day).unwrap_or(NaiveDate::MIN)
}

/// The last day of each of `months` calendar months ending with the month of `end` (oldest first) —
/// the dates of a monthly trend. The last point is `end` itself, not its month's end.
pub fn month_ends(end: NaiveDate, months: u32) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(months as usize);
    let (mut y, mut m) = (end.year(), end.month());
    for i in 0..months {
        let date = if i == 0 {
            end
        } else {
            let first_of_next =
                NaiveDate::from_ymd_opt(if m == 12 { y + 1 } else { y }, if m == 12 { 1 } else { m + 1 }, 1);
            first_of_next.and_then(|d| d.pred_opt()).unwrap_or(end)
        };
        out.push(date);
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn days_round_trip() {
        let x = d("2024-02-29");
        assert_eq!(date_of(day_of(x)), x);
        assert_eq!(day_of(d("2024-03-01")) - day_of(x), 1);
    }

    #[test]
    fn month_ends_end_on_the_given_day() {
        let ends = month_ends(d("2026-03-15"), 4);
        assert_eq!(ends, vec![d("2025-12-31"), d("2026-01-31"), d("2026-02-28"), d("2026-03-15")]);
        assert_eq!(month_ends(d("2026-01-10"), 2), vec![d("2025-12-31"), d("2026-01-10")]);
    }
}
