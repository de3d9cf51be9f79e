use std::collections::{BTreeMap, BTreeSet};
use yimeng_store::Db;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

fn migration_files(dir: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dir);
    let mut v: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn both_migration_directories_have_the_same_versions() {
    assert_eq!(migration_files("sqlite"), migration_files("postgres"));
    assert!(!migration_files("sqlite").is_empty());
}

async fn columns(db: &Db) -> BTreeMap<String, BTreeSet<String>> {
    let rows: Vec<(String, String)> = match db.backend() {
        yimeng_store::Backend::Sqlite => {
            db.all(Sql::new(
                "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
            ))
            .await
            .unwrap()
        }
        yimeng_store::Backend::Postgres => db
            .all(Sql::new(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
            ))
            .await
            .unwrap(),
    };
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (t, c) in rows {
        m.entry(t).or_default().insert(c);
    }
    m
}

#[tokio::test]
async fn both_schemas_hold_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite().await;
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let a = columns(&sqlite.db).await;
    let b = columns(&pg.db).await;
    assert!(a.len() >= 10, "{a:?}");
    assert_eq!(a, b);
}

#[tokio::test]
async fn the_region_table_holds_linyi_and_its_units_as_the_domain_lists_them() {
    for t in TestDb::each().await {
        let rows = yimeng_store::region::all(&t.db).await.unwrap();
        assert_eq!(rows[0].code, 371300);
        let units: Vec<(i32, String)> =
            rows[1..].iter().map(|r| (r.code, r.name.clone())).collect();
        let expected: Vec<(i32, String)> = yimeng_domain::region::LINYI_UNITS
            .iter()
            .map(|u| (u.code.get(), u.name.to_string()))
            .collect();
        assert_eq!(units, expected);
        assert!(rows[1..].iter().all(|r| r.parent_code == Some(371300)));
    }
}

#[tokio::test]
async fn every_table_is_registered_with_its_distribution_kind() {
    for t in TestDb::each().await {
        let tables: BTreeSet<String> = columns(&t.db).await.into_keys().collect();
        let kinds: Vec<(String, String)> =
            t.db.all(Sql::new("SELECT tbl, kind FROM yimeng_table_kind"))
                .await
                .unwrap();
        let registered: BTreeSet<String> = kinds.iter().map(|(t, _)| t.clone()).collect();
        assert_eq!(tables, registered, "tables and yimeng_table_kind differ");
    }
}

/// The scale-out rules of design.md, checked in PostgreSQL's catalog: county tables lead every
/// key with county_id; national uniqueness lives in key tables; no reference table points at a
/// distributed one; no timestamp without time zone; ids are bigint; no triggers on county tables.
#[tokio::test]
async fn the_postgres_catalog_follows_the_scale_out_rules() {
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let db = &t.db;
    let bad_keys: Vec<(String, String)> = db
        .all(Sql::new(
            "SELECT c.conrelid::regclass::text, c.conname::text FROM pg_constraint c \
             JOIN yimeng_table_kind k ON k.tbl = c.conrelid::regclass::text AND k.kind = 'distributed' \
             LEFT JOIN yimeng_table_kind r ON r.tbl = c.confrelid::regclass::text \
             WHERE (c.contype IN ('p', 'u') OR (c.contype = 'f' AND r.kind = 'distributed')) \
             AND NOT EXISTS (SELECT 1 FROM pg_attribute a \
               WHERE a.attrelid = c.conrelid AND a.attname = k.dist_column AND a.attnum = ANY (c.conkey))",
        ))
        .await
        .unwrap();
    assert!(
        bad_keys.is_empty(),
        "keys without the distribution column: {bad_keys:?}"
    );
    let bad_index: Vec<(String, String)> = db
        .all(Sql::new(
            "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text FROM pg_index i \
             JOIN yimeng_table_kind k ON k.tbl = i.indrelid::regclass::text AND k.kind = 'distributed' \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             WHERE a.attname <> k.dist_column",
        ))
        .await
        .unwrap();
    assert!(
        bad_index.is_empty(),
        "indexes not led by the distribution column: {bad_index:?}"
    );
    let ref_to_dist: Vec<(String, String)> = db
        .all(Sql::new(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c \
             JOIN yimeng_table_kind a ON a.tbl = c.conrelid::regclass::text \
             JOIN yimeng_table_kind b ON b.tbl = c.confrelid::regclass::text \
             WHERE c.contype = 'f' AND a.kind = 'reference' AND b.kind = 'distributed'",
        ))
        .await
        .unwrap();
    assert!(
        ref_to_dist.is_empty(),
        "reference tables referencing distributed ones: {ref_to_dist:?}"
    );
    let naive_ts: Vec<(String, String)> = db
        .all(Sql::new(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'",
        ))
        .await
        .unwrap();
    assert!(
        naive_ts.is_empty(),
        "timestamp without time zone: {naive_ts:?}"
    );
    let small_ids: Vec<(String, String)> = db
        .all(Sql::new(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND (column_name = 'id' OR column_name LIKE '%\\_id' ESCAPE '\\') \
             AND column_name <> 'county_id' AND data_type IN ('smallint', 'integer') AND table_name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
        ))
        .await
        .unwrap();
    assert!(
        small_ids.is_empty(),
        "ids that are not bigint: {small_ids:?}"
    );
    let triggers: i64 = db
        .scalar(Sql::new(
            "SELECT COUNT(*) FROM pg_trigger g JOIN yimeng_table_kind k ON k.tbl = g.tgrelid::regclass::text \
             WHERE NOT g.tgisinternal AND k.kind = 'distributed'",
        ))
        .await
        .unwrap();
    assert_eq!(triggers, 0, "triggers on county tables");
    let county_first: Vec<(String,)> = db
        .all(Sql::new(
            "SELECT k.tbl FROM yimeng_table_kind k WHERE k.kind = 'distributed' AND k.dist_column = 'county_id' \
             AND NOT EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_name = k.tbl \
               AND c.column_name = 'county_id' AND c.is_nullable = 'NO' AND c.data_type = 'integer')",
        ))
        .await
        .unwrap();
    assert!(
        county_first.is_empty(),
        "county tables without county_id integer NOT NULL: {county_first:?}"
    );
}

/// The last PostgreSQL migration that databases have already applied: sqlx refuses to start when
/// an applied file changes, so these stay as they are and are applied before the tables are
/// distributed (migrate, then distribute; docs/architecture.md). Later files follow
/// [`citus_migration_rule_violations`].
const LAST_MIGRATION_BEFORE_THE_CITUS_RULE: u32 = 9;

/// The first statement of every new PostgreSQL migration (a placeholder setting on plain
/// PostgreSQL, accepted because its name has a dot).
const CITUS_MIGRATION_PREAMBLE: &str =
    "SET LOCAL citus.enable_local_reference_table_foreign_keys TO off;";

/// The statements of a migration file: comments dropped, split at `;` outside `$…$` blocks.
fn sql_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut dollar: Option<String> = None;
    for line in text.lines() {
        let line = match (dollar.is_none(), line.find("--")) {
            (true, Some(i)) => &line[..i],
            _ => line,
        };
        let mut rest = line;
        while !rest.is_empty() {
            if let Some(tag) = &dollar {
                match rest.find(tag.as_str()) {
                    Some(i) => {
                        cur.push_str(&rest[..i + tag.len()]);
                        rest = &rest[i + tag.len()..];
                        dollar = None;
                    }
                    None => {
                        cur.push_str(rest);
                        rest = "";
                    }
                }
                continue;
            }
            let semi = rest.find(';');
            let open = rest.find('$').and_then(|i| {
                rest[i + 1..]
                    .find('$')
                    .map(|j| (i, rest[i..i + j + 2].to_string()))
                    .filter(|(_, t)| {
                        t[1..t.len() - 1]
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '_')
                    })
            });
            match (semi, open) {
                (Some(s), Some((o, _))) if s < o => {
                    cur.push_str(&rest[..=s]);
                    out.push(std::mem::take(&mut cur).trim().to_string());
                    rest = &rest[s + 1..];
                }
                (_, Some((o, tag))) => {
                    cur.push_str(&rest[..o + tag.len()]);
                    rest = &rest[o + tag.len()..];
                    dollar = Some(tag);
                }
                (Some(s), None) => {
                    cur.push_str(&rest[..=s]);
                    out.push(std::mem::take(&mut cur).trim().to_string());
                    rest = &rest[s + 1..];
                }
                (None, None) => {
                    cur.push_str(rest);
                    rest = "";
                }
            }
        }
        cur.push('\n');
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// What keeps a PostgreSQL migration applicable to a database whose tables are already
/// distributed by Citus: it starts with [`CITUS_MIGRATION_PREAMBLE`] (new local tables may then
/// reference distributed ones), and a `CREATE INDEX` on a table the file does not create is the
/// file's only statement or sits in a `DO` block (Citus forwards a multi-statement migration
/// with such an index whole to the workers, which refuse it).
fn citus_migration_rule_violations(text: &str) -> Vec<String> {
    let stmts = sql_statements(text);
    let mut out = Vec::new();
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    if stmts.first().map(|s| norm(s)) != Some(norm(CITUS_MIGRATION_PREAMBLE)) {
        out.push(format!("does not start with {CITUS_MIGRATION_PREAMBLE}"));
    }
    let created: BTreeSet<String> = stmts
        .iter()
        .filter_map(|s| {
            let w: Vec<String> = s.split_whitespace().map(str::to_lowercase).collect();
            let i = w.iter().position(|x| x == "table")?;
            (w.first().map(String::as_str) == Some("create")).then_some(())?;
            let name = w[i + 1..]
                .iter()
                .find(|x| !matches!(x.as_str(), "if" | "not" | "exists"))?;
            Some(name.trim_end_matches('(').trim_matches('"').to_string())
        })
        .collect();
    let body = stmts
        .iter()
        .filter(|s| norm(s) != norm(CITUS_MIGRATION_PREAMBLE))
        .count();
    for s in &stmts {
        let w: Vec<String> = s.split_whitespace().map(str::to_lowercase).collect();
        let is_index = w.first().map(String::as_str) == Some("create")
            && w.iter().take(3).any(|x| x == "index");
        if !is_index {
            continue;
        }
        let Some(on) = w.iter().position(|x| x == "on") else {
            continue;
        };
        let table = w[on + 1..]
            .iter()
            .find(|x| x.as_str() != "only")
            .map(|t| {
                t.split('(')
                    .next()
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_string()
            })
            .unwrap_or_default();
        if !created.contains(&table) && body > 1 {
            out.push(format!(
                "CREATE INDEX on existing table {table} shares its file with other statements \
                 (put it in a file of its own or a DO block)"
            ));
        }
    }
    out
}

#[test]
fn the_citus_migration_rule_accepts_the_safe_shapes_and_names_the_unsafe_ones() {
    let good = "-- a new table and its index\n\
        SET LOCAL citus.enable_local_reference_table_foreign_keys TO off;\n\
        CREATE TABLE note (county_id integer NOT NULL, id bigint NOT NULL, PRIMARY KEY (county_id, id));\n\
        CREATE INDEX note_by_x ON note (county_id, id);\n\
        DO $$ BEGIN EXECUTE 'CREATE INDEX student_by_x ON student (county_id, name)'; END $$;\n";
    assert_eq!(citus_migration_rule_violations(good), Vec::<String>::new());
    let alone = "SET LOCAL citus.enable_local_reference_table_foreign_keys TO off;\n\
        CREATE INDEX student_by_y ON student (county_id, school_id);\n";
    assert!(citus_migration_rule_violations(alone).is_empty());
    let bad = "CREATE TABLE note (id bigint);\nCREATE INDEX student_by_y ON student (county_id);\n";
    let v = citus_migration_rule_violations(bad);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].starts_with("does not start with"));
    assert!(v[1].contains("existing table student"), "{v:?}");
}

#[test]
fn postgres_migrations_after_0009_follow_the_citus_migration_rule() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    for f in migration_files("postgres") {
        let version: u32 = f
            .split('_')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("migration {f} without a version"));
        if version <= LAST_MIGRATION_BEFORE_THE_CITUS_RULE {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&f)).unwrap();
        let v = citus_migration_rule_violations(&text);
        assert!(v.is_empty(), "{f}: {v:?}");
    }
    assert!(migration_files("postgres").len() >= LAST_MIGRATION_BEFORE_THE_CITUS_RULE as usize);
}

#[tokio::test]
async fn the_citus_migration_preamble_is_accepted_by_plain_postgres() {
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let mut tx = t.db.begin().await.unwrap();
    tx.exec(Sql::new(CITUS_MIGRATION_PREAMBLE.trim_end_matches(';')))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
}
