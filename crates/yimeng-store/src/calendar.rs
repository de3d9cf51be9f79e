//! The working-day calendar (工作日历) as the city administrator keeps it: the listed public
//! holidays and 调休 make-up working days. The counting rules are
//! [`yimeng_domain::calendar::WorkCalendar`]'s; this module only stores the list.

use crate::audit::{self, Entry};
use crate::db::{Db, Sql, Tx};
use crate::{Actor, Result, StoreError};
use chrono::NaiveDate;
use serde::Serialize;
use yimeng_domain::calendar::{DayKind, WorkCalendar};

/// A `work_calendar_day` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct DayRow {
    pub day: NaiveDate,
    /// [`DayKind`] code.
    pub kind: String,
    pub name: String,
}

impl DayRow {
    /// Chinese label of the kind.
    pub fn kind_label(&self) -> &'static str {
        DayKind::from_code(&self.kind).map_or("未知", |k| k.label())
    }
}

/// Every listed day, in date order (optionally one year).
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, year: Option<i32>) -> Result<Vec<DayRow>> {
    let mut q = Sql::new("SELECT day, kind, name FROM work_calendar_day");
    if let Some(y) = year {
        let from = NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MIN);
        let to = NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(NaiveDate::MAX);
        q.push(" WHERE day >= ")
            .bind(from)
            .push(" AND day <= ")
            .bind(to);
    }
    q.push(" ORDER BY day");
    db.all(q).await
}

/// The calendar every time limit is counted on.
#[tracing::instrument(skip_all)]
pub async fn load(db: &Db) -> Result<WorkCalendar> {
    let rows = list(db, None).await?;
    let days = rows
        .iter()
        .filter_map(|r| Some((r.day, DayKind::from_code(&r.kind)?)));
    WorkCalendar::from_days(days).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Lists a day (or changes its kind and name); audited.
#[tracing::instrument(skip_all)]
pub async fn set_day(
    db: &Db,
    actor: &Actor,
    day: NaiveDate,
    kind: DayKind,
    name: &str,
) -> Result<()> {
    let name = name.trim();
    if name.chars().count() > 40 {
        return Err(StoreError::Invalid("名称不能超过 40 字".into()));
    }
    let mut tx = db.begin().await?;
    let before = listed_day(&mut tx, day).await?;
    let mut q = Sql::new("DELETE FROM work_calendar_day WHERE day = ");
    q.bind(day);
    tx.exec(q).await?;
    let mut q = Sql::new("INSERT INTO work_calendar_day (day, kind, name) VALUES (");
    q.bind(day)
        .push(", ")
        .bind(kind.code())
        .push(", ")
        .bind(name)
        .push(")");
    tx.exec(q).await?;
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: audit::CITY_COUNTY_ID,
            action: "update",
            entity: "work_calendar",
            entity_id: None,
            summary: format!("工作日历：{day} 设为{}（{name}）", kind.label()),
            before,
            after: Some(day_json(day, kind.code(), name)),
        }],
    )
    .await?;
    tx.commit().await
}

/// A listed day as the audit log's JSON (`day`, `kind`, `name`).
fn day_json(day: NaiveDate, kind: &str, name: &str) -> String {
    serde_json::json!({ "day": day.to_string(), "kind": kind, "name": name }).to_string()
}

/// The listed day's row as audit JSON, if the day is listed.
async fn listed_day(tx: &mut Tx, day: NaiveDate) -> Result<Option<String>> {
    let mut q = Sql::new("SELECT kind, name FROM work_calendar_day WHERE day = ");
    q.bind(day);
    let row: Option<(String, String)> = tx.opt(q).await?;
    Ok(row.map(|(kind, name)| day_json(day, &kind, &name)))
}

/// Removes a listed day (it follows the weekday rule again); audited.
#[tracing::instrument(skip_all)]
pub async fn remove_day(db: &Db, actor: &Actor, day: NaiveDate) -> Result<()> {
    let mut tx = db.begin().await?;
    let Some(before) = listed_day(&mut tx, day).await? else {
        return Err(StoreError::NotFound);
    };
    let mut q = Sql::new("DELETE FROM work_calendar_day WHERE day = ");
    q.bind(day);
    if tx.exec(q).await? == 0 {
        return Err(StoreError::NotFound);
    }
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: audit::CITY_COUNTY_ID,
            action: "delete",
            entity: "work_calendar",
            entity_id: None,
            summary: format!("工作日历：删除 {day}"),
            before: Some(before),
            after: None,
        }],
    )
    .await?;
    tx.commit().await
}
