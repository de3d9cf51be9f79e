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
}
