//! The xlsx side of [`crate::TableWriter`]: sheet XML written straight into the zip entry and
//! deflated on a second thread while the rows are still being written.
//!
//! Written by hand because no maintained crate does this. rust_xlsxwriter (used for the import
//! templates) writes a constant-memory sheet to a temporary file and deflates all of it when the
//! workbook is saved, on the calling thread: for the full students table that is about 1 GB of
//! XML written, read back and compressed one step after the other, 5× the time of the CSV. Here
//! the XML of a few hundred rows is handed to a thread that deflates it (the `zip` crate) as the
//! next rows are formatted, so the export costs about the larger of the two halves. The parts
//! besides the sheets are the fixed minimum a workbook needs (ECMA-376 Part 1, §12.2, §18.2–18.8).

use crate::IoError;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// Style index of the header row (bold, light blue fill).
pub const STYLE_HEAD: u8 = 1;
/// Style index of a date written as text, formatted yyyy-mm-dd.
pub const STYLE_DATE: u8 = 2;
/// Style index of text that a spreadsheet must not take as a formula (quote prefix).
pub const STYLE_QUOTED: u8 = 3;

/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;

/// XML handed to the deflate thread in pieces of about this size.
const PIECE: usize = 256 * 1024;

/// Pieces in flight between the formatting and the deflate thread.
const PIECES_IN_FLIGHT: usize = 8;

/// Deflate level of the sheets. Level 1 with zlib-rs compresses the repetitive sheet XML to within
/// a few percent of level 3, at about twice the speed.
const LEVEL: i64 = 1;

enum Msg {
    /// Start the sheet entry with this number (1-based).
    Sheet(usize),
    /// XML of the current sheet.
    Xml(Vec<u8>),
    /// The workbook is complete: write the other parts with these sheet names and close.
    Finish(Vec<String>),
}

/// A workbook being written sheet by sheet.
pub struct XlsxStream {
    tx: Option<SyncSender<Msg>>,
    /// Pieces the deflate thread is done with, to fill again (no fresh pages per piece).
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<Result<(), IoError>>>,
    path: PathBuf,
    /// XML not yet handed over.
    buf: Vec<u8>,
    names: Vec<String>,
    /// Column letters, "A" onwards, for the header's width.
    letters: Vec<String>,
    widths: Vec<f64>,
    /// The 1-based row number of the next row in the current sheet.
    row: u32,
    /// Cell position in the current row.
    col: usize,
    num: itoa::Buffer,
}

impl XlsxStream {
    /// Creates the file and starts the deflate thread. `widths` are the column widths, one per
    /// column.
    pub fn create(path: &Path, widths: Vec<f64>) -> Result<XlsxStream, IoError> {
        let file = std::fs::File::create(path).map_err(|e| IoError::io(path, e))?;
        let (tx, rx) = sync_channel(PIECES_IN_FLIGHT);
        let (back, spare) = channel();
        let p = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("xlsx-deflate".into())
            .spawn(move || deflate(rx, back, BufWriter::with_capacity(1 << 20, file), &p))
            .map_err(|e| IoError::io(path, e))?;
        Ok(XlsxStream {
            tx: Some(tx),
            spare,
            thread: Some(thread),
            path: path.to_path_buf(),
            buf: Vec::with_capacity(PIECE + 64 * 1024),
            names: Vec::new(),
            letters: (0..widths.len()).map(column_letters).collect(),
            widths,
            row: 1,
            col: 0,
            num: itoa::Buffer::new(),
        })
    }

    /// Ends the current sheet (if any) and starts a new one named `name`, its first row frozen.
    pub fn start_sheet(&mut self, name: &str) -> Result<(), IoError> {
        self.end_sheet()?;
        self.names.push(name.to_string());
        self.send(Msg::Sheet(self.names.len()))?;
        self.buf.extend_from_slice(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
              <worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
              xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
              <sheetViews><sheetView workbookViewId=\"0\"",
        );
        if self.names.len() == 1 {
            self.buf.extend_from_slice(b" tabSelected=\"1\"");
        }
        self.buf.extend_from_slice(
            b"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>\
              <selection pane=\"bottomLeft\"/></sheetView></sheetViews>\
              <sheetFormatPr defaultRowHeight=\"15\"/>",
        );
        if !self.widths.is_empty() {
            self.buf.extend_from_slice(b"<cols>");
            for (i, w) in self.widths.iter().enumerate() {
                let n = i + 1;
                let _ = write!(
                    self.buf,
                    "<col min=\"{n}\" max=\"{n}\" width=\"{w:.2}\" customWidth=\"1\"/>"
                );
            }
            self.buf.extend_from_slice(b"</cols>");
        }
        self.buf.extend_from_slice(b"<sheetData>");
        self.row = 1;
        Ok(())
    }

    fn end_sheet(&mut self) -> Result<(), IoError> {
        if self.names.is_empty() {
            return Ok(());
        }
        self.buf.extend_from_slice(b"</sheetData></worksheet>");
        let piece = std::mem::take(&mut self.buf);
        self.send(Msg::Xml(piece))
    }

    /// Opens a row.
    pub fn start_row(&mut self) {
        self.buf.extend_from_slice(b"<row r=\"");
        self.buf
            .extend_from_slice(self.num.format(self.row).as_bytes());
        self.buf.extend_from_slice(b"\">");
        self.col = 0;
    }

    /// Closes the row; hands the XML over when enough has gathered.
    pub fn end_row(&mut self) -> Result<(), IoError> {
        self.buf.extend_from_slice(b"</row>");
        self.row += 1;
        if self.buf.len() >= PIECE {
            let next = self
                .spare
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(PIECE + 64 * 1024));
            let piece = std::mem::replace(&mut self.buf, next);
            self.send(Msg::Xml(piece))?;
        }
        Ok(())
    }

    /// Leaves the next cell empty.
    pub fn skip(&mut self) {
        self.col += 1;
    }

    fn cell_open(&mut self, style: u8) {
        self.buf.extend_from_slice(b"<c r=\"");
        match self.letters.get(self.col) {
            Some(l) => self.buf.extend_from_slice(l.as_bytes()),
            None => self
                .buf
                .extend_from_slice(column_letters(self.col).as_bytes()),
        }
        self.buf
            .extend_from_slice(self.num.format(self.row).as_bytes());
        self.buf.push(b'"');
        if style != 0 {
            self.buf.extend_from_slice(b" s=\"");
            self.buf.push(b'0' + style);
            self.buf.push(b'"');
        }
        self.col += 1;
    }

    /// A text cell (an inline string).
    pub fn text(&mut self, s: &str, style: u8) -> Result<(), IoError> {
        if s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS {
            return Err(IoError::Xlsx(format!(
                "第 {} 行第 {} 列的文字超过 Excel 单元格上限 {MAX_CELL_CHARS} 个字符",
                self.row,
                self.col + 1
            )));
        }
        self.cell_open(style);
        self.buf.extend_from_slice(b" t=\"inlineStr\"><is><t");
        if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
            self.buf.extend_from_slice(b" xml:space=\"preserve\"");
        }
        self.buf.push(b'>');
        escape_into(&mut self.buf, s);
        self.buf.extend_from_slice(b"</t></is></c>");
        Ok(())
    }

    /// A number cell.
    pub fn int(&mut self, n: i64) {
        self.cell_open(0);
        self.buf.extend_from_slice(b"><v>");
        self.buf.extend_from_slice(self.num.format(n).as_bytes());
        self.buf.extend_from_slice(b"</v></c>");
    }

    fn send(&mut self, m: Msg) -> Result<(), IoError> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(m).is_ok());
        if sent {
            Ok(())
        } else {
            // The deflate thread stopped: its error says why.
            Err(self
                .join()
                .err()
                .unwrap_or_else(|| IoError::Xlsx("写入 xlsx 文件的线程已退出".into())))
        }
    }

    fn join(&mut self) -> Result<(), IoError> {
        self.tx = None;
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(IoError::Xlsx("写入 xlsx 文件的线程异常退出".into()))),
            None => Ok(()),
        }
    }

    /// Ends the last sheet, writes the workbook parts and closes the file.
    pub fn finish(mut self) -> Result<(), IoError> {
        self.end_sheet()?;
        let names = std::mem::take(&mut self.names);
        self.send(Msg::Finish(names))?;
        let path = self.path.clone();
        self.join().map_err(|e| match e {
            IoError::Xlsx(m) => IoError::Xlsx(format!("{}：{m}", path.display())),
            e => e,
        })
    }
}

impl Drop for XlsxStream {
    fn drop(&mut self) {
        // An unfinished workbook: let the thread see the closed channel and stop.
        let _ = self.join();
    }
}

/// The deflate thread: writes each sheet's XML into its zip entry as it arrives, then the parts
/// that list the sheets.
fn deflate(
    rx: Receiver<Msg>,
    back: Sender<Vec<u8>>,
    out: BufWriter<std::fs::File>,
    path: &Path,
) -> Result<(), IoError> {
    let ze = |e: zip::result::ZipError| IoError::Xlsx(e.to_string());
    let ie = |e: std::io::Error| IoError::io(path, e);
    let mut zip = ZipWriter::new(out);
    let sheet_opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(LEVEL));
    let part_opts =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    while let Ok(m) = rx.recv() {
        match m {
            Msg::Sheet(n) => {
                zip.start_file(format!("xl/worksheets/sheet{n}.xml"), sheet_opts)
                    .map_err(ze)?;
            }
            Msg::Xml(mut x) => {
                zip.write_all(&x).map_err(ie)?;
                x.clear();
                // The writer may have finished already; then the piece is simply dropped.
                let _ = back.send(x);
            }
            Msg::Finish(names) => {
                for (name, body) in parts(&names) {
                    zip.start_file(name, part_opts).map_err(ze)?;
                    zip.write_all(body.as_bytes()).map_err(ie)?;
                }
                let mut out = zip.finish().map_err(ze)?;
                out.flush().map_err(ie)?;
                return Ok(());
            }
        }
    }
    // The writer was dropped before it finished: leave the partial file to the caller.
    Ok(())
}

/// The workbook parts other than the sheets.
fn parts(names: &[String]) -> Vec<(String, String)> {
    const XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
    let mut types = String::from(XML);
    types.push_str(
        "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>",
    );
    let mut sheets = String::new();
    let mut rels = String::from(XML);
    rels.push_str(
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    );
    for (i, name) in names.iter().enumerate() {
        let n = i + 1;
        types.push_str(&format!(
            "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        ));
        let mut esc = Vec::new();
        escape_into(&mut esc, name);
        sheets.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>",
            String::from_utf8_lossy(&esc).replace('"', "&quot;")
        ));
        rels.push_str(&format!(
            "<Relationship Id=\"rId{n}\" \
             Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" \
             Target=\"worksheets/sheet{n}.xml\"/>"
        ));
    }
    types.push_str("</Types>");
    let styles_id = names.len() + 1;
    rels.push_str(&format!(
        "<Relationship Id=\"rId{styles_id}\" \
         Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" \
         Target=\"styles.xml\"/></Relationships>"
    ));
    let workbook = format!(
        "{XML}<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
         <bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
    );
    let root_rels = format!(
        "{XML}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" \
         Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" \
         Target=\"xl/workbook.xml\"/></Relationships>"
    );
    // Cell formats, in the order of the STYLE_ constants: default, header, date text, quoted.
    let styles = format!(
        "{XML}<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
         <numFmts count=\"1\"><numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\"/></numFmts>\
         <fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>\
         <font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>\
         <fills count=\"3\"><fill><patternFill patternType=\"none\"/></fill>\
         <fill><patternFill patternType=\"gray125\"/></fill>\
         <fill><patternFill patternType=\"solid\"><fgColor rgb=\"FFDDE7F3\"/><bgColor indexed=\"64\"/></patternFill></fill></fills>\
         <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
         <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
         <cellXfs count=\"4\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
         <xf numFmtId=\"0\" fontId=\"1\" fillId=\"2\" borderId=\"0\" xfId=\"0\" applyFont=\"1\" applyFill=\"1\"/>\
         <xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>\
         <xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" quotePrefix=\"1\"/></cellXfs>\
         <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
         </styleSheet>"
    );
    vec![
        ("[Content_Types].xml".into(), types),
        ("_rels/.rels".into(), root_rels),
        ("xl/workbook.xml".into(), workbook),
        ("xl/_rels/workbook.xml.rels".into(), rels),
        ("xl/styles.xml".into(), styles),
    ]
}

/// "A", "B", … "Z", "AA", … for a 0-based column.
fn column_letters(mut c: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Escapes text for an XML element: the three markup characters, and the control characters XML
/// 1.0 cannot hold as `_xHHHH_` (the form Excel reads back); a literal `_xHHHH_` in the text has its
/// underscore escaped so it is not read as one.
fn escape_into(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let rep: Option<&[u8]> = match c {
            b'&' => Some(b"&amp;"),
            b'<' => Some(b"&lt;"),
            b'>' => Some(b"&gt;"),
            b'_' if looks_escaped(&b[i..]) => Some(b"_x005F_"),
            0..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F => None,
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        match rep {
            Some(r) => out.extend_from_slice(r),
            None => {
                let _ = write!(out, "_x{:04X}_", c);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
}

/// True when `b` starts with `_xHHHH_`.
fn looks_escaped(b: &[u8]) -> bool {
    b.len() >= 7 && b[1] == b'x' && b[2..6].iter().all(u8::is_ascii_hexdigit) && b[6] == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_run_as_excel_names_them() {
        let got: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(got, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn text_is_escaped_for_xml_and_excel() {
        let mut out = Vec::new();
        escape_into(&mut out, "a<b>&c\u{1}d_x0041_e_x4");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a&lt;b&gt;&amp;c_x0001_d_x005F_x0041_e_x4"
        );
    }
}
