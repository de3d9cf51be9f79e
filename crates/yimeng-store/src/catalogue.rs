//! 事项清单 (service catalogue): each student-status service with its five standard elements
//! (办理依据、申请条件、申请材料、办理流程、办理时限), kept by the city administrator and shown to the
//! public. A lookup table (design.md scale-out rule 4): keyed by its code, no county.

use crate::audit::{self, Entry};
use crate::db::{Db, Sql};
use crate::{Actor, Result, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A `service_item` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ServiceItem {
    pub code: String,
    pub name: String,
    /// 办理依据
    pub basis: String,
    /// 申请条件
    pub conditions: String,
    /// 申请材料
    pub materials: String,
    /// 办理流程
    pub steps: String,
    /// 办理时限
    pub time_limit: String,
    pub sort_order: i32,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// The editable part of an item.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
pub struct ServiceInput {
    pub name: String,
    pub basis: String,
    pub conditions: String,
    pub materials: String,
    pub steps: String,
    pub time_limit: String,
}

impl ServiceInput {
    /// Every element is required (a catalogue entry without one of the five is not standard).
    pub fn check(&self) -> std::result::Result<(), String> {
        let fields = [
            ("事项名称", &self.name),
            ("办理依据", &self.basis),
            ("申请条件", &self.conditions),
            ("申请材料", &self.materials),
            ("办理流程", &self.steps),
            ("办理时限", &self.time_limit),
        ];
        for (label, v) in fields {
            let t = v.trim();
            if t.is_empty() {
                return Err(format!("请填写“{label}”"));
            }
            if t.chars().count() > 4000 {
                return Err(format!("“{label}”不能超过 4000 字"));
            }
        }
        Ok(())
    }
}

/// Every item, in catalogue order (public).
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<ServiceItem>> {
    db.all(Sql::new(
        "SELECT * FROM service_item ORDER BY sort_order, code",
    ))
    .await
}

/// One item by code (public).
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, code: &str) -> Result<ServiceItem> {
    let mut q = Sql::new("SELECT * FROM service_item WHERE code = ");
    q.bind(code);
    db.one(q).await
}

/// Updates an item (the caller checked that the actor is the city administrator); audited.
#[tracing::instrument(skip_all)]
pub async fn update(db: &Db, actor: &Actor, code: &str, input: &ServiceInput) -> Result<()> {
    input.check().map_err(StoreError::Invalid)?;
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT * FROM service_item WHERE code = ");
    q.bind(code);
    let before: ServiceItem = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    let mut q = Sql::new("UPDATE service_item SET name = ");
    q.bind(input.name.trim())
        .push(", basis = ")
        .bind(input.basis.trim())
        .push(", conditions = ")
        .bind(input.conditions.trim())
        .push(", materials = ")
        .bind(input.materials.trim())
        .push(", steps = ")
        .bind(input.steps.trim())
        .push(", time_limit = ")
        .bind(input.time_limit.trim())
        .push(", updated_at = ")
        .bind(Utc::now())
        .push(", updated_by = ")
        .bind(actor.name.as_str())
        .push(" WHERE code = ")
        .bind(code);
    tx.exec(q).await?;
    let before_json = serde_json::json!({
        "name": before.name, "basis": before.basis, "conditions": before.conditions,
        "materials": before.materials, "steps": before.steps, "time_limit": before.time_limit,
    });
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: audit::CITY_COUNTY_ID,
            action: "update",
            entity: "service_item",
            entity_id: None,
            summary: format!("修改事项清单：{}", before.name),
            before: Some(before_json.to_string()),
            after: serde_json::to_string(input).ok(),
        }],
    )
    .await?;
    tx.commit().await
}
