//! Shared helpers of the fuzz targets.

use std::path::PathBuf;
use std::sync::OnceLock;

/// A file path of this process, with the given extension, to hand bytes to a path-based reader.
pub fn scratch(ext: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("yimeng-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    });
    dir.join(format!("input.{ext}"))
}

/// Reads `data` as a table file with extension `ext`, with bounds small enough for a fuzzer, and
/// checks what every successful read promises: a header came first and rows are numbered upward.
pub fn read_file(data: &[u8], ext: &str) {
    let path = scratch(ext);
    std::fs::write(&path, data).expect("write scratch file");
    let limits = yimeng_io::Limits {
        inflated_bytes: 64 << 20,
        total_inflated_bytes: 128 << 20,
        shared_strings_bytes: 16 << 20,
        other_part_bytes: 16 << 20,
        xls_bytes: 16 << 20,
        cells: 1_000_000,
        ..yimeng_io::Limits::DEFAULT
    };
    let header = std::cell::Cell::new(false);
    let mut last = 1u64;
    let r = yimeng_io::read_table_with(
        &path,
        &limits,
        |h| {
            assert!(!header.get(), "header twice");
            assert!(h.len() <= limits.columns);
            header.set(true);
            Ok(())
        },
        |row| {
            assert!(header.get(), "row before header");
            assert!(row.number > last, "row numbers go up");
            last = row.number;
            assert!(row.cells.iter().all(|c| c.len() <= limits.cell_bytes));
            Ok(())
        },
    );
    if r.is_ok() {
        assert!(header.get());
    }
}

/// Parses `data` as one row of `table`: the cells are the tab-separated parts of the text, under
/// the table's full template header.
pub fn parse_row(data: &[u8], table: yimeng_io::Table) {
    let text = String::from_utf8_lossy(data);
    let header: Vec<String> = table
        .columns()
        .iter()
        .map(|c| c.header.to_string())
        .collect();
    let map = yimeng_io::HeaderMap::new(table, &header).expect("template header");
    let cells: csv::StringRecord = text.split('\t').collect();
    let ctx = yimeng_io::records::ParseCtx {
        today: chrono::NaiveDate::from_ymd_opt(2020, 10, 1).expect("date"),
    };
    let _ = yimeng_io::records::parse_row(&map, &cells, &ctx);
}
