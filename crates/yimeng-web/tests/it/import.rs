//! Every kind of bad input a bureau sends: none crashes, none writes anything under the default
//! all-or-nothing mode, and each error names the row, the column (its Chinese header), the value
//! and the reason.

use crate::files::*;
use std::sync::Arc;
use yimeng_domain::Scope;
use yimeng_io::{FileFormat, Table};
use yimeng_store::Actor;
use yimeng_store::import::Mode;
use yimeng_store::testing::RawQuery;
use yimeng_testkit::TestDb;
use yimeng_web::service::ServiceError;
use yimeng_web::service::import::{ImportJob, import_file, write_errors};

fn students(lines: &[String]) -> String {
    let mut s = String::from(STUDENT_HEADER);
    for l in lines {
        s.push('\n');
        s.push_str(l);
    }
    s.push('\n');
    s
}

#[tokio::test]
async fn a_wrong_check_digit_is_refused_and_nothing_is_written() {
    for t in TestDb::each().await {
        let dir = tempfile::tempdir().unwrap();
        seed(&t.db, dir.path()).await;
        let mut bad = id(2);
        let last = bad.pop().unwrap();
        bad.push(if last == '0' { '1' } else { '0' });
        let f = write(
            dir.path(),
            "s.csv",
            students(&[
                student_line("2137000001", "三年级", 1, "张三", &id(1)),
                student_line("2137000001", "三年级", 1, "李四", &bad),
            ]),
        );
        let o = import(&t.db, Table::Students, &f, Mode::AllOrNothing)
            .await
            .unwrap();
        assert!(!o.report.committed);
        assert_eq!(o.errors.len(), 1);
        let e = &o.errors[0];
        assert_eq!((e.row, e.column.as_str()), (3, "身份证件号"));
        assert!(e.reason.contains("校验位错误"), "{e:?}");
        assert_eq!(e.value, bad);
        assert_eq!(count(&t.db, "student").await, 0);
    }
}

#[tokio::test]
async fn an_id_whose_birth_date_or_sex_disagrees_with_the_row_is_refused() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    seed(&t.db, dir.path()).await;
    let line = format!(
        "2137000001,2020-2021,三年级,1,张三,女,2012-05-05,{},,汉族,,,",
        id(1)
    );
    let f = write(dir.path(), "s.csv", students(&[line]));
    let o = import(&t.db, Table::Students, &f, Mode::AllOrNothing)
        .await
        .unwrap();
    let cols: Vec<&str> = o.errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(cols, vec!["性别", "出生日期"], "{:?}", o.errors);
    assert!(o.errors[1].reason.contains("2012-05-04"));
    assert_eq!(count(&t.db, "student").await, 0);
}

#[tokio::test]
async fn a_duplicate_id_within_the_file_and_against_the_store_is_refused() {
    for t in TestDb::each().await {
        let dir = tempfile::tempdir().unwrap();
        seed(&t.db, dir.path()).await;
        let f = write(
            dir.path(),
            "a.csv",
            students(&[student_line("2137000001", "三年级", 1, "张三", &id(1))]),
        );
        assert!(
            import(&t.db, Table::Students, &f, Mode::AllOrNothing)
                .await
                .unwrap()
                .report
                .committed
        );
        // Within the file: rows 2 and 3 share an ID number.
        let f = write(
            dir.path(),
            "b.csv",
            students(&[
                student_line("2137000001", "三年级", 1, "李四", &id(3)),
                student_line("2137000001", "三年级", 2, "王五", &id(3)),
            ]),
        );
        let o = import(&t.db, Table::Students, &f, Mode::AllOrNothing)
            .await
            .unwrap();
        assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
        assert_eq!(o.errors[0].row, 3);
        assert!(o.errors[0].reason.contains("与第 2 行"));
        // Against the store: the ID number of 张三 under a different 学籍号.
        let line = format!(
            "2137000001,2020-2021,三年级,1,赵六,,,{},L371302201205041234,汉族,,,",
            id(1)
        );
        let f = write(dir.path(), "c.csv", students(&[line]));
        let o = import(&t.db, Table::Students, &f, Mode::AllOrNothing)
            .await
            .unwrap();
        assert!(o.errors[0].reason.contains("另一名学生"), "{:?}", o.errors);
        assert_eq!(count(&t.db, "student").await, 1);
    }
}

#[tokio::test]
async fn unknown_county_and_school_codes_are_refused() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    seed(&t.db, dir.path()).await;
    let f = write(
        dir.path(),
        "schools.csv",
        "学校标识码,学校名称,所属县区,学校类别,办学性质,城乡分类\n2137000009,某小学,371399,小学,公办,城区\n",
    );
    let o = import(&t.db, Table::Schools, &f, Mode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!(o.errors[0].column, "所属县区");
    assert!(o.errors[0].reason.contains("不是临沂市的县区"));
    let f = write(
        dir.path(),
        "s.csv",
        students(&[student_line("2137999999", "三年级", 1, "张三", &id(1))]),
    );
    let o = import(&t.db, Table::Students, &f, Mode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!(o.errors[0].column, "学校标识码");
    assert!(o.errors[0].reason.contains("不存在"));
    assert_eq!(count(&t.db, "school").await, 3);
}

#[tokio::test]
async fn a_class_in_a_school_that_lacks_that_stage_is_refused() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    seed(&t.db, dir.path()).await;
    let f = write(
        dir.path(),
        "c.csv",
        "学校标识码,学年,年级,班号\n2137000001,2020-2021,七年级,1\n2137000001,2020-2021,四年级,1\n",
    );
    let o = import(&t.db, Table::Classes, &f, Mode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!(o.errors.len(), 1);
    assert_eq!((o.errors[0].row, o.errors[0].column.as_str()), (2, "年级"));
    assert!(o.errors[0].reason.contains("没有初中学段"));
    assert_eq!(
        count(&t.db, "class").await,
        3,
        "the good row was not written either"
    );
}

#[tokio::test]
async fn empty_and_header_only_files_are_refused_without_a_transaction() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.csv", "");
    let e = import(&t.db, Table::Schools, &empty, Mode::AllOrNothing)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("文件是空的"), "{e}");
    let header = write(
        dir.path(),
        "header.csv",
        "学校标识码,学校名称,所属县区,学校类别,办学性质,城乡分类\n",
    );
    let e = import(&t.db, Table::Schools, &header, Mode::AllOrNothing)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("只有表头"), "{e}");
    assert_eq!(count(&t.db, "import_batch").await, 0);
}

#[tokio::test]
async fn unknown_and_missing_columns_are_named() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "s.csv",
        "学校标识码,学校名称,县区代码,学校类别,颜色\n2137000001,某校,兰山区,小学,红\n",
    );
    let e = import(&t.db, Table::Schools, &f, Mode::AllOrNothing)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("缺少必填列：所属县区、办学性质、城乡分类"),
        "{e}"
    );
    assert!(e.contains("无法识别的列：县区代码、颜色"), "{e}");
}

#[tokio::test]
async fn a_gbk_csv_from_excel_on_chinese_windows_is_read() {
    for t in TestDb::each().await {
        let dir = tempfile::tempdir().unwrap();
        let crlf = SCHOOLS_CSV.replace('\n', "\r\n");
        let (gbk, _, lossy) = encoding_rs::GBK.encode(&crlf);
        assert!(!lossy);
        let f = write(dir.path(), "gbk.csv", gbk);
        let o = import(&t.db, Table::Schools, &f, Mode::AllOrNothing)
            .await
            .unwrap();
        assert!(o.report.committed, "{:?}", o.errors);
        assert_eq!(o.encoding, Some("gb18030"));
        let name: (String,) =
            t.db.one(yimeng_store::testing::Sql::new(
                "SELECT name FROM school WHERE code = '2137000003'",
            ))
            .await
            .unwrap();
        assert_eq!(name.0, "费县第三中学");
    }
}

#[tokio::test]
async fn utf8_with_bom_and_utf16_text_exports_are_read() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let bom = write(dir.path(), "bom.csv", format!("\u{feff}{SCHOOLS_CSV}"));
    let o = import(&t.db, Table::Schools, &bom, Mode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!((o.report.inserted, o.encoding), (3, Some("UTF-8")));
    // Excel's "Unicode text": UTF-16LE with a BOM, tab-separated.
    let mut bytes = vec![0xFF, 0xFE];
    for u in SCHOOLS_CSV
        .replace(',', "\t")
        .replace("费县第三中学", "费县第三中学（新址）")
        .encode_utf16()
    {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let f = write(dir.path(), "unicode.txt", bytes);
    let o = import(&t.db, Table::Schools, &f, Mode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!(
        (o.report.updated, o.report.unchanged),
        (1, 2),
        "{:?}",
        o.errors
    );
}

#[tokio::test]
async fn a_truncated_or_non_zip_xlsx_is_refused_with_a_clear_message() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let fake = write(dir.path(), "fake.xlsx", "学校标识码,学校名称\n");
    let e = import(&t.db, Table::Schools, &fake, Mode::AllOrNothing)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("不是有效的 xlsx"), "{e}");
    let good = dir.path().join("good.xlsx");
    let headers: Vec<&str> = Table::Schools.columns().iter().map(|c| c.header).collect();
    let w = yimeng_io::TableWriter::create(&good, FileFormat::Xlsx, "学校", &headers).unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = write(dir.path(), "cut.xlsx", &bytes[..bytes.len() / 2]);
    let e = import(&t.db, Table::Schools, &cut, Mode::AllOrNothing)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("无法读取 Excel 文件"), "{e}");
    assert_eq!(count(&t.db, "school").await, 0);
}

#[tokio::test]
async fn a_10_mb_cell_is_refused_without_crashing() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let huge = "校".repeat(10 * 1024 * 1024 / 3);
    let f = write(
        dir.path(),
        "huge.csv",
        format!(
            "学校标识码,学校名称,所属县区,学校类别,办学性质,城乡分类\n2137000001,{huge},兰山区,小学,公办,城区\n"
        ),
    );
    let o = import(&t.db, Table::Schools, &f, Mode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!(o.errors.len(), 1);
    assert_eq!(o.errors[0].column, "学校名称");
    assert!(o.errors[0].reason.contains("超过上限 100"));
    assert!(
        o.errors[0].value.chars().count() < 100,
        "the report does not echo 10 MB back"
    );
    assert_eq!(count(&t.db, "school").await, 0);
}

#[tokio::test]
async fn formula_and_script_strings_are_stored_as_text_and_exported_neutralised() {
    for t in TestDb::each().await {
        let dir = tempfile::tempdir().unwrap();
        seed(&t.db, dir.path()).await;
        let hostile = [
            "=HYPERLINK(\"http://x\",\"点我\")",
            "+1-2",
            "@SUM(A1)",
            "<script>alert(1)</script>",
            "-3",
        ];
        let lines: Vec<String> = hostile
            .iter()
            .enumerate()
            .map(|(i, n)| {
                student_line(
                    "2137000001",
                    "三年级",
                    1,
                    &format!("\"{}\"", n.replace('"', "\"\"")),
                    &id(10 + i as u16),
                )
            })
            .collect();
        let f = write(dir.path(), "s.csv", students(&lines));
        let o = import(&t.db, Table::Students, &f, Mode::AllOrNothing)
            .await
            .unwrap();
        assert!(o.report.committed, "{:?}", o.errors);
        let names: Vec<(String,)> =
            t.db.all(yimeng_store::testing::Sql::new(
                "SELECT name FROM student ORDER BY id",
            ))
            .await
            .unwrap();
        assert_eq!(
            names.iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
            hostile
        );
        // CSV: a leading apostrophe keeps a spreadsheet from running the cell.
        let out = dir.path().join("out.csv");
        yimeng_web::service::export::export_table(
            &t.db,
            &Scope::City,
            Table::Students,
            &out,
            FileFormat::Csv,
            &|_| {},
        )
        .await
        .unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\""),
            "{text}"
        );
        assert!(text.contains(",'+1-2,") && text.contains(",'@SUM(A1),") && text.contains(",'-3,"));
        assert!(text.contains(",<script>alert(1)</script>,"));
        // xlsx: the cell is text with Excel's quote prefix, so its value is exactly the name.
        let out = dir.path().join("out.xlsx");
        yimeng_web::service::export::export_table(
            &t.db,
            &Scope::City,
            Table::Students,
            &out,
            FileFormat::Xlsx,
            &|_| {},
        )
        .await
        .unwrap();
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&out).unwrap();
        let range = wb.worksheet_range("学生").unwrap();
        assert_eq!(range.get_value((1, 4)).unwrap().to_string(), hostile[0]);
        // And both files import back without a change.
        for f in [dir.path().join("out.csv"), dir.path().join("out.xlsx")] {
            let o = import(&t.db, Table::Students, &f, Mode::AllOrNothing)
                .await
                .unwrap();
            assert_eq!(
                (o.report.unchanged, o.report.rejected),
                (5, 0),
                "{:?}",
                o.errors
            );
        }
    }
}

#[tokio::test]
async fn an_xls_workbook_from_excel_97_is_read() {
    let t = TestDb::sqlite().await;
    let f = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/schools.xls");
    let o = import(&t.db, Table::Schools, &f, Mode::AllOrNothing)
        .await
        .unwrap();
    assert_eq!((o.format, o.report.inserted), ("xls", 2), "{:?}", o.errors);
    let cap: (Option<i64>,) =
        t.db.one(yimeng_store::testing::Sql::new(
            "SELECT capacity FROM school WHERE code = '2137100002'",
        ))
        .await
        .unwrap();
    assert_eq!(cap.0, Some(2400));
}

#[tokio::test]
async fn partial_mode_writes_good_rows_and_a_dry_run_writes_nothing() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    seed(&t.db, dir.path()).await;
    let f = write(
        dir.path(),
        "s.csv",
        students(&[
            student_line("2137000001", "三年级", 1, "张三", &id(1)),
            student_line("2137000001", "九年级", 1, "李四", &id(2)),
        ]),
    );
    let job = |dry_run, mode| ImportJob {
        table: Table::Students,
        path: f.clone(),
        file_name: "s.csv".into(),
        mode,
        dry_run,
    };
    let o = import_file(
        &t.db,
        &Scope::City,
        &Actor::system(),
        job(true, Mode::AllOrNothing),
        Arc::new(|_| {}),
    )
    .await
    .unwrap();
    assert!(o.report.dry_run && !o.report.committed);
    assert_eq!((o.report.inserted, o.report.rejected), (1, 1));
    assert_eq!(count(&t.db, "student").await, 0);
    let o = import_file(
        &t.db,
        &Scope::City,
        &Actor::system(),
        job(false, Mode::Partial),
        Arc::new(|_| {}),
    )
    .await
    .unwrap();
    assert!(o.report.committed);
    assert_eq!((o.report.inserted, o.report.rejected), (1, 1));
    assert_eq!(count(&t.db, "student").await, 1);
    // The error sheet carries row, column, value and reason.
    let sheet = dir.path().join("errors.csv");
    write_errors(&sheet, &o.errors).unwrap();
    let text = std::fs::read_to_string(&sheet).unwrap();
    assert!(text.starts_with("\u{feff}行号,列名,值,原因"), "{text}");
    assert!(text.contains("3,年级,九年级,"), "{text}");
}

#[tokio::test]
async fn a_changed_file_updates_records_and_the_same_file_twice_changes_nothing() {
    for t in TestDb::each().await {
        let dir = tempfile::tempdir().unwrap();
        seed(&t.db, dir.path()).await;
        let again = write(dir.path(), "again.csv", SCHOOLS_CSV);
        let o = import(&t.db, Table::Schools, &again, Mode::AllOrNothing)
            .await
            .unwrap();
        assert_eq!(
            (o.report.inserted, o.report.updated, o.report.unchanged),
            (0, 0, 3)
        );
        let changed = write(
            dir.path(),
            "changed.csv",
            SCHOOLS_CSV.replace("兰山区第一实验小学", "兰山区第一实验小学（本部）"),
        );
        let o = import(&t.db, Table::Schools, &changed, Mode::AllOrNothing)
            .await
            .unwrap();
        assert_eq!((o.report.updated, o.report.unchanged), (1, 2));
        let hist: i64 =
            t.db.scalar(yimeng_store::testing::Sql::new(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'update' AND entity = 'school'",
            ))
            .await
            .unwrap();
        assert_eq!(hist, 1);
    }
}

#[tokio::test]
async fn a_file_of_another_kind_is_refused_with_its_extension_named() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "notes.docx", "hello");
    let e = import(&t.db, Table::Schools, &f, Mode::AllOrNothing)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::File(_)));
    assert!(e.to_string().contains(".docx"), "{e}");
}
