//! Classes: rows and scoped reads. Class size is always counted from the roster.

use crate::Result;
use crate::db::{Db, Sql, push_scope};
use chrono::{DateTime, Utc};
use serde::Serialize;
use yimeng_domain::Scope;

/// A `class` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ClassRow {
    pub county_id: i32,
    pub id: i64,
    pub school_id: i64,
    pub school_year: i32,
    pub grade: String,
    pub class_no: i32,
    pub name: String,
    pub head_teacher_id: Option<i64>,
    pub content_hash: i64,
    pub created_batch: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::bulk::table_row!(
    ClassRow,
    "class",
    "county_id, id",
    [
        county_id,
        id,
        school_id,
        school_year,
        grade,
        class_no,
        name,
        head_teacher_id,
        content_hash,
        created_batch,
        created_at,
        updated_at
    ]
);

impl ClassRow {
    /// The domain record, given the school's code and the head teacher's ID number.
    pub fn to_record(
        &self,
        school_code: &str,
        head_teacher: Option<&str>,
    ) -> yimeng_domain::class::ClassRecord {
        yimeng_domain::class::ClassRecord {
            school_code: yimeng_domain::SchoolCode::from_stored(school_code.to_string()),
            year: yimeng_domain::SchoolYear::from_start(self.school_year),
            grade: self.grade(),
            class_no: self.class_no,
            name: self.name.clone(),
            head_teacher: head_teacher.map(|h| yimeng_domain::IdCardNo::from_stored(h.to_string())),
        }
    }
    /// Grade.
    pub fn grade(&self) -> yimeng_domain::Grade {
        yimeng_domain::Grade::from_code(&self.grade).unwrap_or(yimeng_domain::Grade::P1)
    }
}

/// A class's natural key within the store: (school id, year, grade code, number).
pub type ClassKey = (i64, i32, String, i32);

/// What the student importer needs of each class in scope.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassBrief {
    pub county_id: i32,
    pub id: i64,
    pub school_id: i64,
    pub school_year: i32,
    pub grade: String,
    pub class_no: i32,
}

/// Every class in scope, briefly (tens of thousands of rows at city scale).
#[tracing::instrument(skip_all)]
pub async fn briefs(db: &Db, scope: &Scope) -> Result<Vec<ClassBrief>> {
    let mut q = Sql::new(
        "SELECT c.county_id, c.id, c.school_id, c.school_year, c.grade, c.class_no FROM class c WHERE ",
    );
    push_scope(&mut q, scope, "c", "school_id");
    db.all(q).await
}

/// One class by id, if in scope.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, scope: &Scope, id: i64) -> Result<ClassRow> {
    let mut q = Sql::new("SELECT c.* FROM class c WHERE ");
    push_scope(&mut q, scope, "c", "school_id");
    q.push(" AND c.id = ").bind(id);
    db.one(q).await
}

/// The id of class `class_no` of `grade` in `school_year` at `school` (a row read through a scope,
/// which is applied again here), if it exists.
#[tracing::instrument(skip_all)]
pub async fn find_in_school(
    db: &Db,
    scope: &Scope,
    school: &crate::school::SchoolRow,
    school_year: i32,
    grade: yimeng_domain::Grade,
    class_no: i32,
) -> Result<Option<i64>> {
    let mut q = Sql::new("SELECT c.id FROM class c WHERE ");
    push_scope(&mut q, scope, "c", "school_id");
    q.push(" AND c.county_id = ")
        .bind(school.county_id)
        .push(" AND c.school_id = ")
        .bind(school.id)
        .push(" AND c.school_year = ")
        .bind(school_year)
        .push(" AND c.grade = ")
        .bind(grade.code())
        .push(" AND c.class_no = ")
        .bind(class_no);
    Ok(db.opt::<(i64,)>(q).await?.map(|(id,)| id))
}

/// One class of `school` (a row the caller could read) by id, or [`crate::StoreError::NotFound`]
/// when the class belongs to another school.
#[tracing::instrument(skip_all)]
pub async fn get_in_school(
    db: &Db,
    school: &crate::school::SchoolRow,
    id: i64,
) -> Result<ClassRow> {
    let mut q = Sql::new("SELECT c.* FROM class c WHERE c.county_id = ");
    q.bind(school.county_id)
        .push(" AND c.school_id = ")
        .bind(school.id)
        .push(" AND c.id = ")
        .bind(id);
    db.one(q).await
}

/// Keyset page of class rows in scope, for exports.
#[tracing::instrument(skip_all)]
pub async fn page_after(
    db: &Db,
    scope: &Scope,
    after: (i32, i64),
    limit: i64,
) -> Result<Vec<ClassRow>> {
    crate::raw::page_after(db, scope, "c", "school_id", after, limit).await
}
