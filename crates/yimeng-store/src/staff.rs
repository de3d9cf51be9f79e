//! Staff: rows and scoped reads.

use crate::Result;
use crate::bulk::TableRow;
use crate::db::{Db, Sql, push_scope};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use yimeng_domain::Scope;
use yimeng_domain::staff::{StaffRecord, subject_codes};

/// A `staff` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct StaffRow {
    pub county_id: i32,
    pub id: i64,
    pub school_id: i64,
    pub name: String,
    pub name_py: String,
    pub id_card: String,
    pub sex: i16,
    pub birth_date: NaiveDate,
    pub post: String,
    pub subjects: String,
    pub title: String,
    pub education: String,
    pub cert_kind: Option<String>,
    pub cert_no: Option<String>,
    pub hire_date: Option<NaiveDate>,
    pub hire_source: Option<String>,
    pub party_member: bool,
    pub backbone: String,
    pub status: String,
    pub phone: Option<String>,
    pub content_hash: i64,
    pub created_batch: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::bulk::table_row!(
    StaffRow,
    "staff",
    "county_id, id",
    [
        county_id,
        id,
        school_id,
        name,
        name_py,
        id_card,
        sex,
        birth_date,
        post,
        subjects,
        title,
        education,
        cert_kind,
        cert_no,
        hire_date,
        hire_source,
        party_member,
        backbone,
        status,
        phone,
        content_hash,
        created_batch,
        created_at,
        updated_at
    ]
);

impl StaffRow {
    /// Builds the row of a validated record placed in a school.
    pub fn from_record(
        r: StaffRecord,
        county_id: i32,
        id: i64,
        school_id: i64,
        batch: Option<i64>,
        now: DateTime<Utc>,
    ) -> StaffRow {
        let mut row = StaffRow {
            county_id,
            id,
            school_id,
            name_py: yimeng_domain::names::pinyin_initials(&r.name),
            name: r.name,
            id_card: r.id_card.into(),
            sex: r.sex.code(),
            birth_date: r.birth_date,
            post: r.post.code().into(),
            subjects: subject_codes(&r.subjects),
            title: r.title.code().into(),
            education: r.education.code().into(),
            cert_kind: r.cert_kind.map(|c| c.code().to_string()),
            cert_no: r.cert_no,
            hire_date: r.hire_date,
            hire_source: r.hire_source.map(|h| h.code().to_string()),
            party_member: r.party_member,
            backbone: r.backbone.code().into(),
            status: r.status.code().into(),
            phone: r.phone,
            content_hash: 0,
            created_batch: batch,
            created_at: now,
            updated_at: now,
        };
        row.content_hash = row.compute_hash();
        row
    }
}

impl StaffRow {
    /// The domain record, given the school's code.
    pub fn to_record(&self, school_code: &str) -> StaffRecord {
        use yimeng_domain::staff::*;
        StaffRecord {
            school_code: yimeng_domain::SchoolCode::from_stored(school_code.to_string()),
            name: self.name.clone(),
            id_card: yimeng_domain::IdCardNo::from_stored(self.id_card.clone()),
            sex: yimeng_domain::Sex::from_code(self.sex).unwrap_or(yimeng_domain::Sex::Male),
            birth_date: self.birth_date,
            post: Post::from_code(&self.post).unwrap_or(Post::Teacher),
            subjects: subjects_from_codes(&self.subjects),
            title: Title::from_code(&self.title).unwrap_or(Title::None),
            education: Education::from_code(&self.education).unwrap_or(Education::Bachelor),
            cert_kind: self.cert_kind.as_deref().and_then(CertKind::from_code),
            cert_no: self.cert_no.clone(),
            hire_date: self.hire_date,
            hire_source: self.hire_source.as_deref().and_then(HireSource::from_code),
            party_member: self.party_member,
            backbone: Backbone::from_code(&self.backbone).unwrap_or(Backbone::None),
            status: StaffStatus::from_code(&self.status).unwrap_or(StaffStatus::Active),
            phone: self.phone.clone(),
        }
    }
}

/// One staff member by id, if in scope.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, scope: &Scope, id: i64) -> Result<StaffRow> {
    let mut q = Sql::new("SELECT t.* FROM staff t WHERE ");
    push_scope(&mut q, scope, "t", "school_id");
    q.push(" AND t.id = ").bind(id);
    db.one(q).await
}

/// Keyset page of staff rows in scope, for exports.
#[tracing::instrument(skip_all)]
pub async fn page_after(
    db: &Db,
    scope: &Scope,
    after: (i32, i64),
    limit: i64,
) -> Result<Vec<StaffRow>> {
    crate::raw::page_after(db, scope, "t", "school_id", after, limit).await
}

/// (id card, county, id, school) of every staff member in scope, to resolve head teachers.
#[tracing::instrument(skip_all)]
pub async fn id_cards(db: &Db, scope: &Scope) -> Result<Vec<(String, i32, i64, i64)>> {
    let mut q = Sql::new("SELECT t.id_card, t.county_id, t.id, t.school_id FROM staff t WHERE ");
    push_scope(&mut q, scope, "t", "school_id");
    db.all(q).await
}
