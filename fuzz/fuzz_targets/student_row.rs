#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yimeng_fuzz::parse_row(data, yimeng_io::Table::Students));
