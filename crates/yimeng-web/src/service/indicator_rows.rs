//! The rows behind an indicator's number: the classes or schools a computation counts, each marked
//! when it counts towards the numerator, in the order a user acts on them.

use super::ServiceError;
use std::collections::HashMap;
use yimeng_domain::facts::SchoolFacts;
use yimeng_domain::plan::{Computation, Direction};
use yimeng_domain::{Rules, Scope};
use yimeng_store::Db;

/// Whether the rows behind a computation can be listed (classes or schools).
pub fn has_row_list(c: Computation) -> bool {
    !matches!(
        c,
        Computation::PreschoolGrossEnrolment
            | Computation::TeachersRecruited
            | Computation::RuralFundedNormalPlaced
            | Computation::VocationalGeneralRatio
    )
}

/// One row behind a number.
pub struct RowLine {
    pub county: i32,
    pub school_id: i64,
    pub school: String,
    pub class_id: Option<i64>,
    pub cells: Vec<String>,
    pub flagged: bool,
}

/// Which classes a class computation counts, and which of them it flags (by grade and size).
type ClassRule = (
    fn(yimeng_domain::Grade) -> bool,
    fn(yimeng_domain::Grade, i64) -> bool,
);

/// Which classes a class computation counts, and which of them it flags.
fn class_rule(c: Computation) -> Option<ClassRule> {
    use yimeng_domain::plan as p;
    Some(match c {
        Computation::Classes56PlusCount | Computation::Classes56PlusShare => {
            (p::in_class_size_scope, |_, s| p::is_56_plus(s))
        }
        Computation::Classes66PlusCount | Computation::Classes66PlusShare => {
            (p::in_class_size_scope, |_, s| p::is_66_plus(s))
        }
        Computation::Classes56To65Share => (p::in_class_size_scope, |_, s| p::is_56_to_65(s)),
        Computation::StartGradeOver55Count => {
            (p::is_plan_starting_grade, p::is_start_grade_over_cap)
        }
        Computation::ClassesOverStandardCount | Computation::ClassesOverStandardShare => {
            (p::in_standard_size_scope, p::is_over_standard)
        }
        _ => return None,
    })
}

/// Which part of the city the rows are listed for: a county (`None`: the whole city) and
/// optionally one school.
#[derive(Debug, Clone, Copy)]
pub struct Within {
    pub county: Option<i32>,
    pub school: Option<i64>,
}

/// The rows behind a number, with their column headers and a note on what is marked.
pub struct RowList {
    pub headers: Vec<&'static str>,
    pub lines: Vec<RowLine>,
    pub note: &'static str,
}

/// The rows behind computation `c` within `within` that the user's scope covers, sorted so that
/// what needs action comes first (see [`sort_rows`]).
pub async fn list(
    db: &Db,
    scope: &Scope,
    rules: &Rules,
    facts: &[SchoolFacts],
    c: Computation,
    direction: Direction,
    within: Within,
) -> Result<RowList, ServiceError> {
    let mut list = match class_rule(c) {
        Some(rule) => class_rows(db, scope, rules, rule, within).await?,
        None => school_rows(facts, scope, c, within),
    };
    sort_rows(&mut list.lines, direction);
    Ok(list)
}

/// The classes of the current school year of each county that rule `(counted, flagged)` counts.
async fn class_rows(
    db: &Db,
    scope: &Scope,
    rules: &Rules,
    (counted, flagged): ClassRule,
    within: Within,
) -> Result<RowList, ServiceError> {
    let mut all =
        yimeng_store::browse::all_class_sizes(db, scope, rules, within.county, within.school)
            .await?;
    // The current school year of each county, as the indicator counts.
    let mut year: HashMap<i32, i32> = HashMap::new();
    for cl in &all {
        let y = year.entry(cl.county_id).or_insert(cl.school_year);
        *y = (*y).max(cl.school_year);
    }
    all.retain(|cl| year.get(&cl.county_id) == Some(&cl.school_year) && counted(cl.grade()));
    let lines = all
        .into_iter()
        .map(|cl| {
            let g = cl.grade();
            RowLine {
                county: cl.county_id,
                school_id: cl.school_id,
                school: cl.school_name.clone(),
                class_id: Some(cl.id),
                flagged: flagged(g, cl.size),
                cells: vec![
                    g.label().to_string(),
                    cl.name.clone(),
                    cl.size.to_string(),
                    g.standard_class_size().to_string(),
                ],
            }
        })
        .collect();
    Ok(RowList {
        headers: vec!["年级", "班级", "班额", "标准班额"],
        lines,
        note: "班额按在籍在读学生计算（休学是否计入见本地规则）；标记的是该指标计入分子的班级。",
    })
}

/// The schools (from the registry's facts) that school computation `c` counts, within the scope.
fn school_rows(facts: &[SchoolFacts], scope: &Scope, c: Computation, within: Within) -> RowList {
    let lines = facts
        .iter()
        .filter(|f| within.county.is_none_or(|c| f.county == c))
        .filter(|f| within.school.is_none_or(|s| f.school_id == s))
        .filter(|f| scope.covers_school(yimeng_domain::RegionCode::from_i32(f.county), f.school_id))
        .filter_map(|f| {
            let (include, flagged, cells) = school_row(f, c);
            include.then(|| RowLine {
                county: f.county,
                school_id: f.school_id,
                school: f.name.clone(),
                class_id: None,
                flagged,
                cells,
            })
        })
        .collect();
    let (headers, note) = school_columns(c);
    RowList {
        headers,
        lines,
        note,
    }
}

/// For one school under computation `c`: whether it is listed, whether it is marked, its cells.
fn school_row(f: &SchoolFacts, c: Computation) -> (bool, bool, Vec<String>) {
    let yes = |b: bool| if b { "是" } else { "否" }.to_string();
    match c {
        Computation::InclusiveKgCoverage | Computation::PublicKgCoverage => (
            f.kg_roll > 0,
            if c == Computation::PublicKgCoverage {
                f.is_public()
            } else {
                f.is_inclusive()
            },
            vec![
                f.ownership.label().to_string(),
                yes(f.inclusive),
                f.kg_roll.to_string(),
            ],
        ),
        Computation::GigabitCentralAndAboveShare => (
            f.is_central_or_above(),
            f.has_gigabit(),
            vec![
                f.school_type.label().to_string(),
                yes(f.central),
                f.bandwidth_mbps
                    .map_or("未填".into(), |b| format!("{b} Mbps")),
            ],
        ),
        Computation::CountiesWithSpecialSchool => (
            f.school_type == yimeng_domain::SchoolType::Special,
            true,
            vec![f.school_type.label().to_string()],
        ),
        _ => {
            let flag = match c {
                Computation::SafetyGuardShare => f.security_guard,
                Computation::ClosedCampusShare => f.closed_campus,
                Computation::AlarmVideoShare => f.alarm_and_video,
                Computation::GuardPostShare => f.guard_post,
                _ => f.all_four_safety(),
            };
            (
                true,
                flag,
                vec![
                    f.school_type.label().to_string(),
                    yes(f.security_guard),
                    yes(f.closed_campus),
                    yes(f.alarm_and_video),
                    yes(f.guard_post),
                ],
            )
        }
    }
}

/// The column headers and the note for school computation `c`.
fn school_columns(c: Computation) -> (Vec<&'static str>, &'static str) {
    match c {
        Computation::InclusiveKgCoverage | Computation::PublicKgCoverage => (
            vec!["办学性质", "普惠性", "在园幼儿"],
            "列出有在园幼儿的学校和幼儿园；标记的幼儿园计入分子。",
        ),
        Computation::GigabitCentralAndAboveShare => (
            vec!["学校类别", "中心校", "出口带宽"],
            "列出中心小学以上学校；标记的学校已千兆接入。",
        ),
        Computation::CountiesWithSpecialSchool => (vec!["学校类别"], "列出特殊教育学校。"),
        _ => (
            vec![
                "学校类别",
                "专职保安",
                "封闭化管理",
                "一键报警和视频监控",
                "护学岗",
            ],
            "列出全部学校和幼儿园；标记的学校计入分子（已达标）。",
        ),
    }
}

/// Flagged rows first for counts of problems (big classes), unflagged first for coverage (the
/// schools still missing the measure are what a user acts on); then by county, school, cells.
pub fn sort_rows(lines: &mut [RowLine], direction: Direction) {
    let problems_first = matches!(direction, Direction::LowerBetter);
    lines.sort_by(|a, b| {
        let key = |l: &RowLine| {
            if problems_first {
                !l.flagged
            } else {
                l.flagged
            }
        };
        key(a)
            .cmp(&key(b))
            .then(a.county.cmp(&b.county))
            .then(a.school.cmp(&b.school))
            .then(a.cells.cmp(&b.cells))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(county: i32, school: &str, flagged: bool) -> RowLine {
        RowLine {
            county,
            school_id: 1,
            school: school.into(),
            class_id: None,
            cells: Vec::new(),
            flagged,
        }
    }

    fn order(lines: &[RowLine]) -> Vec<(i32, &str, bool)> {
        lines
            .iter()
            .map(|l| (l.county, l.school.as_str(), l.flagged))
            .collect()
    }

    #[test]
    fn problems_come_first_when_lower_is_better_and_gaps_first_when_higher_is_better() {
        let make = || {
            vec![
                line(371302, "乙校", false),
                line(371311, "甲校", true),
                line(371302, "甲校", true),
                line(371302, "丙校", false),
            ]
        };
        let mut lower = make();
        sort_rows(&mut lower, Direction::LowerBetter);
        assert_eq!(
            order(&lower),
            [
                (371302, "甲校", true),
                (371311, "甲校", true),
                (371302, "丙校", false),
                (371302, "乙校", false),
            ]
        );
        let mut higher = make();
        sort_rows(&mut higher, Direction::HigherBetter);
        assert_eq!(
            order(&higher),
            [
                (371302, "丙校", false),
                (371302, "乙校", false),
                (371302, "甲校", true),
                (371311, "甲校", true),
            ]
        );
    }

    #[test]
    fn class_computations_list_classes_and_school_computations_list_schools() {
        assert!(class_rule(Computation::Classes56PlusCount).is_some());
        assert!(class_rule(Computation::SafetyGuardShare).is_none());
        let (headers, _) = school_columns(Computation::GigabitCentralAndAboveShare);
        assert_eq!(headers, ["学校类别", "中心校", "出口带宽"]);
    }
}
