//! The one store path of the approval flow ([`yimeng_domain::approval`]): deciding a step of a
//! case, and reading a case's history.
//!
//! A case lives in its own table (`transfer_request`, `status_request`, …) with the flow's common
//! columns: `state` (or the column [`Case::state_column`] names), `step`, `approver_county`, `approver_school`, `step_opened_on`,
//! `step_deadline`, `refusal_reason`, `updated_at`, `completed_at`. Its decisions are rows of
//! `approval_action` (`request_kind` names the case table), one per step and round, so that a
//! second decision on a step (a double submission) cannot be written.
//!
//! [`decide`] does, in the caller's transaction: the domain's check of the action
//! ([`Flow::apply`]); the history row; the guarded update of the case (still at the same step and
//! state, and — for a decision — still waiting for the decider's unit), so that of two concurrent
//! decisions one wins and the other is a conflict; the audit row; and, when the case completes,
//! the case's effect, which the caller supplies as an [`Effect`] (the transfer moves the student,
//! the status change sets the status). A new case module implements [`Effect`] for its completion
//! and calls [`decide`]; it does not write its own guarded update.

use crate::audit::{self, Entry};
use crate::db::{Db, Sql, Tx};
use crate::{Acting, Result, StoreError};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Serialize;
use yimeng_domain::approval::{
    Action, ApprovalError, Approver, Flow, FlowStatus, HistoryEntry, RefusalKind, StepKind,
};

/// An `approval_action` row: one decision (who, in which role, when, what, why, overdue or not).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ActionRow {
    pub county_id: i32,
    pub request_kind: String,
    pub request_id: i64,
    pub seq: i32,
    pub step_kind: String,
    pub action: String,
    pub actor: String,
    pub actor_role: String,
    pub reason: String,
    pub deadline: Option<NaiveDate>,
    pub overdue: bool,
    pub at: DateTime<Utc>,
}

/// The store's error for a refusal of a case's flow: forbidden, conflict or invalid, with the
/// case's own wording.
pub(crate) fn refused(kind: RefusalKind, message: String) -> StoreError {
    match kind {
        RefusalKind::Forbidden => StoreError::Forbidden(message),
        RefusalKind::Conflict => StoreError::Conflict(message),
        RefusalKind::Invalid => StoreError::Invalid(message),
    }
}

/// Which case, in which table, and where it stood when it was read.
pub(crate) struct Case<'a> {
    /// The case table (`transfer_request`).
    pub table: &'static str,
    /// The case table's column holding the flow's state: `state`, or another name where the
    /// case keeps a lifecycle of its own in `state` (`enrolment_application.review_state`).
    pub state_column: &'static str,
    /// The `approval_action.request_kind` of its decisions (`transfer`).
    pub kind: &'static str,
    /// The audit entity (`transfer_request`).
    pub entity: &'static str,
    pub county: i32,
    pub id: i64,
    /// The stored `step_opened_on` and `step_deadline` of the current step.
    pub opened_on: NaiveDate,
    pub deadline: Option<NaiveDate>,
    /// Returns so far (0 for cases without returns).
    pub round: i32,
    /// The audit summary of the decision, given the action and the step it was taken at.
    pub summary: &'a (dyn Fn(&Action, usize) -> String + Sync),
}

/// What a case does once its last step is approved, in the same transaction.
pub(crate) trait Effect {
    /// Applies the effect.
    fn completed(self, tx: &mut Tx) -> impl Future<Output = Result<()>> + Send;
}

/// No effect: the case's completion is its own record.
impl Effect for () {
    async fn completed(self, _tx: &mut Tx) -> Result<()> {
        Ok(())
    }
}

/// The `approver_county` / `approver_school` columns of the step a flow waits for.
pub(crate) fn approver_cols<K: StepKind>(flow: &Flow<K>) -> (Option<i32>, Option<i64>) {
    match flow.current_step().map(|s| s.approver) {
        Some(Approver::County(c)) => (Some(c.get()), None),
        Some(Approver::School(s)) => (Some(s.county.get()), Some(s.id)),
        Some(Approver::City) | None => (None, None),
    }
}

const DOUBLE_SUBMISSION: &str = "该步骤已经办理过，不能重复提交";

/// Writes one history row; a second decision on the same step and round is a conflict.
pub(crate) async fn write_history(
    tx: &mut Tx,
    county: i32,
    kind: &str,
    id: i64,
    h: &HistoryEntry,
) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO approval_action (county_id, request_kind, request_id, seq, step_kind, action, actor, actor_role, reason, deadline, overdue, at) VALUES ",
    );
    q.bind_list([
        crate::Value::from(county),
        kind.into(),
        id.into(),
        h.seq.into(),
        h.step_kind.into(),
        h.action.into(),
        h.actor.as_str().into(),
        h.actor_role.as_str().into(),
        h.reason.as_str().into(),
        h.deadline.into(),
        h.overdue.into(),
        h.at.into(),
    ]);
    match tx.exec(q).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_unique_violation() => Err(StoreError::Conflict(DOUBLE_SUBMISSION.into())),
        Err(e) => Err(e),
    }
}

/// Decides the current step of `case`, whose flow is `flow`, by the acting user in their scope (see
/// the module documentation). `refusal` words the domain's refusal as the case's error. Returns the
/// new flow. The caller has checked that the actor may see the case (else not found).
pub(crate) async fn decide<K: StepKind>(
    tx: &mut Tx,
    acting: &Acting<'_>,
    case: &Case<'_>,
    flow: &Flow<K>,
    action: &Action,
    refusal: impl Fn(ApprovalError) -> StoreError,
    effect: impl Effect,
) -> Result<Flow<K>> {
    let Acting {
        actor,
        scope: actor_scope,
        t: crate::Timing {
            calendar, today, ..
        },
    } = *acting;
    let next = flow.apply(action, actor_scope).map_err(refusal)?;
    let now = Utc::now().trunc_subsecs(0);
    let step = flow.step_index();
    let history = flow.history_entry(
        action,
        case.round,
        (&actor.name, &actor.role),
        case.deadline,
        today,
        now,
    );
    write_history(tx, case.county, case.kind, case.id, &history).await?;
    let new_step = next.step_index();
    let moved = new_step != step || matches!(action, Action::Resubmit);
    let (ac, asch) = approver_cols(&next);
    let mut q = Sql::new(&format!(
        "UPDATE {} SET {} = ",
        case.table, case.state_column
    ));
    q.bind(next.status.code())
        .push(", step = ")
        .bind(new_step as i32)
        .push(", approver_county = ")
        .bind(ac)
        .push(", approver_school = ")
        .bind(asch)
        .push(", step_opened_on = ")
        .bind(if moved { today } else { case.opened_on })
        .push(", step_deadline = ")
        .bind(match next.current_step() {
            Some(s) if moved => Some(s.deadline(today, calendar)),
            Some(_) => case.deadline,
            None => None,
        })
        .push(", refusal_reason = ")
        .bind(next.status.reason())
        .push(", updated_at = ")
        .bind(now);
    if next.status == FlowStatus::Completed {
        q.push(", completed_at = ").bind(now);
    }
    // The guard: still at the step and state read, and, for a decision, still waiting for the
    // decider's own unit.
    q.push(" WHERE county_id = ")
        .bind(case.county)
        .push(" AND id = ")
        .bind(case.id)
        .push(&format!(" AND {} = ", case.state_column))
        .bind(flow.status.code())
        .push(" AND step = ")
        .bind(step as i32);
    if matches!(
        action,
        Action::Approve | Action::Refuse { .. } | Action::Return { .. }
    ) {
        match flow.current_step().map(|s| s.approver) {
            Some(Approver::School(s)) => {
                q.push(" AND approver_county = ")
                    .bind(s.county.get())
                    .push(" AND approver_school = ")
                    .bind(s.id);
            }
            Some(Approver::County(c)) => {
                q.push(" AND approver_school IS NULL AND approver_county = ")
                    .bind(c.get());
            }
            Some(Approver::City) | None => {
                q.push(" AND approver_school IS NULL AND approver_county IS NULL");
            }
        }
    }
    if tx.exec(q).await? != 1 {
        return Err(StoreError::Conflict(DOUBLE_SUBMISSION.into()));
    }
    audit::write(
        tx,
        actor,
        vec![Entry {
            county_id: case.county,
            action: action.code(),
            entity: case.entity,
            entity_id: Some(case.id),
            summary: (case.summary)(action, step),
            before: Some(
                serde_json::json!({
                    "state": flow.status.code(),
                    "step": step,
                    "step_deadline": case.deadline,
                })
                .to_string(),
            ),
            after: Some(
                serde_json::json!({
                    "state": next.status.code(),
                    "step": new_step,
                    "refusal_reason": next.status.reason(),
                    "decided_at": now,
                })
                .to_string(),
            ),
        }],
    )
    .await?;
    if next.status == FlowStatus::Completed {
        effect.completed(tx).await?;
    }
    Ok(next)
}

/// The decisions taken on a case, in order. Callers pass a case the reader may see (a proof such
/// as a row read through a scoped function).
pub(crate) async fn history(db: &Db, county: i32, kind: &str, id: i64) -> Result<Vec<ActionRow>> {
    let mut q = Sql::new("SELECT * FROM approval_action WHERE county_id = ");
    q.bind(county)
        .push(" AND request_kind = ")
        .bind(kind)
        .push(" AND request_id = ")
        .bind(id)
        .push(" ORDER BY seq");
    db.all(q).await
}
