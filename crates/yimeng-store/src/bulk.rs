//! Bulk writes shared by the importers: rows described once as columns and values, written by
//! one prepared statement per row on SQLite (`yimeng-sqlite-rows`), COPY on PostgreSQL (inserts)
//! and multi-row INSERTs on PostgreSQL (upserts).

use crate::Result;
use crate::db::{Backend, Sql, Tx, Value, copy_field};
use chrono::{DateTime, NaiveDate, Utc};

/// Columns that are bookkeeping, not content: they are left out of the content hash, and
/// `created_*` are kept when a row is updated.
pub const NON_CONTENT: &[&str] = &[
    "id",
    "content_hash",
    "created_batch",
    "created_at",
    "updated_at",
];

/// A borrowed column value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// smallint
    I16(Option<i16>),
    /// integer
    I32(Option<i32>),
    /// bigint
    I64(Option<i64>),
    /// boolean
    Bool(Option<bool>),
    /// text
    Text(Option<&'a str>),
    /// date
    Date(Option<NaiveDate>),
    /// timestamptz
    Ts(Option<DateTime<Utc>>),
    /// double precision
    F64(Option<f64>),
    /// bytea
    Bytes(Option<&'a [u8]>),
}

impl ValueRef<'_> {
    /// An owned copy.
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::I16(x) => Value::I16(x),
            ValueRef::I32(x) => Value::I32(x),
            ValueRef::I64(x) => Value::I64(x),
            ValueRef::Bool(x) => Value::Bool(x),
            ValueRef::Text(x) => Value::Text(x.map(str::to_string)),
            ValueRef::Date(x) => Value::Date(x),
            ValueRef::Ts(x) => Value::Ts(x),
            ValueRef::F64(x) => Value::F64(x),
            ValueRef::Bytes(x) => Value::Bytes(x.map(<[u8]>::to_vec)),
        }
    }
}

/// A Rust field type that maps to one column.
pub trait Column: Sized {
    /// Borrowed value.
    fn value_ref(&self) -> ValueRef<'_>;
    /// Owned value, moving strings instead of copying them.
    fn into_value(self) -> Value;
    /// The value of column `i` of a row read through SQLite's C API (as sqlx would decode it).
    fn from_sqlite(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Self, String>;
}

/// A column's value read through SQLite's C API, before it is made the field's type.
trait FromSqlite: Sized {
    fn read(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Option<Self>, String>;
}

impl FromSqlite for i64 {
    fn read(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Option<i64>, String> {
        Ok(row.int(i))
    }
}
impl FromSqlite for i32 {
    fn read(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Option<i32>, String> {
        row.int(i)
            .map(|v| i32::try_from(v).map_err(|e| e.to_string()))
            .transpose()
    }
}
impl FromSqlite for i16 {
    fn read(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Option<i16>, String> {
        row.int(i)
            .map(|v| i16::try_from(v).map_err(|e| e.to_string()))
            .transpose()
    }
}
impl FromSqlite for bool {
    fn read(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Option<bool>, String> {
        Ok(row.int(i).map(|v| v != 0))
    }
}
impl FromSqlite for NaiveDate {
    fn read(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Option<NaiveDate>, String> {
        row.text(i)
            .map_err(|e| e.to_string())?
            // `FromStr` reads the ISO form the store writes without interpreting a format string
            // per value (`parse_from_str` did, a few percent of a full export).
            .map(|t| t.parse::<NaiveDate>().map_err(|e| format!("{t}：{e}")))
            .transpose()
    }
}
impl FromSqlite for DateTime<Utc> {
    fn read(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Option<DateTime<Utc>>, String> {
        let Some(t) = row.text(i).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        // RFC 3339 as the bulk path and sqlx write it; SQLite's own `datetime()` form (UTC) for
        // values a statement computed.
        if let Ok(d) = DateTime::parse_from_rfc3339(t) {
            return Ok(Some(d.with_timezone(&Utc)));
        }
        chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
            .map(|n| Some(n.and_utc()))
            .map_err(|e| format!("{t}：{e}"))
    }
}
impl FromSqlite for String {
    fn read(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Option<String>, String> {
        Ok(row.text(i).map_err(|e| e.to_string())?.map(str::to_string))
    }
}

macro_rules! column_impl {
    ($t:ty, $v:ident) => {
        impl Column for $t {
            fn value_ref(&self) -> ValueRef<'_> {
                ValueRef::$v(Some(*self))
            }
            fn into_value(self) -> Value {
                Value::$v(Some(self))
            }
            fn from_sqlite(
                row: &yimeng_sqlite_rows::Row<'_>,
                i: usize,
            ) -> std::result::Result<Self, String> {
                <$t as FromSqlite>::read(row, i)?.ok_or_else(|| "不应为空".to_string())
            }
        }
        impl Column for Option<$t> {
            fn value_ref(&self) -> ValueRef<'_> {
                ValueRef::$v(*self)
            }
            fn into_value(self) -> Value {
                Value::$v(self)
            }
            fn from_sqlite(
                row: &yimeng_sqlite_rows::Row<'_>,
                i: usize,
            ) -> std::result::Result<Self, String> {
                <$t as FromSqlite>::read(row, i)
            }
        }
    };
}
column_impl!(i16, I16);
column_impl!(i32, I32);
column_impl!(i64, I64);
column_impl!(bool, Bool);
column_impl!(NaiveDate, Date);
column_impl!(DateTime<Utc>, Ts);

impl Column for String {
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Text(Some(self))
    }
    fn into_value(self) -> Value {
        Value::Text(Some(self))
    }
    fn from_sqlite(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Self, String> {
        String::read(row, i)?.ok_or_else(|| "不应为空".to_string())
    }
}
impl Column for Option<String> {
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_deref())
    }
    fn into_value(self) -> Value {
        Value::Text(self)
    }
    fn from_sqlite(
        row: &yimeng_sqlite_rows::Row<'_>,
        i: usize,
    ) -> std::result::Result<Self, String> {
        String::read(row, i)
    }
}

/// A row of a table, described by its columns in order.
pub trait TableRow: Send + Sync + Sized {
    /// Table name.
    const TABLE: &'static str;
    /// Column names, in field order.
    const COLUMNS: &'static [&'static str];
    /// Conflict target for upserts.
    const KEY: &'static str;
    /// Calls `f` with each column's value, in column order.
    fn visit(&self, f: &mut dyn FnMut(ValueRef<'_>));
    /// Appends each column's value, borrowed from the row, in column order.
    fn refs<'a>(&'a self, out: &mut Vec<ValueRef<'a>>);
    /// The values, moved out of the row.
    fn into_values(self) -> Vec<Value>;
    /// The row read through SQLite's C API from a statement selecting [`Self::COLUMNS`] in order.
    fn from_sqlite(row: &yimeng_sqlite_rows::Row<'_>) -> crate::Result<Self>;
    /// The values, copied.
    fn values(&self) -> Vec<Value> {
        let mut v = Vec::with_capacity(Self::COLUMNS.len());
        self.visit(&mut |x| v.push(x.to_owned()));
        v
    }
    /// Hash of the content columns (see [`NON_CONTENT`]).
    fn compute_hash(&self) -> i64 {
        let mut h = crate::hash::Fnv::new();
        let mut i = 0;
        self.visit(&mut |x| {
            if !NON_CONTENT.contains(&Self::COLUMNS[i]) {
                h.value(x);
            }
            i += 1;
        });
        h.finish()
    }
}

/// Implements [`TableRow`] for a struct whose fields are its columns, in order.
macro_rules! table_row {
    ($ty:ident, $table:literal, $key:literal, [$($field:ident),+ $(,)?]) => {
        impl $crate::bulk::TableRow for $ty {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
            const KEY: &'static str = $key;
            fn visit(&self, f: &mut dyn FnMut($crate::bulk::ValueRef<'_>)) {
                $( f($crate::bulk::Column::value_ref(&self.$field)); )+
            }
            fn refs<'a>(&'a self, out: &mut Vec<$crate::bulk::ValueRef<'a>>) {
                $( out.push($crate::bulk::Column::value_ref(&self.$field)); )+
            }
            fn into_values(self) -> Vec<$crate::db::Value> {
                vec![$( $crate::bulk::Column::into_value(self.$field) ),+]
            }
            #[allow(unused_assignments)]
            fn from_sqlite(row: &yimeng_sqlite_rows::Row<'_>) -> $crate::Result<Self> {
                let mut i = 0usize;
                Ok($ty {
                    $( $field: {
                        let v = $crate::bulk::Column::from_sqlite(row, i).map_err(|e| {
                            $crate::StoreError::Invalid(format!(
                                "{}.{} 的存储值无法读取：{e}",
                                $table,
                                stringify!($field)
                            ))
                        })?;
                        i += 1;
                        v
                    }, )+
                })
            }
        }
    };
}
pub(crate) use table_row;

/// Rows per multi-row INSERT statement on PostgreSQL (upserts), at most 30,000 parameters.
fn rows_per_statement(columns: usize) -> usize {
    (30_000 / columns).clamp(1, 1000)
}

/// Inserts rows (no conflict handling): COPY on PostgreSQL; on SQLite one prepared statement
/// stepped per row through SQLite's C API (see `yimeng-sqlite-rows`).
#[tracing::instrument(skip_all)]
pub async fn insert<R: TableRow>(tx: &mut Tx, rows: Vec<R>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match tx.backend() {
        Backend::Postgres => {
            let mut data = Vec::with_capacity(rows.len() * 256);
            let mut ts = TsCache::default();
            for r in &rows {
                copy_row(&mut data, r, &mut ts);
            }
            drop(rows);
            let stmt = format!("COPY {} ({}) FROM STDIN", R::TABLE, R::COLUMNS.join(", "));
            tx.copy_in(&stmt, &data).await?;
        }
        Backend::Sqlite => {
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                R::TABLE,
                R::COLUMNS.join(", "),
                vec!["?"; R::COLUMNS.len()].join(", ")
            );
            tx.with_sqlite_rows(&sql, |stmt| write_rows(stmt, &rows))
                .await?;
        }
    }
    Ok(())
}

/// Inserts or updates rows by their key: content columns and `updated_at` are replaced, `created_*`
/// kept.
#[tracing::instrument(skip_all)]
pub async fn upsert<R: TableRow>(tx: &mut Tx, rows: Vec<R>) -> Result<()> {
    let key_cols: Vec<&str> = R::KEY.split(',').map(str::trim).collect();
    let set: Vec<String> = R::COLUMNS
        .iter()
        .filter(|c| !key_cols.contains(c) && !matches!(**c, "created_at" | "created_batch"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let tail = format!(" ON CONFLICT ({}) DO UPDATE SET {}", R::KEY, set.join(", "));
    if tx.backend() == Backend::Sqlite {
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}){tail}",
            R::TABLE,
            R::COLUMNS.join(", "),
            vec!["?"; R::COLUMNS.len()].join(", ")
        );
        return tx
            .with_sqlite_rows(&sql, |stmt| write_rows(stmt, &rows))
            .await;
    }
    let per = rows_per_statement(R::COLUMNS.len());
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<R> = it.by_ref().take(per).collect();
        tx.exec(values_sql(chunk, &tail)).await?;
    }
    Ok(())
}

/// Steps `stmt` once per row. Dates and timestamps are written as sqlx writes them (`%F`, and
/// RFC 3339 with seconds), so rows read back the same whichever path wrote them; a timestamp
/// repeated from the row before (`created_at`, `updated_at` of one import) is formatted once.
fn write_rows<R: TableRow>(
    stmt: &mut yimeng_sqlite_rows::Statement<'_>,
    rows: &[R],
) -> std::result::Result<(), yimeng_sqlite_rows::Error> {
    use std::fmt::Write;
    use yimeng_sqlite_rows::Val;
    let n = R::COLUMNS.len();
    let mut refs: Vec<ValueRef<'_>> = Vec::with_capacity(n);
    let mut text: Vec<String> = vec![String::new(); n];
    let mut last: Vec<Option<ValueRef<'static>>> = vec![None; n];
    for row in rows {
        refs.clear();
        row.refs(&mut refs);
        for (i, v) in refs.iter().enumerate() {
            match *v {
                ValueRef::Date(Some(d)) if last[i] != Some(ValueRef::Date(Some(d))) => {
                    text[i].clear();
                    let _ = write!(text[i], "{}", d.format("%Y-%m-%d"));
                    last[i] = Some(ValueRef::Date(Some(d)));
                }
                ValueRef::Ts(Some(t)) if last[i] != Some(ValueRef::Ts(Some(t))) => {
                    text[i] = t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
                    last[i] = Some(ValueRef::Ts(Some(t)));
                }
                _ => {}
            }
        }
        let vals: Vec<Val<'_>> = refs
            .iter()
            .enumerate()
            .map(|(i, v)| match *v {
                ValueRef::I16(Some(x)) => Val::Int(x.into()),
                ValueRef::I32(Some(x)) => Val::Int(x.into()),
                ValueRef::I64(Some(x)) => Val::Int(x),
                ValueRef::Bool(Some(b)) => Val::Int(b.into()),
                ValueRef::Text(Some(t)) => Val::Text(t),
                ValueRef::Date(Some(_)) | ValueRef::Ts(Some(_)) => Val::Text(&text[i]),
                ValueRef::F64(Some(x)) => Val::Real(x),
                ValueRef::Bytes(Some(b)) => Val::Blob(b),
                _ => Val::Null,
            })
            .collect();
        stmt.execute(&vals)?;
    }
    Ok(())
}

fn values_sql<R: TableRow>(rows: Vec<R>, tail: &str) -> Sql {
    let mut q = Sql::new(&format!(
        "INSERT INTO {} ({}) VALUES ",
        R::TABLE,
        R::COLUMNS.join(", ")
    ));
    for (i, r) in rows.into_iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind_list(r.into_values());
    }
    q.push(tail);
    q
}

/// The last timestamp written in COPY text form: an import stamps every row with the same
/// `created_at` and `updated_at`, formatted once instead of twice per row.
#[derive(Default)]
pub struct TsCache(Option<(DateTime<Utc>, String)>);

/// One row in COPY text format.
pub fn copy_row<R: TableRow>(out: &mut Vec<u8>, row: &R, ts: &mut TsCache) {
    use std::io::Write;
    let mut first = true;
    row.visit(&mut |v| {
        if !first {
            out.push(b'\t');
        }
        first = false;
        match v {
            ValueRef::I16(Some(n)) => push_int(out, n.into()),
            ValueRef::I32(Some(n)) => push_int(out, n.into()),
            ValueRef::I64(Some(n)) => push_int(out, n),
            ValueRef::Bool(Some(b)) => out.push(if b { b't' } else { b'f' }),
            ValueRef::Text(Some(t)) => copy_field(out, Some(t)),
            ValueRef::Date(Some(d)) => {
                use chrono::Datelike;
                if (1000..=9999).contains(&d.year()) {
                    push_int(out, d.year().into());
                    for n in [d.month(), d.day()] {
                        out.extend_from_slice(&[
                            b'-',
                            b'0' + (n / 10) as u8,
                            b'0' + (n % 10) as u8,
                        ]);
                    }
                } else {
                    let _ = write!(out, "{}", d.format("%Y-%m-%d"));
                }
            }
            ValueRef::Ts(Some(d)) => {
                if ts.0.as_ref().is_none_or(|(t, _)| *t != d) {
                    ts.0 = Some((d, d.to_rfc3339()));
                }
                if let Some((_, text)) = &ts.0 {
                    out.extend_from_slice(text.as_bytes());
                }
            }
            ValueRef::F64(Some(x)) => {
                let _ = write!(out, "{x}");
            }
            ValueRef::Bytes(Some(b)) => {
                // COPY text format: bytea in hex form, its backslash escaped.
                out.extend_from_slice(b"\\\\x");
                for x in b {
                    let _ = write!(out, "{x:02x}");
                }
            }
            _ => out.extend_from_slice(b"\\N"),
        }
    });
    out.push(b'\n');
}

/// Appends an integer in decimal.
fn push_int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Secondary indexes (and, on PostgreSQL, foreign keys) taken off a table for a bulk load, with
/// the statements that put them back. The statements are read from the database's own catalog,
/// so the migrations stay the one place where they are defined.
#[derive(Debug)]
pub struct Suspended {
    restore: Vec<String>,
}

/// Drops the primary key of a key table on PostgreSQL for a bulk load (it is rebuilt, and its
/// uniqueness re-checked, by [`restore`]); nothing on SQLite, where the key is the table itself.
#[tracing::instrument(skip_all)]
pub async fn suspend_primary_key(tx: &mut Tx, table: &str) -> Result<Suspended> {
    let mut restore = Vec::new();
    if tx.backend() == Backend::Postgres {
        let mut q = Sql::new(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'p' AND conrelid = ",
        );
        q.bind(table).push("::regclass");
        for (name, def) in tx.all::<(String, String)>(q).await? {
            tx.exec(Sql::new(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT {name}"
            )))
            .await?;
            restore.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
        }
    }
    Ok(Suspended { restore })
}

/// On PostgreSQL, drops the secondary indexes and foreign keys of `table` inside `tx` (readers
/// wait for the transaction); on SQLite nothing.
#[tracing::instrument(skip_all)]
pub async fn suspend(tx: &mut Tx, table: &str) -> Result<Suspended> {
    let mut restore = Vec::new();
    match tx.backend() {
        // SQLite keeps its indexes during the load. Rows are written one prepared statement
        // at a time on the writer while the next rows are read and checked on the other core;
        // keeping `student_by_school` and `student_by_py` up to date there costs less than
        // rebuilding them afterwards on one core (city scale: 12.2 s against 13.3 s in all).
        Backend::Sqlite => {}
        Backend::Postgres => {
            tx.exec(Sql::new("SET LOCAL maintenance_work_mem = '256MB'"))
                .await?;
            tx.exec(Sql::new("SET LOCAL work_mem = '128MB'")).await?;
            // Only the keys declared on the table (`conparentid = 0`): on a partitioned table
            // PostgreSQL adds a clone per partition of the referenced table, dropped with its key.
            let mut q = Sql::new(
                "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND conrelid = ",
            );
            q.bind(table).push("::regclass");
            let fks: Vec<(String, String)> = tx.all(q).await?;
            let mut q = Sql::new(
                "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ",
            );
            q.bind(table)
                .push(" AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = ");
            q.bind(table).push("::regclass)");
            let idx: Vec<(String, String)> = tx.all(q).await?;
            for (name, def) in &fks {
                tx.exec(Sql::new(&format!(
                    "ALTER TABLE {table} DROP CONSTRAINT {name}"
                )))
                .await?;
                restore.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
            }
            for (name, def) in idx {
                tx.exec(Sql::new(&format!("DROP INDEX {name}"))).await?;
                restore.insert(0, def);
            }
        }
    }
    Ok(Suspended { restore })
}

/// Rebuilds what [`suspend`] took off (indexes first, then foreign keys, which re-validates them).
#[tracing::instrument(skip_all)]
pub async fn restore(tx: &mut Tx, s: Suspended) -> Result<()> {
    for stmt in s.restore {
        let t = std::time::Instant::now();
        tx.exec(Sql::new(&stmt)).await?;
        tracing::debug!(
            elapsed_ms = t.elapsed().as_millis() as u64,
            statement = %stmt,
            "import: restored"
        );
    }
    Ok(())
}
