//! `yimeng rollover`: the year rollover on a demo city, counted before and after.

use super::{out, yimeng};
use std::path::Path;

/// (classes, students on the register (在读, 休学, 复学), graduates) over the whole city.
fn totals(db: &Path) -> (i64, i64, i64) {
    let o = yimeng(db, &["stats", "--json"]);
    assert!(o.status.success(), "{}", out(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stats json");
    let (mut classes, mut on_register, mut graduates) = (0, 0, 0);
    for r in rows.as_array().unwrap() {
        let c = &r["counts"];
        classes += c["classes"].as_i64().unwrap_or(0);
        for s in ["01", "02", "05"] {
            on_register += c["students"][s].as_i64().unwrap_or(0);
        }
        graduates += c["students"]["07"].as_i64().unwrap_or(0);
    }
    (classes, on_register, graduates)
}

/// The 合计 line: (promoted, graduated, classes created).
fn total_line(text: &str) -> (i64, i64, i64) {
    let line = text
        .lines()
        .find(|l| l.starts_with("合计"))
        .unwrap_or_else(|| panic!("no total in {text}"));
    let n: Vec<i64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn rollover_promotes_graduates_and_creates_classes_once_and_the_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roll.db");
    let o = yimeng(&db, &["demo", "--scale", "0.01"]);
    assert!(o.status.success(), "{}", out(&o));
    let before = totals(&db);

    let dry = yimeng(&db, &["rollover", "--year", "2021", "--dry-run"]);
    assert!(dry.status.success(), "{}", out(&dry));
    let dry_text = out(&dry);
    assert!(
        dry_text.contains("试运行") && dry_text.contains("兰山区"),
        "{dry_text}"
    );
    let planned = total_line(&dry_text);
    assert!(
        planned.0 > 0 && planned.1 > 0 && planned.2 > 0,
        "{planned:?}"
    );
    assert_eq!(totals(&db), before, "a dry run writes nothing");

    let run = yimeng(&db, &["rollover", "--year", "2021"]);
    assert!(run.status.success(), "{}", out(&run));
    let done = total_line(&out(&run));
    assert_eq!(done, planned, "the run does what the dry run counted");
    let after = totals(&db);
    assert_eq!(
        after.0,
        before.0 + done.2,
        "classes of the new year created"
    );
    assert_eq!(after.1, before.1 - done.1, "graduates leave the register");
    assert_eq!(after.2, before.2 + done.1, "graduates counted as 毕业");

    // Once per school year.
    let again = yimeng(&db, &["rollover", "--year", "2021"]);
    assert!(!again.status.success());
    assert!(out(&again).contains("已经执行过"), "{}", out(&again));
    assert_eq!(totals(&db), after);
}
