//! Replays the fuzzers' kept corpus and every crash they found through the fuzz targets' own
//! bodies (`fuzz/src/lib.rs`), on the stable toolchain: a reader, parser or engine that panics on
//! an input once found by fuzzing fails this test. `scripts/fuzz` keeps the corpus
//! (`fuzz/seeds/<target>`, minimised with `cargo fuzz cmin`) and crashes
//! (`fuzz/regressions/<target>`).

#[allow(dead_code)]
#[path = "../../../fuzz/src/lib.rs"]
mod fuzz;

use std::path::Path;

fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_kept_fuzz_input_runs_through_its_target_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for (name, run) in fuzz::TARGETS {
        let mut seeds = inputs(&root.join("seeds").join(name));
        if *name == "plan" {
            // As `scripts/fuzz` seeds it: the plan files the product ships.
            seeds.extend(inputs(&root.join("../plans")));
        }
        assert!(!seeds.is_empty(), "fuzz/seeds/{name} holds no input");
        for file in seeds
            .iter()
            .chain(inputs(&root.join("regressions").join(name)).iter())
        {
            let data = std::fs::read(file).expect("read fuzz input");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{name}: {} panics", file.display());
            replayed += 1;
        }
    }
    assert!(replayed >= fuzz::TARGETS.len());
}

#[test]
fn every_fuzz_target_is_replayed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    let mut files: Vec<String> = inputs(&root)
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    files.sort();
    let mut named: Vec<String> = fuzz::TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    named.sort();
    assert_eq!(files, named, "fuzz_targets/*.rs and fuzz::TARGETS differ");
}
