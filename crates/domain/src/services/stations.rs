//! Worker stations (暖心驿站, 户外劳动者服务站 and the like): where a rider or courier can drink water,
//! charge a phone, heat food, rest, use a toilet, get first aid or legal aid (DOMAIN.md, "Worker
//! services and rights"). A station arrives as a [`StationInput`] and becomes a [`StationDraft`] with
//! every field error at once; coordinates are WGS-84 (what a phone's GPS reports).

use super::hours::OpeningHours;
use crate::entity::{parse_required_text, parse_text, UnitRef};
use crate::error::{FieldError, FieldErrors};
use crate::region::RegionCode;
use crate::Message;
use serde::{Deserialize, Deserializer, Serialize};

/// What a station offers. The codes are stable (API, files); the names are for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Amenity {
    DrinkingWater,
    PhoneCharging,
    FoodHeating,
    RestSeats,
    Toilet,
    FirstAid,
    LegalAid,
    UnionHelpDesk,
}

impl Amenity {
    pub const ALL: [Amenity; 8] = [
        Self::DrinkingWater,
        Self::PhoneCharging,
        Self::FoodHeating,
        Self::RestSeats,
        Self::Toilet,
        Self::FirstAid,
        Self::LegalAid,
        Self::UnionHelpDesk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DrinkingWater => "drinking_water",
            Self::PhoneCharging => "phone_charging",
            Self::FoodHeating => "food_heating",
            Self::RestSeats => "rest_seats",
            Self::Toilet => "toilet",
            Self::FirstAid => "first_aid",
            Self::LegalAid => "legal_aid",
            Self::UnionHelpDesk => "union_help_desk",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::DrinkingWater => "饮水",
            Self::PhoneCharging => "手机充电",
            Self::FoodHeating => "热饭",
            Self::RestSeats => "休息座椅",
            Self::Toilet => "卫生间",
            Self::FirstAid => "急救药箱",
            Self::LegalAid => "法律援助",
            Self::UnionHelpDesk => "工会服务台",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Self::DrinkingWater => "Drinking water",
            Self::PhoneCharging => "Phone charging",
            Self::FoodHeating => "Food heating",
            Self::RestSeats => "Rest seats",
            Self::Toilet => "Toilet",
            Self::FirstAid => "First aid",
            Self::LegalAid => "Legal aid",
            Self::UnionHelpDesk => "Union help desk",
        }
    }

    /// The name in `lang` (`zh…` Chinese, anything else English).
    pub fn name(self, lang: &str) -> &'static str {
        if lang.starts_with("zh") {
            self.name_zh()
        } else {
            self.name_en()
        }
    }

    /// A code, or a Chinese or English name (as people write them in spreadsheets).
    pub fn parse(input: &str, field: &str) -> Result<Self, FieldError> {
        let t = input.trim();
        Self::ALL
            .into_iter()
            .find(|a| t.eq_ignore_ascii_case(a.as_str()) || t == a.name_zh() || t.eq_ignore_ascii_case(a.name_en()))
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
                let names: Vec<&str> = Self::ALL.iter().map(|a| a.name_zh()).collect();
                FieldError::new(
                    field,
                    "unknown_amenity",
                    Message::new("problem.unknown_amenity")
                        .arg("t", t)
                        .arg("codes", codes.join(", "))
                        .arg("names", names.join("、")),
                )
            })
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of amenities as one word, so a filter is one AND.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AmenitySet(u16);

impl AmenitySet {
    pub fn of(list: &[Amenity]) -> Self {
        Self(list.iter().fold(0, |acc, a| acc | a.bit()))
    }

    /// Whether every amenity of `wanted` is here.
    pub fn contains_all(self, wanted: AmenitySet) -> bool {
        self.0 & wanted.0 == wanted.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The amenities, in [`Amenity::ALL`] order.
    pub fn to_vec(self) -> Vec<Amenity> {
        Amenity::ALL.into_iter().filter(|a| self.0 & a.bit() != 0).collect()
    }
}

/// Whether a station is open to workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StationStatus {
    Active,
    /// Temporarily not serving (renovation, a season): kept, not found by the finder.
    Suspended,
    Closed,
}

impl StationStatus {
    pub const ALL: [StationStatus; 3] = [Self::Active, Self::Suspended, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Active => "运营中",
            Self::Suspended => "暂停服务",
            Self::Closed => "已关闭",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let t = input.trim();
        Self::ALL.into_iter().find(|s| t.eq_ignore_ascii_case(s.as_str()) || t == s.name_zh()).ok_or_else(|| {
            FieldError::new("status", "invalid_status", Message::new("problem.invalid_status").arg("t", t))
        })
    }
}

/// A point in WGS-84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

/// A generous box around China (mainland, Hainan and the South China Sea islands, Taiwan, Hong Kong,
/// Macao): a coordinate outside it is a typing error, most often latitude and longitude swapped.
const CHINA_LAT: (f64, f64) = (3.0, 54.0);
const CHINA_LNG: (f64, f64) = (73.0, 136.0);

fn in_china(lat: f64, lng: f64) -> bool {
    (CHINA_LAT.0..=CHINA_LAT.1).contains(&lat) && (CHINA_LNG.0..=CHINA_LNG.1).contains(&lng)
}

fn parse_degrees(input: Option<&str>, field: &str, limit: f64) -> Result<f64, FieldError> {
    let Some(t) = input.map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(FieldError::new(field, "required", Message::new("problem.required")));
    };
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Ok(v),
        Ok(_) => Err(FieldError::new(
            field,
            "out_of_range",
            Message::new("problem.out_of_range.t_between_limit").arg("t", t).arg("limit", limit),
        )),
        Err(_) => Err(FieldError::new(field, "invalid_number", Message::new("problem.invalid_number").arg("t", t))),
    }
}

impl LatLng {
    /// Parses latitude and longitude (decimal degrees, WGS-84) anywhere on Earth; errors name the
    /// fields `lat_field` and `lng_field`.
    pub fn parse_anywhere(
        lat: Option<&str>,
        lng: Option<&str>,
        lat_field: &str,
        lng_field: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::default();
        let lat = errs.take(parse_degrees(lat, lat_field, 90.0));
        let lng = errs.take(parse_degrees(lng, lng_field, 180.0));
        match (lat, lng) {
            (Some(lat), Some(lng)) if errs.is_empty() => Ok(Self { lat, lng }),
            _ => Err(errs),
        }
    }

    /// Parses a station's position, which must lie in China.
    pub fn parse_in_china(lat: Option<&str>, lng: Option<&str>) -> Result<Self, FieldErrors> {
        let p = Self::parse_anywhere(lat, lng, "latitude", "longitude")?;
        if in_china(p.lat, p.lng) {
            return Ok(p);
        }
        let key = if in_china(p.lng, p.lat) { "problem.outside_china.swapped" } else { "problem.outside_china" };
        Err(FieldError::new("latitude", "outside_china", Message::new(key)).into())
    }
}

/// Great-circle distance in metres (haversine, mean Earth radius 6,371,008.8 m).
pub fn haversine_m(a: LatLng, b: LatLng) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lng - a.lng).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// Links that open a map app at the station: Amap's web URI (which hands over to the app on a phone;
/// `coordinate=wgs84` because Amap itself works in GCJ-02) and a `geo:` URI (RFC 5870) for Android's
/// chooser.
pub fn navigation_links(p: LatLng, name: &str) -> (String, String) {
    let name_q: String = url_encode(name);
    let amap = format!(
        "https://uri.amap.com/marker?position={:.6},{:.6}&name={name_q}&coordinate=wgs84&callnative=1",
        p.lng, p.lat
    );
    let geo = format!("geo:{:.6},{:.6}?q={:.6},{:.6}({name_q})", p.lat, p.lng, p.lat, p.lng);
    (amap, geo)
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text or a JSON number, as text: coordinates come as numbers from API clients and as text from
/// forms and spreadsheets.
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(Option::<Raw>::deserialize(d)?.map(|r| match r {
        Raw::Text(s) => s,
        Raw::Number(n) => n.to_string(),
    }))
}

/// A station as it arrives from a form, an API body or a spreadsheet row.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct StationInput {
    /// The station's own code (驿站编码), unique; imports match on it.
    pub code: Option<String>,
    pub name: Option<String>,
    /// The operating unit, by USCC or site code — or give `operator_department`.
    pub operator_code: Option<String>,
    /// The operating department (e.g. 朝阳区总工会), when no registered unit runs the station.
    pub operator_department: Option<String>,
    pub address: Option<String>,
    pub region_code: Option<String>,
    /// WGS-84 decimal degrees.
    #[serde(default, deserialize_with = "text_or_number")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<String>,
    #[serde(default, deserialize_with = "text_or_number")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<String>,
    /// Codes (`drinking_water`) or names (饮水).
    #[serde(default)]
    pub amenities: Vec<String>,
    /// `24h`, or e.g. `周一至周五 09:00-18:00；周六 10:00-16:00`.
    pub opening_hours: Option<String>,
    /// `active` (default), `suspended` or `closed`.
    pub status: Option<String>,
    /// The station's (an organisation's) phone, not a person's.
    pub contact_phone: Option<String>,
}

/// Who runs a station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    Unit(UnitRef),
    Department(String),
}

/// A valid station.
#[derive(Debug, Clone, PartialEq)]
pub struct StationDraft {
    pub code: String,
    pub name: String,
    pub operator: Operator,
    pub address: String,
    pub region_code: RegionCode,
    pub position: LatLng,
    pub amenities: Vec<Amenity>,
    pub hours: OpeningHours,
    pub status: StationStatus,
    pub contact_phone: Option<String>,
}

fn parse_code(input: Option<&str>) -> Result<String, FieldError> {
    let code = parse_required_text(input, "code", 40)?.to_uppercase();
    if code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(code)
    } else {
        Err(FieldError::new("code", "invalid_code", Message::new("problem.invalid_code")))
    }
}

fn parse_operator(unit: Option<&str>, department: Option<&str>) -> Result<Operator, FieldError> {
    let department = parse_text(department, "operator_department", 100)?;
    match (unit.map(str::trim).filter(|s| !s.is_empty()), department) {
        (Some(code), None) => UnitRef::parse_code(code, "operator_code").map(Operator::Unit),
        (None, Some(d)) => Ok(Operator::Department(d)),
        (Some(_), Some(_)) => {
            Err(FieldError::new("operator_code", "two_operators", Message::new("problem.two_operators")))
        }
        (None, None) => {
            Err(FieldError::new("operator_code", "required", Message::new("problem.required.give_operating_unit")))
        }
    }
}

fn parse_phone(input: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(t) = input.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let allowed = t.chars().all(|c| c.is_ascii_digit() || " -+()转".contains(c));
    if allowed && (5..=20).contains(&digits) {
        Ok(Some(t.to_owned()))
    } else {
        Err(FieldError::new("contact_phone", "invalid_phone", Message::new("problem.invalid_phone").arg("t", t)))
    }
}

/// The fields of a station's input that the registry checks, as far as they parsed (see
/// [`crate::entity::EntityReferences`]): its code (one station each), region and operating unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationReferences {
    pub code: Option<String>,
    pub region_code: Option<RegionCode>,
    pub operator: Option<Operator>,
}

impl StationReferences {
    /// The references of a draft (all of them parsed).
    pub fn of(d: &StationDraft) -> Self {
        Self {
            code: Some(d.code.clone()),
            region_code: Some(d.region_code.clone()),
            operator: Some(d.operator.clone()),
        }
    }
}

impl StationDraft {
    /// Checks everything that needs no database and reports every problem at once.
    pub fn parse(input: &StationInput) -> Result<Self, FieldErrors> {
        Self::parse_or_references(input).map_err(|(errs, _)| errs)
    }

    /// [`Self::parse`], and on failure also the references that did parse.
    pub fn parse_or_references(input: &StationInput) -> Result<Self, (FieldErrors, Box<StationReferences>)> {
        let mut errs = FieldErrors::default();
        let code = errs.take(parse_code(input.code.as_deref()));
        let name = errs.take(parse_required_text(input.name.as_deref(), "name", 100));
        let operator = errs.take(parse_operator(input.operator_code.as_deref(), input.operator_department.as_deref()));
        let address = errs.take(parse_required_text(input.address.as_deref(), "address", 200));
        let region_code = match input.region_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(r) => errs.take(RegionCode::parse(r)),
            None => {
                errs.push(FieldError::new("region_code", "required", Message::new("problem.required")));
                None
            }
        };
        let position = match LatLng::parse_in_china(input.latitude.as_deref(), input.longitude.as_deref()) {
            Ok(p) => Some(p),
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        };
        let mut amenities = Vec::new();
        for (i, a) in input.amenities.iter().enumerate().filter(|(_, a)| !a.trim().is_empty()) {
            if let Some(a) = errs.take(Amenity::parse(a, &format!("amenities[{i}]"))) {
                amenities.push(a);
            }
        }
        amenities.sort();
        amenities.dedup();
        let hours = match input.opening_hours.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(h) => errs.take(OpeningHours::parse(h)),
            None => {
                errs.push(FieldError::new("opening_hours", "required", Message::new("problem.required")));
                None
            }
        };
        let status = match input.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => errs.take(StationStatus::parse(s)),
            None => Some(StationStatus::Active),
        };
        let contact_phone = errs.take(parse_phone(input.contact_phone.as_deref())).flatten();
        match (code, name, operator, address, region_code, position, hours, status) {
            (
                Some(code),
                Some(name),
                Some(operator),
                Some(address),
                Some(region_code),
                Some(position),
                Some(hours),
                Some(status),
            ) if errs.is_empty() => Ok(Self {
                code,
                name,
                operator,
                address,
                region_code,
                position,
                amenities,
                hours,
                status,
                contact_phone,
            }),
            (code, _, operator, _, region_code, ..) => {
                Err((errs, Box::new(StationReferences { code, region_code, operator })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> StationInput {
        StationInput {
            code: Some("bj-cy-001".into()),
            name: Some("望京暖心驿站".into()),
            operator_department: Some("朝阳区总工会".into()),
            address: Some("北京市朝阳区望京街1号".into()),
            region_code: Some("110105".into()),
            latitude: Some("39.9965".into()),
            longitude: Some("116.4707".into()),
            amenities: vec!["饮水".into(), "phone_charging".into(), "Toilet".into(), "饮水".into()],
            opening_hours: Some("24小时".into()),
            contact_phone: Some("010-64701234".into()),
            ..Default::default()
        }
    }

    fn fields(i: &StationInput) -> Vec<String> {
        StationDraft::parse(i).err().map(|e| e.0.into_iter().map(|e| e.field).collect()).unwrap_or_default()
    }

    #[test]
    fn a_station_with_names_for_amenities() {
        let d = StationDraft::parse(&input());
        assert!(d.is_ok(), "{d:?}");
        let d = d.ok();
        assert_eq!(d.as_ref().map(|d| d.code.as_str()), Some("BJ-CY-001"));
        assert_eq!(
            d.as_ref().map(|d| d.amenities.clone()),
            Some(vec![Amenity::DrinkingWater, Amenity::PhoneCharging, Amenity::Toilet])
        );
        assert_eq!(d.as_ref().map(|d| d.status), Some(StationStatus::Active));
        assert_eq!(d.map(|d| d.operator), Some(Operator::Department("朝阳区总工会".into())));
    }

    #[test]
    fn every_error_at_once() {
        let bad = StationInput {
            code: Some("站 1".into()),
            latitude: Some("abc".into()),
            longitude: Some("200".into()),
            amenities: vec!["wifi".into()],
            opening_hours: Some("周八 09:00-10:00".into()),
            status: Some("open".into()),
            contact_phone: Some("call me".into()),
            operator_department: None,
            ..input()
        };
        assert_eq!(
            fields(&bad),
            vec![
                "code",
                "operator_code",
                "latitude",
                "longitude",
                "amenities[0]",
                "opening_hours",
                "status",
                "contact_phone"
            ]
        );
    }

    #[test]
    fn positions_must_be_in_china_and_swaps_are_named() {
        let swapped = StationInput { latitude: Some("116.4".into()), longitude: Some("39.9".into()), ..input() };
        let e = StationDraft::parse(&swapped).err().unwrap_or_default();
        assert!(e.0.iter().any(|e| e.code == "out_of_range" && e.field == "latitude"), "{e:?}");
        let swapped = StationInput { latitude: Some("80".into()), longitude: Some("39.9".into()), ..input() };
        let e = StationDraft::parse(&swapped).err().unwrap_or_default();
        assert_eq!(e.0.first().map(|e| e.code.as_str()), Some("outside_china"));
        let paris = StationInput { latitude: Some("48.85".into()), longitude: Some("2.35".into()), ..input() };
        assert_eq!(fields(&paris), vec!["latitude"]);
        let both = StationInput { operator_code: Some("MT-1".into()), ..input() };
        assert_eq!(fields(&both), vec!["operator_code"]);
    }

    #[test]
    fn numbers_and_text_both_read_as_coordinates() {
        let v = serde_json::json!({"latitude": 39.5, "longitude": "116.25"});
        let i: Option<StationInput> = serde_json::from_value(v).ok();
        assert_eq!(i.as_ref().and_then(|i| i.latitude.as_deref()), Some("39.5"));
        assert_eq!(i.as_ref().and_then(|i| i.longitude.as_deref()), Some("116.25"));
    }

    #[test]
    fn haversine_against_known_distances() {
        let tiananmen = LatLng { lat: 39.9087, lng: 116.3975 };
        let bund = LatLng { lat: 31.2400, lng: 121.4900 };
        let d = haversine_m(tiananmen, bund);
        assert!((d - 1_067_000.0).abs() < 3_000.0, "{d}");
        assert_eq!(haversine_m(bund, bund), 0.0);
        // One degree of latitude is about 111.2 km everywhere.
        let one = haversine_m(LatLng { lat: 30.0, lng: 110.0 }, LatLng { lat: 31.0, lng: 110.0 });
        assert!((one - 111_195.0).abs() < 5.0, "{one}");
        // Symmetric; antipodes are half the circumference.
        let a = LatLng { lat: 10.0, lng: 20.0 };
        assert_eq!(haversine_m(a, bund), haversine_m(bund, a));
        let far = haversine_m(a, LatLng { lat: -10.0, lng: -160.0 });
        assert!((far - std::f64::consts::PI * 6_371_008.8).abs() < 1.0, "{far}");
    }

    #[test]
    fn navigation_links_carry_the_position_and_name() {
        let (amap, geo) = navigation_links(LatLng { lat: 39.9965, lng: 116.4707 }, "望京 驿站");
        assert!(amap.starts_with("https://uri.amap.com/marker?position=116.470700,39.996500&name=%E6%9C%9B"), "{amap}");
        assert!(amap.contains("%20") && amap.contains("coordinate=wgs84"));
        assert!(geo.starts_with("geo:39.996500,116.470700?q="), "{geo}");
    }

    #[test]
    fn amenity_sets() {
        let s = AmenitySet::of(&[Amenity::Toilet, Amenity::LegalAid]);
        assert!(s.contains_all(AmenitySet::of(&[Amenity::Toilet])));
        assert!(!s.contains_all(AmenitySet::of(&[Amenity::Toilet, Amenity::FirstAid])));
        assert!(s.contains_all(AmenitySet::default()));
        assert_eq!(s.to_vec(), vec![Amenity::Toilet, Amenity::LegalAid]);
        for a in Amenity::ALL {
            assert_eq!(Amenity::parse(a.name_en(), "x").ok(), Some(a));
            assert_eq!(Amenity::parse(a.name_zh(), "x").ok(), Some(a));
        }
    }
}
