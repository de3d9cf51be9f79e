//! The shape of the web crate, read from its source: feature modules (`pages/<feature>.rs`,
//! `api/<feature>.rs`) depend on the shared kit (`kit/`) and on `service/`, never on each other;
//! the API never reaches into the page modules; the kit and the services know no feature module.

use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `(path under src/, text)` of every `.rs` file under `src/`.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir)
            .expect("readable source dir")
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).expect("under src/");
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).expect("readable source")));
            }
        }
    }
    let root = src_dir();
    let mut v = Vec::new();
    walk(&root, &root, &mut v);
    assert!(
        v.iter().any(|(p, _)| p == "pages/mod.rs") && v.iter().any(|(p, _)| p == "kit/mod.rs"),
        "the web crate's pages and kit were not found under {}",
        root.display()
    );
    v
}

/// The feature page modules: every file under `pages/` but `mod.rs`.
fn features(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter_map(|(p, _)| p.strip_prefix("pages/")?.strip_suffix(".rs"))
        .filter(|m| *m != "mod")
        .map(str::to_string)
        .collect()
}

/// The code of a line (comments are not imports).
fn code(line: &str) -> &str {
    let t = line.trim_start();
    if t.starts_with("//") {
        return "";
    }
    match line.find("//") {
        // `//` inside a string literal (a URL) is kept; a trailing comment is cut.
        Some(i) if !line[..i].contains('"') => &line[..i],
        _ => line,
    }
}

/// Whether `text` names `module` through `prefix` (e.g. `super::` + `plan` + `::`, or `{plan`).
fn names(text: &str, prefix: &str, module: &str) -> bool {
    let needle = format!("{prefix}{module}");
    text.match_indices(&needle).any(|(i, _)| {
        let after = &text[i + needle.len()..];
        let before_ok = !text[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after_ok = after.starts_with("::") || after.starts_with(';');
        (prefix.is_empty() && before_ok || !prefix.is_empty()) && after_ok
    })
}

/// Offending `path:line: text` for the lines of `files` (kept by `keep`) that `bad` flags.
fn offences(
    files: &[(String, String)],
    keep: impl Fn(&str) -> bool,
    bad: impl Fn(&str, &str) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files.iter().filter(|(p, _)| keep(p)) {
        for (n, line) in text.lines().enumerate() {
            let c = code(line);
            if !c.is_empty() && bad(path, c) {
                out.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    out
}

/// A line of an API module that uses a page module.
fn api_uses_pages(line: &str) -> bool {
    line.contains("crate::pages") || line.contains("super::pages") || names(line, "", "pages")
}

/// A line of the page module `me` that uses another feature page module.
fn page_uses_feature(features: &[String], me: &str, line: &str) -> bool {
    line.contains("crate::pages::")
        || features
            .iter()
            .filter(|f| f.as_str() != me)
            .any(|f| names(line, "super::", f) || names(line, "pages::", f))
}

#[test]
fn the_api_does_not_import_page_modules() {
    let files = sources();
    let bad = offences(
        &files,
        |p| p == "api.rs" || p.starts_with("api/"),
        |_, l| api_uses_pages(l),
    );
    assert!(
        bad.is_empty(),
        "API modules must use the kit (`kit/`) or the services (`service/`), not the pages:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_feature_page_module_imports_another() {
    let files = sources();
    let features = features(&files);
    assert!(features.len() > 10, "feature modules found: {features:?}");
    let bad = offences(
        &files,
        |p| p.starts_with("pages/") && p != "pages/mod.rs",
        |p, l| {
            let me = p.trim_start_matches("pages/").trim_end_matches(".rs");
            page_uses_feature(&features, me, l)
        },
    );
    assert!(
        bad.is_empty(),
        "a feature module depends on the kit and the services, never on another feature:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_kit_and_the_services_know_no_feature_module() {
    let files = sources();
    let bad = offences(
        &files,
        |p| p.starts_with("kit/") || p.starts_with("service/") || p == "view.rs",
        |_, l| l.contains("crate::pages") || l.contains("crate::api"),
    );
    assert!(
        bad.is_empty(),
        "the kit and the services sit below the feature modules:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scan_flags_what_it_must() {
    let features: Vec<String> = ["plan", "import", "schools"].map(String::from).into();
    // Caught: other features by any path, in `use` lines and in bodies.
    assert!(page_uses_feature(
        &features,
        "dispatch",
        "use crate::pages::plan::unit_name;"
    ));
    assert!(page_uses_feature(
        &features,
        "classes",
        "    let c = super::schools::county_choices(&s);"
    ));
    assert!(page_uses_feature(
        &features,
        "classes",
        "use super::import::{download};"
    ));
    assert!(api_uses_pages("use crate::pages::admission::{attachment};"));
    assert!(api_uses_pages("    let v = pages::forms::ctx();"));
    // Not caught: the kit, the module's own tests, comments, names that merely contain a feature.
    assert!(!page_uses_feature(
        &features,
        "classes",
        "use crate::kit::{page, render};"
    ));
    assert!(!page_uses_feature(&features, "plan", "    use super::*;"));
    assert!(!page_uses_feature(
        &features,
        "plan",
        "    let p = super::plan::x();"
    ));
    assert!(code("// see pages::plan").is_empty());
    assert!(!api_uses_pages("use crate::service::plan::target_of;"));
    assert!(!api_uses_pages("let subpages::x = 1;"));
}
