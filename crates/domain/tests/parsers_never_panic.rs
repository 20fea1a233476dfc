//! Every public parser of the domain, fed arbitrary Unicode — multibyte characters, NUL and other
//! controls, bidi overrides, full-width forms, escaped surrogates (`\ud800` as text: Rust strings
//! cannot hold a lone surrogate, JSON bodies can spell one) — never panics, and every error it returns
//! names a field (the one asked about, for a single-field parser).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use dangjian_domain::entity::{parse_count, parse_optional_date, parse_text, EntityInput, UnitRef};
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::services::cases::parse_tracking_code;
use dangjian_domain::services::finder::FinderQuery;
use dangjian_domain::services::stations::{LatLng, StationDraft, StationInput};
use dangjian_domain::text::{clean, fold_code, TextKind};
use dangjian_domain::{
    parse_flexible_date, EntityDraft, EntityKind, FieldError, FieldErrors, IdNumber, InstructorDraft, Mobile, OrgCode,
    OrgKind, OrganizationDraft, RegionCode, SearchTerm, SectorCode, SiteCode, Uscc,
};
use proptest::prelude::*;

/// Characters that break naive parsers, and any character at all.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => prop::sample::select(vec!['中', '９', 'Ａ', '\u{3000}', 'é', '👨', '\u{200D}', '\u{301}']),
        2 => prop::sample::select(vec!['\0', '\u{1b}', '\u{7f}', '\u{85}', '\n', '\r', '\t']),
        1 => prop::sample::select(vec!['\u{202E}', '\u{202A}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{FEFF}']),
        4 => prop::sample::select("0123456789ABCDEFGHJKMNPQRTUWXY-/.年月日 ".chars().collect::<Vec<_>>()),
    ]
}

/// Arbitrary text, often a valid value with something hostile put in or around it.
fn hostile_text() -> impl Strategy<Value = String> {
    let valid = prop::sample::select(vec![
        "91350100M000100Y43",
        "11010519491231002X",
        "13812341234",
        "110105",
        "2024-03-01",
        "7K3M-Q9PXA",
        "ABCDEFG中X",
        "MT-BJ-0001",
        "\\ud800",
        "\\udfff\\u0000",
        "",
    ]);
    (valid, prop::collection::vec(hostile_char(), 0..24), any::<prop::sample::Index>()).prop_map(|(v, extra, at)| {
        let mut chars: Vec<char> = v.chars().collect();
        let at = at.index(chars.len() + 1);
        chars.splice(at..at, extra);
        chars.into_iter().collect()
    })
}

fn names_field(e: &FieldError, field: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.field.as_str(), field, "{:?}", e);
    prop_assert!(!e.code.is_empty() && said_in_both_languages(e), "{:?}", e);
    Ok(())
}

fn all_name_a_field(errs: &FieldErrors) -> Result<(), TestCaseError> {
    prop_assert!(!errs.is_empty());
    for e in &errs.0 {
        prop_assert!(!e.field.is_empty(), "{:?}", e);
        prop_assert!(!e.code.is_empty() && said_in_both_languages(e), "{:?}", e);
    }
    Ok(())
}

/// The message is in the catalogue in both languages (a missing key would show through as itself).
fn said_in_both_languages(e: &FieldError) -> bool {
    ["zh-CN", "en"].iter().all(|l| dangjian_i18n::lookup(l, e.message.key()).is_some())
}

fn check<T>(r: Result<T, FieldError>, field: &str) -> Result<(), TestCaseError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => names_field(&e, field),
    }
}

fn check_all<T>(r: Result<T, FieldErrors>) -> Result<(), TestCaseError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => all_name_a_field(&e),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn codes(s in hostile_text()) {
        check(Uscc::parse(&s), "uscc")?;
        check(IdNumber::parse(&s), "id_number")?;
        check(Mobile::parse(&s), "mobile")?;
        check(SiteCode::parse(&s), "site_code")?;
        check(OrgCode::parse(&s), "code")?;
        check(RegionCode::parse(&s), "region_code")?;
        check(SectorCode::parse(&s), "code").or_else(|_| check(SectorCode::parse(&s), "sector"))?;
        check(parse_tracking_code(&s), "code")?;
        check(UnitRef::parse_code(&s, "operator_code"), "operator_code")
            .or_else(|_| check(UnitRef::parse_code(&s, "operator_code"), "site_code"))?;
        check(EntityKind::parse(&s), "kind")?;
        check(OrgKind::parse(&s), "kind")?;
        check(fold_code(&s, "code"), "code")?;
    }

    #[test]
    fn dates_numbers_and_text(s in hostile_text()) {
        check(parse_flexible_date(&s, "established_on"), "established_on")?;
        check(parse_optional_date(Some(&s), "closed_on"), "closed_on")?;
        check(parse_count(Some(&s), "workers"), "workers")?;
        check(parse_text(Some(&s), "name", 200), "name")?;
        check(clean(&s, "description", TextKind::Lines), "description")?;
        check(SearchTerm::parse(&s, "q"), "q")?;
        check_all(LatLng::parse_anywhere(Some(&s), Some(&s), "lat", "lng"))?;
        let now = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap().and_hms_opt(12, 0, 0).unwrap();
        check_all(FinderQuery::parse(Some(&s), Some("116.4"), Some(&s), &[s.as_str()], Some(&s), now))?;
    }

    #[test]
    fn text_fields_hold_no_control_or_direction_characters(s in hostile_text()) {
        if let Ok(Some(t)) = parse_text(Some(&s), "name", 10_000) {
            prop_assert!(!t.chars().any(|c| c.is_control() || dangjian_domain::text::is_invisible_format(c)), "{:?}", t);
        }
    }

    #[test]
    fn drafts(a in hostile_text(), b in hostile_text(), c in hostile_text()) {
        let entity = EntityInput {
            uscc: Some(a.clone()),
            site_code: Some(b.clone()),
            name: Some(c.clone()),
            kind: Some(a.clone()),
            sectors: vec![b.clone()],
            parent_uscc: Some(c.clone()),
            region_code: Some(a.clone()),
            address: Some(b.clone()),
            workers: Some(c.clone()),
            established_on: Some(a.clone()),
            closed_on: Some(b.clone()),
            ..Default::default()
        };
        check_all(EntityDraft::parse(&entity))?;
        let org = OrganizationInput {
            code: Some(a.clone()),
            name: Some(b.clone()),
            kind: Some(c.clone()),
            parent_code: Some(a.clone()),
            unit_codes: vec![b.clone(), c.clone()],
            region_code: Some(c.clone()),
            established_on: Some(b.clone()),
            secretary: Some(a.clone()),
            ..Default::default()
        };
        check_all(OrganizationDraft::parse(&org))?;
        let instructor = InstructorInput {
            name: Some(a.clone()),
            mobile: Some(b.clone()),
            dispatching_org: Some(c.clone()),
            region_code: Some(a.clone()),
            assignments: vec![AssignmentInput {
                unit_code: Some(b.clone()),
                start_on: Some(c.clone()),
                ..Default::default()
            }],
        };
        check_all(InstructorDraft::parse(&instructor))?;
        let station = StationInput {
            code: Some(a.clone()),
            name: Some(b.clone()),
            operator_code: Some(c.clone()),
            address: Some(a.clone()),
            region_code: Some(b.clone()),
            latitude: Some(c.clone()),
            longitude: Some(a.clone()),
            amenities: vec![b.clone()],
            opening_hours: Some(c.clone()),
            status: Some(a.clone()),
            contact_phone: Some(b),
            ..Default::default()
        };
        check_all(StationDraft::parse(&station))?;
    }
}

/// The issue's probes, kept as plain examples.
#[test]
fn probes_from_the_issue() {
    let e = parse_tracking_code("ABCDEFG中X").unwrap_err();
    assert_eq!(e.field, "code");
    let e = Uscc::parse("９1350100M000100Y4中").unwrap_err();
    assert!(!e.message_in("en").contains('ï'), "{}", e.message);
    assert_eq!(
        Uscc::parse("９１３５０１００Ｍ０００１００Ｙ４３").map(|u| u.to_string()),
        Ok("91350100M000100Y43".into())
    );
    assert_eq!(RegionCode::parse("１１０１０５").map(|r| r.as_str().to_owned()), Ok("110105".into()));
    assert_eq!(parse_text(Some("美团\0"), "name", 50).unwrap_err().code, "control_character");
    assert_eq!(parse_text(Some("美团\u{202E}"), "name", 50).unwrap_err().code, "invisible_character");
}
