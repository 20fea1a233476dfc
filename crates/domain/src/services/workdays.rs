//! Deadlines in working days: weekends and configured public holidays are skipped, and the make-up
//! working days that China's holiday schedule moves onto weekends (调休) count.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Which days are working days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkCalendar {
    /// Public holidays (days off even on a weekday).
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are working days.
    pub workdays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// The end of the `n`-th working day after the day of `from` (the day itself does not count): a
    /// case filed on Friday with 1 working day is due at the end of Monday. `n` = 0 is the end of the
    /// day of `from`.
    pub fn deadline(&self, from: NaiveDateTime, n: u32) -> NaiveDateTime {
        let mut day = from.date();
        let mut left = n;
        let mut guard = 0;
        while left > 0 && guard < 3660 {
            day += Duration::days(1);
            guard += 1;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        (day + Duration::days(1)).and_time(NaiveTime::MIN)
    }

    /// Working days from `from` to `to`, both days excluded of `from` and included of `to` (0 when `to`
    /// is not later).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            n += u32::from(self.is_working_day(d));
        }
        n
    }

    /// The official 2026 schedule's days off and make-up days are configuration; this parses a list such
    /// as `2026-10-01..2026-10-07` or single dates, one per line or separated by commas.
    pub fn parse_days(text: &str) -> Result<BTreeSet<NaiveDate>, String> {
        let mut out = BTreeSet::new();
        for item in text.split([',', '，', '\n', ';', '；']).map(str::trim).filter(|s| !s.is_empty()) {
            let parse = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| item.to_owned());
            match item.split_once("..") {
                Some((a, b)) => {
                    let (a, b) = (parse(a)?, parse(b)?);
                    if b < a || (b - a).num_days() > 366 {
                        return Err(item.to_owned());
                    }
                    let mut d = a;
                    while d <= b {
                        out.insert(d);
                        d += Duration::days(1);
                    }
                }
                None => {
                    out.insert(parse(item)?);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    #[test]
    fn weekends_are_skipped() {
        let c = WorkCalendar::default();
        // Friday 2026-11-27 16:00 + 1 working day: end of Monday 11-30.
        assert_eq!(c.deadline(at("2026-11-27 16:00"), 1), at("2026-12-01 00:00"));
        assert_eq!(c.deadline(at("2026-11-27 16:00"), 5), at("2026-12-05 00:00"));
        // Filed on a Saturday: Monday is the first working day.
        assert_eq!(c.deadline(at("2026-11-28 10:00"), 1), at("2026-12-01 00:00"));
        assert_eq!(c.deadline(at("2026-11-27 16:00"), 0), at("2026-11-28 00:00"));
    }

    #[test]
    fn holidays_and_make_up_days() {
        let c = WorkCalendar {
            holidays: WorkCalendar::parse_days("2026-10-01..2026-10-07").unwrap_or_default(),
            workdays: WorkCalendar::parse_days("2026-09-27, 2026-10-10").unwrap_or_default(),
        };
        // Filed Wednesday 09-30: 10-01..07 off, Thursday 10-08 is the first working day.
        assert_eq!(c.deadline(at("2026-09-30 12:00"), 1), at("2026-10-09 00:00"));
        // Friday 10-09, then Saturday 10-10 is a make-up working day.
        assert_eq!(c.deadline(at("2026-09-30 12:00"), 3), at("2026-10-11 00:00"));
        assert!(c.is_working_day(d("2026-09-27")), "a Sunday made a working day");
        assert_eq!(c.working_days_between(d("2026-09-30"), d("2026-10-12")), 4);
    }

    #[test]
    fn day_lists_name_what_they_cannot_read() {
        assert_eq!(WorkCalendar::parse_days("2026-02-30"), Err("2026-02-30".into()));
        assert_eq!(WorkCalendar::parse_days("2026-10-07..2026-10-01"), Err("2026-10-07..2026-10-01".into()));
        assert_eq!(WorkCalendar::parse_days("2026-01-01, 2026-01-02").map(|s| s.len()), Ok(2));
    }
}
