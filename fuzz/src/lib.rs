//! The fuzz targets' bodies. Each `fuzz_targets/<name>.rs` calls the function of that name here,
//! and the workspace test `crates/yimeng/tests/fuzz_replay.rs` replays the kept corpus
//! (`fuzz/seeds/<name>`) and every crash found so far (`fuzz/regressions/<name>`) through the same
//! functions on the stable toolchain, so a fixed crash stays fixed without nightly or libFuzzer.

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
    // One file per thread: the replay test runs targets on several threads.
    dir.join(format!("input-{:?}.{ext}", std::thread::current().id()))
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

/// A target's body: one input, panics on a finding.
pub type Target = fn(&[u8]);

/// The targets by name, as `cargo fuzz list` names them.
pub const TARGETS: &[(&str, Target)] = &[
    ("admission_exchange", admission_exchange),
    ("class_row", |d| parse_row(d, yimeng_io::Table::Classes)),
    ("csv_reader", |d| read_file(d, "csv")),
    ("id_card", id_card),
    ("plan", plan),
    ("school_row", |d| parse_row(d, yimeng_io::Table::Schools)),
    ("staff_row", |d| parse_row(d, yimeng_io::Table::Staff)),
    ("student_no", student_no),
    ("student_row", |d| parse_row(d, yimeng_io::Table::Students)),
    ("xlsx_reader", |d| read_file(d, "xlsx")),
];

/// Parses `data` as an ID number; a parsed number is canonical (it parses to itself) and its
/// parts are readable.
pub fn id_card(data: &[u8]) {
    use yimeng_domain::IdCardNo;
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = IdCardNo::parse(s) {
        assert_eq!(IdCardNo::parse(id.as_str()).as_ref(), Ok(&id));
        let _ = (id.sex(), id.birth_date(), id.masked());
    }
}

/// Parses `data` as a 学籍号; a parsed number is canonical and survives its compact key.
pub fn student_no(data: &[u8]) {
    use yimeng_domain::StudentNo;
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(no) = StudentNo::parse(s) {
        assert_eq!(StudentNo::parse(no.as_str()).as_ref(), Ok(&no));
        assert_eq!(StudentNo::from_key(no.key()), no);
        let _ = (no.kind(), no.masked(), no.check_id_presence(None));
    }
}

/// Parses `data` as a plan file.
pub fn plan(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = yimeng_domain::plan::Plan::parse(text);
    }
}

/// Reads `data` as up to four admission exchange files separated by NUL bytes (candidates.csv,
/// schools.csv, quotas.csv, policy.toml; the last two optional) and, when they load and are small,
/// runs the admission.
pub fn admission_exchange(data: &[u8]) {
    use yimeng_engine::admission::exchange::{Source, Sources, load};
    let mut parts = data.splitn(4, |b| *b == 0);
    let src = |name, bytes| Source { name, bytes };
    let candidates = src("candidates.csv", parts.next().unwrap_or_default());
    let schools = src("schools.csv", parts.next().unwrap_or_default());
    let quotas = parts.next().map(|b| src("quotas.csv", b));
    let policy = parts.next().map(|b| src("policy.toml", b));
    let sources = Sources {
        candidates,
        schools,
        quotas,
        policy,
    };
    if let Ok((instance, policy)) = load(&sources)
        && instance.candidates.len() <= 2_000
    {
        let _ = yimeng_engine::admission::admit(&instance, &policy);
    }
}
