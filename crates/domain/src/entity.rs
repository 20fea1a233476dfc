//! Units of the platform chain — platform, franchisee, partner corporation, site — and the rules a
//! registration must satisfy before it reaches storage.

use crate::codes::{SiteCode, Uscc};
use crate::dates::parse_flexible_date;
use crate::error::{FieldError, FieldErrors};
use crate::region::RegionCode;
use crate::Message;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Tier of a unit in its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// 平台企业 — the leading firm (HQ) of a chain.
    Platform,
    /// 加盟企业 — operates under the platform's brand.
    Franchisee,
    /// 合作企业 — contracts with the platform (station operators, fleets, labour-service firms, MCNs).
    Partner,
    /// 站点 / 网点 — where workers gather.
    Site,
}

impl EntityKind {
    pub const ALL: [EntityKind; 4] = [Self::Platform, Self::Franchisee, Self::Partner, Self::Site];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Platform => "platform",
            Self::Franchisee => "franchisee",
            Self::Partner => "partner",
            Self::Site => "site",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Platform => "平台企业",
            Self::Franchisee => "加盟企业",
            Self::Partner => "合作企业",
            Self::Site => "站点",
        }
    }

    /// Parses a kind by code or by its Chinese name (including common variants).
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input.trim() {
            "platform" | "平台企业" | "平台" => Ok(Self::Platform),
            "franchisee" | "加盟企业" | "加盟商" => Ok(Self::Franchisee),
            "partner" | "合作企业" | "合作商" => Ok(Self::Partner),
            "site" | "站点" | "网点" => Ok(Self::Site),
            other => Err(FieldError::new(
                "kind",
                "invalid_kind",
                Message::new("problem.invalid_kind.other_unit_kind").arg("other", other),
            )),
        }
    }

    /// The kinds a unit of this kind may have as its parent in the chain (empty: it is a chain root).
    pub fn allowed_parents(self) -> &'static [EntityKind] {
        match self {
            Self::Platform => &[],
            Self::Franchisee | Self::Partner => &[Self::Platform],
            Self::Site => &[Self::Franchisee, Self::Partner, Self::Platform],
        }
    }
}

/// Checks that `parent_kind` may stand above a unit of `kind`.
pub fn check_parent_kind(kind: EntityKind, parent_kind: Option<EntityKind>) -> Result<(), FieldError> {
    match (kind, parent_kind) {
        (EntityKind::Platform, None) => Ok(()),
        (EntityKind::Platform, Some(_)) => {
            Err(FieldError::new("parent", "platform_has_no_parent", Message::new("problem.platform_has_no_parent")))
        }
        (k, None) => Err(FieldError::new(
            "parent",
            "parent_required",
            Message::new("problem.parent_required")
                .arg("kind", k.as_str())
                .arg_msg("kind_name", Message::dynamic(format!("entity_kind.{}", k.as_str()))),
        )),
        (k, Some(p)) if k.allowed_parents().contains(&p) => Ok(()),
        (k, Some(p)) => Err(FieldError::new(
            "parent",
            "invalid_parent_kind",
            Message::new("problem.invalid_parent_kind")
                .arg("kind", k.as_str())
                .arg("parent", p.as_str())
                .arg_msg("kind_name", Message::dynamic(format!("entity_kind.{}", k.as_str())))
                .arg_msg("parent_name", Message::dynamic(format!("entity_kind.{}", p.as_str()))),
        )),
    }
}

/// Checks that making `parent_id` the parent of `id` closes no cycle, given the parent's ancestors
/// (nearest first).
pub fn check_no_cycle(id: i64, parent_id: i64, parent_ancestors: &[i64]) -> Result<(), FieldError> {
    if parent_id == id || parent_ancestors.contains(&id) {
        return Err(FieldError::new("parent", "chain_cycle", Message::new("problem.chain_cycle")));
    }
    Ok(())
}

/// How a unit refers to another in input: by database id, or by its USCC or site code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnitRef {
    Id(i64),
    Uscc(Uscc),
    SiteCode(SiteCode),
}

impl UnitRef {
    /// Parses a USCC if the text is one, otherwise a site code.
    pub fn parse_code(input: &str, field: &str) -> Result<Self, FieldError> {
        // Folded first, so that a full-width USCC is told apart from a site code by its real length.
        let folded = crate::text::fold_code(input, field)?;
        let t = folded.as_str();
        if t.len() == 18 {
            if let Ok(u) = Uscc::parse(t) {
                return Ok(Self::Uscc(u));
            }
        }
        match SiteCode::parse(t) {
            Ok(c) if t.len() != 18 => Ok(Self::SiteCode(c)),
            _ => Uscc::parse(t).map(Self::Uscc).map_err(|e| e.on_field(field)),
        }
    }
}

impl std::fmt::Display for UnitRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => write!(f, "#{id}"),
            Self::Uscc(u) => f.write_str(u.as_str()),
            Self::SiteCode(c) => f.write_str(c.as_str()),
        }
    }
}

/// A unit as it arrives from a form, an API body or a spreadsheet row: text, not yet trusted.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EntityInput {
    pub uscc: Option<String>,
    pub site_code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    /// Sector codes or Chinese names.
    #[serde(default)]
    pub sectors: Vec<String>,
    /// The parent's id (API, forms).
    pub parent_id: Option<i64>,
    /// The parent's USCC (imports).
    pub parent_uscc: Option<String>,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub workers: Option<String>,
    pub party_members: Option<String>,
    pub probationary_members: Option<String>,
    pub established_on: Option<String>,
    pub closed_on: Option<String>,
}

/// A unit that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityDraft {
    pub uscc: Option<Uscc>,
    pub site_code: Option<SiteCode>,
    pub name: String,
    pub kind: EntityKind,
    /// Sector names as given; the registry resolves them to codes (names may be Chinese).
    pub sectors: Vec<String>,
    pub parent: Option<UnitRef>,
    pub region_code: RegionCode,
    pub address: Option<String>,
    pub workers: i64,
    pub party_members: i64,
    pub probationary_members: i64,
    pub established_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses a count: a non-negative whole number (spreadsheets may give `12.0`).
pub fn parse_count(input: Option<&str>, field: &str) -> Result<i64, FieldError> {
    let Some(s) = input else { return Ok(0) };
    let s = crate::text::fold_code(s, field)?.replace(',', "");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    match s.parse::<i64>() {
        Ok(n) if (0..=10_000_000).contains(&n) => Ok(n),
        _ => Err({
            let s = crate::text::shown(s);
            FieldError::new(field, "invalid_count", Message::new("problem.invalid_count").arg("s", s))
        }),
    }
}

/// Parses an optional one-line text field ([`crate::text::clean`]: NFC, no control or invisible
/// characters), trimming it, bounded to `max` characters.
pub fn parse_text(input: Option<&str>, field: &str, max: usize) -> Result<Option<String>, FieldError> {
    let Some(s) = input.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let s = crate::text::clean(s, field, crate::text::TextKind::Line)?;
    let s = s.trim();
    if s.chars().count() > max {
        return Err(FieldError::new(field, "too_long", Message::new("problem.too_long").arg("max", max)));
    }
    Ok(Some(s.to_owned()))
}

/// Parses a required text field.
pub fn parse_required_text(input: Option<&str>, field: &str, max: usize) -> Result<String, FieldError> {
    parse_text(input, field, max)?.ok_or_else(|| FieldError::new(field, "required", Message::new("problem.required")))
}

/// Parses an optional date field.
pub fn parse_optional_date(input: Option<&str>, field: &str) -> Result<Option<NaiveDate>, FieldError> {
    match input.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_flexible_date(s, field).map(Some),
    }
}

/// Checks that `end` (when given) is not before `start` (when given).
pub fn check_date_order(start: Option<NaiveDate>, end: Option<NaiveDate>, end_field: &str) -> Result<(), FieldError> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(FieldError::new(
            end_field,
            "date_before_start",
            Message::new("problem.date_before_start.e_before_start").arg("e", e).arg("s", s),
        )),
        _ => Ok(()),
    }
}

/// The fields of a unit's input that refer to the database (its region, sectors, parent and codes), as
/// far as they parsed: what the registry can still check when the input as a whole did not parse, so
/// that a form or a file row reports every problem at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityReferences {
    pub kind: Option<EntityKind>,
    pub uscc: Option<Uscc>,
    pub site_code: Option<SiteCode>,
    pub region_code: Option<RegionCode>,
    pub sectors: Vec<String>,
    pub parent: Option<UnitRef>,
}

impl EntityReferences {
    /// The references of a draft (all of them parsed).
    pub fn of(draft: &EntityDraft) -> Self {
        Self {
            kind: Some(draft.kind),
            uscc: draft.uscc.clone(),
            site_code: draft.site_code.clone(),
            region_code: Some(draft.region_code.clone()),
            sectors: draft.sectors.clone(),
            parent: draft.parent.clone(),
        }
    }
}

impl EntityDraft {
    /// Checks everything that needs no database and reports every problem at once.
    pub fn parse(input: &EntityInput) -> Result<Self, FieldErrors> {
        Self::parse_or_references(input).map_err(|(errs, _)| errs)
    }

    /// [`Self::parse`], and on failure also the references that did parse, for the database-backed
    /// checks of the same input ([`EntityReferences`]).
    pub fn parse_or_references(input: &EntityInput) -> Result<Self, (FieldErrors, Box<EntityReferences>)> {
        let mut errs = FieldErrors::default();
        let uscc = non_empty(&input.uscc).and_then(|s| errs.take(Uscc::parse(s)));
        let site_code = non_empty(&input.site_code).and_then(|s| errs.take(SiteCode::parse(s)));
        let name = errs.take(parse_required_text(input.name.as_deref(), "name", 200));
        let kind = match non_empty(&input.kind) {
            Some(k) => errs.take(EntityKind::parse(k)),
            None => {
                errs.push(FieldError::new("kind", "required", Message::new("problem.required")));
                None
            }
        };
        if let Some(k) = kind {
            let has_code = uscc.is_some() || non_empty(&input.uscc).is_some();
            if k != EntityKind::Site && !has_code {
                errs.push(FieldError::new("uscc", "required", Message::new("problem.required.unified_social_credit")));
            }
            if k == EntityKind::Site && !has_code && non_empty(&input.site_code).is_none() {
                errs.push(FieldError::new(
                    "site_code",
                    "required",
                    Message::new("problem.required.site_needs_unified"),
                ));
            }
            if k != EntityKind::Site && non_empty(&input.site_code).is_some() {
                errs.push(FieldError::new(
                    "site_code",
                    "site_code_only_for_sites",
                    Message::new("problem.site_code_only_for_sites"),
                ));
            }
        }
        let sectors: Vec<String> =
            input.sectors.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if sectors.is_empty() {
            errs.push(FieldError::new("sectors", "required", Message::new("problem.required.least_one_sector")));
        }
        let parent = match (input.parent_id, non_empty(&input.parent_uscc)) {
            (Some(id), _) => Some(UnitRef::Id(id)),
            (None, Some(code)) => errs.take(UnitRef::parse_code(code, "parent_uscc")),
            (None, None) => None,
        };
        if let Some(k) = kind {
            // Whether the parent's kind fits is checked once the parent is resolved; here only its presence.
            let given = input.parent_id.is_some() || non_empty(&input.parent_uscc).is_some();
            let presence = match (k, given) {
                (EntityKind::Platform, true) => check_parent_kind(k, Some(EntityKind::Platform)),
                (EntityKind::Platform, false) | (_, true) => Ok(()),
                (_, false) => check_parent_kind(k, None),
            };
            errs.take(presence);
        }
        let region_code = match non_empty(&input.region_code) {
            None => {
                errs.push(FieldError::new("region_code", "required", Message::new("problem.required")));
                None
            }
            Some(s) => match RegionCode::parse(s) {
                Ok(c) if c.is_unit_level() => Some(c),
                Ok(_) => {
                    errs.push(FieldError::new(
                        "region_code",
                        "region_not_precise",
                        Message::new("problem.region_not_precise"),
                    ));
                    None
                }
                Err(e) => {
                    errs.push(e);
                    None
                }
            },
        };
        let address = errs.take(parse_text(input.address.as_deref(), "address", 300)).flatten();
        let workers = errs.take(parse_count(input.workers.as_deref(), "workers"));
        let party_members = errs.take(parse_count(input.party_members.as_deref(), "party_members"));
        let probationary = errs.take(parse_count(input.probationary_members.as_deref(), "probationary_members"));
        if let (Some(w), Some(f), Some(p)) = (workers, party_members, probationary) {
            if f + p > w {
                errs.push(FieldError::new(
                    "party_members",
                    "members_exceed_workers",
                    Message::new("problem.members_exceed_workers").arg("f", f).arg("p", p).arg("w", w),
                ));
            }
        }
        let established_on =
            errs.take(parse_optional_date(input.established_on.as_deref(), "established_on")).flatten();
        let closed_on = errs.take(parse_optional_date(input.closed_on.as_deref(), "closed_on")).flatten();
        errs.take(check_date_order(established_on, closed_on, "closed_on"));
        match (name, kind, region_code, workers, party_members, probationary) {
            (
                Some(name),
                Some(kind),
                Some(region_code),
                Some(workers),
                Some(party_members),
                Some(probationary_members),
            ) if errs.is_empty() => Ok(Self {
                uscc,
                site_code,
                name,
                kind,
                sectors,
                parent,
                region_code,
                address,
                workers,
                party_members,
                probationary_members,
                established_on,
                closed_on,
            }),
            (_, kind, region_code, ..) => {
                let references = EntityReferences { kind, uscc, site_code, region_code, sectors, parent };
                Err((errs, Box::new(references)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> EntityInput {
        EntityInput {
            site_code: Some("MT-BJ-001".into()),
            name: Some("望京站".into()),
            kind: Some("站点".into()),
            sectors: vec!["外卖配送".into()],
            parent_uscc: Some("91350100M000100Y43".into()),
            region_code: Some("110105".into()),
            workers: Some("40".into()),
            party_members: Some("2".into()),
            probationary_members: Some("1".into()),
            established_on: Some("2021/5/1".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_site_parses() {
        let d = EntityDraft::parse(&site());
        assert!(d.is_ok(), "{d:?}");
        let d = d.unwrap_or_else(|_| unreachable!());
        assert_eq!(d.kind, EntityKind::Site);
        assert_eq!(d.parent, Some(UnitRef::Uscc(Uscc::parse("91350100M000100Y43").unwrap_or_else(|_| unreachable!()))));
        assert_eq!(d.established_on, NaiveDate::from_ymd_opt(2021, 5, 1));
    }

    #[test]
    fn every_problem_is_reported() {
        let input = EntityInput {
            uscc: Some("91350100M000100Y44".into()),
            kind: Some("franchisee".into()),
            region_code: Some("11".into()),
            workers: Some("2".into()),
            party_members: Some("3".into()),
            established_on: Some("2024-01-01".into()),
            closed_on: Some("2023-01-01".into()),
            ..Default::default()
        };
        let errs = EntityDraft::parse(&input).err().map(|e| e.0).unwrap_or_default();
        let fields: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            fields,
            vec![
                ("uscc", "invalid_check_character"),
                ("name", "required"),
                ("sectors", "required"),
                ("parent", "parent_required"),
                ("region_code", "region_not_precise"),
                ("party_members", "members_exceed_workers"),
                ("closed_on", "date_before_start"),
            ]
        );
    }

    #[test]
    fn uscc_rules_by_kind() {
        let mut s = site();
        s.site_code = None;
        let codes =
            |i: &EntityInput| EntityDraft::parse(i).err().map(|e| e.0.into_iter().map(|e| e.code).collect::<Vec<_>>());
        assert_eq!(codes(&s), Some(vec!["required".to_owned()]));
        s.kind = Some("partner".into());
        s.site_code = Some("X1".into());
        assert_eq!(codes(&s), Some(vec!["required".to_owned(), "site_code_only_for_sites".to_owned()]));
    }

    #[test]
    fn tier_rules() {
        use EntityKind::*;
        assert!(check_parent_kind(Platform, None).is_ok());
        assert!(check_parent_kind(Platform, Some(Platform)).is_err());
        assert!(check_parent_kind(Franchisee, Some(Platform)).is_ok());
        assert!(check_parent_kind(Franchisee, Some(Franchisee)).is_err());
        assert!(check_parent_kind(Partner, Some(Site)).is_err());
        assert!(check_parent_kind(Site, Some(Partner)).is_ok());
        assert!(check_parent_kind(Site, Some(Franchisee)).is_ok());
        assert!(check_parent_kind(Site, Some(Platform)).is_ok());
        assert!(check_parent_kind(Site, Some(Site)).is_err());
        assert!(check_parent_kind(Site, None).is_err());
    }

    #[test]
    fn cycles() {
        assert!(check_no_cycle(5, 5, &[]).is_err());
        assert!(check_no_cycle(5, 7, &[9, 5, 1]).is_err());
        assert!(check_no_cycle(5, 7, &[9, 1]).is_ok());
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count(Some("12.0"), "w"), Ok(12));
        assert_eq!(parse_count(Some("1,200"), "w"), Ok(1200));
        assert_eq!(parse_count(None, "w"), Ok(0));
        assert!(parse_count(Some("-1"), "w").is_err());
        assert!(parse_count(Some("abc"), "w").is_err());
    }

    #[test]
    fn unit_refs() {
        assert!(matches!(UnitRef::parse_code("91350100M000100Y43", "u"), Ok(UnitRef::Uscc(_))));
        assert!(matches!(UnitRef::parse_code("MT-001", "u"), Ok(UnitRef::SiteCode(_))));
        assert_eq!(UnitRef::parse_code("91350100M000100Y44", "u").map_err(|e| e.field), Err("u".into()));
        // A full-width USCC is a USCC, not a site code.
        let wide: String =
            "91350100M000100Y43".chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)).collect();
        assert!(matches!(UnitRef::parse_code(&wide, "u"), Ok(UnitRef::Uscc(_))), "{wide}");
    }
}
