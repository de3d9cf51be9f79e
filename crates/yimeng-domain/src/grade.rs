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

/// The answer of [`gate_placement`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Gate {
    /// Within the standard size.
    Allowed,
    /// Allowed, but above the standard size: show the message and let the user confirm.
    Warn {
        /// Chinese message.
        message: String,
    },
    /// Not allowed.
    Refused {
        /// Chinese message.
        message: String,
    },
    /// Would be refused, but a county bureau overrode it with a written reason; the caller records
    /// the override (who, when, why) with the placement.
    Overridden {
        /// The refusal that was overridden.
        message: String,
        /// The bureau's reason.
        reason: String,
    },
}

/// A county bureau's written decision to place students beyond the class-size limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountyOverride {
    /// The bureau.
    pub county: crate::RegionCode,
    /// Why (must not be empty).
    pub reason: String,
}

/// Gate for placing `adding` students into a class of `grade` that has `current_size` students
/// (domain-rules §5, thresholds from [`crate::Rules`]):
/// - **refused** when the class would reach [`crate::Rules::class_refuse_at`] (56, 大班额), or when a
///   starting grade (起始年级: 小班, 一年级, 七年级, 高一, 中职一年级 — [`Grade::is_starting`]) would
///   exceed [`crate::Rules::starting_class_max`] (55, 2020 plan item 8);
/// - **warned** above the standard size: [`crate::Rules::class_warn_above_primary`] (45) for 小学,
///   [`crate::Rules::class_warn_above_secondary`] (50) for 初中, 高中 and 中职; kindergarten classes
///   use their own standard (小班 25, 中班 30, 大班 35, 混龄 30; [`Grade::standard_class_size`]).
///
/// Kindergarten 小班 counts as a starting grade, as in [`Grade::is_starting`]; with the default
/// limits that changes nothing (55 < 56), it only matters if a bureau configures other values.
/// A county override with a non-empty reason turns a refusal into [`Gate::Overridden`]; a warning
/// needs no override. Adding nobody is always allowed.
pub fn gate_placement(
    grade: Grade,
    current_size: u32,
    adding: u32,
    rules: &crate::Rules,
    county_override: Option<&CountyOverride>,
) -> Gate {
    if adding == 0 {
        return Gate::Allowed;
    }
    let new = current_size.saturating_add(adding);
    let big = new >= rules.class_refuse_at;
    let refusal = if grade.is_starting() && new > rules.starting_class_max {
        Some(format!(
            "编入后该班将有 {new} 人{}，{}为起始年级，每班不得超过 {} 人，不能编入",
            if big { "（大班额）" } else { "" },
            grade.label(),
            rules.starting_class_max
        ))
    } else if big {
        Some(format!(
            "编入后该班将有 {new} 人，达到 {} 人及以上（大班额），不能编入",
            rules.class_refuse_at
        ))
    } else {
        None
    };
    if let Some(message) = refusal {
        return match county_override {
            Some(o) if !crate::text::normalize(&o.reason).is_empty() => Gate::Overridden {
                message,
                reason: crate::text::normalize(&o.reason).into_owned(),
            },
            _ => Gate::Refused { message },
        };
    }
    let standard = match grade.stage() {
        Stage::Preschool => grade.standard_class_size() as u32,
        Stage::Primary => rules.class_warn_above_primary,
        Stage::Junior | Stage::Senior | Stage::Vocational => rules.class_warn_above_secondary,
    };
    if new > standard {
        Gate::Warn {
            message: format!(
                "编入后该班将有 {new} 人，超过{}标准班额 {standard} 人",
                grade.stage().label()
            ),
        }
    } else {
        Gate::Allowed
    }
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
    fn the_class_size_gate_warns_above_the_standard_and_refuses_at_56() {
        let r = crate::Rules::default();
        assert_eq!(gate_placement(Grade::P3, 44, 1, &r, None), Gate::Allowed);
        let w = gate_placement(Grade::P3, 45, 1, &r, None);
        assert!(
            matches!(&w, Gate::Warn { message } if message.contains("小学标准班额 45")),
            "{w:?}"
        );
        assert_eq!(gate_placement(Grade::J2, 50, 0, &r, None), Gate::Allowed);
        assert!(matches!(
            gate_placement(Grade::J2, 50, 1, &r, None),
            Gate::Warn { .. }
        ));
        assert_eq!(gate_placement(Grade::J2, 49, 1, &r, None), Gate::Allowed);
        // Non-starting grades may hold 55; 56 is 大班额.
        assert!(matches!(
            gate_placement(Grade::P3, 54, 1, &r, None),
            Gate::Warn { .. }
        ));
        let e = gate_placement(Grade::P3, 55, 1, &r, None);
        assert!(
            matches!(&e, Gate::Refused { message } if message.contains("大班额")),
            "{e:?}"
        );
        // Starting grades stop at 55.
        assert!(matches!(
            gate_placement(Grade::P1, 54, 1, &r, None),
            Gate::Warn { .. }
        ));
        let e = gate_placement(Grade::J1, 54, 2, &r, None);
        assert!(
            matches!(&e, Gate::Refused { message } if message.contains("七年级为起始年级")),
            "{e:?}"
        );
        assert!(matches!(
            gate_placement(Grade::S1, 55, 1, &r, None),
            Gate::Refused { .. }
        ));
        // Kindergarten classes warn above their own standard.
        assert!(matches!(
            gate_placement(Grade::K1, 25, 1, &r, None),
            Gate::Warn { .. }
        ));
        assert_eq!(gate_placement(Grade::K3, 34, 1, &r, None), Gate::Allowed);
    }

    #[test]
    fn a_county_override_with_a_reason_lets_a_refused_placement_through() {
        let r = crate::Rules::default();
        let o = CountyOverride {
            county: crate::RegionCode::from_i32(371302),
            reason: "学校新建校舍未启用，经局务会研究临时安排".into(),
        };
        let g = gate_placement(Grade::P1, 55, 1, &r, Some(&o));
        assert!(
            matches!(&g, Gate::Overridden { reason, .. } if reason.contains("局务会")),
            "{g:?}"
        );
        let blank = CountyOverride {
            reason: "   ".into(),
            ..o.clone()
        };
        assert!(matches!(
            gate_placement(Grade::P1, 55, 1, &r, Some(&blank)),
            Gate::Refused { .. }
        ));
        // A warning needs no override and is not turned into one.
        assert!(matches!(
            gate_placement(Grade::P3, 46, 1, &r, Some(&o)),
            Gate::Warn { .. }
        ));
    }

    #[test]
    fn the_class_size_gate_reads_its_limits_from_the_rules() {
        let r = crate::Rules {
            starting_class_max: 45,
            class_warn_above_primary: 40,
            ..crate::Rules::default()
        };
        assert!(matches!(
            gate_placement(Grade::P1, 45, 1, &r, None),
            Gate::Refused { .. }
        ));
        assert!(matches!(
            gate_placement(Grade::P2, 40, 1, &r, None),
            Gate::Warn { .. }
        ));
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
