//! Opening hours of a worker station: `24h`, or per-weekday spans such as
//! `周一至周五 09:00-18:00；周六 10:00-16:00` / `Mon-Fri 09:00-18:00; Sat 10:00-16:00`. A span may run
//! past midnight (`22:00-06:00`). Parsing names the part it could not read.

use crate::FieldError;
use crate::Message;
use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

/// A span of one weekday, in minutes after midnight; `end` ≤ `start` runs into the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Span {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    pub start: u16,
    pub end: u16,
}

/// When a station is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpeningHours {
    AlwaysOpen,
    Weekly { spans: Vec<Span> },
}

const DAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
const DAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn weekday(token: &str) -> Option<u8> {
    let t = token.trim();
    let alt_zh = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"];
    (0..7u8).find(|&i| {
        let i = i as usize;
        t.eq_ignore_ascii_case(DAYS_EN[i])
            || t == DAYS_ZH[i]
            || t == alt_zh[i]
            || (i == 6 && (t == "周天" || t == "星期天"))
    })
}

fn time(token: &str) -> Option<u16> {
    let t = token.trim();
    if t == "24:00" {
        return Some(24 * 60);
    }
    let parsed = NaiveTime::parse_from_str(t, "%H:%M").ok()?;
    Some((parsed.hour() * 60 + parsed.minute()) as u16)
}

fn bad(part: &str) -> FieldError {
    FieldError::new("opening_hours", "invalid_hours", Message::new("problem.invalid_hours").arg("part", part))
}

impl OpeningHours {
    /// Parses the text form (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(bad(t));
        }
        if ["24h", "24小时", "24 小时", "全天", "00:00-24:00"].iter().any(|a| t.eq_ignore_ascii_case(a)) {
            return Ok(Self::AlwaysOpen);
        }
        let mut spans = Vec::new();
        for part in t.split([';', '；', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
            let (days, times) = part.split_once(char::is_whitespace).ok_or_else(|| bad(part))?;
            let day_list: Vec<u8> = match days.split_once(['-', '至', '~', '–']) {
                Some((a, b)) => {
                    let (a, b) = (weekday(a).ok_or_else(|| bad(part))?, weekday(b).ok_or_else(|| bad(part))?);
                    if a > b {
                        return Err(bad(part));
                    }
                    (a..=b).collect()
                }
                None => days
                    .split([',', '，', '、'])
                    .map(|d| weekday(d).ok_or_else(|| bad(part)))
                    .collect::<Result<_, _>>()?,
            };
            for range in times.split([',', '，']).map(str::trim).filter(|r| !r.is_empty()) {
                let (a, b) = range.split_once(['-', '~', '–']).ok_or_else(|| bad(part))?;
                let (start, end) = (time(a).ok_or_else(|| bad(part))?, time(b).ok_or_else(|| bad(part))?);
                if start == end || start >= 24 * 60 {
                    return Err(bad(part));
                }
                for &d in &day_list {
                    spans.push(Span { weekday: d, start, end });
                }
            }
        }
        if spans.is_empty() {
            return Err(bad(t));
        }
        spans.sort_by_key(|s| (s.weekday, s.start));
        Ok(Self::Weekly { spans })
    }

    /// Whether the station is open at local time `at`.
    pub fn is_open(&self, at: NaiveDateTime) -> bool {
        let spans = match self {
            Self::AlwaysOpen => return true,
            Self::Weekly { spans } => spans,
        };
        let day = at.weekday().num_days_from_monday() as u8;
        let minute = (at.hour() * 60 + at.minute()) as u16;
        let yesterday = (day + 6) % 7;
        spans.iter().any(|s| {
            if s.end > s.start {
                s.weekday == day && s.start <= minute && minute < s.end
            } else {
                (s.weekday == day && minute >= s.start) || (s.weekday == yesterday && minute < s.end)
            }
        })
    }

    /// The text form, in Chinese (`zh`) or English.
    pub fn text(&self, lang: &str) -> String {
        let zh = lang != "en";
        let spans = match self {
            Self::AlwaysOpen => return if zh { "24小时".into() } else { "24h".into() },
            Self::Weekly { spans } => spans,
        };
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        let names = if zh { DAYS_ZH } else { DAYS_EN };
        // Group consecutive weekdays with the same spans.
        let mut by_day: Vec<Vec<(u16, u16)>> = vec![Vec::new(); 7];
        for s in spans {
            by_day[s.weekday as usize].push((s.start, s.end));
        }
        let mut parts = Vec::new();
        let mut d = 0;
        while d < 7 {
            if by_day[d].is_empty() {
                d += 1;
                continue;
            }
            let mut e = d;
            while e + 1 < 7 && by_day[e + 1] == by_day[d] {
                e += 1;
            }
            let days = if e == d {
                names[d].to_owned()
            } else if zh {
                format!("{}至{}", names[d], names[e])
            } else {
                format!("{}-{}", names[d], names[e])
            };
            let times: Vec<String> = by_day[d].iter().map(|(a, b)| format!("{}-{}", hm(*a), hm(*b))).collect();
            parts.push(format!("{days} {}", times.join(",")));
            d = e + 1;
        }
        parts.join(if zh { "；" } else { "; " })
    }
}

/// Monday as 0, for callers that hold a [`Weekday`].
pub fn weekday_index(w: Weekday) -> u8 {
    w.num_days_from_monday() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    #[test]
    fn weekly_hours_in_either_language() {
        let h = OpeningHours::parse("周一至周五 09:00-18:00；周六 10:00-16:00").unwrap_or(OpeningHours::AlwaysOpen);
        let e = OpeningHours::parse("Mon-Fri 09:00-18:00; Sat 10:00-16:00").unwrap_or(OpeningHours::AlwaysOpen);
        assert_eq!(h, e);
        // 2026-11-27 is a Friday.
        assert!(h.is_open(at("2026-11-27 09:00")));
        assert!(!h.is_open(at("2026-11-27 18:00")));
        assert!(h.is_open(at("2026-11-28 15:59")));
        assert!(!h.is_open(at("2026-11-29 12:00")), "closed on Sunday");
        assert_eq!(h.text("zh"), "周一至周五 09:00-18:00；周六 10:00-16:00");
        assert_eq!(h.text("en"), "Mon-Fri 09:00-18:00; Sat 10:00-16:00");
    }

    #[test]
    fn night_spans_and_always_open() {
        let h = OpeningHours::parse("周六,周日 22:00-06:00").unwrap_or(OpeningHours::AlwaysOpen);
        assert!(h.is_open(at("2026-11-28 23:00")));
        assert!(h.is_open(at("2026-11-29 05:59")), "Saturday's night runs into Sunday");
        assert!(h.is_open(at("2026-11-30 05:00")), "Sunday's night runs into Monday");
        assert!(!h.is_open(at("2026-11-30 06:00")));
        assert!(!h.is_open(at("2026-11-27 23:00")));
        assert_eq!(OpeningHours::parse("24小时").ok(), Some(OpeningHours::AlwaysOpen));
        assert!(OpeningHours::AlwaysOpen.is_open(at("2026-11-27 03:00")));
    }

    #[test]
    fn unreadable_hours_name_the_part() {
        for bad in ["", "周八 09:00-18:00", "Mon-Fri 9-18", "周五至周一 09:00-10:00", "Mon 10:00-10:00"] {
            let e = OpeningHours::parse(bad).err();
            assert_eq!(e.as_ref().map(|e| e.field.as_str()), Some("opening_hours"), "{bad}");
        }
        let e = OpeningHours::parse("Mon 09:00-18:00; 周八 10:00-12:00").err();
        assert!(e.is_some_and(|e| e.message_in("zh-CN").contains("周八")));
    }
}
