//! 义务教育入学申请 (compulsory-education enrolment applications): application kinds and their
//! required materials, the grade-1 age rule, the application number, the status of an
//! application, and school-zone routing (学区划片).
//!
//! Sources and choices:
//! - Age: a child enters grade 1 in the year it is 6 周岁 on the entry cut-off (义务教育法 art. 11;
//!   domain-rules §4.1). The cut-off (31 August by default) is local: [`Rules::entry_cutoff`]. An
//!   older child may enter (延缓入学 was approved), which is reported, not refused.
//! - Materials: what Shandong's county enrolment notices usually ask for (户口簿 and 房产证明 for
//!   residents; for 随迁子女 also 居住证 and 务工/就业证明; 出生医学证明 and 预防接种证 for grade 1).
//!   The exact list is *local* and changes yearly; this table is the default the product shows.
//! - Status: 已提交 → (待补充材料 → 已提交) → 已受理 → 已录取 → 已入学, or 不予受理 with a
//!   reason before acceptance; the applicant may withdraw (已撤回) until enrolment. An accepted
//!   application is never refused afterwards: a compulsory-education place is guaranteed, and a
//!   child the zone school cannot take is admitted elsewhere by the county (统筹安排).
//! - Zones: a table maintained by each county (county, street, optional community, stage →
//!   school); an address may map to several schools (多校划片).

use crate::code_list;
use crate::{Grade, RegionCode, Rules, SchoolCode, Stage};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

code_list! {
    /// 申请类型
    pub enum ApplicationKind: "申请类型" {
        /// 小学一年级入学 (resident children)
        PrimaryEntry = "primary_entry", "小学一年级入学", "Primary grade 1 entry", "小学入学", "一年级入学";
        /// 初中入学 (七年级)
        JuniorEntry = "junior_entry", "初中入学", "Junior secondary entry", "七年级入学", "小升初";
        /// 随迁子女入学 (children of migrant workers, grade 1 or grade 7)
        MigrantChild = "migrant_child", "随迁子女入学", "Migrant child entry", "随迁子女";
    }
}

code_list! {
    /// 申请材料
    pub enum Material: "申请材料" {
        /// 户口簿
        HouseholdRegister = "hukou", "户口簿", "Household register", "户口本";
        /// 房产证明 (不动产权证书 or a registered purchase contract)
        PropertyProof = "property", "房产证明", "Proof of property", "房产证", "不动产权证书", "购房合同";
        /// 租赁合同 (registered lease)
        Lease = "lease", "租赁合同", "Lease", "房屋租赁合同", "租房合同";
        /// 居住证
        ResidencePermit = "residence_permit", "居住证", "Residence permit";
        /// 务工/就业证明 (labour contract, business licence or social-insurance record)
        EmploymentProof = "employment", "务工就业证明", "Proof of employment", "务工证明", "就业证明", "务工/就业证明";
        /// 出生医学证明
        BirthCertificate = "birth", "出生证明", "Birth certificate", "出生医学证明";
        /// 预防接种证 (or its 查验证明)
        VaccinationCertificate = "vaccination", "预防接种证", "Vaccination certificate", "接种证", "预防接种证查验证明";
        /// 小学学籍证明 (or the 小学毕业证明)
        PrimaryRecord = "primary_record", "小学学籍证明", "Primary school record", "小学毕业证明", "小学毕业证";
    }
}

/// One line of the materials list: a document, or one of several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Requirement {
    /// This document.
    One(Material),
    /// Any one of these.
    AnyOf(&'static [Material]),
}

impl Requirement {
    /// Met by the documents provided?
    pub fn is_met(&self, provided: &[Material]) -> bool {
        match self {
            Requirement::One(m) => provided.contains(m),
            Requirement::AnyOf(ms) => ms.iter().any(|m| provided.contains(m)),
        }
    }
    /// Chinese label: 户口簿, 房产证明或租赁合同.
    pub fn label(&self) -> String {
        match self {
            Requirement::One(m) => m.label().to_string(),
            Requirement::AnyOf(ms) => ms.iter().map(|m| m.label()).collect::<Vec<_>>().join("或"),
        }
    }
}

const HOME: Requirement = Requirement::AnyOf(&[Material::PropertyProof, Material::Lease]);

/// The grades an application kind may ask for.
pub fn allowed_grades(kind: ApplicationKind) -> &'static [Grade] {
    match kind {
        ApplicationKind::PrimaryEntry => &[Grade::P1],
        ApplicationKind::JuniorEntry => &[Grade::J1],
        ApplicationKind::MigrantChild => &[Grade::P1, Grade::J1],
    }
}

/// The materials an application of `kind` for `grade` needs (see the module documentation).
pub fn required_materials(kind: ApplicationKind, grade: Grade) -> Vec<Requirement> {
    use Material::*;
    let mut v = vec![Requirement::One(HouseholdRegister)];
    if kind == ApplicationKind::MigrantChild {
        v.push(Requirement::One(ResidencePermit));
        v.push(Requirement::One(EmploymentProof));
    }
    v.push(HOME);
    if grade == Grade::J1 {
        v.push(Requirement::One(PrimaryRecord));
    } else {
        v.push(Requirement::One(BirthCertificate));
        v.push(Requirement::One(VaccinationCertificate));
    }
    v
}

/// The requirements not met by `provided`, in list order.
pub fn missing_materials(
    kind: ApplicationKind,
    grade: Grade,
    provided: &[Material],
) -> Vec<Requirement> {
    required_materials(kind, grade)
        .into_iter()
        .filter(|r| !r.is_met(provided))
        .collect()
}

/// Why an application or an action on it is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolmentError {
    /// Grade not offered for the kind.
    #[error("{kind}只能申请{allowed}")]
    WrongGrade {
        /// The kind.
        kind: ApplicationKind,
        /// Allowed grades, joined with 或.
        allowed: String,
    },
    /// Younger than 6 on the cut-off.
    #[error(
        "小学一年级入学须在 {cutoff}（含）前年满 6 周岁；该儿童出生于 {birth}，届时未满 6 周岁"
    )]
    TooYoung {
        /// Birth date.
        birth: NaiveDate,
        /// Cut-off date.
        cutoff: NaiveDate,
    },
    /// Materials missing.
    #[error("缺少材料：{0}")]
    MissingMaterials(String),
    /// Not an application number.
    #[error("申请编号“{0}”格式不对，应形如 RX2026-371302-000123-7")]
    BadApplicationNo(String),
    /// Check character mismatch.
    #[error("申请编号“{0}”的校验位不符，请核对是否输错")]
    ApplicationNoCheckFailed(String),
    /// Event not allowed in the status.
    #[error("申请状态为“{from}”时不能{event}")]
    InvalidEvent {
        /// Current status.
        from: EnrolmentStatus,
        /// What was attempted.
        event: &'static str,
    },
    /// Rejection without a reason.
    #[error("不予受理时必须说明理由")]
    EmptyReason,
    /// Request for materials without naming them.
    #[error("要求补充材料时须写明缺少哪些材料")]
    NothingRequested,
    /// Zone table entry without a street.
    #[error("学区表第 {row} 行缺少街道（乡镇）名称")]
    ZoneWithoutStreet {
        /// 1-based entry number.
        row: usize,
    },
    /// No zone for the address.
    #[error("未找到“{place}”对应的{stage}学区学校，请咨询县区教育局")]
    NoZone {
        /// The address as given.
        place: String,
        /// Stage label.
        stage: &'static str,
    },
}

/// Checks that the kind allows the grade.
pub fn check_grade(kind: ApplicationKind, grade: Grade) -> Result<(), EnrolmentError> {
    let allowed = allowed_grades(kind);
    if allowed.contains(&grade) {
        Ok(())
    } else {
        Err(EnrolmentError::WrongGrade {
            kind,
            allowed: allowed
                .iter()
                .map(|g| g.label())
                .collect::<Vec<_>>()
                .join("或"),
        })
    }
}

/// Checks that the materials are complete.
pub fn check_materials(
    kind: ApplicationKind,
    grade: Grade,
    provided: &[Material],
) -> Result<(), EnrolmentError> {
    let missing = missing_materials(kind, grade, provided);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(EnrolmentError::MissingMaterials(
            missing
                .iter()
                .map(Requirement::label)
                .collect::<Vec<_>>()
                .join("、"),
        ))
    }
}

/// Result of the grade-1 age check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EntryAge {
    /// 6 周岁 on the cut-off: the normal case.
    OnTime,
    /// Older (e.g. entry deferred with approval): allowed, shown to the reviewer.
    Late {
        /// 周岁 on the cut-off.
        age: i32,
    },
}

/// The grade-1 age rule: 6 周岁 on [`Rules::entry_cutoff`] of the entry year (the year the school
/// year starts), counted by [`crate::idcard::age_on`].
pub fn check_entry_age(
    birth: NaiveDate,
    entry_year: i32,
    rules: &Rules,
) -> Result<EntryAge, EnrolmentError> {
    let cutoff = rules.entry_cutoff(entry_year);
    let age = crate::idcard::age_on(birth, cutoff);
    let entry = Grade::P1.nominal_age();
    if age < entry {
        Err(EnrolmentError::TooYoung { birth, cutoff })
    } else if age > entry {
        Ok(EntryAge::Late { age })
    } else {
        Ok(EntryAge::OnTime)
    }
}

/// 申请编号 (application number): `RX{year}-{county}-{sequence}-{check}`, e.g.
/// `RX2026-371302-000123-7`. The check character is ISO 7064 MOD 11-2 over the 16 digits (the
/// scheme of the ID number, GB 11643 — domain-rules §1.2): it catches every single mistyped digit
/// and every swap of two neighbouring digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationNo {
    year: i32,
    county: RegionCode,
    seq: u32,
}

/// ISO 7064 MOD 11-2 check character of a digit string: weights 2^k mod 11 from the right, the
/// check makes the weighted sum ≡ 1 (mod 11); 10 is written `X`.
pub fn mod11_2_check(digits: &[u8]) -> u8 {
    let n = digits.len();
    let mut sum: u32 = 0;
    let mut w: u32 = 2; // weight of the rightmost digit
    for i in (0..n).rev() {
        sum += u32::from(digits[i] - b'0') * w;
        w = w * 2 % 11;
    }
    let c = (12 - sum % 11) % 11;
    if c == 10 { b'X' } else { b'0' + c as u8 }
}

impl ApplicationNo {
    /// Builds a number: `year` 2000–2099, a six-digit county code, sequence 1–999999.
    pub fn new(year: i32, county: RegionCode, seq: u32) -> Option<Self> {
        ((2000..=2099).contains(&year)
            && (100_000..=999_999).contains(&county.get())
            && (1..=999_999).contains(&seq))
        .then_some(ApplicationNo { year, county, seq })
    }
    /// Entry year.
    pub fn year(&self) -> i32 {
        self.year
    }
    /// County.
    pub fn county(&self) -> RegionCode {
        self.county
    }
    /// Sequence within the county and year.
    pub fn seq(&self) -> u32 {
        self.seq
    }
    fn digits(&self) -> String {
        format!("{:04}{:06}{:06}", self.year, self.county.get(), self.seq)
    }
    /// The check character.
    pub fn check_char(&self) -> char {
        mod11_2_check(self.digits().as_bytes()) as char
    }
    /// Parses what a person typed: case, spaces, hyphens and full-width characters do not matter.
    pub fn parse(input: &str) -> Result<Self, EnrolmentError> {
        let raw = crate::text::normalize(input);
        let s: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '—' | '_'))
            .collect::<String>()
            .to_ascii_uppercase();
        let bad = || EnrolmentError::BadApplicationNo(crate::text::preview(&raw, 30));
        let body = s.strip_prefix("RX").ok_or_else(bad)?;
        let b = body.as_bytes();
        if b.len() != 17
            || !b[..16].iter().all(u8::is_ascii_digit)
            || !(b[16].is_ascii_digit() || b[16] == b'X')
        {
            return Err(bad());
        }
        if mod11_2_check(&b[..16]) != b[16] {
            return Err(EnrolmentError::ApplicationNoCheckFailed(
                crate::text::preview(&raw, 30),
            ));
        }
        let year: i32 = body[0..4].parse().map_err(|_| bad())?;
        let county: i32 = body[4..10].parse().map_err(|_| bad())?;
        let seq: u32 = body[10..16].parse().map_err(|_| bad())?;
        ApplicationNo::new(year, RegionCode::from_i32(county), seq).ok_or_else(bad)
    }
}

impl std::fmt::Display for ApplicationNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RX{:04}-{:06}-{:06}-{}",
            self.year,
            self.county.get(),
            self.seq,
            self.check_char()
        )
    }
}

impl Serialize for ApplicationNo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ApplicationNo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        ApplicationNo::parse(&s).map_err(serde::de::Error::custom)
    }
}

code_list! {
    /// 申请状态
    pub enum EnrolmentStatus: "申请状态" {
        /// 已提交
        Submitted = "submitted", "已提交", "Submitted";
        /// 待补充材料
        NeedsMaterials = "needs_materials", "待补充材料", "Materials requested";
        /// 已受理
        Accepted = "accepted", "已受理", "Accepted";
        /// 已录取
        Admitted = "admitted", "已录取", "Admitted";
        /// 已入学
        Enrolled = "enrolled", "已入学", "Enrolled";
        /// 不予受理
        Rejected = "rejected", "不予受理", "Rejected";
        /// 已撤回
        Withdrawn = "withdrawn", "已撤回", "Withdrawn";
    }
}

impl EnrolmentStatus {
    /// No further event is possible.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            EnrolmentStatus::Enrolled | EnrolmentStatus::Rejected | EnrolmentStatus::Withdrawn
        )
    }
}

/// Something that happens to an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EnrolmentEvent {
    /// The reviewer asks for documents (已提交 → 待补充材料).
    RequestMaterials {
        /// What is missing.
        missing: Vec<Material>,
    },
    /// The applicant supplied them (待补充材料 → 已提交).
    Resubmit,
    /// The reviewer accepts (已提交 → 已受理).
    Accept,
    /// A school admits (已受理 → 已录取).
    Admit {
        /// The admitting school (the zone school, or another by 统筹安排).
        school: SchoolCode,
    },
    /// The child reported at school (已录取 → 已入学).
    Enrol,
    /// The reviewer refuses before acceptance (→ 不予受理).
    Reject {
        /// Why (required).
        reason: String,
    },
    /// The applicant withdraws (→ 已撤回), possible until enrolment.
    Withdraw,
}

impl EnrolmentEvent {
    fn label(&self) -> &'static str {
        match self {
            EnrolmentEvent::RequestMaterials { .. } => "要求补充材料",
            EnrolmentEvent::Resubmit => "重新提交",
            EnrolmentEvent::Accept => "受理",
            EnrolmentEvent::Admit { .. } => "录取",
            EnrolmentEvent::Enrol => "办理入学",
            EnrolmentEvent::Reject { .. } => "不予受理",
            EnrolmentEvent::Withdraw => "撤回",
        }
    }
}

/// The status after `event`, or why the event is not possible now.
pub fn next_status(
    from: EnrolmentStatus,
    event: &EnrolmentEvent,
) -> Result<EnrolmentStatus, EnrolmentError> {
    use EnrolmentEvent as E;
    use EnrolmentStatus as S;
    let to = match (from, event) {
        (S::Submitted, E::RequestMaterials { missing }) => {
            if missing.is_empty() {
                return Err(EnrolmentError::NothingRequested);
            }
            S::NeedsMaterials
        }
        (S::NeedsMaterials, E::Resubmit) => S::Submitted,
        (S::Submitted, E::Accept) => S::Accepted,
        (S::Accepted, E::Admit { .. }) => S::Admitted,
        (S::Admitted, E::Enrol) => S::Enrolled,
        (S::Submitted | S::NeedsMaterials, E::Reject { reason }) => {
            if crate::text::normalize(reason).is_empty() {
                return Err(EnrolmentError::EmptyReason);
            }
            S::Rejected
        }
        (S::Submitted | S::NeedsMaterials | S::Accepted | S::Admitted, E::Withdraw) => S::Withdrawn,
        _ => {
            return Err(EnrolmentError::InvalidEvent {
                from,
                event: event.label(),
            });
        }
    };
    Ok(to)
}

/// The step of an application's review on the approval flow ([`crate::approval`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReviewStep {
    /// 入学申请审核: the county bureau's review (its zone schools and the city review for it).
    Review,
}

impl crate::approval::StepKind for ReviewStep {
    fn code(self) -> &'static str {
        "review"
    }
    fn label(self) -> &'static str {
        "入学申请审核"
    }
}

/// The review flow of an application of `county`: one step, the county bureau's, within the
/// rules' working-day limit; the parent (public) is the applicant, who resubmits after a return
/// for more material (退回补充材料) and may withdraw. `state`, `step` and `reason` are the stored
/// flow columns.
pub fn review_flow(
    county: RegionCode,
    rules: &Rules,
    state: &str,
    step: usize,
    reason: &str,
) -> crate::approval::Flow<ReviewStep> {
    use crate::approval::{Applicant, Approver, Flow, FlowStatus, Step};
    let mut flow = Flow::new(
        vec![Step {
            kind: ReviewStep::Review,
            approver: Approver::County(county),
            time_limit_working_days: rules.transfer_step_working_days,
        }],
        Applicant::Public,
        true,
    );
    flow.status = FlowStatus::from_stored(state, step, reason);
    flow
}

/// One row of a county's zone table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneEntry {
    /// County.
    pub county: RegionCode,
    /// 街道/乡镇
    pub street: String,
    /// 社区/村; `None` for a row covering the whole street.
    pub community: Option<String>,
    /// Stage (小学 or 初中).
    pub stage: Stage,
    /// The zone school.
    pub school: SchoolCode,
}

type ZoneKey = (RegionCode, Stage, String, String);

/// The zone table: (county, street, community, stage) → schools. A community row wins over the
/// whole-street row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneTable {
    zones: BTreeMap<ZoneKey, Vec<SchoolCode>>,
}

/// Names compare after normalisation and without inner spaces (表格里 "兰山 街道" = "兰山街道").
fn zone_name(s: &str) -> String {
    crate::text::normalize(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

impl ZoneTable {
    /// Builds the table; several schools for one place make a 多校划片 zone.
    pub fn new<I: IntoIterator<Item = ZoneEntry>>(entries: I) -> Result<Self, EnrolmentError> {
        let mut zones: BTreeMap<ZoneKey, Vec<SchoolCode>> = BTreeMap::new();
        for (i, e) in entries.into_iter().enumerate() {
            let street = zone_name(&e.street);
            if street.is_empty() {
                return Err(EnrolmentError::ZoneWithoutStreet { row: i + 1 });
            }
            let community = e.community.as_deref().map(zone_name).unwrap_or_default();
            let v = zones
                .entry((e.county, e.stage, street, community))
                .or_default();
            if !v.contains(&e.school) {
                v.push(e.school);
                v.sort();
            }
        }
        Ok(ZoneTable { zones })
    }

    /// The zone schools for an address (several for 多校划片), or an error naming the address.
    pub fn route(
        &self,
        county: RegionCode,
        street: &str,
        community: Option<&str>,
        stage: Stage,
    ) -> Result<&[SchoolCode], EnrolmentError> {
        let s = zone_name(street);
        let c = community.map(zone_name).unwrap_or_default();
        let hit = (!c.is_empty())
            .then(|| self.zones.get(&(county, stage, s.clone(), c.clone())))
            .flatten()
            .or_else(|| self.zones.get(&(county, stage, s.clone(), String::new())));
        hit.map(Vec::as_slice)
            .ok_or_else(|| EnrolmentError::NoZone {
                place: format!("{}{}{}", county.name(), s, c),
                stage: stage.label(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    const LANSHAN: RegionCode = RegionCode::from_i32(371302);

    #[test]
    fn grade_one_needs_six_full_years_on_31_august() {
        let r = Rules::default();
        assert_eq!(
            check_entry_age(d(2020, 8, 31), 2026, &r),
            Ok(EntryAge::OnTime)
        );
        let e = check_entry_age(d(2020, 9, 1), 2026, &r).unwrap_err();
        assert!(e.to_string().contains("2026-08-31"), "{e}");
        assert!(e.to_string().contains("未满 6 周岁"), "{e}");
        assert_eq!(
            check_entry_age(d(2019, 3, 1), 2026, &r),
            Ok(EntryAge::Late { age: 7 })
        );
        let local = Rules {
            entry_cutoff_month: 9,
            entry_cutoff_day: 1,
            ..Rules::default()
        };
        assert_eq!(
            check_entry_age(d(2020, 9, 1), 2026, &local),
            Ok(EntryAge::OnTime)
        );
    }

    #[test]
    fn migrant_children_need_the_residence_permit_and_proof_of_work() {
        let m = required_materials(ApplicationKind::MigrantChild, Grade::P1);
        let labels: Vec<String> = m.iter().map(Requirement::label).collect();
        assert_eq!(
            labels,
            [
                "户口簿",
                "居住证",
                "务工就业证明",
                "房产证明或租赁合同",
                "出生证明",
                "预防接种证"
            ]
        );
        let junior = required_materials(ApplicationKind::JuniorEntry, Grade::J1);
        assert!(junior.contains(&Requirement::One(Material::PrimaryRecord)));
        assert!(!junior.contains(&Requirement::One(Material::BirthCertificate)));
        use Material::*;
        let provided = [
            HouseholdRegister,
            Lease,
            BirthCertificate,
            VaccinationCertificate,
        ];
        assert!(check_materials(ApplicationKind::PrimaryEntry, Grade::P1, &provided).is_ok());
        let e = check_materials(ApplicationKind::MigrantChild, Grade::P1, &provided).unwrap_err();
        assert_eq!(e.to_string(), "缺少材料：居住证、务工就业证明");
        assert_eq!(Material::parse("户口本"), Ok(HouseholdRegister));
    }

    #[test]
    fn each_kind_asks_for_its_grades() {
        assert!(check_grade(ApplicationKind::PrimaryEntry, Grade::P1).is_ok());
        assert!(check_grade(ApplicationKind::MigrantChild, Grade::J1).is_ok());
        let e = check_grade(ApplicationKind::JuniorEntry, Grade::P1).unwrap_err();
        assert_eq!(e.to_string(), "初中入学只能申请七年级");
    }

    #[test]
    fn the_check_character_is_the_id_number_scheme() {
        // The same MOD 11-2 as the 18-digit ID number's check digit.
        for id in [
            "11010519491231002",
            "44052418800101001",
            "37130220150901001",
        ] {
            assert_eq!(
                mod11_2_check(id.as_bytes()),
                crate::idcard::check_char(id.as_bytes())
            );
        }
    }

    #[test]
    fn application_numbers_round_trip_and_catch_typing_errors() {
        let n = ApplicationNo::new(2026, LANSHAN, 123).unwrap();
        let s = n.to_string();
        assert!(s.starts_with("RX2026-371302-000123-"), "{s}");
        assert_eq!(ApplicationNo::parse(&s), Ok(n));
        // Lower case, no hyphens, full width: the same number.
        let loose = s.replace('-', "").to_lowercase();
        assert_eq!(ApplicationNo::parse(&loose), Ok(n));
        let full_width: String = s
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xfee0).unwrap())
            .collect();
        assert_eq!(ApplicationNo::parse(&full_width), Ok(n));
        // Every single-digit change and every neighbour swap is caught.
        let digits: Vec<u8> = b"2026371302000123".to_vec();
        let check = n.check_char();
        for i in 0..16 {
            for v in b'0'..=b'9' {
                if v == digits[i] {
                    continue;
                }
                let mut t = digits.clone();
                t[i] = v;
                let typed = format!("RX{}{}", String::from_utf8(t).unwrap(), check);
                assert!(ApplicationNo::parse(&typed).is_err(), "{typed}");
            }
            if i + 1 < 16 && digits[i] != digits[i + 1] {
                let mut t = digits.clone();
                t.swap(i, i + 1);
                let typed = format!("RX{}{}", String::from_utf8(t).unwrap(), check);
                let e = ApplicationNo::parse(&typed).unwrap_err();
                assert!(e.to_string().contains("校验位不符"), "{e}");
            }
        }
        assert!(matches!(
            ApplicationNo::parse("RX2026-371302-123"),
            Err(EnrolmentError::BadApplicationNo(_))
        ));
        assert!(ApplicationNo::new(2026, LANSHAN, 0).is_none());
    }

    #[test]
    fn applications_move_through_their_statuses() {
        use EnrolmentEvent as E;
        use EnrolmentStatus as S;
        let ask = E::RequestMaterials {
            missing: vec![Material::ResidencePermit],
        };
        assert_eq!(next_status(S::Submitted, &ask), Ok(S::NeedsMaterials));
        assert_eq!(
            next_status(S::NeedsMaterials, &E::Resubmit),
            Ok(S::Submitted)
        );
        assert_eq!(next_status(S::Submitted, &E::Accept), Ok(S::Accepted));
        let admit = E::Admit {
            school: SchoolCode::parse("2137020001").unwrap(),
        };
        assert_eq!(next_status(S::Accepted, &admit), Ok(S::Admitted));
        assert_eq!(next_status(S::Admitted, &E::Enrol), Ok(S::Enrolled));
        assert!(S::Enrolled.is_final());
        // Not in this order.
        let e = next_status(S::Submitted, &admit).unwrap_err();
        assert_eq!(e.to_string(), "申请状态为“已提交”时不能录取");
        assert!(next_status(S::Enrolled, &E::Withdraw).is_err());
        assert!(next_status(S::Accepted, &E::Reject { reason: "x".into() }).is_err());
        // Refusal needs a reason; a request for materials names them.
        assert_eq!(
            next_status(S::Submitted, &E::Reject { reason: " ".into() }),
            Err(EnrolmentError::EmptyReason)
        );
        assert_eq!(
            next_status(
                S::Submitted,
                &E::Reject {
                    reason: "不属于本学区".into()
                }
            ),
            Ok(S::Rejected)
        );
        assert_eq!(
            next_status(S::Submitted, &E::RequestMaterials { missing: vec![] }),
            Err(EnrolmentError::NothingRequested)
        );
        assert_eq!(next_status(S::Admitted, &E::Withdraw), Ok(S::Withdrawn));
    }

    #[test]
    fn zones_route_by_community_then_street() {
        let a = SchoolCode::parse("2137020001").unwrap();
        let b = SchoolCode::parse("2137020002").unwrap();
        let c = SchoolCode::parse("2137020003").unwrap();
        let row = |street: &str, community: Option<&str>, school: &SchoolCode| ZoneEntry {
            county: LANSHAN,
            street: street.into(),
            community: community.map(Into::into),
            stage: Stage::Primary,
            school: school.clone(),
        };
        let t = ZoneTable::new([
            row("兰山街道", None, &a),
            row("兰山街道", Some("南坊社区"), &b),
            row("银雀山街道", None, &b),
            row("银雀山街道", None, &c),
        ])
        .unwrap();
        assert_eq!(
            t.route(LANSHAN, "兰山街道", Some("南坊社区"), Stage::Primary)
                .unwrap(),
            std::slice::from_ref(&b)
        );
        assert_eq!(
            t.route(LANSHAN, " 兰山 街道", Some("北园社区"), Stage::Primary)
                .unwrap(),
            std::slice::from_ref(&a)
        );
        // 多校划片
        assert_eq!(
            t.route(LANSHAN, "银雀山街道", None, Stage::Primary)
                .unwrap(),
            [b, c]
        );
        let e = t
            .route(LANSHAN, "兰山街道", None, Stage::Junior)
            .unwrap_err();
        assert!(e.to_string().contains("兰山区兰山街道"), "{e}");
        assert!(e.to_string().contains("初中学区"), "{e}");
        let e = ZoneTable::new([row(" ", None, &a)]).unwrap_err();
        assert_eq!(e, EnrolmentError::ZoneWithoutStreet { row: 1 });
    }
}
