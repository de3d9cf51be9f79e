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
