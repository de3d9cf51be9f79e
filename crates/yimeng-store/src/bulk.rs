//! Bulk writes shared by the importers: rows described once as columns and values, written as
//! multi-row INSERTs (SQLite, and PostgreSQL upserts) or COPY (PostgreSQL inserts).

use crate::db::{Backend, Sql, Tx, Value, copy_field};
use crate::Result;

/// Columns that are bookkeeping, not content: they are left out of the content hash, and
/// `created_*` are kept when a row is updated.
pub const NON_CONTENT: &[&str] = &["id", "content_hash", "created_batch", "created_at", "updated_at"];

/// A row of a table, described by its columns in order.
pub trait TableRow: Send {
    /// Table name.
    const TABLE: &'static str;
    /// Column names, in the order of [`TableRow::values`].
    const COLUMNS: &'static [&'static str];
    /// Conflict target for upserts.
    const KEY: &'static str = "county_id, id";
    /// The values, in column order.
    fn values(&self) -> Vec<Value>;
    /// Hash of the content columns.
    fn compute_hash(&self) -> i64 {
        let vals = self.values();
        let content = Self::COLUMNS.iter().zip(vals.iter()).filter(|(c, _)| !NON_CONTENT.contains(c)).map(|(_, v)| v);
        crate::hash::hash_values(content)
    }
}

/// Rows per INSERT statement: SQLite allows 32,766 bound parameters.
fn rows_per_statement(columns: usize) -> usize {
    (30_000 / columns).clamp(1, 1000)
}

/// Inserts rows (no conflict handling): COPY on PostgreSQL, multi-row INSERT on SQLite.
pub async fn insert<R: TableRow>(tx: &mut Tx, rows: &[R]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match tx.backend() {
        Backend::Postgres => {
            let mut data = Vec::with_capacity(rows.len() * 200);
            for r in rows {
                copy_row(&mut data, &r.values());
            }
            let stmt = format!("COPY {} ({}) FROM STDIN", R::TABLE, R::COLUMNS.join(", "));
            tx.copy_in(&stmt, &data).await?;
        }
        Backend::Sqlite => {
            for chunk in rows.chunks(rows_per_statement(R::COLUMNS.len())) {
                tx.exec(values_sql::<R>(chunk, "")).await?;
            }
        }
    }
    Ok(())
}

/// Inserts or updates rows by their key: content columns and `updated_at` are replaced, `created_*`
/// kept.
pub async fn upsert<R: TableRow>(tx: &mut Tx, rows: &[R]) -> Result<()> {
    let key_cols: Vec<&str> = R::KEY.split(',').map(str::trim).collect();
    let set: Vec<String> = R::COLUMNS
        .iter()
        .filter(|c| !key_cols.contains(c) && !matches!(**c, "created_at" | "created_batch"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let tail = format!(" ON CONFLICT ({}) DO UPDATE SET {}", R::KEY, set.join(", "));
    for chunk in rows.chunks(rows_per_statement(R::COLUMNS.len())) {
        tx.exec(values_sql::<R>(chunk, &tail)).await?;
    }
    Ok(())
}

fn values_sql<R: TableRow>(rows: &[R], tail: &str) -> Sql {
    let mut q = Sql::new(&format!("INSERT INTO {} ({}) VALUES ", R::TABLE, R::COLUMNS.join(", ")));
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind_list(r.values());
    }
    q.push(tail);
    q
}

/// One row in COPY text format.
pub fn copy_row(out: &mut Vec<u8>, values: &[Value]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match v {
            Value::I16(x) => copy_field(out, x.map(|n| n.to_string()).as_deref()),
            Value::I32(x) => copy_field(out, x.map(|n| n.to_string()).as_deref()),
            Value::I64(x) => copy_field(out, x.map(|n| n.to_string()).as_deref()),
            Value::Bool(x) => copy_field(out, x.map(|b| if b { "t" } else { "f" })),
            Value::Text(x) => copy_field(out, x.as_deref()),
            Value::Date(x) => copy_field(out, x.map(|d| d.format("%Y-%m-%d").to_string()).as_deref()),
            Value::Ts(x) => copy_field(out, x.map(|d| d.to_rfc3339()).as_deref()),
        }
    }
    out.push(b'\n');
}
