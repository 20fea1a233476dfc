//! Whole imports: bytes in, drafts or every located error out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::entity::EntityInput;
use dangjian_domain::EntityKind;
use dangjian_ingest::{
    map_entities, read_table, validate_entities, validate_instructors, validate_organizations, ImportError,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

fn positions(errors: &[ImportError]) -> Vec<(usize, &str, &str)> {
    errors.iter().map(|e| (e.line, e.column.as_str(), e.code.as_str())).collect()
}

fn gbk(s: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
    assert!(!unmappable);
    bytes.into_owned()
}

const ENTITIES: &str = "\
名称,统一社会信用代码,类型,行业,上级统一社会信用代码,行政区划代码,从业人员数,正式党员数,成立日期
美团,91350100M000100Y43,平台企业,外卖配送；即时配送,,110105,100,5,2020-01-01
坏码单位,91350100M000100Y44,加盟企业,外卖配送,91350100M000100Y43,110105,10,2,2020/1/1
,,,,,11,2,3,2024-02-30

重复,91350100M000100Y43,站点,外卖配送,,110105,3,0,
";

#[test]
fn every_bad_row_is_reported_with_row_and_column() {
    let table = read_table("单位.csv", &gbk(ENTITIES)).unwrap();
    let errors = validate_entities(&table, "en").unwrap_err();
    assert_eq!(
        positions(&errors),
        vec![
            (3, "B(统一社会信用代码)", "invalid_check_character"),
            (4, "A(名称)", "required"),
            (4, "C(类型)", "required"),
            (4, "D(行业)", "required"),
            (4, "F(行政区划代码)", "region_not_precise"),
            (4, "H(正式党员数)", "members_exceed_workers"),
            (4, "I(成立日期)", "invalid_date"),
            (6, "B(统一社会信用代码)", "duplicate_in_file"),
            (6, "E(上级统一社会信用代码)", "parent_required"),
        ]
    );
    assert_eq!(errors[0].to_string(), "单位.csv:3:B(统一社会信用代码): check character is '4' but should be '3'");
    assert_eq!(errors[7].to_string(), "单位.csv:6:B(统一社会信用代码): the same code as row 2 of this file");
    let zh = validate_entities(&table, "zh").unwrap_err();
    assert_eq!(zh[1].to_string(), "单位.csv:4:A(名称): 此项为必填项");
}

#[test]
fn a_clean_gbk_file_becomes_drafts() {
    let good: String = ENTITIES.lines().take(2).map(|l| format!("{l}\r\n")).collect();
    let table = read_table("单位.csv", &gbk(&good)).unwrap();
    let sheet = validate_entities(&table, "zh").unwrap();
    assert_eq!(sheet.rows.len(), 1);
    let d = &sheet.rows[0];
    assert_eq!((d.line, d.value.kind, d.value.workers), (2, EntityKind::Platform, 100));
    assert_eq!(d.value.sectors, vec!["外卖配送", "即时配送"]);
}

#[test]
fn header_problems_name_their_column() {
    let table = read_table("f.csv", "\u{feff}名称,类型,备注,名称\n甲,站点,,\n".as_bytes()).unwrap();
    let errors = map_entities(&table, "en").unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "f.csv:1:C(备注): unknown column '备注'; the columns are: uscc, site_code, name, kind, sector, \
             parent_uscc, region_code, address, workers, party_members, probationary_members, established_on, \
             closed_on",
            "f.csv:1:D(名称): the same column as column A",
            "f.csv:1:-: missing column region_code (行政区划代码)",
            "f.csv:1:-: missing column uscc (统一社会信用代码) or site_code (站点编码)",
        ]
    );
    let zh = map_entities(&table, "zh").unwrap_err();
    assert_eq!(zh[3].message, "缺少“统一社会信用代码”或“站点编码”列");
}

#[test]
fn data_under_an_empty_header_is_an_error() {
    let csv = "name,kind,region_code,site_code,\nA,site,110105,S1,\nB,site,110105,S2,oops\n";
    let errors = map_entities(&read_table("f.csv", csv.as_bytes()).unwrap(), "en").unwrap_err();
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec!["f.csv:3:E(): this column has data but no header"]
    );
}

#[test]
fn english_headers_in_any_case_and_missing_optional_columns() {
    let csv =
        "Site_Code,NAME,Kind,Sector,Parent_USCC,Region_Code\r\nmt-1,望京站,站点,外卖配送,91350100M000100Y43,110105\r\n";
    let sheet = validate_entities(&read_table("s.csv", csv.as_bytes()).unwrap(), "en").unwrap();
    assert_eq!(sheet.rows[0].value.site_code.as_ref().map(|c| c.as_str()), Some("MT-1"));
    assert_eq!(sheet.rows[0].value.workers, 0);
}

#[test]
fn field_errors_found_later_are_located_too() {
    let csv =
        "site_code,name,kind,sector,parent_uscc,region_code\r\nMT-1,望京站,site,外卖,91350100M000100Y43,110105\r\n";
    let sheet = validate_entities(&read_table("s.csv", csv.as_bytes()).unwrap(), "en").unwrap();
    // e.g. the store finds that the parent does not exist
    let e =
        dangjian_domain::FieldError::new("parent", "unknown", dangjian_domain::Message::new("problem.unknown.unit"));
    assert_eq!(sheet.error_for(&sheet.rows[0], &e, "zh").to_string(), "s.csv:2:E(parent_uscc): 单位不存在");
}

#[test]
fn instructors_are_grouped_by_mobile_and_errors_point_at_assignment_rows() {
    let csv = "\
姓名,手机号码,派出单位,行政区划代码,指导单位,开始日期,结束日期
李明,13912345678,朝阳区委社会工作部,110105,MT-1,2024-01-01,
李明,139-1234-5678,,110105,MT-2,2024-13-01,
王芳,13800000000,,110105,,,
李明,+86 139 1234 5678,,110106,MT-3,2024-02-01,2023-01-01
张三,1391234567,,110105,MT-4,2024-01-01,
";
    let table = read_table("指导员.csv", csv.as_bytes()).unwrap();
    let errors = validate_instructors(&table, "zh").unwrap_err();
    assert_eq!(
        positions(&errors),
        vec![
            (3, "F(开始日期)", "invalid_date"),
            (5, "D(行政区划代码)", "conflicting_value"),
            (5, "G(结束日期)", "date_before_start"),
            (6, "B(手机号码)", "invalid_mobile"),
        ]
    );
    assert_eq!(errors[1].to_string(), "指导员.csv:5:D(行政区划代码): 同一手机号码在第2行为“110105”，本行为“110106”");

    let ok: String = csv.lines().take(2).chain(csv.lines().skip(3).take(1)).map(|l| format!("{l}\n")).collect();
    let ok = format!("{ok}李明,13912345678,,,MT-2,2024/3/1,\n");
    let sheet = validate_instructors(&read_table("指导员.csv", ok.as_bytes()).unwrap(), "en").unwrap();
    let summary: Vec<(usize, &str, usize, Vec<usize>)> = sheet
        .rows
        .iter()
        .map(|r| (r.line, r.value.name.as_str(), r.value.assignments.len(), r.assignment_lines.clone()))
        .collect();
    assert_eq!(summary, vec![(2, "李明", 2, vec![2, 4]), (3, "王芳", 0, vec![])]);
}

#[test]
fn organizations_with_several_units() {
    let csv = "\
组织代码,名称,类型,上级组织代码,所在单位,行政区划代码,本届任期开始,本届任期届满
JB-1,望京联合党支部,联合党支部,GC-1,MT-1；MT-2、91350100M000100Y43,110105,2023-01-01,2027-12-31
B-1,某党支部,党支部,GC-1,\"MT-1,MT-2\",110105,2023-01-01,
";
    let table = read_table("组织.csv", csv.as_bytes()).unwrap();
    let errors = validate_organizations(&table, "en").unwrap_err();
    assert_eq!(positions(&errors), vec![(3, "H(本届任期届满)", "term_incomplete")]);
    let first: String = csv.lines().take(2).map(|l| format!("{l}\n")).collect();
    let sheet = validate_organizations(&read_table("组织.csv", first.as_bytes()).unwrap(), "en").unwrap();
    assert_eq!(sheet.rows[0].value.units.len(), 3);
}

#[test]
fn xlsx_with_real_date_cells_and_numbers() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let date = Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
    let headers = [
        "统一社会信用代码",
        "名称",
        "类型",
        "行业",
        "行政区划代码",
        "从业人员数",
        "正式党员数",
        "成立日期",
        "注销日期",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "91350100M000100Y43").unwrap();
    ws.write_string(1, 1, "美团").unwrap();
    ws.write_string(1, 2, "平台企业").unwrap();
    ws.write_string(1, 3, "外卖配送").unwrap();
    ws.write_number(1, 4, 110105.0).unwrap(); // a region code typed as a number
    ws.write_number(1, 5, 120.0).unwrap();
    ws.write_number(1, 6, 12.0).unwrap();
    ws.write_datetime_with_format(1, 7, ExcelDateTime::from_ymd(2019, 6, 30).unwrap(), &date).unwrap();
    ws.write_number(1, 8, 45352.0).unwrap(); // a date whose cell lost its date format
    let bytes = wb.save_to_buffer().unwrap();

    let table = read_table("units.xlsx", &bytes).unwrap();
    assert_eq!(table.rows[0].cells[4..], ["110105", "120", "12", "2019-06-30", "2024-03-01"].map(String::from));
    let sheet = validate_entities(&table, "en").unwrap();
    let d = &sheet.rows[0].value;
    assert_eq!((d.workers, d.party_members), (120, 12));
    assert_eq!(d.established_on.map(|d| d.to_string()).as_deref(), Some("2019-06-30"));
    assert_eq!(d.closed_on.map(|d| d.to_string()).as_deref(), Some("2024-03-01"));
}

#[test]
fn mapping_keeps_inputs_for_callers_that_want_them() {
    let csv = "uscc,name,kind,sector,region_code,workers\r\n91350100M000100Y43,美团,platform,\"外卖, 即时配送\",110105,12.0\r\n";
    let sheet = map_entities(&read_table("m.csv", csv.as_bytes()).unwrap(), "en").unwrap();
    let v: &EntityInput = &sheet.rows[0].value;
    assert_eq!(v.sectors, vec!["外卖", "即时配送"]);
    assert_eq!(v.workers.as_deref(), Some("12.0"));
    assert_eq!(v.address, None);
}
