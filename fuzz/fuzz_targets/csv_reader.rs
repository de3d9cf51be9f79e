#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yimeng_fuzz::read_file(data, "csv"));
