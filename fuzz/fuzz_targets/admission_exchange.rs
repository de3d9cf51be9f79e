#![no_main]

use yimeng_engine::admission::exchange::{Source, Sources, load};

// The input is up to four files separated by NUL bytes: candidates.csv, schools.csv, quotas.csv,
// policy.toml (the last two optional).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
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
});
