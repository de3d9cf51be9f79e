//! 学籍异动 other than transfers: 休学 (suspension), 复学 (resumption), 辍学 (dropout
//! registration), 毕业 (graduation) and 死亡 (death) — from which statuses each is allowed, what it
//! needs, and who approves it.
//!
//! Sources:
//! - The allowed statuses follow the one state machine of domain-rules §3.2,
//!   [`StudentStatus::can_change_to`]; this module adds the checks each change needs.
//! - Compulsory-stage students (小学, 初中) may not be expelled or made to withdraw (义务教育法
//!   art. 27, "不得开除"): [`check_transition`] refuses 开除 and 退学 for them, for every caller.
//! - Approvals: 休学, 复学 and 辍学 of compulsory-stage students are approved by the school, then the
//!   county bureau (义务教育法 art. 11: suspension needs the county's approval; domain-rules §3.3 and
//!   §4.3: the school reports dropouts to the county, which keeps the ledger); in other stages the
//!   school decides. 毕业: the school. 死亡: the school, with a record (备案) at the county bureau.
//! - Length of a suspension: at most [`Rules::suspension_max_months`] (domain-rules §3.3: typically
//!   one school year, *local*).
//! - Each approval step has the time limit of a transfer step,
//!   [`Rules::transfer_step_working_days`] (the same 学籍 guide), on the working-day calendar.
//!
//! A request is an instance of the one approval flow, [`crate::approval`]: this module gives its
//! steps and its effect; the flow decides what an action does.

use crate::approval::{self, Applicant, ApprovalError, Flow, Step};
use crate::code_list;
use crate::student::ChangeType;
use crate::{Grade, RegionCode, Rules, SchoolRef, Scope, StudentStatus};

pub use crate::approval::{Action, Approver, FlowStatus};
use chrono::{Months, NaiveDate};
use serde::Serialize;

code_list! {
    /// 辍学原因 (reason a student dropped out), as the 控辍保学 ledgers record it (domain-rules §4).
    pub enum DropoutReason: "辍学原因" {
        /// 家庭经济困难
        FinancialHardship = "financial", "家庭经济困难", "Financial hardship", "经济困难";
        /// 厌学
        LostInterest = "lost_interest", "厌学", "Lost interest in school";
        /// 学习困难
        LearningDifficulty = "learning", "学习困难", "Learning difficulty";
        /// 外出务工
        Work = "work", "外出务工", "Left to work", "打工";
        /// 疾病或残疾
        Illness = "illness", "疾病", "Illness or disability", "疾病或残疾", "因病";
        /// 家庭变故 (death or absence of guardians, family breakdown)
        FamilyCrisis = "family", "家庭变故", "Family crisis";
        /// 其他 (a note is required)
        Other = "other", "其他", "Other";
    }
}

code_list! {
    /// The status changes of this module.
    pub enum StatusChangeKind: "异动类型" {
        /// 休学
        Suspend = "suspend", "休学", "Suspension";
        /// 复学
        Resume = "resume", "复学", "Resumption";
        /// 辍学登记
        DropOut = "drop_out", "辍学", "Dropout", "辍学登记", "流失";
        /// 毕业
        Graduate = "graduate", "毕业", "Graduation";
        /// 死亡
        Death = "death", "死亡", "Death";
    }
}

impl StatusChangeKind {
    /// The status the student has once the change is approved.
    pub fn target_status(self) -> StudentStatus {
        match self {
            StatusChangeKind::Suspend => StudentStatus::Suspended,
            StatusChangeKind::Resume => StudentStatus::Resumed,
            StatusChangeKind::DropOut => StudentStatus::DroppedOut,
            StatusChangeKind::Graduate => StudentStatus::Graduated,
            StatusChangeKind::Death => StudentStatus::Deceased,
        }
    }
    /// The 学籍异动类别 recorded (JY/T 1001 has no K-12 code for 辍学 or 毕业: recorded as 99 其他
    /// with the kind as the reason).
    pub fn change_type(self) -> ChangeType {
        match self {
            StatusChangeKind::Suspend => ChangeType::Suspend,
            StatusChangeKind::Resume => ChangeType::Resume,
            StatusChangeKind::Death => ChangeType::Death,
            StatusChangeKind::DropOut | StatusChangeKind::Graduate => ChangeType::Other,
        }
    }
    /// The statuses this change may start from (per [`StudentStatus::can_change_to`]).
    pub fn allowed_from(self) -> Vec<StudentStatus> {
        let to = self.target_status();
        StudentStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.can_change_to(to))
            .collect()
    }
}

/// A requested change with its particulars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum StatusChange {
    /// 休学 from `start` to `end` (inclusive).
    Suspend {
        /// 休学开始日期
        start: NaiveDate,
        /// 休学结束日期 (预计复学前一日)
        end: NaiveDate,
        /// 原因 (e.g. 疾病, with the hospital's certificate as a material)
        reason: String,
    },
    /// 复学 on `date`.
    Resume {
        /// 复学日期
        date: NaiveDate,
    },
    /// 辍学 registered on `date`.
    DropOut {
        /// 登记日期
        date: NaiveDate,
        /// 原因
        reason: DropoutReason,
        /// 说明 (required for 其他)
        note: String,
    },
    /// 毕业 on `date`.
    Graduate {
        /// 毕业日期
        date: NaiveDate,
    },
    /// 死亡 on `date`.
    Death {
        /// 死亡日期
        date: NaiveDate,
    },
}

impl StatusChange {
    /// The kind.
    pub fn kind(&self) -> StatusChangeKind {
        match self {
            StatusChange::Suspend { .. } => StatusChangeKind::Suspend,
            StatusChange::Resume { .. } => StatusChangeKind::Resume,
            StatusChange::DropOut { .. } => StatusChangeKind::DropOut,
            StatusChange::Graduate { .. } => StatusChangeKind::Graduate,
            StatusChange::Death { .. } => StatusChangeKind::Death,
        }
    }
}

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusChangeError {
    /// Not allowed from the current status.
    #[error("学籍状态为“{status}”的学生不能办理{kind}（可办理的状态：{allowed}）")]
    NotAllowedFrom {
        /// The change.
        kind: StatusChangeKind,
        /// Current status.
        status: StudentStatus,
        /// Statuses it is allowed from, joined with 、.
        allowed: String,
    },
    /// A transition the state machine does not have.
    #[error("学籍状态不能从“{from}”改为“{to}”")]
    InvalidTransition {
        /// From.
        from: StudentStatus,
        /// To.
        to: StudentStatus,
    },
    /// 开除/退学 in compulsory education.
    #[error("义务教育阶段（{grade}）学生不得{to}（《义务教育法》第二十七条）")]
    ForbiddenInCompulsory {
        /// The student's grade.
        grade: Grade,
        /// 开除 or 退学.
        to: StudentStatus,
    },
    /// Graduation outside the final grade.
    #[error("{grade}不是毕业年级，不能办理毕业")]
    NotFinalGrade {
        /// The student's grade.
        grade: Grade,
    },
    /// Suspension dates in the wrong order.
    #[error("休学结束日期（{end}）应晚于开始日期（{start}）")]
    SuspensionEndsBeforeStart {
        /// Start.
        start: NaiveDate,
        /// End.
        end: NaiveDate,
    },
    /// Suspension longer than the local limit.
    #[error("休学期限不得超过 {months} 个月，本次最晚至 {latest}")]
    SuspensionTooLong {
        /// The limit.
        months: u32,
        /// Latest allowed end.
        latest: NaiveDate,
    },
    /// No reason given.
    #[error("请填写{kind}原因")]
    MissingReason {
        /// The change.
        kind: StatusChangeKind,
    },
    /// 其他 without a note.
    #[error("辍学原因为“其他”时须说明具体情况")]
    OtherReasonNeedsNote,
    /// The request is closed.
    #[error("该申请{state}，不能再办理")]
    Closed {
        /// 已办结 / 已被退回 / 已撤回
        state: &'static str,
    },
    /// Refusal without a reason.
    #[error("不同意时必须填写理由")]
    EmptyRefusalReason,
    /// Withdrawal by someone other than the school that applied.
    #[error("只有提出申请的学校可以撤回")]
    NotApplicant,
    /// A status written directly (form, API, import, rollover) that only an approved request may
    /// give.
    #[error("义务教育阶段学生{kind}须经县区教育局审批，请提交学籍异动申请")]
    NeedsApproval {
        /// The change the write amounts to.
        kind: StatusChangeKind,
    },
    /// Another refusal of the approval flow.
    #[error(transparent)]
    Flow(ApprovalError),
}

impl StatusChangeError {
    /// What this refusal of a status change means for the caller ([`approval::RefusalKind`]).
    pub fn kind(&self) -> approval::RefusalKind {
        match self {
            StatusChangeError::Flow(e) => e.kind(),
            StatusChangeError::NotApplicant => approval::RefusalKind::Forbidden,
            StatusChangeError::Closed { .. } => approval::RefusalKind::Conflict,
            _ => approval::RefusalKind::Invalid,
        }
    }
}

impl From<ApprovalError> for StatusChangeError {
    /// The flow's refusal in a status change's words.
    fn from(e: ApprovalError) -> Self {
        match e {
            ApprovalError::Closed { state } => StatusChangeError::Closed { state },
            ApprovalError::EmptyReason { .. } => StatusChangeError::EmptyRefusalReason,
            ApprovalError::NotApplicant { .. } => StatusChangeError::NotApplicant,
            e @ (ApprovalError::NotYourStep { .. }
            | ApprovalError::AlreadyDecided { .. }
            | ApprovalError::ReturnNotOffered
            | ApprovalError::NotReturned) => StatusChangeError::Flow(e),
        }
    }
}

/// The one check of a status transition that every caller (forms, imports, these services) runs:
/// the state machine of domain-rules §3.2 and the compulsory-education ban on 开除 and 退学.
pub fn check_transition(
    from: StudentStatus,
    to: StudentStatus,
    grade: Grade,
) -> Result<(), StatusChangeError> {
    if grade.stage().is_compulsory() && to.forbidden_in_compulsory() {
        return Err(StatusChangeError::ForbiddenInCompulsory { grade, to });
    }
    if !from.can_change_to(to) {
        return Err(StatusChangeError::InvalidTransition { from, to });
    }
    Ok(())
}

/// Whether a change of `kind` needs the county bureau's approval: 休学, 复学 and 辍学 of a
/// compulsory-stage student (see the module documentation). [`approval_plan`] and
/// [`check_direct_write`] both follow this one rule.
pub fn needs_county_approval(kind: StatusChangeKind, compulsory: bool) -> bool {
    compulsory
        && matches!(
            kind,
            StatusChangeKind::Suspend | StatusChangeKind::Resume | StatusChangeKind::DropOut
        )
}

/// The status change that writing status `to` over `from` amounts to (`from` is `None` for a new
/// record): entering 休学, 复学, 辍学 or 死亡 is that change; leaving 休学 or 辍学 for anything
/// else (在读, 毕业, …) is a 复学 first (however the status is named); entering 毕业 otherwise is a
/// graduation. `None`: no change of this module
/// (the status is unchanged, or a change such as 转出 that has its own procedure).
pub fn change_kind_of(from: Option<StudentStatus>, to: StudentStatus) -> Option<StatusChangeKind> {
    if from == Some(to) {
        return None;
    }
    match to {
        StudentStatus::Suspended => Some(StatusChangeKind::Suspend),
        StudentStatus::DroppedOut => Some(StatusChangeKind::DropOut),
        StudentStatus::Resumed => Some(StatusChangeKind::Resume),
        StudentStatus::Deceased => Some(StatusChangeKind::Death),
        _ if matches!(
            from,
            Some(StudentStatus::Suspended | StudentStatus::DroppedOut)
        ) =>
        {
            Some(StatusChangeKind::Resume)
        }
        StudentStatus::Graduated => Some(StatusChangeKind::Graduate),
        _ => None,
    }
}

/// The rule for every write of a student's status that is not the effect of an approved request
/// (a form or API save, a create that matches an existing record, a file import in any mode, the
/// year rollover), for every role alike: a change that needs the county bureau's approval
/// ([`needs_county_approval`]) is refused — it is made only through a 学籍异动 request, which
/// takes effect at its last approval. `from` is the stored status (`None` for a new record: a new
/// compulsory-stage record may not start as 休学, 复学 or 辍学 either); `compulsory` whether the
/// student is in the compulsory stage. The only exception is the first load of an existing
/// registry as it stands (`yimeng import --as-is`), which does not call this.
pub fn check_direct_write(
    from: Option<StudentStatus>,
    to: StudentStatus,
    compulsory: bool,
) -> Result<(), StatusChangeError> {
    match change_kind_of(from, to) {
        Some(kind) if needs_county_approval(kind, compulsory) => {
            Err(StatusChangeError::NeedsApproval { kind })
        }
        _ => Ok(()),
    }
}

/// Checks a requested change for a student with status `current` in `grade`.
pub fn check_change(
    current: StudentStatus,
    grade: Grade,
    change: &StatusChange,
    rules: &Rules,
) -> Result<(), StatusChangeError> {
    let kind = change.kind();
    if !current.can_change_to(kind.target_status()) {
        return Err(StatusChangeError::NotAllowedFrom {
            kind,
            status: current,
            allowed: kind
                .allowed_from()
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join("、"),
        });
    }
    check_transition(current, kind.target_status(), grade)?;
    match change {
        StatusChange::Suspend { start, end, reason } => {
            if end <= start {
                return Err(StatusChangeError::SuspensionEndsBeforeStart {
                    start: *start,
                    end: *end,
                });
            }
            let latest = start
                .checked_add_months(Months::new(rules.suspension_max_months))
                .and_then(|d| d.pred_opt())
                .unwrap_or(NaiveDate::MAX);
            if *end > latest {
                return Err(StatusChangeError::SuspensionTooLong {
                    months: rules.suspension_max_months,
                    latest,
                });
            }
            if crate::text::normalize(reason).is_empty() {
                return Err(StatusChangeError::MissingReason { kind });
            }
        }
        StatusChange::DropOut { reason, note, .. } => {
            if *reason == DropoutReason::Other && crate::text::normalize(note).is_empty() {
                return Err(StatusChangeError::OtherReasonNeedsNote);
            }
        }
        StatusChange::Graduate { .. } => {
            let last = Grade::of_stage(grade.stage()).last().copied();
            if last != Some(grade) {
                return Err(StatusChangeError::NotFinalGrade { grade });
            }
        }
        StatusChange::Resume { .. } | StatusChange::Death { .. } => {}
    }
    Ok(())
}

/// Level of an approval step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ApprovalLevel {
    /// 学校审核
    School,
    /// 县区教育局审批
    County,
}

impl ApprovalLevel {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ApprovalLevel::School => "学校审核",
            ApprovalLevel::County => "县区教育局审批",
        }
    }
}

impl approval::StepKind for ApprovalLevel {
    fn code(self) -> &'static str {
        match self {
            ApprovalLevel::School => "school",
            ApprovalLevel::County => "county",
        }
    }
    fn label(self) -> &'static str {
        ApprovalLevel::label(self)
    }
    /// The student's school, or the bureau by its county's name.
    fn approver_label(self, approver: Approver) -> String {
        match approver {
            Approver::School(_) => "学生所在学校".to_string(),
            a => a.label(),
        }
    }
}

/// One approval step of a status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApprovalStep {
    /// Level.
    pub level: ApprovalLevel,
    /// Who acts.
    pub approver: Approver,
}

/// Who approves a change, and who is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalPlan {
    /// Steps in order; the change takes effect at the last approval.
    pub steps: Vec<ApprovalStep>,
    /// A county bureau that files (备案) the change once it took effect: it does not approve,
    /// it is notified and the change shows in its ledger.
    pub county_record: Option<RegionCode>,
}

/// The approvals a change of `kind` for a student in `grade` at `school` needs (see the module
/// documentation for the sources).
pub fn approval_plan(kind: StatusChangeKind, grade: Grade, school: SchoolRef) -> ApprovalPlan {
    let at_school = ApprovalStep {
        level: ApprovalLevel::School,
        approver: Approver::School(school),
    };
    let at_county = ApprovalStep {
        level: ApprovalLevel::County,
        approver: Approver::County(school.county),
    };
    match kind {
        _ if needs_county_approval(kind, grade.stage().is_compulsory()) => ApprovalPlan {
            steps: vec![at_school, at_county],
            county_record: None,
        },
        StatusChangeKind::Death => ApprovalPlan {
            steps: vec![at_school],
            county_record: Some(school.county),
        },
        _ => ApprovalPlan {
            steps: vec![at_school],
            county_record: None,
        },
    }
}

/// What an approved change does to the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusEffect {
    /// The new 学籍状态.
    pub status: StudentStatus,
    /// The 学籍异动类别 of the history event.
    pub change_type: ChangeType,
    /// The county to notify for 备案, if any.
    pub county_record: Option<RegionCode>,
}

/// A status-change request and where it stands. The school enters it (for 休学/复学 on the
/// parents' written application); the school that applied may withdraw it while pending. Its
/// approval flow is read through (`state.steps`, `state.status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChangeState {
    /// The student's school.
    pub school: SchoolRef,
    /// The change.
    pub change: StatusChange,
    /// Approvals.
    pub plan: ApprovalPlan,
    /// The approval flow of the plan's steps.
    pub flow: Flow<ApprovalLevel>,
}

impl std::ops::Deref for StatusChangeState {
    type Target = Flow<ApprovalLevel>;
    fn deref(&self) -> &Flow<ApprovalLevel> {
        &self.flow
    }
}

impl StatusChangeState {
    /// A new request, after [`check_change`] passed: pending at its first step; each step's time
    /// limit is [`Rules::transfer_step_working_days`].
    pub fn new(school: SchoolRef, grade: Grade, change: StatusChange, rules: &Rules) -> Self {
        let plan = approval_plan(change.kind(), grade, school);
        let steps = plan
            .steps
            .iter()
            .map(|s| Step {
                kind: s.level,
                approver: s.approver,
                time_limit_working_days: rules.transfer_step_working_days,
            })
            .collect();
        StatusChangeState {
            school,
            change,
            plan,
            flow: Flow::new(steps, Applicant::Unit(Approver::School(school)), false),
        }
    }

    /// A stored request at `status`.
    pub fn stored(
        school: SchoolRef,
        grade: Grade,
        change: StatusChange,
        rules: &Rules,
        status: FlowStatus,
    ) -> Self {
        let mut st = StatusChangeState::new(school, grade, change, rules);
        st.flow.status = status;
        st
    }

    /// Applies an action by an actor (the approval flow's rules, [`Flow::apply`]: only the current
    /// step's approver decides, a refusal needs a reason, double decisions are refused, the school
    /// that applied withdraws).
    pub fn apply(
        &self,
        action: &Action,
        actor: &Scope,
    ) -> Result<StatusChangeState, StatusChangeError> {
        let flow = self.flow.apply(action, actor)?;
        Ok(StatusChangeState {
            flow,
            ..self.clone()
        })
    }

    /// The registry change due once every step approved; `None` before.
    pub fn effect(&self) -> Option<StatusEffect> {
        (self.status == FlowStatus::Completed).then(|| {
            let kind = self.change.kind();
            StatusEffect {
                status: kind.target_status(),
                change_type: kind.change_type(),
                county_record: self.plan.county_record,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANSHAN: RegionCode = RegionCode::from_i32(371302);

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn school() -> SchoolRef {
        SchoolRef {
            county: LANSHAN,
            id: 7,
        }
    }
    fn suspend(end: NaiveDate) -> StatusChange {
        StatusChange::Suspend {
            start: d(2026, 3, 1),
            end,
            reason: "疾病".into(),
        }
    }

    #[test]
    fn suspension_is_allowed_from_enrolled_and_limited_to_a_school_year() {
        let r = Rules::default();
        let ok = suspend(d(2027, 2, 28));
        assert_eq!(
            check_change(StudentStatus::Enrolled, Grade::P4, &ok, &r),
            Ok(())
        );
        let e = check_change(
            StudentStatus::Enrolled,
            Grade::P4,
            &suspend(d(2027, 3, 1)),
            &r,
        )
        .unwrap_err();
        assert!(e.to_string().contains("不得超过 12 个月"), "{e}");
        assert!(e.to_string().contains("2027-02-28"), "{e}");
        let e = check_change(
            StudentStatus::Enrolled,
            Grade::P4,
            &suspend(d(2026, 3, 1)),
            &r,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            StatusChangeError::SuspensionEndsBeforeStart { .. }
        ));
        let e = check_change(StudentStatus::Suspended, Grade::P4, &ok, &r).unwrap_err();
        assert!(e.to_string().contains("“休学”的学生不能办理休学"), "{e}");
        assert!(e.to_string().contains("在读"), "{e}");
        let no_reason = StatusChange::Suspend {
            start: d(2026, 3, 1),
            end: d(2026, 6, 30),
            reason: " ".into(),
        };
        assert_eq!(
            check_change(StudentStatus::Enrolled, Grade::P4, &no_reason, &r),
            Err(StatusChangeError::MissingReason {
                kind: StatusChangeKind::Suspend
            })
        );
    }

    #[test]
    fn resumption_follows_a_suspension_or_a_dropout() {
        let r = Rules::default();
        let c = StatusChange::Resume {
            date: d(2026, 9, 1),
        };
        assert!(check_change(StudentStatus::Suspended, Grade::J2, &c, &r).is_ok());
        assert!(check_change(StudentStatus::DroppedOut, Grade::J2, &c, &r).is_ok());
        assert!(check_change(StudentStatus::Enrolled, Grade::J2, &c, &r).is_err());
        assert!(check_change(StudentStatus::Graduated, Grade::J2, &c, &r).is_err());
    }

    #[test]
    fn a_dropout_with_other_as_reason_needs_a_note() {
        let r = Rules::default();
        let mut c = StatusChange::DropOut {
            date: d(2026, 4, 1),
            reason: DropoutReason::Other,
            note: String::new(),
        };
        assert_eq!(
            check_change(StudentStatus::Enrolled, Grade::J1, &c, &r),
            Err(StatusChangeError::OtherReasonNeedsNote)
        );
        if let StatusChange::DropOut { note, .. } = &mut c {
            *note = "随父母去外地，去向不明".into();
        }
        assert!(check_change(StudentStatus::Enrolled, Grade::J1, &c, &r).is_ok());
        assert_eq!(DropoutReason::parse("外出务工"), Ok(DropoutReason::Work));
    }

    #[test]
    fn only_the_final_grade_graduates() {
        let r = Rules::default();
        let c = StatusChange::Graduate {
            date: d(2026, 7, 1),
        };
        assert!(check_change(StudentStatus::Enrolled, Grade::P6, &c, &r).is_ok());
        assert!(check_change(StudentStatus::Resumed, Grade::J3, &c, &r).is_ok());
        let e = check_change(StudentStatus::Enrolled, Grade::P5, &c, &r).unwrap_err();
        assert!(e.to_string().contains("五年级不是毕业年级"), "{e}");
        assert!(check_change(StudentStatus::Suspended, Grade::P6, &c, &r).is_err());
    }

    #[test]
    fn compulsory_stage_students_cannot_be_expelled_or_withdrawn() {
        let e = check_transition(StudentStatus::Enrolled, StudentStatus::Expelled, Grade::J2)
            .unwrap_err();
        assert!(e.to_string().contains("不得开除"), "{e}");
        assert!(e.to_string().contains("义务教育法"), "{e}");
        assert!(
            check_transition(StudentStatus::Enrolled, StudentStatus::Withdrawn, Grade::P3).is_err()
        );
        assert!(
            check_transition(StudentStatus::Enrolled, StudentStatus::Withdrawn, Grade::S2).is_ok()
        );
        let e = check_transition(StudentStatus::Graduated, StudentStatus::Enrolled, Grade::S2)
            .unwrap_err();
        assert!(e.to_string().contains("不能从“毕业”改为“在读”"), "{e}");
    }

    #[test]
    fn approvals_depend_on_the_kind_and_the_stage() {
        let s = school();
        let levels = |k, g| {
            approval_plan(k, g, s)
                .steps
                .iter()
                .map(|x| x.level)
                .collect::<Vec<_>>()
        };
        use ApprovalLevel::*;
        assert_eq!(
            levels(StatusChangeKind::Suspend, Grade::P3),
            [School, County]
        );
        assert_eq!(
            levels(StatusChangeKind::Resume, Grade::J1),
            [School, County]
        );
        assert_eq!(
            levels(StatusChangeKind::DropOut, Grade::J3),
            [School, County]
        );
        assert_eq!(levels(StatusChangeKind::Suspend, Grade::S1), [School]);
        assert_eq!(levels(StatusChangeKind::Graduate, Grade::P6), [School]);
        let death = approval_plan(StatusChangeKind::Death, Grade::P2, s);
        assert_eq!(death.steps.len(), 1);
        assert_eq!(death.county_record, Some(LANSHAN));
    }

    #[test]
    fn a_suspension_goes_school_then_county_and_then_takes_effect() {
        let s = school();
        let st = StatusChangeState::new(s, Grade::P4, suspend(d(2026, 12, 31)), &Rules::default());
        let e = st
            .apply(&Action::Approve, &Scope::County(LANSHAN))
            .unwrap_err();
        assert!(e.to_string().contains("学校审核"), "{e}");
        let st = st.apply(&Action::Approve, &Scope::School(s)).unwrap();
        let e = st.apply(&Action::Approve, &Scope::School(s)).unwrap_err();
        assert!(matches!(
            e,
            StatusChangeError::Flow(ApprovalError::AlreadyDecided { .. })
        ));
        assert_eq!(st.effect(), None);
        let other = RegionCode::from_i32(371311);
        assert!(st.apply(&Action::Approve, &Scope::County(other)).is_err());
        let st = st.apply(&Action::Approve, &Scope::County(LANSHAN)).unwrap();
        assert_eq!(
            st.effect(),
            Some(StatusEffect {
                status: StudentStatus::Suspended,
                change_type: ChangeType::Suspend,
                county_record: None
            })
        );
    }

    #[test]
    fn a_refusal_needs_a_reason_and_only_the_school_withdraws() {
        let s = school();
        let st = StatusChangeState::new(
            s,
            Grade::P6,
            StatusChange::Graduate {
                date: d(2026, 7, 1),
            },
            &Rules::default(),
        );
        assert_eq!(
            st.apply(&Action::Refuse { reason: "".into() }, &Scope::School(s)),
            Err(StatusChangeError::EmptyRefusalReason)
        );
        assert_eq!(
            st.apply(&Action::Withdraw, &Scope::County(LANSHAN)),
            Err(StatusChangeError::NotApplicant)
        );
        let w = st.apply(&Action::Withdraw, &Scope::School(s)).unwrap();
        assert!(w.apply(&Action::Approve, &Scope::School(s)).is_err());
        let death = StatusChangeState::new(
            s,
            Grade::P2,
            StatusChange::Death {
                date: d(2026, 5, 5),
            },
            &Rules::default(),
        );
        let done = death.apply(&Action::Approve, &Scope::School(s)).unwrap();
        assert_eq!(done.effect().unwrap().county_record, Some(LANSHAN));
    }

    #[test]
    fn a_direct_write_may_not_make_a_change_the_county_approves() {
        use StudentStatus::*;
        let e = check_direct_write(Some(Enrolled), Suspended, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "义务教育阶段学生休学须经县区教育局审批，请提交学籍异动申请"
        );
        assert!(check_direct_write(Some(Enrolled), DroppedOut, true).is_err());
        assert!(check_direct_write(None, Suspended, true).is_err());
        // Leaving 休学 by renaming the status is a 复学.
        assert_eq!(
            check_direct_write(Some(Suspended), Enrolled, true),
            Err(StatusChangeError::NeedsApproval {
                kind: StatusChangeKind::Resume
            })
        );
        // Unchanged, other changes, other stages.
        assert!(check_direct_write(Some(Suspended), Suspended, true).is_ok());
        assert!(check_direct_write(Some(Suspended), Deceased, true).is_ok());
        assert!(check_direct_write(Some(Suspended), Graduated, true).is_err());
        assert!(check_direct_write(Some(Enrolled), Graduated, true).is_ok());
        assert!(check_direct_write(None, Enrolled, true).is_ok());
        assert!(check_direct_write(Some(Enrolled), Suspended, false).is_ok());
    }
}
