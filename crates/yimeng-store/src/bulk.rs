//! Bulk writes shared by the importers: rows described once as columns and values, written as
//! multi-row INSERTs (SQLite, and PostgreSQL upserts) or COPY (PostgreSQL inserts).

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
pub trait Column {
    /// Borrowed value.
    fn value_ref(&self) -> ValueRef<'_>;
    /// Owned value, moving strings instead of copying them.
    fn into_value(self) -> Value;
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
        }
        impl Column for Option<$t> {
            fn value_ref(&self) -> ValueRef<'_> {
                ValueRef::$v(*self)
            }
            fn into_value(self) -> Value {
                Value::$v(self)
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
}
impl Column for Option<String> {
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Text(self.as_deref())
    }
    fn into_value(self) -> Value {
        Value::Text(self)
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
    /// The values, moved out of the row.
    fn into_values(self) -> Vec<Value>;
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
            fn into_values(self) -> Vec<$crate::db::Value> {
                vec![$( $crate::bulk::Column::into_value(self.$field) ),+]
            }
        }
    };
}
pub(crate) use table_row;

/// Rows per INSERT statement: SQLite allows 32,766 bound parameters.
fn rows_per_statement(columns: usize) -> usize {
    (30_000 / columns).clamp(1, 1000)
}

/// Inserts rows (no conflict handling): COPY on PostgreSQL, multi-row INSERT on SQLite.
pub async fn insert<R: TableRow>(tx: &mut Tx, rows: Vec<R>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match tx.backend() {
        Backend::Postgres => {
            let mut data = Vec::with_capacity(rows.len() * 256);
            for r in &rows {
                copy_row(&mut data, r);
            }
            drop(rows);
            let stmt = format!("COPY {} ({}) FROM STDIN", R::TABLE, R::COLUMNS.join(", "));
            tx.copy_in(&stmt, &data).await?;
        }
        Backend::Sqlite => {
            let per = rows_per_statement(R::COLUMNS.len());
            let mut it = rows.into_iter().peekable();
            while it.peek().is_some() {
                let chunk: Vec<R> = it.by_ref().take(per).collect();
                tx.exec(values_sql(chunk, "")).await?;
            }
        }
    }
    Ok(())
}

/// Inserts or updates rows by their key: content columns and `updated_at` are replaced, `created_*`
/// kept.
pub async fn upsert<R: TableRow>(tx: &mut Tx, rows: Vec<R>) -> Result<()> {
    let key_cols: Vec<&str> = R::KEY.split(',').map(str::trim).collect();
    let set: Vec<String> = R::COLUMNS
        .iter()
        .filter(|c| !key_cols.contains(c) && !matches!(**c, "created_at" | "created_batch"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let tail = format!(" ON CONFLICT ({}) DO UPDATE SET {}", R::KEY, set.join(", "));
    let per = rows_per_statement(R::COLUMNS.len());
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<R> = it.by_ref().take(per).collect();
        tx.exec(values_sql(chunk, &tail)).await?;
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

/// One row in COPY text format.
pub fn copy_row<R: TableRow>(out: &mut Vec<u8>, row: &R) {
    use std::io::Write;
    let mut first = true;
    row.visit(&mut |v| {
        if !first {
            out.push(b'\t');
        }
        first = false;
        let _ = match v {
            ValueRef::I16(Some(n)) => write!(out, "{n}"),
            ValueRef::I32(Some(n)) => write!(out, "{n}"),
            ValueRef::I64(Some(n)) => write!(out, "{n}"),
            ValueRef::Bool(Some(b)) => out.write_all(if b { b"t" } else { b"f" }),
            ValueRef::Text(Some(t)) => {
                copy_field(out, Some(t));
                Ok(())
            }
            ValueRef::Date(Some(d)) => write!(out, "{}", d.format("%Y-%m-%d")),
            ValueRef::Ts(Some(d)) => write!(out, "{}", d.to_rfc3339()),
            ValueRef::F64(Some(x)) => write!(out, "{x}"),
            ValueRef::Bytes(Some(b)) => {
                // COPY text format: bytea in hex form, its backslash escaped.
                let _ = out.write_all(b"\\\\x");
                b.iter().try_for_each(|x| write!(out, "{x:02x}"))
            }
            _ => out.write_all(b"\\N"),
        };
    });
    out.push(b'\n');
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

/// Drops the secondary indexes (and foreign keys on PostgreSQL) of `table` inside `tx`. Other
/// readers keep seeing them until the transaction commits; on PostgreSQL they wait for it.
pub async fn suspend(tx: &mut Tx, table: &str) -> Result<Suspended> {
    let mut restore = Vec::new();
    match tx.backend() {
        Backend::Sqlite => {
            let mut q = Sql::new(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ",
            );
            q.bind(table);
            for (name, sql) in tx.all::<(String, String)>(q).await? {
                tx.exec(Sql::new(&format!("DROP INDEX {name}"))).await?;
                restore.push(sql);
            }
        }
        Backend::Postgres => {
            tx.exec(Sql::new("SET LOCAL maintenance_work_mem = '256MB'"))
                .await?;
            tx.exec(Sql::new("SET LOCAL work_mem = '128MB'")).await?;
            let mut q = Sql::new(
                "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' AND conrelid = ",
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
pub async fn restore(tx: &mut Tx, s: Suspended) -> Result<()> {
    for stmt in s.restore {
        tx.exec(Sql::new(&stmt)).await?;
    }
    Ok(())
}
