//! Schools: rows, scoped reads, and the row built from a validated [`SchoolRecord`].

use crate::Result;
use crate::bulk::TableRow;
use crate::db::{Db, Sql, push_scope};
use chrono::{DateTime, Utc};
use serde::Serialize;
use yimeng_domain::school::{Facilities, SchoolRecord};
use yimeng_domain::{
    LocationClass, Ownership, RegionCode, SchoolCode, SchoolType, Scope, StageSet,
};

/// A `school` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct SchoolRow {
    pub county_id: i32,
    pub id: i64,
    pub code: String,
    pub name: String,
    pub name_py: String,
    pub school_type: String,
    pub stages: String,
    pub ownership: String,
    pub inclusive: bool,
    pub location: String,
    pub central: bool,
    pub capacity: Option<i64>,
    pub address: String,
    pub building_area: Option<i64>,
    pub sports_area: Option<i64>,
    pub equipment_value_fen: Option<i64>,
    pub books: Option<i64>,
    pub computers: Option<i64>,
    pub multimedia_rooms: Option<i64>,
    pub bandwidth_mbps: Option<i64>,
    pub ipv6: bool,
    pub security_guard: bool,
    pub closed_campus: bool,
    pub alarm_and_video: bool,
    pub guard_post: bool,
    pub content_hash: i64,
    pub created_batch: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::bulk::table_row!(
    SchoolRow,
    "school",
    "county_id, id",
    [
        county_id,
        id,
        code,
        name,
        name_py,
        school_type,
        stages,
        ownership,
        inclusive,
        location,
        central,
        capacity,
        address,
        building_area,
        sports_area,
        equipment_value_fen,
        books,
        computers,
        multimedia_rooms,
        bandwidth_mbps,
        ipv6,
        security_guard,
        closed_campus,
        alarm_and_video,
        guard_post,
        content_hash,
        created_batch,
        created_at,
        updated_at
    ]
);

impl SchoolRow {
    /// Builds the row of a validated record (id and county assigned by the caller).
    pub fn from_record(
        r: &SchoolRecord,
        id: i64,
        batch: Option<i64>,
        now: DateTime<Utc>,
    ) -> SchoolRow {
        let f = &r.facilities;
        let mut row = SchoolRow {
            county_id: r.county.get(),
            id,
            code: r.code.as_str().to_string(),
            name: r.name.clone(),
            name_py: yimeng_domain::names::pinyin_initials(&r.name),
            school_type: r.school_type.code().into(),
            stages: r.stages.codes(),
            ownership: r.ownership.code().into(),
            inclusive: r.inclusive,
            location: r.location.code().into(),
            central: r.central,
            capacity: r.capacity,
            address: r.address.clone(),
            building_area: f.building_area,
            sports_area: f.sports_area,
            equipment_value_fen: f.equipment_value_fen,
            books: f.books,
            computers: f.computers,
            multimedia_rooms: f.multimedia_rooms,
            bandwidth_mbps: f.bandwidth_mbps,
            ipv6: f.ipv6,
            security_guard: f.security_guard,
            closed_campus: f.closed_campus,
            alarm_and_video: f.alarm_and_video,
            guard_post: f.guard_post,
            content_hash: 0,
            created_batch: batch,
            created_at: now,
            updated_at: now,
        };
        row.content_hash = row.compute_hash();
        row
    }

    /// The domain record this row holds.
    pub fn to_record(&self) -> SchoolRecord {
        SchoolRecord {
            code: SchoolCode::from_stored(self.code.clone()),
            name: self.name.clone(),
            county: RegionCode::from_i32(self.county_id),
            school_type: self.kind(),
            stages: self.stage_set(),
            ownership: Ownership::from_code(&self.ownership).unwrap_or(Ownership::Public),
            inclusive: self.inclusive,
            location: LocationClass::from_code(&self.location).unwrap_or(LocationClass::Urban),
            central: self.central,
            capacity: self.capacity,
            address: self.address.clone(),
            facilities: Facilities {
                building_area: self.building_area,
                sports_area: self.sports_area,
                equipment_value_fen: self.equipment_value_fen,
                books: self.books,
                computers: self.computers,
                multimedia_rooms: self.multimedia_rooms,
                bandwidth_mbps: self.bandwidth_mbps,
                ipv6: self.ipv6,
                security_guard: self.security_guard,
                closed_campus: self.closed_campus,
                alarm_and_video: self.alarm_and_video,
                guard_post: self.guard_post,
            },
        }
    }
    /// School type.
    pub fn kind(&self) -> SchoolType {
        SchoolType::from_code(&self.school_type).unwrap_or(SchoolType::Primary)
    }
    /// Stages.
    pub fn stage_set(&self) -> StageSet {
        StageSet::from_codes(&self.stages)
    }
}

/// What the importers and pages need to know about a school to place classes, students and staff.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchoolBrief {
    pub county_id: i32,
    pub id: i64,
    pub code: String,
    pub name: String,
    pub school_type: String,
    pub stages: String,
}

impl SchoolBrief {
    /// Stages.
    pub fn stage_set(&self) -> StageSet {
        StageSet::from_codes(&self.stages)
    }
    /// Type.
    pub fn kind(&self) -> SchoolType {
        SchoolType::from_code(&self.school_type).unwrap_or(SchoolType::Primary)
    }
}

/// Every school in scope, briefly (a few thousand rows at city scale).
#[tracing::instrument(skip_all)]
pub async fn briefs(db: &Db, scope: &Scope) -> Result<Vec<SchoolBrief>> {
    let mut q = Sql::new(
        "SELECT s.county_id, s.id, s.code, s.name, s.school_type, s.stages FROM school s WHERE ",
    );
    push_scope(&mut q, scope, "s", "id");
    q.push(" ORDER BY s.county_id, s.code");
    db.all(q).await
}

/// How many schools are in scope (the binary's `serve` asks whether the registry is empty).
#[tracing::instrument(skip_all)]
pub async fn count(db: &Db, scope: &Scope) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) FROM school s WHERE ");
    push_scope(&mut q, scope, "s", "id");
    db.scalar(q).await
}

/// Every school of the city, briefly, as the public directory lists them: what a parent or a
/// school picks a transfer's other school from.
#[tracing::instrument(skip_all)]
pub async fn public_briefs(db: &Db) -> Result<Vec<SchoolBrief>> {
    briefs(db, &Scope::City).await
}

/// One school of the public directory by county and id (a transfer's receiving school, chosen
/// from [`public_briefs`]).
#[tracing::instrument(skip_all)]
pub async fn public_get(db: &Db, county: i32, id: i64) -> Result<SchoolRow> {
    let mut q = Sql::new("SELECT s.* FROM school s WHERE s.county_id = ");
    q.bind(county).push(" AND s.id = ").bind(id);
    db.one(q).await
}

/// One school by id, if in scope.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, scope: &Scope, id: i64) -> Result<SchoolRow> {
    let mut q = Sql::new("SELECT s.* FROM school s WHERE ");
    push_scope(&mut q, scope, "s", "id");
    q.push(" AND s.id = ").bind(id);
    db.one(q).await
}

/// One school by its 学校标识码, if in scope.
#[tracing::instrument(skip_all)]
pub async fn get_by_code(db: &Db, scope: &Scope, code: &SchoolCode) -> Result<SchoolRow> {
    let mut q = Sql::new("SELECT s.* FROM school s WHERE ");
    push_scope(&mut q, scope, "s", "id");
    q.push(" AND s.code = ").bind(code.as_str());
    db.one(q).await
}

/// Keyset page of full school rows in scope after `(county_id, id)`, for exports.
#[tracing::instrument(skip_all)]
pub async fn page_after(
    db: &Db,
    scope: &Scope,
    after: (i32, i64),
    limit: i64,
) -> Result<Vec<SchoolRow>> {
    crate::raw::page_after(db, scope, "s", "id", after, limit).await
}
