//! The columns of each import/export kind, how a header in a file is recognised, and which column a
//! domain field's error belongs to.

use std::collections::HashMap;

/// What a table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Units of the platform chain (`EntityInput`), one per row.
    Entities,
    /// Party organizations (`OrganizationInput`), one per row.
    Organizations,
    /// Instructors (`InstructorInput`): one row per assignment; rows with the same mobile are one instructor.
    Instructors,
    /// Worker stations (`StationInput`), one per row.
    Stations,
}

/// How a column's cells are written to XLSX (reading is always text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellType {
    /// Always a text cell, so codes such as USCCs and region codes never become numbers.
    Text,
    /// A number cell when the text is a plain whole number, otherwise text.
    Integer,
    /// A date cell when the text is an ISO date (`YYYY-MM-DD`), otherwise text. Numeric cells in a date
    /// column are read back as Excel serial dates.
    Date,
    /// A number cell when the text is a plain decimal number (`12.5`, `0.75`), otherwise text. For
    /// figures in reports; no import column has it.
    Decimal,
}

/// One column of a kind: its English header (which is also the key used in code) and its Chinese header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// English header and key, e.g. `uscc`.
    pub key: &'static str,
    /// Chinese header, e.g. `统一社会信用代码`.
    pub zh: &'static str,
    pub ty: CellType,
    /// Whether the cell holds several values separated by `;` `；` `、` `,` or `，`.
    pub list: bool,
}

const fn col(key: &'static str, zh: &'static str, ty: CellType) -> ColumnSpec {
    ColumnSpec { key, zh, ty, list: false }
}

const fn list(key: &'static str, zh: &'static str) -> ColumnSpec {
    ColumnSpec { key, zh, ty: CellType::Text, list: true }
}

use CellType::{Date, Integer, Text};

const ENTITY_COLUMNS: &[ColumnSpec] = &[
    col("uscc", "统一社会信用代码", Text),
    col("site_code", "站点编码", Text),
    col("name", "名称", Text),
    col("kind", "类型", Text),
    list("sector", "行业"),
    col("parent_uscc", "上级统一社会信用代码", Text),
    col("region_code", "行政区划代码", Text),
    col("address", "地址", Text),
    col("workers", "从业人员数", Integer),
    col("party_members", "正式党员数", Integer),
    col("probationary_members", "预备党员数", Integer),
    col("established_on", "成立日期", Date),
    col("closed_on", "注销日期", Date),
];

const ORGANIZATION_COLUMNS: &[ColumnSpec] = &[
    col("code", "组织代码", Text),
    col("name", "名称", Text),
    col("kind", "类型", Text),
    col("parent_code", "上级组织代码", Text),
    list("units", "所在单位"),
    col("region_code", "行政区划代码", Text),
    col("established_on", "成立日期", Date),
    col("dissolved_on", "撤销日期", Date),
    col("term_start", "本届任期开始", Date),
    col("term_end", "本届任期届满", Date),
    col("secretary", "书记", Text),
];

const INSTRUCTOR_COLUMNS: &[ColumnSpec] = &[
    col("name", "姓名", Text),
    col("mobile", "手机号码", Text),
    col("dispatching_org", "派出单位", Text),
    col("region_code", "行政区划代码", Text),
    col("unit", "指导单位", Text),
    col("start_on", "开始日期", Date),
    col("end_on", "结束日期", Date),
];

const STATION_COLUMNS: &[ColumnSpec] = &[
    col("code", "驿站编码", Text),
    col("name", "名称", Text),
    col("operator_code", "运营单位代码", Text),
    col("operator_department", "运营部门", Text),
    col("address", "地址", Text),
    col("region_code", "行政区划代码", Text),
    col("latitude", "纬度", Text),
    col("longitude", "经度", Text),
    list("amenities", "服务设施"),
    col("opening_hours", "开放时间", Text),
    col("status", "状态", Text),
    col("contact_phone", "联系电话", Text),
];

/// Separators accepted inside a list cell (`sector`, `units`).
pub const LIST_SEPARATORS: &[char] = &[';', '；', '、', ',', '，', '\n'];

/// The separator used when exporting a list cell.
pub const EXPORT_LIST_SEPARATOR: &str = "、";

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Entities, Kind::Organizations, Kind::Instructors, Kind::Stations];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entities => "entities",
            Self::Organizations => "organizations",
            Self::Instructors => "instructors",
            Self::Stations => "stations",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// The columns in export order.
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            Self::Entities => ENTITY_COLUMNS,
            Self::Organizations => ORGANIZATION_COLUMNS,
            Self::Instructors => INSTRUCTOR_COLUMNS,
            Self::Stations => STATION_COLUMNS,
        }
    }

    /// Headers a file must have; each inner slice is satisfied by any one of its keys.
    pub fn required(self) -> &'static [&'static [&'static str]] {
        match self {
            Self::Entities => &[&["name"], &["kind"], &["region_code"], &["uscc", "site_code"]],
            Self::Organizations => &[&["code"], &["name"], &["kind"], &["region_code"]],
            Self::Instructors => &[&["name"], &["mobile"], &["region_code"]],
            Self::Stations => &[&["code"], &["name"], &["region_code"], &["latitude"], &["longitude"]],
        }
    }

    /// The spec of the column whose English or Chinese header is `header` (see [`normalize_header`]).
    pub fn column_for_header(self, header: &str) -> Option<&'static ColumnSpec> {
        let h = normalize_header(header);
        self.columns().iter().find(|c| c.key == h || c.zh == h)
    }

    /// The column keys a domain field's error belongs to, best first. The first one present in the file
    /// is used; when none is, the error has no column (`-`).
    pub fn column_keys_for_field(self, field: &str) -> Vec<&'static str> {
        let keys: &[&'static str] = match (self, field) {
            (Self::Entities, "sectors" | "sector") => &["sector"],
            (Self::Entities, "parent" | "parent_id" | "parent_uscc") => &["parent_uscc"],
            (Self::Entities, "uscc") => &["uscc", "site_code"],
            (Self::Entities, "site_code") => &["site_code", "uscc"],
            (Self::Organizations, "units" | "unit_codes" | "unit_ids") => &["units"],
            (Self::Organizations, "parent" | "parent_id" | "parent_code") => &["parent_code"],
            (Self::Stations, f) if f.starts_with("amenities") => &["amenities"],
            (Self::Stations, "operator_code") => &["operator_code", "operator_department"],
            (Self::Instructors, f) if f.starts_with("assignments") => match f.rsplit_once('.').map(|(_, sub)| sub) {
                Some("start_on") => &["start_on"],
                Some("end_on") => &["end_on"],
                _ => &["unit"],
            },
            (k, f) => return k.columns().iter().filter(|c| c.key == f).map(|c| c.key).collect(),
        };
        keys.to_vec()
    }

    /// Headers for an export, in `lang` (`zh…` Chinese, anything else the English keys).
    pub fn headers(self, lang: &str) -> Vec<&'static str> {
        self.columns().iter().map(|c| if lang.starts_with("zh") { c.zh } else { c.key }).collect()
    }
}

/// Whether `header` names a date column of any kind; the XLSX reader uses this to read numbers in such a
/// column as Excel serial dates.
pub fn is_date_header(header: &str) -> bool {
    let h = normalize_header(header);
    Kind::ALL.iter().flat_map(|k| k.columns()).any(|c| c.ty == CellType::Date && (c.key == h || c.zh == h))
}

/// A header as it is matched: without BOM, surrounding spaces (including the ideographic space) and the
/// `*` / `＊` that templates put on required columns; ASCII lower-cased.
pub fn normalize_header(header: &str) -> String {
    header
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .trim_matches(|c: char| c == '*' || c == '＊')
        .trim()
        .to_ascii_lowercase()
}

/// Spreadsheet column letters for a 0-based index: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// Which file column holds which field, for one table.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    kind: Kind,
    /// Headers as written in the file (BOM and surrounding spaces removed).
    headers: Vec<String>,
    by_key: HashMap<&'static str, usize>,
}

/// A problem with the header row found while building a [`ColumnMap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    Unknown { index: usize },
    Duplicate { index: usize, first: usize },
    Missing { keys: &'static [&'static str] },
}

impl ColumnMap {
    /// Recognises every header. Empty headers are allowed here (the caller checks that their column is
    /// empty too); unknown, repeated and missing required headers are all reported.
    pub(crate) fn resolve(kind: Kind, headers: &[String]) -> Result<Self, Vec<HeaderProblem>> {
        let mut problems = Vec::new();
        let mut by_key = HashMap::new();
        for (index, h) in headers.iter().enumerate() {
            if normalize_header(h).is_empty() {
                continue;
            }
            match kind.column_for_header(h) {
                None => problems.push(HeaderProblem::Unknown { index }),
                Some(spec) => {
                    if let Some(&first) = by_key.get(spec.key) {
                        problems.push(HeaderProblem::Duplicate { index, first });
                    } else {
                        by_key.insert(spec.key, index);
                    }
                }
            }
        }
        for &keys in kind.required() {
            if !keys.iter().any(|k| by_key.contains_key(k)) {
                problems.push(HeaderProblem::Missing { keys });
            }
        }
        if problems.is_empty() {
            Ok(Self { kind, headers: headers.to_vec(), by_key })
        } else {
            Err(problems)
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// 0-based index of the column holding `key`, if the file has it.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    /// `C(名称)`: the column letter and the header as written in the file.
    pub fn label(&self, index: usize) -> String {
        label(&self.headers, index)
    }

    /// The column a domain field's error belongs to: its index and label, or `None` and `-`.
    pub fn locate_field(&self, field: &str) -> (Option<usize>, String) {
        match self.kind.column_keys_for_field(field).into_iter().find_map(|k| self.index_of(k)) {
            Some(i) => (Some(i), self.label(i)),
            None => (None, "-".to_owned()),
        }
    }
}

pub(crate) fn label(headers: &[String], index: usize) -> String {
    let header = headers.get(index).map(String::as_str).unwrap_or("");
    format!("{}({})", column_letter(index), header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(hs: &[&str]) -> Vec<String> {
        hs.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(2), "C");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn headers_match_in_both_languages_loosely() {
        let k = Kind::Entities;
        assert_eq!(k.column_for_header("\u{feff} USCC ").map(|c| c.key), Some("uscc"));
        assert_eq!(k.column_for_header("*名称").map(|c| c.key), Some("name"));
        assert_eq!(k.column_for_header("\u{3000}行政区划代码").map(|c| c.key), Some("region_code"));
        assert_eq!(k.column_for_header("Name").map(|c| c.key), Some("name"));
        assert_eq!(k.column_for_header("姓名"), None);
        assert!(is_date_header("成立日期") && is_date_header("END_ON") && !is_date_header("名称"));
    }

    #[test]
    fn every_problem_with_the_header_row() {
        let r = ColumnMap::resolve(Kind::Entities, &headers(&["名称", "kind", "名称", "备注", ""]));
        assert_eq!(
            r.err(),
            Some(vec![
                HeaderProblem::Duplicate { index: 2, first: 0 },
                HeaderProblem::Unknown { index: 3 },
                HeaderProblem::Missing { keys: &["region_code"] },
                HeaderProblem::Missing { keys: &["uscc", "site_code"] },
            ])
        );
    }

    #[test]
    fn fields_map_to_columns() {
        let m = ColumnMap::resolve(Kind::Entities, &headers(&["站点编码", "名称", "类型", "行业", "行政区划代码"]));
        let m = m.ok();
        let locate = |f: &str| m.as_ref().map(|m| m.locate_field(f).1);
        assert_eq!(locate("sectors").as_deref(), Some("D(行业)"));
        assert_eq!(locate("uscc").as_deref(), Some("A(站点编码)"));
        assert_eq!(locate("parent").as_deref(), Some("-"));
        let i = ColumnMap::resolve(Kind::Instructors, &headers(&["姓名", "手机号码", "行政区划代码", "指导单位"]));
        let i = i.ok();
        let locate = |f: &str| i.as_ref().map(|m| m.locate_field(f).1);
        assert_eq!(locate("assignments[3].unit_code").as_deref(), Some("D(指导单位)"));
        assert_eq!(locate("assignments[0].start_on").as_deref(), Some("-"));
        assert_eq!(locate("mobile").as_deref(), Some("B(手机号码)"));
    }

    #[test]
    fn export_headers() {
        assert_eq!(Kind::Instructors.headers("zh")[0], "姓名");
        assert_eq!(Kind::Organizations.headers("en")[4], "units");
        for k in Kind::ALL {
            for h in k.headers("zh").into_iter().chain(k.headers("en")) {
                assert!(k.column_for_header(h).is_some(), "{h}");
            }
        }
    }
}
