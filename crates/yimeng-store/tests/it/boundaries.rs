//! The store is the only way to the data: no other crate names sqlx or the raw query API, only
//! the test kit enables the `testing` feature, only the binary opens a system context, and no
//! product code outside the store, the domain and the authentication layer makes up a city scope.

use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_path_buf()
}

/// Every file under `dir` whose name ends with `suffix`, skipping build output.
fn files(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            files(&p, suffix, out);
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
}

/// `(crate name, path inside the crate, text)` of every `Cargo.toml` and `*.rs` under crates/.
fn sources() -> Vec<(String, String, String)> {
    let root = crates_dir();
    let mut paths = Vec::new();
    files(&root, ".rs", &mut paths);
    files(&root, "Cargo.toml", &mut paths);
    let mut v = Vec::new();
    for p in paths {
        let rel = p.strip_prefix(&root).expect("under crates/").to_path_buf();
        let mut parts = rel.iter();
        let krate = parts.next().expect("crate").to_string_lossy().to_string();
        let inner = parts.as_path().to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(&p).expect("readable source");
        v.push((krate, inner, text));
    }
    assert!(
        v.iter()
            .any(|(k, p, _)| k == "yimeng-web" && p == "src/lib.rs"),
        "the web crate's sources were not found under {}",
        root.display()
    );
    v
}

/// Offending `crate/path:line: text` for lines of `files` matching `bad`.
fn offences(
    files: &[(String, String, String)],
    keep: impl Fn(&str, &str) -> bool,
    bad: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, p, text) in files {
        if !keep(k, p) {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            if bad(line) {
                out.push(format!("{k}/{p}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    out
}

const SQL_OWNERS: [&str; 2] = ["yimeng-store", "yimeng-sqlite-rows"];

#[test]
fn no_crate_but_the_store_names_sqlx() {
    let all = sources();
    let found = offences(
        &all,
        |k, _| !SQL_OWNERS.contains(&k),
        |l| l.contains("sqlx"),
    );
    assert!(
        found.is_empty(),
        "sqlx named outside the store:\n{}",
        found.join("\n")
    );
}

/// The raw query API's names as another crate would spell them (whole paths only:
/// `yimeng_store::db::SqliteSync` is not `yimeng_store::db::Sql`).
fn names_raw_api(line: &str) -> bool {
    let l = line.replace(' ', "");
    [
        "yimeng_store::testing",
        "yimeng_store::Sql",
        "yimeng_store::Tx",
        "yimeng_store::Value",
        "yimeng_store::db::Sql",
        "yimeng_store::db::Tx",
        "yimeng_store::db::Value",
        "RawQuery",
    ]
    .iter()
    .any(|path| names_path(&l, path))
        || (l.starts_with("useyimeng_store::{") && (names_path(&l, "Sql") || l.contains("Tx,")))
}

/// Whether `path` stands in `line` as a whole name (not the start of a longer identifier).
fn names_path(line: &str, path: &str) -> bool {
    line.match_indices(path).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + path.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(after) && (!ident(before) || path.contains("::"))
    })
}

#[test]
fn no_product_source_outside_the_store_names_the_raw_query_api() {
    let all = sources();
    // Tests and the test kit may read what the store wrote (feature `testing`); product code may not.
    let found = offences(
        &all,
        |k, p| k != "yimeng-store" && k != "yimeng-testkit" && p.starts_with("src/"),
        names_raw_api,
    );
    assert!(
        found.is_empty(),
        "raw query API named in product code:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_test_kit_enables_the_testing_feature() {
    let all = sources();
    let found = offences(
        &all,
        |k, p| p == "Cargo.toml" && k != "yimeng-store" && k != "yimeng-testkit",
        |l| l.contains("\"testing\"") || l.contains("yimeng-store/testing"),
    );
    assert!(
        found.is_empty(),
        "feature `testing` enabled outside the test kit:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_binary_opens_a_system_context() {
    let all = sources();
    let found = offences(
        &all,
        |k, p| {
            k != "yimeng" && k != "yimeng-store" && k != "yimeng-testkit" && p.starts_with("src/")
        },
        |l| l.contains("SystemContext::new"),
    );
    assert!(
        found.is_empty(),
        "system context opened outside the binary:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_product_code_outside_the_store_and_authentication_makes_up_a_scope() {
    let all = sources();
    // A pattern (`matches!(…, Scope::City)`, a match arm, `let Scope::School(s) = … else`) reads
    // a scope; anything else builds one. Narrowing goes through `Scope::narrow_to_*`.
    let found = offences(
        &all,
        |k, p| {
            !matches!(k, "yimeng-store" | "yimeng-domain" | "yimeng-testkit")
                && p.starts_with("src/")
                && !(k == "yimeng-web" && p == "src/auth.rs")
        },
        |l| {
            [
                "Scope::City",
                "Scope::County(",
                "Scope::School(",
                "Scope::Schools(",
            ]
            .iter()
            .any(|v| l.contains(v))
                && !l.contains("matches!(")
                && !l.contains("=>")
                && !l.trim_start().starts_with("let Scope::")
        },
    );
    assert!(
        found.is_empty(),
        "scope made up outside the store:\n{}",
        found.join("\n")
    );
}
