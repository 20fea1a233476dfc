//! Needs and rights cases on the web. For workers, on a phone and with no account: `/report` files a
//! case and `/track` follows it by tracking code, adds to it, rates or reopens it (in `worker`). For
//! the cadres of the handling departments: `/cases`, the inbox with its notifications, and
//! `/cases/{id}`, one case with its history and the handler's steps (in `inbox`).

pub(in crate::pages) mod inbox;
pub(super) mod worker;

page_routes! {
    "/report" => get(worker::report_form).post(worker::report_submit),
    "/track" => get(worker::track_lookup),
    "/track/{code}" => get(worker::track_page).post(worker::track_act),
    "/cases" => get(inbox::list),
    "/cases/{id}" => get(inbox::show).post(inbox::act),
    "/cases/{id}/contact" => post(inbox::reveal_contact),
    "/cases/notifications/{id}/read" => post(inbox::mark_read),
}

use crate::i18n::Lang;
use dangjian_domain::services::case_settings::CaseSettings;
use serde::Serialize;

/// A code with its name in the page's language, for selects and labels.
#[derive(Debug, Clone, Serialize)]
pub struct Named {
    pub code: String,
    pub name: String,
}

/// The configured categories, named in `lang`, with their deadlines.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryOption {
    pub code: String,
    pub name: String,
    pub ack_days: u32,
    pub resolve_days: u32,
}

pub fn category_options(settings: &CaseSettings, lang: Lang) -> Vec<CategoryOption> {
    settings
        .categories
        .iter()
        .map(|c| CategoryOption {
            code: c.code.clone(),
            name: lang.pick(&c.name_zh, &c.name_en),
            ack_days: c.ack_days,
            resolve_days: c.resolve_days,
        })
        .collect()
}

/// The name of category `code` in `lang` (the code itself for a category since removed).
pub fn category_name(settings: &CaseSettings, code: &str, lang: Lang) -> String {
    settings.category(code).map(|c| lang.pick(&c.name_zh, &c.name_en)).unwrap_or_else(|| code.to_owned())
}

/// A stored UTC time (RFC 3339) as China time, `2026-11-30 16:00`; the text itself if it does not parse.
pub fn china_time_text(utc: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(utc)
        .map(|t| {
            let china = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| *t.offset());
            t.with_timezone(&china).format("%Y-%m-%d %H:%M").to_string()
        })
        .unwrap_or_else(|_| utc.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_china_time() {
        assert_eq!(china_time_text("2026-11-30T16:00:00Z"), "2026-12-01 00:00");
        assert_eq!(china_time_text("garbage"), "garbage");
    }

    #[test]
    fn categories_are_named_in_the_page_language() {
        let s = CaseSettings::default();
        assert_eq!(category_name(&s, "wage_arrears", Lang::Zh), "欠薪");
        assert_eq!(category_name(&s, "wage_arrears", Lang::En), "Wage arrears");
        assert_eq!(category_name(&s, "gone", Lang::En), "gone");
        assert_eq!(category_options(&s, Lang::En)[0].name, "Wage arrears");
    }
}
