//! Streaming readers. Rows are pushed to a callback, so a 1.7-million-row file is read in flat
//! memory (xlsx cells are streamed; .xls files are small by the format's own limit).

use crate::IoError;
use crate::limits::{Limits, mb};
use calamine::{DataRef, Reader};
use encoding_rs::{Decoder, Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};
use std::io::{BufReader, Read, Seek};
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
/// Returns what the file was. The file is held to [`Limits::DEFAULT`].
pub fn read_table(
    path: &Path,
    on_header: impl FnMut(&[String]) -> Result<(), IoError>,
    on_row: impl FnMut(RawRow<'_>) -> Result<(), IoError>,
) -> Result<FileInfo, IoError> {
    read_table_with(path, &Limits::DEFAULT, on_header, on_row)
}

/// [`read_table`] with explicit resource bounds.
pub fn read_table_with(
    path: &Path,
    limits: &Limits,
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
            read_xlsx(path, limits, &mut on_header, &mut on_row)?;
            Ok(FileInfo {
                format: "xlsx",
                encoding: None,
            })
        }
        "xls" => {
            if is_zip {
                read_xlsx(path, limits, &mut on_header, &mut on_row)?;
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
            read_xls(path, limits, &mut on_header, &mut on_row)?;
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
            let enc = read_csv(path, limits, &mut on_header, &mut on_row)?;
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

/// The separator, judged on the header line decoded from the file's encoding: a header with tabs
/// and no commas is tab-separated (Excel's "Unicode text" export, UTF-16), anything else is
/// comma-separated — a UTF-16 file with commas included.
fn delimiter_of(enc: &'static Encoding, pending: &[u8]) -> u8 {
    let head = &pending[..pending.len().min(64 * 1024)];
    let (text, _) = enc.decode_without_bom_handling(head);
    let line = text.split('\n').next().unwrap_or("");
    if line.contains('\t') && !line.contains(',') {
        b'\t'
    } else {
        b','
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

/// A bound passed while reading; carried through the CSV parser as an I/O error.
#[derive(Debug)]
struct LimitExceeded(IoError);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for LimitExceeded {}

fn limit_exceeded(e: IoError) -> std::io::Error {
    std::io::Error::other(LimitExceeded(e))
}

/// Where the guard is in the CSV grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvState {
    /// At the start of a cell.
    CellStart,
    /// Inside a cell that did not start with a quote.
    Unquoted,
    /// Inside a quoted cell.
    Quoted,
    /// A quote inside a quoted cell: an escaped quote if another follows, else the cell's end.
    QuoteInQuoted,
}

/// Passes decoded CSV text through unchanged while following the CSV grammar (as the `csv` crate
/// reads it) just enough to know where cells and records end, and fails the read as soon as the
/// text, a cell, a row's width or the cell count passes its bound — before the CSV parser has
/// buffered the offending cell.
struct CsvGuard<R: Read> {
    inner: R,
    limits: Limits,
    delimiter: u8,
    state: CsvState,
    after_cr: bool,
    total: u64,
    cell_len: usize,
    row_len: usize,
    col: usize,
    row: u64,
    cells: u64,
}

impl<R: Read> CsvGuard<R> {
    fn new(inner: R, limits: Limits, delimiter: u8) -> Self {
        CsvGuard {
            inner,
            limits,
            delimiter,
            state: CsvState::CellStart,
            after_cr: false,
            total: 0,
            cell_len: 0,
            row_len: 0,
            col: 0,
            row: 1,
            cells: 0,
        }
    }

    fn end_cell(&mut self) -> Result<(), IoError> {
        self.cells += 1;
        if self.cells > self.limits.cells {
            return Err(self.limits.too_many_cells());
        }
        self.col += 1;
        if self.col >= self.limits.columns {
            return Err(self.limits.too_many_columns(self.row));
        }
        self.state = CsvState::CellStart;
        self.cell_len = 0;
        Ok(())
    }

    fn end_row(&mut self) -> Result<(), IoError> {
        self.cells += 1;
        if self.cells > self.limits.cells {
            return Err(self.limits.too_many_cells());
        }
        self.col = 0;
        self.row_len = 0;
        self.row += 1;
        self.state = CsvState::CellStart;
        self.cell_len = 0;
        Ok(())
    }

    fn step(&mut self, b: u8) -> Result<(), IoError> {
        use CsvState::*;
        let after_cr = std::mem::take(&mut self.after_cr);
        match (self.state, b) {
            (Quoted, b'"') => self.state = QuoteInQuoted,
            (Quoted, _) => self.cell_len += 1,
            (CellStart, b'"') => self.state = Quoted,
            (QuoteInQuoted, b'"') => {
                self.state = Quoted;
                self.cell_len += 1;
            }
            (_, b'\n') if after_cr => {}
            (_, b'\n' | b'\r') => {
                self.end_row()?;
                self.after_cr = b == b'\r';
            }
            (_, d) if d == self.delimiter => self.end_cell()?,
            (_, _) => {
                self.state = Unquoted;
                self.cell_len += 1;
            }
        }
        if self.cell_len > self.limits.cell_bytes {
            return Err(self.limits.cell_too_long(self.row, self.col + 1));
        }
        self.row_len += 1;
        if self.row_len > self.limits.row_bytes {
            return Err(self.limits.row_too_long(self.row));
        }
        Ok(())
    }
}

impl<R: Read> Read for CsvGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        if self.total > self.limits.inflated_bytes {
            return Err(limit_exceeded(IoError::Format(format!(
                "文件解码后超过 {} MB，不像是导入用的表格；请拆分后再上传",
                mb(self.limits.inflated_bytes)
            ))));
        }
        let mut i = 0;
        while i < n {
            // Inside a cell, runs of plain bytes only add to the lengths: skip them in one step.
            let rest = &buf[i..n];
            let run = match self.state {
                CsvState::Unquoted => rest
                    .iter()
                    .position(|&b| b == self.delimiter || b == b'\n' || b == b'\r')
                    .unwrap_or(rest.len()),
                CsvState::Quoted => rest.iter().position(|&b| b == b'"').unwrap_or(rest.len()),
                CsvState::CellStart | CsvState::QuoteInQuoted => 0,
            };
            if run > 0 {
                self.after_cr = false;
                self.cell_len += run;
                self.row_len += run;
                if self.cell_len > self.limits.cell_bytes {
                    return Err(limit_exceeded(
                        self.limits.cell_too_long(self.row, self.col + 1),
                    ));
                }
                if self.row_len > self.limits.row_bytes {
                    return Err(limit_exceeded(self.limits.row_too_long(self.row)));
                }
                i += run;
                continue;
            }
            self.step(buf[i]).map_err(limit_exceeded)?;
            i += 1;
        }
        Ok(n)
    }
}

fn read_csv(
    path: &Path,
    limits: &Limits,
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
    let delimiter = delimiter_of(enc, &pending);
    let reader = CsvGuard::new(DecodingReader::new(f, enc, pending), *limits, delimiter);
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
                if let csv::ErrorKind::Io(io) = e.kind()
                    && let Some(LimitExceeded(limit)) =
                        io.get_ref().and_then(|r| r.downcast_ref::<LimitExceeded>())
                {
                    return Err(IoError::Format(limit.to_string()));
                }
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

/// An xlsx reading error, in Chinese: what is wrong with the file, not the parser's English.
fn xlsx_error(e: calamine::XlsxError) -> IoError {
    use calamine::XlsxError as E;
    let why = match &e {
        E::Io(io) => return io_problem(io),
        E::Zip(_) => "文件不是完整的 zip 压缩包，可能已损坏或被截断".to_string(),
        E::Vba(_) => "文件中的宏（VBA）无法读取；请另存为不含宏的 .xlsx".to_string(),
        E::FileNotFound(part) => format!(
            "工作簿缺少组成部分“{}”，可能不是 Excel 保存的文件",
            yimeng_domain::text::preview(part, 60)
        ),
        E::RelationshipNotFound => "工作簿的目录信息缺失，可能不是 Excel 保存的文件".to_string(),
        E::Xml(_) | E::XmlAttr(_) | E::XmlEof(_) | E::UnexpectedNode(_) | E::Unexpected(_) => {
            "工作簿内部的 XML 内容有误，文件可能已损坏".to_string()
        }
        E::Parse(_) | E::ParseFloat(_) | E::ParseInt(_) | E::CellTAttribute(_) => {
            "工作表中有无法识别的单元格值".to_string()
        }
        E::Alphanumeric(_)
        | E::NumericColumn(_)
        | E::RangeWithoutColumnComponent
        | E::RangeWithoutRowComponent
        | E::ColumnNumberOverflow
        | E::RowNumberOverflow
        | E::DimensionCount(_) => "工作表中的单元格位置有误，文件可能已损坏".to_string(),
        _ => "工作簿的结构无法识别，文件可能已损坏".to_string(),
    };
    IoError::Format(format!("无法读取 Excel 文件：{why}"))
}

/// An xls reading error, in Chinese.
fn xls_error(e: calamine::XlsError) -> IoError {
    use calamine::XlsError as E;
    let why = match &e {
        E::Io(io) => return io_problem(io),
        E::Password => "文件设有打开密码，请取消密码后再上传".to_string(),
        E::WorksheetNotFound(_) => "找不到工作表".to_string(),
        _ => "文件结构无法识别，可能已损坏或被截断；可在 Excel 中另存为 .xlsx 后再上传".to_string(),
    };
    IoError::Format(format!("无法读取 Excel 文件：{why}"))
}

fn io_problem(io: &std::io::Error) -> IoError {
    IoError::Format(format!(
        "无法读取 Excel 文件：读取失败（{}），文件可能已损坏或被截断",
        io.kind()
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

/// A zip error, in Chinese.
fn zip_error(e: zip::result::ZipError) -> IoError {
    use zip::result::ZipError as E;
    let why = match &e {
        E::Io(io) => return io_problem(io),
        E::UnsupportedArchive(_) | E::CompressionMethodNotSupported(_) | E::InvalidPassword => {
            "工作簿使用了不支持的压缩方式或已加密；请在 Excel 中另存为普通 .xlsx 后再上传"
        }
        _ => "文件不是完整的 zip 压缩包，可能已损坏或被截断",
    };
    IoError::Format(format!("无法读取 Excel 文件：{why}"))
}

fn part_too_big(name: &str, cap: u64) -> IoError {
    IoError::Format(format!(
        "文件解压后超过 {} MB（工作簿中的“{}”部分），不像是导入用的表格；请删除多余内容或拆分后再上传",
        mb(cap),
        yimeng_domain::text::preview(name, 60)
    ))
}

/// Checks every part of an xlsx against its bound before the workbook is opened: the declared
/// inflated size first, then the actual one, by inflating the part through a counter that stops at
/// the bound (a zip can lie about sizes). The shared-strings part, which the workbook reader loads
/// whole and sizes by its declared string count, also has that count checked against its size.
fn check_xlsx_parts<R: Read + Seek>(reader: R, limits: &Limits) -> Result<(), IoError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(zip_error)?;
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(zip_error)?;
        let name = part.name().map_err(zip_error)?.to_string();
        let lower = name.to_ascii_lowercase();
        let shared = lower.ends_with("sharedstrings.xml");
        let cap = if shared {
            limits.shared_strings_bytes
        } else if lower.contains("worksheets/") && lower.ends_with(".xml")
            || !(lower.ends_with(".xml") || lower.ends_with(".rels"))
        {
            limits.inflated_bytes
        } else {
            limits.other_part_bytes
        };
        if part.size() > cap {
            return Err(part_too_big(&name, cap));
        }
        let mut head: Vec<u8> = Vec::new();
        let mut n = 0u64;
        loop {
            let k = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    return Err(IoError::Format(format!(
                        "无法读取 Excel 文件：工作簿中的“{}”部分无法解压，文件可能已损坏",
                        yimeng_domain::text::preview(&name, 60)
                    )));
                }
            };
            n += k as u64;
            if n > cap {
                return Err(part_too_big(&name, cap));
            }
            if shared && head.len() < 4096 {
                head.extend_from_slice(&buf[..k.min(4096 - head.len())]);
            }
        }
        total += n;
        if total > limits.total_inflated_bytes {
            return Err(IoError::Format(format!(
                "文件解压后超过 {} MB，不像是导入用的表格；请拆分后再上传",
                mb(limits.total_inflated_bytes)
            )));
        }
        if shared && let Some(count) = declared_count(&head) {
            // The shortest entry, `<si/>`, is 5 bytes: a larger count is a lie that would make the
            // reader reserve memory for strings that are not there.
            if count > n / 5 + 1 || count > limits.cells {
                return Err(IoError::Format(format!(
                    "无法读取 Excel 文件：共享字符串表声明了 {count} 个字符串，与其 {} 字节的内容不符，文件可能已损坏",
                    n
                )));
            }
        }
    }
    Ok(())
}

/// The `uniqueCount` (or `count`) attribute of a shared-strings part's `<sst>` element.
fn declared_count(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let sst = text.find("<sst").or_else(|| text.find(":sst"))?;
    let tag = &text[sst..];
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    ["uniqueCount=", "count="]
        .iter()
        .filter_map(|attr| {
            let at = tag.find(attr)? + attr.len();
            let v = tag[at..].trim_start_matches(['"', '\'']);
            let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
            // Too many digits to fit is too many strings.
            Some(digits.parse::<u64>().unwrap_or(u64::MAX))
        })
        .max()
}

fn read_xlsx(
    path: &Path,
    limits: &Limits,
    on_header: &mut dyn FnMut(&[String]) -> Result<(), IoError>,
    on_row: &mut dyn FnMut(RawRow<'_>) -> Result<(), IoError>,
) -> Result<(), IoError> {
    let mut file = std::fs::File::open(path).map_err(|e| IoError::io(path, e))?;
    check_xlsx_parts(BufReader::new(&mut file), limits)?;
    file.rewind().map_err(|e| IoError::io(path, e))?;
    // The same open file is read again, so what was checked is what is read.
    let mut wb = calamine::Xlsx::new(BufReader::new(file)).map_err(xlsx_error)?;
    let mut cell_count = 0u64;
    let names = wb.sheet_names().to_vec();
    let mut header: Option<Vec<String>> = None;
    let mut number = 1u64;
    let mut saw_data = false;
    for name in names {
        let mut cells = wb.worksheet_cells_reader(&name).map_err(xlsx_error)?;
        let mut cur_row: Option<u32> = None;
        let mut row_bytes = 0usize;
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
            // Excel does not store empty cells: a row ends at its last filled cell, and the cells
            // up to the header's width exist (empty), unlike a CSV line cut short.
            let mut cells = cells;
            if let Some(h) = header.as_ref()
                && cells.len() < h.len()
            {
                cells.resize(h.len(), String::new());
            }
            let rec: csv::StringRecord = cells.into_iter().collect();
            on_row(RawRow {
                number: *number,
                cells: &rec,
            })
        };
        while let Some(cell) = cells.next_cell().map_err(xlsx_error)? {
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
                row_bytes = 0;
            }
            let c = c as usize;
            cell_count += 1;
            if cell_count > limits.cells {
                return Err(limits.too_many_cells());
            }
            if c >= limits.columns {
                return Err(limits.too_many_columns(u64::from(r) + 1));
            }
            let text = cell_text(cell.get_value());
            if text.len() > limits.cell_bytes {
                return Err(limits.cell_too_long(u64::from(r) + 1, c + 1));
            }
            // Cells can repeat one long shared string: bound the row, not only the cell.
            row_bytes += text.len();
            if row_bytes > limits.row_bytes {
                return Err(limits.row_too_long(u64::from(r) + 1));
            }
            if row.len() <= c {
                row.resize(c + 1, String::new());
            }
            row[c] = text;
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
    limits: &Limits,
    on_header: &mut dyn FnMut(&[String]) -> Result<(), IoError>,
    on_row: &mut dyn FnMut(RawRow<'_>) -> Result<(), IoError>,
) -> Result<(), IoError> {
    // An .xls is parsed whole when opened: bound the file before that.
    let len = std::fs::metadata(path)
        .map_err(|e| IoError::io(path, e))?
        .len();
    if len > limits.xls_bytes {
        return Err(IoError::Format(format!(
            "Excel 97-2003（.xls）文件超过 {} MB；请在 Excel 中另存为 .xlsx 或 .csv 后再上传",
            mb(limits.xls_bytes)
        )));
    }
    let mut wb: calamine::Xls<_> = calamine::open_workbook(path).map_err(xls_error)?;
    let names = wb.sheet_names().to_vec();
    let Some(first) = names.first() else {
        return Err(IoError::Empty);
    };
    let range = wb.worksheet_range(first).map_err(xls_error)?;
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let width = range.width();
    if c0 as usize + width > limits.columns {
        return Err(limits.too_many_columns(u64::from(r0) + 1));
    }
    if (range.height() as u64).saturating_mul(width as u64) > limits.cells {
        return Err(limits.too_many_cells());
    }
    let mut saw_header = false;
    let mut saw_data = false;
    for (i, r) in range.rows().enumerate() {
        let mut cells = vec![String::new(); c0 as usize];
        cells.extend(r.iter().map(|d| cell_text(&data_ref(d))));
        cells.truncate(c0 as usize + width);
        if let Some(c) = cells.iter().position(|c| c.len() > limits.cell_bytes) {
            return Err(limits.cell_too_long(u64::from(r0) + i as u64 + 1, c + 1));
        }
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

    fn read_all(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), IoError> {
        let mut header = Vec::new();
        let mut rows = Vec::new();
        read_table(
            path,
            |h| {
                header = h.to_vec();
                Ok(())
            },
            |r| {
                rows.push(r.cells.iter().map(str::to_string).collect());
                Ok(())
            },
        )?;
        Ok((header, rows))
    }

    #[test]
    fn a_utf16_csv_with_commas_is_comma_separated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let text = "学校标识码,姓名\r\n2137020001,张三\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        let (header, rows) = read_all(&path).unwrap();
        assert_eq!(header, ["学校标识码", "姓名"]);
        assert_eq!(rows, [["2137020001", "张三"]]);
        // Excel's tab-separated "Unicode text" still reads as such.
        let text = "学校标识码\t姓名\r\n2137020001\t张三\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read_all(&path).unwrap().1, [["2137020001", "张三"]]);
    }

    #[test]
    fn a_broken_xlsx_is_explained_in_chinese_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.xlsx");
        std::fs::write(&path, b"PK\x03\x04 not really a zip archive").unwrap();
        let e = read_all(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            "无法读取 Excel 文件：文件不是完整的 zip 压缩包，可能已损坏或被截断"
        );
    }

    #[test]
    fn xlsx_rows_ending_in_empty_cells_are_as_wide_as_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.xlsx");
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in ["学校标识码", "姓名", "学籍状态"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_string(1, 0, "2137020001").unwrap();
        ws.write_string(1, 1, "张三").unwrap();
        wb.save(&path).unwrap();
        let (_, rows) = read_all(&path).unwrap();
        assert_eq!(rows, [["2137020001", "张三", ""]]);
    }

    #[test]
    fn exported_neutralised_cells_import_back() {
        assert_eq!(unneutralize("'=1+1"), "=1+1");
        assert_eq!(unneutralize("'abc"), "'abc");
    }
}
