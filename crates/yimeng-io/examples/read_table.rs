//! Reads a table file as an import does and prints the row count or the error: the figure behind
//! the peak-memory measurements in docs/benchmarks.md (`/usr/bin/time -v`).
//!
//! `cargo run --release -p yimeng-io --example read_table -- FILE`

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: read_table FILE");
        std::process::exit(2);
    };
    let mut rows = 0u64;
    let r = yimeng_io::read_table(
        std::path::Path::new(&path),
        |_| Ok(()),
        |_| {
            rows += 1;
            Ok(())
        },
    );
    match r {
        Ok(info) => println!("{} rows ({})", rows, info.format),
        Err(e) => {
            println!("refused: {e}");
            std::process::exit(1);
        }
    }
}
