//! The append-only audit log: every write, with who, when, from where, what, before and after.
//! Rows are written by the application in the same transaction as the change (no triggers).

use crate::bulk::{self, TableRow};
use crate::db::{Db, Sql, Tx, Value};
use crate::{Actor, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The county of city-level actions (logins of city users, account management).
pub const CITY_COUNTY_ID: i32 = 371300;

/// An `audit_log` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct AuditRow {
    pub county_id: i32,
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_role: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub summary: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

crate::bulk::table_row!(
    AuditRow,
    "audit_log",
    "county_id, id",
    [
        county_id,
        id,
        at,
        actor,
        actor_role,
        ip,
        request_id,
        action,
        entity,
        entity_id,
        summary,
        before_json,
        after_json
    ]
);

/// An audit entry to be written (the id and time are assigned when it is written).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Tenant key: the record's county, or [`CITY_COUNTY_ID`].
    pub county_id: i32,
    /// What was done: create, update, delete, import, login, login_failed, export …
    pub action: &'static str,
    /// Which kind of record: school, class, student, staff, user, import_batch …
    pub entity: &'static str,
    /// The record's id.
    pub entity_id: Option<i64>,
    /// A one-line description (never names or ID numbers: those stay in before/after).
    pub summary: String,
    /// JSON of the changed fields before.
    pub before: Option<String>,
    /// JSON of the changed fields after.
    pub after: Option<String>,
}

impl Entry {
    fn into_row(self, id: i64, at: DateTime<Utc>, actor: &Actor) -> AuditRow {
        AuditRow {
            county_id: self.county_id,
            id,
            at,
            actor: actor.name.clone(),
            actor_role: actor.role.clone(),
            ip: actor.ip.clone(),
            request_id: actor.request_id.clone(),
            action: self.action.to_string(),
            entity: self.entity.to_string(),
            entity_id: self.entity_id,
            summary: self.summary,
            before_json: self.before,
            after_json: self.after,
        }
    }
}

/// Writes entries inside a transaction.
#[tracing::instrument(skip_all)]
pub async fn write(tx: &mut Tx, actor: &Actor, entries: Vec<Entry>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let first = tx.alloc_ids("audit", entries.len() as i64).await?;
    let now = Utc::now();
    let rows: Vec<AuditRow> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| e.into_row(first + i as i64, now, actor))
        .collect();
    bulk::insert(tx, rows).await
}

/// Writes one entry on its own (logins, exports: actions that change no registry row).
#[tracing::instrument(skip_all)]
pub async fn write_now(db: &Db, actor: &Actor, entry: Entry) -> Result<()> {
    let mut tx = db.begin().await?;
    write(&mut tx, actor, vec![entry]).await?;
    tx.commit().await
}

/// The history of one record (newest first).
#[tracing::instrument(skip_all)]
pub async fn for_record(
    db: &Db,
    county_id: i32,
    entity: &str,
    entity_id: i64,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let mut q = Sql::new("SELECT a.* FROM audit_log a WHERE a.county_id = ");
    q.bind(county_id)
        .push(" AND a.entity = ")
        .bind(entity)
        .push(" AND a.entity_id = ")
        .bind(entity_id);
    q.push(" ORDER BY a.at DESC, a.id DESC LIMIT ").bind(limit);
    db.all(q).await
}

/// Field-by-field differences between two rows as (before, after) JSON objects of the changed
/// columns, skipping bookkeeping columns.
pub fn diff<R: TableRow>(before: &R, after: &R) -> Option<(String, String)> {
    let (b, a) = (before.values(), after.values());
    let mut bj = serde_json::Map::new();
    let mut aj = serde_json::Map::new();
    for ((col, x), y) in R::COLUMNS.iter().zip(b.iter()).zip(a.iter()) {
        if crate::bulk::NON_CONTENT.contains(col) || col.ends_with("_py") || x == y {
            continue;
        }
        bj.insert(col.to_string(), json_of(x));
        aj.insert(col.to_string(), json_of(y));
    }
    if aj.is_empty() {
        None
    } else {
        Some((
            serde_json::Value::Object(bj).to_string(),
            serde_json::Value::Object(aj).to_string(),
        ))
    }
}

/// A whole row as a JSON object (for creations and deletions).
pub fn json_row<R: TableRow>(row: &R) -> String {
    let mut m = serde_json::Map::new();
    for (col, v) in R::COLUMNS.iter().zip(row.values().iter()) {
        if crate::bulk::NON_CONTENT.contains(col) || col.ends_with("_py") {
            continue;
        }
        m.insert(col.to_string(), json_of(v));
    }
    serde_json::Value::Object(m).to_string()
}

fn json_of(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::I16(x) => x.map(J::from).unwrap_or(J::Null),
        Value::I32(x) => x.map(J::from).unwrap_or(J::Null),
        Value::I64(x) => x.map(J::from).unwrap_or(J::Null),
        Value::Bool(x) => x.map(J::from).unwrap_or(J::Null),
        Value::Text(x) => x.clone().map(J::from).unwrap_or(J::Null),
        Value::Date(x) => x.map(|d| J::from(d.to_string())).unwrap_or(J::Null),
        Value::Ts(x) => x.map(|d| J::from(d.to_rfc3339())).unwrap_or(J::Null),
        Value::F64(x) => x.map(J::from).unwrap_or(J::Null),
        Value::Bytes(x) => x
            .as_ref()
            .map(|b| J::from(format!("({} 字节)", b.len())))
            .unwrap_or(J::Null),
    }
}
