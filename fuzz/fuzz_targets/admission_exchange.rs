#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yimeng_fuzz::admission_exchange(data));
