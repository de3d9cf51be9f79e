//! Streaming writers: CSV (UTF-8 with BOM so Excel opens it) and xlsx (constant memory, deflated on
//! a second thread as rows are written, see [`crate::xlsx_stream`]; a new sheet every 1,048,575
//! data rows). Cells that a spreadsheet would run as a formula (starting with
//! = + - @, tab or CR) are neutralised: CSV cells get a leading apostrophe, xlsx cells are written as
//! quote-prefixed text.

use crate::IoError;
use crate::schema::Table;
use crate::xlsx_stream::{STYLE_DATE, STYLE_HEAD, STYLE_QUOTED, XlsxStream};
use chrono::NaiveDate;
use rust_xlsxwriter::{Color, DataValidation, Format, Workbook, XlsxError};
use std::io::Write;
use std::path::Path;

/// A cell to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A date.
    Date(NaiveDate),
    /// Nothing.
    Empty,
}

impl Cell {
    /// Text cell.
    pub fn text(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// CSV, UTF-8 with BOM.
    Csv,
    /// Excel 2007+.
    Xlsx,
}

impl FileFormat {
    /// From a file name's extension.
    pub fn from_path(p: &Path) -> Option<FileFormat> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(FileFormat::Csv),
            "xlsx" => Some(FileFormat::Xlsx),
            _ => None,
        }
    }
    /// MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
    /// Extension.
    pub fn ext(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }
}

/// True when a spreadsheet would take the text as a formula.
pub fn needs_neutralising(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Rows per sheet: Excel's 1,048,576 rows minus the header.
pub const XLSX_DATA_ROWS_PER_SHEET: u32 = 1_048_575;

fn xe(e: XlsxError) -> IoError {
    IoError::Xlsx(e.to_string())
}

/// Writes one table to a file, row by row.
pub struct TableWriter {
    inner: Inner,
    headers: Vec<String>,
    rows: u64,
    /// Reused for a cell's text (numbers, dates), a neutralised cell, and number digits: no
    /// allocation per row.
    scratch: Vec<u8>,
    quoted: Vec<u8>,
    num: [u8; 20],
}

// One writer per export: the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Csv(csv::Writer<std::io::BufWriter<std::fs::File>>),
    Xlsx {
        out: XlsxStream,
        title: String,
        sheets: usize,
        row: u32,
    },
}

impl TableWriter {
    /// Creates the file and writes the header.
    pub fn create(
        path: &Path,
        format: FileFormat,
        title: &str,
        headers: &[&str],
    ) -> Result<TableWriter, IoError> {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        let inner = match format {
            FileFormat::Csv => {
                let mut f = std::io::BufWriter::with_capacity(
                    1 << 20,
                    std::fs::File::create(path).map_err(|e| IoError::io(path, e))?,
                );
                f.write_all(b"\xEF\xBB\xBF")
                    .map_err(|e| IoError::io(path, e))?;
                let mut w = csv::WriterBuilder::new().from_writer(f);
                w.write_record(&headers)
                    .map_err(|e| IoError::Format(e.to_string()))?;
                Inner::Csv(w)
            }
            FileFormat::Xlsx => {
                let widths = headers
                    .iter()
                    .map(|h| (h.chars().count() as f64 * 2.2).max(10.0))
                    .collect();
                Inner::Xlsx {
                    out: XlsxStream::create(path, widths)?,
                    title: sheet_title(title),
                    sheets: 0,
                    row: u32::MAX,
                }
            }
        };
        let mut w = TableWriter {
            inner,
            headers,
            rows: 0,
            scratch: Vec::with_capacity(64),
            quoted: Vec::with_capacity(64),
            num: [0; 20],
        };
        if let Inner::Xlsx { .. } = w.inner {
            w.new_sheet()?;
        }
        Ok(w)
    }

    fn new_sheet(&mut self) -> Result<(), IoError> {
        let Inner::Xlsx {
            out,
            title,
            sheets,
            row,
        } = &mut self.inner
        else {
            return Ok(());
        };
        let name = if *sheets == 0 {
            title.clone()
        } else {
            format!("{}({})", title, *sheets + 1)
        };
        out.start_sheet(&name)?;
        out.start_row();
        for h in &self.headers {
            out.text(h, STYLE_HEAD)?;
        }
        out.end_row()?;
        *sheets += 1;
        *row = 0;
        Ok(())
    }

    /// Writes one row.
    pub fn write_row(&mut self, cells: &[Cell]) -> Result<(), IoError> {
        self.rows += 1;
        if let Inner::Xlsx { row, .. } = &self.inner
            && *row >= XLSX_DATA_ROWS_PER_SHEET
        {
            self.new_sheet()?;
        }
        match &mut self.inner {
            Inner::Csv(w) => {
                let fe = |e: csv::Error| IoError::Format(e.to_string());
                for c in cells {
                    let t: &[u8] = match c {
                        Cell::Text(s) => s.as_bytes(),
                        Cell::Int(i) => {
                            self.scratch.clear();
                            self.scratch
                                .extend_from_slice(itoa_buf(*i, &mut self.num).as_bytes());
                            &self.scratch
                        }
                        Cell::Date(d) => {
                            self.scratch.clear();
                            push_date(&mut self.scratch, *d);
                            &self.scratch
                        }
                        Cell::Empty => b"",
                    };
                    if t.first().is_some_and(|b| b"=+-@\t\r".contains(b)) {
                        self.quoted.clear();
                        self.quoted.push(b'\'');
                        self.quoted.extend_from_slice(t);
                        w.write_field(&self.quoted).map_err(fe)?;
                    } else {
                        w.write_field(t).map_err(fe)?;
                    }
                }
                w.write_record(None::<&[u8]>).map_err(fe)?;
            }
            Inner::Xlsx { out, row, .. } => {
                *row += 1;
                out.start_row();
                for cell in cells {
                    match cell {
                        Cell::Text(s) if needs_neutralising(s) => out.text(s, STYLE_QUOTED)?,
                        Cell::Text(s) if !s.is_empty() => out.text(s, 0)?,
                        Cell::Int(i) => out.int(*i),
                        Cell::Date(d) => {
                            self.scratch.clear();
                            push_date(&mut self.scratch, *d);
                            // push_date writes ASCII only.
                            let t = std::str::from_utf8(&self.scratch).unwrap_or_default();
                            out.text(t, STYLE_DATE)?;
                        }
                        _ => out.skip(),
                    }
                }
                out.end_row()?;
            }
        }
        Ok(())
    }

    /// Data rows written.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<u64, IoError> {
        match self.inner {
            Inner::Csv(mut w) => {
                w.flush().map_err(|e| IoError::Format(e.to_string()))?;
            }
            Inner::Xlsx { out, .. } => out.finish()?,
        }
        Ok(self.rows)
    }
}

/// `yyyy-mm-dd`, as chrono's `%Y-%m-%d` writes it, without the formatting machinery.
fn push_date(out: &mut Vec<u8>, d: NaiveDate) {
    use chrono::Datelike;
    let y = d.year();
    if !(0..=9999).contains(&y) {
        out.extend_from_slice(d.format("%Y-%m-%d").to_string().as_bytes());
        return;
    }
    let (m, day) = (d.month() as u8, d.day() as u8);
    let y = y as u16;
    out.extend_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + m / 10,
        b'0' + m % 10,
        b'-',
        b'0' + day / 10,
        b'0' + day % 10,
    ]);
}

/// The decimal digits of `n`, written into `buf`.
fn itoa_buf(n: i64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    // Only ASCII digits and '-' were written.
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

/// Excel sheet names: at most 31 characters, none of []:*?/\.
fn sheet_title(t: &str) -> String {
    let s: String = t
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(28)
        .collect();
    if s.is_empty() { "Sheet1".into() } else { s }
}

/// Writes the import template of a table: the header row (required columns in red, every column
/// formatted as text so Excel keeps ID numbers whole, drop-down lists where the choices are few),
/// and an instructions sheet.
pub fn write_template(table: Table, path: &Path) -> Result<(), IoError> {
    let mut wb = Workbook::new();
    let cols = table.columns();
    let text = Format::new().set_num_format("@");
    let head = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDE7F3));
    let head_req = head.clone().set_font_color(Color::RGB(0xC00000));
    {
        let ws = wb.add_worksheet();
        ws.set_name(table.label()).map_err(xe)?;
        for (i, c) in cols.iter().enumerate() {
            let i = i as u16;
            ws.write_string_with_format(0, i, c.header, if c.required { &head_req } else { &head })
                .map_err(xe)?;
            ws.set_column_width(i, (c.header.chars().count() as f64 * 2.2).max(12.0))
                .map_err(xe)?;
            ws.set_column_format(i, &text).map_err(xe)?;
            if let Some(list) = choices(c.key, table) {
                let dv = DataValidation::new().allow_list_strings(list).map_err(xe)?;
                ws.add_data_validation(1, i, 20_000, i, &dv).map_err(xe)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xe)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("填写说明").map_err(xe)?;
        let bold = Format::new().set_bold();
        let wrap = Format::new().set_text_wrap();
        for (i, h) in ["列名", "是否必填", "填写说明"].iter().enumerate() {
            ws.write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xe)?;
        }
        ws.set_column_width(0, 28).map_err(xe)?;
        ws.set_column_width(1, 10).map_err(xe)?;
        ws.set_column_width(2, 90).map_err(xe)?;
        for (r, c) in cols.iter().enumerate() {
            let r = r as u32 + 1;
            ws.write_string(r, 0, c.header).map_err(xe)?;
            ws.write_string(r, 1, if c.required { "必填" } else { "选填" })
                .map_err(xe)?;
            ws.write_string_with_format(r, 2, c.help, &wrap)
                .map_err(xe)?;
        }
        let n = cols.len() as u32 + 2;
        let notes = [
            "第一行是表头，请勿修改列名；可以删除选填列，但不能增加其他列（“序号”“备注”列会被忽略）。",
            "导入前会逐行校验；默认只要有一行有误就整表不导入，并列出所有错误的行号、列名和原因。",
            "重复导入同一文件不会产生重复数据；修改后的行会更新原记录并留下修改历史。",
            "支持 .xlsx、.xls 和 .csv（UTF-8 或 GBK 编码均可）。",
        ];
        for (i, t) in notes.iter().enumerate() {
            ws.write_string(n + i as u32, 0, *t).map_err(xe)?;
        }
    }
    wb.save(path).map_err(xe)
}

/// Drop-down choices for short code lists (Excel limits a list to 255 characters).
fn choices(key: &str, table: Table) -> Option<&'static [&'static str]> {
    Some(match (table, key) {
        (_, "sex") => &["男", "女"],
        (Table::Schools, "ownership") => &["公办", "民办"],
        (Table::Schools, "location") => &["城区", "镇区", "乡村"],
        (Table::Schools, k)
            if [
                "inclusive",
                "central",
                "ipv6",
                "security_guard",
                "closed_campus",
                "alarm_and_video",
                "guard_post",
            ]
            .contains(&k) =>
        {
            &["是", "否"]
        }
        (Table::Students, k) if ["migrant", "left_behind", "poor", "orphan"].contains(&k) => {
            &["是", "否"]
        }
        (Table::Staff, "party_member") => &["是", "否"],
        (Table::Staff, "title") => &["正高级", "高级", "一级", "二级", "三级", "未定级"],
        (Table::Staff, "post") => &["专任教师", "行政人员", "教辅人员", "工勤人员", "保育员"],
        (Table::Staff, "backbone") => &["无", "校级", "县级", "市级", "省级", "国家级"],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_output_starts_with_a_bom_and_neutralises_formulas() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let mut w = TableWriter::create(&p, FileFormat::Csv, "学生", &["姓名", "备注"]).unwrap();
        w.write_row(&[Cell::text("=HYPERLINK(\"x\")"), Cell::text("@SUM(A1)")])
            .unwrap();
        w.write_row(&[Cell::text("张三"), Cell::Int(-5)]).unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let s = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(s.contains("\"'=HYPERLINK(\"\"x\"\")\",'@SUM(A1)"), "{s}");
        assert!(s.contains("张三,'-5"), "{s}");
    }

    #[test]
    fn numbers_and_dates_are_written_as_chrono_and_to_string_write_them() {
        let mut buf = [0u8; 20];
        for n in [0, 7, -5, 10, 1234567890, i64::MAX, i64::MIN, -1000] {
            assert_eq!(itoa_buf(n, &mut buf), n.to_string());
        }
        for (y, m, d) in [
            (2020, 9, 1),
            (1, 1, 31),
            (999, 12, 9),
            (9999, 10, 10),
            (-44, 3, 15),
            (10000, 1, 1),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut out = Vec::new();
            push_date(&mut out, date);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                date.format("%Y-%m-%d").to_string()
            );
        }
    }

    #[test]
    fn sheet_titles_drop_characters_excel_refuses() {
        assert_eq!(sheet_title("学生[2020]/名册"), "学生2020名册");
    }
}
