//! Students: rows, scoped reads and status history.

use crate::Result;
use crate::bulk::TableRow;
use crate::db::{Db, Sql, push_scope};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use yimeng_domain::Scope;
use yimeng_domain::student::StudentRecord;

/// A `student` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize, Deserialize)]
pub struct StudentRow {
    pub county_id: i32,
    pub id: i64,
    pub school_id: i64,
    pub class_id: Option<i64>,
    pub name: String,
    pub name_py: String,
    pub sex: i16,
    pub birth_date: NaiveDate,
    pub id_card: Option<String>,
    pub student_no: String,
    pub ethnicity: String,
    pub hukou_code: Option<i32>,
    pub migrant: bool,
    pub left_behind: bool,
    pub disability: Option<String>,
    pub poor: bool,
    pub orphan: bool,
    pub guardian1_name: Option<String>,
    pub guardian1_relation: Option<String>,
    pub guardian1_phone: Option<String>,
    pub guardian2_name: Option<String>,
    pub guardian2_relation: Option<String>,
    pub guardian2_phone: Option<String>,
    pub status: String,
    pub entry_date: Option<NaiveDate>,
    pub content_hash: i64,
    pub created_batch: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::bulk::table_row!(
    StudentRow,
    "student",
    "county_id, id",
    [
        county_id,
        id,
        school_id,
        class_id,
        name,
        name_py,
        sex,
        birth_date,
        id_card,
        student_no,
        ethnicity,
        hukou_code,
        migrant,
        left_behind,
        disability,
        poor,
        orphan,
        guardian1_name,
        guardian1_relation,
        guardian1_phone,
        guardian2_name,
        guardian2_relation,
        guardian2_phone,
        status,
        entry_date,
        content_hash,
        created_batch,
        created_at,
        updated_at
    ]
);

impl StudentRow {
    /// Builds the row of a validated record placed in a school and class.
    pub fn from_record(
        r: StudentRecord,
        county_id: i32,
        id: i64,
        school_id: i64,
        class_id: Option<i64>,
        batch: Option<i64>,
        now: DateTime<Utc>,
    ) -> StudentRow {
        let mut g = r.guardians.into_iter();
        let (g1, g2) = (g.next(), g.next());
        let (guardian1_name, guardian1_relation, guardian1_phone) = split_guardian(g1);
        let (guardian2_name, guardian2_relation, guardian2_phone) = split_guardian(g2);
        let mut row = StudentRow {
            county_id,
            id,
            school_id,
            class_id,
            name_py: yimeng_domain::names::pinyin_initials(&r.name),
            name: r.name,
            sex: r.sex.code(),
            birth_date: r.birth_date,
            id_card: r.id_card.map(String::from),
            student_no: r.student_no.into(),
            ethnicity: r.ethnicity.code().into(),
            hukou_code: r.hukou.map(|h| h.get()),
            migrant: r.migrant,
            left_behind: r.left_behind,
            disability: r.disability.map(|d| d.code().to_string()),
            poor: r.poor,
            orphan: r.orphan,
            guardian1_name,
            guardian1_relation,
            guardian1_phone,
            guardian2_name,
            guardian2_relation,
            guardian2_phone,
            status: r.status.code().into(),
            entry_date: r.entry_date,
            content_hash: 0,
            created_batch: batch,
            created_at: now,
            updated_at: now,
        };
        row.content_hash = row.compute_hash();
        row
    }
}

fn split_guardian(
    g: Option<yimeng_domain::student::Guardian>,
) -> (Option<String>, Option<String>, Option<String>) {
    match g {
        Some(g) => (Some(g.name), Some(g.relation.code().to_string()), g.phone),
        None => (None, None, None),
    }
}

impl StudentRow {
    /// The domain record, given the school's code and the class's natural key.
    pub fn to_record(
        &self,
        school_code: &str,
        class: Option<yimeng_domain::student::ClassRef>,
    ) -> StudentRecord {
        use yimeng_domain::student::{Disability, Ethnicity, Guardian, Relation, StudentStatus};
        let guardian = |n: &Option<String>, r: &Option<String>, p: &Option<String>| {
            Some(Guardian {
                name: n.clone()?,
                relation: Relation::from_code(r.as_deref()?).unwrap_or(Relation::Other),
                phone: p.clone(),
            })
        };
        StudentRecord {
            school_code: yimeng_domain::SchoolCode::from_stored(school_code.to_string()),
            class,
            name: self.name.clone(),
            sex: yimeng_domain::Sex::from_code(self.sex).unwrap_or(yimeng_domain::Sex::Male),
            birth_date: self.birth_date,
            id_card: self
                .id_card
                .clone()
                .map(yimeng_domain::IdCardNo::from_stored),
            student_no: yimeng_domain::StudentNo::from_stored(self.student_no.clone()),
            ethnicity: Ethnicity::from_code(&self.ethnicity).unwrap_or(Ethnicity::Other),
            hukou: self.hukou_code.map(yimeng_domain::RegionCode::from_i32),
            migrant: self.migrant,
            left_behind: self.left_behind,
            disability: self.disability.as_deref().and_then(Disability::from_code),
            poor: self.poor,
            orphan: self.orphan,
            guardians: [
                guardian(
                    &self.guardian1_name,
                    &self.guardian1_relation,
                    &self.guardian1_phone,
                ),
                guardian(
                    &self.guardian2_name,
                    &self.guardian2_relation,
                    &self.guardian2_phone,
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
            status: StudentStatus::from_code(&self.status).unwrap_or(StudentStatus::Other),
            entry_date: self.entry_date,
        }
    }
}

/// A `student_event` row: one 学籍异动 with who, when and why.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct StudentEventRow {
    pub county_id: i32,
    pub id: i64,
    pub student_id: i64,
    pub school_id: i64,
    pub change_type: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub occurred_on: NaiveDate,
    pub actor: String,
    pub source: String,
    pub batch_id: Option<i64>,
    pub recorded_at: DateTime<Utc>,
}

crate::bulk::table_row!(
    StudentEventRow,
    "student_event",
    "county_id, id",
    [
        county_id,
        id,
        student_id,
        school_id,
        change_type,
        from_status,
        to_status,
        reason,
        occurred_on,
        actor,
        source,
        batch_id,
        recorded_at
    ]
);

/// One student by id, if in scope.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, scope: &Scope, id: i64) -> Result<StudentRow> {
    let mut q = Sql::new("SELECT t.* FROM student t WHERE ");
    push_scope(&mut q, scope, "t", "school_id");
    q.push(" AND t.id = ").bind(id);
    db.one(q).await
}

/// The status history of a student in scope, oldest first.
#[tracing::instrument(skip_all)]
pub async fn events(db: &Db, scope: &Scope, student_id: i64) -> Result<Vec<StudentEventRow>> {
    let s = get(db, scope, student_id).await?;
    let mut q = Sql::new("SELECT e.* FROM student_event e WHERE e.county_id = ");
    q.bind(s.county_id)
        .push(" AND e.student_id = ")
        .bind(student_id)
        .push(" ORDER BY e.recorded_at, e.id");
    db.all(q).await
}

/// Keyset page of student rows in scope, for exports.
#[tracing::instrument(skip_all)]
pub async fn page_after(
    db: &Db,
    scope: &Scope,
    after: (i32, i64),
    limit: i64,
) -> Result<Vec<StudentRow>> {
    crate::raw::page_after(db, scope, "t", "school_id", after, limit).await
}
