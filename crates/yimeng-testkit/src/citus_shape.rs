//! The "Citus-shaped PostgreSQL" test profile (`YIMENG_TEST_PG_PROFILE=citus-shaped`, background in
//! the scale-out note): each PostgreSQL test database is reshaped after its migrations so that the
//! statements a test runs can be checked against what Citus distributes by county.
//!
//! - Every distributed table of `yimeng_table_kind` is rebuilt as a partitioned table: by LIST of
//!   `county_id` (one partition per unit of the `region` table and a DEFAULT one), or by HASH
//!   (8 partitions) of its other distribution column (the national key tables). Keys, indexes,
//!   checks, defaults and foreign keys keep their names. Partitions live in the `yimeng_shards`
//!   schema, so the catalog tests over `public` see the same tables as without the profile.
//! - A guard on every county partition refuses an update of `county_id` (Citus: "modifying the
//!   partition value of rows is not allowed"); without it PostgreSQL would move the row.
//! - `auto_explain` logs the JSON plan (verbose) of every statement of the test, under
//!   `plan_cache_mode = force_generic_plan`, so that a county bound as its own parameter stays
//!   visible as `$n` instead of being folded into a constant.
//!
//! When the test database is dropped, its plans are read back from the server log and checked:
//! a statement touching county tables must be bound to one county (every county table equated on
//! `county_id` with the others and with one parameter or constant), or be a declared multi-county
//! statement (`/* multi-county: name */`) whose county tables are still joined on `county_id` and
//! which has no row locks (FOR UPDATE), recursive CTE or grouping sets (ROLLUP, CUBE).
//!
//! Needs a superuser (to preload `auto_explain` and read the server log) and the log file: the
//! collector's current file, `YIMENG_TEST_PG_LOG`, or Debian's `/var/log/postgresql/postgresql-<cluster>.log`.

use std::collections::{BTreeMap, BTreeSet};
use yimeng_store::Db;
use yimeng_store::db::DbOptions;
use yimeng_store::testing::{RawQuery, Sql};

/// The environment variable choosing the PostgreSQL test profile.
pub const PROFILE_ENV: &str = "YIMENG_TEST_PG_PROFILE";
/// The profile name that turns this module on.
pub const PROFILE: &str = "citus-shaped";
/// The environment variable naming the server log file, when it cannot be found from SQL.
pub const LOG_ENV: &str = "YIMENG_TEST_PG_LOG";
/// The schema holding the partitions.
pub const SHARD_SCHEMA: &str = "yimeng_shards";
/// The comment that declares a statement spanning counties (design.md, scale-out rule 5).
pub const MULTI_COUNTY_TAG: &str = "/* multi-county:";

/// Whether the profile is on.
pub fn enabled() -> bool {
    std::env::var(PROFILE_ENV).is_ok_and(|p| p == PROFILE)
}

/// What the check at the end of a test needs: where the test's plans are logged.
#[derive(Debug, Clone)]
pub struct PlanLog {
    /// Server log file.
    pub path: String,
    /// Its size when the test started.
    pub offset: i64,
    /// The test database's name (in every log line's prefix).
    pub database: String,
    /// County-distributed tables.
    pub county_tables: BTreeSet<String>,
}

const RESHAPE: &str = r#"
DO $reshape$
DECLARE
    t record;
    c record;
    fks text[][] := '{}';
    cons text[][];
    idx text[];
    stmt text;
    units int[];
    u int;
    i int;
BEGIN
    EXECUTE 'CREATE SCHEMA IF NOT EXISTS yimeng_shards';
    CREATE OR REPLACE FUNCTION yimeng_shards.county_id_is_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $f$
    BEGIN
        RAISE EXCEPTION 'county_id of % is immutable (Citus: modifying the partition value of rows is not allowed)', TG_TABLE_NAME;
    END $f$;
    SELECT array_agg(code::int ORDER BY code) INTO units FROM region WHERE code::text <> '371300';
    -- Foreign keys from or to distributed tables: dropped now, added back at the end.
    FOR c IN SELECT k.conrelid::regclass::text AS tbl, k.conname::text AS name, pg_get_constraintdef(k.oid) AS def
             FROM pg_constraint k WHERE k.contype = 'f' AND (
               k.conrelid::regclass::text IN (SELECT tbl FROM yimeng_table_kind WHERE kind = 'distributed')
               OR k.confrelid::regclass::text IN (SELECT tbl FROM yimeng_table_kind WHERE kind = 'distributed'))
    LOOP
        fks := fks || ARRAY[[c.tbl, c.name, c.def]];
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', c.tbl, c.name);
    END LOOP;
    FOR t IN SELECT tbl, dist_column FROM yimeng_table_kind WHERE kind = 'distributed' ORDER BY tbl LOOP
        cons := '{}';
        FOR c IN SELECT k.conname::text AS name, pg_get_constraintdef(k.oid) AS def FROM pg_constraint k
                 WHERE k.conrelid = t.tbl::regclass AND k.contype IN ('p', 'u', 'x') LOOP
            cons := cons || ARRAY[[c.name, c.def]];
        END LOOP;
        SELECT coalesce(array_agg(pg_get_indexdef(x.indexrelid)), '{}') INTO idx FROM pg_index x
        WHERE x.indrelid = t.tbl::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t.tbl, t.tbl || '__flat');
        IF t.dist_column = 'county_id' THEN
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY) PARTITION BY LIST (county_id)', t.tbl, t.tbl || '__flat');
            FOREACH u IN ARRAY units LOOP
                EXECUTE format('CREATE TABLE yimeng_shards.%I PARTITION OF %I FOR VALUES IN (%s)', t.tbl || '_' || u, t.tbl, u);
                EXECUTE format('CREATE TRIGGER county_id_guard BEFORE UPDATE OF county_id ON yimeng_shards.%I FOR EACH ROW WHEN (NEW.county_id IS DISTINCT FROM OLD.county_id) EXECUTE FUNCTION yimeng_shards.county_id_is_immutable()', t.tbl || '_' || u);
            END LOOP;
            EXECUTE format('CREATE TABLE yimeng_shards.%I PARTITION OF %I DEFAULT', t.tbl || '_other', t.tbl);
            EXECUTE format('CREATE TRIGGER county_id_guard BEFORE UPDATE OF county_id ON yimeng_shards.%I FOR EACH ROW WHEN (NEW.county_id IS DISTINCT FROM OLD.county_id) EXECUTE FUNCTION yimeng_shards.county_id_is_immutable()', t.tbl || '_other');
        ELSE
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY) PARTITION BY HASH (%I)', t.tbl, t.tbl || '__flat', t.dist_column);
            FOR i IN 0..7 LOOP
                EXECUTE format('CREATE TABLE yimeng_shards.%I PARTITION OF %I FOR VALUES WITH (MODULUS 8, REMAINDER %s)', t.tbl || '_h' || i, t.tbl, i);
            END LOOP;
        END IF;
        EXECUTE format('INSERT INTO %I SELECT * FROM %I', t.tbl, t.tbl || '__flat');
        EXECUTE format('DROP TABLE %I', t.tbl || '__flat');
        IF array_length(cons, 1) IS NOT NULL THEN
            FOR i IN 1..array_length(cons, 1) LOOP
                EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.tbl, cons[i][1], cons[i][2]);
            END LOOP;
        END IF;
        FOREACH stmt IN ARRAY idx LOOP
            EXECUTE stmt;
        END LOOP;
    END LOOP;
    IF array_length(fks, 1) IS NOT NULL THEN
        FOR i IN 1..array_length(fks, 1) LOOP
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', fks[i][1], fks[i][2], fks[i][3]);
        END LOOP;
    END IF;
END
$reshape$
"#;

/// Reshapes the freshly migrated test database `name` (reached by `url` through `db`), turns on
/// the plan log for its later sessions, and reopens it: the returned store's connections run
/// under the profile.
pub async fn apply(db: Db, url: &str, name: &str, opts: &DbOptions) -> (Db, PlanLog) {
    db.exec(Sql::new(RESHAPE))
        .await
        .expect("citus-shaped profile: partition the distributed tables");
    for setting in [
        "session_preload_libraries = 'auto_explain'",
        "auto_explain.log_min_duration = 0",
        "auto_explain.log_format = 'json'",
        "auto_explain.log_verbose = on",
        "plan_cache_mode = 'force_generic_plan'",
    ] {
        db.exec(Sql::new(&format!("ALTER DATABASE {name} SET {setting}")))
            .await
            .expect("citus-shaped profile: database settings (a superuser is needed)");
    }
    let county_tables: Vec<(String,)> = db
        .all(Sql::new(
            "SELECT tbl FROM yimeng_table_kind WHERE kind = 'distributed' AND dist_column = 'county_id'",
        ))
        .await
        .expect("county tables");
    let path = log_path(&db).await;
    db.close().await;
    let db = Db::open(url, opts)
        .await
        .expect("reopen the citus-shaped test database");
    let offset = log_size(&db, &path).await;
    (
        db,
        PlanLog {
            path,
            offset,
            database: name.to_string(),
            county_tables: county_tables.into_iter().map(|t| t.0).collect(),
        },
    )
}

async fn log_path(db: &Db) -> String {
    if let Ok(p) = std::env::var(LOG_ENV) {
        return p;
    }
    let (current, data, cluster): (Option<String>, String, String) = db
        .one(Sql::new(
            "SELECT pg_current_logfile(), current_setting('data_directory'), current_setting('cluster_name')",
        ))
        .await
        .expect("log settings");
    match current {
        Some(p) if p.starts_with('/') => p,
        Some(p) => format!("{data}/{p}"),
        None => format!(
            "/var/log/postgresql/postgresql-{}.log",
            cluster.replace('/', "-")
        ),
    }
}

async fn log_size(db: &Db, path: &str) -> i64 {
    let mut q = Sql::new("SELECT (pg_stat_file(");
    q.bind(path.to_string()).push(")).size");
    db.scalar(q).await.unwrap_or_else(|e| {
        panic!("citus-shaped profile: cannot read the server log {path} ({e}); set {LOG_ENV}")
    })
}

/// Reads the plans the test logged and returns one line per violation.
pub async fn check(admin: &Db, log: &PlanLog) -> Vec<String> {
    let size = log_size(admin, &log.path).await;
    if size <= log.offset {
        return vec![format!(
            "no plans in {} (is auto_explain available?)",
            log.path
        )];
    }
    let mut q = Sql::new("SELECT pg_read_binary_file(");
    q.bind(log.path.clone())
        .push(", ")
        .bind(log.offset)
        .push(", ")
        .bind(size - log.offset)
        .push(")");
    let (bytes,): (Vec<u8>,) = admin.one(q).await.expect("read the server log");
    let text = String::from_utf8_lossy(&bytes);
    let plans = plans_of(&text, &log.database);
    if plans.is_empty() {
        return vec![format!(
            "no plans of database {} in {} (is auto_explain available?)",
            log.database, log.path
        )];
    }
    let mut out = Vec::new();
    let mut notes = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for p in plans {
        let f = findings(&p, &log.county_tables);
        for v in f.violations {
            if seen.insert(v.clone()) {
                out.push(v);
            }
        }
        notes.extend(f.notes);
    }
    for n in notes {
        eprintln!("citus-shaped note: {n}");
    }
    out
}

/// The auto_explain JSON documents logged for `database`.
pub fn plans_of(text: &str, database: &str) -> Vec<serde_json::Value> {
    let marker = format!("@{database} ");
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines() {
        let starts = line.len() > 20
            && line.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && line.as_bytes()[4] == b'-';
        if starts {
            entries.push(line.to_string());
        } else if let Some(e) = entries.last_mut() {
            e.push('\n');
            e.push_str(line);
        }
    }
    entries
        .into_iter()
        .filter(|e| e.contains(&marker))
        .filter_map(|e| {
            let at = e.find("plan:")?;
            let json = &e[at + 5..];
            let start = json.find('{')?;
            serde_json::from_str(&json[start..]).ok()
        })
        .collect()
}

/// Union-find over county bindings: aliases of county tables, parameters, constants and the
/// marker of a list of counties.
#[derive(Default)]
struct Bindings {
    parent: BTreeMap<String, String>,
}

impl Bindings {
    fn find(&mut self, x: &str) -> String {
        let p = self
            .parent
            .entry(x.to_string())
            .or_insert_with(|| x.to_string())
            .clone();
        if p == x {
            return p;
        }
        let r = self.find(&p);
        self.parent.insert(x.to_string(), r.clone());
        r
    }
    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent.insert(ra, rb);
        }
    }
}

const MANY: &str = "*many";

/// Terms of a condition: `alias.column`, `$n`, numbers, `=`, `ANY`; parentheses and casts dropped.
fn terms(cond: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = cond.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'\'' {
                j += 1;
            }
            out.push("'lit'".to_string());
            i = j + 1;
        } else if c == b':' && i + 1 < b.len() && b[i + 1] == b':' {
            // A cast: skip the type name (and an array suffix).
            let mut j = i + 2;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'[' | b']'))
            {
                j += 1;
            }
            i = j;
        } else if c == b'=' {
            out.push("=".into());
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'"' {
            let mut j = i;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'$' | b'.' | b'"'))
            {
                j += 1;
            }
            out.push(cond[i..j].replace('"', ""));
            i = j;
        } else {
            if !matches!(c, b'(' | b')' | b' ') {
                out.push((c as char).to_string());
            }
            i += 1;
        }
    }
    out
}

fn county_alias(term: &str) -> Option<&str> {
    term.strip_suffix(".county_id")
}

fn binding_term(term: &str) -> Option<String> {
    if term.starts_with('$') || term.bytes().all(|b| b.is_ascii_digit()) {
        Some(format!("={term}"))
    } else {
        None
    }
}

fn bind_condition(b: &mut Bindings, cond: &str) {
    let t = terms(cond);
    for i in 1..t.len().saturating_sub(1) {
        if t[i] != "=" {
            continue;
        }
        let (l, r) = (&t[i - 1], &t[i + 1]);
        match (county_alias(l), county_alias(r)) {
            (Some(a), Some(c)) => b.union(&format!("@{a}"), &format!("@{c}")),
            (Some(a), None) if r == "ANY" => b.union(&format!("@{a}"), MANY),
            (Some(a), None) => {
                if let Some(v) = binding_term(r) {
                    b.union(&format!("@{a}"), &v);
                }
            }
            (None, Some(c)) => {
                if let Some(v) = binding_term(l) {
                    b.union(&format!("@{c}"), &v);
                }
            }
            (None, None) => {}
        }
    }
}

const CONDITIONS: &[&str] = &[
    "Filter",
    "Index Cond",
    "Recheck Cond",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "TID Cond",
    "One-Time Filter",
];

struct Walk<'a> {
    county_tables: &'a BTreeSet<String>,
    bindings: Bindings,
    county_aliases: BTreeSet<String>,
    constructs: BTreeSet<&'static str>,
}

impl Walk<'_> {
    fn node(&mut self, n: &serde_json::Value) {
        let get = |k: &str| n.get(k).and_then(|v| v.as_str());
        // An INSERT's target takes the county of the rows it is given, not a scan of its own.
        let insert_target =
            get("Node Type") == Some("ModifyTable") && get("Operation") == Some("Insert");
        if let (Some(rel), Some(alias), false) = (get("Relation Name"), get("Alias"), insert_target)
        {
            let schema = get("Schema").unwrap_or("public");
            let table = if schema == SHARD_SCHEMA {
                rel.rsplit_once('_').map_or(rel, |(t, _)| t)
            } else {
                rel
            };
            if self.county_tables.contains(table) {
                let a = format!("@{alias}");
                self.county_aliases.insert(a.clone());
                // A partition's scan is named after its parent's alias with a suffix (o_1).
                if schema == SHARD_SCHEMA
                    && let Some((base, n)) = alias.rsplit_once('_')
                    && n.bytes().all(|b| b.is_ascii_digit())
                {
                    self.bindings.union(&a, &format!("@{base}"));
                }
            }
        }
        for k in CONDITIONS {
            if let Some(c) = get(k) {
                bind_condition(&mut self.bindings, c);
            }
        }
        match get("Node Type") {
            Some("LockRows") => {
                self.constructs.insert("FOR UPDATE/SHARE (LockRows)");
            }
            Some("Recursive Union") => {
                self.constructs.insert("a recursive CTE");
            }
            Some("Aggregate")
                if n.get("Grouping Sets")
                    .and_then(|g| g.as_array())
                    .is_some_and(|g| g.len() > 1) =>
            {
                self.constructs.insert("ROLLUP/CUBE/GROUPING SETS");
            }
            _ => {}
        }
        if let Some(children) = n.get("Plans").and_then(|p| p.as_array()) {
            for c in children {
                self.node(c);
            }
        }
    }
}

/// What the check found in one statement.
#[derive(Debug, Default)]
pub struct Findings {
    /// Would fail on Citus: county tables of a statement bound to one county not joined on
    /// `county_id`, or multi-county statements with a construct Citus refuses across shards.
    pub violations: Vec<String>,
    /// Statements over several counties without the tag (ad-hoc queries of the tests
    /// themselves are among them), reported but not failed.
    pub notes: Vec<String>,
}

/// The violations of one logged plan (`{"Query Text": …, "Plan": …}`).
pub fn violations(doc: &serde_json::Value, county_tables: &BTreeSet<String>) -> Vec<String> {
    findings(doc, county_tables).violations
}

/// The findings of one logged plan.
pub fn findings(doc: &serde_json::Value, county_tables: &BTreeSet<String>) -> Findings {
    let query = doc
        .get("Query Text")
        .and_then(|q| q.as_str())
        .unwrap_or("")
        .trim();
    let Some(plan) = doc.get("Plan") else {
        return Findings::default();
    };
    // PostgreSQL's own statements (foreign-key validation) are not the application's.
    if query.contains("OPERATOR(pg_catalog.") {
        return Findings::default();
    }
    let mut w = Walk {
        county_tables,
        bindings: Bindings::default(),
        county_aliases: BTreeSet::new(),
        constructs: BTreeSet::new(),
    };
    w.node(plan);
    if w.county_aliases.is_empty() {
        return Findings::default();
    }
    // Group the county tables' scans by what their county_id is equal to.
    let aliases: Vec<String> = w.county_aliases.iter().cloned().collect();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &aliases {
        let root = w.bindings.find(a);
        groups.entry(root).or_default().push(a.clone());
    }
    let keys: Vec<String> = w.bindings.parent.keys().cloned().collect();
    let mut anchored: BTreeMap<String, (usize, bool)> = BTreeMap::new();
    for k in keys {
        let root = w.bindings.find(&k);
        let e = anchored.entry(root).or_default();
        if k.starts_with('=') {
            e.0 += 1;
        }
        if k == MANY {
            e.1 = true;
        }
    }
    let bound = |r: &String| {
        let (values, many) = anchored.get(r).copied().unwrap_or_default();
        values >= 1 && !many
    };
    let single = groups.len() == 1 && groups.keys().all(bound);
    let tagged = query.contains(MULTI_COUNTY_TAG);
    let short: String = query.chars().take(300).collect();
    let mut f = Findings::default();
    if groups.len() > 1 {
        let names: Vec<String> = groups
            .values()
            .map(|g| {
                let mut g: Vec<String> = g.iter().map(|a| a.replace('@', "")).collect();
                g.truncate(4);
                g.join(",")
            })
            .collect();
        let line = format!(
            "county tables not joined on county_id (scans {}): {short}",
            names.join(" | ")
        );
        // A county bound on its own in a part of the statement means one county, but Citus
        // cannot know the parts are the same county; a declared multi-county statement must
        // join on county_id. Untagged statements over all counties are notes.
        if tagged || groups.keys().any(bound) {
            f.violations.push(line);
        } else {
            f.notes.push(line);
        }
    } else if !single && !tagged {
        f.notes.push(format!(
            "statement over several counties without the {MULTI_COUNTY_TAG} tag: {short}"
        ));
    }
    if !single {
        for c in &w.constructs {
            f.violations
                .push(format!("{c} in a statement over several counties: {short}"));
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tables() -> BTreeSet<String> {
        ["class".to_string(), "student".to_string()]
            .into_iter()
            .collect()
    }

    fn scan(alias: &str, part: &str, filter: &str) -> serde_json::Value {
        json!({"Node Type": "Index Scan", "Relation Name": part, "Schema": SHARD_SCHEMA,
               "Alias": alias, "Index Cond": filter})
    }

    #[test]
    fn a_county_bound_twice_as_separate_parameters_is_not_a_join_on_county_id() {
        let doc = json!({"Query Text": "SELECT COUNT(*) FROM class o WHERE o.county_id = $1 AND NOT EXISTS (SELECT 1 FROM class n WHERE n.county_id = $3 AND n.school_id = o.school_id)",
        "Plan": {"Node Type": "Nested Loop", "Join Type": "Anti", "Plans": [
            {"Node Type": "Append", "Plans": [scan("o_1", "class_371302", "(o_1.county_id = $1)")]},
            {"Node Type": "Append", "Plans": [scan("n_1", "class_371302", "((n_1.county_id = $3) AND (n_1.school_id = o.school_id))")]}
        ]}});
        let v = violations(&doc, &tables());
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].starts_with("county tables not joined on county_id"));
    }

    #[test]
    fn a_county_joined_on_county_id_is_one_county() {
        let doc = json!({"Query Text": "SELECT …",
        "Plan": {"Node Type": "Hash Join", "Hash Cond": "((n.county_id = o.county_id) AND (n.school_id = o.school_id))", "Plans": [
            {"Node Type": "Append", "Plans": [scan("o_1", "class_371302", "((o_1.county_id)::bigint = $1)")]},
            {"Node Type": "Append", "Plans": [scan("n_1", "class_371302", "(n_1.county_id = $1)")]}
        ]}});
        assert!(violations(&doc, &tables()).is_empty());
    }

    #[test]
    fn statements_over_several_counties_need_the_tag_and_no_locks_or_rollups() {
        let many = json!({"Query Text": "SELECT … FROM student s WHERE s.county_id = ANY ($1)",
            "Plan": {"Node Type": "LockRows", "Plans": [
                {"Node Type": "Append", "Plans": [scan("s_1", "student_371302", "(s_1.county_id = ANY ($1))")]}]}});
        let f = findings(&many, &tables());
        assert_eq!(f.violations.len(), 1, "{f:?}");
        assert!(f.violations[0].starts_with("FOR UPDATE"));
        assert_eq!(f.notes.len(), 1, "{f:?}");
        let unfiltered = json!({"Query Text": "/* multi-county: x */ SELECT … FROM student s",
            "Plan": {"Node Type": "Aggregate", "Grouping Sets": [{}, {}], "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "student_other", "Schema": SHARD_SCHEMA, "Alias": "s_2"}]}});
        let v = violations(&unfiltered, &tables());
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].starts_with("ROLLUP"));
        let tagged = json!({"Query Text": "/* multi-county: x */ SELECT … FROM student s",
            "Plan": {"Node Type": "Seq Scan", "Relation Name": "student", "Schema": "public", "Alias": "s"}});
        assert!(violations(&tagged, &tables()).is_empty());
    }

    #[test]
    fn insert_targets_and_foreign_key_checks_are_not_scans_of_the_statement() {
        let insert = json!({"Query Text": "INSERT INTO class SELECT … FROM class o WHERE o.county_id = $1",
            "Plan": {"Node Type": "ModifyTable", "Operation": "Insert", "Relation Name": "class", "Schema": "public", "Alias": "class", "Plans": [
                {"Node Type": "Append", "Plans": [scan("o_1", "class_371302", "(o_1.county_id = $1)")]}]}});
        assert!(violations(&insert, &tables()).is_empty());
        let ri = json!({"Query Text": "SELECT fk.county_id FROM ONLY x fk LEFT OUTER JOIN class pk ON (pk.county_id OPERATOR(pg_catalog.=) fk.county_id)",
            "Plan": {"Node Type": "LockRows", "Plans": [scan("pk_1", "class_371302", "(pk_1.id = 1)")]}});
        let f = findings(&ri, &tables());
        assert!(f.violations.is_empty() && f.notes.is_empty());
    }

    #[test]
    fn plans_are_read_from_the_log_lines_of_the_test_database() {
        let log = "2026-12-07 15:00:00.000 UTC [12] postgres@other LOG:  duration: 0.1 ms  plan:\n\t{\"Query Text\": \"x\", \"Plan\": {}}\n\
                   2026-12-07 15:00:00.001 UTC [13] postgres@mine LOG:  duration: 0.1 ms  plan:\n\t{\n\t  \"Query Text\": \"y\",\n\t  \"Plan\": {\"Node Type\": \"Result\"}\n\t}\n\
                   2026-12-07 15:00:00.002 UTC [13] postgres@mine LOG:  statement: z\n";
        let plans = plans_of(log, "mine");
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0]["Query Text"], "y");
    }
}
