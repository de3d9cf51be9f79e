//! The one store path of the periodic-report cycle ([`yimeng_domain::report`]): which units owe
//! which period and whether they are late or missing ([`expected`]), the start of a report's
//! review when it is first submitted ([`start_review`]), and the decisions on it ([`decide`]:
//! approve, return with a reason, resubmit — through [`crate::approval::decide`], so with the
//! history row, the guarded update and the audit row).
//!
//! A report table of a cycle (`dispatch_report` is the first) has, besides its own columns:
//! `county_id`, `id`, the cycle key column (the plan code for 月调度), the subject column (the
//! task code), `period` (the [`Period`] key), `unit`, `status` (the [`ReportState`] code),
//! `submitted_at`, and the approval flow's columns (`state`, `step`, `approver_county`,
//! `approver_school`, `step_opened_on`, `step_deadline`, `refusal_reason`, `updated_at`,
//! `completed_at`) plus `round` (returns so far). The module names it with a [`CycleTable`].

use crate::approval::{self, Case, Effect};
use crate::db::{Db, Sql, Tx};
use crate::{Acting, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use yimeng_domain::approval::{Action, Approver, Flow, FlowStatus};
use yimeng_domain::report::{Due, Period, ReportState, ReviewStep, Standing};
use yimeng_domain::{RegionCode, Scope};

/// A cycle's report table and the names of its key columns.
#[derive(Debug, Clone, Copy)]
pub struct CycleTable {
    /// The table (`dispatch_report`).
    pub table: &'static str,
    /// The `approval_action.request_kind` of its decisions (`dispatch`).
    pub kind: &'static str,
    /// The column that names the cycle's instance (`plan_code`).
    pub key_col: &'static str,
    /// The column that names what is reported on (`task_code`).
    pub subject_col: &'static str,
}

/// Who reports: a school, a county bureau, or a city department (its reports are owned by the
/// city region, [`crate::audit::CITY_COUNTY_ID`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum ReportingUnit {
    /// One school.
    School(yimeng_domain::SchoolRef),
    /// One county bureau.
    County(RegionCode),
    /// A city department by its code.
    Department(String),
}

impl ReportingUnit {
    /// The owning region (`county_id` of its reports).
    pub fn county_id(&self) -> i32 {
        match self {
            ReportingUnit::School(s) => s.county.get(),
            ReportingUnit::County(c) => c.get(),
            ReportingUnit::Department(_) => crate::audit::CITY_COUNTY_ID,
        }
    }
    /// The stored `unit` text: the school id, the county code, or the department code.
    pub fn code(&self) -> String {
        match self {
            ReportingUnit::School(s) => s.id.to_string(),
            ReportingUnit::County(c) => c.get().to_string(),
            ReportingUnit::Department(d) => d.clone(),
        }
    }
    /// The unit as the applicant of its reports' review.
    pub fn applicant(&self) -> Approver {
        match self {
            ReportingUnit::School(s) => Approver::School(*s),
            ReportingUnit::County(c) => Approver::County(*c),
            ReportingUnit::Department(_) => Approver::City,
        }
    }
    /// Whether a scope reads this unit's reports: the school's reports by a scope covering the
    /// school, a county's and a department's only by a scope covering the whole owning region.
    pub fn visible_to(&self, scope: &Scope) -> bool {
        match self {
            ReportingUnit::School(s) => scope.covers_school(s.county, s.id),
            _ => scope.covers_whole_county(RegionCode::from_i32(self.county_id())),
        }
    }
}

/// One report a unit owes: for what (`subject`), for which period, by when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Owed {
    pub unit: ReportingUnit,
    pub subject: String,
    pub period: Period,
    pub due: Due,
}

/// The stored part of a report that the cycle reads.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct Filed {
    pub county_id: i32,
    pub id: i64,
    pub subject: String,
    pub period: String,
    pub unit: String,
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// One owed report with what was filed and its flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expected {
    pub owed: Owed,
    /// The stored report, if any (a draft included).
    pub filed: Option<Filed>,
    pub state: ReportState,
    pub standing: Standing,
}

fn state_of(code: &str) -> ReportState {
    match code {
        "submitted" => ReportState::Submitted,
        "returned" => ReportState::Returned,
        "approved" => ReportState::Approved,
        _ => ReportState::NotSubmitted,
    }
}

/// The reports owed (the caller lists them from its plan or roster), each with its stored report,
/// state and late/missing flags at `now`. Owed reports of units outside `scope` are left out.
#[tracing::instrument(skip_all)]
pub async fn expected(
    db: &Db,
    scope: &Scope,
    cycle: &CycleTable,
    key: &str,
    owed: Vec<Owed>,
    now: DateTime<Utc>,
) -> Result<Vec<Expected>> {
    let owed: Vec<Owed> = owed
        .into_iter()
        .filter(|o| o.unit.visible_to(scope))
        .collect();
    let mut counties: Vec<i32> = owed.iter().map(|o| o.unit.county_id()).collect();
    counties.sort_unstable();
    counties.dedup();
    let mut periods: Vec<String> = owed.iter().map(|o| o.period.key()).collect();
    periods.sort_unstable();
    periods.dedup();
    let mut filed: Vec<Filed> = Vec::new();
    if !owed.is_empty() {
        let mut q = Sql::new(&format!(
            "/* multi-county: report_expected */ SELECT county_id, id, {} AS subject, period, unit, status, submitted_at \
             FROM {} WHERE county_id IN ",
            cycle.subject_col, cycle.table
        ));
        q.bind_list(counties.iter().copied())
            .push(&format!(" AND {} = ", cycle.key_col))
            .bind(key)
            .push(" AND period IN ")
            .bind_list(periods.iter().map(|p| p.as_str()));
        filed = db.all(q).await?;
    }
    filed.sort_by(|a, b| {
        (a.county_id, &a.unit, &a.subject, &a.period).cmp(&(
            b.county_id,
            &b.unit,
            &b.subject,
            &b.period,
        ))
    });
    Ok(owed
        .into_iter()
        .map(|o| {
            let probe = (
                o.unit.county_id(),
                o.unit.code(),
                o.subject.clone(),
                o.period.key(),
            );
            let found = filed
                .binary_search_by(|f| {
                    (f.county_id, &f.unit, &f.subject, &f.period)
                        .cmp(&(probe.0, &probe.1, &probe.2, &probe.3))
                })
                .ok()
                .map(|i| filed[i].clone());
            let state = found
                .as_ref()
                .map_or(ReportState::NotSubmitted, |f| state_of(&f.status));
            let submitted = found
                .as_ref()
                .filter(|_| state.was_submitted())
                .and_then(|f| f.submitted_at);
            Expected {
                standing: Standing::of(o.due, submitted, now),
                owed: o,
                filed: found,
                state,
            }
        })
        .collect())
}

/// The flow columns of a stored report.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FlowCols {
    pub county_id: i32,
    pub id: i64,
    pub status: String,
    pub state: String,
    pub step: i32,
    pub step_opened_on: Option<NaiveDate>,
    pub step_deadline: Option<NaiveDate>,
    pub refusal_reason: String,
    pub round: i32,
}

impl FlowCols {
    /// The report's state.
    pub fn report_state(&self) -> ReportState {
        state_of(&self.status)
    }
    /// The review flow of the report of `unit` reviewed by `reviewer`, where it stands; `None`
    /// before the first submission.
    pub fn flow(
        &self,
        unit: &ReportingUnit,
        reviewer: Approver,
        limit: u32,
    ) -> Option<Flow<ReviewStep>> {
        if self.state.is_empty() {
            return None;
        }
        let mut f = yimeng_domain::report::review_flow(unit.applicant(), reviewer, limit);
        f.status =
            FlowStatus::from_stored(&self.state, self.step.max(0) as usize, &self.refusal_reason);
        Some(f)
    }
}

/// Opens the review of a report submitted for the first time (or after a withdrawal): the flow
/// waits for `reviewer` from `today`, with its deadline on the calendar. Called in the caller's
/// transaction, which writes the report's values and the audit row.
pub(crate) async fn start_review(
    tx: &mut Tx,
    cycle: &CycleTable,
    county_id: i32,
    id: i64,
    flow: &Flow<ReviewStep>,
    acting: &Acting<'_>,
) -> Result<()> {
    let (calendar, today) = (acting.t.calendar, acting.t.today);
    // The submission opens the history, before the reviewer's first decision (sequence 0): a
    // report is submitted from its draft once (a returned one is resubmitted on the flow), so a
    // second row here is a double submission and refused as one.
    approval::write_history(
        tx,
        county_id,
        cycle.kind,
        id,
        &yimeng_domain::approval::HistoryEntry {
            seq: FIRST_SUBMISSION_SEQ,
            step_kind: yimeng_domain::approval::StepKind::code(ReviewStep::Review),
            action: SUBMIT,
            actor: acting.actor.name.clone(),
            actor_role: acting.actor.role.clone(),
            reason: String::new(),
            deadline: flow.deadline_of_current(today, calendar),
            overdue: false,
            at: Utc::now(),
        },
    )
    .await?;
    let (ac, asch) = approval::approver_cols(flow);
    let mut q = Sql::new(&format!("UPDATE {} SET state = ", cycle.table));
    q.bind(flow.status.code())
        .push(", step = 0, approver_county = ")
        .bind(ac)
        .push(", approver_school = ")
        .bind(asch)
        .push(", step_opened_on = ")
        .bind(today)
        .push(", step_deadline = ")
        .bind(flow.deadline_of_current(today, calendar))
        .push(", refusal_reason = '', status = ")
        .bind(ReportState::Submitted.code())
        .push(" WHERE county_id = ")
        .bind(county_id)
        .push(" AND id = ")
        .bind(id);
    tx.exec(q).await?;
    Ok(())
}

/// The history's sequence number of a report's first submission (before the first decision, 0).
pub const FIRST_SUBMISSION_SEQ: i32 = -1;

/// The history's action code of a report's first submission.
pub const SUBMIT: &str = "submit";

/// What happens to the report's own columns when its flow moves.
struct Follow<'a> {
    cycle: &'a CycleTable,
    county_id: i32,
    id: i64,
    reviewer: &'a str,
    note: &'a str,
}

impl Effect for Follow<'_> {
    async fn completed(self, tx: &mut Tx) -> Result<()> {
        write_status(tx, &self, ReportState::Approved).await
    }
}

async fn write_status(tx: &mut Tx, s: &Follow<'_>, state: ReportState) -> Result<()> {
    let now = Utc::now();
    let mut q = Sql::new(&format!("UPDATE {} SET status = ", s.cycle.table));
    q.bind(state.code());
    match state {
        ReportState::Approved | ReportState::Returned => {
            q.push(", reviewed_at = ")
                .bind(now)
                .push(", reviewed_by = ")
                .bind(s.reviewer)
                .push(", review_note = ")
                .bind(s.note);
        }
        ReportState::Submitted => {
            q.push(", round = round + 1, submitted_at = ")
                .bind(now)
                .push(", submitted_by = ")
                .bind(s.reviewer);
        }
        ReportState::NotSubmitted => {}
    }
    q.push(" WHERE county_id = ")
        .bind(s.county_id)
        .push(" AND id = ")
        .bind(s.id);
    tx.exec(q).await?;
    Ok(())
}

/// A decision on a report (approve, return with a reason, resubmit by the unit), in the caller's
/// transaction, through the one approval path; the report's `status` follows its flow (approved
/// reports are locked by their callers' [`yimeng_domain::report::check_editable`]). Returns the
/// report's new state.
pub(crate) async fn decide(
    tx: &mut Tx,
    acting: &Acting<'_>,
    cycle: &CycleTable,
    cols: &FlowCols,
    flow: &Flow<ReviewStep>,
    action: &Action,
    summary: &(dyn Fn(&Action, usize) -> String + Sync),
) -> Result<ReportState> {
    let note = match action {
        Action::Return { reason } | Action::Refuse { reason } => {
            yimeng_domain::text::normalize(reason).into_owned()
        }
        _ => String::new(),
    };
    let (actor, today) = (acting.actor, acting.t.today);
    let sync = Follow {
        cycle,
        county_id: cols.county_id,
        id: cols.id,
        reviewer: &actor.name,
        note: &note,
    };
    let next = approval::decide(
        tx,
        acting,
        &Case {
            table: cycle.table,
            state_column: "state",
            kind: cycle.kind,
            entity: cycle.table,
            county: cols.county_id,
            id: cols.id,
            opened_on: cols.step_opened_on.unwrap_or(today),
            deadline: cols.step_deadline,
            round: cols.round,
            summary,
        },
        flow,
        action,
        |e| approval::refused(e.kind(), e.to_string()),
        Follow {
            cycle,
            county_id: cols.county_id,
            id: cols.id,
            reviewer: &actor.name,
            note: &note,
        },
    )
    .await?;
    let state = ReportState::of(Some(&next.status));
    if state != ReportState::Approved {
        write_status(tx, &sync, state).await?;
    }
    Ok(state)
}

/// Reads the flow columns of a report in the caller's transaction.
pub(crate) async fn flow_cols(
    tx: &mut Tx,
    cycle: &CycleTable,
    county_id: i32,
    id: i64,
) -> Result<FlowCols> {
    let mut q = Sql::new(&format!(
        "SELECT county_id, id, status, state, step, step_opened_on, step_deadline, refusal_reason, round FROM {} WHERE county_id = ",
        cycle.table
    ));
    q.bind(county_id).push(" AND id = ").bind(id);
    tx.opt(q).await?.ok_or(StoreError::NotFound)
}
