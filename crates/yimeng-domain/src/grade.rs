//! Grades (年级), school years (学年) and the class-size rules (班额).

use crate::code_list;
use crate::school::Stage;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

code_list! {
    /// 年级. Linyi runs the 6-3 system (小学六年, 初中三年).
    pub enum Grade: "年级" {
        /// 小班 (3-year-olds)
        K1 = "K1", "小班", "Nursery (K1)", "幼儿园小班";
        /// 中班
        K2 = "K2", "中班", "Middle (K2)", "幼儿园中班";
        /// 大班
        K3 = "K3", "大班", "Senior (K3)", "幼儿园大班";
        /// 混龄班
        KM = "KM", "混龄班", "Mixed-age class", "混龄";
        /// 一年级
        P1 = "P1", "一年级", "Grade 1", "1年级", "小学一年级";
        /// 二年级
        P2 = "P2", "二年级", "Grade 2", "2年级", "小学二年级";
        /// 三年级
        P3 = "P3", "三年级", "Grade 3", "3年级", "小学三年级";
        /// 四年级
        P4 = "P4", "四年级", "Grade 4", "4年级", "小学四年级";
        /// 五年级
        P5 = "P5", "五年级", "Grade 5", "5年级", "小学五年级";
        /// 六年级
        P6 = "P6", "六年级", "Grade 6", "6年级", "小学六年级";
        /// 七年级 (初一)
        J1 = "J1", "七年级", "Grade 7", "初一", "7年级", "初中一年级";
        /// 八年级 (初二)
        J2 = "J2", "八年级", "Grade 8", "初二", "8年级", "初中二年级";
        /// 九年级 (初三)
        J3 = "J3", "九年级", "Grade 9", "初三", "9年级", "初中三年级";
        /// 高一
        S1 = "S1", "高一", "Senior 1", "高中一年级", "十年级";
        /// 高二
        S2 = "S2", "高二", "Senior 2", "高中二年级", "十一年级";
        /// 高三
        S3 = "S3", "高三", "Senior 3", "高中三年级", "十二年级";
        /// 中职一年级
        V1 = "V1", "中职一年级", "Vocational 1", "职一";
        /// 中职二年级
        V2 = "V2", "中职二年级", "Vocational 2", "职二";
        /// 中职三年级
        V3 = "V3", "中职三年级", "Vocational 3", "职三";
    }
}

impl Grade {
    /// The stage the grade belongs to.
    pub fn stage(self) -> Stage {
        use Grade::*;
        match self {
            K1 | K2 | K3 | KM => Stage::Preschool,
            P1 | P2 | P3 | P4 | P5 | P6 => Stage::Primary,
            J1 | J2 | J3 => Stage::Junior,
            S1 | S2 | S3 => Stage::Senior,
            V1 | V2 | V3 => Stage::Vocational,
        }
    }
    /// The grades of a stage, in order (mixed-age classes excluded).
    pub fn of_stage(stage: Stage) -> &'static [Grade] {
        use Grade::*;
        match stage {
            Stage::Preschool => &[K1, K2, K3],
            Stage::Primary => &[P1, P2, P3, P4, P5, P6],
            Stage::Junior => &[J1, J2, J3],
            Stage::Senior => &[S1, S2, S3],
            Stage::Vocational => &[V1, V2, V3],
        }
    }
    /// Starting grade (起始年级) of its stage: the plan (item 8) caps these classes at 55.
    pub fn is_starting(self) -> bool {
        matches!(
            self,
            Grade::K1 | Grade::P1 | Grade::J1 | Grade::S1 | Grade::V1
        )
    }
    /// Age in full years (周岁) at the entry cut-off for a child in this grade at the usual pace:
    /// 小班 3, 一年级 6, 七年级 12, 高一 15 (义务教育法 art. 11: school at 6 周岁).
    pub fn nominal_age(self) -> i32 {
        use Grade::*;
        match self {
            K1 | KM => 3,
            K2 => 4,
            K3 => 5,
            P1 => 6,
            P2 => 7,
            P3 => 8,
            P4 => 9,
            P5 => 10,
            P6 => 11,
            J1 => 12,
            J2 => 13,
            J3 => 14,
            S1 | V1 => 15,
            S2 | V2 => 16,
            S3 | V3 => 17,
        }
    }
    /// The standard class size of the grade (domain-rules §5): 小学 45, 初中/高中 50 (建标102-2002,
    /// 建标109-2008); kindergarten 小班 25, 中班 30, 大班 35, 混龄 30 (幼儿园工作规程 2016).
    /// Vocational classes follow the senior-secondary 50.
    pub fn standard_class_size(self) -> i64 {
        use Grade::*;
        match self {
            K1 => 25,
            K2 | KM => 30,
            K3 => 35,
            P1 | P2 | P3 | P4 | P5 | P6 => 45,
            _ => 50,
        }
    }
    /// Sort position.
    pub fn ordinal(self) -> usize {
        Grade::ALL.iter().position(|g| *g == self).unwrap_or(0)
    }
}

/// 学年 (school year) identified by the year it starts: 2020 = "2020-2021学年".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SchoolYear(i32);

impl SchoolYear {
    /// From the starting year (no checks; the store holds validated values).
    pub const fn from_start(y: i32) -> Self {
        SchoolYear(y)
    }
    /// The starting year.
    pub fn start(self) -> i32 {
        self.0
    }
    /// The school year containing `date`: a year starts on 1 September.
    pub fn containing(date: NaiveDate) -> Self {
        SchoolYear(if date.month() >= 9 {
            date.year()
        } else {
            date.year() - 1
        })
    }
    /// Parses "2020-2021", "2020—2021学年", "2020学年" or "2020".
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = crate::text::normalize(input);
        let s = s.trim_end_matches("学年").trim();
        let err = || "学年应写作“2020-2021”".to_string();
        let parts: Vec<&str> = s
            .split(['-', '—', '–', '~', '至', '/'])
            .map(str::trim)
            .collect();
        let start: i32 = parts.first().ok_or_else(err)?.parse().map_err(|_| err())?;
        if parts.len() == 2 {
            let end: i32 = parts[1].parse().map_err(|_| err())?;
            if end != start + 1 {
                return Err(format!("学年的结束年应为 {}，实际为 {end}", start + 1));
            }
        } else if parts.len() > 2 {
            return Err(err());
        }
        if !(2000..=2100).contains(&start) {
            return Err(format!("学年 {start} 不在 2000–2100 之间"));
        }
        Ok(SchoolYear(start))
    }
    /// "2020-2021".
    pub fn label(self) -> String {
        format!("{}-{}", self.0, self.0 + 1)
    }
}

impl std::fmt::Display for SchoolYear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.0 + 1)
    }
}

/// 大班额: a class of 56 or more students (国发〔2016〕40号; domain-rules §5). The MOE statistics'
/// "56人以上大班额" includes 超大班额.
pub const BIG_CLASS_MIN: i64 = 56;
/// 超大班额: a class of 66 or more students (国发〔2016〕40号).
pub const HUGE_CLASS_MIN: i64 = 66;
/// The seed plan's cap for starting-grade classes (起始年级每班不超过55人, 2020 plan item 8).
pub const STARTING_GRADE_MAX: i64 = 55;

/// How a class size stands against the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClassSizeBand {
    /// Within the standard size of its grade.
    Standard,
    /// Above the standard size but below 56.
    OverStandard,
    /// 大班额 56–65.
    Big,
    /// 超大班额 ≥ 66.
    Huge,
}

impl ClassSizeBand {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ClassSizeBand::Standard => "达标",
            ClassSizeBand::OverStandard => "超标准班额",
            ClassSizeBand::Big => "大班额",
            ClassSizeBand::Huge => "超大班额",
        }
    }
}

/// Classifies a class of `size` in `grade`.
pub fn class_size_band(grade: Grade, size: i64) -> ClassSizeBand {
    if size >= HUGE_CLASS_MIN {
        ClassSizeBand::Huge
    } else if size >= BIG_CLASS_MIN {
        ClassSizeBand::Big
    } else if size > grade.standard_class_size() {
        ClassSizeBand::OverStandard
    } else {
        ClassSizeBand::Standard
    }
}

/// 大班额 or worse (56+), the plan's "清零" target (item 18).
pub fn is_big_class(size: i64) -> bool {
    size >= BIG_CLASS_MIN
}

/// A starting-grade class above the seed plan's cap of 55.
pub fn breaks_starting_grade_cap(grade: Grade, size: i64) -> bool {
    grade.is_starting() && size > STARTING_GRADE_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_size_bands_follow_the_56_and_66_thresholds() {
        assert_eq!(class_size_band(Grade::P3, 45), ClassSizeBand::Standard);
        assert_eq!(class_size_band(Grade::P3, 46), ClassSizeBand::OverStandard);
        assert_eq!(class_size_band(Grade::J1, 50), ClassSizeBand::Standard);
        assert_eq!(class_size_band(Grade::J1, 55), ClassSizeBand::OverStandard);
        assert_eq!(class_size_band(Grade::J1, 56), ClassSizeBand::Big);
        assert_eq!(class_size_band(Grade::J1, 65), ClassSizeBand::Big);
        assert_eq!(class_size_band(Grade::J1, 66), ClassSizeBand::Huge);
        assert!(breaks_starting_grade_cap(Grade::P1, 56));
        assert!(!breaks_starting_grade_cap(Grade::P1, 55));
        assert!(!breaks_starting_grade_cap(Grade::P2, 58));
    }

    #[test]
    fn grades_parse_in_common_spellings() {
        assert_eq!(Grade::parse("初一").unwrap(), Grade::J1);
        assert_eq!(Grade::parse("七年级").unwrap(), Grade::J1);
        assert_eq!(Grade::parse("高三").unwrap(), Grade::S3);
        assert_eq!(Grade::parse("S3").unwrap(), Grade::S3);
        assert_eq!(Grade::J1.stage(), Stage::Junior);
    }

    #[test]
    fn school_years_parse_and_start_in_september() {
        assert_eq!(SchoolYear::parse("2020-2021").unwrap().start(), 2020);
        assert_eq!(SchoolYear::parse("2020—2021学年").unwrap().start(), 2020);
        assert_eq!(SchoolYear::parse("2020").unwrap().start(), 2020);
        assert!(SchoolYear::parse("2020-2022").unwrap_err().contains("2021"));
        assert_eq!(
            SchoolYear::containing(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap()).start(),
            2020
        );
        assert_eq!(
            SchoolYear::containing(NaiveDate::from_ymd_opt(2021, 9, 1).unwrap()).start(),
            2021
        );
    }
}
