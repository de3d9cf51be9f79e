//! 推进状态 (progress status) of a plan item, with a reason in Chinese that names the figures.
//!
//! The rule, checked target by target and task by task (advisory targets are left out):
//! - **滞后 (off track)** — a target's deadline has passed and it is not met (or has no value), or a
//!   task's deadline has passed and it is not done.
//! - **有风险 (at risk)** — a target is not met, its deadline is still ahead, and either
//!   - it has a baseline and the value is behind the straight line from the baseline at the plan's
//!     start to the target at the deadline by more than [`AT_RISK_TOLERANCE`] of the whole distance, or
//!   - it has no baseline (so no line to follow) and at most [`AT_RISK_WINDOW_DAYS`] days remain, or
//!   - its value is missing (nothing reported or computable yet).
//! - **已完成 (done)** — every target met and every task done.
//! - **正常推进 (on track)** — otherwise.
//!
//! The worst finding wins (滞后 > 有风险 > 正常推进); the reason lists the findings of that
//! severity, e.g. “56人及以上大班额班级数 12 个，目标 0 个，距截止 32 天”.

use super::{Comparator, Plan, PlanItem, Target};
use crate::code_list;
use chrono::NaiveDate;
use std::collections::HashMap;

/// How far behind the straight-line expectation a target may be, as a share of the distance from
/// baseline to target, before it is at risk (a project rule, not from the plan: 10%).
pub const AT_RISK_TOLERANCE: f64 = 0.10;

/// A target without a baseline that is still unmet this many days before its deadline is at risk
/// (a project rule: one monthly dispatch cycle, 月调度).
pub const AT_RISK_WINDOW_DAYS: i64 = 30;

code_list! {
    /// 推进状态 of a plan item.
    pub enum ItemStatus: "推进状态" {
        /// 已完成: every target met, every task done.
        Done = "done", "已完成", "Done";
        /// 正常推进
        OnTrack = "on_track", "正常推进", "On track";
        /// 有风险
        AtRisk = "at_risk", "有风险", "At risk";
        /// 滞后: a deadline passed unmet.
        OffTrack = "off_track", "滞后", "Off track";
    }
}

/// Finding severities, ordered so the worst is the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    Fine,
    Risk,
    Late,
}

/// The status of `item` on `today`.
///
/// `values` holds the current value of each indicator for the scope being shown (the city for the
/// city tracker, a county for its own page), keyed by indicator code; a missing key or `None` means
/// no value yet. `done_tasks` lists the codes of finished tasks (“8.2”). Progress is measured from
/// `plan.start`.
pub fn item_status(
    plan: &Plan,
    item: &PlanItem,
    values: &HashMap<String, Option<f64>>,
    done_tasks: &[&str],
    today: NaiveDate,
) -> (ItemStatus, String) {
    let mut findings: Vec<(Severity, String)> = Vec::new();
    let mut targets_met = 0usize;
    let mut targets_total = 0usize;

    for t in item.targets.iter().filter(|t| !t.advisory) {
        targets_total += 1;
        let value = values.get(&t.indicator).copied().flatten();
        let (sev, text) = judge_target(plan, t, value, today);
        if sev == Severity::Fine && value.is_some_and(|v| t.is_met(v)) {
            targets_met += 1;
        }
        findings.push((sev, text));
    }

    let mut tasks_done = 0usize;
    for task in &item.tasks {
        let done = done_tasks.contains(&task.code.as_str());
        if done {
            tasks_done += 1;
        } else if task.deadline < today {
            findings.push((
                Severity::Late,
                format!(
                    "任务 {}「{}」已逾期 {} 天（截止 {}）",
                    task.code,
                    task.title,
                    (today - task.deadline).num_days(),
                    task.deadline
                ),
            ));
        }
    }

    let worst = findings
        .iter()
        .map(|(s, _)| *s)
        .max()
        .unwrap_or(Severity::Fine);
    match worst {
        Severity::Late | Severity::Risk => {
            let status = if worst == Severity::Late {
                ItemStatus::OffTrack
            } else {
                ItemStatus::AtRisk
            };
            let texts: Vec<&str> = findings
                .iter()
                .filter(|(s, _)| *s == worst)
                .map(|(_, t)| t.as_str())
                .collect();
            (status, join_reasons(&texts))
        }
        Severity::Fine => {
            if targets_met == targets_total && tasks_done == item.tasks.len() {
                let reason = match (targets_total, item.tasks.len()) {
                    (0, n) => format!("{n} 项任务全部完成"),
                    (m, 0) => format!("{m} 项指标全部达标"),
                    (m, n) => format!("{m} 项指标全部达标，{n} 项任务全部完成"),
                };
                (ItemStatus::Done, reason)
            } else {
                let mut texts: Vec<String> = findings.into_iter().map(|(_, t)| t).collect();
                let open = item.tasks.len() - tasks_done;
                if open > 0 {
                    let next = item
                        .tasks
                        .iter()
                        .filter(|t| !done_tasks.contains(&t.code.as_str()))
                        .min_by_key(|t| t.deadline)
                        .map(|t| {
                            format!(
                                "任务完成 {tasks_done}/{}，最近截止：{}「{}」{}",
                                item.tasks.len(),
                                t.code,
                                t.title,
                                t.deadline
                            )
                        });
                    texts.extend(next);
                }
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                (ItemStatus::OnTrack, join_reasons(&refs))
            }
        }
    }
}

/// At most three reasons, then “等 N 项”.
fn join_reasons(texts: &[&str]) -> String {
    const SHOWN: usize = 3;
    let mut s = texts
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join("；");
    if texts.len() > SHOWN {
        s.push_str(&format!("；等 {} 项", texts.len()));
    }
    s
}

/// “目标 0 个”, “目标 ≥90%”, “目标 1 ±0.2”.
fn target_phrase(plan: &Plan, t: &Target) -> String {
    let unit = plan.indicator(&t.indicator).map_or("", |d| d.unit.as_str());
    let shown = super::format_value(t.target, unit);
    match t.comparator {
        Comparator::AtMost if t.target == 0.0 => format!("目标 {shown}"),
        Comparator::AtMost => format!("目标 ≤{shown}"),
        Comparator::AtLeast => format!("目标 ≥{shown}"),
        Comparator::Equal if t.tolerance > 0.0 => {
            format!(
                "目标 {shown}（±{}）",
                super::format_value(t.tolerance, unit)
            )
        }
        Comparator::Equal => format!("目标 {shown}"),
    }
}

fn judge_target(
    plan: &Plan,
    t: &Target,
    value: Option<f64>,
    today: NaiveDate,
) -> (Severity, String) {
    let def = plan.indicator(&t.indicator);
    let name = def.map_or(t.indicator.as_str(), |d| d.name.as_str());
    let unit = def.map_or("", |d| d.unit.as_str());
    let goal = target_phrase(plan, t);
    let days_left = (t.deadline - today).num_days();
    let Some(v) = value else {
        return if days_left < 0 {
            (
                Severity::Late,
                format!("{name} 无数据，{goal}，截止 {} 已过", t.deadline),
            )
        } else {
            (
                Severity::Risk,
                format!("{name} 尚无数据，{goal}，距截止 {days_left} 天"),
            )
        };
    };
    let shown = super::format_value(v, unit);
    if t.is_met(v) {
        return (Severity::Fine, format!("{name} {shown}，{goal}，已达标"));
    }
    if days_left < 0 {
        return (
            Severity::Late,
            format!(
                "{name} {shown}，{goal}，截止 {} 已过 {} 天未达标",
                t.deadline, -days_left
            ),
        );
    }
    let text = format!("{name} {shown}，{goal}，距截止 {days_left} 天");
    match t.baseline {
        Some(b) => {
            let distance = distance_to(t, b);
            if distance <= super::EPSILON {
                // Already at the target at the start and slipped since: behind by the slip itself.
                return (Severity::Risk, text);
            }
            let total_days = (t.deadline - plan.start).num_days().max(1) as f64;
            let elapsed = ((today - plan.start).num_days() as f64).clamp(0.0, total_days);
            let expected_remaining = distance * (1.0 - elapsed / total_days);
            let behind = distance_to(t, v) - expected_remaining;
            if behind > AT_RISK_TOLERANCE * distance {
                let expected = expected_value(t, b, elapsed / total_days);
                (
                    Severity::Risk,
                    format!(
                        "{name} {shown}，按进度应达 {}，{goal}，距截止 {days_left} 天",
                        super::format_value(expected, unit)
                    ),
                )
            } else {
                (Severity::Fine, text)
            }
        }
        None if days_left <= AT_RISK_WINDOW_DAYS => (Severity::Risk, text),
        None => (Severity::Fine, text),
    }
}

/// How far `v` is from meeting the target (0 when met).
fn distance_to(t: &Target, v: f64) -> f64 {
    match t.comparator {
        Comparator::AtLeast => (t.target - v).max(0.0),
        Comparator::AtMost => (v - t.target).max(0.0),
        Comparator::Equal => ((v - t.target).abs() - t.tolerance).max(0.0),
    }
}

/// The straight-line expectation a `fraction` of the way from the baseline to the target.
fn expected_value(t: &Target, baseline: f64, fraction: f64) -> f64 {
    baseline + (t.target - baseline) * fraction
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::parse::tests::small_plan;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2020, m, day).unwrap()
    }

    fn vals(pairs: &[(&str, Option<f64>)]) -> HashMap<String, Option<f64>> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn an_item_with_all_targets_met_and_all_tasks_done_is_done() {
        let plan = small_plan();
        let item = plan.item(2).unwrap();
        let (s, why) = item_status(
            &plan,
            item,
            &vals(&[("big_class_count", Some(0.0))]),
            &["2.1"],
            d(11, 1),
        );
        assert_eq!(s, ItemStatus::Done, "{why}");
        assert_eq!(why, "1 项指标全部达标，1 项任务全部完成");
    }

    #[test]
    fn a_target_behind_the_straight_line_is_at_risk_and_the_reason_names_the_figures() {
        let plan = small_plan();
        let item = plan.item(2).unwrap();
        // Baseline 100 on 1 Jan, target 0 on 31 Dec: by 29 Nov (333 of 365 days) about 9 are expected.
        let (s, why) = item_status(
            &plan,
            item,
            &vals(&[("big_class_count", Some(40.0))]),
            &[],
            d(11, 29),
        );
        assert_eq!(s, ItemStatus::AtRisk, "{why}");
        assert_eq!(
            why,
            "56人及以上大班额班级数 40 个，按进度应达 8.77 个，目标 0 个，距截止 32 天"
        );
    }

    #[test]
    fn a_target_on_the_line_is_on_track() {
        let plan = small_plan();
        let item = plan.item(2).unwrap();
        let (s, why) = item_status(
            &plan,
            item,
            &vals(&[("big_class_count", Some(12.0))]),
            &[],
            d(11, 29),
        );
        assert_eq!(s, ItemStatus::OnTrack, "{why}");
        assert!(
            why.starts_with("56人及以上大班额班级数 12 个，目标 0 个，距截止 32 天"),
            "{why}"
        );
        assert!(why.contains("最近截止：2.1"), "{why}");
    }

    #[test]
    fn a_passed_deadline_unmet_is_off_track() {
        let plan = small_plan();
        let item = plan.item(2).unwrap();
        let (s, why) = item_status(
            &plan,
            item,
            &vals(&[("big_class_count", Some(3.0))]),
            &["2.1"],
            d(12, 31).succ_opt().unwrap_or(d(12, 31)),
        );
        // 2020-12-31 is the last day; the day after is outside 2020 but status may still be asked.
        assert_eq!(s, ItemStatus::OffTrack, "{why}");
        assert!(why.contains("截止 2020-12-31 已过 1 天未达标"), "{why}");
    }

    #[test]
    fn an_overdue_task_makes_the_item_off_track_even_when_targets_are_fine() {
        let plan = small_plan();
        let item = plan.item(1).unwrap();
        let (s, why) = item_status(&plan, item, &vals(&[]), &[], d(7, 10));
        assert_eq!(s, ItemStatus::OffTrack);
        assert_eq!(
            why,
            "任务 1.1「制定实施方案」已逾期 10 天（截止 2020-06-30）"
        );
        let (s, _) = item_status(&plan, item, &vals(&[]), &["1.1"], d(7, 10));
        assert_eq!(s, ItemStatus::OnTrack);
    }

    #[test]
    fn a_missing_value_is_at_risk_before_the_deadline() {
        let plan = small_plan();
        let item = plan.item(2).unwrap();
        let (s, why) = item_status(&plan, item, &vals(&[]), &[], d(3, 1));
        assert_eq!(s, ItemStatus::AtRisk);
        assert_eq!(
            why,
            "56人及以上大班额班级数 尚无数据，目标 0 个，距截止 305 天"
        );
    }

    #[test]
    fn without_a_baseline_a_target_is_at_risk_only_in_the_last_30_days() {
        let plan = small_plan();
        let item = plan.item(3).unwrap();
        let v = vals(&[("gross_enrolment", Some(85.0))]);
        assert_eq!(
            item_status(&plan, item, &v, &["3.1"], d(11, 30)).0,
            ItemStatus::OnTrack
        );
        let (s, why) = item_status(&plan, item, &v, &["3.1"], d(12, 1));
        assert_eq!(s, ItemStatus::AtRisk);
        assert_eq!(why, "学前三年毛入园率 85%，目标 ≥90%，距截止 30 天");
    }

    #[test]
    fn advisory_targets_do_not_move_the_status() {
        let plan = small_plan();
        let item = plan.item(3).unwrap();
        // over_standard_share is advisory in the small plan and far from its target.
        let v = vals(&[
            ("gross_enrolment", Some(91.0)),
            ("over_standard_share", Some(40.0)),
        ]);
        let (s, why) = item_status(&plan, item, &v, &["3.1"], d(12, 1));
        assert_eq!(s, ItemStatus::Done, "{why}");
    }
}
