//! 学校指标事实 (school facts): what the registry says about one school that the plan's computed
//! indicators need — its attributes, its class-size counts and its rolls. The store reads them
//! in one pass; the indicator engine sums them to county and city and divides. Keeping the facts
//! per school makes every indicator drillable to the school and comparable with an independent
//! computation over the exported rows.

use crate::grade::Grade;
use crate::school::{LocationClass, Ownership, SchoolType};
use serde::Serialize;

/// 大班额 (large class): 56 students or more (国发〔2016〕40号; domain-rules §5).
pub const BIG_CLASS_MIN: i64 = 56;
/// 超大班额 (very large class): 66 students or more (国发〔2016〕40号; domain-rules §5).
pub const HUGE_CLASS_MIN: i64 = 66;
/// Seed plan item 8: starting-grade classes at most 55 students.
pub const STARTING_CLASS_MAX: i64 = 55;
/// Gigabit fibre (千兆光纤, plan item 24): bandwidth of at least 1000 Mbps.
pub const GIGABIT_MBPS: i64 = 1000;

/// Class-size counts of one class, as the indicator rules classify it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    /// Classes.
    pub classes: i64,
    /// Classes of 56 or more (大班额, including 超大班额).
    pub big: i64,
    /// Classes of 66 or more (超大班额).
    pub huge: i64,
    /// Classes of a starting grade (起始年级: 小班, 一年级, 七年级, 高一, 中职一年级).
    pub starting: i64,
    /// Starting-grade classes above 55 (plan item 8).
    pub starting_over_55: i64,
    /// 小学 and 初中 classes (the 45/50 standards apply).
    pub standard: i64,
    /// 小学 classes above 45 and 初中 classes above 50.
    pub over_standard: i64,
}

impl ClassCounts {
    /// Adds one class of `grade` with `size` students.
    pub fn add_class(&mut self, grade: Grade, size: i64) {
        self.classes += 1;
        if size >= BIG_CLASS_MIN {
            self.big += 1;
        }
        if size >= HUGE_CLASS_MIN {
            self.huge += 1;
        }
        if grade.is_starting() {
            self.starting += 1;
            if size > STARTING_CLASS_MAX {
                self.starting_over_55 += 1;
            }
        }
        if grade.stage().is_compulsory() {
            self.standard += 1;
            if size > grade.standard_class_size() {
                self.over_standard += 1;
            }
        }
    }
    /// Adds another set of counts.
    pub fn add(&mut self, o: &ClassCounts) {
        self.classes += o.classes;
        self.big += o.big;
        self.huge += o.huge;
        self.starting += o.starting;
        self.starting_over_55 += o.starting_over_55;
        self.standard += o.standard;
        self.over_standard += o.over_standard;
    }
}

/// One school's facts.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolFacts {
    /// County code.
    pub county: i32,
    /// School id.
    pub school_id: i64,
    /// 学校标识码.
    pub code: String,
    /// Name.
    pub name: String,
    /// Type.
    pub school_type: SchoolType,
    /// 公办/民办.
    pub ownership: Ownership,
    /// 普惠性 (inclusive private kindergarten).
    pub inclusive: bool,
    /// 城区/镇区/乡村.
    pub location: LocationClass,
    /// 中心校 (central school).
    pub central: bool,
    /// Network bandwidth, Mbps.
    pub bandwidth_mbps: Option<i64>,
    /// 专职保安.
    pub security_guard: bool,
    /// 封闭化管理.
    pub closed_campus: bool,
    /// 一键式报警和视频监控.
    pub alarm_and_video: bool,
    /// 护学岗.
    pub guard_post: bool,
    /// Class-size counts of the current school year's classes.
    pub classes: ClassCounts,
    /// 在园幼儿: preschool-grade students on the register.
    pub kg_roll: i64,
    /// 高一 students on the register (general senior-high intake).
    pub senior_first_year: i64,
    /// 中职一年级 students on the register (vocational intake).
    pub vocational_first_year: i64,
    /// Staff hired in the plan year.
    pub hired_in_year: i64,
    /// 公费师范生 hired in the plan year.
    pub funded_normal_in_year: i64,
}

impl SchoolFacts {
    /// 公办: its roll counts in both kindergarten-coverage numerators (domain-rules §9).
    pub fn is_public(&self) -> bool {
        self.ownership == Ownership::Public
    }
    /// 公办园 or 普惠性民办园 (domain-rules §9).
    pub fn is_inclusive(&self) -> bool {
        self.is_public() || self.inclusive
    }
    /// 中心小学以上学校 (plan item 24): a central primary school or any school with a junior or
    /// senior stage — 初级中学, 九年一贯制, 完全中学, 高级中学, 十二年一贯制 and 中职.
    pub fn is_central_or_above(&self) -> bool {
        match self.school_type {
            SchoolType::Primary => self.central,
            SchoolType::Junior
            | SchoolType::NineYear
            | SchoolType::CompleteMiddle
            | SchoolType::Senior
            | SchoolType::TwelveYear
            | SchoolType::Vocational => true,
            SchoolType::Kindergarten | SchoolType::TeachingPoint | SchoolType::Special => false,
        }
    }
    /// Has gigabit fibre.
    pub fn has_gigabit(&self) -> bool {
        self.bandwidth_mbps.is_some_and(|b| b >= GIGABIT_MBPS)
    }
    /// All four safety measures in place (四个100%).
    pub fn all_four_safety(&self) -> bool {
        self.security_guard && self.closed_campus && self.alarm_and_video && self.guard_post
    }
    /// 农村学校: a school in a 乡村 area (the rural placements of plan item 12).
    pub fn is_rural(&self) -> bool {
        self.location == LocationClass::Rural
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_counts_classify_sizes_by_the_rules_of_domain_rules_5() {
        let mut c = ClassCounts::default();
        c.add_class(Grade::P1, 56); // starting, big, over 45
        c.add_class(Grade::P3, 46); // over 45 only
        c.add_class(Grade::J1, 55); // starting, not over 55, over 50
        c.add_class(Grade::J2, 66); // big and huge
        c.add_class(Grade::S2, 60); // big; not a compulsory class
        assert_eq!(
            c,
            ClassCounts {
                classes: 5,
                big: 3,
                huge: 1,
                starting: 2,
                starting_over_55: 1,
                standard: 4,
                over_standard: 4,
            }
        );
    }
}
