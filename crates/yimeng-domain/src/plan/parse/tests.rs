//! Plan-file tests: a small hand-made plan (also used by the status tests), each kind of error, and
//! the real 2020 plan.

use super::super::*;
use chrono::NaiveDate;

/// A three-item plan; tests break it with `str::replace`.
pub(crate) const SMALL: &str = r#"
code = "test-2020"
year = 2020
title = "测试计划"
document_no = "测字〔2020〕1号"
issued = 2020-03-16
start = 2020-01-01
end = 2020-12-31

[[departments]]
code = "office"
name = "办公室"

[[departments]]
code = "basic"
name = "基础教育科"

[[parts]]
number = 1
title = "第一部分"

[[indicators]]
code = "big_class_count"
name = "56人及以上大班额班级数"
name_en = "Classes of 56 or more"
unit = "个"
formula = "56人及以上班级数"
levels = ["city", "county", "school"]
direction = "lower_better"
kind = "count"
computation = "classes_56_plus_count"

[[indicators]]
code = "gross_enrolment"
name = "学前三年毛入园率"
name_en = "Preschool gross enrolment rate"
unit = "%"
formula = "在园幼儿数 ÷ 3–5周岁常住人口 × 100%"
levels = ["city", "county"]
direction = "higher_better"
kind = "percent"
computation = "preschool_gross_enrolment"

[[indicators]]
code = "over_standard_share"
name = "超标准班额占比"
name_en = "Share of classes above the standard size"
unit = "%"
formula = "超标准班额班级数 ÷ 小学初中班级数 × 100%"
levels = ["city", "county", "school"]
direction = "lower_better"
kind = "percent"
computation = "classes_over_standard_share"

[[indicators]]
code = "studios"
name = "名师工作室数"
name_en = "Master-teacher studios"
unit = "个"
formula = "当年成立的名师工作室数"
levels = ["city"]
direction = "higher_better"
kind = "count"
reported = { module = "名师工作室登记", reporter = "lead" }

[[items]]
number = 1
part = 1
title = "第一项"
summary = "第一项的摘要。"
lead = "office"

  [[items.tasks]]
  code = "1.1"
  title = "制定实施方案"
  deadline = 2020-06-30

  [[items.tasks]]
  code = "1.2"
  title = "年终总结"
  deadline = 2020-12-31

[[items]]
number = 2
part = 1
title = "第二项"
summary = "第二项的摘要。"
lead = "basic"
co_owners = ["office"]
module = "班额监测"

  [[items.tasks]]
  code = "2.1"
  title = "化解大班额"
  deadline = 2020-12-31
  reporters = "counties"

  [[items.targets]]
  indicator = "big_class_count"
  text = "年底前，实现普通中小学56人及以上大班额“清零”"
  target = 0
  comparator = "at_most"
  deadline = 2020-12-31
  baseline = 100

[[items]]
number = 3
part = 1
title = "第三项"
summary = "第三项的摘要。"
lead = "basic"

  [[items.tasks]]
  code = "3.1"
  title = "普及学前教育"
  deadline = 2020-12-31

  [[items.targets]]
  indicator = "gross_enrolment"
  text = "学前三年毛入园率达到90%"
  target = 90
  comparator = "at_least"
  deadline = 2020-12-31

  [[items.targets]]
  indicator = "over_standard_share"
  text = "鼓励小学每班不超过45人、初中每班不超过50人"
  target = 0
  comparator = "at_most"
  deadline = 2020-12-31
  advisory = true

[appraisal]

  [[appraisal.weights]]
  indicator = "gross_enrolment"
  weight = 60

  [[appraisal.weights]]
  indicator = "big_class_count"
  weight = 40
  zero_at = 20
"#;

/// The small plan, parsed.
pub(crate) fn small_plan() -> Plan {
    Plan::parse(SMALL).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Parses `text`, expecting errors, and returns them as displayed strings.
fn errors(text: &str) -> Vec<String> {
    match Plan::parse(text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

fn one_error(text: &str) -> (PlanErrorKind, String) {
    let e = Plan::parse(text).expect_err("expected an error");
    assert_eq!(e.len(), 1, "{e:#?}");
    (e[0].kind(), e[0].to_string())
}

#[test]
fn the_small_plan_parses_with_its_references_resolved() {
    let p = small_plan();
    assert_eq!(p.items.len(), 3);
    assert_eq!(p.item(2).unwrap().co_owners, vec!["office"]);
    assert_eq!(p.item(2).unwrap().tasks[0].reporters, Reporters::Counties);
    assert_eq!(p.item(1).unwrap().tasks[0].reporters, Reporters::Lead);
    assert_eq!(
        p.indicator("studios").unwrap().source,
        Source::Reported {
            module: "名师工作室登记".into(),
            reporter: Reporters::Lead
        }
    );
    assert!(p.item(3).unwrap().targets[1].advisory);
    // Weights take the plan's target when they give none.
    let w = &p.appraisal.weights;
    assert_eq!((w[0].target, w[0].comparator), (90.0, Comparator::AtLeast));
    assert_eq!((w[1].target, w[1].zero_at), (0.0, Some(20.0)));
    assert_eq!(p.items_of("office").count(), 2);
}

#[test]
fn a_toml_syntax_error_is_reported_with_line_and_column() {
    let bad = SMALL.replace("title = \"第二项\"", "title = \"第二项");
    let (kind, msg) = one_error(&bad);
    assert_eq!(kind, PlanErrorKind::Syntax);
    let line = SMALL
        .lines()
        .position(|l| l.contains("title = \"第二项\""))
        .unwrap()
        + 1;
    assert!(msg.starts_with(&format!("第 {line} 行第 ")), "{msg}");
}

#[test]
fn a_missing_or_misspelt_field_is_named_in_chinese() {
    let (kind, msg) = one_error(&SMALL.replace("summary = \"第二项的摘要。\"\n", ""));
    assert_eq!(kind, PlanErrorKind::Syntax);
    assert!(msg.contains("缺少字段 summary"), "{msg}");
    let (_, msg) = one_error(&SMALL.replace("co_owners = [", "coowners = ["));
    assert!(msg.contains("未知字段 coowners"), "{msg}");
}

#[test]
fn duplicate_and_missing_item_numbers_are_reported() {
    let bad = SMALL.replace("number = 3\npart = 1", "number = 2\npart = 1");
    let e = errors(&bad);
    assert!(
        e.iter().any(|m| m.starts_with("第 2 项：序号 2 重复")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|m| m.contains("任务编号 “3.1” 应写作 “2.1”")),
        "{e:?}"
    );
    let bad = SMALL.replace("number = 2\npart = 1", "number = 4\npart = 1");
    let e = errors(&bad);
    assert!(
        e.iter()
            .any(|m| m == "items：缺少第 2 项（序号应为 1 至 4 连续）"),
        "{e:?}"
    );
}

#[test]
fn unknown_part_department_and_indicator_codes_are_reported_where_they_occur() {
    let bad = SMALL
        .replace("number = 3\npart = 1", "number = 3\npart = 9")
        .replace("lead = \"basic\"\nco_owners", "lead = \"bsic\"\nco_owners")
        .replace(
            "indicator = \"big_class_count\"\n  text",
            "indicator = \"xyz\"\n  text",
        );
    let e = Plan::parse(&bad).unwrap_err();
    let kinds: Vec<PlanErrorKind> = e.iter().map(PlanError::kind).collect();
    assert!(kinds.contains(&PlanErrorKind::UnknownPart));
    assert!(kinds.contains(&PlanErrorKind::UnknownDepartment));
    assert!(kinds.contains(&PlanErrorKind::UnknownIndicator));
    let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("第 3 项：部分 9 未在 parts 中定义（第 "))
    );
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("第 2 项：牵头科室 “bsic” 未在 departments 中定义"))
    );
    let target_line = bad
        .lines()
        .position(|l| l.contains("[[items.targets]]"))
        .unwrap()
        + 1;
    assert!(
        shown.contains(&format!(
            "第 2 项 targets[1]：指标 “xyz” 未在 indicators 中定义（第 {target_line} 行）"
        )),
        "{shown:?}"
    );
}

#[test]
fn an_unknown_computation_key_lists_the_known_ones() {
    let (kind, msg) = one_error(&SMALL.replace(
        "computation = \"classes_56_plus_count\"",
        "computation = \"classes_57_plus_count\"",
    ));
    assert_eq!(kind, PlanErrorKind::UnknownComputation);
    assert!(msg.starts_with("指标 “big_class_count”：未知的计算方法 “classes_57_plus_count”，可用：classes_56_plus_count、"), "{msg}");
}

#[test]
fn a_computation_bound_to_the_wrong_kind_or_level_is_refused() {
    let e = errors(&SMALL.replace(
        "kind = \"count\"\ncomputation = \"classes_56_plus_count\"",
        "kind = \"percent\"\ncomputation = \"classes_56_plus_count\"",
    ));
    assert!(e.iter().any(|m| m.contains("得到的是计数")), "{e:?}");
    let e = errors(&SMALL.replace(
        "levels = [\"city\", \"county\"]\ndirection = \"higher_better\"",
        "levels = [\"city\", \"county\", \"school\"]\ndirection = \"higher_better\"",
    ));
    assert!(
        e.iter().any(|m| m.contains("不能在 “学校” 层级计算")),
        "{e:?}"
    );
}

#[test]
fn deadlines_outside_the_plan_year_are_reported() {
    let (kind, msg) = one_error(&SMALL.replace("deadline = 2020-06-30", "deadline = 2021-06-30"));
    assert_eq!(kind, PlanErrorKind::DateOutOfRange);
    assert!(
        msg.starts_with(
            "第 1 项 tasks[1]：deadline 2021-06-30 不在计划期 2020-01-01 至 2020-12-31 之内"
        ),
        "{msg}"
    );
    let (_, msg) =
        one_error(&SMALL.replace("deadline = 2020-06-30", "deadline = 2020-06-30T08:00:00"));
    assert!(msg.contains("应为日期"), "{msg}");
}

#[test]
fn weights_must_be_positive_and_sum_to_100() {
    let e = Plan::parse(&SMALL.replace("weight = 40", "weight = -40")).unwrap_err();
    let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert!(
        e.iter().all(|e| e.kind() == PlanErrorKind::BadWeight),
        "{shown:?}"
    );
    assert!(shown.iter().any(|m| m.contains("权重应为正数，实际为 -40")));
    assert!(shown.contains(&"appraisal.weights：权重合计应为 100，实际为 20".to_string()));
}

#[test]
fn an_appraisal_weight_needs_a_county_level_indicator_with_a_target() {
    let bad = SMALL.replace(
        "indicator = \"gross_enrolment\"\n  weight = 60",
        "indicator = \"studios\"\n  weight = 60",
    );
    let e = errors(&bad);
    assert!(e.iter().any(|m| m.contains("须含 county 层级")), "{e:?}");
    assert!(
        e.iter()
            .any(|m| m.contains("在各项中没有目标，请在此给出 target")),
        "{e:?}"
    );
}

#[test]
fn a_comparator_against_the_indicator_direction_is_refused() {
    let (kind, msg) = one_error(&SMALL.replace(
        "target = 90\n  comparator = \"at_least\"",
        "target = 90\n  comparator = \"at_most\"",
    ));
    assert_eq!(kind, PlanErrorKind::ComparatorMismatch);
    assert!(msg.starts_with("第 3 项 targets[1]：指标 “gross_enrolment” 越高越好，比较方式应为 at_least（不低于），实际为 at_most（不高于）"), "{msg}");
}

#[test]
fn an_item_without_tasks_and_bad_codes_are_reported_together() {
    let bad = SMALL
        .replace(
            "  [[items.tasks]]\n  code = \"3.1\"\n  title = \"普及学前教育\"\n  deadline = 2020-12-31\n",
            "",
        )
        .replace("reporters = \"counties\"", "reporters = \"everyone\"")
        .replace("direction = \"lower_better\"\nkind = \"count\"", "direction = \"down\"\nkind = \"count\"");
    let e = Plan::parse(&bad).unwrap_err();
    let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("第 3 项：至少要有一项任务")),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("第 2 项 tasks[1]：reporters：不是有效的报送方")),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|m| m.starts_with("指标 “big_class_count”：direction：不是有效的指标方向")),
        "{shown:?}"
    );
}

// ---- the real plan ------------------------------------------------------------------------------

/// `plans/linyi-2020.toml`, the 2020 Linyi plan (临教办字〔2020〕11号).
const LINYI_2020: &str = include_str!("../../../../../plans/linyi-2020.toml");

fn linyi() -> Plan {
    Plan::parse(LINYI_2020).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[test]
fn the_linyi_2020_plan_parses_with_35_items_in_5_parts() {
    let p = linyi();
    assert_eq!(p.code, "linyi-2020");
    assert_eq!(p.document_no, "临教办字〔2020〕11号");
    assert_eq!(p.issued, NaiveDate::from_ymd_opt(2020, 3, 16).unwrap());
    assert_eq!(p.parts.len(), 5);
    assert_eq!(p.items.len(), 35);
    assert_eq!(
        p.items.iter().map(|i| i.number).collect::<Vec<_>>(),
        (1..=35).collect::<Vec<_>>()
    );
    // Parts as in the seed: 1–4, 5–10, 11–15, 16–25, 26–35.
    let part_of = |n: u32| p.item(n).unwrap().part;
    assert_eq!(
        [1, 4, 5, 10, 11, 15, 16, 25, 26, 35].map(part_of),
        [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    );
    for item in &p.items {
        assert!(!item.tasks.is_empty(), "item {}", item.number);
        let sentences = item.summary.matches('。').count();
        assert!(
            (1..=4).contains(&sentences),
            "item {} summary has {sentences} sentences",
            item.number
        );
    }
    assert_eq!(p.item(18).unwrap().title, "推进义务教育优质均衡");
    assert_eq!(p.item(35).unwrap().module.as_deref(), Some("学籍服务"));
}

#[test]
fn every_quantitative_target_of_the_plan_map_is_bound_to_an_indicator() {
    let p = linyi();
    // (item, indicator, target, computed from the registry?)
    let expected: &[(u32, &str, f64, bool)] = &[
        (3, "party_brand_count", 100.0, false),
        (3, "branch_method_count", 100.0, false),
        (3, "party_family_links", 30000.0, false),
        (3, "party_teacher_link_share", 100.0, false),
        (8, "start_grade_over_55", 0.0, true),
        (8, "over_standard_share", 0.0, true),
        (10, "pe_hour_share", 100.0, false),
        (10, "vision_screening_share", 100.0, false),
        (10, "health_file_share", 100.0, false),
        (12, "teachers_recruited", 3000.0, true),
        (12, "rural_funded_normal_placed", 400.0, true),
        (13, "master_studio_count", 40.0, false),
        (13, "teacher_training_person_times", 90000.0, false),
        (14, "teacher_pay_ratio", 1.0, false),
        (17, "preschool_gross_enrolment", 90.0, true),
        (17, "inclusive_kg_coverage", 80.0, true),
        (17, "public_kg_coverage", 50.0, true),
        (17, "kg_projects", 177.0, false),
        (18, "big_class_count", 0.0, true),
        (18, "school_projects", 107.0, false),
        (20, "vocational_general_ratio", 1.0, true),
        (20, "textbook_3d_count", 23.0, false),
        (22, "special_school_county_share", 100.0, true),
        (22, "special_resource_centre_share", 100.0, false),
        (24, "gigabit_share", 100.0, true),
        (24, "smart_campus_new", 50.0, false),
        (30, "safety_guard_share", 100.0, true),
        (30, "closed_campus_share", 100.0, true),
        (30, "alarm_video_share", 100.0, true),
        (30, "guard_post_share", 100.0, true),
        (30, "safety_all_four_share", 100.0, true),
        (33, "petition_acceptance_rate", 100.0, false),
        (33, "petition_completion_rate", 100.0, false),
        (33, "petition_satisfaction_rate", 90.0, false),
    ];
    for &(n, code, target, computed) in expected {
        let item = p.item(n).unwrap();
        let t = item
            .targets
            .iter()
            .find(|t| t.indicator == code)
            .unwrap_or_else(|| panic!("item {n} has no target on {code}"));
        assert_eq!(t.target, target, "{code}");
        let def = p.indicator(code).unwrap();
        assert_eq!(def.source.computation().is_some(), computed, "{code}");
        assert!(!t.text.is_empty());
    }
    let bound: usize = p.items.iter().map(|i| i.targets.len()).sum();
    assert_eq!(bound, expected.len(), "a target not in the plan-map list");
    // The 大班额清零 target is the seed's “年底前”.
    let big = &p.item(18).unwrap().targets[0];
    assert_eq!(big.deadline, p.end);
    assert_eq!(big.comparator, Comparator::AtMost);
    // The item-8 encouragement and the satisfaction rate do not drive status.
    assert!(p.item(8).unwrap().targets[1].advisory);
    assert!(p.item(33).unwrap().targets[2].advisory);
}

#[test]
fn every_computation_the_registry_offers_is_used_by_the_linyi_plan() {
    let p = linyi();
    let used: Vec<Computation> = p.computed_indicators().map(|(_, c)| c).collect();
    for c in Computation::ALL {
        assert!(used.contains(c), "{} unused", c.key());
    }
}

#[test]
fn a_county_meeting_every_appraisal_target_scores_100_and_one_without_data_scores_0() {
    let p = linyi();
    let total: f64 = p.appraisal.weights.iter().map(|w| w.weight).sum();
    assert_eq!(total, 100.0);
    let perfect: std::collections::HashMap<String, Option<f64>> = p
        .appraisal
        .weights
        .iter()
        .map(|w| (w.indicator.clone(), Some(w.target)))
        .collect();
    assert_eq!(p.appraisal.score_county(&perfect).total, 100.0);
    let none = std::collections::HashMap::new();
    let s = p.appraisal.score_county(&none);
    assert_eq!(s.total, 0.0);
    assert_eq!(s.missing().count(), p.appraisal.weights.len());
}

#[test]
fn the_status_of_item_18_names_the_big_class_figures() {
    let p = linyi();
    let item = p.item(18).unwrap();
    let values: std::collections::HashMap<String, Option<f64>> = [
        ("big_class_count".to_string(), Some(12.0)),
        ("school_projects".to_string(), Some(100.0)),
    ]
    .into_iter()
    .collect();
    let today = NaiveDate::from_ymd_opt(2020, 11, 29).unwrap();
    let (status, reason) = item_status(&p, item, &values, &["18.3"], today);
    assert_eq!(status, ItemStatus::OnTrack, "{reason}");
    assert!(
        reason.starts_with("56人及以上大班额班级数 12 个，目标 0 个，距截止 32 天"),
        "{reason}"
    );
    let late = NaiveDate::from_ymd_opt(2020, 12, 10).unwrap();
    let (status, reason) = item_status(&p, item, &values, &["18.3"], late);
    assert_eq!(status, ItemStatus::AtRisk, "{reason}");
}

/// Pins the whole list — messages, order, lines — so that reorganising the checks cannot move them.
#[test]
fn a_plan_breaking_many_rules_lists_every_problem_in_file_order() {
    let bad = SMALL
        .replace("code = \"test-2020\"", "code = \"Test 2020\"")
        .replace(
            "[[parts]]\nnumber = 1\ntitle = \"第一部分\"\n",
            "[[departments]]\ncode = \"Basic\"\nname = \"\"\n\n[[departments]]\ncode = \"office\"\nname = \"办公室\"\n\n[[parts]]\nnumber = 1\ntitle = \"第一部分\"\n\n[[parts]]\nnumber = 1\ntitle = \" \"\n",
        )
        .replace("unit = \"%\"\nformula = \"在园幼儿数", "unit = \"个\"\nformula = \"在园幼儿数")
        .replace(
            "levels = [\"city\", \"county\"]",
            "levels = [\"city\", \"city\", \"county\", \"town\"]",
        )
        .replace(
            "kind = \"count\"\ncomputation = \"classes_56_plus_count\"",
            "kind = \"percent\"\ncomputation = \"classes_56_plus_count\"",
        )
        .replace(
            "reported = { module = \"名师工作室登记\", reporter = \"lead\" }",
            "computation = \"classes_56_plus_count\"\nreported = { module = \"名师工作室登记\", reporter = \"lead\" }",
        )
        .replace("co_owners = [\"office\"]", "co_owners = [\"office\", \"basic\", \"nowhere\", \"office\"]")
        .replace("code = \"1.2\"", "code = \"1.1\"")
        .replace("code = \"2.1\"", "code = \"2-1\"")
        .replace("title = \"制定实施方案\"\n  deadline = 2020-06-30", "title = \"制定实施方案\"\n  deadline = 2021-06-30")
        .replace("number = 3\npart = 1", "number = 5\npart = 2")
        .replace("baseline = 100", "baseline = 100\n  tolerance = 1")
        .replace("target = 90\n  comparator = \"at_least\"", "target = 120\n  comparator = \"at_most\"")
        .replace("weight = 60", "weight = -5")
        .replace("zero_at = 20", "zero_at = -1");
    let shown = errors(&bad);
    let expected = vec![
        "计划：code “Test 2020” 应为小写字母开头的 ASCII 代码，如 linyi-2020",
        "departments[3]：name 不能为空（第 18 行）",
        "departments[3]：科室代码 “Basic” 应为小写 ASCII 短代码，如 basic（第 18 行）",
        "departments[4]：科室代码 “office” 重复（第 22 行）",
        "parts[2]：title 不能为空（第 30 行）",
        "parts[2]：部分序号 1 重复（第 30 行）",
        "指标 “big_class_count”：百分比指标的 unit 应为 “%”，实际为 “个”（第 34 行）",
        "指标 “big_class_count”：计算方法 classes_56_plus_count 得到的是计数，与 kind “percent” 不符（第 34 行）",
        "指标 “gross_enrolment”：levels 中 “city” 重复（第 45 行）",
        "指标 “gross_enrolment”：levels：不是有效的层级，可填：市级、县区、学校（第 45 行）",
        "指标 “gross_enrolment”：百分比指标的 unit 应为 “%”，实际为 “个”（第 45 行）",
        "指标 “studios”：computation 与 reported 只能填一个（第 67 行）",
        "第 1 项 tasks[1]：deadline 2021-06-30 不在计划期 2020-01-01 至 2020-12-31 之内（第 86 行）",
        "第 1 项 tasks[2]：任务编号 “1.1” 重复（第 91 行）",
        "第 2 项：配合科室 “basic” 重复或与牵头科室相同（第 96 行）",
        "第 2 项：配合科室 “nowhere” 未在 departments 中定义（第 96 行）",
        "第 2 项：配合科室 “office” 重复或与牵头科室相同（第 96 行）",
        "第 2 项 tasks[1]：任务编号 “2-1” 应写作 “2.1” 这样的形式（第 105 行）",
        "第 2 项 targets[1]：tolerance 只用于比较方式 equal（大体相当）（第 111 行）",
        "第 5 项：部分 2 未在 parts 中定义（第 120 行）",
        "第 5 项 tasks[1]：任务编号 “3.1” 应写作 “5.1” 这样的形式（第 127 行）",
        "第 5 项 targets[1]：指标 “gross_enrolment” 越高越好，比较方式应为 at_least（不低于），实际为 at_most（不高于）（第 132 行）",
        "第 5 项 targets[1]：百分比目标应在 0–100 之间，实际为 120（第 132 行）",
        "items：缺少第 3、4 项（序号应为 1 至 5 连续）",
        "appraisal.weights[1]（gross_enrolment）：权重应为正数，实际为 -5（第 149 行）",
        "appraisal.weights[2]（big_class_count）：zero_at -1 不合理：越低越好的指标应高于目标值（第 153 行）",
        "appraisal.weights：权重合计应为 100，实际为 35",
    ];
    assert_eq!(shown, expected);
}
