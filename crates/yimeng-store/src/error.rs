use thiserror::Error;

/// Errors of the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The record does not exist, or is outside the caller's scope (the two are not told apart).
    #[error("记录不存在")]
    NotFound,
    /// A uniqueness or consistency rule refused the write; the message is for users, in Chinese.
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The input is invalid; the message is for users.
    #[error("{0}")]
    Invalid(String),
    /// The database URL or configuration is wrong.
    #[error("数据库配置错误：{0}")]
    Config(String),
    /// A migration failed.
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("数据库错误：{0}")]
    Db(#[from] sqlx::Error),
    /// SQLite refused a row written through its C API (bulk writes).
    #[error("数据库错误：{0}")]
    Rows(#[from] yimeng_sqlite_rows::Error),
}

impl StoreError {
    /// True when the database refused a write for a unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Rows(e) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// True when the write waited for the database's single writer longer than it may: SQLite
    /// answered "database is locked" (`SQLITE_BUSY` and its extended codes, after the busy
    /// timeout: another process, such as a CLI import, holds the write lock), or no connection
    /// of the pool came free in time (in this process the writer is one connection, held by a
    /// running import). Nothing is wrong with the request: it can be retried later.
    pub fn is_busy(&self) -> bool {
        const SQLITE_BUSY: i32 = 5;
        match self {
            StoreError::Db(sqlx::Error::PoolTimedOut) => true,
            StoreError::Db(sqlx::Error::Database(e)) => {
                // Only SQLite's codes are plain integers; PostgreSQL's are five-character
                // SQLSTATEs such as "40001", which are not a busy writer.
                e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
                    && e.code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| c & 0xff == SQLITE_BUSY)
            }
            StoreError::Rows(e) => e.code & 0xff == SQLITE_BUSY,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use sqlx::Connection;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
    use std::time::Duration;

    /// A write refused because another connection holds SQLite's write lock is "busy"; other
    /// database errors are not.
    #[tokio::test]
    async fn a_locked_sqlite_database_is_busy_and_a_constraint_is_not() {
        let dir = std::env::temp_dir().join(format!("yimeng-busy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("busy.db");
        let _ = std::fs::remove_file(&path);
        let opts = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .busy_timeout(Duration::from_millis(50));
        let mut holder = SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&mut holder)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut holder)
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let mut other = SqliteConnection::connect_with(&opts).await.unwrap();
        let locked: StoreError = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut other)
            .await
            .unwrap_err()
            .into();
        assert!(locked.is_busy(), "{locked}");
        sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
        let dup: StoreError = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut other)
            .await
            .unwrap_err()
            .into();
        assert!(!dup.is_busy(), "{dup}");
        assert!(dup.is_unique_violation());
        assert!(StoreError::Db(sqlx::Error::PoolTimedOut).is_busy());
        assert!(!StoreError::NotFound.is_busy());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
