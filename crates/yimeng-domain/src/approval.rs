//! The one approval flow (审批流程) of the platform: a case passes a list of steps, each decided by
//! one unit (a school, a county bureau, a city department) within a time limit in working days;
//! every decision is kept as a history entry.
//!
//! Source: design.md "Shared building blocks" (`domain::approval`), and the rules the national
//! 学籍 system and the bureau's 政务服务 guides share for every approval (domain-rules §3.3): each
//! party acts within its time limit in **working days** on the stored calendar
//! ([`WorkCalendar`]); only the party whose turn it is decides; a refusal (不同意) or a return for
//! correction (退回) states its reason; the applicant may withdraw (撤回) while the case is open; a
//! step past its deadline is flagged overdue (超期), which does not stop it from being decided.
//!
//! The states: `Pending { step }` → (approve) the next step, or `Completed` after the last one;
//! → (refuse, with reason) `Refused`, closed; → (return, with reason, where the flow offers it)
//! `Returned`, after which the applicant resubmits and the case starts again at its first step;
//! → (withdraw, applicant only) `Withdrawn`, closed.
//!
//! # Defining a new case's flow (dropout case, hazard, petition, …)
//! 1. Name its steps: an enum implementing [`StepKind`] (a stable code stored with each history
//!    row, a Chinese label).
//! 2. Build its [`Step`]s from the case: who decides each ([`Approver`]) and its time limit (a
//!    [`crate::Rules`] value, never a literal), and its [`Applicant`].
//! 3. Hold a [`Flow`] in the case's state; [`Flow::apply`] decides what an action does, and the
//!    case maps [`ApprovalError`] to its own error wording if it has one.
//! 4. In the store, decide a step through `yimeng_store::approval` (the guarded update, the
//!    history row and the audit row in one transaction), supplying the case's effect on completion.
//!
//! [`crate::transfer`], [`crate::status_change`] and [`crate::enrolment::review_flow`] are
//! instances in this crate.

use crate::calendar::WorkCalendar;
use crate::{RegionCode, Role, SchoolRef, Scope};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// The steps of one kind of case.
pub trait StepKind: Copy + Eq {
    /// The code stored with each decision (`approval_action.step_kind`).
    fn code(self) -> &'static str;
    /// Chinese label (转出校审核, 县区教育局审批, …).
    fn label(self) -> &'static str;
    /// Who acts on a step of this kind, for messages. Defaults to the unit's own name.
    fn approver_label(self, approver: Approver) -> String {
        approver.label()
    }
}

/// Who decides a step: a role in one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Approver {
    /// The administrator of one school ([`Role::School`]).
    School(SchoolRef),
    /// The bureau of one county ([`Role::County`]).
    County(RegionCode),
    /// A department of the city bureau ([`Role::CityDept`]).
    City,
}

impl Approver {
    /// The role that decides.
    pub fn role(self) -> Role {
        match self {
            Approver::School(_) => Role::School,
            Approver::County(_) => Role::County,
            Approver::City => Role::CityDept,
        }
    }
    /// Whether an account with this scope is this approver. Only the very school or bureau
    /// qualifies: the city, inspectors and other schools or counties do not decide a school's or a
    /// county's step; a city step is decided by a city account.
    pub fn is(&self, actor: &Scope) -> bool {
        match (self, actor) {
            (Approver::School(s), Scope::School(a)) => s == a,
            (Approver::County(c), Scope::County(a)) => c == a,
            (Approver::City, Scope::City) => true,
            _ => false,
        }
    }
    /// The unit's name for messages: 学校, 兰山区教育局, 市教育局.
    pub fn label(self) -> String {
        match self {
            Approver::School(_) => "学校".to_string(),
            Approver::County(c) => format!("{}教育局", c.name()),
            Approver::City => "市教育局".to_string(),
        }
    }
}

/// One step of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step<K> {
    /// What the step is.
    pub kind: K,
    /// Who acts on it.
    pub approver: Approver,
    /// Time limit in working days, counted from the day the step opened (that day not counted).
    pub time_limit_working_days: u32,
}

impl<K: StepKind> Step<K> {
    /// Who acts, for messages.
    pub fn approver_label(&self) -> String {
        self.kind.approver_label(self.approver)
    }
    /// The last day to act, for a step opened on `opened`.
    pub fn deadline(&self, opened: NaiveDate, calendar: &WorkCalendar) -> NaiveDate {
        calendar.add_working_days(opened, self.time_limit_working_days)
    }
    /// Whether the step, opened on `opened`, is past its deadline on `today` (the last day itself
    /// is still in time).
    pub fn is_overdue(&self, opened: NaiveDate, calendar: &WorkCalendar, today: NaiveDate) -> bool {
        calendar.is_overdue(opened, self.time_limit_working_days, today)
    }
}

/// Who applied, and so who may withdraw or resubmit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Applicant {
    /// A unit's account (a school that entered the case).
    Unit(Approver),
    /// A member of the public (a parent online). The web layer identifies them by the case itself
    /// (its number and the child's ID number) and acts for them as [`Scope::Nothing`].
    Public,
    /// A unit without an account on this platform (a school outside Linyi): nobody here acts
    /// for it.
    Outside,
}

impl Applicant {
    /// Whether this scope is the applicant.
    pub fn is(&self, actor: &Scope) -> bool {
        match self {
            Applicant::Unit(a) => a.is(actor),
            Applicant::Public => *actor == Scope::Nothing,
            Applicant::Outside => false,
        }
    }
}

/// What an actor does to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Action {
    /// 同意 the current step.
    Approve,
    /// 不同意 (reject), with a reason (required): the case is closed.
    Refuse {
        /// Why, shown to the applicant.
        reason: String,
    },
    /// 退回 for correction, with a reason (required): the applicant may resubmit. Only in flows
    /// that offer it ([`Flow::returnable`]).
    Return {
        /// What to correct.
        reason: String,
    },
    /// 撤回 by the applicant while the case is open.
    Withdraw,
    /// 重新提交 by the applicant after a return: the case starts again at its first step.
    Resubmit,
}

impl Action {
    /// The code stored with the decision.
    pub fn code(&self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Refuse { .. } => "refuse",
            Action::Return { .. } => "return",
            Action::Withdraw => "withdraw",
            Action::Resubmit => "resubmit",
        }
    }
    /// Chinese label.
    pub fn label(&self) -> &'static str {
        match self {
            Action::Approve => "同意",
            Action::Refuse { .. } => "不同意",
            Action::Return { .. } => "退回",
            Action::Withdraw => "撤回",
            Action::Resubmit => "重新提交",
        }
    }
}

/// Where a case stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FlowStatus {
    /// Waiting for `steps[step]`.
    Pending {
        /// Index of the current step.
        step: usize,
    },
    /// Every step approved: the case's effect is due.
    Completed,
    /// Refused at a step: closed.
    Refused {
        /// The step that refused.
        step: usize,
        /// Why.
        reason: String,
    },
    /// Returned to the applicant for correction at a step.
    Returned {
        /// The step that returned it.
        step: usize,
        /// What to correct.
        reason: String,
    },
    /// Withdrawn by the applicant while at a step: closed.
    Withdrawn {
        /// The step it was at.
        step: usize,
    },
}

impl FlowStatus {
    /// The code stored in the case's `state` column.
    pub fn code(&self) -> &'static str {
        match self {
            FlowStatus::Pending { .. } => state::PENDING,
            FlowStatus::Completed => state::COMPLETED,
            FlowStatus::Refused { .. } => state::REFUSED,
            FlowStatus::Returned { .. } => state::RETURNED,
            FlowStatus::Withdrawn { .. } => state::WITHDRAWN,
        }
    }
    /// The status a stored case is in: its `state` code, the step it is (or stopped) at, and the
    /// stored reason of a refusal or return. An unknown code reads as pending.
    pub fn from_stored(state: &str, step: usize, reason: &str) -> FlowStatus {
        match state {
            state::COMPLETED => FlowStatus::Completed,
            state::REFUSED => FlowStatus::Refused {
                step,
                reason: reason.to_string(),
            },
            state::RETURNED => FlowStatus::Returned {
                step,
                reason: reason.to_string(),
            },
            state::WITHDRAWN => FlowStatus::Withdrawn { step },
            _ => FlowStatus::Pending { step },
        }
    }
    /// The refusal's or return's reason; empty otherwise.
    pub fn reason(&self) -> &str {
        match self {
            FlowStatus::Refused { reason, .. } | FlowStatus::Returned { reason, .. } => reason,
            _ => "",
        }
    }
}

/// The stored state codes of a case.
pub mod state {
    /// 审批中
    pub const PENDING: &str = "pending";
    /// 已办结
    pub const COMPLETED: &str = "completed";
    /// 已退回 (refused at a step: closed)
    pub const REFUSED: &str = "refused";
    /// 待修改 (returned for correction)
    pub const RETURNED: &str = "returned";
    /// 已撤回
    pub const WITHDRAWN: &str = "withdrawn";

    /// Chinese label.
    pub fn label(code: &str) -> &'static str {
        match code {
            PENDING => "审批中",
            COMPLETED => "已办结",
            REFUSED => "已退回",
            RETURNED => "待修改",
            WITHDRAWN => "已撤回",
            _ => "未知",
        }
    }
}

/// Why an action on a case is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// The actor is not the current step's approver.
    #[error("当前步骤为“{step}”，应由{approver}办理，您的账号无权审批")]
    NotYourStep {
        /// Current step.
        step: &'static str,
        /// Who should act.
        approver: String,
    },
    /// The actor decided an earlier step already (a double submission).
    #[error("您已办理过“{done}”，不能重复审批；该申请当前在“{current}”")]
    AlreadyDecided {
        /// The step the actor decided.
        done: &'static str,
        /// Current step.
        current: &'static str,
    },
    /// The case is closed (or, for a decision, waiting for the applicant's correction).
    #[error("该申请{state}，不能再办理")]
    Closed {
        /// 已办结 / 已被退回 / 已撤回 / 已退回待修改
        state: &'static str,
    },
    /// A refusal or return without a reason.
    #[error("{action}时必须填写理由")]
    EmptyReason {
        /// 不同意 / 退回
        action: &'static str,
    },
    /// Withdrawal or resubmission by someone other than the applicant.
    #[error("只有申请人可以{action}")]
    NotApplicant {
        /// 撤回 / 重新提交
        action: &'static str,
    },
    /// A return in a flow that does not offer it.
    #[error("该事项不设退回修改，请选择同意或不同意")]
    ReturnNotOffered,
    /// A resubmission of a case that was not returned.
    #[error("该申请未被退回，不需要重新提交")]
    NotReturned,
}

/// What a refusal means for the caller, whatever the case: the actor may not take this action
/// (forbidden), the case has moved on since it was read (conflict), or the input is wrong
/// (invalid). The store maps these to its error kinds in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// Not the actor's step, or not the applicant.
    Forbidden,
    /// Decided already, or closed.
    Conflict,
    /// A missing reason or an action the flow does not offer.
    Invalid,
}

impl ApprovalError {
    /// What this refusal means for the caller.
    pub fn kind(&self) -> RefusalKind {
        match self {
            ApprovalError::NotYourStep { .. } | ApprovalError::NotApplicant { .. } => {
                RefusalKind::Forbidden
            }
            ApprovalError::AlreadyDecided { .. } | ApprovalError::Closed { .. } => {
                RefusalKind::Conflict
            }
            ApprovalError::EmptyReason { .. }
            | ApprovalError::ReturnNotOffered
            | ApprovalError::NotReturned => RefusalKind::Invalid,
        }
    }
}

/// A case's flow: its steps, its applicant, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow<K> {
    /// The steps, fixed when the case was made.
    pub steps: Vec<Step<K>>,
    /// Who applied.
    pub applicant: Applicant,
    /// Whether an approver may return the case for correction (退回) besides refusing it.
    pub returnable: bool,
    /// Where it stands.
    pub status: FlowStatus,
}

/// The history entry of one decision (who, in which role, when, what, why, and whether the step
/// was overdue). `seq` orders the entries of a case and is unique per case: a second decision on
/// the same step cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Order within the case: the step's index for a decision, `1000 + step` for a withdrawal or
    /// resubmission; each return adds [`ROUND_SEQ`].
    pub seq: i32,
    /// The step's code ([`StepKind::code`]).
    pub step_kind: &'static str,
    /// The action's code ([`Action::code`]).
    pub action: &'static str,
    /// Who (account name).
    pub actor: String,
    /// In which role (role code).
    pub actor_role: String,
    /// Why (refusal or return); empty otherwise.
    pub reason: String,
    /// The step's deadline.
    pub deadline: Option<NaiveDate>,
    /// Whether the step was past its deadline when decided.
    pub overdue: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// How far apart the history sequence numbers of two rounds (before and after a return) are.
pub const ROUND_SEQ: i32 = 2000;

impl<K: StepKind> Flow<K> {
    /// A new case: pending at its first step.
    pub fn new(steps: Vec<Step<K>>, applicant: Applicant, returnable: bool) -> Self {
        Flow {
            steps,
            applicant,
            returnable,
            status: FlowStatus::Pending { step: 0 },
        }
    }

    /// The index of the step waiting for a decision.
    pub fn current_index(&self) -> Option<usize> {
        match self.status {
            FlowStatus::Pending { step } if step < self.steps.len() => Some(step),
            _ => None,
        }
    }

    /// The step waiting for a decision.
    pub fn current_step(&self) -> Option<&Step<K>> {
        self.current_index().map(|i| &self.steps[i])
    }

    /// The step the case is at or stopped at (for a closed case, the step that closed it).
    pub fn step_index(&self) -> usize {
        match &self.status {
            FlowStatus::Pending { step }
            | FlowStatus::Refused { step, .. }
            | FlowStatus::Returned { step, .. }
            | FlowStatus::Withdrawn { step } => *step,
            FlowStatus::Completed => self.steps.len().saturating_sub(1),
        }
    }

    /// Whether this scope is the current step's approver.
    pub fn is_turn_of(&self, actor: &Scope) -> bool {
        self.current_step().is_some_and(|s| s.approver.is(actor))
    }

    /// Applies an action by an actor and returns the new flow (this one is unchanged).
    ///
    /// - Only the current step's approver approves, refuses or returns; an approver of an earlier
    ///   step gets [`ApprovalError::AlreadyDecided`] (a double submission), anyone else
    ///   [`ApprovalError::NotYourStep`].
    /// - A refusal or return needs a non-empty reason; a refusal closes the case, a return hands
    ///   it back to the applicant (only where [`Flow::returnable`]).
    /// - Only the applicant withdraws (while pending or returned) and resubmits (after a return).
    /// - The last approval completes the case: its effect is then due.
    pub fn apply(&self, action: &Action, actor: &Scope) -> Result<Flow<K>, ApprovalError> {
        let closed = |state| Err(ApprovalError::Closed { state });
        let (step, returned) = match &self.status {
            FlowStatus::Pending { step } => (*step, false),
            FlowStatus::Returned { step, .. } => (*step, true),
            FlowStatus::Completed => return closed("已办结"),
            FlowStatus::Refused { .. } => return closed("已被退回"),
            FlowStatus::Withdrawn { .. } => return closed("已撤回"),
        };
        let mut next = self.clone();
        match action {
            Action::Withdraw | Action::Resubmit => {
                if !self.applicant.is(actor) {
                    return Err(ApprovalError::NotApplicant {
                        action: action.label(),
                    });
                }
                next.status = match action {
                    Action::Withdraw => FlowStatus::Withdrawn { step },
                    _ if returned => FlowStatus::Pending { step: 0 },
                    _ => return Err(ApprovalError::NotReturned),
                };
                return Ok(next);
            }
            Action::Approve | Action::Refuse { .. } | Action::Return { .. } => {}
        }
        if returned {
            return closed("已退回待修改");
        }
        let Some(current) = self.steps.get(step) else {
            // No steps: nothing to decide.
            return closed("已办结");
        };
        if !current.approver.is(actor) {
            if let Some(done) = self.steps[..step].iter().find(|s| s.approver.is(actor)) {
                return Err(ApprovalError::AlreadyDecided {
                    done: done.kind.label(),
                    current: current.kind.label(),
                });
            }
            return Err(ApprovalError::NotYourStep {
                step: current.kind.label(),
                approver: current.approver_label(),
            });
        }
        next.status = match action {
            Action::Approve if step + 1 == self.steps.len() => FlowStatus::Completed,
            Action::Approve => FlowStatus::Pending { step: step + 1 },
            Action::Refuse { reason } | Action::Return { reason } => {
                if matches!(action, Action::Return { .. }) && !self.returnable {
                    return Err(ApprovalError::ReturnNotOffered);
                }
                let reason = crate::text::normalize(reason);
                if reason.is_empty() {
                    return Err(ApprovalError::EmptyReason {
                        action: action.label(),
                    });
                }
                let reason = reason.into_owned();
                if matches!(action, Action::Refuse { .. }) {
                    FlowStatus::Refused { step, reason }
                } else {
                    FlowStatus::Returned { step, reason }
                }
            }
            Action::Withdraw | Action::Resubmit => unreachable!("handled above"),
        };
        Ok(next)
    }

    /// The history entry of `action`, taken on this flow (before it was applied) in round
    /// `round` (the number of earlier returns). `deadline` is the current step's; `overdue` is
    /// computed from it on `today`.
    pub fn history_entry(
        &self,
        action: &Action,
        round: i32,
        (actor, actor_role): (&str, &str),
        deadline: Option<NaiveDate>,
        today: NaiveDate,
        at: DateTime<Utc>,
    ) -> HistoryEntry {
        let step = self.step_index();
        let offset = match action {
            Action::Withdraw | Action::Resubmit => 1000,
            _ => 0,
        };
        let reason = match action {
            Action::Refuse { reason } | Action::Return { reason } => {
                crate::text::normalize(reason).into_owned()
            }
            _ => String::new(),
        };
        let pending = matches!(self.status, FlowStatus::Pending { .. });
        HistoryEntry {
            seq: round * ROUND_SEQ + offset + step as i32,
            step_kind: self.steps.get(step).map_or("", |s| s.kind.code()),
            action: action.code(),
            actor: actor.to_string(),
            actor_role: actor_role.to_string(),
            reason,
            deadline,
            overdue: pending && deadline.is_some_and(|d| today > d),
            at,
        }
    }

    /// The deadline of the step `next` stands at, for a step opened on `today`; `None` when no
    /// step waits.
    pub fn deadline_of_current(
        &self,
        today: NaiveDate,
        calendar: &WorkCalendar,
    ) -> Option<NaiveDate> {
        self.current_step().map(|s| s.deadline(today, calendar))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANSHAN: RegionCode = RegionCode::from_i32(371302);
    const LUOZHUANG: RegionCode = RegionCode::from_i32(371311);

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    enum Hazard {
        SchoolCheck,
        CountyReview,
        CityRecord,
    }
    impl StepKind for Hazard {
        fn code(self) -> &'static str {
            match self {
                Hazard::SchoolCheck => "school",
                Hazard::CountyReview => "county",
                Hazard::CityRecord => "city",
            }
        }
        fn label(self) -> &'static str {
            match self {
                Hazard::SchoolCheck => "学校自查",
                Hazard::CountyReview => "县区复核",
                Hazard::CityRecord => "市局备案",
            }
        }
    }

    fn school() -> SchoolRef {
        SchoolRef {
            county: LANSHAN,
            id: 3,
        }
    }

    fn flow(returnable: bool) -> Flow<Hazard> {
        let step = |kind, approver| Step {
            kind,
            approver,
            time_limit_working_days: 5,
        };
        Flow::new(
            vec![
                step(Hazard::SchoolCheck, Approver::School(school())),
                step(Hazard::CountyReview, Approver::County(LANSHAN)),
                step(Hazard::CityRecord, Approver::City),
            ],
            Applicant::Unit(Approver::School(school())),
            returnable,
        )
    }

    fn refuse(r: &str) -> Action {
        Action::Refuse { reason: r.into() }
    }
    fn ret(r: &str) -> Action {
        Action::Return { reason: r.into() }
    }

    #[test]
    fn steps_are_decided_in_order_by_their_unit_only() {
        let f = flow(false);
        let e = f
            .apply(&Action::Approve, &Scope::County(LANSHAN))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "当前步骤为“学校自查”，应由学校办理，您的账号无权审批"
        );
        // An inspector, another county and the city do not decide a school's step.
        let inspector = Scope::Schools(vec![school()]);
        assert!(f.apply(&Action::Approve, &inspector).is_err());
        assert!(f.apply(&Action::Approve, &Scope::City).is_err());
        let f = f.apply(&Action::Approve, &Scope::School(school())).unwrap();
        assert!(f.is_turn_of(&Scope::County(LANSHAN)));
        assert!(
            f.apply(&Action::Approve, &Scope::County(LUOZHUANG))
                .unwrap_err()
                .to_string()
                .contains("兰山区教育局")
        );
        let e = f
            .apply(&Action::Approve, &Scope::School(school()))
            .unwrap_err();
        assert!(matches!(e, ApprovalError::AlreadyDecided { .. }), "{e}");
        let f = f.apply(&Action::Approve, &Scope::County(LANSHAN)).unwrap();
        assert_eq!(
            f.current_step().map(|s| s.approver.role()),
            Some(Role::CityDept)
        );
        let f = f.apply(&Action::Approve, &Scope::City).unwrap();
        assert_eq!(f.status, FlowStatus::Completed);
        assert_eq!(
            f.apply(&Action::Approve, &Scope::City),
            Err(ApprovalError::Closed { state: "已办结" })
        );
    }

    #[test]
    fn refusal_and_return_need_a_reason_and_return_only_where_offered() {
        let f = flow(false)
            .apply(&Action::Approve, &Scope::School(school()))
            .unwrap();
        let county = Scope::County(LANSHAN);
        assert_eq!(
            f.apply(&refuse(" \u{3000}"), &county),
            Err(ApprovalError::EmptyReason {
                action: "不同意"
            })
        );
        assert_eq!(
            f.apply(&ret("补充照片"), &county),
            Err(ApprovalError::ReturnNotOffered)
        );
        let refused = f.apply(&refuse("隐患描述与现场不符"), &county).unwrap();
        assert_eq!(
            refused.status,
            FlowStatus::Refused {
                step: 1,
                reason: "隐患描述与现场不符".into()
            }
        );
        assert!(
            refused
                .apply(&Action::Resubmit, &Scope::School(school()))
                .is_err()
        );

        let f = flow(true)
            .apply(&Action::Approve, &Scope::School(school()))
            .unwrap();
        assert!(
            f.apply(&ret(""), &county)
                .unwrap_err()
                .to_string()
                .contains("退回时必须填写理由")
        );
        let returned = f.apply(&ret("补充整改照片"), &county).unwrap();
        assert_eq!(returned.status.code(), state::RETURNED);
        assert_eq!(returned.status.reason(), "补充整改照片");
        // While returned, nobody decides; the county may not resubmit for the school.
        assert!(returned.apply(&Action::Approve, &county).is_err());
        assert_eq!(
            returned.apply(&Action::Resubmit, &county),
            Err(ApprovalError::NotApplicant {
                action: "重新提交"
            })
        );
        let again = returned
            .apply(&Action::Resubmit, &Scope::School(school()))
            .unwrap();
        assert_eq!(again.status, FlowStatus::Pending { step: 0 });
        assert_eq!(
            flow(true).apply(&Action::Resubmit, &Scope::School(school())),
            Err(ApprovalError::NotReturned)
        );
    }

    #[test]
    fn only_the_applicant_withdraws_and_a_public_applicant_is_the_public_scope() {
        let f = flow(false);
        assert_eq!(
            f.apply(&Action::Withdraw, &Scope::County(LANSHAN)),
            Err(ApprovalError::NotApplicant { action: "撤回" })
        );
        let w = f
            .apply(&Action::Withdraw, &Scope::School(school()))
            .unwrap();
        assert_eq!(w.status, FlowStatus::Withdrawn { step: 0 });
        assert!(
            w.apply(&Action::Withdraw, &Scope::School(school()))
                .is_err()
        );
        let mut public = flow(false);
        public.applicant = Applicant::Public;
        assert!(public.apply(&Action::Withdraw, &Scope::Nothing).is_ok());
        assert!(
            public
                .apply(&Action::Withdraw, &Scope::School(school()))
                .is_err()
        );
    }

    #[test]
    fn deadlines_and_overdue_are_on_the_working_day_calendar() {
        let cal = WorkCalendar::weekends_only();
        let f = flow(false);
        let fri = NaiveDate::from_ymd_opt(2025, 3, 7).unwrap();
        let due = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
        assert_eq!(f.deadline_of_current(fri, &cal), Some(due));
        let step = f.current_step().unwrap();
        assert!(!step.is_overdue(fri, &cal, due));
        assert!(step.is_overdue(fri, &cal, due.succ_opt().unwrap()));
        let done = Flow {
            status: FlowStatus::Completed,
            ..f
        };
        assert_eq!(done.deadline_of_current(fri, &cal), None);
    }

    #[test]
    fn history_entries_say_who_what_when_why_and_keep_rounds_apart() {
        let cal = WorkCalendar::weekends_only();
        let fri = NaiveDate::from_ymd_opt(2025, 3, 7).unwrap();
        let at = DateTime::<Utc>::from_timestamp(1_741_600_000, 0).unwrap();
        let f = flow(true)
            .apply(&Action::Approve, &Scope::School(school()))
            .unwrap();
        let deadline = f.deadline_of_current(fri, &cal);
        let late = NaiveDate::from_ymd_opt(2025, 3, 17).unwrap();
        let h = f.history_entry(
            &ret(" 补充照片 "),
            0,
            ("lanshan", "county"),
            deadline,
            late,
            at,
        );
        assert_eq!(
            (h.seq, h.step_kind, h.action, h.reason.as_str(), h.overdue),
            (1, "county", "return", "补充照片", true)
        );
        assert_eq!(
            (h.actor.as_str(), h.actor_role.as_str(), h.at),
            ("lanshan", "county", at)
        );
        let w = f.history_entry(&Action::Withdraw, 1, ("s", "school"), deadline, fri, at);
        assert_eq!((w.seq, w.overdue), (ROUND_SEQ + 1001, false));
    }

    #[test]
    fn stored_states_read_back() {
        for s in [
            FlowStatus::Pending { step: 1 },
            FlowStatus::Completed,
            FlowStatus::Refused {
                step: 1,
                reason: "x".into(),
            },
            FlowStatus::Returned {
                step: 1,
                reason: "y".into(),
            },
            FlowStatus::Withdrawn { step: 1 },
        ] {
            assert_eq!(FlowStatus::from_stored(s.code(), 1, s.reason()), s);
        }
        assert_eq!(state::label(state::REFUSED), "已退回");
    }
}
