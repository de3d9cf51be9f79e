//! Resource bounds: decompression bombs, endless cells and sheets of empty cells are refused with a
//! Chinese message before the reader allocates for them.

use crate::support::{inline_row, read, shared_strings, xlsx};
use std::io::Write;
use yimeng_io::Limits;

fn header(w: &mut dyn Write) {
    inline_row(w, 1, &["学校标识码", "姓名"]);
}

#[test]
fn an_xlsx_whose_shared_strings_inflate_past_the_bound_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.xlsx");
    // About 200 MB of shared strings, a few hundred KB on disk.
    xlsx(
        &path,
        &mut header,
        &mut [("xl/sharedStrings.xml", &mut |w: &mut dyn Write| {
            shared_strings(w, "10", 200 * 1024 * 1024)
        })],
    );
    assert!(std::fs::metadata(&path).unwrap().len() < 2 * 1024 * 1024);
    let e = read(&path, &Limits::DEFAULT).unwrap_err().to_string();
    assert!(e.contains("文件解压后超过 128 MB"), "{e}");
    assert!(e.contains("xl/sharedStrings.xml"), "{e}");
}

/// Sets the uncompressed size of `name` in its local header and its central directory entry.
fn lie_about_size(bytes: &mut [u8], name: &str, size: u32) {
    let name = name.as_bytes();
    let mut patched = 0;
    for i in 0..bytes.len().saturating_sub(46) {
        let (field, name_at) = match &bytes[i..i + 4] {
            b"PK\x03\x04" => (22, 30),
            b"PK\x01\x02" => (24, 46),
            _ => continue,
        };
        let len_at = if name_at == 30 { 26 } else { 28 };
        let len = u16::from_le_bytes([bytes[i + len_at], bytes[i + len_at + 1]]) as usize;
        if bytes.get(i + name_at..i + name_at + len) == Some(name) {
            bytes[i + field..i + field + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local header and central directory entry");
}

#[test]
fn an_xlsx_part_that_inflates_past_its_declared_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("liar.xlsx");
    xlsx(
        &path,
        &mut header,
        &mut [("xl/sharedStrings.xml", &mut |w: &mut dyn Write| {
            shared_strings(w, "10", 3 * 1024 * 1024)
        })],
    );
    let mut bytes = std::fs::read(&path).unwrap();
    lie_about_size(&mut bytes, "xl/sharedStrings.xml", 1000);
    std::fs::write(&path, bytes).unwrap();
    let limits = Limits {
        shared_strings_bytes: 1024 * 1024,
        ..Limits::DEFAULT
    };
    let e = read(&path, &limits).unwrap_err().to_string();
    // Refused while inflating, whichever notices first: the counter against the bound or the zip
    // layer's own check of the declared size.
    assert!(
        e.contains("文件解压后超过 1 MB") || e.contains("“xl/sharedStrings.xml”部分无法解压"),
        "{e}"
    );
}

#[test]
fn a_shared_strings_count_larger_than_its_content_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("count.xlsx");
    // The workbook reader reserves room for the declared count up front: 4 billion strings would
    // ask for about 100 GB.
    xlsx(
        &path,
        &mut header,
        &mut [("xl/sharedStrings.xml", &mut |w: &mut dyn Write| {
            shared_strings(w, "4000000000", 1)
        })],
    );
    let e = read(&path, &Limits::DEFAULT).unwrap_err().to_string();
    assert!(e.contains("共享字符串表声明了 4000000000 个字符串"), "{e}");
}

#[test]
fn a_sheet_of_millions_of_empty_cells_is_refused_at_the_cell_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.xlsx");
    xlsx(
        &path,
        &mut |w: &mut dyn Write| {
            header(w);
            for r in 2..=1_200_000u32 {
                write!(w, r#"<row r="{r}"><c r="A{r}"/><c r="B{r}"/></row>"#).unwrap();
            }
        },
        &mut [],
    );
    let limits = Limits {
        cells: 1_000_000,
        ..Limits::DEFAULT
    };
    let e = read(&path, &limits).unwrap_err().to_string();
    assert!(e.contains("单元格（含空单元格）超过 1000000 个"), "{e}");
}

#[test]
fn an_xlsx_cell_longer_than_the_bound_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.xlsx");
    let long = "长".repeat(20_000);
    xlsx(
        &path,
        &mut |w: &mut dyn Write| {
            header(w);
            inline_row(w, 2, &["2137020001", &long]);
        },
        &mut [],
    );
    let limits = Limits {
        cell_bytes: 32 * 1024,
        ..Limits::DEFAULT
    };
    let e = read(&path, &limits).unwrap_err().to_string();
    assert_eq!(
        e,
        "第 2 行第 2 列的单元格超过 32 KB，不像是导入用的数据；请检查该单元格（可能缺少引号的结束符）"
    );
}

#[test]
fn an_xlsx_row_repeating_one_long_shared_string_is_refused_at_the_row_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repeat.xlsx");
    // One 1 MB shared string, referenced by 40 cells of one row: 40 MB of text from 1 MB.
    xlsx(
        &path,
        &mut |w: &mut dyn Write| {
            header(w);
            w.write_all(br#"<row r="2">"#).unwrap();
            for c in 0..40u8 {
                let col = format!("{}{}", (b'A' + c / 26) as char, (b'A' + c % 26) as char);
                write!(w, r#"<c r="{col}2" t="s"><v>0</v></c>"#).unwrap();
            }
            w.write_all(b"</row>").unwrap();
        },
        &mut [("xl/sharedStrings.xml", &mut |w: &mut dyn Write| {
            write!(w, r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{}</t></si></sst>"#, "a".repeat(1 << 20)).unwrap();
        })],
    );
    let e = read(&path, &Limits::DEFAULT).unwrap_err().to_string();
    assert!(e.starts_with("第 2 行的内容超过 32 MB"), "{e}");
}

#[test]
fn a_csv_row_longer_than_the_row_bound_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("row.csv");
    let cell = "a".repeat(12 << 20);
    std::fs::write(
        &path,
        format!(
            "学校标识码,姓名,地址
{cell},{cell},{cell}
"
        ),
    )
    .unwrap();
    let e = read(&path, &Limits::DEFAULT).unwrap_err().to_string();
    assert!(e.starts_with("第 2 行的内容超过 32 MB"), "{e}");
}

#[test]
fn a_csv_with_a_giant_cell_is_refused_at_the_cell_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("giant.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all("学校标识码,姓名\n2137020001,".as_bytes())
        .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..64 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b"\n").unwrap();
    drop(f);
    let e = read(&path, &Limits::DEFAULT).unwrap_err().to_string();
    assert!(e.starts_with("第 2 行第 2 列的单元格超过 16 MB"), "{e}");
}

#[test]
fn a_quoted_csv_cell_spanning_many_short_lines_is_still_one_cell() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lines.csv");
    let mut text = "学校标识码,姓名\n2137020001,\"".to_string();
    for _ in 0..10_000 {
        text.push_str("短行\n");
    }
    text.push_str("\"\n");
    std::fs::write(&path, text).unwrap();
    let limits = Limits {
        cell_bytes: 32 * 1024,
        ..Limits::DEFAULT
    };
    let e = read(&path, &limits).unwrap_err().to_string();
    assert!(e.starts_with("第 2 行第 2 列的单元格超过 32 KB"), "{e}");
}

#[test]
fn csv_quotes_inside_cells_and_escaped_quotes_read_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quotes.csv");
    let text = "学校标识码,地址\r\n2137020001,19\"寸\r\n2137020002,\"说\"\"好\"\",\n第二行\"\r\n";
    std::fs::write(&path, text).unwrap();
    let limits = Limits {
        cell_bytes: 24,
        ..Limits::DEFAULT
    };
    let (_, rows) = read(&path, &limits).unwrap();
    assert_eq!(
        rows,
        [
            ["2137020001", "19\"寸"],
            ["2137020002", "说\"好\",\n第二行"]
        ]
    );
}

#[test]
fn a_csv_past_the_size_bound_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut text = "学校标识码,姓名\n".to_string();
    for i in 0..100_000 {
        text.push_str(&format!("{i},张三\n"));
    }
    std::fs::write(&path, text).unwrap();
    let limits = Limits {
        inflated_bytes: 1024 * 1024,
        ..Limits::DEFAULT
    };
    let e = read(&path, &limits).unwrap_err().to_string();
    assert!(e.starts_with("文件解码后超过 1 MB"), "{e}");
    assert_eq!(read(&path, &Limits::DEFAULT).unwrap().1.len(), 100_000);
}

#[test]
fn a_csv_row_wider_than_the_column_bound_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.csv");
    let text = format!("学校标识码,姓名\n1{}\n", ",".repeat(600));
    std::fs::write(&path, text).unwrap();
    let e = read(&path, &Limits::DEFAULT).unwrap_err().to_string();
    assert!(e.starts_with("第 2 行的列数超过 512"), "{e}");
}
