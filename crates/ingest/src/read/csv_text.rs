//! CSV as Chinese offices produce it: UTF-8 (often with a BOM, as Excel's "CSV UTF-8" writes it),
//! GBK/GB18030 (Excel's and WPS's plain "CSV" on a Chinese system), or UTF-16 with BOM and tabs
//! (Excel's "Unicode text").
//!
//! Records are split on raw bytes first: in all of these encodings but UTF-16 the bytes of `,`, `"`, `\t`
//! and `\n` never occur inside a multi-byte character, so each cell can then be decoded on its own and an
//! undecodable cell names its row.

use crate::error::IngestError;
use encoding_rs::{GB18030, UTF_16LE};
use std::borrow::Cow;

#[derive(Clone, Copy)]
enum Encoding {
    Utf8,
    Gb18030,
}

pub(super) fn read_rows(file: &str, bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, IngestError> {
    let utf16;
    let (body, encoding): (&[u8], Encoding) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        (rest, Encoding::Utf8)
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        // `decode` sniffs the BOM, so this handles big-endian too.
        let (text, _, had_errors) = UTF_16LE.decode(bytes);
        if had_errors {
            let before = text.split('\u{FFFD}').next().unwrap_or("");
            let line = before.matches('\n').count() + 1;
            return Err(IngestError::Encoding { file: file.to_owned(), line });
        }
        utf16 = text.into_owned().into_bytes();
        (&utf16, Encoding::Utf8)
    } else if looks_like_utf8(bytes) {
        (bytes, Encoding::Utf8)
    } else {
        (bytes, Encoding::Gb18030)
    };

    let first_line = body.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let delimiter = if first_line.contains(&b'\t') && !first_line.contains(&b',') { b'\t' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(body);

    let mut rows = Vec::new();
    // Excel's row number of a record is the physical line it starts on (blank lines count, though the
    // csv crate skips them) minus the newlines inside quoted cells of earlier records. The csv crate's
    // own line numbers are off by one after CRLF, so lines are counted here from byte offsets.
    let mut cursor = 0usize;
    let mut newlines_before_cursor = 0usize;
    let mut embedded_newlines = 0usize;
    let mut line = 1usize;
    for record in reader.byte_records() {
        let record = record.map_err(|e| IngestError::Csv { file: file.to_owned(), line, reason: e.to_string() })?;
        let reported = record.position().map_or(cursor, |p| usize::try_from(p.byte()).unwrap_or(cursor)).max(cursor);
        let start = body
            .get(reported..)
            .and_then(|rest| rest.iter().position(|&b| b != b'\r' && b != b'\n'))
            .map_or(body.len(), |i| reported + i);
        newlines_before_cursor += count_newlines(body.get(cursor..start).unwrap_or(&[]));
        cursor = start;
        line = (newlines_before_cursor + 1).saturating_sub(embedded_newlines);
        embedded_newlines += record.iter().map(count_newlines).sum::<usize>();
        let cells = record
            .iter()
            .map(|field| decode(field, encoding).ok_or_else(|| IngestError::Encoding { file: file.to_owned(), line }))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push((line, cells));
    }
    Ok(rows)
}

/// UTF-8, or UTF-8 with a damaged byte after enough Chinese text to tell (then the damaged cell is
/// reported instead of the whole file being misread as GBK). A GBK file almost never starts with four
/// byte sequences that happen to be valid UTF-8 multi-byte characters.
fn looks_like_utf8(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()])
            .map(|prefix| prefix.chars().filter(|c| !c.is_ascii()).count() >= 4)
            .unwrap_or(false),
    }
}

/// Line ends: LF, CRLF, or a lone CR (old Mac files; the csv crate accepts all three).
fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().enumerate().filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))).count()
}

fn decode(field: &[u8], encoding: Encoding) -> Option<String> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(field).ok().map(str::to_owned),
        Encoding::Gb18030 => GB18030.decode_without_bom_handling_and_without_replacement(field).map(Cow::into_owned),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::read::{read_table, TableRow};
    use crate::IngestError;

    fn gbk(s: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
        assert!(!unmappable);
        bytes.into_owned()
    }

    #[test]
    fn gbk_with_chinese_headers() {
        let text = "统一社会信用代码,名称,类型\r\n91350100M000100Y43,美团（北京）,平台企业\r\n";
        let bytes = gbk(text);
        assert!(std::str::from_utf8(&bytes).is_err());
        let t = read_table("单位.csv", &bytes).unwrap();
        assert_eq!(t.headers, vec!["统一社会信用代码", "名称", "类型"]);
        assert_eq!(
            t.rows,
            vec![TableRow {
                line: 2,
                cells: vec!["91350100M000100Y43".into(), "美团（北京）".into(), "平台企业".into()]
            }]
        );
    }

    #[test]
    fn undecodable_bytes_name_the_row() {
        let mut bytes = gbk("名称,类型\n甲,站点\n乙,站点\n");
        let at = bytes.len() - "站点\n".len();
        bytes.insert(at, 0xFF);
        let e = read_table("x.csv", &bytes).unwrap_err();
        assert!(matches!(e, IngestError::Encoding { line: 3, .. }), "{e}");
        assert_eq!(e.to_string(), "x.csv:3: the text is neither UTF-8 nor GBK/GB18030");
    }

    #[test]
    fn utf8_with_bom_blank_rows_and_quoted_newlines() {
        let text = "\u{feff}name,address\r\n\"甲\",\"北京市\r\n朝阳区\"\r\n\r\n,\r\n乙,\"x,y\"\r\n";
        let t = read_table("a.csv", text.as_bytes()).unwrap();
        assert_eq!(t.headers, vec!["name", "address"]);
        assert_eq!(t.header_line, 1);
        let lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
        // Row 2 spans two physical lines; rows 3 and 4 are blank; Excel shows 乙 on row 5.
        assert_eq!(lines, vec![2, 5]);
        assert_eq!(t.rows[0].cells[1], "北京市\r\n朝阳区");
        assert_eq!(t.rows[1].cells[1], "x,y");
    }

    #[test]
    fn damaged_utf8_names_the_row_instead_of_turning_into_gbk() {
        let mut bytes = "名称,类型\n望京站,站点\n酒仙桥站,站点\n".as_bytes().to_vec();
        let at = bytes.len() - 3;
        bytes[at] = 0xFF;
        let e = read_table("x.csv", &bytes).unwrap_err();
        assert!(matches!(e, IngestError::Encoding { line: 3, .. }), "{e}");
    }

    #[test]
    fn lone_cr_line_ends() {
        let t = read_table("mac.csv", b"name,kind\rA,site\r\rB,site\r").unwrap();
        assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 4]);
    }

    #[test]
    fn utf16_tab_separated() {
        let text = "名称\t类型\r\n甲\t站点\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let t = read_table("u.txt", &bytes).unwrap();
        assert_eq!(t.headers, vec!["名称", "类型"]);
        assert_eq!(t.rows[0].cells, vec!["甲", "站点"]);
    }

    #[test]
    fn row_length_mismatch_names_the_row() {
        let e = read_table("a.csv", "名称,类型\n甲,站点\n乙\n".as_bytes()).unwrap_err();
        assert!(matches!(e, IngestError::RowLength { line: 3, expected: 2, found: 1, .. }), "{e}");
        assert_eq!(e.to_string(), "a.csv:3: the row has 1 cell(s) but the header row has 2");
        let e = read_table("a.csv", "名称,类型\n甲,站点,多余\n".as_bytes()).unwrap_err();
        assert_eq!(e.line(), Some(2));
    }
}
