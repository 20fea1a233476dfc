//! Exports: formula escaping, determinism, and export → import → export stability.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_ingest::{
    entity_row, escape_formula, export_columns, instructor_rows, map_entities, map_instructors, map_organizations,
    organization_row, read_table, unescape_formula, write_csv, write_xlsx, write_xlsx_typed, write_xlsx_workbook,
    CellType, ExportColumn, ExportSheet, Kind,
};
use std::io::{Cursor, Read};

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn tricky_rows() -> Vec<Vec<String>> {
    [
        ["=1+1", "+8613912345678", "-5"],
        ["@SUM(A1)", "\tcmd", "\rx"],
        ["'=already", "''=twice", "'plain"],
        ["a,b", "say \"hi\"", "多行\r\n文本"],
        ["0012", "110105", "91350100M000100Y43"],
    ]
    .iter()
    .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
    .collect()
}

#[test]
fn escaping_is_reversible() {
    for cell in tricky_rows().iter().flatten() {
        assert_eq!(unescape_formula(&escape_formula(cell)), cell);
    }
    assert_eq!(escape_formula("=1+1"), "'=1+1");
    assert_eq!(escape_formula("'=x"), "''=x");
    assert_eq!(escape_formula("'plain"), "'plain");
    assert_eq!(escape_formula("数字-5"), "数字-5");
}

#[test]
fn csv_export_escapes_formulas_and_round_trips() {
    let rows = tricky_rows();
    let bytes = write_csv(&["a", "b", "c"], &rows);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("\u{feff}a,b,c\r\n'=1+1,'+8613912345678,'-5\r\n"), "{text}");
    assert!(text.contains("'@SUM(A1),'\tcmd,\"'\rx\"\r\n"));
    assert!(text.contains("\"a,b\",\"say \"\"hi\"\"\",\"多行\r\n文本\"\r\n"));
    let table = read_table("x.csv", &bytes).unwrap();
    assert_eq!(table.rows.iter().map(|r| r.cells.clone()).collect::<Vec<_>>(), rows);
    assert_eq!(table.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3, 4, 5, 6]);
    let again: Vec<Vec<String>> = table.rows.into_iter().map(|r| r.cells).collect();
    assert_eq!(write_csv(&["a", "b", "c"], &again), bytes);
}

fn sheet_xml(xlsx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut out = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut out).unwrap();
    out
}

#[test]
fn xlsx_export_writes_strings_never_formulas_and_round_trips() {
    let rows = tricky_rows();
    let bytes = write_xlsx("导出", &["a", "b", "c"], &rows).unwrap();
    let xml = sheet_xml(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!xml.contains("<f>"), "{xml}");
    let table = read_table("x.xlsx", &bytes).unwrap();
    let read: Vec<Vec<String>> = table.rows.into_iter().map(|r| r.cells).collect();
    assert_eq!(read, rows);
    assert_eq!(write_xlsx("导出", &["a", "b", "c"], &read).unwrap(), bytes);
}

#[test]
fn xlsx_export_is_deterministic() {
    let rows = tricky_rows();
    let a = write_xlsx("Sheet", &["a", "b", "c"], &rows).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = write_xlsx("Sheet", &["a", "b", "c"], &rows).unwrap();
    assert_eq!(a, b);
    assert!(sheet_xml(&a, "docProps/core.xml").contains("2000-01-01T00:00:00Z"));
}

#[test]
fn a_bad_sheet_name_is_an_error_not_a_panic() {
    assert!(write_xlsx("a/b", &["a"], &[]).is_err());
}

fn entities() -> Vec<EntityInput> {
    vec![
        EntityInput {
            uscc: s("91350100M000100Y43"),
            name: s("美团"),
            kind: s("平台企业"),
            sectors: vec!["外卖配送".into(), "即时配送".into()],
            region_code: s("110105"),
            workers: s("1200"),
            party_members: s("35"),
            probationary_members: s("0"),
            established_on: s("2010-03-04"),
            ..Default::default()
        },
        EntityInput {
            site_code: s("MT-BJ-001"),
            name: s("=望京站"),
            kind: s("站点"),
            sectors: vec!["外卖配送".into()],
            parent_uscc: s("91350100M000100Y43"),
            region_code: s("110105"),
            address: s("北京市朝阳区望京街道1号"),
            workers: s("007"),
            established_on: s("2021/5/1"),
            closed_on: s("2024-12-31"),
            ..Default::default()
        },
    ]
}

fn organizations() -> Vec<OrganizationInput> {
    vec![OrganizationInput {
        code: s("JB-0001"),
        name: s("望京外卖骑手联合党支部"),
        kind: s("联合党支部"),
        parent_code: s("GC-01"),
        unit_codes: vec!["MT-1".into(), "MT-2".into()],
        region_code: s("110105"),
        term_start: s("2023-01-01"),
        term_end: s("2027-12-31"),
        secretary: s("王强"),
        ..Default::default()
    }]
}

fn instructors() -> Vec<InstructorInput> {
    let a = |unit: &str, start: &str| AssignmentInput {
        unit_code: s(unit),
        start_on: s(start),
        end_on: None,
        entity_id: None,
    };
    vec![
        InstructorInput {
            name: s("李明"),
            mobile: s("13912345678"),
            dispatching_org: s("朝阳区委社会工作部"),
            region_code: s("110105"),
            assignments: vec![a("MT-1", "2024-01-01"), a("91350100M000100Y43", "2024-02-01")],
        },
        InstructorInput { name: s("王芳"), mobile: s("13800000000"), region_code: s("110105"), ..Default::default() },
    ]
}

/// Exports rows in both formats, imports them, and exports the result again: byte-identical.
fn round_trip(kind: Kind, rows: Vec<Vec<String>>, reexport: impl Fn(&dangjian_ingest::Table) -> Vec<Vec<String>>) {
    let columns = export_columns(kind, "zh");
    let headers: Vec<&str> = columns.iter().map(|c| c.header).collect();
    let xlsx = write_xlsx_typed(kind.as_str(), &columns, &rows).unwrap();
    let from_xlsx = reexport(&read_table("x.xlsx", &xlsx).unwrap());
    assert_eq!(from_xlsx, rows, "{kind:?} xlsx");
    assert_eq!(write_xlsx_typed(kind.as_str(), &columns, &from_xlsx).unwrap(), xlsx);
    let csv = write_csv(&headers, &rows);
    let from_csv = reexport(&read_table("x.csv", &csv).unwrap());
    assert_eq!(from_csv, rows, "{kind:?} csv");
    assert_eq!(write_csv(&headers, &from_csv), csv);
}

#[test]
fn export_import_export_is_stable_for_every_kind() {
    round_trip(Kind::Entities, entities().iter().map(entity_row).collect(), |t| {
        map_entities(t, "en").unwrap().rows.iter().map(|r| entity_row(&r.value)).collect()
    });
    round_trip(Kind::Organizations, organizations().iter().map(organization_row).collect(), |t| {
        map_organizations(t, "en").unwrap().rows.iter().map(|r| organization_row(&r.value)).collect()
    });
    round_trip(Kind::Instructors, instructors().iter().flat_map(instructor_rows).collect(), |t| {
        map_instructors(t, "en").unwrap().rows.iter().flat_map(|r| instructor_rows(&r.value)).collect()
    });
}

#[test]
fn typed_xlsx_cells() {
    let rows: Vec<Vec<String>> = entities().iter().map(entity_row).collect();
    let xlsx = write_xlsx_typed("units", &export_columns(Kind::Entities, "zh"), &rows).unwrap();
    let xml = sheet_xml(&xlsx, "xl/worksheets/sheet1.xml");
    // workers 1200 is a number cell; established_on 2010-03-04 is a date serial (40241); "007" stays text.
    assert!(xml.contains("<v>1200</v>"), "{xml}");
    assert!(xml.contains("<v>40241</v>"), "{xml}");
    assert!(xml.contains(r#"<c r="I3" t="s">"#), "{xml}");
    assert!(!xml.contains("<f>"));
}

#[test]
fn a_workbook_of_several_sheets_with_decimal_cells() {
    let columns =
        [ExportColumn { header: "名称", ty: CellType::Text }, ExportColumn { header: "小时", ty: CellType::Decimal }];
    let first = vec![vec!["=1+1".to_owned(), "12.5".to_owned()], vec!["甲".to_owned(), "".to_owned()]];
    let second = vec![vec!["乙".to_owned(), "-3".to_owned()], vec!["丙".to_owned(), "1.2.3".to_owned()]];
    let xlsx = write_xlsx_workbook(&[
        ExportSheet { name: "一", columns: &columns, rows: &first },
        ExportSheet { name: "二", columns: &columns, rows: &second },
    ])
    .unwrap();
    let one = sheet_xml(&xlsx, "xl/worksheets/sheet1.xml");
    let two = sheet_xml(&xlsx, "xl/worksheets/sheet2.xml");
    assert!(one.contains("<v>12.5</v>") && two.contains("<v>-3</v>"), "{one}\n{two}");
    assert!(two.contains(r#"<c r="B3" t="s">"#), "not a plain number stays text: {two}");
    assert!(!one.contains("<f>") && !two.contains("<f>"));
    let workbook = sheet_xml(&xlsx, "xl/workbook.xml");
    assert!(workbook.contains(r#"name="一""#) && workbook.contains(r#"name="二""#), "{workbook}");
}
