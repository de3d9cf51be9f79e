#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yimeng_fuzz::id_card(data));
