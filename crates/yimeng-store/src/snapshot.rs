//! 指标快照 (indicator snapshots): every indicator's value for the city and each county at one
//! moment, taken monthly and on demand, so that history and trends survive later changes to the
//! registry and a dashboard can be shown as of a past date. Snapshots are never rewritten.

use crate::audit::{self, CITY_COUNTY_ID, Entry};
use crate::db::{Db, Sql};
use crate::{Actor, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A snapshot's header.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct SnapshotRow {
    pub id: i64,
    pub plan_code: String,
    pub as_of: NaiveDate,
    /// `monthly` or `manual`.
    pub kind: String,
    pub taken_at: DateTime<Utc>,
    pub taken_by: String,
}

impl SnapshotRow {
    /// Chinese label of the kind.
    pub fn kind_label(&self) -> &'static str {
        if self.kind == "monthly" {
            "月度"
        } else {
            "手动"
        }
    }
}

/// One value in a snapshot.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ValueRow {
    /// The region: a county, or the city (371300).
    pub county_id: i32,
    pub snapshot_id: i64,
    pub indicator: String,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// A value to store: (region, indicator, value, numerator, denominator).
pub type NewValue = (i32, String, Option<f64>, Option<f64>, Option<f64>);

/// Stores a snapshot.
#[tracing::instrument(skip_all)]
pub async fn take(
    db: &Db,
    actor: &Actor,
    plan_code: &str,
    as_of: NaiveDate,
    kind: &str,
    values: Vec<NewValue>,
) -> Result<i64> {
    if !matches!(kind, "monthly" | "manual") {
        return Err(StoreError::Invalid(format!("快照类型“{kind}”无效")));
    }
    let mut tx = db.begin().await?;
    let id = tx.alloc_ids("indicator_snapshot", 1).await?;
    let mut q = Sql::new(
        "INSERT INTO indicator_snapshot (id, plan_code, as_of, kind, taken_at, taken_by) VALUES ",
    );
    q.bind_list([
        crate::Value::from(id),
        plan_code.into(),
        as_of.into(),
        kind.into(),
        Utc::now().into(),
        actor.name.as_str().into(),
    ]);
    tx.exec(q).await?;
    let n = values.len();
    for chunk in values.chunks(500) {
        let mut q = Sql::new(
            "INSERT INTO indicator_value (county_id, snapshot_id, indicator, value, numerator, denominator) VALUES ",
        );
        for (i, (region, code, v, num, den)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind_list([
                crate::Value::from(*region),
                id.into(),
                code.as_str().into(),
                (*v).into(),
                (*num).into(),
                (*den).into(),
            ]);
        }
        tx.exec(q).await?;
    }
    let entry = Entry {
        county_id: CITY_COUNTY_ID,
        action: "snapshot",
        entity: "indicator_snapshot",
        entity_id: Some(id),
        summary: format!(
            "指标快照（{}，截至 {as_of}，{n} 个数值）",
            if kind == "monthly" {
                "月度"
            } else {
                "手动"
            }
        ),
        before: None,
        after: Some(
            serde_json::json!({"kind": kind, "as_of": as_of.to_string(), "values": n}).to_string(),
        ),
    };
    audit::write(&mut tx, actor, vec![entry]).await?;
    tx.commit().await?;
    Ok(id)
}

/// Every snapshot of a plan, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, plan_code: &str) -> Result<Vec<SnapshotRow>> {
    let mut q = Sql::new("SELECT * FROM indicator_snapshot WHERE plan_code = ");
    q.bind(plan_code).push(" ORDER BY as_of DESC, id DESC");
    db.all(q).await
}

/// The latest snapshot taken on or before a date.
#[tracing::instrument(skip_all)]
pub async fn as_of(db: &Db, plan_code: &str, date: NaiveDate) -> Result<Option<SnapshotRow>> {
    let mut q = Sql::new("SELECT * FROM indicator_snapshot WHERE plan_code = ");
    q.bind(plan_code)
        .push(" AND as_of <= ")
        .bind(date)
        .push(" ORDER BY as_of DESC, id DESC LIMIT 1");
    db.opt(q).await
}

/// Whether a monthly snapshot exists for the month of `date`.
#[tracing::instrument(skip_all)]
pub async fn has_monthly(db: &Db, plan_code: &str, date: NaiveDate) -> Result<bool> {
    use chrono::Datelike;
    let first = date.with_day(1).unwrap_or(date);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let mut q = Sql::new("SELECT COUNT(*) FROM indicator_snapshot WHERE plan_code = ");
    q.bind(plan_code)
        .push(" AND kind = 'monthly' AND as_of >= ")
        .bind(first)
        .push(" AND as_of < ")
        .bind(next);
    Ok(db.scalar(q).await? > 0)
}

/// Values of a snapshot for some regions.
#[tracing::instrument(skip_all)]
pub async fn values(db: &Db, snapshot_id: i64, regions: &[i32]) -> Result<Vec<ValueRow>> {
    let mut q = Sql::new(
        "/* multi-county: snapshot_values */ SELECT * FROM indicator_value WHERE county_id IN ",
    );
    q.bind_list(regions.iter().copied())
        .push(" AND snapshot_id = ")
        .bind(snapshot_id);
    db.all(q).await
}

/// The history of one indicator in one region: (as_of, value), one point per month (the latest
/// snapshot of each month), oldest first.
#[tracing::instrument(skip_all)]
pub async fn series(
    db: &Db,
    plan_code: &str,
    indicator: &str,
    region: i32,
) -> Result<Vec<(NaiveDate, Option<f64>)>> {
    let mut q = Sql::new(
        "SELECT s.as_of, s.id, v.value FROM indicator_value v JOIN indicator_snapshot s ON s.id = v.snapshot_id \
         WHERE v.county_id = ",
    );
    q.bind(region)
        .push(" AND v.indicator = ")
        .bind(indicator)
        .push(" AND s.plan_code = ")
        .bind(plan_code)
        .push(" ORDER BY s.as_of, s.id");
    let rows: Vec<(NaiveDate, i64, Option<f64>)> = db.all(q).await?;
    let mut out: Vec<(NaiveDate, Option<f64>)> = Vec::new();
    use chrono::Datelike;
    for (d, _, v) in rows {
        match out.last_mut() {
            Some(last) if (last.0.year(), last.0.month()) == (d.year(), d.month()) => {
                *last = (d, v)
            }
            _ => out.push((d, v)),
        }
    }
    Ok(out)
}
