//! Streaming readers. Rows are pushed to a callback, so a 1.7-million-row file is read in flat
//! memory (xlsx cells are streamed; .xls files are small by the format's own limit).

use crate::IoError;
use calamine::{DataRef, Reader};
use encoding_rs::{Decoder, Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};
use std::io::{BufReader, Read};
use std::path::Path;

/// One data row as text cells, with its row number (the header is row 1). The cells are borrowed
/// from a buffer reused for every row.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow<'a> {
    /// 1-based row number as a spreadsheet shows it.
    pub number: u64,
    /// Cells, as text.
    pub cells: &'a csv::StringRecord,
}

/// What a file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// "csv", "xlsx" or "xls".
    pub format: &'static str,
    /// Detected text encoding (CSV only).
    pub encoding: Option<&'static str>,
}

/// Reads a table file: `on_header` sees the header row once and `on_row` every non-empty data row.
/// Returns what the file was.
pub fn read_table(
    path: &Path,
    mut on_header: impl FnMut(&[String]) -> Result<(), IoError>,
    mut on_row: impl FnMut(RawRow<'_>) -> Result<(), IoError>,
) -> Result<FileInfo, IoError> {
    let mut head = [0u8; 8];
    let n = {
        let mut f = std::fs::File::open(path).map_err(|e| IoError::io(path, e))?;
        read_up_to(&mut f, &mut head).map_err(|e| IoError::io(path, e))?
    };
    if n == 0 {
        return Err(IoError::Empty);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_zip = head.starts_with(b"PK\x03\x04");
    let is_ole = head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    match ext.as_str() {
        "xlsx" | "xlsm" => {
            if !is_zip {
                return Err(IoError::Format(
                    "文件不是有效的 xlsx（不是 zip 格式，可能已损坏、被截断或只是改了扩展名）"
                        .into(),
                ));
            }
            read_xlsx(path, &mut on_header, &mut on_row)?;
            Ok(FileInfo {
                format: "xlsx",
                encoding: None,
            })
        }
        "xls" => {
            if is_zip {
                read_xlsx(path, &mut on_header, &mut on_row)?;
                return Ok(FileInfo {
                    format: "xlsx",
                    encoding: None,
                });
            }
            if !is_ole {
                return Err(IoError::Format(
                    "文件不是有效的 xls（Excel 97-2003）文件，可能已损坏或只是改了扩展名".into(),
                ));
            }
            read_xls(path, &mut on_header, &mut on_row)?;
            Ok(FileInfo {
                format: "xls",
                encoding: None,
            })
        }
        "csv" | "txt" | "tsv" => {
            if is_zip || is_ole {
                return Err(IoError::Format(
                    "文件扩展名是 .csv，但内容是 Excel 工作簿；请把扩展名改为 .xlsx 或 .xls".into(),
                ));
            }
            let enc = read_csv(path, &mut on_header, &mut on_row)?;
            Ok(FileInfo {
                format: "csv",
                encoding: Some(enc),
            })
        }
        _ => Err(IoError::Format(format!(
            "不支持的文件类型“.{}”；请上传 .xlsx、.xls 或 .csv 文件",
            yimeng_domain::text::preview(&ext, 10)
        ))),
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// CSV

/// Detects the encoding of a text file from its first bytes: a BOM names it; otherwise valid
/// UTF-8 is UTF-8 and anything else is GB18030 (a superset of GBK, what Excel on Chinese Windows
/// writes).
pub fn detect_encoding(sample: &[u8], complete: bool) -> (&'static Encoding, usize) {
    if sample.starts_with(b"\xEF\xBB\xBF") {
        return (UTF_8, 3);
    }
    if sample.starts_with(b"\xFF\xFE") {
        return (UTF_16LE, 2);
    }
    if sample.starts_with(b"\xFE\xFF") {
        return (UTF_16BE, 2);
    }
    match std::str::from_utf8(sample) {
        Ok(_) => (UTF_8, 0),
        // A multi-byte character cut at the end of the sample is not evidence against UTF-8.
        Err(e) if !complete && e.error_len().is_none() => (UTF_8, 0),
        Err(_) => (GB18030, 0),
    }
}

/// A `Read` that decodes another `Read` from `encoding` to UTF-8.
struct DecodingReader<R: Read> {
    inner: R,
    decoder: Decoder,
    pending: Vec<u8>,
    in_buf: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
}

impl<R: Read> DecodingReader<R> {
    fn new(inner: R, encoding: &'static Encoding, pending: Vec<u8>) -> Self {
        DecodingReader {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            pending,
            in_buf: vec![0; 64 * 1024],
            out: Vec::with_capacity(256 * 1024),
            out_pos: 0,
            eof: false,
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if self.eof {
                return Ok(0);
            }
            let input: Vec<u8> = if !self.pending.is_empty() {
                std::mem::take(&mut self.pending)
            } else {
                let n = self.inner.read(&mut self.in_buf)?;
                if n == 0 {
                    self.eof = true;
                }
                self.in_buf[..n].to_vec()
            };
            self.out.clear();
            self.out_pos = 0;
            let cap = self
                .decoder
                .max_utf8_buffer_length(input.len())
                .unwrap_or(input.len() * 3 + 16);
            let mut s = String::with_capacity(cap);
            let (_, _, _) = self.decoder.decode_to_string(&input, &mut s, self.eof);
            self.out.extend_from_slice(s.as_bytes());
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

fn read_csv(
    path: &Path,
    on_header: &mut dyn FnMut(&[String]) -> Result<(), IoError>,
    on_row: &mut dyn FnMut(RawRow<'_>) -> Result<(), IoError>,
) -> Result<&'static str, IoError> {
    let mut f = BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(path).map_err(|e| IoError::io(path, e))?,
    );
    let mut sample = vec![0u8; 1 << 20];
    let n = read_up_to(&mut f, &mut sample).map_err(|e| IoError::io(path, e))?;
    sample.truncate(n);
    let (enc, bom) = detect_encoding(&sample, n < (1 << 20));
    let pending = sample[bom..].to_vec();
    let first_line_end = pending
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(pending.len());
    // Excel's "Unicode text" export is UTF-16 and tab-separated; a header with tabs and no commas
    // is read as TSV.
    let delimiter = if enc == UTF_16LE || enc == UTF_16BE {
        b'\t'
    } else {
        let line = &pending[..first_line_end];
        if line.contains(&b'\t') && !line.contains(&b',') {
            b'\t'
        } else {
            b','
        }
    };
    let reader = DecodingReader::new(f, enc, pending);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(1 << 20)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    let mut number = 0u64;
    let mut saw_header = false;
    let mut saw_data = false;
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(IoError::Format(format!(
                    "CSV 第 {} 行无法解析：{}",
                    number + 1,
                    csv_error_zh(&e)
                )));
            }
        }
        number += 1;
        if !saw_header {
            let cells: Vec<String> = record.iter().map(|c| c.to_string()).collect();
            if cells.iter().all(|c| c.trim().is_empty()) {
                return Err(IoError::Header("第 1 行（表头）是空的".into()));
            }
            on_header(&cells)?;
            saw_header = true;
            continue;
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        saw_data = true;
        if record.iter().any(|c| c.starts_with('\'')) {
            let fixed: csv::StringRecord = record.iter().map(unneutralize).collect();
            on_row(RawRow {
                number,
                cells: &fixed,
            })?;
        } else {
            on_row(RawRow {
                number,
                cells: &record,
            })?;
        }
    }
    if !saw_header {
        return Err(IoError::Empty);
    }
    if !saw_data {
        return Err(IoError::HeaderOnly);
    }
    Ok(enc.name())
}

fn csv_error_zh(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "含有无法识别的字符".into(),
        csv::ErrorKind::Io(io) => format!("读取失败（{io}）"),
        _ => "格式错误（引号不成对？）".into(),
    }
}

/// Undoes our own export's formula neutralisation (`'=…` → `=…`), so exported files import back.
fn unneutralize(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => cell.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Excel

fn excel_error(e: impl std::fmt::Display) -> IoError {
    IoError::Format(format!(
        "无法读取 Excel 文件（文件可能已损坏或被截断）：{e}"
    ))
}

/// Text of a cell. Numbers that are whole print without a decimal point; a number too large to be
/// exact (an ID number typed into a number cell) is marked so the row parser can say why.
fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        DataRef::DateTime(d) => match d.as_datetime() {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => {
                dt.date().format("%Y-%m-%d").to_string()
            }
            Some(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => d.as_f64().to_string(),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

/// A number cell as text. Excel keeps 15 significant digits, so a longer integer has lost digits:
/// it is returned with a marker that the row parser turns into a clear error.
pub fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else if f.fract() == 0.0 {
        format!("{NUMBER_LOST_PRECISION}{f:e}")
    } else {
        let s = format!("{f}");
        s
    }
}

/// Prefix of a cell text that was a number too long for Excel to keep exactly.
pub const NUMBER_LOST_PRECISION: &str = "\u{1}数字精度丢失:";

fn read_xlsx(
    path: &Path,
    on_header: &mut dyn FnMut(&[String]) -> Result<(), IoError>,
    on_row: &mut dyn FnMut(RawRow<'_>) -> Result<(), IoError>,
) -> Result<(), IoError> {
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).map_err(excel_error)?;
    let names = wb.sheet_names().to_vec();
    let mut header: Option<Vec<String>> = None;
    let mut number = 1u64;
    let mut saw_data = false;
    for name in names {
        let mut cells = wb.worksheet_cells_reader(&name).map_err(excel_error)?;
        let mut cur_row: Option<u32> = None;
        let mut row: Vec<String> = Vec::new();
        let mut sheet_header_done = false;
        let mut emit = |row: &mut Vec<String>,
                        header: &mut Option<Vec<String>>,
                        sheet_header_done: &mut bool,
                        number: &mut u64|
         -> Result<(), IoError> {
            let cells = std::mem::take(row);
            if !*sheet_header_done {
                if cells.iter().all(|c| c.trim().is_empty()) {
                    return Ok(());
                }
                *sheet_header_done = true;
                match header {
                    None => {
                        on_header(&cells)?;
                        *header = Some(cells);
                    }
                    Some(h) => {
                        if trim_trailing(&cells) != trim_trailing(h) {
                            return Err(IoError::Header(format!(
                                "工作表“{name}”的表头与第一个工作表不同"
                            )));
                        }
                    }
                }
                return Ok(());
            }
            *number += 1;
            if cells.iter().all(|c| c.trim().is_empty()) {
                return Ok(());
            }
            saw_data = true;
            let rec: csv::StringRecord = cells.into_iter().collect();
            on_row(RawRow {
                number: *number,
                cells: &rec,
            })
        };
        while let Some(cell) = cells.next_cell().map_err(excel_error)? {
            let (r, c) = cell.get_position();
            if cur_row != Some(r) {
                if cur_row.is_some() {
                    emit(&mut row, &mut header, &mut sheet_header_done, &mut number)?;
                    // Rows skipped entirely in the file still count in the numbering.
                    if let Some(prev) = cur_row
                        && sheet_header_done
                        && r > prev + 1
                    {
                        number += u64::from(r - prev - 1);
                    }
                }
                cur_row = Some(r);
            }
            let c = c as usize;
            if c > 512 {
                return Err(IoError::Format(
                    "工作表的列数超过 512，不像是导入模板".into(),
                ));
            }
            if row.len() <= c {
                row.resize(c + 1, String::new());
            }
            row[c] = cell_text(cell.get_value());
        }
        if cur_row.is_some() {
            emit(&mut row, &mut header, &mut sheet_header_done, &mut number)?;
        }
    }
    if header.is_none() {
        return Err(IoError::Empty);
    }
    if !saw_data {
        return Err(IoError::HeaderOnly);
    }
    Ok(())
}

fn trim_trailing(v: &[String]) -> &[String] {
    let end = v
        .iter()
        .rposition(|c| !c.trim().is_empty())
        .map_or(0, |i| i + 1);
    &v[..end]
}

fn read_xls(
    path: &Path,
    on_header: &mut dyn FnMut(&[String]) -> Result<(), IoError>,
    on_row: &mut dyn FnMut(RawRow<'_>) -> Result<(), IoError>,
) -> Result<(), IoError> {
    let mut wb: calamine::Xls<_> = calamine::open_workbook(path).map_err(excel_error)?;
    let names = wb.sheet_names().to_vec();
    let Some(first) = names.first() else {
        return Err(IoError::Empty);
    };
    let range = wb.worksheet_range(first).map_err(excel_error)?;
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let width = range.width();
    let mut saw_header = false;
    let mut saw_data = false;
    for (i, r) in range.rows().enumerate() {
        let mut cells = vec![String::new(); c0 as usize];
        cells.extend(r.iter().map(|d| cell_text(&data_ref(d))));
        cells.truncate(c0 as usize + width);
        if !saw_header {
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            on_header(&cells)?;
            saw_header = true;
            continue;
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        saw_data = true;
        let rec: csv::StringRecord = cells.into_iter().collect();
        on_row(RawRow {
            number: u64::from(r0) + i as u64 + 1,
            cells: &rec,
        })?;
    }
    if !saw_header {
        return Err(IoError::Empty);
    }
    if !saw_data {
        return Err(IoError::HeaderOnly);
    }
    Ok(())
}

fn data_ref(d: &calamine::Data) -> DataRef<'_> {
    use calamine::Data;
    match d {
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(f) => DataRef::Float(*f),
        Data::String(s) => DataRef::SharedString(s),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(t) => DataRef::DateTime(*t),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
        Data::Empty => DataRef::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected_from_bom_or_content() {
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFabc", true), (UTF_8, 3));
        assert_eq!(detect_encoding("学校".as_bytes(), true).0, UTF_8);
        let (gbk, _, _) = GB18030.encode("学校标识码");
        assert_eq!(detect_encoding(&gbk, true).0, GB18030);
        // A UTF-8 character cut at the end of a partial sample still reads as UTF-8.
        let s = "学校".as_bytes();
        assert_eq!(detect_encoding(&s[..4], false).0, UTF_8);
    }

    #[test]
    fn long_numbers_from_excel_are_marked_as_having_lost_digits() {
        assert_eq!(float_text(42.0), "42");
        assert!(float_text(3.71302201509010e17).starts_with(NUMBER_LOST_PRECISION));
    }

    #[test]
    fn exported_neutralised_cells_import_back() {
        assert_eq!(unneutralize("'=1+1"), "=1+1");
        assert_eq!(unneutralize("'abc"), "'abc");
    }
}
