#![no_main]

use yimeng_domain::StudentNo;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(no) = StudentNo::parse(s) {
        // A parsed number is canonical and survives its compact key.
        assert_eq!(StudentNo::parse(no.as_str()).as_ref(), Ok(&no));
        assert_eq!(StudentNo::from_key(no.key()), no);
        let _ = (no.kind(), no.masked(), no.check_id_presence(None));
    }
});
