//! Builders for test files.

use std::io::Write;
use std::path::Path;
use yimeng_io::{IoError, Limits};
use zip::write::SimpleFileOptions;

/// Reads a file, returning the header and the data rows.
pub fn read(path: &Path, limits: &Limits) -> Result<(Vec<String>, Vec<Vec<String>>), IoError> {
    let mut header = Vec::new();
    let mut rows = Vec::new();
    yimeng_io::read_table_with(
        path,
        limits,
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

/// A part of a workbook: its name and a function writing its content.
pub type Part<'a> = (&'a str, &'a mut dyn FnMut(&mut dyn Write));

/// Writes a minimal xlsx: one sheet, `sheet` writes the rows inside `<sheetData>`, `extra` parts
/// (such as `xl/sharedStrings.xml`) are added as given.
pub fn xlsx(path: &Path, sheet: &mut dyn FnMut(&mut dyn Write), extra: &mut [Part<'_>]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(std::io::BufWriter::new(f));
    let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let fixed: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
    ];
    for (name, body) in fixed {
        z.start_file(name, o).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.start_file("xl/worksheets/sheet1.xml", o).unwrap();
    z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#).unwrap();
    sheet(&mut z);
    z.write_all(b"</sheetData></worksheet>").unwrap();
    for (name, body) in extra.iter_mut() {
        z.start_file(*name, o).unwrap();
        body(&mut z);
    }
    z.finish().unwrap().flush().unwrap();
}

/// A row of inline-string cells.
pub fn inline_row(w: &mut dyn Write, r: u32, cells: &[&str]) {
    write!(w, r#"<row r="{r}">"#).unwrap();
    for (i, c) in cells.iter().enumerate() {
        let col = (b'A' + i as u8) as char;
        write!(
            w,
            r#"<c r="{col}{r}" t="inlineStr"><is><t>{c}</t></is></c>"#
        )
        .unwrap();
    }
    w.write_all(b"</row>").unwrap();
}

/// Writes a shared-strings part of about `bytes` bytes (one long run of short strings) declaring
/// `count` strings.
pub fn shared_strings(w: &mut dyn Write, count: &str, bytes: u64) {
    write!(
        w,
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{count}" uniqueCount="{count}">"#
    )
    .unwrap();
    let chunk = "<si><t>临沂市兰山区</t></si>".repeat(2048);
    let mut n = 0u64;
    while n < bytes {
        w.write_all(chunk.as_bytes()).unwrap();
        n += chunk.len() as u64;
    }
    w.write_all(b"</sst>").unwrap();
}
