//! 工作计划 (the bureau's annual work plan) as data: parts, numbered items (工作要点), their lead and
//! co-owning departments (牵头科室、配合科室), tasks with deadlines, quantitative targets bound to
//! indicators, and the year-end appraisal of counties (年终考评).
//!
//! A plan is written in TOML (`plans/linyi-2020.toml` is the first, from 临教办字〔2020〕11号) and
//! read by [`Plan::parse`], which checks every reference and reports every problem at once, in
//! Chinese. On top of the parsed plan this module holds the pure rules the tracker uses:
//! [`item_status`] (已完成/正常推进/有风险/滞后 with a reason naming figures) and the weighted
//! county appraisal ([`Appraisal::score_county`], [`rank_counties`]). Figures themselves come from
//! elsewhere (the engine computes [`Computation`]s over the registry; departments and counties report
//! the rest), keyed by indicator code.

mod appraisal;
mod indicator;
mod parse;
mod status;

pub use appraisal::{
    Appraisal, AppraisalWeight, CountyScore, RankedCounty, ScorePart, attainment, rank_counties,
    score_county,
};
pub use indicator::*;
pub use parse::{PlanError, PlanErrorKind};
pub use status::{AT_RISK_TOLERANCE, AT_RISK_WINDOW_DAYS, ItemStatus, item_status};

use crate::code_list;
use chrono::NaiveDate;
use serde::Serialize;

/// A work plan, validated: every code it mentions is defined, every deadline lies in the plan period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Stable code, e.g. “linyi-2020”.
    pub code: String,
    /// 年度
    pub year: i32,
    /// 标题, e.g. “临沂市教育局（中共临沂市委教育工委）2020年工作要点”.
    pub title: String,
    /// 文号, e.g. “临教办字〔2020〕11号”.
    pub document_no: String,
    /// 印发日期
    pub issued: NaiveDate,
    /// First day of the plan period (progress is measured from here).
    pub start: NaiveDate,
    /// Last day of the plan period; every deadline lies in `start..=end`.
    pub end: NaiveDate,
    /// 科室 (departments of the bureau) that own items.
    pub departments: Vec<Department>,
    /// 部分 (the plan's parts, 一 to 五 in 2020).
    pub parts: Vec<Part>,
    /// 工作要点, numbered 1..=N without gaps.
    pub items: Vec<PlanItem>,
    /// 指标 used by targets and the appraisal.
    pub indicators: Vec<IndicatorDef>,
    /// 年终考评 of counties (may have no weights).
    pub appraisal: Appraisal,
}

/// 科室 (a department of the bureau).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Department {
    /// Short ASCII code, e.g. “basic”.
    pub code: String,
    /// Chinese name, e.g. “基础教育科”.
    pub name: String,
}

/// 部分 (a part of the plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// 1-based number (一 = 1).
    pub number: u32,
    /// Title as in the plan.
    pub title: String,
}

/// 工作要点 (a numbered work item).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanItem {
    /// 序号 (1..=35 in 2020).
    pub number: u32,
    /// The part it belongs to.
    pub part: u32,
    /// Title as in the plan.
    pub title: String,
    /// A faithful Chinese summary, 1–4 sentences.
    pub summary: String,
    /// 牵头科室 (department code).
    pub lead: String,
    /// 配合科室 (department codes).
    pub co_owners: Vec<String>,
    /// The operational module that serves it, e.g. “学籍服务”, when there is one.
    pub module: Option<String>,
    /// 任务 (at least one).
    pub tasks: Vec<Task>,
    /// 量化目标 (quantitative targets), each bound to an indicator; at most one per indicator.
    pub targets: Vec<Target>,
}

/// 任务 (a concrete action of an item, with a deadline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// “8.2”: the item number, a dot and the task's number.
    pub code: String,
    /// What is to be done.
    pub title: String,
    /// 完成时限
    pub deadline: NaiveDate,
    /// Who reports progress: the lead department only, or every county as well.
    pub reporters: Reporters,
}

code_list! {
    /// 比较方式 (how a value is compared with its target).
    pub enum Comparator: "比较方式" {
        /// 不低于 (value ≥ target); for higher-better indicators.
        AtLeast = "at_least", "不低于", "At least", "≥", ">=";
        /// 不高于 (value ≤ target); for lower-better indicators.
        AtMost = "at_most", "不高于", "At most", "≤", "<=";
        /// 等于 / 大体相当 (|value − target| ≤ tolerance); for closer-better indicators.
        Equal = "equal", "大体相当", "About equal", "等于", "=";
    }
}

/// Values closer than this are equal (float noise of percentages).
pub const EPSILON: f64 = 1e-9;

impl Comparator {
    /// Is `value` on the right side of `target`? `tolerance` only matters for [`Comparator::Equal`].
    pub fn is_met(self, value: f64, target: f64, tolerance: f64) -> bool {
        match self {
            Comparator::AtLeast => value >= target - EPSILON,
            Comparator::AtMost => value <= target + EPSILON,
            Comparator::Equal => (value - target).abs() <= tolerance + EPSILON,
        }
    }
    /// The comparator a target of an indicator with this direction must use.
    pub fn for_direction(direction: Direction) -> Comparator {
        match direction {
            Direction::HigherBetter => Comparator::AtLeast,
            Direction::LowerBetter => Comparator::AtMost,
            Direction::CloserBetter => Comparator::Equal,
        }
    }
}

/// 量化目标 (a quantitative target of an item).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// Indicator code.
    pub indicator: String,
    /// The plan's own words, verbatim Chinese.
    pub text: String,
    /// The target value, in the indicator's unit (90 for 90%).
    pub target: f64,
    /// How the value is compared with the target (matches the indicator's direction).
    pub comparator: Comparator,
    /// 截止日期
    pub deadline: NaiveDate,
    /// The value at the plan's start, when known (progress is expected to run linearly from it).
    pub baseline: Option<f64>,
    /// For [`Comparator::Equal`]: the accepted deviation (职普比“大体相当” → 0.2). 0 otherwise.
    pub tolerance: f64,
    /// 鼓励性目标 (the plan encourages rather than requires, e.g. “鼓励…小学每班不超过45人”): shown
    /// with its progress, but it does not move the item's status.
    pub advisory: bool,
}

impl Target {
    /// Is the target met by `value`?
    pub fn is_met(&self, value: f64) -> bool {
        self.comparator.is_met(value, self.target, self.tolerance)
    }
}

impl Plan {
    /// The item numbered `n`.
    pub fn item(&self, n: u32) -> Option<&PlanItem> {
        self.items.iter().find(|i| i.number == n)
    }
    /// The indicator with `code`.
    pub fn indicator(&self, code: &str) -> Option<&IndicatorDef> {
        self.indicators.iter().find(|i| i.code == code)
    }
    /// The department with `code`.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }
    /// The part numbered `n`.
    pub fn part(&self, n: u32) -> Option<&Part> {
        self.parts.iter().find(|p| p.number == n)
    }
    /// Every target with its item, in item order.
    pub fn targets(&self) -> impl Iterator<Item = (&PlanItem, &Target)> {
        self.items
            .iter()
            .flat_map(|i| i.targets.iter().map(move |t| (i, t)))
    }
    /// Every task with its item, in item order.
    pub fn tasks(&self) -> impl Iterator<Item = (&PlanItem, &Task)> {
        self.items
            .iter()
            .flat_map(|i| i.tasks.iter().map(move |t| (i, t)))
    }
    /// The items a department leads or co-owns.
    pub fn items_of(&self, department: &str) -> impl Iterator<Item = &PlanItem> {
        self.items
            .iter()
            .filter(move |i| i.lead == department || i.co_owners.iter().any(|c| c == department))
    }
    /// The indicators computed from the registry, with their computation.
    pub fn computed_indicators(&self) -> impl Iterator<Item = (&IndicatorDef, Computation)> {
        self.indicators
            .iter()
            .filter_map(|i| i.source.computation().map(|c| (i, c)))
    }
}
