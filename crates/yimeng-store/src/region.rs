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
#[tracing::instrument(skip_all)]
pub async fn all(db: &Db) -> Result<Vec<RegionRow>> {
    db.all(Sql::new(
        "SELECT code, name, name_en, parent_code, kind, in_gb2260, sort_order FROM region ORDER BY sort_order",
    ))
    .await
}

/// The county's data version: it changes with every committed write to the county's registry
/// rows, so figures computed at one version hold as long as it stays the same.
#[tracing::instrument(skip_all)]
pub async fn data_version(db: &Db, county: i32) -> Result<i64> {
    let mut q = Sql::new("SELECT version FROM data_version WHERE county_id = ");
    q.bind(county);
    db.scalar(q).await
}

/// Raises the data version of `counties` inside the writing transaction: readers' cached figures
/// of those counties are stale from its commit on.
#[tracing::instrument(skip_all)]
pub async fn bump_data_versions(tx: &mut crate::db::Tx, counties: &[i32]) -> Result<()> {
    let mut q = Sql::new("UPDATE data_version SET version = version + 1 WHERE county_id IN ");
    q.bind_list(counties.to_vec());
    tx.exec(q).await?;
    Ok(())
}

/// Every county's data version (one short read: the key of figures computed over the whole city).
#[tracing::instrument(skip_all)]
pub async fn data_versions(db: &Db) -> Result<Vec<(i32, i64)>> {
    db.all(Sql::new(
        "/* multi-county: data_versions */ SELECT county_id, version FROM data_version ORDER BY county_id",
    ))
    .await
}

/// Whether the store answers a query (for `/healthz`); reads the public region list's size only.
#[tracing::instrument(skip_all)]
pub async fn health_check(db: &Db) -> Result<()> {
    db.scalar(Sql::new("SELECT COUNT(*) FROM region")).await?;
    Ok(())
}
