//! 学籍异动 requests other than transfers — 休学, 复学, 辍学, 毕业, 死亡 — with the approvals
//! [`yimeng_domain::status_change::approval_plan`] gives. The school starts a request from the
//! student's page; as the first approver it has approved by starting it. When no other step
//! remains the change is made at once; otherwise the student's status changes only at the last
//! approval, in the same transaction as the decision, with a `student_event` row and audit.

use crate::audit::{self, Entry};
use crate::bulk::{self, TableRow};
use crate::db::{Db, Sql, Tx, push_scope};
use crate::student::{StudentEventRow, StudentRow};
use crate::transfer::Decision;
use crate::{Acting, Result, StoreError, Timing};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Serialize;
use yimeng_domain::approval::{HistoryEntry, StepKind};
use yimeng_domain::status_change::{
    Action, DropoutReason, FlowStatus, StatusChange, StatusChangeError, StatusChangeKind,
    StatusChangeState, check_change,
};
use yimeng_domain::{Grade, RegionCode, Rules, SchoolRef, Scope, StudentStatus};

pub use yimeng_domain::approval::state;

/// The `approval_action.request_kind` of a status change's decisions.
const REQUEST_KIND: &str = "status";

/// A `status_request` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct StatusRequestRow {
    pub county_id: i32,
    pub id: i64,
    pub student_id: i64,
    pub school_id: i64,
    pub kind: String,
    pub grade: String,
    pub change_json: String,
    pub state: String,
    pub step: i32,
    pub steps_json: String,
    pub approver_county: Option<i32>,
    pub approver_school: Option<i64>,
    pub step_opened_on: NaiveDate,
    pub step_deadline: Option<NaiveDate>,
    pub refusal_reason: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl StatusRequestRow {
    /// Chinese label of the kind.
    pub fn kind_label(&self) -> &'static str {
        StatusChangeKind::from_code(&self.kind).map_or("异动", |k| k.label())
    }
    /// Chinese label of the state.
    pub fn state_label(&self) -> &'static str {
        state::label(&self.state)
    }
    /// Whether the current step is past its deadline.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.state == state::PENDING && self.step_deadline.is_some_and(|d| today > d)
    }
    /// The change as the domain knows it.
    pub fn change(&self) -> Option<StatusChange> {
        change_from_json(&self.change_json)
    }
    fn domain_state(&self, rules: &Rules) -> Option<StatusChangeState> {
        let grade = Grade::from_code(&self.grade)?;
        let school = SchoolRef {
            county: RegionCode::from_i32(self.county_id),
            id: self.school_id,
        };
        let step = usize::try_from(self.step).unwrap_or(0);
        let status = FlowStatus::from_stored(&self.state, step, &self.refusal_reason);
        Some(StatusChangeState::stored(
            school,
            grade,
            self.change()?,
            rules,
            status,
        ))
    }
    /// A one-line description of the change (dates, reason).
    pub fn detail(&self) -> String {
        match self.change() {
            Some(StatusChange::Suspend { start, end, reason }) => {
                format!("休学 {start} 至 {end}：{reason}")
            }
            Some(StatusChange::Resume { date }) => format!("复学日期 {date}"),
            Some(StatusChange::DropOut { date, reason, note }) => {
                format!(
                    "辍学日期 {date}：{}{}",
                    reason.label(),
                    if note.is_empty() {
                        String::new()
                    } else {
                        format!("（{note}）")
                    }
                )
            }
            Some(StatusChange::Graduate { date }) => format!("毕业日期 {date}"),
            Some(StatusChange::Death { date }) => format!("日期 {date}"),
            None => String::new(),
        }
    }
}

fn change_to_json(c: &StatusChange) -> String {
    use serde_json::json;
    match c {
        StatusChange::Suspend { start, end, reason } => {
            json!({"kind": "suspend", "start": start, "end": end, "reason": reason})
        }
        StatusChange::Resume { date } => json!({"kind": "resume", "date": date}),
        StatusChange::DropOut { date, reason, note } => {
            json!({"kind": "drop_out", "date": date, "reason": reason.code(), "note": note})
        }
        StatusChange::Graduate { date } => json!({"kind": "graduate", "date": date}),
        StatusChange::Death { date } => json!({"kind": "death", "date": date}),
    }
    .to_string()
}

fn change_from_json(s: &str) -> Option<StatusChange> {
    let v: serde_json::Value = serde_json::from_str(s).ok()?;
    let date = |k: &str| v.get(k)?.as_str()?.parse::<NaiveDate>().ok();
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    Some(match v.get("kind")?.as_str()? {
        "suspend" => StatusChange::Suspend {
            start: date("start")?,
            end: date("end")?,
            reason: text("reason"),
        },
        "resume" => StatusChange::Resume {
            date: date("date")?,
        },
        "drop_out" => StatusChange::DropOut {
            date: date("date")?,
            reason: DropoutReason::from_code(&text("reason"))?,
            note: text("note"),
        },
        "graduate" => StatusChange::Graduate {
            date: date("date")?,
        },
        "death" => StatusChange::Death {
            date: date("date")?,
        },
        _ => return None,
    })
}

fn domain_error(e: StatusChangeError) -> StoreError {
    crate::approval::refused(e.kind(), e.to_string())
}

/// The grade of a student's class (the grade the rules of a change depend on).
async fn student_grade(tx: &mut Tx, s: &StudentRow) -> Result<Grade> {
    let Some(class) = s.class_id else {
        return Err(StoreError::Invalid(
            "该学生未编入班级，无法确定年级，请先编班".into(),
        ));
    };
    let mut q = Sql::new("SELECT grade FROM class WHERE county_id = ");
    q.bind(s.county_id).push(" AND id = ").bind(class);
    let g: Option<(String,)> = tx.opt(q).await?;
    g.and_then(|g| Grade::from_code(&g.0))
        .ok_or_else(|| StoreError::Invalid("该学生的班级年级无效".into()))
}

/// Starts a status change for a student in scope (the school's own account: it is the first
/// approver). Returns the request; its state is `completed` when no other approval was needed.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    acting: &Acting<'_>,
    student_id: i64,
    change: StatusChange,
) -> Result<StatusRequestRow> {
    let (actor, actor_scope, rules, calendar, today) = acting.parts();
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT t.* FROM student t WHERE ");
    push_scope(&mut q, actor_scope, "t", "school_id");
    q.push(" AND t.id = ").bind(student_id);
    let s: StudentRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    let grade = student_grade(&mut tx, &s).await?;
    let current = StudentStatus::from_code(&s.status).unwrap_or(StudentStatus::Other);
    check_change(current, grade, &change, rules).map_err(domain_error)?;
    let mut q = Sql::new("SELECT COUNT(*) FROM status_request WHERE county_id = ");
    q.bind(s.county_id)
        .push(" AND student_id = ")
        .bind(s.id)
        .push(" AND state = 'pending'");
    if tx.scalar(q).await? > 0 {
        return Err(StoreError::Conflict(
            "该学生已有一份正在审批的学籍异动申请，请等待办结后再申请".into(),
        ));
    }
    let school = SchoolRef {
        county: RegionCode::from_i32(s.county_id),
        id: s.school_id,
    };
    let mut st = StatusChangeState::new(school, grade, change.clone(), rules);
    let id = tx.alloc_ids("status_request", 1).await?;
    let now = Utc::now().trunc_subsecs(0);
    // The school that starts the request approves its own step by doing so. The county bureau,
    // which approves last, decides the whole change when it records it itself.
    let mut approved_steps = 0;
    if *actor_scope == Scope::County(school.county) {
        approved_steps = st.steps.len();
        st.flow.status = FlowStatus::Completed;
    } else if st.is_turn_of(actor_scope) {
        st = st
            .apply(&Action::Approve, actor_scope)
            .map_err(domain_error)?;
        approved_steps = 1;
    }
    let (ac, asch) = crate::approval::approver_cols(&st.flow);
    let (state_code, step) = (st.status.code(), st.step_index());
    let deadline = st.deadline_of_current(today, calendar);
    let mut q = Sql::new(
        "INSERT INTO status_request (county_id, id, student_id, school_id, kind, grade, change_json, state, step, steps_json, \
         approver_county, approver_school, step_opened_on, step_deadline, refusal_reason, created_at, created_by, updated_at, completed_at) VALUES ",
    );
    q.bind_list([
        crate::Value::from(s.county_id),
        id.into(),
        s.id.into(),
        s.school_id.into(),
        change.kind().code().into(),
        grade.code().into(),
        change_to_json(&change).into(),
        state_code.into(),
        (step as i32).into(),
        serde_json::to_string(&st.plan.steps)
            .unwrap_or_default()
            .into(),
        ac.into(),
        asch.into(),
        today.into(),
        deadline.into(),
        "".into(),
        now.into(),
        actor.name.as_str().into(),
        now.into(),
        (state_code == state::COMPLETED).then_some(now).into(),
    ]);
    tx.exec(q).await?;
    for (seq, step) in st.steps.iter().enumerate().take(approved_steps) {
        let entry = HistoryEntry {
            seq: seq as i32,
            step_kind: step.kind.code(),
            action: Action::Approve.code(),
            actor: actor.name.clone(),
            actor_role: actor.role.clone(),
            reason: String::new(),
            deadline: None,
            overdue: false,
            at: now,
        };
        crate::approval::write_history(&mut tx, s.county_id, REQUEST_KIND, id, &entry).await?;
    }
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: s.county_id,
            action: "create",
            entity: "status_request",
            entity_id: Some(id),
            summary: format!("学籍异动申请：{}", change.kind().label()),
            before: None,
            after: Some(change_to_json(&change)),
        }],
    )
    .await?;
    if let Some(effect) = st.effect() {
        apply(
            &mut tx,
            acting,
            &s,
            effect.status,
            effect.change_type.code(),
            &change,
        )
        .await?;
    }
    tx.commit().await?;
    get_unscoped(db, s.county_id, id).await
}

/// Writes the status change. A student who comes back into a class's roll (复学 after 休学 or
/// 辍学) passes the class-size gate first, like any other placement: a class at its limit refuses
/// the change (the school moves the student's class first).
async fn apply(
    tx: &mut Tx,
    acting: &Acting<'_>,
    s: &StudentRow,
    to: StudentStatus,
    change_type: &str,
    change: &StatusChange,
) -> Result<()> {
    let Acting {
        actor,
        scope: actor_scope,
        t: Timing { rules, today, .. },
    } = *acting;
    let now = Utc::now().trunc_subsecs(0);
    let mut q = Sql::new("SELECT t.* FROM student t WHERE t.county_id = ");
    q.bind(s.county_id).push(" AND t.id = ").bind(s.id);
    let old: StudentRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    if old.status != s.status {
        return Err(StoreError::Conflict(
            "该学生的学籍状态在申请后已发生变化，不能办结".into(),
        ));
    }
    let from = StudentStatus::from_code(&old.status).unwrap_or(StudentStatus::Other);
    if let Some(class_id) = old.class_id
        && to.counts_in_class(rules)
        && !from.counts_in_class(rules)
    {
        crate::gate::enforce(
            tx,
            actor,
            actor_scope,
            rules,
            &crate::gate::Placing {
                county: old.county_id,
                class_id,
                adding: 1,
                override_reason: None,
                context: &format!("{}：{}", to.label(), old.name),
            },
        )
        .await?;
    }
    let mut new = old.clone();
    new.status = to.code().to_string();
    new.updated_at = now;
    new.content_hash = new.compute_hash();
    let diff = audit::diff(&old, &new);
    bulk::upsert(tx, vec![new]).await?;
    let eid = tx.alloc_ids("student_event", 1).await?;
    let detail = StatusRequestRow {
        change_json: change_to_json(change),
        ..dummy()
    }
    .detail();
    bulk::insert(
        tx,
        vec![StudentEventRow {
            county_id: old.county_id,
            id: eid,
            student_id: old.id,
            school_id: old.school_id,
            change_type: change_type.to_string(),
            from_status: Some(old.status.clone()),
            to_status: to.code().to_string(),
            reason: detail,
            occurred_on: today,
            actor: actor.name.clone(),
            source: "request".into(),
            batch_id: None,
            recorded_at: now,
        }],
    )
    .await?;
    audit::write(
        tx,
        actor,
        vec![Entry {
            county_id: old.county_id,
            action: "update",
            entity: "student",
            entity_id: Some(old.id),
            summary: format!("学籍异动：{}", change.kind().label()),
            before: diff.as_ref().map(|d| d.0.clone()),
            after: diff.map(|d| d.1),
        }],
    )
    .await?;
    crate::region::bump_data_versions(tx, &[old.county_id]).await?;
    Ok(())
}

fn dummy() -> StatusRequestRow {
    StatusRequestRow {
        county_id: 0,
        id: 0,
        student_id: 0,
        school_id: 0,
        kind: String::new(),
        grade: String::new(),
        change_json: String::new(),
        state: String::new(),
        step: 0,
        steps_json: String::new(),
        approver_county: None,
        approver_school: None,
        step_opened_on: NaiveDate::MIN,
        step_deadline: None,
        refusal_reason: String::new(),
        created_at: DateTime::<Utc>::MIN_UTC,
        created_by: String::new(),
        updated_at: DateTime::<Utc>::MIN_UTC,
        completed_at: None,
    }
}

async fn get_unscoped(db: &Db, county: i32, id: i64) -> Result<StatusRequestRow> {
    let mut q = Sql::new("SELECT * FROM status_request WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    db.one(q).await
}

/// One request in scope (else not found; a database failure stays one).
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, scope: &Scope, county: i32, id: i64) -> Result<StatusRequestRow> {
    let r = get_unscoped(db, county, id).await?;
    if scope.covers_school(RegionCode::from_i32(r.county_id), r.school_id) {
        Ok(r)
    } else {
        Err(StoreError::NotFound)
    }
}

/// The decisions taken on a request, in order. The request is the proof that the reader may see
/// it (a row from [`get`] or [`list`]).
#[tracing::instrument(skip_all)]
pub async fn actions(
    db: &Db,
    request: &StatusRequestRow,
) -> Result<Vec<crate::approval::ActionRow>> {
    crate::approval::history(db, request.county_id, REQUEST_KIND, request.id).await
}

/// Requests in scope, newest first; `waiting` keeps those pending (optionally overdue on a day).
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &Db,
    scope: &Scope,
    waiting: bool,
    overdue_on: Option<NaiveDate>,
    student: Option<i64>,
    limit: i64,
) -> Result<Vec<StatusRequestRow>> {
    let mut q = Sql::new("SELECT r.* FROM status_request r WHERE ");
    push_scope(&mut q, scope, "r", "school_id");
    if waiting {
        q.push(" AND r.state = 'pending'");
    }
    if let Some(d) = overdue_on {
        q.push(" AND r.state = 'pending' AND r.step_deadline < ")
            .bind(d);
    }
    if let Some(s) = student {
        q.push(" AND r.student_id = ").bind(s);
    }
    q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
        .bind(limit);
    db.all(q).await
}

/// The approved change's effect: the student's status, with its event and audit rows.
struct Completion<'a> {
    acting: &'a Acting<'a>,
    row: &'a StatusRequestRow,
    state: &'a StatusChangeState,
}

impl crate::approval::Effect for Completion<'_> {
    async fn completed(self, tx: &mut Tx) -> Result<()> {
        let kind = self.state.change.kind();
        let mut q = Sql::new("SELECT t.* FROM student t WHERE t.county_id = ");
        q.bind(self.row.county_id)
            .push(" AND t.id = ")
            .bind(self.row.student_id);
        let s: StudentRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
        apply(
            tx,
            self.acting,
            &s,
            kind.target_status(),
            kind.change_type().code(),
            &self.state.change,
        )
        .await
    }
}

/// Takes a decision on a request through the one approval path ([`crate::approval::decide`];
/// see [`crate::transfer::decide`] for the rules).
#[tracing::instrument(skip_all)]
pub async fn decide(
    db: &Db,
    acting: &Acting<'_>,
    county: i32,
    id: i64,
    decision: Decision,
) -> Result<StatusRequestRow> {
    let (actor_scope, rules) = (acting.scope, acting.t.rules);
    let mut tx = db.begin().await?;
    let mut q = Sql::new("SELECT * FROM status_request WHERE county_id = ");
    q.bind(county).push(" AND id = ").bind(id);
    let row: StatusRequestRow = tx.opt(q).await?.ok_or(StoreError::NotFound)?;
    if !actor_scope.covers_school(RegionCode::from_i32(row.county_id), row.school_id) {
        return Err(StoreError::NotFound);
    }
    let st = row
        .domain_state(rules)
        .ok_or_else(|| StoreError::Invalid("申请数据无效".into()))?;
    let kind_label = row.kind_label();
    let summary = |a: &Action, _: usize| format!("学籍异动申请（{kind_label}）：{}", a.label());
    crate::approval::decide(
        &mut tx,
        acting,
        &crate::approval::Case {
            table: "status_request",
            state_column: "state",
            kind: REQUEST_KIND,
            entity: "status_request",
            county,
            id,
            opened_on: row.step_opened_on,
            deadline: row.step_deadline,
            round: 0,
            summary: &summary,
        },
        &st.flow,
        &decision.action(),
        |e| domain_error(e.into()),
        Completion {
            acting,
            row: &row,
            state: &st,
        },
    )
    .await?;
    tx.commit().await?;
    get_unscoped(db, county, id).await
}
