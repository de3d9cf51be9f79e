//! Raw access for tests only (cargo feature `testing`, enabled by `yimeng-testkit` and by no
//! product crate): per-test PostgreSQL databases, and hand SQL for tests that check what the
//! store wrote. A test in `tests/it/boundaries.rs` fails if a product source names this module.

use crate::db::Db;
use crate::{Result, StoreError};
use std::future::Future;

pub use crate::raw::{Rowable, Sql, Tx, Value};

/// The raw query methods of [`Db`], for tests: `use yimeng_store::testing::RawQuery;`.
pub trait RawQuery {
    /// All rows.
    fn all<T: Rowable>(&self, q: Sql) -> impl Future<Output = Result<Vec<T>>> + Send;
    /// At most one row.
    fn opt<T: Rowable>(&self, q: Sql) -> impl Future<Output = Result<Option<T>>> + Send;
    /// Exactly one row, or [`StoreError::NotFound`].
    fn one<T: Rowable>(&self, q: Sql) -> impl Future<Output = Result<T>> + Send;
    /// One `i64` (a count).
    fn scalar(&self, q: Sql) -> impl Future<Output = Result<i64>> + Send;
    /// Runs a statement on the writer; returns rows affected.
    fn exec(&self, q: Sql) -> impl Future<Output = Result<u64>> + Send;
    /// Starts a write transaction.
    fn begin(&self) -> impl Future<Output = Result<Tx>> + Send;
}

impl RawQuery for Db {
    fn all<T: Rowable>(&self, q: Sql) -> impl Future<Output = Result<Vec<T>>> + Send {
        Db::all(self, q)
    }
    fn opt<T: Rowable>(&self, q: Sql) -> impl Future<Output = Result<Option<T>>> + Send {
        Db::opt(self, q)
    }
    fn one<T: Rowable>(&self, q: Sql) -> impl Future<Output = Result<T>> + Send {
        Db::one(self, q)
    }
    fn scalar(&self, q: Sql) -> impl Future<Output = Result<i64>> + Send {
        Db::scalar(self, q)
    }
    fn exec(&self, q: Sql) -> impl Future<Output = Result<u64>> + Send {
        Db::exec(self, q)
    }
    fn begin(&self) -> impl Future<Output = Result<Tx>> + Send {
        Db::begin(self)
    }
}

/// Whether `name` is a plain lower-case identifier, safe to put in a statement unquoted.
fn plain_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Creates the empty PostgreSQL database `name` through the server administration connection
/// `admin` (a test's own database; `name` must be a plain lower-case identifier).
#[tracing::instrument(skip_all)]
pub async fn create_database_for_tests(admin: &Db, name: &str) -> Result<()> {
    if !plain_identifier(name) {
        return Err(StoreError::Invalid(format!(
            "测试数据库名“{name}”无效：只能用小写字母、数字和下划线"
        )));
    }
    admin
        .exec(Sql::new(&format!("CREATE DATABASE {name}")))
        .await?;
    Ok(())
}

/// Drops the PostgreSQL database `name` if it exists, ending its connections.
#[tracing::instrument(skip_all)]
pub async fn drop_database_for_tests(admin: &Db, name: &str) -> Result<()> {
    if !plain_identifier(name) {
        return Err(StoreError::Invalid(format!(
            "测试数据库名“{name}”无效：只能用小写字母、数字和下划线"
        )));
    }
    admin
        .exec(Sql::new(&format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await?;
    Ok(())
}

/// Applies the migrations up to and including `last` only, as a database created by an earlier
/// release has them (for tests of a later migration's backfill of existing rows).
#[tracing::instrument(skip_all)]
pub async fn migrate_through(db: &crate::Db, last: i64) -> Result<()> {
    fn upto(mut m: sqlx::migrate::Migrator, last: i64) -> sqlx::migrate::Migrator {
        let kept: Vec<sqlx::migrate::Migration> = m
            .migrations
            .iter()
            .filter(|x| x.version <= last)
            .cloned()
            .collect();
        m.migrations = std::borrow::Cow::Owned(kept);
        m
    }
    match db {
        crate::Db::Sqlite { writer, .. } => {
            upto(sqlx::migrate!("./migrations/sqlite"), last)
                .run(writer)
                .await?
        }
        crate::Db::Postgres(pool) => {
            upto(sqlx::migrate!("./migrations/postgres"), last)
                .run(pool)
                .await?
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plain_identifier;

    #[test]
    fn only_plain_identifiers_name_a_test_database() {
        assert!(plain_identifier("yimeng_t_12_345_0"));
        assert!(!plain_identifier("x; DROP DATABASE test"));
        assert!(!plain_identifier("Upper"));
        assert!(!plain_identifier(""));
    }
}
