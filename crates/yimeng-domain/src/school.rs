//! Schools: the 10-digit 学校标识码, school types (学校类别), stages (学段), ownership (办学性质),
//! location class (城乡分类) and the facility fields the plan and balance indicators need.

use crate::code_list;
use serde::{Deserialize, Serialize};

/// 学校标识码 (school identifier): 10 digits, issued by the MOE and nationally unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SchoolCode(String);

impl SchoolCode {
    /// Parses a 10-digit identifier.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = crate::text::normalize(input);
        if s.is_empty() {
            return Err("不能为空".into());
        }
        if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "学校标识码应为 10 位数字，实际为“{}”",
                crate::text::preview(&s, 20)
            ));
        }
        Ok(SchoolCode(s.into_owned()))
    }
    /// Wraps a stored value.
    pub fn from_stored(s: String) -> Self {
        SchoolCode(s)
    }
    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for SchoolCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        SchoolCode::parse(&s)
    }
}
impl From<SchoolCode> for String {
    fn from(v: SchoolCode) -> String {
        v.0
    }
}
impl std::fmt::Display for SchoolCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

code_list! {
    /// 学段 (stage of education). A school may have several (a 九年一贯制学校 has a 小学部 and an 初中部).
    pub enum Stage: "学段" {
        /// 学前教育
        Preschool = "preschool", "学前", "Preschool", "学前教育", "幼儿园", "学前部";
        /// 小学
        Primary = "primary", "小学", "Primary", "小学部";
        /// 初中
        Junior = "junior", "初中", "Junior secondary", "初中部", "初级中学";
        /// 普通高中
        Senior = "senior", "高中", "Senior secondary", "高中部", "普通高中";
        /// 中等职业教育
        Vocational = "vocational", "中职", "Vocational", "中等职业教育", "职业高中";
    }
}

impl Stage {
    /// Compulsory education (义务教育): 小学 and 初中. Schools may not expel in these stages
    /// (义务教育法 art. 27).
    pub fn is_compulsory(self) -> bool {
        matches!(self, Stage::Primary | Stage::Junior)
    }
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of stages, stored as comma-separated codes (`primary,junior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct StageSet(u8);

impl StageSet {
    /// The empty set.
    pub const EMPTY: StageSet = StageSet(0);
    /// Builds a set.
    pub fn of(stages: &[Stage]) -> StageSet {
        StageSet(stages.iter().fold(0, |a, s| a | s.bit()))
    }
    /// Membership.
    pub fn contains(self, s: Stage) -> bool {
        self.0 & s.bit() != 0
    }
    /// True when `self ⊆ other`.
    pub fn is_subset(self, other: StageSet) -> bool {
        self.0 & !other.0 == 0
    }
    /// Empty?
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The stages in order.
    pub fn iter(self) -> impl Iterator<Item = Stage> {
        Stage::ALL
            .iter()
            .copied()
            .filter(move |s| self.contains(*s))
    }
    /// Storage form.
    pub fn codes(self) -> String {
        self.iter().map(Stage::code).collect::<Vec<_>>().join(",")
    }
    /// Display form: 小学、初中.
    pub fn labels(self) -> String {
        self.iter().map(Stage::label).collect::<Vec<_>>().join("、")
    }
    /// Reads the storage form.
    pub fn from_codes(s: &str) -> StageSet {
        StageSet::of(
            &s.split(',')
                .filter_map(Stage::from_code)
                .collect::<Vec<_>>(),
        )
    }
    /// Parses what a person typed: labels or codes separated by 、 , ， ; or spaces.
    pub fn parse(input: &str) -> Result<StageSet, String> {
        let mut set = StageSet::EMPTY;
        for part in input
            .split(['、', ',', '，', ';', '；', ' ', '/'])
            .filter(|p| !p.trim().is_empty())
        {
            set.0 |= Stage::parse(part)?.bit();
        }
        Ok(set)
    }
}

code_list! {
    /// 学校类别 (school type), as in the national education statistics.
    pub enum SchoolType: "学校类别" {
        /// 幼儿园
        Kindergarten = "kindergarten", "幼儿园", "Kindergarten";
        /// 小学
        Primary = "primary", "小学", "Primary school";
        /// 小学教学点 (a small rural teaching point attached to a central school)
        TeachingPoint = "teaching_point", "教学点", "Teaching point", "小学教学点";
        /// 初级中学
        Junior = "junior", "初级中学", "Junior secondary school", "初中";
        /// 九年一贯制学校
        NineYear = "nine_year", "九年一贯制学校", "Nine-year school", "九年一贯制";
        /// 完全中学 (junior + senior)
        CompleteMiddle = "complete_middle", "完全中学", "Complete secondary school";
        /// 高级中学
        Senior = "senior", "高级中学", "Senior secondary school", "高中", "普通高中";
        /// 十二年一贯制学校
        TwelveYear = "twelve_year", "十二年一贯制学校", "Twelve-year school", "十二年一贯制";
        /// 中等职业学校
        Vocational = "vocational", "中等职业学校", "Secondary vocational school", "中职", "职业中专", "职业高中";
        /// 特殊教育学校
        Special = "special", "特殊教育学校", "Special education school", "特教学校", "特殊教育";
    }
}

impl serde::Serialize for StageSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.codes())
    }
}

impl SchoolType {
    /// The stages a school of this type has unless the file says otherwise.
    pub fn default_stages(self) -> StageSet {
        use Stage::*;
        match self {
            SchoolType::Kindergarten => StageSet::of(&[Preschool]),
            SchoolType::Primary | SchoolType::TeachingPoint => StageSet::of(&[Primary]),
            SchoolType::Junior => StageSet::of(&[Junior]),
            SchoolType::NineYear => StageSet::of(&[Primary, Junior]),
            SchoolType::CompleteMiddle => StageSet::of(&[Junior, Senior]),
            SchoolType::Senior => StageSet::of(&[Senior]),
            SchoolType::TwelveYear => StageSet::of(&[Primary, Junior, Senior]),
            SchoolType::Vocational => StageSet::of(&[Vocational]),
            SchoolType::Special => StageSet::of(&[Primary, Junior]),
        }
    }
    /// The stages a school of this type may have: its own, plus an attached preschool class
    /// (附设幼儿班) for schools with a primary stage; special schools may run every stage.
    pub fn allowed_stages(self) -> StageSet {
        use Stage::*;
        let d = self.default_stages();
        match self {
            SchoolType::Special => StageSet::of(&[Preschool, Primary, Junior, Senior, Vocational]),
            _ if d.contains(Primary) => StageSet(d.0 | Preschool.bit()),
            _ => d,
        }
    }
    /// True for a kindergarten.
    pub fn is_kindergarten(self) -> bool {
        self == SchoolType::Kindergarten
    }
}

code_list! {
    /// 办学性质 (ownership).
    pub enum Ownership: "办学性质" {
        /// 公办
        Public = "public", "公办", "Public", "公立";
        /// 民办
        Private = "private", "民办", "Private", "私立";
    }
}

code_list! {
    /// 城乡分类 (location class of the statistics' urban–rural division), collapsed to three classes.
    pub enum LocationClass: "城乡分类" {
        /// 城区
        Urban = "urban", "城区", "Urban", "主城区", "城乡结合区";
        /// 镇区
        Town = "town", "镇区", "Town", "镇中心区", "镇乡结合区";
        /// 乡村
        Rural = "rural", "乡村", "Rural", "农村", "乡中心区", "村庄";
    }
}

/// The facility fields used by the plan (items 24, 30) and the balance indicators (domain-rules §7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facilities {
    /// 教学及辅助用房面积 (m²)
    pub building_area: Option<i64>,
    /// 体育运动场馆面积 (m²)
    pub sports_area: Option<i64>,
    /// 教学仪器设备值 (fen; shown in 元)
    pub equipment_value_fen: Option<i64>,
    /// 图书 (volumes)
    pub books: Option<i64>,
    /// 计算机 (units)
    pub computers: Option<i64>,
    /// 网络多媒体教室 (rooms)
    pub multimedia_rooms: Option<i64>,
    /// 出口带宽 (Mbps); ≥ 1000 is 千兆.
    pub bandwidth_mbps: Option<i64>,
    /// IPv6 enabled
    pub ipv6: bool,
    /// 专职保安 (safety measure 1 of the "four 100%", plan item 30)
    pub security_guard: bool,
    /// 封闭化管理
    pub closed_campus: bool,
    /// 一键式报警和视频监控
    pub alarm_and_video: bool,
    /// 护学岗
    pub guard_post: bool,
}

/// Gigabit access: the plan (item 24) asks for 千兆光纤 at central primary schools and above.
pub const GIGABIT_MBPS: i64 = 1000;

/// A school as validated from a form or a file row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchoolRecord {
    /// 学校标识码
    pub code: SchoolCode,
    /// 学校名称
    pub name: String,
    /// 所属县区
    pub county: crate::RegionCode,
    /// 学校类别
    pub school_type: SchoolType,
    /// 学段
    pub stages: StageSet,
    /// 办学性质
    pub ownership: Ownership,
    /// 普惠性 (private kindergartens recognised as inclusive)
    pub inclusive: bool,
    /// 城乡分类
    pub location: LocationClass,
    /// 中心校 (township central school / kindergarten)
    pub central: bool,
    /// 核定学位数 (capacity)
    pub capacity: Option<i64>,
    /// 地址
    pub address: String,
    /// 设施
    pub facilities: Facilities,
}

impl SchoolRecord {
    /// Cross-field rules: the stages fit the type; only kindergartens carry the 普惠性 flag.
    pub fn check(&self) -> Vec<crate::FieldError> {
        let mut errs = Vec::new();
        if self.stages.is_empty() {
            errs.push(crate::FieldError::new("stages", "", "学段不能为空"));
        } else if !self.stages.is_subset(self.school_type.allowed_stages()) {
            errs.push(crate::FieldError::new(
                "stages",
                &self.stages.labels(),
                format!(
                    "{}不能设有这些学段（可设：{}）",
                    self.school_type.label(),
                    self.school_type.allowed_stages().labels()
                ),
            ));
        }
        if self.inclusive && !self.school_type.is_kindergarten() {
            errs.push(crate::FieldError::new(
                "inclusive",
                "是",
                "普惠性标记只适用于幼儿园",
            ));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nine_year_school_has_a_primary_and_a_junior_section() {
        let s = SchoolType::NineYear.default_stages();
        assert!(
            s.contains(Stage::Primary) && s.contains(Stage::Junior) && !s.contains(Stage::Senior)
        );
        assert_eq!(s.codes(), "primary,junior");
        assert_eq!(StageSet::from_codes("primary,junior"), s);
    }

    #[test]
    fn stage_lists_parse_with_chinese_separators() {
        assert_eq!(
            StageSet::parse("小学、初中").unwrap(),
            SchoolType::NineYear.default_stages()
        );
        assert!(StageSet::parse("小学、大学").is_err());
    }

    #[test]
    fn primary_schools_may_run_an_attached_preschool_class_but_not_a_senior_section() {
        let allowed = SchoolType::Primary.allowed_stages();
        assert!(allowed.contains(Stage::Preschool));
        assert!(!allowed.contains(Stage::Senior));
        assert!(
            !SchoolType::Senior
                .allowed_stages()
                .contains(Stage::Preschool)
        );
    }

    #[test]
    fn school_codes_are_ten_digits() {
        assert!(SchoolCode::parse("2137020001").is_ok());
        assert!(SchoolCode::parse("213702000").is_err());
        assert!(SchoolCode::parse("21370200A1").is_err());
    }
}
