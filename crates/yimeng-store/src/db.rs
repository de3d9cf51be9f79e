//! The two stores behind one [`Db`]: SQLite (WAL, one writer, a read pool) and PostgreSQL.
//!
//! Queries are written once as SQL text with `$n` placeholders, which both backends accept, and
//! their arguments are bound from [`Value`]s; bulk paths and heavy aggregates may differ per backend.

use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments, AssertSqlSafe, ConnectOptions, FromRow, Postgres, Sqlite};
use std::str::FromStr;
use std::time::Duration;

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A handle on the store; cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: one writer connection (SQLite allows one writer) and a pool of readers.
    Sqlite {
        /// The single writer.
        writer: SqlitePool,
        /// Readers (WAL lets them run beside the writer).
        reader: SqlitePool,
    },
    /// PostgreSQL.
    Postgres(PgPool),
}

/// How SQLite makes a commit durable (`PRAGMA synchronous`, in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSync {
    /// `FULL` (the default): the WAL is synced at every commit, so a committed change survives
    /// a power cut or an operating-system crash.
    #[default]
    Full,
    /// `NORMAL`: the WAL is synced only at checkpoints. The database never corrupts, but the last
    /// commits before a power cut may be lost. Faster for bulk loads; an explicit choice
    /// (`[store] sqlite_synchronous = "normal"`).
    Normal,
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Readers in the SQLite pool / connections in the PostgreSQL pool.
    pub max_connections: u32,
    /// SQLite page cache per connection, in KiB.
    pub sqlite_cache_kib: i64,
    /// SQLite durability of commits.
    pub sqlite_synchronous: SqliteSync,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 8,
            sqlite_cache_kib: 64 * 1024,
            sqlite_synchronous: SqliteSync::Full,
        }
    }
}

/// The default embedded store.
pub const DEFAULT_SQLITE_PATH: &str = "data/yimeng.db";

impl Db {
    /// Opens the store named by `url` (`postgres://…`, `sqlite:path` or a plain file path) and applies
    /// pending migrations.
    #[tracing::instrument(skip_all)]
    pub async fn open(url: &str, opts: &DbOptions) -> Result<Db> {
        let db = Db::connect(url, opts).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Connects without migrating.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Statements are logged at debug level only; slow-statement warnings would print SQL
            // of bulk imports thousands of parameters long.
            let o = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(e.to_string()))?
                .log_statements(log::LevelFilter::Debug)
                .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(5));
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections.max(2))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(o)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains(":memory:") {
            return Err(StoreError::Config(
                "SQLite 需要一个文件路径（如 data/yimeng.db）".into(),
            ));
        }
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("无法创建目录 {}：{e}", dir.display())))?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // 16 KiB pages: a new database writes a third as many WAL frames on bulk imports.
            .pragma("page_size", "16384")
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match opts.sqlite_synchronous {
                SqliteSync::Full => SqliteSynchronous::Full,
                SqliteSync::Normal => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(60))
            .pragma("cache_size", format!("-{}", opts.sqlite_cache_kib))
            .log_statements(log::LevelFilter::Debug)
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(120))
            .idle_timeout(None)
            .max_lifetime(None)
            // A bulk import turns foreign-key checks off on the writer for its transaction (it has
            // checked every reference itself); whatever happens, they are back on when the
            // connection returns to the pool.
            .after_release(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    Ok(true)
                })
            })
            .connect_with(base.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(
                // 8 MiB of page cache per reader (the OS page cache holds the rest): eight readers
                // and the writer keep the server well under 300 MB at city scale.
                base.pragma("query_only", "ON")
                    .pragma("cache_size", "-8192"),
            )
            .await?;
        Ok(Db::Sqlite { writer, reader })
    }

    /// Applies pending migrations (`migrations/sqlite` or `migrations/postgres`).
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { writer, .. } => sqlx::migrate!("./migrations/sqlite").run(writer).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The migration versions this build knows, for `yimeng migrate` to report.
    pub fn known_migrations(&self) -> Vec<(i64, String)> {
        let m = match self {
            Db::Sqlite { .. } => sqlx::migrate!("./migrations/sqlite"),
            Db::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        m.iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    /// Refreshes the planner's statistics. Without them SQLite cannot tell that
    /// `student_by_school` beats a scan of a county's primary-key range (a class roster at full
    /// scale goes from about a second to a millisecond). Run after bulk loads and at start-up;
    /// on SQLite it samples (`analysis_limit`), so it takes well under a second at city scale.
    #[tracing::instrument(skip_all)]
    pub async fn analyze(&self) -> Result<()> {
        match self {
            Db::Sqlite { writer, .. } => {
                let mut conn = writer.acquire().await?;
                sqlx::query("PRAGMA analysis_limit = 1000")
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("ANALYZE").execute(&mut *conn).await?;
            }
            Db::Postgres(pool) => {
                sqlx::query("ANALYZE").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes the pools (SQLite checkpoints its WAL).
    #[tracing::instrument(skip_all)]
    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }

    /// Starts a write transaction.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?, self.clone()),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?, self.clone()),
        })
    }

    /// Starts a write transaction for a bulk load whose references the caller has checked: on
    /// SQLite, foreign-key checks are off for this transaction (they come back on when the writer
    /// returns to the pool); on PostgreSQL it is a plain transaction (the bulk path there drops
    /// and re-adds the constraints, which re-validates them).
    pub(crate) async fn begin_bulk(&self) -> Result<Tx> {
        match self {
            Db::Sqlite { writer, .. } => {
                let mut conn = writer.acquire().await?;
                sqlx::query("PRAGMA foreign_keys = OFF")
                    .execute(&mut *conn)
                    .await?;
                let tx = sqlx::Transaction::begin(
                    conn,
                    Some(sqlx::SqlSafeStr::into_sql_str("BEGIN IMMEDIATE")),
                )
                .await?;
                Ok(Tx::Sqlite(tx, self.clone()))
            }
            Db::Postgres(_) => self.begin().await,
        }
    }

    /// All rows.
    pub(crate) async fn all<T: Rowable>(&self, q: Sql) -> Result<Vec<T>> {
        match self {
            Db::Sqlite { reader, .. } => Ok(q.sqlite_as::<T>()?.fetch_all(reader).await?),
            Db::Postgres(p) => Ok(q.pg_as::<T>()?.fetch_all(p).await?),
        }
    }
    /// Every row, handed to `each` as the database yields it: one query (one sort), nothing
    /// collected, memory flat at any size. `each` stops the read by returning an error.
    pub(crate) async fn each<T: Rowable>(
        &self,
        q: Sql,
        mut each: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        match self {
            Db::Sqlite { reader, .. } => {
                let query = q.sqlite_as::<T>()?;
                let mut rows = query.fetch(reader);
                while let Some(r) = rows.try_next().await? {
                    each(r)?;
                }
            }
            Db::Postgres(p) => {
                let query = q.pg_as::<T>()?;
                let mut rows = query.fetch(p);
                while let Some(r) = rows.try_next().await? {
                    each(r)?;
                }
            }
        }
        Ok(())
    }
    /// At most one row.
    pub(crate) async fn opt<T: Rowable>(&self, q: Sql) -> Result<Option<T>> {
        match self {
            Db::Sqlite { reader, .. } => Ok(q.sqlite_as::<T>()?.fetch_optional(reader).await?),
            Db::Postgres(p) => Ok(q.pg_as::<T>()?.fetch_optional(p).await?),
        }
    }
    /// Exactly one row, or [`StoreError::NotFound`].
    pub(crate) async fn one<T: Rowable>(&self, q: Sql) -> Result<T> {
        self.opt(q).await?.ok_or(StoreError::NotFound)
    }
    /// One `i64` (a count).
    pub(crate) async fn scalar(&self, q: Sql) -> Result<i64> {
        Ok(self.one::<(i64,)>(q).await?.0)
    }
    /// Runs a statement on the writer (outside any transaction); returns rows affected.
    pub(crate) async fn exec(&self, q: Sql) -> Result<u64> {
        match self {
            Db::Sqlite { writer, .. } => Ok(q.sqlite()?.execute(writer).await?.rows_affected()),
            Db::Postgres(p) => Ok(q.pg()?.execute(p).await?.rows_affected()),
        }
    }
    /// Hands out `n` consecutive ids of a sequence, returning the first. Runs on its own so that a
    /// long import on PostgreSQL does not hold the allocator's row lock (gaps are harmless).
    pub(crate) async fn alloc_ids(&self, name: &str, n: i64) -> Result<i64> {
        let q = alloc_sql(name, n);
        match self {
            Db::Sqlite { writer, .. } => Ok(q.sqlite_as::<(i64,)>()?.fetch_one(writer).await?.0),
            Db::Postgres(p) => Ok(q.pg_as::<(i64,)>()?.fetch_one(p).await?.0),
        }
    }
}

fn alloc_sql(name: &str, n: i64) -> Sql {
    let mut q = Sql::new("UPDATE id_alloc SET next_id = next_id + ");
    q.bind(n)
        .push(" WHERE name = ")
        .bind(name)
        .push(" RETURNING next_id - ")
        .bind(n);
    q
}

/// A write transaction on either backend. Dropping it without [`Tx::commit`] rolls back.
pub enum Tx {
    /// SQLite, on the writer connection.
    Sqlite(sqlx::Transaction<'static, Sqlite>, Db),
    /// PostgreSQL.
    Postgres(sqlx::Transaction<'static, Postgres>, Db),
}

impl Tx {
    /// Commits.
    #[tracing::instrument(skip_all)]
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _) => t.commit().await?,
            Tx::Postgres(t, _) => t.commit().await?,
        }
        Ok(())
    }
    /// Rolls back.
    #[tracing::instrument(skip_all)]
    pub async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _) => t.rollback().await?,
            Tx::Postgres(t, _) => t.rollback().await?,
        }
        Ok(())
    }
    /// On SQLite, prepares `sql` on the transaction's connection and hands the statement to
    /// `write`, which steps it once per row (`yimeng-sqlite-rows`). The connection is locked for
    /// the call; the work runs off the async worker when the runtime allows it. Not for
    /// PostgreSQL, which loads rows by COPY.
    #[tracing::instrument(skip_all)]
    pub async fn with_sqlite_rows<F>(&mut self, sql: &str, write: F) -> Result<()>
    where
        F: FnOnce(
            &mut yimeng_sqlite_rows::Statement<'_>,
        ) -> std::result::Result<(), yimeng_sqlite_rows::Error>,
    {
        let Tx::Sqlite(t, _) = self else {
            return Err(StoreError::Invalid(
                "逐行写入只用于 SQLite（PostgreSQL 用 COPY）".into(),
            ));
        };
        let mut lock = t.lock_handle().await?;
        off_worker(move || {
            let mut stmt = yimeng_sqlite_rows::Statement::prepare(&mut lock, sql)?;
            write(&mut stmt)
        })
        .map_err(StoreError::from)
    }
    /// Which backend.
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(..) => Backend::Sqlite,
            Tx::Postgres(..) => Backend::Postgres,
        }
    }
    /// All rows.
    #[tracing::instrument(skip_all)]
    pub async fn all<T: Rowable>(&mut self, q: Sql) -> Result<Vec<T>> {
        match self {
            Tx::Sqlite(t, _) => Ok(q.sqlite_as::<T>()?.fetch_all(&mut **t).await?),
            Tx::Postgres(t, _) => Ok(q.pg_as::<T>()?.fetch_all(&mut **t).await?),
        }
    }
    /// At most one row.
    #[tracing::instrument(skip_all)]
    pub async fn opt<T: Rowable>(&mut self, q: Sql) -> Result<Option<T>> {
        match self {
            Tx::Sqlite(t, _) => Ok(q.sqlite_as::<T>()?.fetch_optional(&mut **t).await?),
            Tx::Postgres(t, _) => Ok(q.pg_as::<T>()?.fetch_optional(&mut **t).await?),
        }
    }
    /// Exactly one row, or [`StoreError::NotFound`].
    #[tracing::instrument(skip_all)]
    pub async fn one<T: Rowable>(&mut self, q: Sql) -> Result<T> {
        self.opt(q).await?.ok_or(StoreError::NotFound)
    }
    /// One `i64`.
    #[tracing::instrument(skip_all)]
    pub async fn scalar(&mut self, q: Sql) -> Result<i64> {
        Ok(self.one::<(i64,)>(q).await?.0)
    }
    /// Runs a statement; returns rows affected.
    #[tracing::instrument(skip_all)]
    pub async fn exec(&mut self, q: Sql) -> Result<u64> {
        match self {
            Tx::Sqlite(t, _) => Ok(q.sqlite()?.execute(&mut **t).await?.rows_affected()),
            Tx::Postgres(t, _) => Ok(q.pg()?.execute(&mut **t).await?.rows_affected()),
        }
    }
    /// Hands out `n` ids (see [`Db::alloc_ids`]). On SQLite the single writer is this transaction's
    /// connection, so the allocation runs inside it.
    #[tracing::instrument(skip_all)]
    pub async fn alloc_ids(&mut self, name: &str, n: i64) -> Result<i64> {
        match self {
            Tx::Sqlite(t, _) => Ok(alloc_sql(name, n)
                .sqlite_as::<(i64,)>()?
                .fetch_one(&mut **t)
                .await?
                .0),
            Tx::Postgres(_, db) => db.alloc_ids(name, n).await,
        }
    }
    /// Streams `data` (PostgreSQL COPY text format) into `statement` (`COPY t (cols) FROM STDIN`).
    /// Only on PostgreSQL.
    #[tracing::instrument(skip_all)]
    pub async fn copy_in(&mut self, statement: &str, data: &[u8]) -> Result<u64> {
        match self {
            Tx::Postgres(t, _) => {
                let mut c = t.copy_in_raw(statement).await?;
                c.send(data).await?;
                Ok(c.finish().await?)
            }
            Tx::Sqlite(..) => Err(StoreError::Config("COPY 仅适用于 PostgreSQL".into())),
        }
    }
}

/// A row type both backends can decode.
pub trait Rowable:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Rowable for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A bound value. `None` variants keep their type, which PostgreSQL needs for NULL parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// smallint
    I16(Option<i16>),
    /// integer
    I32(Option<i32>),
    /// bigint
    I64(Option<i64>),
    /// boolean
    Bool(Option<bool>),
    /// text
    Text(Option<String>),
    /// date
    Date(Option<NaiveDate>),
    /// timestamptz
    Ts(Option<DateTime<Utc>>),
    /// double precision (SQLite REAL)
    F64(Option<f64>),
    /// bytea (SQLite BLOB)
    Bytes(Option<Vec<u8>>),
}

macro_rules! value_from {
    ($t:ty, $v:ident) => {
        impl From<$t> for Value {
            fn from(x: $t) -> Value {
                Value::$v(Some(x))
            }
        }
        impl From<Option<$t>> for Value {
            fn from(x: Option<$t>) -> Value {
                Value::$v(x)
            }
        }
    };
}
value_from!(i16, I16);
value_from!(i32, I32);
value_from!(i64, I64);
value_from!(bool, Bool);
value_from!(String, Text);
value_from!(NaiveDate, Date);
value_from!(DateTime<Utc>, Ts);
value_from!(f64, F64);
value_from!(Vec<u8>, Bytes);
impl From<&str> for Value {
    fn from(x: &str) -> Value {
        Value::Text(Some(x.to_string()))
    }
}
impl From<Option<&str>> for Value {
    fn from(x: Option<&str>) -> Value {
        Value::Text(x.map(str::to_string))
    }
}
impl From<&String> for Value {
    fn from(x: &String) -> Value {
        Value::Text(Some(x.clone()))
    }
}

/// SQL text with `$n` placeholders and its arguments, built in order.
///
/// A second rendering with anonymous `?` placeholders is kept for SQLite: there a named parameter
/// costs a linear lookup per bind (`sqlite3_bind_parameter_name`), which makes a 30,000-parameter
/// bulk INSERT quadratic. Every placeholder is appended by [`Sql::bind`], once and in order, so the
/// two renderings always agree.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    sqlite_text: String,
    args: Vec<Value>,
}

impl Sql {
    /// Starts a statement.
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            sqlite_text: text.to_string(),
            args: Vec::new(),
        }
    }
    /// Appends SQL text. Never pass user input here: bind it.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self.sqlite_text.push_str(text);
        self
    }
    /// Appends a placeholder bound to `v`.
    pub fn bind(&mut self, v: impl Into<Value>) -> &mut Sql {
        self.args.push(v.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self.sqlite_text.push('?');
        self
    }
    /// Appends `(v1, v2, …)` for an `IN` list. An empty list renders `(NULL)`, which matches nothing.
    pub fn bind_list<V: Into<Value>>(&mut self, vs: impl IntoIterator<Item = V>) -> &mut Sql {
        self.push("(");
        let mut first = true;
        for v in vs {
            if !first {
                self.push(", ");
            }
            first = false;
            self.bind(v);
        }
        if first {
            self.push("NULL");
        }
        self.push(")");
        self
    }
    /// Appends another statement fragment with its arguments (its `$n` placeholders renumbered;
    /// the SQLite rendering uses anonymous placeholders, which need nothing).
    pub fn append(&mut self, other: &Sql) {
        let base = self.args.len();
        let mut rest = other.text.as_str();
        while let Some(pos) = rest.find('$') {
            self.text.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            self.text.push('$');
            if digits > 0 {
                let n: usize = after[..digits].parse().unwrap_or(0);
                self.text.push_str(&(n + base).to_string());
            }
            rest = &after[digits..];
        }
        self.text.push_str(rest);
        self.sqlite_text.push_str(&other.sqlite_text);
        self.args.extend(other.args.iter().cloned());
    }
    /// The SQL text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Number of bound arguments.
    pub fn arg_count(&self) -> usize {
        self.args.len()
    }

    fn sqlite_args(args: Vec<Value>) -> Result<SqliteArguments> {
        let mut a = SqliteArguments::default();
        a.reserve(args.len(), 0);
        for v in args {
            let r = match v {
                Value::I16(x) => a.add(x),
                Value::I32(x) => a.add(x),
                Value::I64(x) => a.add(x),
                Value::Bool(x) => a.add(x),
                Value::Text(x) => a.add(x),
                Value::Date(x) => a.add(x),
                Value::Ts(x) => a.add(x),
                Value::F64(x) => a.add(x),
                Value::Bytes(x) => a.add(x),
            };
            r.map_err(sqlx::Error::Encode)?;
        }
        Ok(a)
    }
    fn pg_args(args: Vec<Value>) -> Result<PgArguments> {
        let mut a = PgArguments::default();
        for v in args {
            let r = match v {
                Value::I16(x) => a.add(x),
                Value::I32(x) => a.add(x),
                Value::I64(x) => a.add(x),
                Value::Bool(x) => a.add(x),
                Value::Text(x) => a.add(x),
                Value::Date(x) => a.add(x),
                Value::Ts(x) => a.add(x),
                Value::F64(x) => a.add(x),
                Value::Bytes(x) => a.add(x),
            };
            r.map_err(sqlx::Error::Encode)?;
        }
        Ok(a)
    }
    fn sqlite_as<T: Rowable>(
        self,
    ) -> Result<sqlx::query::QueryAs<'static, Sqlite, T, SqliteArguments>> {
        Ok(sqlx::query_as_with(
            AssertSqlSafe(self.sqlite_text),
            Sql::sqlite_args(self.args)?,
        ))
    }
    fn pg_as<T: Rowable>(self) -> Result<sqlx::query::QueryAs<'static, Postgres, T, PgArguments>> {
        Ok(sqlx::query_as_with(
            AssertSqlSafe(self.text),
            Sql::pg_args(self.args)?,
        ))
    }
    fn sqlite(self) -> Result<sqlx::query::Query<'static, Sqlite, SqliteArguments>> {
        Ok(sqlx::query_with(
            AssertSqlSafe(self.sqlite_text),
            Sql::sqlite_args(self.args)?,
        ))
    }
    fn pg(self) -> Result<sqlx::query::Query<'static, Postgres, PgArguments>> {
        Ok(sqlx::query_with(
            AssertSqlSafe(self.text),
            Sql::pg_args(self.args)?,
        ))
    }
}

/// Appends the scope filter of a county-owned table aliased `alias`: `alias.county_id IN (…)` and,
/// for school-limited scopes, `alias.<school_col> IN (…)` per county. Always filters `county_id`.
pub fn push_scope(q: &mut Sql, scope: &yimeng_domain::Scope, alias: &str, school_col: &str) {
    let counties: Vec<i32> = scope.counties().iter().map(|c| c.get()).collect();
    q.push(alias).push(".county_id IN ").bind_list(counties);
    if let Some(schools) = scope.schools() {
        q.push(" AND ")
            .push(alias)
            .push(".")
            .push(school_col)
            .push(" IN ")
            .bind_list(schools.iter().map(|s| s.id));
    }
}

impl Db {
    /// On SQLite, reads `q` (which must select `T::COLUMNS` in order) on a reader connection
    /// through SQLite's C API (`yimeng-sqlite-rows`), without sqlx's copy of every value and its
    /// channel hop per row; the connection is locked for the call and the work runs off the
    /// async worker when the runtime allows it. `None` on PostgreSQL (read it with [`Db::all`]).
    pub(crate) async fn sqlite_rows<T: crate::bulk::TableRow>(
        &self,
        q: Sql,
    ) -> Result<Option<Vec<T>>> {
        let Db::Sqlite { reader, .. } = self else {
            return Ok(None);
        };
        let mut conn = reader.acquire().await?;
        let lock = conn.lock_handle().await?;
        let Sql {
            sqlite_text, args, ..
        } = q;
        let run = move || -> Result<Vec<T>> {
            let mut lock = lock;
            let texts: Vec<Option<String>> = args
                .iter()
                .map(|v| match v {
                    Value::Date(Some(d)) => Some(d.format("%Y-%m-%d").to_string()),
                    Value::Ts(Some(t)) => {
                        Some(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
                    }
                    _ => None,
                })
                .collect();
            use yimeng_sqlite_rows::Val;
            let vals: Vec<Val<'_>> = args
                .iter()
                .zip(&texts)
                .map(|(v, t)| match (v, t) {
                    (_, Some(t)) => Val::Text(t),
                    (Value::I16(Some(x)), _) => Val::Int(i64::from(*x)),
                    (Value::I32(Some(x)), _) => Val::Int(i64::from(*x)),
                    (Value::I64(Some(x)), _) => Val::Int(*x),
                    (Value::Bool(Some(x)), _) => Val::Int(i64::from(*x)),
                    (Value::Text(Some(x)), _) => Val::Text(x),
                    (Value::F64(Some(x)), _) => Val::Real(*x),
                    (Value::Bytes(Some(x)), _) => Val::Blob(x),
                    _ => Val::Null,
                })
                .collect();
            let mut stmt = yimeng_sqlite_rows::Statement::prepare(&mut lock, &sqlite_text)?;
            let mut out = Vec::new();
            stmt.query(&vals, |r| -> Result<()> {
                out.push(T::from_sqlite(r)?);
                Ok(())
            })?;
            Ok(out)
        };
        Ok(Some(off_worker(run)?))
    }
}

/// Runs blocking work (SQLite's C API on a locked connection) off the async worker when the
/// runtime has other workers to take over (`block_in_place`), else in place.
fn off_worker<T>(work: impl FnOnce() -> T) -> T {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// A keyset page of a registry table for exports: rows in scope after `after` in
/// `(county_id, id)` order, at most `limit`. Read as one range of the primary key per county
/// (`county_id = ? AND id > ?`), so a page costs its own rows only. (One query with
/// `county_id > a OR (county_id = a AND id > b)` under the scope's `county_id IN (…)` made
/// SQLite walk each county from its first row on every page: quadratic in a county's size.)
pub(crate) async fn page_after<T: Rowable + crate::bulk::TableRow>(
    db: &Db,
    scope: &yimeng_domain::Scope,
    alias: &str,
    school_col: &str,
    after: (i32, i64),
    limit: i64,
) -> Result<Vec<T>> {
    // The columns in the row type's order, so that SQLite's C API path can read them by
    // position.
    let select = format!(
        "SELECT {} FROM {} {alias} WHERE ",
        T::COLUMNS
            .iter()
            .map(|c| format!("{alias}.{c}"))
            .collect::<Vec<_>>()
            .join(", "),
        T::TABLE
    );
    let select = select.as_str();
    let mut counties: Vec<i32> = scope
        .counties()
        .iter()
        .map(|c| c.get())
        .filter(|&c| c >= after.0)
        .collect();
    counties.sort_unstable();
    counties.dedup();
    let mut out: Vec<T> = Vec::new();
    for c in counties {
        let left = limit - out.len() as i64;
        if left <= 0 {
            break;
        }
        let mut q = Sql::new(select);
        q.push(alias).push(".county_id = ").bind(c);
        if let Some(schools) = scope.schools() {
            q.push(" AND ")
                .push(alias)
                .push(".")
                .push(school_col)
                .push(" IN ")
                .bind_list(schools.iter().map(|s| s.id));
        }
        let from = if c == after.0 { after.1 } else { i64::MIN };
        q.push(" AND ")
            .push(alias)
            .push(".id > ")
            .bind(from)
            .push(" ORDER BY ")
            .push(alias)
            .push(".id LIMIT ")
            .bind(left);
        match db.backend() {
            crate::Backend::Sqlite => out.extend(db.sqlite_rows::<T>(q).await?.unwrap_or_default()),
            crate::Backend::Postgres => out.extend(db.all::<T>(q).await?),
        }
    }
    Ok(out)
}

/// Escapes one field for PostgreSQL's COPY text format.
pub fn copy_field(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s)
            if !s
                .bytes()
                .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) =>
        {
            out.extend_from_slice(s.as_bytes())
        }
        Some(s) => {
            for b in s.bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut q = Sql::new("SELECT 1 WHERE a = ");
        q.bind(1i64).push(" AND b IN ").bind_list(["x", "y"]);
        assert_eq!(q.text(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(q.sqlite_text, "SELECT 1 WHERE a = ? AND b IN (?, ?)");
        let mut tail = Sql::new(" AND c = ");
        tail.bind(5i64);
        let mut head = Sql::new("SELECT 1 WHERE a = ");
        head.bind(1i64);
        head.append(&tail);
        assert_eq!(head.text(), "SELECT 1 WHERE a = $1 AND c = $2");
        assert_eq!(head.arg_count(), 2);
        assert_eq!(q.arg_count(), 3);
        let mut e = Sql::new("x IN ");
        e.bind_list(Vec::<i64>::new());
        assert_eq!(e.text(), "x IN (NULL)");
    }

    #[tokio::test]
    async fn sqlite_commits_are_synced_in_full_unless_normal_is_chosen() {
        assert_eq!(DbOptions::default().sqlite_synchronous, SqliteSync::Full);
        // PRAGMA synchronous: 2 = FULL, 1 = NORMAL; on the writer and on every reader.
        for (sync, expected) in [(SqliteSync::Full, 2i64), (SqliteSync::Normal, 1)] {
            let dir =
                std::env::temp_dir().join(format!("yimeng-sync-{}-{sync:?}", std::process::id()));
            let path = dir.join("t.db");
            let opts = DbOptions {
                sqlite_synchronous: sync,
                max_connections: 2,
                ..DbOptions::default()
            };
            let db = Db::connect(path.to_str().unwrap(), &opts).await.unwrap();
            let Db::Sqlite { writer, reader } = &db else {
                unreachable!("a file path opens SQLite")
            };
            for pool in [writer, reader] {
                let v: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert_eq!(v, expected, "{sync:?}");
            }
            db.close().await;
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    #[test]
    fn copy_fields_escape_tabs_newlines_and_backslashes() {
        let mut out = Vec::new();
        copy_field(&mut out, Some("a\tb\\c\nd"));
        out.push(b'\t');
        copy_field(&mut out, None);
        assert_eq!(out, b"a\\tb\\\\c\\nd\t\\N");
    }
}
