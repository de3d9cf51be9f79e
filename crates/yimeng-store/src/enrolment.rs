//! 入学申请 (enrolment applications, issue 5): a parent applies online for grade 1, grade 7 or as
//! a migrant worker's child with the required materials (images or PDF, stored in the database);
//! the county's school zone table (学区) routes the application to a zone school; the county
//! bureau or that school reviews it (asks for more material, accepts, or refuses with a reason,
//! following [`yimeng_domain::enrolment::next_status`]); an accepted child is enrolled into the
//! registry through the normal student save ([`crate::edit::save_student_gated`]), so the ID,
//! 学籍号, one-person-one-record and scope checks and the class-size gate apply.
//!
//! Nothing is half-written: an application with its files is one transaction; a refused
//! application writes nothing. One application per child and school year in the whole city
//! (`enrolment_key`, keyed by the ID number like `person_key`).

use crate::attachment::{self, Accepted, Owner};
use crate::audit::{self, Entry};
use crate::db::{Db, Sql, Tx, Value};
use crate::edit::Saved;
use crate::import::GateOptions;
use crate::{Actor, Result, StoreError};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Serialize;
use yimeng_domain::approval::{Action, Flow, HistoryEntry, ROUND_SEQ, state as approval_state};
use yimeng_domain::calendar::WorkCalendar;
use yimeng_domain::enrolment::{
    ApplicationKind, ApplicationNo, EnrolmentEvent, EnrolmentStatus, Material, ReviewStep,
    ZoneEntry, ZoneTable, check_entry_age, check_grade, check_materials, next_status, review_flow,
};
use yimeng_domain::student::{ClassRef, Ethnicity, Guardian, Relation, StudentRecord};
use yimeng_domain::{
    Grade, IdCardNo, RegionCode, Rules, SchoolCode, SchoolYear, Scope, Stage, StudentNo,
    StudentStatus,
};

/// The largest material file accepted (5 MB: a phone photo or a scanned page).
pub const MAX_FILE_BYTES: usize = yimeng_domain::attachment::MATERIAL_MAX_BYTES;

/// An `enrolment_application` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ApplicationRow {
    pub county_id: i32,
    pub id: i64,
    pub app_no: String,
    pub kind: String,
    pub grade: String,
    pub school_year: i32,
    pub child_name: String,
    pub id_card: String,
    pub sex: i32,
    pub birth_date: NaiveDate,
    pub street: String,
    pub community: String,
    pub guardian_name: String,
    pub guardian_phone: String,
    pub school_id: Option<i64>,
    pub state: String,
    pub note: String,
    pub opened_on: NaiveDate,
    pub deadline: Option<NaiveDate>,
    pub student_id: Option<i64>,
    pub class_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ethnicity: String,
    /// The review's state on the approval flow (`pending`, `returned`, `completed`, `refused`,
    /// `withdrawn`); `state` is the application's own lifecycle.
    pub review_state: String,
    pub step: i32,
    pub approver_county: Option<i32>,
    pub approver_school: Option<i64>,
    pub step_opened_on: Option<NaiveDate>,
    /// The reviewer's deadline (working days on the stored calendar).
    pub step_deadline: Option<NaiveDate>,
    pub refusal_reason: String,
    pub completed_at: Option<DateTime<Utc>>,
    /// Resubmissions after a return so far.
    pub review_round: i32,
}

/// What the review flow needs besides the application: the rules (the time limit), the stored
/// working-day calendar and today's date.
pub use crate::Timing;

impl ApplicationRow {
    /// The review's flow, as stored.
    pub fn flow(&self, rules: &Rules) -> Flow<ReviewStep> {
        review_flow(
            RegionCode::from_i32(self.county_id),
            rules,
            &self.review_state,
            usize::try_from(self.step).unwrap_or(0),
            &self.refusal_reason,
        )
    }
    /// Chinese label of the review's state (审批中, 待修改, 已办结, …).
    pub fn review_state_label(&self) -> &'static str {
        approval_state::label(&self.review_state)
    }
    /// The status.
    pub fn status(&self) -> EnrolmentStatus {
        EnrolmentStatus::from_code(&self.state).unwrap_or(EnrolmentStatus::Submitted)
    }
    /// Chinese label of the status.
    pub fn state_label(&self) -> &'static str {
        self.status().label()
    }
    /// Chinese label of the kind.
    pub fn kind_label(&self) -> &'static str {
        ApplicationKind::from_code(&self.kind).map_or("入学申请", |k| k.label())
    }
    /// Chinese label of the grade.
    pub fn grade_label(&self) -> String {
        Grade::from_code(&self.grade).map_or_else(String::new, |g| g.label().to_string())
    }
    /// The reviewer's deadline has passed and the review still waits for a decision.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.review_state == approval_state::PENDING
            && self.step_deadline.is_some_and(|d| d < today)
    }
    /// The ID number masked for display.
    pub fn id_card_masked(&self) -> String {
        yimeng_domain::idcard::mask(&self.id_card)
    }
}

/// A material file (without its content).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct FileRow {
    pub county_id: i32,
    pub id: i64,
    pub application_id: i64,
    pub material: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i32,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

impl FileRow {
    /// Chinese label of the material.
    pub fn material_label(&self) -> &'static str {
        Material::from_code(&self.material).map_or("材料", |m| m.label())
    }
}

/// One uploaded material file.
#[derive(Debug, Clone)]
pub struct Upload {
    pub material: Material,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A parent's application, parsed at the boundary.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub kind: ApplicationKind,
    pub grade: Grade,
    /// The school year applied for (its start year).
    pub school_year: i32,
    pub county: RegionCode,
    pub child_name: String,
    pub id_card: IdCardNo,
    pub ethnicity: Ethnicity,
    pub street: String,
    pub community: String,
    pub guardian_name: String,
    pub guardian_phone: String,
    pub files: Vec<Upload>,
}

/// A refusal of the input, naming the field.
fn invalid(field: &str, msg: impl Into<String>) -> StoreError {
    StoreError::Invalid(format!("{field}：{}", msg.into()))
}

fn stage_of(grade: Grade) -> Stage {
    grade.stage()
}

/// The county's zone table, as the domain routes with it.
#[tracing::instrument(skip_all)]
pub async fn zone_table(db: &Db, county: i32) -> Result<ZoneTable> {
    let rows = zones(db, county).await?;
    ZoneTable::new(rows.into_iter().filter_map(|z| {
        Some(ZoneEntry {
            county: RegionCode::from_i32(z.county_id),
            street: z.street,
            community: Some(z.community).filter(|c| !c.is_empty()),
            stage: Stage::from_code(&z.stage)?,
            school: SchoolCode::parse(&z.school_code).ok()?,
        })
    }))
    .map_err(|e| StoreError::Invalid(e.to_string()))
}

/// A zone row with its school.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ZoneRow {
    pub county_id: i32,
    pub id: i64,
    pub stage: String,
    pub street: String,
    pub community: String,
    pub school_id: i64,
    pub school_code: String,
    pub school_name: String,
}

impl ZoneRow {
    /// Chinese label of the stage.
    pub fn stage_label(&self) -> &'static str {
        Stage::from_code(&self.stage).map_or("", |s| s.label())
    }
}

/// The zone table of a county, in order.
#[tracing::instrument(skip_all)]
pub async fn zones(db: &Db, county: i32) -> Result<Vec<ZoneRow>> {
    let mut q = Sql::new(
        "SELECT z.county_id, z.id, z.stage, z.street, z.community, z.school_id, s.code AS school_code, s.name AS school_name \
         FROM school_zone z JOIN school s ON s.county_id = z.county_id AND s.id = z.school_id WHERE z.county_id = ",
    );
    q.bind(county)
        .push(" ORDER BY z.stage, z.street, z.community, s.code");
    db.all(q).await
}

/// One zone row to write: stage, street, community, the school's 学校标识码, and the row number
/// errors name (0: its place in the list).
#[derive(Debug, Clone)]
pub struct ZoneInput {
    pub row: u64,
    pub stage: Stage,
    pub street: String,
    pub community: String,
    pub school_code: String,
}

/// The classes an accepted child may join: the school's classes of the grade and year, with
/// their counted size ("一年级（2）班（现 43 人）").
#[tracing::instrument(skip_all)]
pub async fn class_choices(
    db: &Db,
    rules: &Rules,
    county: i32,
    school: i64,
    year: i32,
    grade: &str,
) -> Result<Vec<(i64, String)>> {
    let mut q = Sql::new(
        "SELECT c.id, c.name, (SELECT COUNT(*) FROM student s WHERE s.county_id = c.county_id AND s.school_id = c.school_id AND s.class_id = c.id AND s.status IN ",
    );
    q.bind_list(crate::gate::counted_statuses(rules))
        .push(") FROM class c WHERE c.county_id = ")
        .bind(county)
        .push(" AND c.school_id = ")
        .bind(school)
        .push(" AND c.school_year = ")
        .bind(year)
        .push(" AND c.grade = ")
        .bind(grade)
        .push(" ORDER BY c.class_no");
    let rows: Vec<(i64, String, i64)> = db.all(q).await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, n)| (id, format!("{name}（现 {n} 人）")))
        .collect())
}

/// Adds zone rows to a county's table (a county bureau of that county, or the city); all or
/// nothing: a row naming a school outside the county refuses the lot, naming its row (1-based).
/// Rows already present are left as they are. Returns how many were added.
#[tracing::instrument(skip_all)]
pub async fn add_zones(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    county: i32,
    rows: &[ZoneInput],
) -> Result<usize> {
    if !scope.covers_county(RegionCode::from_i32(county)) || matches!(scope, Scope::School(_)) {
        return Err(StoreError::Forbidden("学区表由县区教育局维护".into()));
    }
    let mut tx = db.begin().await?;
    let mut added = 0;
    let now = Utc::now().trunc_subsecs(0);
    for (i, r) in rows.iter().enumerate() {
        let row = if r.row > 0 { r.row } else { i as u64 + 1 };
        let street: String = r.street.split_whitespace().collect();
        if street.is_empty() {
            return Err(StoreError::Invalid(format!(
                "第 {row} 行：街道（乡镇）不能为空"
            )));
        }
        if !matches!(r.stage, Stage::Primary | Stage::Junior) {
            return Err(StoreError::Invalid(format!(
                "第 {row} 行：学段应为小学或初中"
            )));
        }
        let community: String = r.community.split_whitespace().collect();
        let mut q = Sql::new("SELECT id FROM school WHERE county_id = ");
        q.bind(county)
            .push(" AND code = ")
            .bind(r.school_code.trim());
        let Some((school_id,)): Option<(i64,)> = tx.opt(q).await? else {
            return Err(StoreError::Invalid(format!(
                "第 {row} 行：学校标识码“{}”不是本县区的学校",
                r.school_code.trim()
            )));
        };
        let mut q = Sql::new("SELECT COUNT(*) FROM school_zone WHERE county_id = ");
        q.bind(county)
            .push(" AND stage = ")
            .bind(r.stage.code())
            .push(" AND street = ")
            .bind(street.as_str())
            .push(" AND community = ")
            .bind(community.as_str())
            .push(" AND school_id = ")
            .bind(school_id);
        if tx.scalar(q).await? > 0 {
            continue;
        }
        let id = tx.alloc_ids("school_zone", 1).await?;
        let mut q = Sql::new(
            "INSERT INTO school_zone (county_id, id, stage, street, community, school_id, updated_at) VALUES ",
        );
        q.bind_list([
            Value::from(county),
            id.into(),
            r.stage.code().into(),
            street.as_str().into(),
            community.as_str().into(),
            school_id.into(),
            now.into(),
        ]);
        tx.exec(q).await?;
        added += 1;
    }
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: county,
            action: "update",
            entity: "school_zone",
            entity_id: None,
            summary: format!("学区表新增 {added} 行（共提交 {} 行）", rows.len()),
            before: None,
            after: None,
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// Removes a zone row (the county's bureau).
#[tracing::instrument(skip_all)]
pub async fn remove_zone(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    county: i32,
    id: i64,
) -> Result<()> {
    if !scope.covers_county(RegionCode::from_i32(county)) || matches!(scope, Scope::School(_)) {
        return Err(StoreError::NotFound);
    }
    let mut tx = db.begin().await?;
    let mut q = Sql::new("DELETE FROM school_zone WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    if tx.exec(q).await? == 0 {
        return Err(StoreError::NotFound);
    }
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: county,
            action: "delete",
            entity: "school_zone",
            entity_id: Some(id),
            summary: "删除学区表一行".into(),
            before: None,
            after: None,
        }],
    )
    .await?;
    tx.commit().await
}

/// Submits an application: checks the grade for the kind, the grade-1 age, the materials (every
/// required one uploaded, each a JPEG, PNG or PDF by its first bytes and at most
/// [`MAX_FILE_BYTES`]), that the child is not on any school's register and has no other
/// application for the year, and routes it by the zone table; then writes the application and its
/// files in one transaction. Returns the application.
#[tracing::instrument(skip_all)]
pub async fn submit(
    db: &Db,
    rules: &Rules,
    calendar: &WorkCalendar,
    today: NaiveDate,
    input: NewApplication,
) -> Result<ApplicationRow> {
    check_grade(input.kind, input.grade).map_err(|e| invalid("年级", e.to_string()))?;
    let name = yimeng_domain::text::parse_text(&input.child_name, 50, true)
        .map_err(|e| invalid("儿童姓名", e))?;
    let guardian = yimeng_domain::text::parse_text(&input.guardian_name, 50, true)
        .map_err(|e| invalid("监护人姓名", e))?;
    input
        .id_card
        .check_not_future(today)
        .map_err(|e| invalid("儿童身份证件号", e))?;
    if input.grade == Grade::P1 {
        check_entry_age(input.id_card.birth_date(), input.school_year, rules)
            .map_err(|e| invalid("儿童身份证件号", e.to_string()))?;
    }
    let accepted = accept_files(&input.files)?;
    let provided: Vec<Material> = input.files.iter().map(|f| f.material).collect();
    check_materials(input.kind, input.grade, &provided)
        .map_err(|e| invalid("申请材料", e.to_string()))?;
    let county = input.county.get();
    let zones = zone_table(db, county).await?;
    let schools = zones
        .route(
            input.county,
            &input.street,
            Some(input.community.as_str()).filter(|c| !c.trim().is_empty()),
            stage_of(input.grade),
        )
        .map_err(|e| invalid("住址", e.to_string()))?
        .to_vec();

    let mut tx = db.begin().await?;
    let card = input.id_card.as_str().to_string();
    // On a register already (any school in the city)?
    let mut q = Sql::new(
        "/* multi-county: person_key */ SELECT county_id, owner_id FROM person_key WHERE kind = 'id_card' AND owner = 'student' AND value = ",
    );
    q.bind(card.as_str());
    if let Some((c, sid)) = tx.opt::<(i32, i64)>(q).await? {
        let mut q = Sql::new(
            "SELECT s.status, k.name FROM student s JOIN school k ON k.county_id = s.county_id AND k.id = s.school_id WHERE s.county_id = ",
        );
        q.bind(c).push(" AND s.id = ").bind(sid);
        if let Some((status, _school)) = tx.opt::<(String, String)>(q).await?
            && StudentStatus::from_code(&status).is_some_and(|s| s.is_on_register())
        {
            return Err(StoreError::Conflict(
                "该儿童已在本市学校登记学籍（在籍），不能再申请入学；如需转学请办理转学".into(),
            ));
        }
    }
    let mut q = Sql::new(
        "/* multi-county: enrolment_key */ SELECT county_id, application_id FROM enrolment_key WHERE id_card = ",
    );
    q.bind(card.as_str())
        .push(" AND school_year = ")
        .bind(input.school_year);
    if tx.opt::<(i32, i64)>(q).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "该儿童 {} 学年已有入学申请，不能重复申请（可凭申请编号查询进度）",
            SchoolYear::from_start(input.school_year).label()
        )));
    }
    let mut q = Sql::new("SELECT id FROM school WHERE county_id = ");
    q.bind(county)
        .push(" AND code = ")
        .bind(schools[0].as_str());
    let school_id: Option<i64> = tx.opt::<(i64,)>(q).await?.map(|r| r.0);
    let id = tx.alloc_ids("enrolment_application", 1).await?;
    let mut q = Sql::new("SELECT COUNT(*) FROM enrolment_application WHERE county_id = ");
    q.bind(county)
        .push(" AND school_year = ")
        .bind(input.school_year);
    let seq = tx.scalar(q).await? + 1;
    let app_no = ApplicationNo::new(input.school_year, input.county, seq as u32)
        .ok_or_else(|| StoreError::Invalid("申请编号已用尽".into()))?
        .to_string();
    let now = Utc::now().trunc_subsecs(0);
    let deadline = review_flow(input.county, rules, approval_state::PENDING, 0, "")
        .deadline_of_current(today, calendar);
    let mut q = Sql::new(
        "INSERT INTO enrolment_application (county_id, id, app_no, kind, grade, school_year, child_name, id_card, sex, birth_date, \
         street, community, guardian_name, guardian_phone, school_id, state, note, opened_on, deadline, student_id, class_id, \
         created_at, updated_at, ethnicity, review_state, step, approver_county, step_opened_on, step_deadline) VALUES ",
    );
    q.bind_list([
        Value::from(county),
        id.into(),
        app_no.as_str().into(),
        input.kind.code().into(),
        input.grade.code().into(),
        input.school_year.into(),
        name.as_str().into(),
        card.as_str().into(),
        i32::from(input.id_card.sex().code()).into(),
        input.id_card.birth_date().into(),
        input.street.trim().into(),
        input.community.trim().into(),
        guardian.as_str().into(),
        input.guardian_phone.as_str().into(),
        school_id.into(),
        EnrolmentStatus::Submitted.code().into(),
        "".into(),
        today.into(),
        deadline.into(),
        Option::<i64>::None.into(),
        Option::<i64>::None.into(),
        now.into(),
        now.into(),
        input.ethnicity.code().into(),
        approval_state::PENDING.into(),
        0i32.into(),
        Some(county).into(),
        today.into(),
        deadline.into(),
    ]);
    tx.exec(q).await?;
    let mut q = Sql::new(
        "INSERT INTO enrolment_key (id_card, school_year, county_id, application_id) VALUES ",
    );
    q.bind_list([
        Value::from(card.as_str()),
        input.school_year.into(),
        county.into(),
        id.into(),
    ]);
    tx.exec(q).await?;
    write_files(&mut tx, county, id, &accepted, now).await?;
    audit::write(
        &mut tx,
        &public_actor(),
        vec![Entry {
            county_id: county,
            action: "create",
            entity: "enrolment_application",
            entity_id: Some(id),
            summary: format!("网上入学申请 {app_no}（{}）", input.kind.label()),
            before: None,
            after: None,
        }],
    )
    .await?;
    let row = get_tx(&mut tx, county, id).await?;
    tx.commit().await?;
    Ok(row)
}

fn public_actor() -> Actor {
    Actor {
        name: "public".into(),
        role: "public".into(),
        ip: None,
        request_id: None,
    }
}

/// Each material file checked (an image or PDF of at most [`MAX_FILE_BYTES`]), named by its
/// material on refusal.
fn accept_files(files: &[Upload]) -> Result<Vec<(Material, Accepted)>> {
    files
        .iter()
        .map(|f| {
            attachment::accept(
                &yimeng_domain::attachment::ENROLMENT_MATERIAL,
                f.material.label(),
                &f.file_name,
                f.bytes.clone(),
            )
            .map(|a| (f.material, a))
        })
        .collect()
}

async fn write_files(
    tx: &mut Tx,
    county: i32,
    application: i64,
    files: &[(Material, Accepted)],
    now: DateTime<Utc>,
) -> Result<()> {
    for (material, file) in files {
        let owner = Owner::Enrolment {
            county_id: county,
            application_id: application,
            material: material.code(),
        };
        attachment::write(tx, owner, file, now).await?;
    }
    Ok(())
}

async fn get_tx(tx: &mut Tx, county: i32, id: i64) -> Result<ApplicationRow> {
    let mut q = Sql::new("SELECT * FROM enrolment_application WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    tx.opt(q).await?.ok_or(StoreError::NotFound)
}

/// Whether `scope` reviews the application: its county's bureau, the city, or the zone school.
fn reviews(scope: &Scope, a: &ApplicationRow) -> bool {
    match scope {
        Scope::City => true,
        Scope::County(c) => c.get() == a.county_id,
        Scope::School(s) => s.county.get() == a.county_id && Some(s.id) == a.school_id,
        _ => false,
    }
}

/// An application the scope reviews (else not found).
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, scope: &Scope, county: i32, id: i64) -> Result<ApplicationRow> {
    let mut q = Sql::new("SELECT * FROM enrolment_application WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    let a: ApplicationRow = db.opt(q).await?.ok_or(StoreError::NotFound)?;
    if reviews(scope, &a) {
        Ok(a)
    } else {
        Err(StoreError::NotFound)
    }
}

/// The applicant's own application, by its number and the child's ID number (nothing else is
/// found with either alone).
#[tracing::instrument(skip_all)]
pub async fn lookup(db: &Db, app_no: &str, id_card: &str) -> Result<ApplicationRow> {
    let no = ApplicationNo::parse(app_no).map_err(|_| StoreError::NotFound)?;
    let mut q = Sql::new("SELECT * FROM enrolment_application WHERE county_id = ");
    q.bind(no.county().get())
        .push(" AND app_no = ")
        .bind(no.to_string());
    let a: ApplicationRow = db.opt(q).await?.ok_or(StoreError::NotFound)?;
    if a.id_card == id_card.trim().to_uppercase() {
        Ok(a)
    } else {
        Err(StoreError::NotFound)
    }
}

/// Applications the scope reviews, newest first (at most `limit`).
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, scope: &Scope, limit: i64) -> Result<Vec<ApplicationRow>> {
    let mut q = Sql::new("SELECT * FROM enrolment_application a WHERE ");
    match scope {
        Scope::City => {
            q.push("/* multi-county: enrolment_list */ 1 = 1");
        }
        Scope::County(c) => {
            q.push("a.county_id = ").bind(c.get());
        }
        Scope::School(s) => {
            q.push("a.county_id = ")
                .bind(s.county.get())
                .push(" AND a.school_id = ")
                .bind(s.id);
        }
        _ => {
            q.push("1 = 0");
        }
    }
    q.push(" ORDER BY a.created_at DESC, a.id DESC LIMIT ")
        .bind(limit);
    db.all(q).await
}

/// The files of an application (without content); the application is a row its reader could see
/// (read through a scope, or by the parent's number and ID card).
#[tracing::instrument(skip_all)]
pub async fn files(db: &Db, application: &ApplicationRow) -> Result<Vec<FileRow>> {
    let mut q = Sql::new(
        "SELECT county_id, id, application_id, material, file_name, content_type, size, sha256, uploaded_at FROM enrolment_file WHERE county_id = ",
    );
    q.bind(application.county_id)
        .push(" AND application_id = ")
        .bind(application.id)
        .push(" ORDER BY id");
    db.all(q).await
}

/// A file's name, content type and bytes, for a reviewer of its application.
pub async fn file_content(
    db: &Db,
    scope: &Scope,
    county: i32,
    id: i64,
) -> Result<(String, String, Vec<u8>)> {
    let mut q = Sql::new("SELECT application_id FROM enrolment_file WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    let (app,): (i64,) = db.opt(q).await?.ok_or(StoreError::NotFound)?;
    let parent = get(db, scope, county, app).await?;
    let d = attachment::download(db, &parent, id).await?;
    Ok((d.file_name, d.content_type, d.content))
}

/// The decisions recorded on an application (a row its reader could see).
#[tracing::instrument(skip_all)]
pub async fn actions(
    db: &Db,
    application: &ApplicationRow,
) -> Result<Vec<crate::transfer::ActionRow>> {
    let mut rows =
        crate::approval::history(db, application.county_id, REQUEST_KIND, application.id).await?;
    // The review's decisions and the application's own events, in the order they happened.
    rows.sort_by_key(|r| (r.at, r.seq));
    Ok(rows)
}

/// The `approval_action.request_kind` of an application's decisions.
const REQUEST_KIND: &str = "enrolment";

/// Where the history numbers of an application's own events (placement, enrolment, withdrawal
/// after acceptance) start within a round.
const EVENT_SEQ: i32 = 1500;

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    /// Ask for these documents.
    RequestMaterials(Vec<Material>),
    /// Accept.
    Accept,
    /// Refuse, with the reason.
    Reject(String),
}

/// Takes a reviewer's decision (county bureau, city, or the zone school) on the review step of
/// the approval flow, through the one store path ([`crate::approval::decide`]): asking for
/// documents returns the application to the parent with the missing materials as the reason,
/// accepting completes the review, refusing (with a reason) closes it. [`next_status`] says
/// which decisions the application's lifecycle allows. The step is the county bureau's; its zone
/// school and the city decide it on the bureau's behalf. A history row (with the deadline and
/// whether it was overdue) and an audit row are written; a second decision on the same step is a
/// conflict. A refusal frees the child's key (a new application is possible).
#[tracing::instrument(skip_all)]
pub async fn review(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    t: &Timing<'_>,
    county: i32,
    id: i64,
    decision: Review,
) -> Result<ApplicationRow> {
    let mut tx = db.begin().await?;
    let a = get_tx(&mut tx, county, id).await?;
    if !reviews(scope, &a) {
        return Err(StoreError::NotFound);
    }
    let (event, action) = match &decision {
        Review::RequestMaterials(m) => (
            EnrolmentEvent::RequestMaterials { missing: m.clone() },
            Action::Return {
                reason: m.iter().map(|m| m.label()).collect::<Vec<_>>().join("、"),
            },
        ),
        Review::Accept => (EnrolmentEvent::Accept, Action::Approve),
        Review::Reject(r) => (
            EnrolmentEvent::Reject { reason: r.clone() },
            Action::Refuse { reason: r.clone() },
        ),
    };
    let to = next_status(a.status(), &event).map_err(|e| StoreError::Conflict(e.to_string()))?;
    // The review step is the county bureau's; whoever reviews the application acts for it.
    let acting = Scope::County(RegionCode::from_i32(a.county_id));
    decide(&mut tx, actor, &acting, t, &a, &action, to).await?;
    if to == EnrolmentStatus::Rejected {
        free_key(&mut tx, &a).await?;
    }
    let row = get_tx(&mut tx, county, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Decides the review step through [`crate::approval::decide`] and brings the application's
/// lifecycle state to `to` (the flow's guarded update has already made this decision the only
/// one).
async fn decide(
    tx: &mut Tx,
    actor: &Actor,
    acting: &Scope,
    t: &Timing<'_>,
    a: &ApplicationRow,
    action: &Action,
    to: EnrolmentStatus,
) -> Result<()> {
    let app_no = a.app_no.clone();
    let summary = move |x: &Action, _: usize| format!("入学申请 {app_no}：{}", x.label());
    let next = crate::approval::decide(
        tx,
        &crate::Acting {
            actor,
            scope: acting,
            t: *t,
        },
        &crate::approval::Case {
            table: "enrolment_application",
            state_column: "review_state",
            kind: REQUEST_KIND,
            entity: "enrolment_application",
            county: a.county_id,
            id: a.id,
            opened_on: a.step_opened_on.unwrap_or(a.opened_on),
            deadline: a.step_deadline,
            round: a.review_round,
            summary: &summary,
        },
        &a.flow(t.rules),
        action,
        |e| crate::approval::refused(e.kind(), e.to_string()),
        (),
    )
    .await?;
    let mut q = Sql::new("UPDATE enrolment_application SET state = ");
    q.bind(to.code())
        .push(", note = ")
        .bind(next.status.reason())
        .push(", deadline = step_deadline");
    if matches!(action, Action::Resubmit) {
        q.push(", review_round = review_round + 1");
    }
    q.push(" WHERE county_id = ")
        .bind(a.county_id)
        .push(" AND id = ")
        .bind(a.id);
    tx.exec(q).await?;
    Ok(())
}

async fn free_key(tx: &mut Tx, a: &ApplicationRow) -> Result<()> {
    let mut q = Sql::new("DELETE FROM enrolment_key WHERE id_card = ");
    q.bind(a.id_card.as_str())
        .push(" AND school_year = ")
        .bind(a.school_year)
        .push(" AND application_id = ")
        .bind(a.id);
    tx.exec(q).await?;
    Ok(())
}

/// Records a step of the application's lifecycle outside the review decision (a placement by the
/// county, the enrolment of an accepted child, a withdrawal after acceptance): moves the
/// lifecycle state to `to` (guarded by the state read, so a double submission is refused), writes
/// its history row beside the review's decisions, and audits it.
async fn record_event(
    tx: &mut Tx,
    actor: &Actor,
    a: &ApplicationRow,
    to: EnrolmentStatus,
    code: &'static str,
    reason: &str,
) -> Result<()> {
    let now = Utc::now().trunc_subsecs(0);
    let mut q = Sql::new("UPDATE enrolment_application SET state = ");
    q.bind(to.code())
        .push(", updated_at = ")
        .bind(now)
        .push(" WHERE county_id = ")
        .bind(a.county_id)
        .push(" AND id = ")
        .bind(a.id)
        .push(" AND state = ")
        .bind(a.state.as_str());
    if tx.exec(q).await? != 1 {
        return Err(StoreError::Conflict(
            "该申请已被他人办理，请刷新后查看".into(),
        ));
    }
    // Events of a round take the numbers between the round's withdrawal/resubmission and the
    // next round, so that they never meet the flow's own.
    let base = a.review_round * ROUND_SEQ + EVENT_SEQ;
    let mut q = Sql::new("SELECT COUNT(*) FROM approval_action WHERE county_id = ");
    q.bind(a.county_id)
        .push(" AND request_kind = ")
        .bind(REQUEST_KIND)
        .push(" AND request_id = ")
        .bind(a.id)
        .push(" AND seq >= ")
        .bind(base)
        .push(" AND seq < ")
        .bind(base + (ROUND_SEQ - EVENT_SEQ));
    let n = tx.scalar(q).await?;
    let entry = HistoryEntry {
        seq: base + n as i32,
        step_kind: yimeng_domain::approval::StepKind::code(ReviewStep::Review),
        action: code,
        actor: actor.name.clone(),
        actor_role: actor.role.clone(),
        reason: reason.to_string(),
        deadline: None,
        overdue: false,
        at: now,
    };
    crate::approval::write_history(tx, a.county_id, REQUEST_KIND, a.id, &entry).await?;
    audit::write(
        tx,
        actor,
        vec![Entry {
            county_id: a.county_id,
            action: "update",
            entity: "enrolment_application",
            entity_id: Some(a.id),
            summary: format!(
                "入学申请 {}：{} → {}{}",
                a.app_no,
                a.state_label(),
                to.label(),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!("（{reason}）")
                }
            ),
            before: Some(serde_json::json!({ "state": a.state }).to_string()),
            after: Some(serde_json::json!({ "state": to.code() }).to_string()),
        }],
    )
    .await?;
    Ok(())
}

/// The applicant adds the requested documents after a return (待补充材料 → 已提交), found by
/// number and ID: a resubmission on the approval flow, which opens the review step again with a
/// new deadline.
#[tracing::instrument(skip_all)]
pub async fn resubmit(
    db: &Db,
    t: &Timing<'_>,
    app_no: &str,
    id_card: &str,
    files: Vec<Upload>,
) -> Result<ApplicationRow> {
    let a = lookup(db, app_no, id_card).await?;
    if files.is_empty() {
        return Err(invalid("申请材料", "请上传要求补充的材料"));
    }
    let files = accept_files(&files)?;
    let to = next_status(a.status(), &EnrolmentEvent::Resubmit)
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    let mut tx = db.begin().await?;
    let now = Utc::now().trunc_subsecs(0);
    write_files(&mut tx, a.county_id, a.id, &files, now).await?;
    // The parent acts as the public applicant of the flow.
    decide(
        &mut tx,
        &public_actor(),
        &Scope::Nothing,
        t,
        &a,
        &Action::Resubmit,
        to,
    )
    .await?;
    let row = get_tx(&mut tx, a.county_id, a.id).await?;
    tx.commit().await?;
    Ok(row)
}

/// 统筹安排: the county bureau (or the city) places an open application at another school of the
/// county — the one of several zone schools (多校划片) it allots, or a school outside the zone when
/// the zone school is full — with a written reason. The new school then reviews and enrols it.
#[tracing::instrument(skip_all)]
pub async fn place(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    county: i32,
    id: i64,
    school_id: i64,
    reason: &str,
) -> Result<ApplicationRow> {
    if !matches!(scope, Scope::City) && *scope != Scope::County(RegionCode::from_i32(county)) {
        return Err(StoreError::Forbidden("统筹安排由县区教育局办理".into()));
    }
    let reason = yimeng_domain::text::normalize(reason).trim().to_string();
    if reason.is_empty() {
        return Err(invalid("统筹理由", "请填写统筹安排的理由"));
    }
    if reason.chars().count() > 500 {
        return Err(invalid("统筹理由", "理由不能超过 500 字"));
    }
    let mut tx = db.begin().await?;
    let a = get_tx(&mut tx, county, id).await?;
    if a.status().is_final() {
        return Err(StoreError::Conflict(format!(
            "申请状态为“{}”，不能再统筹安排",
            a.state_label()
        )));
    }
    if a.school_id == Some(school_id) {
        return Err(invalid("学校", "申请已在该学校，无需统筹"));
    }
    let mut q = Sql::new("SELECT name, stages FROM school WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(school_id);
    let Some((name, stages)): Option<(String, String)> = tx.opt(q).await? else {
        return Err(invalid("学校", "不是本县区的学校"));
    };
    let grade = Grade::from_code(&a.grade).unwrap_or(Grade::P1);
    if !yimeng_domain::StageSet::from_codes(&stages).contains(grade.stage()) {
        return Err(invalid(
            "学校",
            format!("“{name}”没有{}学段", grade.stage().label()),
        ));
    }
    record_event(
        &mut tx,
        actor,
        &a,
        a.status(),
        "place",
        &format!("统筹安排至{name}：{reason}"),
    )
    .await?;
    let mut q = Sql::new("UPDATE enrolment_application SET school_id = ");
    q.bind(school_id)
        .push(" WHERE county_id = ")
        .bind(county)
        .push(" AND id = ")
        .bind(id);
    tx.exec(q).await?;
    let row = get_tx(&mut tx, county, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// The applicant withdraws the application (撤回), found by number and ID number: allowed until
/// the child is enrolled; frees the child's key so that a new application is possible. While the
/// review is open (or returned) this is the flow's withdrawal; after acceptance it is recorded as
/// an event of the application.
#[tracing::instrument(skip_all)]
pub async fn withdraw(
    db: &Db,
    t: &Timing<'_>,
    app_no: &str,
    id_card: &str,
) -> Result<ApplicationRow> {
    let a = lookup(db, app_no, id_card).await?;
    let to = next_status(a.status(), &EnrolmentEvent::Withdraw)
        .map_err(|_| StoreError::Conflict(format!("申请状态为“{}”，不能撤回", a.state_label())))?;
    let mut tx = db.begin().await?;
    if a.review_state == approval_state::COMPLETED {
        record_event(&mut tx, &public_actor(), &a, to, "withdraw", "家长撤回申请").await?;
    } else {
        decide(
            &mut tx,
            &public_actor(),
            &Scope::Nothing,
            t,
            &a,
            &Action::Withdraw,
            to,
        )
        .await?;
    }
    free_key(&mut tx, &a).await?;
    let row = get_tx(&mut tx, a.county_id, a.id).await?;
    tx.commit().await?;
    Ok(row)
}

/// What [`enrol`] gives back: the new student's id (or the record's field problems) and the
/// class-size gate's warnings.
pub type Enrolled = (
    std::result::Result<i64, Vec<yimeng_domain::FieldError>>,
    Vec<String>,
);

/// Enrols an accepted child into class `class_id` of the zone school (or the school the county
/// places the child in, 统筹安排): the student is written through the registry's normal save
/// (ID, 学籍号, one person one record, scope, class-size gate with `gate`), and only then is the
/// application marked 已入学 with the student and class. Returns the new student's id and the
/// gate's warnings.
#[tracing::instrument(skip_all)]
pub async fn enrol(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    county: i32,
    id: i64,
    class_id: i64,
    gate: GateOptions,
) -> Result<Enrolled> {
    let a = get(db, scope, county, id).await?;
    if a.status() != EnrolmentStatus::Accepted {
        return Err(StoreError::Conflict(format!(
            "申请状态为“{}”，受理后才能办理入学",
            a.state_label()
        )));
    }
    let mut q = Sql::new(
        "SELECT c.school_year, c.grade, c.class_no, s.code FROM class c JOIN school s ON s.county_id = c.county_id AND s.id = c.school_id WHERE c.county_id = ",
    );
    q.bind(county).push(" AND c.id = ").bind(class_id);
    let (year, grade, class_no, code): (i32, String, i32, String) =
        db.opt(q).await?.ok_or(StoreError::NotFound)?;
    if grade != a.grade || year != a.school_year {
        return Err(StoreError::Invalid(format!(
            "应编入 {} 学年{}的班级",
            SchoolYear::from_start(a.school_year).label(),
            a.grade_label()
        )));
    }
    let card = IdCardNo::from_stored(a.id_card.clone());
    let rec = StudentRecord {
        school_code: SchoolCode::from_stored(code),
        class: Some(ClassRef {
            year: SchoolYear::from_start(year),
            grade: Grade::from_code(&grade).unwrap_or(Grade::P1),
            class_no,
        }),
        name: a.child_name.clone(),
        sex: card.sex(),
        birth_date: card.birth_date(),
        student_no: StudentNo::from_id_card(&card),
        id_card: Some(card),
        ethnicity: Ethnicity::from_code(&a.ethnicity).unwrap_or(Ethnicity::Han),
        hukou: None,
        migrant: a.kind == ApplicationKind::MigrantChild.code(),
        left_behind: false,
        disability: None,
        poor: false,
        orphan: false,
        guardians: vec![Guardian {
            name: a.guardian_name.clone(),
            relation: Relation::Other,
            phone: Some(a.guardian_phone.clone()),
        }],
        status: StudentStatus::Enrolled,
        entry_date: None,
    };
    let (saved, warnings) = crate::edit::save_student_gated(
        db,
        scope,
        actor,
        rec,
        None,
        Some(format!("入学申请 {} 受理后入学", a.app_no)),
        gate,
    )
    .await?;
    let sid = match saved {
        Saved::Ok(sid) => sid,
        Saved::Invalid(errs) => return Ok((Err(errs), warnings)),
    };
    let admitted = next_status(
        a.status(),
        &EnrolmentEvent::Admit {
            school: SchoolCode::from_stored(String::new()),
        },
    )
    .and_then(|s| next_status(s, &EnrolmentEvent::Enrol))
    .map_err(|e| StoreError::Conflict(e.to_string()))?;
    let mut tx = db.begin().await?;
    record_event(&mut tx, actor, &a, admitted, "enrol", "").await?;
    let mut q = Sql::new("UPDATE enrolment_application SET student_id = ");
    q.bind(sid)
        .push(", class_id = ")
        .bind(class_id)
        .push(" WHERE county_id = ")
        .bind(county)
        .push(" AND id = ")
        .bind(id);
    tx.exec(q).await?;
    tx.commit().await?;
    Ok((Ok(sid), warnings))
}

/// The accepted applications of a school's intake (year, grade), for 阳光分班.
#[tracing::instrument(skip_all)]
pub async fn accepted_for(
    db: &Db,
    scope: &Scope,
    county: i32,
    school: i64,
    year: i32,
    grade: Grade,
) -> Result<Vec<ApplicationRow>> {
    if !scope.covers_school(RegionCode::from_i32(county), school) {
        return Err(StoreError::NotFound);
    }
    let mut q = Sql::new("SELECT * FROM enrolment_application WHERE county_id = ");
    q.bind(county)
        .push(" AND school_id = ")
        .bind(school)
        .push(" AND school_year = ")
        .bind(year)
        .push(" AND grade = ")
        .bind(grade.code())
        .push(" AND state = ")
        .bind(EnrolmentStatus::Accepted.code())
        .push(" ORDER BY id");
    db.all(q).await
}

/// The school's students on the register without a class (new intake entered without a class).
#[tracing::instrument(skip_all)]
pub async fn unplaced(
    db: &Db,
    scope: &Scope,
    county: i32,
    school: i64,
) -> Result<Vec<crate::student::StudentRow>> {
    if !scope.covers_school(RegionCode::from_i32(county), school) {
        return Err(StoreError::NotFound);
    }
    let on_register: Vec<&str> = StudentStatus::ALL
        .iter()
        .filter(|s| s.is_on_register())
        .map(|s| s.code())
        .collect();
    let mut q = Sql::new("SELECT s.* FROM student s WHERE s.county_id = ");
    q.bind(county)
        .push(" AND s.school_id = ")
        .bind(school)
        .push(" AND s.class_id IS NULL AND s.status IN ")
        .bind_list(on_register)
        .push(" ORDER BY s.id");
    db.all(q).await
}
