//! 学校指标事实 (school facts): what the registry says about one school that the plan's computed
//! indicators need — its attributes, its class-size counts and its rolls. The store reads them
//! in one pass; the indicator engine sums them to county and city and divides. Keeping the facts
//! per school makes every indicator drillable to the school and comparable with an independent
//! computation over the exported rows.

use crate::grade::Grade;
use crate::plan::{
    in_class_size_school_scope, in_class_size_scope, in_standard_size_scope, is_56_plus,
    is_66_plus, is_central_primary_or_above, is_gigabit, is_inclusive_kindergarten,
    is_over_standard, is_plan_starting_grade, is_rural_placement, is_start_grade_over_cap,
};
use crate::school::{LocationClass, Ownership, SchoolType};
use serde::Serialize;

/// Class-size counts of a school's classes, as the plan's indicator rules classify them
/// (the rules live in [`crate::plan`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    /// 普通中小学 classes (小学, 初中, 普通高中: [`in_class_size_scope`]).
    pub classes: i64,
    /// Of those, classes of 56 or more (大班额, 超大班额 included).
    pub big: i64,
    /// Of those, classes of 66 or more (超大班额).
    pub huge: i64,
    /// Starting-grade classes of plan item 8 (一年级, 七年级, 高一).
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
        if in_class_size_scope(grade) {
            self.classes += 1;
            self.big += i64::from(is_56_plus(size));
            self.huge += i64::from(is_66_plus(size));
        }
        if is_plan_starting_grade(grade) {
            self.starting += 1;
            self.starting_over_55 += i64::from(is_start_grade_over_cap(grade, size));
        }
        if in_standard_size_scope(grade) {
            self.standard += 1;
            self.over_standard += i64::from(is_over_standard(grade, size));
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
    /// 专任教师 recruited in the plan year ([`crate::plan::is_teacher_recruited_in`]).
    pub teachers_recruited: i64,
    /// 公费师范生 hired in the plan year (counted for item 12 when the school is rural in the
    /// plan's sense: [`SchoolFacts::is_rural_placement`]).
    pub funded_normal_hired: i64,
}

impl SchoolFacts {
    /// Adds one of the school's classes of `grade` with `size` students to its class-size counts,
    /// when the school is a 普通中小学 ([`in_class_size_school_scope`]): the classes of a
    /// 特殊教育学校 are in none of the plan's class-size numerators or denominators.
    pub fn add_class(&mut self, grade: Grade, size: i64) {
        if in_class_size_school_scope(self.school_type) {
            self.classes.add_class(grade, size);
        }
    }
    /// 公办: its roll counts in both kindergarten-coverage numerators (domain-rules §9).
    pub fn is_public(&self) -> bool {
        self.ownership == Ownership::Public
    }
    /// 公办园 or 普惠性民办园 (domain-rules §9).
    pub fn is_inclusive(&self) -> bool {
        is_inclusive_kindergarten(self.ownership, self.inclusive)
    }
    /// 中心小学以上学校 (plan item 24).
    pub fn is_central_or_above(&self) -> bool {
        is_central_primary_or_above(self.school_type, self.central)
    }
    /// Has gigabit fibre.
    pub fn has_gigabit(&self) -> bool {
        is_gigabit(self.bandwidth_mbps)
    }
    /// All four safety measures in place (四个100%).
    pub fn all_four_safety(&self) -> bool {
        self.security_guard && self.closed_campus && self.alarm_and_video && self.guard_post
    }
    /// 农村 in the sense of plan item 12.
    pub fn is_rural_placement(&self) -> bool {
        is_rural_placement(self.location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(school_type: SchoolType) -> SchoolFacts {
        SchoolFacts {
            county: 371302,
            school_id: 1,
            code: "3137000001".into(),
            name: "学校".into(),
            school_type,
            ownership: Ownership::Public,
            inclusive: false,
            location: LocationClass::Urban,
            central: false,
            bandwidth_mbps: None,
            security_guard: false,
            closed_campus: false,
            alarm_and_video: false,
            guard_post: false,
            classes: ClassCounts::default(),
            kg_roll: 0,
            senior_first_year: 0,
            vocational_first_year: 0,
            teachers_recruited: 0,
            funded_normal_hired: 0,
        }
    }

    #[test]
    fn classes_of_special_schools_are_outside_the_class_size_counts() {
        let mut special = school(SchoolType::Special);
        special.add_class(Grade::P1, 60);
        special.add_class(Grade::J2, 52);
        assert_eq!(special.classes, ClassCounts::default());
        let mut primary = school(SchoolType::Primary);
        primary.add_class(Grade::P1, 60);
        assert_eq!(primary.classes.classes, 1);
        assert_eq!(primary.classes.big, 1);
        assert_eq!(primary.classes.starting, 1);
        assert_eq!(primary.classes.standard, 1);
    }

    #[test]
    fn class_counts_classify_sizes_by_the_rules_of_domain_rules_5() {
        let mut c = ClassCounts::default();
        c.add_class(Grade::P1, 56); // starting, big, over 45
        c.add_class(Grade::P3, 46); // over 45 only
        c.add_class(Grade::J1, 55); // starting, not over 55, over 50
        c.add_class(Grade::J2, 66); // big and huge
        c.add_class(Grade::S2, 60); // big; not a compulsory class
        c.add_class(Grade::K1, 70); // kindergarten: outside every class-size count
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
