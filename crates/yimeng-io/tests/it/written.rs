//! What the writers write reads back: an xlsx export opens in calamine (as in Excel), keeps every
//! cell's text, and marks formula-like text, dates and the header with their styles.

use calamine::{Data, Reader};
use chrono::NaiveDate;
use std::io::Read;
use yimeng_io::{Cell, FileFormat, TableWriter};

fn rows_of(path: &std::path::Path) -> Vec<Vec<String>> {
    let (header, mut rows) =
        crate::support::read(path, &yimeng_io::limits::Limits::DEFAULT).unwrap();
    rows.insert(0, header);
    rows
}

#[test]
fn an_xlsx_export_reads_back_cell_for_cell() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("学生.xlsx");
    let mut w = TableWriter::create(
        &p,
        FileFormat::Xlsx,
        "学生/名册",
        &["姓名", "人数", "日期", "备注"],
    )
    .unwrap();
    let d = NaiveDate::from_ymd_opt(2020, 9, 1).unwrap();
    w.write_row(&[
        Cell::text("张三 <&> \"引号\""),
        Cell::Int(-42),
        Cell::Date(d),
        Cell::text("=HYPERLINK(\"x\")"),
    ])
    .unwrap();
    w.write_row(&[
        Cell::Empty,
        Cell::Int(7),
        Cell::Empty,
        Cell::text("  前后空格 "),
    ])
    .unwrap();
    w.write_row(&[
        Cell::text("控制\u{1}字符_x0041_"),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
    ])
    .unwrap();
    assert_eq!(w.finish().unwrap(), 3);

    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&p).unwrap();
    assert_eq!(wb.sheet_names(), vec!["学生名册".to_string()]);
    let range = wb.worksheet_range("学生名册").unwrap();
    let cells: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(
        cells,
        vec![
            vec![
                Data::String("姓名".into()),
                Data::String("人数".into()),
                Data::String("日期".into()),
                Data::String("备注".into()),
            ],
            vec![
                Data::String("张三 <&> \"引号\"".into()),
                Data::Float(-42.0),
                Data::String("2020-09-01".into()),
                Data::String("=HYPERLINK(\"x\")".into()),
            ],
            vec![
                Data::Empty,
                Data::Float(7.0),
                Data::Empty,
                Data::String("  前后空格 ".into()),
            ],
            vec![
                Data::String("控制\u{1}字符_x0041_".into()),
                Data::Empty,
                Data::Empty,
                Data::Empty,
            ],
        ]
    );
    // The import reader sees the same text.
    let rows = rows_of(&p);
    assert_eq!(rows[1][1], "-42");
    assert_eq!(rows[2][3], "  前后空格 ");

    // Styles: the header bold on a fill, the date formatted, the formula-like text quote-prefixed.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&p).unwrap()).unwrap();
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    assert!(
        sheet.contains(r#"<c r="A1" s="1" t="inlineStr">"#),
        "{sheet}"
    );
    assert!(
        sheet.contains(r#"<c r="C2" s="2" t="inlineStr">"#),
        "{sheet}"
    );
    assert!(
        sheet.contains(r#"<c r="D2" s="3" t="inlineStr">"#),
        "{sheet}"
    );
    assert!(sheet.contains(r#"state="frozen""#), "{sheet}");
    let mut styles = String::new();
    zip.by_name("xl/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    assert!(styles.contains(r#"quotePrefix="1""#), "{styles}");
}

#[test]
fn a_cell_longer_than_excel_holds_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.xlsx");
    let mut w = TableWriter::create(&p, FileFormat::Xlsx, "t", &["a", "b"]).unwrap();
    let long = "字".repeat(32_768);
    let e = w
        .write_row(&[Cell::text("x"), Cell::text(&long)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("第 2 行第 2 列"), "{e}");
    assert!(e.contains("32767"), "{e}");
    // Dropping the unfinished writer stops its deflate thread (the test would hang otherwise).
    drop(w);
}
