//! 转学 (transfer between schools): who approves in which order, within which time limit, and the
//! state machine of a request.
//!
//! Source: domain-rules §3.3 (2013 《中小学生学籍管理办法》 art. 14 [S7] and the national 学籍
//! system's operational guides): the **receiving school starts** a transfer (转入校申请); every
//! party then has **10 working days** (a [`Rules`] value). Approval order by route:
//! - 同县区 (same county): 转入校 applies → 转出校 → county bureau (one step for both sides).
//! - 市内跨县区 (another county of Linyi): 转入校 → 转入县区教育局 → 转出校 → 转出县区教育局.
//! - 转入本市 (sending school outside Linyi): only the in-city receiving side approves here
//!   (转入校 → 转入县区教育局); the sending side's consent (转出地同意转出证明) is a required
//!   material, since the outside side approves in its own system.
//! - 转出本市 (receiving school outside Linyi): 转出校 → 转出县区教育局; the receiving school's
//!   acceptance (接收证明) is a required material.
//!
//! A parent (家长) may start a request online; the receiving school then reviews it first
//! (转入校审核), before the steps above. A receiving school that starts the request itself has
//! applied by doing so, and its first step is not repeated.
//!
//! A request is an instance of the one approval flow, [`crate::approval`]: this module gives its
//! steps, approvers and time limits, its preconditions and its effect; the flow decides what an
//! action does. The history (who approved when, why a request was refused) is kept by the store as
//! the flow's history entries.

use crate::approval::{self, Applicant, ApprovalError, Flow};
use crate::{RegionCode, Rules, SchoolRef, Scope, StudentStatus};
use serde::Serialize;

pub use crate::approval::{Action, Approver, FlowStatus};

/// One side of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TransferParty {
    /// A school in Linyi, on the registry.
    InCity(SchoolRef),
    /// A school outside Linyi, as the materials name it.
    OutOfCity {
        /// Its county (GB/T 2260), when known.
        county: Option<RegionCode>,
        /// 学校名称
        name: String,
    },
}

impl TransferParty {
    /// The in-city school, if this side is one.
    pub fn school(&self) -> Option<SchoolRef> {
        match self {
            TransferParty::InCity(s) => Some(*s),
            TransferParty::OutOfCity { .. } => None,
        }
    }
}

/// The four routes of domain-rules §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TransferRoute {
    /// 同县区转学
    SameCounty,
    /// 市内跨县区转学
    CrossCounty,
    /// 外市转入
    IntoCity,
    /// 转出本市
    OutOfCity,
}

impl TransferRoute {
    /// The route between two parties; `None` when neither is in Linyi.
    pub fn between(from: &TransferParty, to: &TransferParty) -> Option<TransferRoute> {
        match (from, to) {
            (TransferParty::InCity(a), TransferParty::InCity(b)) => Some(if a.county == b.county {
                TransferRoute::SameCounty
            } else {
                TransferRoute::CrossCounty
            }),
            (TransferParty::OutOfCity { .. }, TransferParty::InCity(_)) => {
                Some(TransferRoute::IntoCity)
            }
            (TransferParty::InCity(_), TransferParty::OutOfCity { .. }) => {
                Some(TransferRoute::OutOfCity)
            }
            _ => None,
        }
    }
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            TransferRoute::SameCounty => "同县区转学",
            TransferRoute::CrossCounty => "市内跨县区转学",
            TransferRoute::IntoCity => "外市转入",
            TransferRoute::OutOfCity => "转出本市",
        }
    }
    /// Materials the request must carry on this route (besides the application form).
    pub fn required_materials(self) -> &'static [TransferMaterial] {
        match self {
            TransferRoute::SameCounty | TransferRoute::CrossCounty => &[],
            TransferRoute::IntoCity => &[TransferMaterial::SendingSideConsent],
            TransferRoute::OutOfCity => &[TransferMaterial::ReceivingSideAcceptance],
        }
    }
}

crate::code_list! {
    /// Documents a transfer across the city boundary needs, because the other side approves
    /// outside this platform.
    pub enum TransferMaterial: "转学材料" {
        /// 转出地同意转出证明: the sending school's (and its bureau's) consent, for 外市转入.
        SendingSideConsent = "sending_consent", "转出地同意转出证明", "Sending side's consent", "同意转出证明";
        /// 接收证明: the receiving school's acceptance, for 转出本市.
        ReceivingSideAcceptance = "receiving_acceptance", "转入学校接收证明", "Receiving school's acceptance", "接收证明";
    }
}

/// Who started the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Initiator {
    /// 转入校 applied in the system.
    ReceivingSchool,
    /// 家长 applied online.
    Parent,
    /// 转出校 entered it: only for 转出本市, where the receiving school is not on this platform.
    SendingSchool,
}

/// What a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum StepKind {
    /// 转入校审核 (only after a parent's online application).
    ReceivingSchoolReview,
    /// 转入县区教育局审核
    ReceivingCountyApproval,
    /// 转出校审核
    SendingSchoolApproval,
    /// 转出县区教育局审核
    SendingCountyApproval,
    /// 县区教育局审核 (same county: one approval for both sides)
    CountyApproval,
}

impl StepKind {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            StepKind::ReceivingSchoolReview => "转入校审核",
            StepKind::ReceivingCountyApproval => "转入县区教育局审核",
            StepKind::SendingSchoolApproval => "转出校审核",
            StepKind::SendingCountyApproval => "转出县区教育局审核",
            StepKind::CountyApproval => "县区教育局审核",
        }
    }
}

impl approval::StepKind for StepKind {
    fn code(self) -> &'static str {
        match self {
            StepKind::ReceivingSchoolReview => "receiving_school_review",
            StepKind::ReceivingCountyApproval => "receiving_county",
            StepKind::SendingSchoolApproval => "sending_school",
            StepKind::SendingCountyApproval => "sending_county",
            StepKind::CountyApproval => "county",
        }
    }
    fn label(self) -> &'static str {
        StepKind::label(self)
    }
    /// 转出学校 / 转入学校, or the bureau by its county's name.
    fn approver_label(self, approver: Approver) -> String {
        match (self, approver) {
            (_, Approver::County(_) | Approver::City) => approver.label(),
            (StepKind::ReceivingSchoolReview, _) => "转入学校".to_string(),
            _ => "转出学校".to_string(),
        }
    }
}

/// One approval step of a transfer.
pub type Step = approval::Step<StepKind>;

/// Why a transfer request or action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The student is not on the register.
    #[error("该学生学籍状态为“{status}”，不在籍，不能办理转学")]
    NotOnRegister {
        /// Current status.
        status: StudentStatus,
    },
    /// 休学 and the local rule bans transfers during a suspension.
    #[error("该学生正在休学，按本地规定休学期间不能转学，请先办理复学")]
    SuspendedTransferBanned,
    /// The student is not at the sending school.
    #[error("该学生的学籍不在转出学校，不能从该校转出")]
    NotAtSendingSchool,
    /// Same school on both sides.
    #[error("转出学校与转入学校相同，不需要办理转学")]
    SameSchool,
    /// Neither side in Linyi.
    #[error("转出学校和转入学校都不在临沂市，不在本平台办理")]
    NeitherSideInCity,
    /// A student coming from outside already holds a 学籍 in Linyi.
    #[error("该学生在本市已有学籍，应按市内转学办理")]
    AlreadyOnRegisterInCity,
    /// Wrong initiator for the route.
    #[error("{route}应由{expected}发起")]
    WrongInitiator {
        /// The route.
        route: &'static str,
        /// Who may start it.
        expected: &'static str,
    },
    /// A required document is missing.
    #[error("{route}须提交“{material}”")]
    MissingMaterial {
        /// The route.
        route: &'static str,
        /// The document.
        material: &'static str,
    },
    /// The request is closed.
    #[error("该转学申请{state}，不能再办理")]
    Closed {
        /// 已办结 / 已被退回 / 已撤回
        state: &'static str,
    },
    /// Refusal without a reason.
    #[error("不同意转学时必须填写理由")]
    EmptyReason,
    /// Withdrawal by someone other than the applicant.
    #[error("只有申请人可以撤回转学申请")]
    NotApplicant,
    /// Another refusal of the approval flow.
    #[error(transparent)]
    Flow(ApprovalError),
}

/// Checks the preconditions of a new request (domain-rules §3.2, §3.3):
/// - the two sides differ, and at least one is in Linyi;
/// - leaving an in-city school: the student is 在籍 (在读/复学; 休学 only when
///   [`Rules::transfer_allowed_while_suspended`]) at that very school;
/// - coming from outside: the student holds no 在籍 record in Linyi (`student` is `None`, or a
///   closed record);
/// - the initiator fits the route, and the route's materials are present.
pub fn check_request(
    from: &TransferParty,
    to: &TransferParty,
    started_by: Initiator,
    student: Option<(StudentStatus, SchoolRef)>,
    materials: &[TransferMaterial],
    rules: &Rules,
) -> Result<TransferRoute, TransferError> {
    let route = TransferRoute::between(from, to).ok_or(TransferError::NeitherSideInCity)?;
    if from == to {
        return Err(TransferError::SameSchool);
    }
    match (route, from.school()) {
        (TransferRoute::IntoCity, _) => {
            if let Some((status, _)) = student
                && status.is_on_register()
            {
                return Err(TransferError::AlreadyOnRegisterInCity);
            }
        }
        (_, Some(sending)) => {
            let Some((status, school)) = student else {
                return Err(TransferError::NotAtSendingSchool);
            };
            if !status.is_on_register() {
                return Err(TransferError::NotOnRegister { status });
            }
            if status == StudentStatus::Suspended && !rules.transfer_allowed_while_suspended {
                return Err(TransferError::SuspendedTransferBanned);
            }
            if school != sending {
                return Err(TransferError::NotAtSendingSchool);
            }
        }
        (_, None) => return Err(TransferError::NeitherSideInCity),
    }
    let initiator_ok = match route {
        TransferRoute::OutOfCity => {
            matches!(started_by, Initiator::SendingSchool | Initiator::Parent)
        }
        _ => matches!(started_by, Initiator::ReceivingSchool | Initiator::Parent),
    };
    if !initiator_ok {
        return Err(TransferError::WrongInitiator {
            route: route.label(),
            expected: if route == TransferRoute::OutOfCity {
                "转出学校或家长"
            } else {
                "转入学校或家长"
            },
        });
    }
    for m in route.required_materials() {
        if !materials.contains(m) {
            return Err(TransferError::MissingMaterial {
                route: route.label(),
                material: m.label(),
            });
        }
    }
    Ok(route)
}

/// The approval steps of a request, in order (see the module documentation). Each step's time
/// limit is [`Rules::transfer_step_working_days`]. Returns no steps only when neither side is in
/// Linyi, which [`check_request`] refuses.
pub fn steps_for(
    from: &TransferParty,
    to: &TransferParty,
    started_by: Initiator,
    rules: &Rules,
) -> Vec<Step> {
    let step = |kind, approver| Step {
        kind,
        approver,
        time_limit_working_days: rules.transfer_step_working_days,
    };
    let mut steps = Vec::new();
    let (Some(route), sending, receiving) =
        (TransferRoute::between(from, to), from.school(), to.school())
    else {
        return steps;
    };
    if let (Initiator::Parent, Some(r)) = (started_by, receiving) {
        steps.push(step(StepKind::ReceivingSchoolReview, Approver::School(r)));
    }
    match (route, sending, receiving) {
        (TransferRoute::SameCounty, Some(s), Some(r)) => {
            steps.push(step(StepKind::SendingSchoolApproval, Approver::School(s)));
            steps.push(step(StepKind::CountyApproval, Approver::County(r.county)));
        }
        (TransferRoute::CrossCounty, Some(s), Some(r)) => {
            steps.push(step(
                StepKind::ReceivingCountyApproval,
                Approver::County(r.county),
            ));
            steps.push(step(StepKind::SendingSchoolApproval, Approver::School(s)));
            steps.push(step(
                StepKind::SendingCountyApproval,
                Approver::County(s.county),
            ));
        }
        (TransferRoute::IntoCity, _, Some(r)) => {
            steps.push(step(
                StepKind::ReceivingCountyApproval,
                Approver::County(r.county),
            ));
        }
        (TransferRoute::OutOfCity, Some(s), _) => {
            steps.push(step(StepKind::SendingSchoolApproval, Approver::School(s)));
            steps.push(step(
                StepKind::SendingCountyApproval,
                Approver::County(s.county),
            ));
        }
        _ => {}
    }
    steps
}

/// What a completed transfer does to the registry; the store applies it in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TransferEffect {
    /// Close the 学籍 at `from` (status 10 转出, change 21) and open it at `to` (change 22). Across
    /// counties the record moves tenant: closed in one county, inserted in the other (design.md
    /// scale-out rule 2).
    Move {
        /// Sending school.
        from: SchoolRef,
        /// Receiving school.
        to: SchoolRef,
    },
    /// Open a 学籍 at `to` for a student coming from outside Linyi (change 22 转入).
    Enrol {
        /// Receiving school.
        to: SchoolRef,
    },
    /// Close the 学籍 at `from` (status 10 转出, change 21): the student leaves Linyi.
    Leave {
        /// Sending school.
        from: SchoolRef,
    },
}

/// A transfer request and where it stands: the parties, who started it, and its approval flow
/// (read through: `state.steps`, `state.status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferState {
    /// Sending side.
    pub from: TransferParty,
    /// Receiving side.
    pub to: TransferParty,
    /// Who started it.
    pub started_by: Initiator,
    /// The approval flow: steps fixed when the request was made, and where it stands.
    pub flow: Flow<StepKind>,
}

impl std::ops::Deref for TransferState {
    type Target = Flow<StepKind>;
    fn deref(&self) -> &Flow<StepKind> {
        &self.flow
    }
}

/// Who may withdraw: the school that applied; for a parent's online request, the public applicant
/// (see [`Applicant::Public`]).
fn applicant(from: &TransferParty, to: &TransferParty, started_by: Initiator) -> Applicant {
    let school = match started_by {
        Initiator::Parent => return Applicant::Public,
        Initiator::ReceivingSchool => to.school(),
        Initiator::SendingSchool => from.school(),
    };
    // A side outside Linyi has no account here (check_request refuses such an initiator anyway).
    school.map_or(Applicant::Outside, |s| Applicant::Unit(Approver::School(s)))
}

impl TransferState {
    /// A new request after [`check_request`] passed: pending at its first step.
    pub fn new(
        from: TransferParty,
        to: TransferParty,
        started_by: Initiator,
        rules: &Rules,
    ) -> Self {
        let steps = steps_for(&from, &to, started_by, rules);
        let applicant = applicant(&from, &to, started_by);
        TransferState {
            from,
            to,
            started_by,
            flow: Flow::new(steps, applicant, false),
        }
    }

    /// A stored request: its steps rebuilt from its parties, at `status`.
    pub fn stored(
        from: TransferParty,
        to: TransferParty,
        started_by: Initiator,
        rules: &Rules,
        status: FlowStatus,
    ) -> Self {
        let mut st = TransferState::new(from, to, started_by, rules);
        st.flow.status = status;
        st
    }

    /// The route.
    pub fn route(&self) -> Option<TransferRoute> {
        TransferRoute::between(&self.from, &self.to)
    }

    /// Applies an action by an actor and returns the new state (this one is unchanged); the rules
    /// are the approval flow's ([`Flow::apply`]):
    ///
    /// - Only the current step's approver may approve or refuse; an approver of an earlier step
    ///   gets [`ApprovalError::AlreadyDecided`] (a double submission), anyone else
    ///   [`ApprovalError::NotYourStep`].
    /// - A refusal needs a non-empty reason and closes the request. Transfers offer no return for
    ///   correction: the applicant withdraws and applies again.
    /// - Only the applicant may withdraw, while the request is pending.
    /// - The last approval completes the request: [`TransferState::effect`] is then due.
    pub fn apply(&self, action: &Action, actor: &Scope) -> Result<TransferState, TransferError> {
        let flow = self
            .flow
            .apply(action, actor)
            .map_err(TransferError::from)?;
        Ok(TransferState {
            flow,
            ..self.clone()
        })
    }

    /// The registry change due once the request is completed; `None` before.
    pub fn effect(&self) -> Option<TransferEffect> {
        if self.status != FlowStatus::Completed {
            return None;
        }
        self.completion_effect()
    }

    /// The registry change the request makes when it completes (it depends on the parties only).
    pub fn completion_effect(&self) -> Option<TransferEffect> {
        match (self.from.school(), self.to.school()) {
            (Some(from), Some(to)) => Some(TransferEffect::Move { from, to }),
            (None, Some(to)) => Some(TransferEffect::Enrol { to }),
            (Some(from), None) => Some(TransferEffect::Leave { from }),
            (None, None) => None,
        }
    }
}

impl TransferError {
    /// What this refusal of a transfer means for the caller ([`approval::RefusalKind`]).
    pub fn kind(&self) -> approval::RefusalKind {
        match self {
            TransferError::Flow(e) => e.kind(),
            TransferError::NotApplicant => approval::RefusalKind::Forbidden,
            TransferError::Closed { .. } => approval::RefusalKind::Conflict,
            _ => approval::RefusalKind::Invalid,
        }
    }
}

impl From<ApprovalError> for TransferError {
    /// The flow's refusal in a transfer's words.
    fn from(e: ApprovalError) -> Self {
        match e {
            ApprovalError::Closed { state } => TransferError::Closed { state },
            ApprovalError::EmptyReason { .. } => TransferError::EmptyReason,
            ApprovalError::NotApplicant { .. } => TransferError::NotApplicant,
            e @ (ApprovalError::NotYourStep { .. }
            | ApprovalError::AlreadyDecided { .. }
            | ApprovalError::ReturnNotOffered
            | ApprovalError::NotReturned) => TransferError::Flow(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;
    use chrono::NaiveDate;

    const LANSHAN: RegionCode = RegionCode::from_i32(371302);
    const LUOZHUANG: RegionCode = RegionCode::from_i32(371311);

    fn school(county: RegionCode, id: i64) -> SchoolRef {
        SchoolRef { county, id }
    }
    fn in_city(county: RegionCode, id: i64) -> TransferParty {
        TransferParty::InCity(school(county, id))
    }
    fn outside() -> TransferParty {
        TransferParty::OutOfCity {
            county: Some(RegionCode::from_i32(370102)),
            name: "济南市历下区某小学".into(),
        }
    }
    fn kinds(steps: &[Step]) -> Vec<StepKind> {
        steps.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn same_county_goes_sending_school_then_county() {
        let r = Rules::default();
        let steps = steps_for(
            &in_city(LANSHAN, 1),
            &in_city(LANSHAN, 2),
            Initiator::ReceivingSchool,
            &r,
        );
        assert_eq!(
            kinds(&steps),
            [StepKind::SendingSchoolApproval, StepKind::CountyApproval]
        );
        assert_eq!(steps[0].approver, Approver::School(school(LANSHAN, 1)));
        assert_eq!(steps[1].approver, Approver::County(LANSHAN));
        assert!(steps.iter().all(|s| s.time_limit_working_days == 10));
    }

    #[test]
    fn cross_county_goes_receiving_bureau_sending_school_sending_bureau() {
        let steps = steps_for(
            &in_city(LANSHAN, 1),
            &in_city(LUOZHUANG, 2),
            Initiator::ReceivingSchool,
            &Rules::default(),
        );
        assert_eq!(
            kinds(&steps),
            [
                StepKind::ReceivingCountyApproval,
                StepKind::SendingSchoolApproval,
                StepKind::SendingCountyApproval
            ]
        );
        assert_eq!(steps[0].approver, Approver::County(LUOZHUANG));
        assert_eq!(steps[2].approver, Approver::County(LANSHAN));
    }

    #[test]
    fn a_parents_request_starts_with_the_receiving_schools_review() {
        let steps = steps_for(
            &in_city(LANSHAN, 1),
            &in_city(LANSHAN, 2),
            Initiator::Parent,
            &Rules::default(),
        );
        assert_eq!(steps[0].kind, StepKind::ReceivingSchoolReview);
        assert_eq!(steps[0].approver, Approver::School(school(LANSHAN, 2)));
        assert_eq!(steps.len(), 3);
    }

    #[test]
    fn only_the_in_city_side_approves_across_the_city_boundary() {
        let r = Rules::default();
        let into = steps_for(
            &outside(),
            &in_city(LANSHAN, 2),
            Initiator::ReceivingSchool,
            &r,
        );
        assert_eq!(kinds(&into), [StepKind::ReceivingCountyApproval]);
        let out = steps_for(
            &in_city(LANSHAN, 1),
            &outside(),
            Initiator::SendingSchool,
            &r,
        );
        assert_eq!(
            kinds(&out),
            [
                StepKind::SendingSchoolApproval,
                StepKind::SendingCountyApproval
            ]
        );
    }

    #[test]
    fn the_time_limit_comes_from_the_rules() {
        let r = Rules {
            transfer_step_working_days: 5,
            ..Rules::default()
        };
        let steps = steps_for(
            &in_city(LANSHAN, 1),
            &in_city(LANSHAN, 2),
            Initiator::ReceivingSchool,
            &r,
        );
        assert!(steps.iter().all(|s| s.time_limit_working_days == 5));
        let cal = WorkCalendar::weekends_only();
        let fri = NaiveDate::from_ymd_opt(2025, 3, 7).unwrap();
        assert_eq!(
            steps[0].deadline(fri, &cal),
            NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()
        );
    }

    #[test]
    fn preconditions_name_the_reason() {
        let r = Rules::default();
        let (a, b) = (in_city(LANSHAN, 1), in_city(LANSHAN, 2));
        let at_a = |s| Some((s, school(LANSHAN, 1)));
        let ok = check_request(
            &a,
            &b,
            Initiator::ReceivingSchool,
            at_a(StudentStatus::Enrolled),
            &[],
            &r,
        );
        assert_eq!(ok, Ok(TransferRoute::SameCounty));
        let e = check_request(
            &a,
            &b,
            Initiator::ReceivingSchool,
            at_a(StudentStatus::Suspended),
            &[],
            &r,
        )
        .unwrap_err();
        assert_eq!(e, TransferError::SuspendedTransferBanned);
        assert!(e.to_string().contains("休学期间不能转学"));
        let lenient = Rules {
            transfer_allowed_while_suspended: true,
            ..Rules::default()
        };
        assert!(
            check_request(
                &a,
                &b,
                Initiator::ReceivingSchool,
                at_a(StudentStatus::Suspended),
                &[],
                &lenient
            )
            .is_ok()
        );
        let e = check_request(
            &a,
            &b,
            Initiator::ReceivingSchool,
            at_a(StudentStatus::Graduated),
            &[],
            &r,
        )
        .unwrap_err();
        assert!(e.to_string().contains("“毕业”，不在籍"), "{e}");
        let e = check_request(
            &a,
            &a,
            Initiator::ReceivingSchool,
            at_a(StudentStatus::Enrolled),
            &[],
            &r,
        )
        .unwrap_err();
        assert_eq!(e, TransferError::SameSchool);
        let elsewhere = Some((StudentStatus::Enrolled, school(LANSHAN, 9)));
        assert_eq!(
            check_request(&a, &b, Initiator::ReceivingSchool, elsewhere, &[], &r),
            Err(TransferError::NotAtSendingSchool)
        );
        let e = check_request(
            &a,
            &b,
            Initiator::SendingSchool,
            at_a(StudentStatus::Enrolled),
            &[],
            &r,
        )
        .unwrap_err();
        assert!(e.to_string().contains("应由转入学校或家长发起"), "{e}");
    }

    #[test]
    fn crossing_the_city_boundary_needs_the_other_sides_document() {
        let r = Rules::default();
        let e = check_request(
            &outside(),
            &in_city(LANSHAN, 2),
            Initiator::ReceivingSchool,
            None,
            &[],
            &r,
        )
        .unwrap_err();
        assert!(e.to_string().contains("转出地同意转出证明"), "{e}");
        assert!(
            check_request(
                &outside(),
                &in_city(LANSHAN, 2),
                Initiator::ReceivingSchool,
                None,
                &[TransferMaterial::SendingSideConsent],
                &r
            )
            .is_ok()
        );
        let e = check_request(
            &outside(),
            &in_city(LANSHAN, 2),
            Initiator::ReceivingSchool,
            Some((StudentStatus::Enrolled, school(LUOZHUANG, 4))),
            &[TransferMaterial::SendingSideConsent],
            &r,
        )
        .unwrap_err();
        assert_eq!(e, TransferError::AlreadyOnRegisterInCity);
        assert_eq!(
            check_request(&outside(), &outside(), Initiator::Parent, None, &[], &r),
            Err(TransferError::NeitherSideInCity)
        );
    }

    #[test]
    fn approvals_move_step_by_step_and_the_last_one_moves_the_student() {
        let (a, b) = (school(LANSHAN, 1), school(LUOZHUANG, 2));
        let s = TransferState::new(
            TransferParty::InCity(a),
            TransferParty::InCity(b),
            Initiator::ReceivingSchool,
            &Rules::default(),
        );
        // Out of turn: the sending school may not act before the receiving bureau.
        let e = s.apply(&Action::Approve, &Scope::School(a)).unwrap_err();
        assert!(e.to_string().contains("罗庄区教育局"), "{e}");
        // The city and an inspector are never approvers.
        assert!(s.apply(&Action::Approve, &Scope::City).is_err());
        let s = s
            .apply(&Action::Approve, &Scope::County(LUOZHUANG))
            .unwrap();
        // A double submission by the bureau is refused: the state has moved on.
        let e = s
            .apply(&Action::Approve, &Scope::County(LUOZHUANG))
            .unwrap_err();
        assert!(
            matches!(e, TransferError::Flow(ApprovalError::AlreadyDecided { .. })),
            "{e}"
        );
        assert!(e.to_string().contains("不能重复审批"));
        let s = s.apply(&Action::Approve, &Scope::School(a)).unwrap();
        assert_eq!(s.effect(), None);
        let s = s.apply(&Action::Approve, &Scope::County(LANSHAN)).unwrap();
        assert_eq!(s.status, FlowStatus::Completed);
        assert_eq!(s.effect(), Some(TransferEffect::Move { from: a, to: b }));
        let e = s
            .apply(&Action::Approve, &Scope::County(LANSHAN))
            .unwrap_err();
        assert!(e.to_string().contains("已办结"));
    }

    #[test]
    fn a_refusal_needs_a_reason_and_closes_the_request() {
        let (a, b) = (school(LANSHAN, 1), school(LANSHAN, 2));
        let s = TransferState::new(
            TransferParty::InCity(a),
            TransferParty::InCity(b),
            Initiator::ReceivingSchool,
            &Rules::default(),
        );
        let blank = Action::Refuse {
            reason: "  ".into(),
        };
        assert_eq!(
            s.apply(&blank, &Scope::School(a)),
            Err(TransferError::EmptyReason)
        );
        let s = s
            .apply(
                &Action::Refuse {
                    reason: "学籍信息与本人不符".into(),
                },
                &Scope::School(a),
            )
            .unwrap();
        assert!(matches!(s.status, FlowStatus::Refused { step: 0, .. }));
        assert!(s.apply(&Action::Approve, &Scope::County(LANSHAN)).is_err());
        assert_eq!(s.effect(), None);
    }

    #[test]
    fn only_the_applicant_may_withdraw() {
        let (a, b) = (school(LANSHAN, 1), school(LANSHAN, 2));
        let by_school = TransferState::new(
            TransferParty::InCity(a),
            TransferParty::InCity(b),
            Initiator::ReceivingSchool,
            &Rules::default(),
        );
        assert_eq!(
            by_school.apply(&Action::Withdraw, &Scope::School(a)),
            Err(TransferError::NotApplicant)
        );
        let w = by_school
            .apply(&Action::Withdraw, &Scope::School(b))
            .unwrap();
        assert_eq!(w.status, FlowStatus::Withdrawn { step: 0 });
        let by_parent = TransferState::new(
            TransferParty::InCity(a),
            TransferParty::InCity(b),
            Initiator::Parent,
            &Rules::default(),
        );
        assert!(by_parent.apply(&Action::Withdraw, &Scope::Nothing).is_ok());
        assert!(
            by_parent
                .apply(&Action::Withdraw, &Scope::School(b))
                .is_err()
        );
    }

    #[test]
    fn effects_across_the_boundary_enrol_or_leave() {
        let r = Rules::default();
        let b = school(LANSHAN, 2);
        let s = TransferState::new(
            outside(),
            TransferParty::InCity(b),
            Initiator::ReceivingSchool,
            &r,
        );
        let s = s.apply(&Action::Approve, &Scope::County(LANSHAN)).unwrap();
        assert_eq!(s.effect(), Some(TransferEffect::Enrol { to: b }));
        let s = TransferState::new(
            TransferParty::InCity(b),
            outside(),
            Initiator::SendingSchool,
            &r,
        );
        let s = s.apply(&Action::Approve, &Scope::School(b)).unwrap();
        let s = s.apply(&Action::Approve, &Scope::County(LANSHAN)).unwrap();
        assert_eq!(s.effect(), Some(TransferEffect::Leave { from: b }));
    }
}
