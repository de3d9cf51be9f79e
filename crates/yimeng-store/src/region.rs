//! The region tree (a lookup table seeded by migration).

use crate::Result;
use crate::db::{Db, Sql};
use serde::Serialize;

/// A `region` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct RegionRow {
    pub code: i32,
    pub name: String,
    pub name_en: String,
    pub parent_code: Option<i32>,
    pub kind: String,
    pub in_gb2260: bool,
    pub sort_order: i32,
}

/// Every region, in the bureau's order.
pub async fn all(db: &Db) -> Result<Vec<RegionRow>> {
    db.all(Sql::new(
        "SELECT code, name, name_en, parent_code, kind, in_gb2260, sort_order FROM region ORDER BY sort_order",
    ))
    .await
}
