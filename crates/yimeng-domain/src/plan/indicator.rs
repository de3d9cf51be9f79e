//! 指标 (indicators) of a work plan: what is measured, at which levels, in which unit, and where the
//! figure comes from — a [`Computation`] the registry can do now, or a figure reported by a
//! department or the counties until the module that will measure it lands.
//!
//! The membership rules of the computations (which classes, schools, staff and regions count) live
//! here, next to the computation they serve, so the engine that counts over the registry and the page
//! that explains a figure read the same rule.

use crate::code_list;
use crate::grade::{BIG_CLASS_MIN, Grade, HUGE_CLASS_MIN, STARTING_GRADE_MAX};
use crate::region::{Region, RegionKind};
use crate::school::{GIGABIT_MBPS, LocationClass, Ownership, SchoolType, Stage};
use crate::staff::{HireSource, Post};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

code_list! {
    /// 层级 (level at which an indicator is shown).
    pub enum Level: "层级" {
        /// 市 (the whole city)
        City = "city", "市级", "City", "市", "全市";
        /// 县区 (one county, district or development zone)
        County = "county", "县区", "County", "县", "县区级";
        /// 学校
        School = "school", "学校", "School", "校级";
    }
}

code_list! {
    /// 方向 (which way is better).
    pub enum Direction: "指标方向" {
        /// 越高越好: targets use `at_least`.
        HigherBetter = "higher_better", "越高越好", "Higher is better";
        /// 越低越好: targets use `at_most`.
        LowerBetter = "lower_better", "越低越好", "Lower is better";
        /// 越接近目标越好 (e.g. 职普比大体相当): targets use `equal`.
        CloserBetter = "closer_better", "越接近目标越好", "Closer to the target is better";
    }
}

code_list! {
    /// 指标类型 (kind of value): how numerator and denominator become the value.
    pub enum IndicatorKind: "指标类型" {
        /// 计数: the value is the numerator.
        Count = "count", "计数", "Count";
        /// 百分比: numerator ÷ denominator × 100.
        Percent = "percent", "百分比", "Percent";
        /// 比值: numerator ÷ denominator.
        Ratio = "ratio", "比值", "Ratio";
    }
}

impl IndicatorKind {
    /// The value of a measured fraction. Count: the numerator; percent and ratio: `None` when the
    /// denominator is 0 (nothing to measure — shown as “无数据”, never as 0% or 100%).
    /// Computations keep integer numerator and denominator (domain-rules §0); this is the value
    /// that targets and scores compare.
    pub fn value(self, numerator: i64, denominator: i64) -> Option<f64> {
        match self {
            IndicatorKind::Count => Some(numerator as f64),
            _ if denominator == 0 => None,
            IndicatorKind::Percent => Some(numerator as f64 * 100.0 / denominator as f64),
            IndicatorKind::Ratio => Some(numerator as f64 / denominator as f64),
        }
    }
}

code_list! {
    /// 报送方 (who reports a figure or a task's progress).
    pub enum Reporters: "报送方" {
        /// 牵头科室 only
        Lead = "lead", "牵头科室", "Lead department", "牵头科室报送";
        /// 各县区 as well as the lead department (each county reports its own figure)
        Counties = "counties", "各县区", "Every county", "县区", "各县区报送";
    }
}

/// Where an indicator's figure comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// Computed live from the registry.
    Computed {
        /// The computation.
        computation: Computation,
    },
    /// Reported (月调度 monthly dispatch) until the named module measures it.
    Reported {
        /// The operational module that will measure it once it lands, e.g. “教师培训记录”.
        module: String,
        /// Who reports it meanwhile.
        reporter: Reporters,
    },
}

impl Source {
    /// The computation, when computed.
    pub fn computation(&self) -> Option<Computation> {
        match self {
            Source::Computed { computation } => Some(*computation),
            Source::Reported { .. } => None,
        }
    }
}

/// 指标定义 (indicator definition).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorDef {
    /// Stable ASCII code (`big_class_count`), the key of every stored value.
    pub code: String,
    /// 名称 (Chinese), e.g. “56人及以上大班额班级数”.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// 单位: “%”, “个”, “人”, “所”, “比值” …
    pub unit: String,
    /// 计算公式, written for users in Chinese.
    pub formula: String,
    /// The levels at which it is shown (a subset of city, county, school).
    pub levels: Vec<Level>,
    /// Which way is better.
    pub direction: Direction,
    /// Count, percent or ratio.
    pub kind: IndicatorKind,
    /// Computed or reported.
    pub source: Source,
}

impl IndicatorDef {
    /// Shown at this level?
    pub fn has_level(&self, level: Level) -> bool {
        self.levels.contains(&level)
    }
    /// The value with its unit, for reasons and tables: “12 个”, “87.5%”, “1.05”.
    pub fn show(&self, value: f64) -> String {
        format_value(value, &self.unit)
    }
}

/// A number for display: integers without decimals, others with at most two; “%” is attached, other
/// units follow a space; the unit “比值” is not repeated after the number.
pub fn format_value(value: f64, unit: &str) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    let mut n = if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        let s = format!("{rounded:.2}");
        s.trim_end_matches('0').to_string()
    };
    if n == "-0" {
        n = "0".into();
    }
    match unit {
        "%" => format!("{n}%"),
        "" | "比值" => n,
        u => format!("{n} {u}"),
    }
}

code_list! {
    /// 计算方法 (computations the registry can do now). Each yields an integer numerator and
    /// denominator; [`IndicatorKind::value`] turns them into the value. The TOML names one by its
    /// key: `computation = "classes_56_plus_share"`.
    ///
    /// Class sizes are the number of students counted in the class (`StudentStatus::counts_in_class`,
    /// with the local 休学 rule of [`crate::Rules`]) at the statistics date. “普通中小学班级” are the
    /// classes of grades for which [`in_class_size_scope`] holds, at schools for which
    /// [`in_class_size_school_scope`] holds (特殊教育学校 are not 普通中小学).
    pub enum Computation: "计算方法" {
        /// 56人及以上大班额班级数: 普通中小学 classes with size ≥ [`BIG_CLASS_MIN`] (56), 超大班额
        /// included as in the MOE statistics (domain-rules §5; plan item 18 “56人及以上大班额清零”).
        Classes56PlusCount = "classes_56_plus_count", "56人及以上班级数", "Classes of 56 or more";
        /// 56人及以上大班额占比: classes ≥ 56 ÷ 普通中小学 classes × 100%.
        Classes56PlusShare = "classes_56_plus_share", "56人及以上班级占比", "Share of classes of 56 or more";
        /// 超大班额 (huge class) 班级数: classes with size ≥ [`HUGE_CLASS_MIN`] (66) (国发〔2016〕40号).
        Classes66PlusCount = "classes_66_plus_count", "66人及以上班级数", "Classes of 66 or more";
        /// 超大班额占比: classes ≥ 66 ÷ 普通中小学 classes × 100%.
        Classes66PlusShare = "classes_66_plus_share", "66人及以上班级占比", "Share of classes of 66 or more";
        /// 大班额 (large class, 56–65) 占比, 超大班额 excluded: classes of 56–65 ÷ classes × 100%.
        Classes56To65Share = "classes_56_65_share", "56–65人班级占比", "Share of classes of 56 to 65";
        /// 起始年级超55人班级数: classes of 一年级, 七年级 (初一) and 高一 above
        /// [`STARTING_GRADE_MAX`] (55) — plan item 8 “起始年级按照每班不超过55人标准招生”
        /// (domain-rules §5). See [`is_plan_starting_grade`].
        StartGradeOver55Count = "start_grade_over_55_count", "起始年级超55人班级数", "Starting-grade classes above 55";
        /// 超标准班额班级数: 小学 classes above 45 and 初中 classes above 50 (the standard sizes of
        /// [`Grade::standard_class_size`]; plan item 8 “鼓励…小学每班不超过45人、初中每班不超过50人”).
        /// See [`is_over_standard`].
        ClassesOverStandardCount = "classes_over_standard_count", "超标准班额班级数", "Classes above the standard size";
        /// 超标准班额占比: 小学 and 初中 classes over the standard ÷ 小学 and 初中 classes × 100%.
        ClassesOverStandardShare = "classes_over_standard_share", "超标准班额占比", "Share of classes above the standard size";
        /// 学前三年毛入园率 (preschool gross enrolment rate): children on kindergarten rolls (any age,
        /// 附设幼儿班 included) ÷ resident population aged 3–5 周岁 at the statistics date × 100%
        /// (domain-rules §9). The population is the county's reported figure (the registry does
        /// not hold residents); the value is `None` until it is entered.
        PreschoolGrossEnrolment = "preschool_gross_enrolment", "学前三年毛入园率", "Preschool gross enrolment rate";
        /// 普惠性幼儿园覆盖率 (inclusive kindergarten coverage): children in 公办 kindergartens and in
        /// 普惠性民办 kindergartens ÷ all children on kindergarten rolls × 100% (domain-rules §9).
        /// See [`is_inclusive_kindergarten`].
        InclusiveKgCoverage = "inclusive_kg_coverage", "普惠性幼儿园覆盖率", "Inclusive kindergarten coverage";
        /// 公办幼儿园覆盖率 (public kindergarten coverage): children in 公办 kindergartens ÷ all
        /// children on kindergarten rolls × 100% (domain-rules §9).
        PublicKgCoverage = "public_kg_coverage", "公办幼儿园覆盖率", "Public kindergarten coverage";
        /// 新招聘教师数: staff whose post is 专任教师, hired within the plan year, by a recruitment
        /// source (see [`is_recruitment`]) — plan item 12 “新招聘教师不少于3000人”. Everyone who
        /// joined in the year counts, whatever their current status (a recruit who has since left,
        /// moved or retired was still recruited that year). Denominator 1.
        TeachersRecruited = "teachers_recruited", "新招聘教师数", "Teachers recruited";
        /// 补充农村中小学公费师范生数: staff with source 公费师范生, hired within the plan year, at a
        /// school whose location is rural in the plan's sense ([`is_rural_placement`]) — plan
        /// item 12 “做好首届省属公费师范生就业分配，补充农村中小学教师400名”. Denominator 1.
        RuralFundedNormalPlaced = "rural_funded_normal_placed", "农村学校公费师范生补充数", "Funded normal graduates placed in rural schools";
        /// 职普比 (vocational : general ratio): students on the register in 中职一年级 ÷ students on
        /// the register in 高一 (this year's intake of each track; plan item 20 “职普比大体相当”).
        VocationalGeneralRatio = "vocational_general_ratio", "职普比", "Vocational to general senior-secondary ratio";
        /// 有特殊教育学校的县区占比: county-level units with at least one school of type 特殊教育学校
        /// ÷ county-level units × 100% (plan item 22 “每个县区有1所特殊教育学校”). The units are
        /// those of [`counts_for_special_school_coverage`]; for one county the value is 0 or 100.
        CountiesWithSpecialSchool = "counties_with_special_school", "有特殊教育学校的县区占比", "Counties with a special-education school";
        /// 中心小学以上学校千兆接入率: schools of [`is_central_primary_or_above`] with 出口带宽 ≥
        /// [`GIGABIT_MBPS`] ÷ such schools × 100% (plan item 24 “中心小学以上学校千兆光纤接入校园”).
        GigabitCentralAndAboveShare = "gigabit_central_and_above_share", "中心小学以上学校千兆接入率", "Gigabit access at central primary schools and above";
        /// 专职保安配备率: schools with 专职保安 ÷ schools × 100% (plan item 30, first of the “四个100%”;
        /// every school and kindergarten on the register counts, see [`in_safety_scope`]).
        SafetyGuardShare = "safety_guard_share", "专职保安配备率", "Schools with full-time guards";
        /// 封闭化管理率: schools under closed-campus management ÷ schools × 100% (item 30).
        ClosedCampusShare = "closed_campus_share", "封闭化管理率", "Closed-campus schools";
        /// 一键式报警和视频监控建设率: schools with one-key alarm and video surveillance ÷ schools × 100% (item 30).
        AlarmVideoShare = "alarm_video_share", "一键式报警和视频监控建设率", "Schools with one-key alarm and video";
        /// “护学岗”设置率: schools with a school-gate duty post ÷ schools × 100% (item 30).
        GuardPostShare = "guard_post_share", "护学岗设置率", "Schools with a gate duty post";
        /// “四个100%”全部达标率: schools meeting all four measures ÷ schools × 100% (item 30).
        SafetyAllFourShare = "safety_all_four_share", "安保四个100%达标率", "Schools meeting all four safety measures";
    }
}

impl Computation {
    /// The stable key used in plan files (same as [`Computation::code`]).
    pub fn key(self) -> &'static str {
        self.code()
    }
    /// The kind of value this computation yields; an indicator bound to it must have this kind.
    pub fn kind(self) -> IndicatorKind {
        use Computation::*;
        match self {
            Classes56PlusCount
            | Classes66PlusCount
            | StartGradeOver55Count
            | ClassesOverStandardCount
            | TeachersRecruited
            | RuralFundedNormalPlaced => IndicatorKind::Count,
            VocationalGeneralRatio => IndicatorKind::Ratio,
            _ => IndicatorKind::Percent,
        }
    }
    /// The levels at which the computation makes sense (a per-county share of counties with a
    /// special school is 0 or 100 and has no school level; the preschool population exists only
    /// for the city and counties).
    pub fn levels(self) -> &'static [Level] {
        use Computation::*;
        match self {
            CountiesWithSpecialSchool
            | PreschoolGrossEnrolment
            | TeachersRecruited
            | RuralFundedNormalPlaced
            | VocationalGeneralRatio => &[Level::City, Level::County],
            _ => &[Level::City, Level::County, Level::School],
        }
    }
}

/// 普通中小学班级: the classes that the class-size computations count — 小学, 初中 and 普通高中 grades
/// (the seed says “普通中小学”; kindergarten and 中职 classes have their own standards).
pub fn in_class_size_scope(grade: Grade) -> bool {
    matches!(
        grade.stage(),
        Stage::Primary | Stage::Junior | Stage::Senior
    )
}

/// 普通中小学 (ordinary primary and secondary schools), the schools whose classes the class-size
/// computations count: every school type except 特殊教育学校, whose classes follow the special
/// education class-size standards (教基〔2007〕 特殊教育学校建设标准), not the 45/50/55/56/66 of the
/// plan. Kindergartens and 中职 schools are left out by grade ([`in_class_size_scope`]).
pub fn in_class_size_school_scope(school_type: SchoolType) -> bool {
    school_type != SchoolType::Special
}

/// 起始年级 in the sense of plan item 8 (“普通中小学起始年级”): 一年级, 七年级 (初一) and 高一.
/// Unlike [`Grade::is_starting`] it leaves out 小班 and 中职一年级, which item 8 does not cover.
pub fn is_plan_starting_grade(grade: Grade) -> bool {
    grade.is_starting() && in_class_size_scope(grade)
}

/// A starting-grade class above the item-8 cap of 55 (see [`crate::grade::breaks_starting_grade_cap`]).
pub fn is_start_grade_over_cap(grade: Grade, size: i64) -> bool {
    is_plan_starting_grade(grade) && size > STARTING_GRADE_MAX
}

/// Counted by the over-standard computations: 小学 and 初中 classes only (item 8 names these two).
pub fn in_standard_size_scope(grade: Grade) -> bool {
    matches!(grade.stage(), Stage::Primary | Stage::Junior)
}

/// 超标准班额: a 小学 class above 45 or an 初中 class above 50 ([`Grade::standard_class_size`]).
pub fn is_over_standard(grade: Grade, size: i64) -> bool {
    in_standard_size_scope(grade) && size > grade.standard_class_size()
}

/// 56+ (大班额 including 超大班额), for a class counted by [`in_class_size_scope`].
pub fn is_56_plus(size: i64) -> bool {
    size >= BIG_CLASS_MIN
}

/// 56–65 (大班额 without 超大班额).
pub fn is_56_to_65(size: i64) -> bool {
    (BIG_CLASS_MIN..HUGE_CLASS_MIN).contains(&size)
}

/// 66+ (超大班额).
pub fn is_66_plus(size: i64) -> bool {
    size >= HUGE_CLASS_MIN
}

/// 中心小学以上学校 (central primary schools and above), plan item 24: a 小学 marked 中心校, and every
/// 初级中学, 九年一贯制学校, 完全中学, 高级中学 and 十二年一贯制学校. Teaching points, ordinary village
/// primary schools, kindergartens, 中职 and special schools are outside the phrase, which ranks the
/// primary–secondary ladder.
pub fn is_central_primary_or_above(school_type: SchoolType, central: bool) -> bool {
    match school_type {
        SchoolType::Primary => central,
        SchoolType::Junior
        | SchoolType::NineYear
        | SchoolType::CompleteMiddle
        | SchoolType::Senior
        | SchoolType::TwelveYear => true,
        SchoolType::Kindergarten
        | SchoolType::TeachingPoint
        | SchoolType::Vocational
        | SchoolType::Special => false,
    }
}

/// 千兆接入: 出口带宽 at least [`GIGABIT_MBPS`]; an unknown bandwidth is not gigabit.
pub fn is_gigabit(bandwidth_mbps: Option<i64>) -> bool {
    bandwidth_mbps.is_some_and(|b| b >= GIGABIT_MBPS)
}

/// Schools counted by the “四个100%” computations (item 30 “中小学（幼儿园）”): every school and
/// kindergarten on the register, of any type.
pub fn in_safety_scope(_school_type: SchoolType) -> bool {
    true
}

/// 普惠性幼儿园: a 公办 kindergarten, or a 民办 one recognised as 普惠性 (domain-rules §9).
pub fn is_inclusive_kindergarten(ownership: Ownership, inclusive: bool) -> bool {
    ownership == Ownership::Public || inclusive
}

/// The locations that count as 农村 for item 12 (“补充农村中小学教师400名”): 镇区 and 乡村.
///
/// Why both: the seed's 农村 is the policy word for schools “在乡镇及以下”, which in the current
/// urban–rural classification is 镇区 (township seats) plus 乡村; the 公费师范生 are placed in
/// 乡镇及以下 schools of their home county. 城区 (including a county town that is 城区) is excluded.
/// (The `LocationClass` code list accepts “农村” as an alias of 乡村 when parsing a typed cell;
/// that is about reading a spreadsheet, not about this indicator.) Change this one constant if the
/// bureau decides otherwise.
pub const RURAL_PLACEMENT_LOCATIONS: &[LocationClass] =
    &[LocationClass::Town, LocationClass::Rural];

/// A school location that counts as 农村 for item 12 (see [`RURAL_PLACEMENT_LOCATIONS`]).
pub fn is_rural_placement(location: LocationClass) -> bool {
    RURAL_PLACEMENT_LOCATIONS.contains(&location)
}

/// 新招聘 (a new recruit), item 12: hired through 公开招聘, as a 公费师范生, a 特岗教师 or by 人才引进.
/// 调入 (transfer from another employer), 军转安置 and 其他 are not recruitment, and an unknown
/// source is not counted (the school fills it in).
pub fn is_recruitment(source: Option<HireSource>) -> bool {
    matches!(
        source,
        Some(
            HireSource::OpenRecruitment
                | HireSource::FundedNormal
                | HireSource::SpecialPost
                | HireSource::Talent
        )
    )
}

/// Counted by [`Computation::TeachersRecruited`]: a 专任教师 recruited within the plan year, whatever
/// the status now (the plan counts everyone who joined in the year, not only those still in post).
pub fn is_teacher_recruited_in(
    post: Post,
    source: Option<HireSource>,
    hire_date: Option<NaiveDate>,
    year: i32,
) -> bool {
    post == Post::Teacher && is_recruitment(source) && hire_date.is_some_and(|d| d.year() == year)
}

/// Counted by [`Computation::RuralFundedNormalPlaced`]: a 公费师范生 hired within the plan year at a
/// rural school in the sense of [`is_rural_placement`].
pub fn is_rural_funded_normal_in(
    source: Option<HireSource>,
    hire_date: Option<NaiveDate>,
    location: LocationClass,
    year: i32,
) -> bool {
    source == Some(HireSource::FundedNormal)
        && hire_date.is_some_and(|d| d.year() == year)
        && is_rural_placement(location)
}

/// The units counted by [`Computation::CountiesWithSpecialSchool`]: “每个县区” are the 12 counties
/// and districts of GB/T 2260; development zones (功能区) are reporting units without the duty to
/// run a special school and are left out.
pub fn counts_for_special_school_coverage(region: &Region) -> bool {
    region.in_gb2260 && region.kind != RegionKind::City
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::LINYI_UNITS;

    #[test]
    fn values_follow_the_kind_and_an_empty_denominator_gives_no_value() {
        assert_eq!(IndicatorKind::Count.value(12, 0), Some(12.0));
        assert_eq!(IndicatorKind::Percent.value(1, 4), Some(25.0));
        assert_eq!(IndicatorKind::Ratio.value(3, 2), Some(1.5));
        assert_eq!(IndicatorKind::Percent.value(0, 0), None);
    }

    #[test]
    fn values_are_shown_with_their_unit() {
        assert_eq!(format_value(12.0, "个"), "12 个");
        assert_eq!(format_value(87.456, "%"), "87.46%");
        assert_eq!(format_value(1.1, "比值"), "1.1");
        assert_eq!(format_value(-0.001, "个"), "0 个");
    }

    #[test]
    fn computation_keys_round_trip_and_kinds_match_their_names() {
        for c in Computation::ALL {
            assert_eq!(Computation::from_code(c.key()), Some(*c));
            let key = c.key();
            let expected = if key.ends_with("_count")
                || key == "teachers_recruited"
                || key == "rural_funded_normal_placed"
            {
                IndicatorKind::Count
            } else if key.ends_with("_ratio") {
                IndicatorKind::Ratio
            } else {
                IndicatorKind::Percent
            };
            assert_eq!(c.kind(), expected, "{key}");
        }
        assert_eq!(Computation::ALL.len(), 21);
    }

    #[test]
    fn starting_grades_of_item_8_are_grade_1_grade_7_and_senior_1() {
        let starting: Vec<Grade> = Grade::ALL
            .iter()
            .copied()
            .filter(|g| is_plan_starting_grade(*g))
            .collect();
        assert_eq!(starting, vec![Grade::P1, Grade::J1, Grade::S1]);
        assert!(is_start_grade_over_cap(Grade::J1, 56));
        assert!(!is_start_grade_over_cap(Grade::J1, 55));
        assert!(!is_start_grade_over_cap(Grade::V1, 60));
    }

    #[test]
    fn over_standard_means_primary_above_45_and_junior_above_50() {
        assert!(is_over_standard(Grade::P4, 46));
        assert!(!is_over_standard(Grade::P4, 45));
        assert!(!is_over_standard(Grade::J2, 50));
        assert!(is_over_standard(Grade::J2, 51));
        assert!(!is_over_standard(Grade::S1, 54));
        assert!(!is_over_standard(Grade::K3, 40));
    }

    #[test]
    fn class_bands_split_at_56_and_66() {
        assert!(!is_56_plus(55) && is_56_plus(56) && is_56_plus(70));
        assert!(is_56_to_65(65) && !is_56_to_65(66));
        assert!(is_66_plus(66) && !is_66_plus(65));
    }

    #[test]
    fn central_primary_schools_and_above_exclude_village_primaries_and_teaching_points() {
        assert!(is_central_primary_or_above(SchoolType::Primary, true));
        assert!(!is_central_primary_or_above(SchoolType::Primary, false));
        assert!(!is_central_primary_or_above(
            SchoolType::TeachingPoint,
            true
        ));
        assert!(is_central_primary_or_above(SchoolType::NineYear, false));
        assert!(!is_central_primary_or_above(SchoolType::Kindergarten, true));
        assert!(is_gigabit(Some(1000)) && !is_gigabit(Some(500)) && !is_gigabit(None));
    }

    #[test]
    fn recruits_are_new_teachers_of_the_plan_year_and_rural_means_town_or_village() {
        let d = NaiveDate::from_ymd_opt(2020, 8, 20);
        assert!(is_teacher_recruited_in(
            Post::Teacher,
            Some(HireSource::OpenRecruitment),
            d,
            2020
        ));
        assert!(!is_teacher_recruited_in(
            Post::Teacher,
            Some(HireSource::TransferIn),
            d,
            2020
        ));
        assert!(!is_teacher_recruited_in(
            Post::Admin,
            Some(HireSource::OpenRecruitment),
            d,
            2020
        ));
        assert!(!is_teacher_recruited_in(
            Post::Teacher,
            Some(HireSource::OpenRecruitment),
            d,
            2019
        ));
        assert!(is_rural_funded_normal_in(
            Some(HireSource::FundedNormal),
            d,
            LocationClass::Town,
            2020
        ));
        assert!(!is_rural_funded_normal_in(
            Some(HireSource::FundedNormal),
            d,
            LocationClass::Urban,
            2020
        ));
    }

    #[test]
    fn special_school_coverage_counts_the_twelve_counties_and_districts() {
        assert_eq!(
            LINYI_UNITS
                .iter()
                .filter(|r| counts_for_special_school_coverage(r))
                .count(),
            12
        );
        assert!(is_inclusive_kindergarten(Ownership::Public, false));
        assert!(is_inclusive_kindergarten(Ownership::Private, true));
        assert!(!is_inclusive_kindergarten(Ownership::Private, false));
    }

    #[test]
    fn class_size_indicators_count_ordinary_schools_and_leave_special_schools_out() {
        assert!(!in_class_size_school_scope(SchoolType::Special));
        for t in SchoolType::ALL
            .iter()
            .filter(|t| **t != SchoolType::Special)
        {
            assert!(in_class_size_school_scope(*t), "{t:?}");
        }
    }
}
