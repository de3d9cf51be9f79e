//! # yimeng-testkit — test helpers (dev-only)
//!
//! Test databases on both stores: a temporary SQLite file always, and a fresh PostgreSQL database
//! when `YIMENG_TEST_PG_URL` is set (`.ci/run` sets it), dropped afterwards. Small fixture cities
//! from the demo generator. Never used by the product.
#![forbid(unsafe_code)]

pub mod citus_shape;

use std::sync::atomic::{AtomicU32, Ordering};
use yimeng_store::db::DbOptions;
use yimeng_store::{Backend, Db};

/// The environment variable naming the PostgreSQL server for tests.
pub const PG_ENV: &str = "YIMENG_TEST_PG_URL";

/// A migrated, empty store that cleans up after itself.
pub struct TestDb {
    /// The store.
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
    /// Under the citus-shaped profile: where the test's plans are logged, checked on drop.
    plan_log: Option<citus_shape::PlanLog>,
}

impl TestDb {
    /// A temporary SQLite store.
    pub async fn sqlite() -> TestDb {
        TestDb::sqlite_with(true).await
    }

    /// SQLite and, when configured, PostgreSQL stores with no migration applied, for tests of a
    /// migration's backfill of the rows an earlier release left (see
    /// `yimeng_store::testing::migrate_through`).
    pub async fn each_unmigrated() -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite_with(false).await];
        v.extend(TestDb::postgres_with(false).await);
        v
    }

    async fn sqlite_with(migrate: bool) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("test.db");
        let path = path.to_str().expect("utf-8 path");
        let db = if migrate {
            Db::open(path, &DbOptions::default()).await
        } else {
            Db::connect(path, &DbOptions::default()).await
        }
        .expect("open sqlite");
        TestDb {
            db,
            _dir: Some(dir),
            pg: None,
            plan_log: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a note on stderr) when `YIMENG_TEST_PG_URL` is
    /// not set.
    pub async fn postgres() -> Option<TestDb> {
        TestDb::postgres_with(true).await
    }

    async fn postgres_with(migrate: bool) -> Option<TestDb> {
        let Ok(admin) = std::env::var(PG_ENV) else {
            eprintln!("skipped on PostgreSQL: {PG_ENV} is not set");
            return None;
        };
        let name = unique_name();
        let admin_db = Db::connect(
            &admin,
            &DbOptions {
                max_connections: 2,
                ..DbOptions::default()
            },
        )
        .await
        .expect("connect to PostgreSQL");
        yimeng_store::testing::create_database_for_tests(&admin_db, &name)
            .await
            .expect("create test database");
        admin_db.close().await;
        let url = with_database(&admin, &name);
        let opts = DbOptions {
            max_connections: 5,
            ..DbOptions::default()
        };
        let db = if migrate {
            Db::open(&url, &opts).await
        } else {
            Db::connect(&url, &opts).await
        }
        .expect("open PostgreSQL test database");
        // The citus shape needs the tables: a store without migrations stays plain.
        let (db, plan_log) = if migrate && citus_shape::enabled() {
            let opts = DbOptions {
                max_connections: 5,
                ..DbOptions::default()
            };
            let (db, log) = citus_shape::apply(db, &url, &name, &opts).await;
            (db, Some(log))
        } else {
            (db, None)
        };
        Some(TestDb {
            db,
            _dir: None,
            pg: Some((admin, name)),
            plan_log,
        })
    }

    /// SQLite, plus PostgreSQL when configured: the same test runs on each.
    pub async fn each() -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite().await];
        v.extend(TestDb::postgres().await);
        v
    }

    /// Which backend.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The store's address, for a second handle on it (as another process would open it).
    pub fn url(&self) -> String {
        match (&self.pg, &self._dir) {
            (Some((admin, name)), _) => with_database(admin, name),
            (None, Some(dir)) => dir.path().join("test.db").display().to_string(),
            (None, None) => unreachable!("a test store is SQLite in a directory or PostgreSQL"),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // A test that already failed is not checked (its panic is the message).
            let plan_log = self.plan_log.take().filter(|_| !std::thread::panicking());
            // The pool belongs to the test's runtime, which is blocked here: leave it, and let
            // DROP … WITH (FORCE), from a thread with its own runtime, end its connections.
            let violations = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return Vec::new();
                };
                rt.block_on(async move {
                    let mut violations = Vec::new();
                    if let Ok(a) = Db::connect(
                        &admin,
                        &DbOptions {
                            max_connections: 2,
                            ..DbOptions::default()
                        },
                    )
                    .await
                    {
                        if let Some(log) = &plan_log {
                            violations = citus_shape::check(&a, log).await;
                        }
                        let _ = yimeng_store::testing::drop_database_for_tests(&a, &name).await;
                        a.close().await;
                    }
                    violations
                })
            })
            .join()
            .unwrap_or_default();
            if !violations.is_empty() {
                panic!(
                    "statements that would fail or fan out on Citus (citus-shaped profile):\n  {}",
                    violations.join("\n  ")
                );
            }
        }
    }
}

fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "yimeng_t_{}_{}_{}",
        std::process::id(),
        t % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
