//! Classes (班级): a class belongs to a school, a school year and a grade, and has a number.
//! Its size is never stored: it is always derived from the roster.

use crate::{FieldError, Grade, IdCardNo, SchoolCode, SchoolYear, StageSet};
use serde::Serialize;

/// Largest class number accepted.
pub const MAX_CLASS_NO: i32 = 99;

/// A class as validated from a form or a file row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassRecord {
    /// 学校标识码
    pub school_code: SchoolCode,
    /// 学年
    pub year: SchoolYear,
    /// 年级
    pub grade: Grade,
    /// 班号
    pub class_no: i32,
    /// 班级名称 (defaults to the usual form, e.g. 三年级（2）班)
    pub name: String,
    /// 班主任 (head teacher), by ID number
    pub head_teacher: Option<IdCardNo>,
}

/// Parses a class number 1–99.
pub fn parse_class_no(input: &str) -> Result<i32, String> {
    let s = crate::text::normalize(input);
    let s = s
        .trim_end_matches('班')
        .trim_start_matches('(')
        .trim_end_matches(')');
    let n: i32 = s.parse().map_err(|_| "班号应为 1–99 的整数".to_string())?;
    if !(1..=MAX_CLASS_NO).contains(&n) {
        return Err("班号应为 1–99 的整数".into());
    }
    Ok(n)
}

/// The usual display name of a class: 三年级（2）班, 小（1）班.
pub fn default_class_name(grade: Grade, class_no: i32) -> String {
    match grade {
        Grade::K1 => format!("小（{class_no}）班"),
        Grade::K2 => format!("中（{class_no}）班"),
        Grade::K3 => format!("大（{class_no}）班"),
        Grade::KM => format!("混龄（{class_no}）班"),
        g => format!("{}（{class_no}）班", g.label()),
    }
}

/// A class may only be opened in a stage the school has (a 初中 class in a 小学 is refused).
pub fn check_grade_in_school(
    grade: Grade,
    stages: StageSet,
    school_type_label: &str,
) -> Result<(), FieldError> {
    if stages.contains(grade.stage()) {
        Ok(())
    } else {
        Err(FieldError::new(
            "grade",
            grade.label(),
            format!(
                "该校（{school_type_label}，学段：{}）没有{}学段，不能设此年级",
                stages.labels(),
                grade.stage().label()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SchoolType, Stage};

    #[test]
    fn class_numbers_are_between_1_and_99() {
        assert_eq!(parse_class_no("3").unwrap(), 3);
        assert_eq!(parse_class_no("3班").unwrap(), 3);
        assert!(parse_class_no("0").is_err());
        assert!(parse_class_no("一").is_err());
    }

    #[test]
    fn a_junior_class_is_refused_in_a_primary_school() {
        let e = check_grade_in_school(Grade::J1, SchoolType::Primary.default_stages(), "小学")
            .unwrap_err();
        assert!(e.reason.contains("没有初中学段"), "{}", e.reason);
        assert!(
            check_grade_in_school(
                Grade::J1,
                StageSet::of(&[Stage::Primary, Stage::Junior]),
                "九年一贯制学校"
            )
            .is_ok()
        );
    }

    #[test]
    fn default_names_follow_the_usual_form() {
        assert_eq!(default_class_name(Grade::P3, 2), "三年级（2）班");
        assert_eq!(default_class_name(Grade::K1, 1), "小（1）班");
    }
}
