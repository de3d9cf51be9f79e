#![no_main]

use yimeng_domain::IdCardNo;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = IdCardNo::parse(s) {
        // A parsed number is canonical: it parses to itself, and its parts are readable.
        assert_eq!(IdCardNo::parse(id.as_str()).as_ref(), Ok(&id));
        let _ = (id.sex(), id.birth_date(), id.masked());
    }
});
