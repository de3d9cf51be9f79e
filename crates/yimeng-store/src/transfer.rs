//! 转学 (transfer) requests: creation, the approval steps with their deadlines on the working-day
//! calendar, refusal and withdrawal, the overdue list, and — at the final approval only — the move
//! of the student's record, in one transaction with its history.
//!
//! Who approves in which order, and every precondition, is [`yimeng_domain::transfer`]'s: this
//! module stores the request, rebuilds the domain state from it, asks the domain what an action
//! does, and writes the result. A cross-county move closes the record in the sending county and
//! inserts it in the receiving one (design.md scale-out rule 2); the national keys (`person_key`)
//! move owner in the same transaction, and the two records are linked by the request
//! (`student_id` → `new_student_id`) and by their `student_event` reasons.
//!
//! A request is owned (`county_id`) by the receiving school's county, or by the sending school's
//! for a move out of Linyi. Both sides read it, so the reads by party are marked multi-county.

use crate::attachment::{self, Accepted, Owner};
use crate::audit::{self, Entry};
use crate::bulk::{self, TableRow};
use crate::db::{Db, Sql, Tx};
use crate::student::{StudentEventRow, StudentRow};
use crate::{Acting, Actor, Result, StoreError, Timing};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Serialize;
use yimeng_domain::calendar::WorkCalendar;
use yimeng_domain::student::ChangeType;
use yimeng_domain::transfer::{
    Action, FlowStatus, Initiator, TransferEffect, TransferError, TransferMaterial, TransferParty,
    TransferState, check_request,
};
use yimeng_domain::{RegionCode, Rules, SchoolRef, Scope, StudentStatus};

/// Request states (the approval flow's).
pub use yimeng_domain::approval::state;

pub use crate::approval::ActionRow;

/// A `transfer_request` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct TransferRow {
    pub county_id: i32,
    pub id: i64,
    pub request_no: String,
    pub route: String,
    pub started_by: String,
    pub student_county: Option<i32>,
    pub student_id: Option<i64>,
    pub student_name: String,
    pub id_card: Option<String>,
    pub student_no: Option<String>,
    pub grade: Option<String>,
    pub from_county: Option<i32>,
    pub from_school_id: Option<i64>,
    pub from_name: String,
    pub to_county: Option<i32>,
    pub to_school_id: Option<i64>,
    pub to_class_id: Option<i64>,
    pub to_name: String,
    pub reason: String,
    pub materials: String,
    pub applicant_phone: Option<String>,
    pub state: String,
    pub step: i32,
    pub steps_json: String,
    pub approver_county: Option<i32>,
    pub approver_school: Option<i64>,
    pub step_opened_on: NaiveDate,
    pub step_deadline: Option<NaiveDate>,
    pub refusal_reason: String,
    pub new_student_id: Option<i64>,
    pub gate_override_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// 外市转入: the incoming student's record as entered (a `student` row in JSON).
    pub incoming_json: Option<String>,
}

/// One step of a request as shown: what, who, its deadline (for the current step) and the decision.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub label: &'static str,
    pub approver: String,
    pub state: &'static str,
    pub deadline: Option<NaiveDate>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub overdue: bool,
}

impl TransferRow {
    /// Chinese label of the state.
    pub fn state_label(&self) -> &'static str {
        state::label(&self.state)
    }
    /// Whether the current step is past its deadline on `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.state == state::PENDING && self.step_deadline.is_some_and(|d| today > d)
    }
    fn party(county: Option<i32>, school: Option<i64>, name: &str) -> TransferParty {
        match (county, school) {
            (Some(c), Some(s)) => TransferParty::InCity(SchoolRef {
                county: RegionCode::from_i32(c),
                id: s,
            }),
            (c, _) => TransferParty::OutOfCity {
                county: c.map(RegionCode::from_i32),
                name: name.to_string(),
            },
        }
    }
    /// The domain state of the request.
    pub fn domain_state(&self, rules: &Rules) -> TransferState {
        let from = Self::party(self.from_county, self.from_school_id, &self.from_name);
        let to = Self::party(self.to_county, self.to_school_id, &self.to_name);
        let started_by = initiator_from_code(&self.started_by);
        let step = usize::try_from(self.step).unwrap_or(0);
        let status = FlowStatus::from_stored(&self.state, step, &self.refusal_reason);
        TransferState::stored(from, to, started_by, rules, status)
    }
    /// Whether a scope is a party (or the city): who may read the request.
    pub fn visible_to(&self, scope: &Scope) -> bool {
        let side = |c: Option<i32>, s: Option<i64>| match (c, s) {
            (Some(c), Some(s)) => scope.covers_school(RegionCode::from_i32(c), s),
            (Some(c), None) => scope.covers_whole_county(RegionCode::from_i32(c)),
            _ => false,
        };
        matches!(scope, Scope::City)
            || side(self.from_county, self.from_school_id)
            || side(self.to_county, self.to_school_id)
    }
}

fn initiator_code(i: Initiator) -> &'static str {
    match i {
        Initiator::ReceivingSchool => "receiving_school",
        Initiator::Parent => "parent",
        Initiator::SendingSchool => "sending_school",
    }
}

fn initiator_from_code(c: &str) -> Initiator {
    match c {
        "parent" => Initiator::Parent,
        "sending_school" => Initiator::SendingSchool,
        _ => Initiator::ReceivingSchool,
    }
}

/// Chinese label of who started a request.
pub fn initiator_label(code: &str) -> &'static str {
    match code {
        "parent" => "家长网上申请",
        "sending_school" => "转出学校",
        _ => "转入学校",
    }
}

/// Maps a domain refusal to the store's error kinds: not the actor's step → forbidden; a request
/// already decided or closed → conflict; bad input → invalid.
pub fn domain_error(e: TransferError) -> StoreError {
    crate::approval::refused(e.kind(), e.to_string())
}

/// Where the student goes.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// The student, by 学籍号 and ID number (both must match one record in Linyi).
    pub student_no: String,
    pub id_card: String,
    /// The receiving school (in Linyi).
    pub to_county: i32,
    pub to_school: i64,
    /// The class at the receiving school, if already chosen.
    pub to_class: Option<i64>,
    pub started_by: Initiator,
    pub reason: String,
    pub materials: Vec<TransferMaterial>,
    /// A parent's phone number (online requests).
    pub applicant_phone: Option<String>,
}

/// The request number shown to the applicant: `ZX` + county + 8 digits.
pub fn request_no(county: i32, id: i64) -> String {
    format!("ZX{county}{id:08}")
}

async fn find_student(tx: &mut Tx, student_no: &str, id_card: &str) -> Result<Option<StudentRow>> {
    let mut q = Sql::new(
        "/* multi-county: person_key */ SELECT county_id, owner_id FROM person_key WHERE kind = 'student_no' AND owner = 'student' AND value = ",
    );
    q.bind(student_no.trim().to_uppercase());
    let Some((county, id)): Option<(i32, i64)> = tx.opt(q).await? else {
        return Ok(None);
    };
    let mut q = Sql::new("SELECT t.* FROM student t WHERE t.county_id = ");
    q.bind(county).push(" AND t.id = ").bind(id);
    let row: Option<StudentRow> = tx.opt(q).await?;
    let card = id_card.trim().to_uppercase();
    Ok(row.filter(|r| r.id_card.as_deref() == Some(card.as_str())))
}

async fn school_name(tx: &mut Tx, county: i32, id: i64) -> Result<Option<String>> {
    let mut q = Sql::new("SELECT name FROM school WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    Ok(tx.opt::<(String,)>(q).await?.map(|r| r.0))
}

/// One open request per student: a second one is refused while the first is pending.
async fn no_open_request(tx: &mut Tx, student: &StudentRow) -> Result<()> {
    let mut q = Sql::new(
        "/* multi-county: open_transfer */ SELECT COUNT(*) FROM transfer_request WHERE state = 'pending' AND student_county = ",
    );
    q.bind(student.county_id)
        .push(" AND student_id = ")
        .bind(student.id);
    if tx.scalar(q).await? > 0 {
        return Err(StoreError::Conflict(
            "该学生已有一份正在审批的转学申请，不能重复申请".into(),
        ));
    }
    Ok(())
}

/// Starts a request. `actor_scope` is the receiving school's for [`Initiator::ReceivingSchool`],
/// [`Scope::Nothing`] for a parent's online request. Nothing of the registry changes.
#[tracing::instrument(skip_all)]
pub async fn create(db: &Db, acting: &Acting<'_>, input: NewTransfer) -> Result<TransferRow> {
    let (actor, actor_scope, rules, calendar, today) = acting.parts();
    let reason = input.reason.trim().to_string();
    if reason.is_empty() {
        return Err(StoreError::Invalid("请填写转学原因".into()));
    }
    if reason.chars().count() > 500 {
        return Err(StoreError::Invalid("转学原因不能超过 500 字".into()));
    }
    if input.started_by == Initiator::ReceivingSchool
        && !actor_scope.covers_school(RegionCode::from_i32(input.to_county), input.to_school)
    {
        return Err(StoreError::Forbidden(
            "转学申请应由转入学校发起：您的账号不是转入学校".into(),
        ));
    }
    let mut tx = db.begin().await?;
    let Some(student) = find_student(&mut tx, &input.student_no, &input.id_card).await? else {
        return Err(StoreError::Invalid(
            "未找到该学籍号和身份证件号对应的学生，请核对后重新填写".into(),
        ));
    };
    let Some(to_name) = school_name(&mut tx, input.to_county, input.to_school).await? else {
        return Err(StoreError::Invalid("转入学校不存在".into()));
    };
    let from_name = school_name(&mut tx, student.county_id, student.school_id)
        .await?
        .unwrap_or_default();
    let from = TransferParty::InCity(SchoolRef {
        county: RegionCode::from_i32(student.county_id),
        id: student.school_id,
    });
    let to = TransferParty::InCity(SchoolRef {
        county: RegionCode::from_i32(input.to_county),
        id: input.to_school,
    });
    let status = StudentStatus::from_code(&student.status).unwrap_or(StudentStatus::Other);
    let from_school = from.school().expect("in city");
    let route = check_request(
        &from,
        &to,
        input.started_by,
        Some((status, from_school)),
        &input.materials,
        rules,
    )
    .map_err(domain_error)?;
    no_open_request(&mut tx, &student).await?;
    let grade = class_grade(&mut tx, student.county_id, student.class_id).await?;
    // The receiving school must teach the student's stage (a 中职 student does not transfer into a
    // primary school), and a chosen class must be of the student's grade.
    let grade_code = grade.as_deref().and_then(yimeng_domain::Grade::from_code);
    if let Some(g) = grade_code {
        let mut q = Sql::new("SELECT stages FROM school WHERE county_id = ");
        q.bind(input.to_county)
            .push(" AND id = ")
            .bind(input.to_school);
        if let Some((stages,)) = tx.opt::<(String,)>(q).await?
            && !yimeng_domain::StageSet::from_codes(&stages).contains(g.stage())
        {
            return Err(StoreError::Invalid(format!(
                "转入学校“{to_name}”没有{}学段，不能接收{}学生",
                g.stage().label(),
                g.label()
            )));
        }
    }
    if let Some(class_id) = input.to_class {
        let mut q = Sql::new("SELECT school_id, grade FROM class WHERE county_id = ");
        q.bind(input.to_county).push(" AND id = ").bind(class_id);
        match tx.opt::<(i64, String)>(q).await? {
            Some((s, g)) if s == input.to_school => {
                if let Some(want) = grade_code
                    && yimeng_domain::Grade::from_code(&g) != Some(want)
                {
                    return Err(StoreError::Invalid(format!(
                        "所选班级不是{}，与该学生的年级不符",
                        want.label()
                    )));
                }
            }
            _ => return Err(StoreError::Invalid("所选班级不属于转入学校".into())),
        }
        // The gate is checked now (so that the applicant learns early) and again at the end.
        crate::gate::enforce(
            &mut tx,
            actor,
            &Scope::Nothing,
            rules,
            &crate::gate::Placing {
                county: input.to_county,
                class_id,
                adding: 1,
                override_reason: None,
                context: "转学",
            },
        )
        .await?;
    }
    let st = TransferState::new(from, to, input.started_by, rules);
    let id = insert_request(
        &mut tx,
        actor,
        calendar,
        today,
        &st,
        RequestInsert {
            county: input.to_county,
            route,
            started_by: input.started_by,
            student: Some(&student),
            student_name: &student.name,
            id_card: student.id_card.clone(),
            student_no: Some(student.student_no.clone()),
            grade,
            from: (Some(student.county_id), Some(student.school_id), &from_name),
            to: (
                Some(input.to_county),
                Some(input.to_school),
                input.to_class,
                &to_name,
            ),
            reason: &reason,
            materials: &input.materials,
            applicant_phone: input.applicant_phone,
            incoming_json: None,
        },
        &[],
    )
    .await?;
    tx.commit().await?;
    get_unscoped(db, input.to_county, id).await
}

async fn class_grade(tx: &mut Tx, county: i32, class: Option<i64>) -> Result<Option<String>> {
    let Some(class) = class else { return Ok(None) };
    let mut q = Sql::new("SELECT grade FROM class WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(class);
    Ok(tx.opt::<(String,)>(q).await?.map(|r| r.0))
}

pub(crate) async fn get_unscoped(db: &Db, county: i32, id: i64) -> Result<TransferRow> {
    let mut q = Sql::new("SELECT * FROM transfer_request WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    db.one(q).await
}

/// One request, if the scope is a party to it (else not found). Only a missing or hidden request
/// is not found: a database failure stays one.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, scope: &Scope, county: i32, id: i64) -> Result<TransferRow> {
    let r = get_unscoped(db, county, id).await?;
    if r.visible_to(scope) {
        Ok(r)
    } else {
        Err(StoreError::NotFound)
    }
}

/// A request by its number (for the public status page: the caller also gives the ID number).
#[tracing::instrument(skip_all)]
pub async fn lookup(db: &Db, request_no: &str, id_card: &str) -> Result<TransferRow> {
    let mut q = Sql::new(
        "/* multi-county: transfer_lookup */ SELECT * FROM transfer_request WHERE request_no = ",
    );
    q.bind(request_no.trim().to_uppercase());
    let r: Option<TransferRow> = db.opt(q).await?;
    let card = id_card.trim().to_uppercase();
    r.filter(|r| r.id_card.as_deref() == Some(card.as_str()))
        .ok_or(StoreError::NotFound)
}

/// Requests the scope is a party to, newest first (optionally only those waiting for the scope's
/// own decision, or only overdue ones on `today`).
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &Db,
    scope: &Scope,
    waiting_for_me: bool,
    overdue_on: Option<NaiveDate>,
    limit: i64,
) -> Result<Vec<TransferRow>> {
    let mut q =
        Sql::new("/* multi-county: transfer_list */ SELECT * FROM transfer_request t WHERE ");
    party_filter(&mut q, scope, waiting_for_me);
    if let Some(today) = overdue_on {
        q.push(" AND t.state = 'pending' AND t.step_deadline < ")
            .bind(today);
    }
    q.push(" ORDER BY t.created_at DESC, t.id DESC LIMIT ")
        .bind(limit);
    db.all(q).await
}

fn party_filter(q: &mut Sql, scope: &Scope, waiting_for_me: bool) {
    match scope {
        Scope::City if !waiting_for_me => {
            q.push("1 = 1");
        }
        Scope::County(c) if waiting_for_me => {
            q.push("t.state = 'pending' AND t.approver_school IS NULL AND t.approver_county = ")
                .bind(c.get());
        }
        Scope::County(c) => {
            q.push("(t.from_county = ")
                .bind(c.get())
                .push(" OR t.to_county = ")
                .bind(c.get())
                .push(")");
        }
        Scope::School(s) if waiting_for_me => {
            q.push("t.state = 'pending' AND t.approver_county = ")
                .bind(s.county.get())
                .push(" AND t.approver_school = ")
                .bind(s.id);
        }
        Scope::School(s) => {
            q.push("((t.from_county = ")
                .bind(s.county.get())
                .push(" AND t.from_school_id = ")
                .bind(s.id)
                .push(") OR (t.to_county = ")
                .bind(s.county.get())
                .push(" AND t.to_school_id = ")
                .bind(s.id)
                .push("))");
        }
        _ => {
            q.push("1 = 0");
        }
    }
}

/// The decisions taken on a request, in order. The request is the proof that the reader may see
/// it: a row from [`get`] (a party) or [`lookup`] (the applicant, by number and ID number).
#[tracing::instrument(skip_all)]
pub async fn actions(db: &Db, request: &TransferRow) -> Result<Vec<ActionRow>> {
    crate::approval::history(db, request.county_id, REQUEST_KIND, request.id).await
}

/// The `approval_action.request_kind` of a transfer's decisions.
const REQUEST_KIND: &str = "transfer";

/// The steps of a request as shown (label, approver, state, deadline, decision).
pub fn step_views(
    row: &TransferRow,
    acts: &[ActionRow],
    rules: &Rules,
    today: NaiveDate,
) -> Vec<StepView> {
    let st = row.domain_state(rules);
    st.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let act = acts.iter().find(|a| a.seq == i as i32);
            let current = row.state == state::PENDING && row.step == i as i32;
            StepView {
                label: s.kind.label(),
                approver: s.approver_label(),
                state: match (act.map(|a| a.action.as_str()), current) {
                    (Some("approve"), _) => "已同意",
                    (Some("refuse"), _) => "不同意",
                    (Some(_), _) => "已撤回",
                    (None, true) => "待办理",
                    (None, false) => "未开始",
                },
                deadline: if current {
                    row.step_deadline
                } else {
                    act.and_then(|a| a.deadline)
                },
                decided_by: act.map(|a| a.actor.clone()),
                decided_at: act.map(|a| a.at),
                reason: act.map(|a| a.reason.clone()).unwrap_or_default(),
                overdue: act.map_or(current && row.is_overdue(today), |a| a.overdue),
            }
        })
        .collect()
}

/// An action on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Refuse(String),
    Withdraw,
}

impl Decision {
    /// The approval flow's action.
    pub fn action(&self) -> Action {
        match self {
            Decision::Approve => Action::Approve,
            Decision::Refuse(r) => Action::Refuse { reason: r.clone() },
            Decision::Withdraw => Action::Withdraw,
        }
    }
}

/// Takes `decision` on request (`county`, `id`) by an actor with `actor_scope`. An actor who is
/// not a party gets not-found (the public scope is never a party: a parent withdraws through
/// [`withdraw_online`]); a party that is not the current step's approver gets the domain's
/// refusal (forbidden); a second decision on the same step (double submission) a conflict. The
/// final approval moves the student (see the module documentation); `override_reason` is a
/// county bureau's written reason to place beyond the class-size limits at that moment.
#[tracing::instrument(skip_all)]
pub async fn decide(
    db: &Db,
    acting: &Acting<'_>,
    county: i32,
    id: i64,
    decision: Decision,
    override_reason: Option<&str>,
) -> Result<TransferRow> {
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT * FROM transfer_request WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    let row: TransferRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    if !row.visible_to(acting.scope) {
        return Err(StoreError::NotFound);
    }
    decide_visible(&mut tx, acting, &row, decision, override_reason).await?;
    tx.commit().await?;
    get_unscoped(db, county, id).await
}

/// A parent withdraws the online request they made, proven by its number and the child's ID
/// number (the same proof as the public status page, [`lookup`]). Anything else (a request a
/// school made, or one already decided) is refused with the domain's reason.
#[tracing::instrument(skip_all)]
pub async fn withdraw_online(
    db: &Db,
    actor: &Actor,
    t: Timing<'_>,
    request_no: &str,
    id_card: &str,
) -> Result<TransferRow> {
    let found = lookup(db, request_no, id_card).await?;
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT * FROM transfer_request WHERE county_id = ");
    q.bind(found.county_id).push(" AND id = ").bind(found.id);
    let row: TransferRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    let acting = Acting {
        actor,
        scope: &Scope::Nothing,
        t,
    };
    decide_visible(&mut tx, &acting, &row, Decision::Withdraw, None).await?;
    tx.commit().await?;
    get_unscoped(db, row.county_id, row.id).await
}

/// The final approval's effect: the move of the student, and the request's link to the record
/// at the receiving school.
struct Completion<'a> {
    acting: &'a Acting<'a>,
    row: &'a TransferRow,
    effect: Option<TransferEffect>,
    override_reason: Option<&'a str>,
}

impl crate::approval::Effect for Completion<'_> {
    async fn completed(self, tx: &mut Tx) -> Result<()> {
        let Some(effect) = self.effect else {
            return Ok(());
        };
        let new_id = apply_effect(tx, self.acting, self.row, effect, self.override_reason).await?;
        let mut q = Sql::new("UPDATE transfer_request SET new_student_id = ");
        q.bind(new_id)
            .push(", gate_override_reason = ")
            .bind(
                self.override_reason
                    .map(str::trim)
                    .filter(|r| !r.is_empty()),
            )
            .push(" WHERE county_id = ")
            .bind(self.row.county_id)
            .push(" AND id = ")
            .bind(self.row.id);
        tx.exec(q).await?;
        Ok(())
    }
}

/// Decides a request the actor may see, through the one approval path
/// ([`crate::approval::decide`]).
async fn decide_visible(
    tx: &mut Tx,
    acting: &Acting<'_>,
    row: &TransferRow,
    decision: Decision,
    override_reason: Option<&str>,
) -> Result<()> {
    let st = row.domain_state(acting.t.rules);
    let action = decision.action();
    let summary = |a: &Action, step: usize| {
        format!(
            "转学申请 {}：{}（{}）",
            row.request_no,
            a.label(),
            st.steps.get(step).map_or("", |s| s.kind.label())
        )
    };
    crate::approval::decide(
        tx,
        acting,
        &crate::approval::Case {
            table: "transfer_request",
            state_column: "state",
            kind: REQUEST_KIND,
            entity: "transfer_request",
            county: row.county_id,
            id: row.id,
            opened_on: row.step_opened_on,
            deadline: row.step_deadline,
            round: 0,
            summary: &summary,
        },
        &st.flow,
        &action,
        |e| domain_error(e.into()),
        Completion {
            acting,
            row,
            effect: st.completion_effect(),
            override_reason,
        },
    )
    .await?;
    Ok(())
}

/// The request's student record with its status, which must still be at the sending school and
/// on the register (else the request cannot complete).
async fn record_still_at(
    tx: &mut Tx,
    row: &TransferRow,
    from: SchoolRef,
) -> Result<(StudentRow, StudentStatus)> {
    let (Some(sc), Some(sid)) = (row.student_county, row.student_id) else {
        return Err(StoreError::NotFound);
    };
    let mut q = Sql::new("SELECT t.* FROM student t WHERE t.county_id = ");
    q.bind(sc).push(" AND t.id = ").bind(sid);
    let old: StudentRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    let status = StudentStatus::from_code(&old.status).unwrap_or(StudentStatus::Other);
    if old.school_id != from.id || old.county_id != from.county.get() || !status.is_on_register() {
        return Err(StoreError::Conflict(
            "该学生的学籍在申请后已发生变化（不在转出学校或已不在籍），不能办结转学".into(),
        ));
    }
    Ok((old, status))
}

/// Applies a completed request to the registry. Returns the student's id at the receiving school
/// (or, for a move out of Linyi, the closed record's).
async fn apply_effect(
    tx: &mut Tx,
    acting: &Acting<'_>,
    row: &TransferRow,
    effect: TransferEffect,
    override_reason: Option<&str>,
) -> Result<i64> {
    let (actor, today) = (acting.actor, acting.t.today);
    match effect {
        TransferEffect::Move { from, to } => {
            let (old, status) = record_still_at(tx, row, from).await?;
            gate_at_arrival(tx, acting, row, to, override_reason, "转学").await?;
            let arrival = Arrival {
                actor,
                row,
                old: &old,
                to,
                status: arrival_status(&old, status),
                now: Utc::now().trunc_subsecs(0),
                today,
            };
            let (new_id, events, entries) = if from.county == to.county {
                move_within_county(tx, &arrival).await?
            } else {
                move_across_counties(tx, &arrival).await?
            };
            write_events(tx, events).await?;
            audit::write(tx, actor, entries).await?;
            crate::region::bump_data_versions(tx, &[from.county.get(), to.county.get()]).await?;
            Ok(new_id)
        }
        TransferEffect::Enrol { to } => enrol_incoming(tx, acting, row, to, override_reason).await,
        TransferEffect::Leave { from } => leave_city(tx, actor, row, from, today).await,
    }
}

/// The class-size gate of the receiving class, if the request names one: checked again at the
/// final approval, where a county bureau may place beyond it with a written reason.
async fn gate_at_arrival(
    tx: &mut Tx,
    acting: &Acting<'_>,
    row: &TransferRow,
    to: SchoolRef,
    override_reason: Option<&str>,
    what: &str,
) -> Result<()> {
    let Some(class_id) = row.to_class_id else {
        return Ok(());
    };
    crate::gate::enforce(
        tx,
        acting.actor,
        acting.scope,
        acting.t.rules,
        &crate::gate::Placing {
            county: to.county.get(),
            class_id,
            adding: 1,
            override_reason,
            context: &format!("{what} {}", row.request_no),
        },
    )
    .await?;
    Ok(())
}

/// The status the student has at the receiving school: unchanged, except that 复学 becomes 在读.
fn arrival_status(old: &StudentRow, status: StudentStatus) -> String {
    if status == StudentStatus::Resumed {
        StudentStatus::Enrolled.code().to_string()
    } else {
        old.status.clone()
    }
}

/// A move within Linyi being written.
struct Arrival<'a> {
    actor: &'a Actor,
    row: &'a TransferRow,
    /// The record at the sending school, as read.
    old: &'a StudentRow,
    to: SchoolRef,
    /// The status at the receiving school.
    status: String,
    now: DateTime<Utc>,
    today: NaiveDate,
}

impl Arrival<'_> {
    fn out_reason(&self) -> String {
        format!(
            "转学转出至{}（申请 {}）",
            self.row.to_name, self.row.request_no
        )
    }
    fn in_reason(&self) -> String {
        format!(
            "由{}转入（申请 {}）",
            self.row.from_name, self.row.request_no
        )
    }
    /// The 转出 (21) and 转入 (22) events of the move.
    fn events(
        &self,
        (out_county, out_id, out_school): (i32, i64, i64),
        (in_county, in_id): (i32, i64),
        (out_reason, in_reason): (String, String),
    ) -> Vec<StudentEventRow> {
        let out_code = StudentStatus::TransferredOut.code();
        vec![
            transfer_event(
                self.actor,
                (out_county, out_id, out_school),
                ChangeType::TransferOut,
                Some(&self.old.status),
                out_code,
                out_reason,
                self.today,
            ),
            transfer_event(
                self.actor,
                (in_county, in_id, self.to.id),
                ChangeType::TransferIn,
                Some(out_code),
                &self.status,
                in_reason,
                self.today,
            ),
        ]
    }
}

/// Same county: the record moves school in place.
async fn move_within_county(
    tx: &mut Tx,
    a: &Arrival<'_>,
) -> Result<(i64, Vec<StudentEventRow>, Vec<Entry>)> {
    let old = a.old;
    let mut moved = old.clone();
    moved.school_id = a.to.id;
    moved.class_id = a.row.to_class_id;
    moved.status = a.status.clone();
    moved.updated_at = a.now;
    moved.content_hash = moved.compute_hash();
    let diff = audit::diff(old, &moved);
    bulk::upsert(tx, vec![moved]).await?;
    let events = a.events(
        (old.county_id, old.id, old.school_id),
        (old.county_id, old.id),
        (a.out_reason(), a.in_reason()),
    );
    let entries = vec![Entry {
        county_id: old.county_id,
        action: "transfer",
        entity: "student",
        entity_id: Some(old.id),
        summary: format!("转学（申请 {}）", a.row.request_no),
        before: diff.as_ref().map(|d| d.0.clone()),
        after: diff.map(|d| d.1),
    }];
    Ok((old.id, events, entries))
}

/// Across counties (scale-out rule 2): the record is closed in the sending county and inserted in
/// the receiving one; the national keys move owner.
async fn move_across_counties(
    tx: &mut Tx,
    a: &Arrival<'_>,
) -> Result<(i64, Vec<StudentEventRow>, Vec<Entry>)> {
    let (old, to) = (a.old, a.to);
    let out_code = StudentStatus::TransferredOut.code();
    let mut closed = old.clone();
    closed.status = out_code.to_string();
    closed.class_id = None;
    closed.updated_at = a.now;
    closed.content_hash = closed.compute_hash();
    bulk::upsert(tx, vec![closed]).await?;
    let nid = tx.alloc_ids("student", 1).await?;
    let mut opened = old.clone();
    opened.county_id = to.county.get();
    opened.id = nid;
    opened.school_id = to.id;
    opened.class_id = a.row.to_class_id;
    opened.status = a.status.clone();
    opened.created_batch = None;
    opened.created_at = a.now;
    opened.updated_at = a.now;
    opened.content_hash = opened.compute_hash();
    let opened_json = audit::json_row(&opened);
    bulk::insert(tx, vec![opened]).await?;
    let mut q = Sql::new("UPDATE person_key SET county_id = ");
    q.bind(to.county.get())
        .push(", owner_id = ")
        .bind(nid)
        .push(" WHERE owner = 'student' AND county_id = ")
        .bind(old.county_id)
        .push(" AND owner_id = ")
        .bind(old.id);
    tx.exec(q).await?;
    let events = a.events(
        (old.county_id, old.id, old.school_id),
        (to.county.get(), nid),
        (
            format!("{}；新记录 {}/{}", a.out_reason(), to.county.get(), nid),
            format!("{}；原记录 {}/{}", a.in_reason(), old.county_id, old.id),
        ),
    );
    let entries = vec![
        Entry {
            county_id: old.county_id,
            action: "transfer_out",
            entity: "student",
            entity_id: Some(old.id),
            summary: format!(
                "跨县区转出（申请 {}），新记录 {}/{}",
                a.row.request_no,
                to.county.get(),
                nid
            ),
            before: Some(serde_json::json!({ "status": old.status }).to_string()),
            after: Some(serde_json::json!({ "status": out_code }).to_string()),
        },
        Entry {
            county_id: to.county.get(),
            action: "transfer_in",
            entity: "student",
            entity_id: Some(nid),
            summary: format!(
                "跨县区转入（申请 {}），原记录 {}/{}",
                a.row.request_no, old.county_id, old.id
            ),
            before: None,
            after: Some(opened_json),
        },
    ];
    Ok((nid, events, entries))
}

// ---------------------------------------------------------------------------------------------
// Across the city boundary: 外市转入 and 转出本市.
// ---------------------------------------------------------------------------------------------

/// A material file of a request across the city boundary (JPEG, PNG or PDF, at most
/// [`crate::enrolment::MAX_FILE_BYTES`]).
#[derive(Debug, Clone)]
pub struct TransferUpload {
    pub material: TransferMaterial,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A `transfer_file` row without its content.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct TransferFileRow {
    pub county_id: i32,
    pub id: i64,
    pub request_id: i64,
    pub material: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i32,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

impl TransferFileRow {
    /// Chinese label of the material.
    pub fn material_label(&self) -> &'static str {
        TransferMaterial::from_code(&self.material).map_or("其他材料", |m| m.label())
    }
}

/// 外市转入: a student from a school outside Linyi, entered by the receiving school (or by a parent
/// online). `record` was validated by the caller as a student record of the receiving school
/// (`record.school_code`); its class, when given, is the class the student will join.
#[derive(Debug, Clone)]
pub struct NewIncoming {
    pub record: yimeng_domain::student::StudentRecord,
    /// The grade the student joins (the class's, when a class is given).
    pub grade: yimeng_domain::Grade,
    /// 转出学校名称 (outside Linyi).
    pub from_name: String,
    /// 转出学校所在县区 (6-digit code), when known.
    pub from_county: Option<RegionCode>,
    pub started_by: Initiator,
    pub reason: String,
    pub files: Vec<TransferUpload>,
    pub applicant_phone: Option<String>,
}

/// 转出本市: a student of a Linyi school leaves for a school outside Linyi; entered by the sending
/// school (or by a parent online).
#[derive(Debug, Clone)]
pub struct NewOutgoing {
    /// The student, by 学籍号 and ID number (both must match one record in Linyi).
    pub student_no: String,
    pub id_card: String,
    /// 转入学校名称 (outside Linyi).
    pub to_name: String,
    /// 转入学校所在县区 (6-digit code), when known.
    pub to_county: Option<RegionCode>,
    pub started_by: Initiator,
    pub reason: String,
    pub files: Vec<TransferUpload>,
    pub applicant_phone: Option<String>,
}

fn check_reason(reason: &str) -> Result<String> {
    let reason = yimeng_domain::text::normalize(reason).trim().to_string();
    if reason.is_empty() {
        return Err(StoreError::Invalid("请填写转学原因".into()));
    }
    if reason.chars().count() > 500 {
        return Err(StoreError::Invalid("转学原因不能超过 500 字".into()));
    }
    Ok(reason)
}

/// The other side's school name and county code: a name is required, and a county given must be
/// outside Linyi (a Linyi school is chosen from the registry instead).
fn check_outside(name: &str, county: Option<RegionCode>, side: &str) -> Result<String> {
    let name = yimeng_domain::text::normalize(name).trim().to_string();
    if name.is_empty() {
        return Err(StoreError::Invalid(format!("请填写{side}学校名称")));
    }
    if name.chars().count() > 100 {
        return Err(StoreError::Invalid(format!(
            "{side}学校名称不能超过 100 字"
        )));
    }
    if let Some(c) = county
        && c.get() / 100 == 3713
    {
        return Err(StoreError::Invalid(format!(
            "{side}学校所在地 {} 是临沂市的县区：市内转学请选择学校，按市内转学办理",
            c.get()
        )));
    }
    Ok(name)
}

/// Checks the files against the route's required materials: each a JPEG, PNG or PDF of at most
/// 5 MB, and every required material present. Returns the materials given and the accepted files.
#[allow(clippy::type_complexity)]
fn check_files(
    route: yimeng_domain::transfer::TransferRoute,
    files: &[TransferUpload],
) -> Result<(Vec<TransferMaterial>, Vec<(TransferMaterial, Accepted)>)> {
    let accepted = files
        .iter()
        .map(|f| {
            attachment::accept(
                &yimeng_domain::attachment::TRANSFER_MATERIAL,
                f.material.label(),
                &f.file_name,
                f.bytes.clone(),
            )
            .map(|a| (f.material, a))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut have: Vec<TransferMaterial> = files.iter().map(|f| f.material).collect();
    have.sort_by_key(|m| m.code());
    have.dedup();
    for m in route.required_materials() {
        if !have.contains(m) {
            return Err(StoreError::Invalid(format!(
                "{}须上传“{}”（JPG、PNG 或 PDF，{} MB 以内）",
                route.label(),
                m.label(),
                yimeng_domain::attachment::MATERIAL_MAX_BYTES / 1048576
            )));
        }
    }
    Ok((have, accepted))
}

async fn write_transfer_files(
    tx: &mut Tx,
    county: i32,
    request: i64,
    files: &[(TransferMaterial, Accepted)],
    now: DateTime<Utc>,
) -> Result<()> {
    for (material, file) in files {
        let owner = Owner::Transfer {
            county_id: county,
            request_id: request,
            material: material.code(),
        };
        attachment::write(tx, owner, file, now).await?;
    }
    Ok(())
}

/// The material files of a request (without content), for a party to it.
pub async fn files(db: &Db, scope: &Scope, county: i32, id: i64) -> Result<Vec<TransferFileRow>> {
    get(db, scope, county, id).await?;
    let mut q = Sql::new(
        "SELECT county_id, id, request_id, material, file_name, content_type, size, sha256, uploaded_at FROM transfer_file WHERE county_id = ",
    );
    q.bind(county)
        .push(" AND request_id = ")
        .bind(id)
        .push(" ORDER BY id");
    db.all(q).await
}

/// A material file's name, content type and bytes, for a party to its request.
pub async fn file_content(
    db: &Db,
    scope: &Scope,
    county: i32,
    request: i64,
    file: i64,
) -> Result<(String, String, Vec<u8>)> {
    let parent = get(db, scope, county, request).await?;
    let d = attachment::download(db, &parent, file).await?;
    Ok((d.file_name, d.content_type, d.content))
}

/// The fields of a new `transfer_request` row that differ by route.
struct RequestInsert<'a> {
    county: i32,
    route: yimeng_domain::transfer::TransferRoute,
    started_by: Initiator,
    student: Option<&'a StudentRow>,
    student_name: &'a str,
    id_card: Option<String>,
    student_no: Option<String>,
    grade: Option<String>,
    from: (Option<i32>, Option<i64>, &'a str),
    to: (Option<i32>, Option<i64>, Option<i64>, &'a str),
    reason: &'a str,
    materials: &'a [TransferMaterial],
    applicant_phone: Option<String>,
    incoming_json: Option<String>,
}

/// Writes the request (pending at its first step) with its files and audit entry.
async fn insert_request(
    tx: &mut Tx,
    actor: &Actor,
    calendar: &WorkCalendar,
    today: NaiveDate,
    st: &TransferState,
    r: RequestInsert<'_>,
    files: &[(TransferMaterial, Accepted)],
) -> Result<i64> {
    let first = st.current_step().copied();
    let id = tx.alloc_ids("transfer_request", 1).await?;
    let now = Utc::now().trunc_subsecs(0);
    let no = request_no(r.county, id);
    let steps_json = serde_json::to_string(&st.steps).unwrap_or_default();
    let (ac, asch) = crate::approval::approver_cols(&st.flow);
    let materials = r
        .materials
        .iter()
        .map(|m| m.code())
        .collect::<Vec<_>>()
        .join(",");
    let mut q = Sql::new(
        "INSERT INTO transfer_request (county_id, id, request_no, route, started_by, student_county, student_id, \
         student_name, id_card, student_no, grade, from_county, from_school_id, from_name, to_county, to_school_id, \
         to_class_id, to_name, reason, materials, applicant_phone, state, step, steps_json, approver_county, approver_school, \
         step_opened_on, step_deadline, refusal_reason, created_at, created_by, updated_at, incoming_json) VALUES ",
    );
    q.bind_list([
        crate::Value::from(r.county),
        id.into(),
        no.as_str().into(),
        r.route.label().into(),
        initiator_code(r.started_by).into(),
        r.student.map(|s| s.county_id).into(),
        r.student.map(|s| s.id).into(),
        r.student_name.into(),
        r.id_card.into(),
        r.student_no.into(),
        r.grade.into(),
        r.from.0.into(),
        r.from.1.into(),
        r.from.2.into(),
        r.to.0.into(),
        r.to.1.into(),
        r.to.2.into(),
        r.to.3.into(),
        r.reason.into(),
        materials.as_str().into(),
        r.applicant_phone.into(),
        state::PENDING.into(),
        0i32.into(),
        steps_json.into(),
        ac.into(),
        asch.into(),
        today.into(),
        first.map(|s| s.deadline(today, calendar)).into(),
        "".into(),
        now.into(),
        actor.name.as_str().into(),
        now.into(),
        r.incoming_json.into(),
    ]);
    tx.exec(q).await?;
    write_transfer_files(tx, r.county, id, files, now).await?;
    // The request as written is the audit row's `after`.
    let mut q = Sql::new("SELECT * FROM transfer_request WHERE county_id = ");
    q.bind(r.county).push(" AND id = ").bind(id);
    let written: TransferRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    let after = serde_json::to_string(&written).unwrap_or_default();
    audit::write(
        tx,
        actor,
        vec![Entry {
            county_id: r.county,
            action: "create",
            entity: "transfer_request",
            entity_id: Some(id),
            summary: format!(
                "转学申请 {no}（{}，{}）",
                r.route.label(),
                initiator_label(initiator_code(r.started_by))
            ),
            before: None,
            after: Some(after),
        }],
    )
    .await?;
    Ok(id)
}

/// Whom a national number (学籍号 or ID number) belongs to in Linyi: (county, owner, id, status of
/// the student record when the owner is a student).
async fn key_owners(
    tx: &mut Tx,
    values: &[String],
) -> Result<Vec<(String, i32, String, i64, Option<String>)>> {
    if values.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Sql::new(
        "/* multi-county: person_key */ SELECT k.value, k.county_id, k.owner, k.owner_id, s.status FROM person_key k \
         LEFT JOIN student s ON k.owner = 'student' AND s.county_id = k.county_id AND s.id = k.owner_id WHERE k.value IN ",
    );
    q.bind_list(values.to_vec());
    tx.all(q).await
}

/// Starts a 外市转入 request. `actor_scope` is the receiving school's for
/// [`Initiator::ReceivingSchool`], [`Scope::Nothing`] for a parent's online request. The student
/// must hold no 在籍 record in Linyi; the receiving school must teach the grade's stage, and a
/// chosen class must be of that grade (the class-size gate is checked now and again at the end).
/// Nothing of the registry changes until the final approval.
#[tracing::instrument(skip_all)]
pub async fn create_incoming(
    db: &Db,
    acting: &Acting<'_>,
    input: NewIncoming,
) -> Result<TransferRow> {
    let (actor, actor_scope, rules, calendar, today) = acting.parts();
    let reason = check_reason(&input.reason)?;
    let from_name = check_outside(&input.from_name, input.from_county, "转出")?;
    if !matches!(
        input.started_by,
        Initiator::ReceivingSchool | Initiator::Parent
    ) {
        return Err(StoreError::Invalid("外市转入由转入学校或家长申请".into()));
    }
    let (materials, accepted) = check_files(
        yimeng_domain::transfer::TransferRoute::IntoCity,
        &input.files,
    )?;
    let mut tx = db.begin().await?;
    let mut q = Sql::new(
        "/* multi-county: school_code */ SELECT county_id, id, name, stages FROM school WHERE code = ",
    );
    q.bind(input.record.school_code.as_str());
    let Some((to_county, to_school, to_name, stages)): Option<(i32, i64, String, String)> =
        tx.opt(q).await?
    else {
        return Err(StoreError::Invalid("转入学校不存在".into()));
    };
    if input.started_by == Initiator::ReceivingSchool
        && !actor_scope.covers_school(RegionCode::from_i32(to_county), to_school)
    {
        return Err(StoreError::Forbidden(
            "外市转入应由转入学校发起：您的账号不是转入学校".into(),
        ));
    }
    if !yimeng_domain::StageSet::from_codes(&stages).contains(input.grade.stage()) {
        return Err(StoreError::Invalid(format!(
            "转入学校“{to_name}”没有{}学段，不能接收{}学生",
            input.grade.stage().label(),
            input.grade.label()
        )));
    }
    let to_class = match &input.record.class {
        None => None,
        Some(c) => {
            if c.grade != input.grade {
                return Err(StoreError::Invalid(format!(
                    "所选班级不是{}，与转入年级不符",
                    input.grade.label()
                )));
            }
            let mut q = Sql::new("SELECT id FROM class WHERE county_id = ");
            q.bind(to_county)
                .push(" AND school_id = ")
                .bind(to_school)
                .push(" AND school_year = ")
                .bind(c.year.start())
                .push(" AND grade = ")
                .bind(c.grade.code())
                .push(" AND class_no = ")
                .bind(c.class_no);
            let Some((cid,)): Option<(i64,)> = tx.opt(q).await? else {
                return Err(StoreError::Invalid("所选班级不属于转入学校".into()));
            };
            crate::gate::enforce(
                &mut tx,
                actor,
                &Scope::Nothing,
                rules,
                &crate::gate::Placing {
                    county: to_county,
                    class_id: cid,
                    adding: 1,
                    override_reason: None,
                    context: "外市转入",
                },
            )
            .await?;
            Some(cid)
        }
    };
    // The student holds no 在籍 record in Linyi, and has no other open request.
    let student_no = input.record.student_no.to_string();
    let id_card = input.record.id_card.as_ref().map(|c| c.to_string());
    let numbers: Vec<String> = std::iter::once(student_no.clone())
        .chain(id_card.clone())
        .collect();
    for (value, county, owner, _, status) in key_owners(&mut tx, &numbers).await? {
        if owner != "student" {
            return Err(StoreError::Invalid(format!(
                "证件号 {} 已登记为教职工，一人只能有一个身份",
                yimeng_domain::IdCardNo::from_stored(value).masked()
            )));
        }
        let status = status
            .as_deref()
            .and_then(StudentStatus::from_code)
            .unwrap_or(StudentStatus::Other);
        if status.is_on_register() {
            return Err(StoreError::Invalid(format!(
                "该学生在临沂市{}仍有在籍学籍（{}），不能按外市转入办理：请按市内转学办理",
                RegionCode::from_i32(county).name(),
                status.label()
            )));
        }
    }
    let mut q = Sql::new(
        "/* multi-county: open_transfer */ SELECT COUNT(*) FROM transfer_request WHERE state = 'pending' AND (student_no = ",
    );
    q.bind(student_no.as_str());
    if let Some(c) = &id_card {
        q.push(" OR id_card = ").bind(c.as_str());
    }
    q.push(")");
    if tx.scalar(q).await? > 0 {
        return Err(StoreError::Conflict(
            "该学生已有一份正在审批的转学申请，不能重复申请".into(),
        ));
    }
    let from = TransferParty::OutOfCity {
        county: input.from_county,
        name: from_name.clone(),
    };
    let to = TransferParty::InCity(SchoolRef {
        county: RegionCode::from_i32(to_county),
        id: to_school,
    });
    let route = check_request(&from, &to, input.started_by, None, &materials, rules)
        .map_err(domain_error)?;
    let st = TransferState::new(from, to, input.started_by, rules);
    let now = Utc::now().trunc_subsecs(0);
    let mut incoming = StudentRow::from_record(
        input.record.clone(),
        to_county,
        0,
        to_school,
        to_class,
        None,
        now,
    );
    incoming.status = StudentStatus::Enrolled.code().into();
    let incoming_json = serde_json::to_string(&incoming).unwrap_or_default();
    let id = insert_request(
        &mut tx,
        actor,
        calendar,
        today,
        &st,
        RequestInsert {
            county: to_county,
            route,
            started_by: input.started_by,
            student: None,
            student_name: &input.record.name,
            id_card,
            student_no: Some(student_no),
            grade: Some(input.grade.code().to_string()),
            from: (input.from_county.map(|c| c.get()), None, &from_name),
            to: (Some(to_county), Some(to_school), to_class, &to_name),
            reason: &reason,
            materials: &materials,
            applicant_phone: input.applicant_phone,
            incoming_json: Some(incoming_json),
        },
        &accepted,
    )
    .await?;
    tx.commit().await?;
    get_unscoped(db, to_county, id).await
}

/// Starts a 转出本市 request. `actor_scope` is the sending school's for
/// [`Initiator::SendingSchool`], [`Scope::Nothing`] for a parent's online request (who proves the
/// student by 学籍号 and ID number). Nothing of the registry changes until the final approval.
#[tracing::instrument(skip_all)]
pub async fn create_outgoing(
    db: &Db,
    acting: &Acting<'_>,
    input: NewOutgoing,
) -> Result<TransferRow> {
    let (actor, actor_scope, rules, calendar, today) = acting.parts();
    let reason = check_reason(&input.reason)?;
    let to_name = check_outside(&input.to_name, input.to_county, "转入")?;
    let (materials, accepted) = check_files(
        yimeng_domain::transfer::TransferRoute::OutOfCity,
        &input.files,
    )?;
    let mut tx = db.begin().await?;
    let Some(student) = find_student(&mut tx, &input.student_no, &input.id_card).await? else {
        return Err(StoreError::Invalid(
            "未找到该学籍号和身份证件号对应的学生，请核对后重新填写".into(),
        ));
    };
    if input.started_by == Initiator::SendingSchool
        && !actor_scope.covers_school(RegionCode::from_i32(student.county_id), student.school_id)
    {
        return Err(StoreError::Forbidden(
            "转出本市应由学生所在学校发起：该学生不是您学校的学生".into(),
        ));
    }
    let from_name = school_name(&mut tx, student.county_id, student.school_id)
        .await?
        .unwrap_or_default();
    let sending = SchoolRef {
        county: RegionCode::from_i32(student.county_id),
        id: student.school_id,
    };
    let from = TransferParty::InCity(sending);
    let to = TransferParty::OutOfCity {
        county: input.to_county,
        name: to_name.clone(),
    };
    let status = StudentStatus::from_code(&student.status).unwrap_or(StudentStatus::Other);
    let route = check_request(
        &from,
        &to,
        input.started_by,
        Some((status, sending)),
        &materials,
        rules,
    )
    .map_err(domain_error)?;
    no_open_request(&mut tx, &student).await?;
    let grade = class_grade(&mut tx, student.county_id, student.class_id).await?;
    let st = TransferState::new(from, to, input.started_by, rules);
    let id = insert_request(
        &mut tx,
        actor,
        calendar,
        today,
        &st,
        RequestInsert {
            county: student.county_id,
            route,
            started_by: input.started_by,
            student: Some(&student),
            student_name: &student.name,
            id_card: student.id_card.clone(),
            student_no: Some(student.student_no.clone()),
            grade,
            from: (Some(student.county_id), Some(student.school_id), &from_name),
            to: (input.to_county.map(|c| c.get()), None, None, &to_name),
            reason: &reason,
            materials: &materials,
            applicant_phone: input.applicant_phone,
            incoming_json: None,
        },
        &accepted,
    )
    .await?;
    tx.commit().await?;
    get_unscoped(db, student.county_id, id).await
}

fn transfer_event(
    actor: &Actor,
    (county_id, student_id, school_id): (i32, i64, i64),
    ct: ChangeType,
    from: Option<&str>,
    to: &str,
    reason: String,
    today: NaiveDate,
) -> StudentEventRow {
    StudentEventRow {
        county_id,
        id: 0,
        student_id,
        school_id,
        change_type: ct.code().into(),
        from_status: from.map(str::to_string),
        to_status: to.to_string(),
        reason,
        occurred_on: today,
        actor: actor.name.clone(),
        source: "transfer".into(),
        batch_id: None,
        recorded_at: Utc::now().trunc_subsecs(0),
    }
}

async fn write_events(tx: &mut Tx, mut events: Vec<StudentEventRow>) -> Result<()> {
    let first = tx.alloc_ids("student_event", events.len() as i64).await?;
    for (i, e) in events.iter_mut().enumerate() {
        e.id = first + i as i64;
    }
    bulk::insert(tx, events).await
}

/// 外市转入 completed: the record entered with the request is opened at the receiving school
/// (change 22 转入). Its national numbers must still be free in Linyi, or belong to a closed record
/// of the same student (one who once left Linyi and comes back): those keys move to the new record.
async fn enrol_incoming(
    tx: &mut Tx,
    acting: &Acting<'_>,
    row: &TransferRow,
    to: SchoolRef,
    override_reason: Option<&str>,
) -> Result<i64> {
    let mut rec: StudentRow = row
        .incoming_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(|| StoreError::Invalid("转学申请缺少转入学生的学籍信息".into()))?;
    let numbers: Vec<String> = std::iter::once(rec.student_no.clone())
        .chain(rec.id_card.clone())
        .collect();
    let owners = key_owners(tx, &numbers).await?;
    for (_, county, owner, _, status) in &owners {
        let status = status
            .as_deref()
            .and_then(StudentStatus::from_code)
            .unwrap_or(StudentStatus::Other);
        if owner != "student" {
            return Err(StoreError::Conflict(
                "该身份证件号已登记为教职工，不能办结外市转入".into(),
            ));
        }
        if status.is_on_register() {
            return Err(StoreError::Conflict(format!(
                "该学生已在临沂市{}在籍（申请后登记），不能办结外市转入",
                RegionCode::from_i32(*county).name()
            )));
        }
    }
    gate_at_arrival(tx, acting, row, to, override_reason, "外市转入").await?;
    let (actor, today) = (acting.actor, acting.t.today);
    let now = Utc::now().trunc_subsecs(0);
    let nid = tx.alloc_ids("student", 1).await?;
    rec.county_id = to.county.get();
    rec.id = nid;
    rec.school_id = to.id;
    rec.class_id = row.to_class_id;
    rec.status = StudentStatus::Enrolled.code().into();
    rec.created_batch = None;
    rec.created_at = now;
    rec.updated_at = now;
    rec.content_hash = rec.compute_hash();
    let after = audit::json_row(&rec);
    bulk::insert(tx, vec![rec.clone()]).await?;
    // Keys: move those of a closed record, add the missing ones.
    if !owners.is_empty() {
        let mut q = Sql::new("UPDATE person_key SET county_id = ");
        q.bind(to.county.get())
            .push(", owner_id = ")
            .bind(nid)
            .push(" WHERE owner = 'student' AND value IN ")
            .bind_list(numbers.clone());
        tx.exec(q).await?;
    }
    let mut keys = vec![("student_no", rec.student_no.clone())];
    keys.extend(rec.id_card.clone().map(|c| ("id_card", c)));
    for (kind, value) in keys {
        if owners.iter().any(|o| o.0 == value) {
            continue;
        }
        let mut q =
            Sql::new("INSERT INTO person_key (kind, value, county_id, owner, owner_id) VALUES ");
        q.bind_list([
            crate::Value::from(kind),
            value.as_str().into(),
            to.county.get().into(),
            "student".into(),
            nid.into(),
        ]);
        tx.exec(q).await?;
    }
    let from_where = match row.from_county {
        Some(c) => format!("{c} {}", row.from_name),
        None => row.from_name.clone(),
    };
    write_events(
        tx,
        vec![transfer_event(
            actor,
            (to.county.get(), nid, to.id),
            ChangeType::TransferIn,
            None,
            StudentStatus::Enrolled.code(),
            format!("由市外{from_where}转入（申请 {}）", row.request_no),
            today,
        )],
    )
    .await?;
    audit::write(
        tx,
        actor,
        vec![Entry {
            county_id: to.county.get(),
            action: "transfer_in",
            entity: "student",
            entity_id: Some(nid),
            summary: format!("外市转入（申请 {}），由{from_where}", row.request_no),
            before: None,
            after: Some(after),
        }],
    )
    .await?;
    crate::region::bump_data_versions(tx, &[to.county.get()]).await?;
    Ok(nid)
}

/// 转出本市 completed: the record at the sending school is closed (status 10 转出, change 21); its
/// national numbers stay with it, so that a later return is recognised.
async fn leave_city(
    tx: &mut Tx,
    actor: &Actor,
    row: &TransferRow,
    from: SchoolRef,
    today: NaiveDate,
) -> Result<i64> {
    let (old, _) = record_still_at(tx, row, from).await?;
    let now = Utc::now().trunc_subsecs(0);
    let out_code = StudentStatus::TransferredOut.code();
    let mut closed = old.clone();
    closed.status = out_code.to_string();
    closed.class_id = None;
    closed.updated_at = now;
    closed.content_hash = closed.compute_hash();
    let diff = audit::diff(&old, &closed);
    bulk::upsert(tx, vec![closed]).await?;
    let to_where = match row.to_county {
        Some(c) => format!("{c} {}", row.to_name),
        None => row.to_name.clone(),
    };
    write_events(
        tx,
        vec![transfer_event(
            actor,
            (old.county_id, old.id, from.id),
            ChangeType::TransferOut,
            Some(&old.status),
            out_code,
            format!("转出本市至{to_where}（申请 {}）", row.request_no),
            today,
        )],
    )
    .await?;
    audit::write(
        tx,
        actor,
        vec![Entry {
            county_id: old.county_id,
            action: "transfer_out",
            entity: "student",
            entity_id: Some(old.id),
            summary: format!("转出本市（申请 {}），至{to_where}", row.request_no),
            before: diff.as_ref().map(|d| d.0.clone()),
            after: diff.map(|d| d.1),
        }],
    )
    .await?;
    crate::region::bump_data_versions(tx, &[old.county_id]).await?;
    Ok(old.id)
}
