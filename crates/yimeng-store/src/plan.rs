//! 工作计划 (work plans) as loaded from their files, and the resident population aged 3–5 that the
//! preschool gross enrolment rate divides by. A plan is kept as the text that was loaded; the
//! domain parses it (`yimeng_domain::plan::Plan::parse`) wherever it is used, so a plan for another
//! year is a file, not code.

use crate::audit::{self, CITY_COUNTY_ID, Entry};
use crate::db::{Db, Sql};
use crate::{Actor, Result, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use yimeng_domain::plan::Plan;

/// A loaded plan.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct PlanRow {
    pub code: String,
    pub year: i32,
    pub title: String,
    #[serde(skip)]
    pub source: String,
    pub source_sha256: String,
    pub loaded_at: DateTime<Utc>,
    pub loaded_by: String,
}

impl PlanRow {
    /// The parsed plan. A stored plan was valid when loaded; a later, stricter parser could refuse
    /// it, which is reported rather than hidden.
    pub fn plan(&self) -> Result<Plan> {
        Plan::parse(&self.source).map_err(|errs| {
            StoreError::Invalid(format!(
                "已载入的工作计划 {} 无法解析：{}",
                self.code,
                errs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("；")
            ))
        })
    }
}

/// What loading a plan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    /// A new plan.
    Created,
    /// A new version of a plan already loaded.
    Replaced,
    /// The same text was already loaded.
    Unchanged,
}

/// Loads (or replaces) a validated plan with its source text.
#[tracing::instrument(skip_all)]
pub async fn load(db: &Db, actor: &Actor, plan: &Plan, source: &str) -> Result<Loaded> {
    let sha = crate::attachment::sha256_hex(source.as_bytes());
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT source_sha256 FROM plan WHERE code = ");
    q.bind(plan.code.as_str());
    let before: Option<(String,)> = tx.opt(q).await?;
    if before.as_ref().is_some_and(|(s,)| *s == sha) {
        return Ok(Loaded::Unchanged);
    }
    let now = Utc::now();
    let mut q = if before.is_some() {
        let mut q = Sql::new("UPDATE plan SET year = ");
        q.bind(plan.year)
            .push(", title = ")
            .bind(plan.title.as_str())
            .push(", source = ")
            .bind(source)
            .push(", source_sha256 = ")
            .bind(sha.as_str())
            .push(", loaded_at = ")
            .bind(now)
            .push(", loaded_by = ")
            .bind(actor.name.as_str())
            .push(" WHERE code = ")
            .bind(plan.code.as_str());
        q
    } else {
        let mut q = Sql::new(
            "INSERT INTO plan (code, year, title, source, source_sha256, loaded_at, loaded_by) VALUES ",
        );
        q.bind_list([
            crate::Value::from(plan.code.as_str()),
            plan.year.into(),
            plan.title.as_str().into(),
            source.into(),
            sha.as_str().into(),
            now.into(),
            actor.name.as_str().into(),
        ]);
        q
    };
    tx.exec(std::mem::take(&mut q)).await?;
    let loaded = if before.is_some() {
        Loaded::Replaced
    } else {
        Loaded::Created
    };
    let entry = Entry {
        county_id: CITY_COUNTY_ID,
        action: if before.is_some() { "update" } else { "create" },
        entity: "plan",
        entity_id: None,
        summary: format!(
            "载入工作计划 {}（{}，{} 项工作、{} 个指标）",
            plan.code,
            plan.title,
            plan.items.len(),
            plan.indicators.len()
        ),
        before: before.map(|(s,)| serde_json::json!({"source_sha256": s}).to_string()),
        after: Some(serde_json::json!({"code": plan.code, "source_sha256": sha}).to_string()),
    };
    audit::write(&mut tx, actor, vec![entry]).await?;
    tx.commit().await?;
    Ok(loaded)
}

/// Every loaded plan, newest year first.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<PlanRow>> {
    db.all(Sql::new("SELECT * FROM plan ORDER BY year DESC, code"))
        .await
}

/// One plan by code.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, code: &str) -> Result<Option<PlanRow>> {
    let mut q = Sql::new("SELECT * FROM plan WHERE code = ");
    q.bind(code);
    db.opt(q).await
}

/// The current plan: the one of the latest year.
#[tracing::instrument(skip_all)]
pub async fn current(db: &Db) -> Result<Option<PlanRow>> {
    Ok(list(db).await?.into_iter().next())
}

/// A county's resident population aged 3–5 for one year.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct PopulationRow {
    pub county_id: i32,
    pub year: i32,
    pub age_3_5: i64,
    /// `resident` (常住) or `hukou` (户籍).
    pub basis: String,
    pub note: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// Population bases (口径): which population the rate divides by (domain-rules §9).
pub const POPULATION_BASES: [(&str, &str); 2] = [("resident", "常住人口"), ("hukou", "户籍人口")];

/// Sets (inserts or replaces) a county's population for a year.
#[tracing::instrument(skip_all)]
pub async fn set_population(
    db: &Db,
    actor: &Actor,
    county: i32,
    year: i32,
    age_3_5: i64,
    basis: &str,
    note: &str,
) -> Result<()> {
    if age_3_5 <= 0 {
        return Err(StoreError::Invalid("3–5周岁人口应为正整数".into()));
    }
    if !POPULATION_BASES.iter().any(|(c, _)| *c == basis) {
        return Err(StoreError::Invalid(format!(
            "人口口径“{basis}”无效，应为 常住人口 或 户籍人口"
        )));
    }
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT * FROM population WHERE county_id = ");
    q.bind(county).push(" AND year = ").bind(year);
    let before: Option<PopulationRow> = tx.opt(q).await?;
    let mut q = Sql::new("DELETE FROM population WHERE county_id = ");
    q.bind(county).push(" AND year = ").bind(year);
    tx.exec(q).await?;
    let mut q = Sql::new(
        "INSERT INTO population (county_id, year, age_3_5, basis, note, updated_at, updated_by) VALUES ",
    );
    q.bind_list([
        crate::Value::from(county),
        year.into(),
        age_3_5.into(),
        basis.into(),
        note.into(),
        Utc::now().into(),
        actor.name.as_str().into(),
    ]);
    tx.exec(q).await?;
    let entry = Entry {
        county_id: county,
        action: if before.is_some() { "update" } else { "create" },
        entity: "population",
        entity_id: Some(i64::from(year)),
        summary: format!("{year}年 3–5周岁人口"),
        before: before
            .map(|b| serde_json::json!({"age_3_5": b.age_3_5, "basis": b.basis}).to_string()),
        after: Some(serde_json::json!({"age_3_5": age_3_5, "basis": basis}).to_string()),
    };
    audit::write(&mut tx, actor, vec![entry]).await?;
    tx.commit().await
}

/// Every county's population rows for a year.
#[tracing::instrument(skip_all)]
pub async fn population(db: &Db, year: i32) -> Result<Vec<PopulationRow>> {
    let counties: Vec<i32> = yimeng_domain::region::linyi_county_codes()
        .iter()
        .map(|c| c.get())
        .collect();
    let mut q =
        Sql::new("/* multi-county: population */ SELECT * FROM population WHERE county_id IN ");
    q.bind_list(counties).push(" AND year = ").bind(year);
    q.push(" ORDER BY county_id");
    db.all(q).await
}

/// Population aged 3–5 per county for a year.
#[tracing::instrument(skip_all)]
pub async fn population_map(db: &Db, year: i32) -> Result<HashMap<i32, i64>> {
    Ok(population(db, year)
        .await?
        .into_iter()
        .map(|p| (p.county_id, p.age_3_5))
        .collect())
}
