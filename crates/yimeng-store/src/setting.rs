//! Settings of an installation kept in its database (`app_setting`): read by every process that
//! opens it, changed by the operator at the command line (and by `yimeng demo`), each change
//! audited.

use crate::audit::{self, Entry};
use crate::db::{Db, Sql};
use crate::{Actor, Result, StoreError};
use chrono::{NaiveDate, Utc};

/// The day the plan tracker judges progress at instead of the real date (a demo city lives in its
/// plan's year); absent outside a demo.
pub const CLOCK_TODAY: &str = "clock_today";

/// A setting's value.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, name: &str) -> Result<Option<String>> {
    let mut q = Sql::new("SELECT value FROM app_setting WHERE name = ");
    q.bind(name);
    Ok(db.opt::<(String,)>(q).await?.map(|(v,)| v))
}

/// Sets a setting (`None` removes it), with its audit row (before and after).
#[tracing::instrument(skip_all)]
pub async fn set(db: &Db, actor: &Actor, name: &str, value: Option<&str>) -> Result<()> {
    let before = get(db, name).await?;
    if before.as_deref() == value {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    match value {
        Some(v) => {
            let mut q = Sql::new("INSERT INTO app_setting (name, value, updated_at) VALUES (");
            q.bind(name)
                .push(", ")
                .bind(v)
                .push(", ")
                .bind(Utc::now())
                .push(
                    ") ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                );
            tx.exec(q).await?;
        }
        None => {
            let mut q = Sql::new("DELETE FROM app_setting WHERE name = ");
            q.bind(name);
            tx.exec(q).await?;
        }
    }
    let json = |v: &Option<String>| {
        v.as_ref()
            .map(|v| serde_json::json!({ name: v }).to_string())
    };
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: audit::CITY_COUNTY_ID,
            action: if value.is_some() { "update" } else { "delete" },
            entity: "app_setting",
            entity_id: None,
            summary: format!("系统设置 {name}"),
            before: json(&before),
            after: json(&value.map(str::to_string)),
        }],
    )
    .await?;
    tx.commit().await
}

/// The tracker's clock, when one is set.
pub async fn clock_today(db: &Db) -> Result<Option<NaiveDate>> {
    match get(db, CLOCK_TODAY).await? {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            StoreError::Invalid(format!(
                "系统设置 {CLOCK_TODAY} 的值“{v}”不是日期（应如 2020-10-15）"
            ))
        }),
    }
}
