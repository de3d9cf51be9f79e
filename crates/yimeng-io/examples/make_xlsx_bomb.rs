//! Writes an xlsx whose shared strings inflate to about MB megabytes (default 400) while the file
//! stays small: the decompression bomb of the bureau's security review, for measuring the reader.
//!
//! `cargo run --release -p yimeng-io --example make_xlsx_bomb -- OUT.xlsx [MB]`

use std::io::Write;
use zip::write::SimpleFileOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: make_xlsx_bomb OUT.xlsx [MB]")?;
    let mb: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(400);
    let mut z = zip::ZipWriter::new(std::io::BufWriter::new(std::fs::File::create(&out)?));
    let o = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    let parts: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#,
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
    for (name, body) in parts {
        z.start_file(name, o)?;
        z.write_all(body.as_bytes())?;
    }
    z.start_file("xl/worksheets/sheet1.xml", o)?;
    z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>"#)?;
    z.start_file("xl/sharedStrings.xml", o)?;
    z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>abc</t></si>"#)?;
    // Many distinct-looking small strings, as a real roster's shared strings would be.
    let chunk = "<si><t>临沂市兰山区</t></si>".repeat(4096);
    let mut n = 0u64;
    while n < mb << 20 {
        z.write_all(chunk.as_bytes())?;
        n += chunk.len() as u64;
    }
    z.write_all(b"</sst>")?;
    z.finish()?.flush()?;
    println!(
        "{out}: {} bytes, shared strings {} MB inflated",
        std::fs::metadata(&out)?.len(),
        n >> 20
    );
    Ok(())
}
