//! The semantic checks of a plan file, one named check per rule. [`check`] runs them in the order a
//! staffer reads the file — header, departments, parts, indicators, items (tasks, targets),
//! appraisal weights — so the errors come out in that order, each with the line of its table.

use super::{
    Checker, RawAppraisal, RawDepartment, RawIndicator, RawItem, RawPart, RawPlan, RawReported,
    RawTarget, RawTask, RawWeight, WEIGHT_TOTAL, is_ascii_code,
};
use crate::plan::{
    Appraisal, AppraisalWeight, Comparator, Computation, Department, Direction, IndicatorDef,
    IndicatorKind, Level, Part, Plan, PlanErrorKind, PlanItem, Reporters, Source, Target, Task,
};
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashMap, HashSet};
use toml::Spanned;

/// The plan period, when both ends are dates and start is not after end.
type Period = Option<(NaiveDate, NaiveDate)>;

/// Checks a plan read from TOML and builds it; the problems are collected in `c`.
pub(super) fn check(c: &mut Checker<'_>, raw: RawPlan) -> Plan {
    let header = check_header(c, &raw);
    let (departments, dept_codes) = check_departments(c, &raw.departments);
    let (mut parts, part_numbers) = check_parts(c, &raw.parts);
    let indicators = check_indicators(c, &raw.indicators);
    let known = Known {
        dept_codes: &dept_codes,
        part_numbers: &part_numbers,
        indicators: &indicators,
        period: header.period,
    };
    let mut items = check_items(c, &raw.items, &known);
    items.sort_by_key(|i| i.number);
    parts.sort_by_key(|p| p.number);
    let weights = check_appraisal(c, raw.appraisal, &indicators, &items);

    Plan {
        code: header.code,
        year: raw.year,
        title: header.title,
        document_no: header.document_no,
        issued: header.issued.unwrap_or_default(),
        start: header.start.unwrap_or_default(),
        end: header.end.unwrap_or_default(),
        departments,
        parts,
        items,
        indicators: indicators.defs,
        appraisal: Appraisal { weights },
    }
}

/// What the items may refer to: the departments, parts and indicators defined, and the period.
struct Known<'a> {
    dept_codes: &'a HashSet<String>,
    part_numbers: &'a HashSet<u32>,
    indicators: &'a Indicators,
    period: Period,
}

/// The indicators defined, by code. A code defined but broken maps to no definition, so a
/// reference to it is not reported a second time.
#[derive(Default)]
struct Indicators {
    defs: Vec<IndicatorDef>,
    index: HashMap<String, usize>,
}

impl Indicators {
    fn is_defined(&self, code: &str) -> bool {
        self.index.contains_key(code)
    }
    fn get(&self, code: &str) -> Option<IndicatorDef> {
        self.index
            .get(code)
            .and_then(|&i| self.defs.get(i))
            .cloned()
    }
}

// ---- header -----------------------------------------------------------------------------------

/// The plan's own fields, checked.
struct Header {
    code: String,
    title: String,
    document_no: String,
    issued: Option<NaiveDate>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    period: Period,
}

fn check_header(c: &mut Checker<'_>, raw: &RawPlan) -> Header {
    let code = c.non_empty("计划", None, "code", &raw.code);
    check_plan_code_format(c, &code);
    let title = c.non_empty("计划", None, "title", &raw.title);
    let document_no = c.non_empty("计划", None, "document_no", &raw.document_no);
    let issued = c.date("计划", None, "issued", &raw.issued);
    let start = c.date("计划", None, "start", &raw.start);
    let end = c.date("计划", None, "end", &raw.end);
    let mut period = None;
    if let (Some(s), Some(e)) = (start, end) {
        period = check_period_order(c, s, e);
        check_period_contains_year(c, s, e, raw.year);
    }
    Header {
        code,
        title,
        document_no,
        issued,
        start,
        end,
        period,
    }
}

/// Rule: the plan code is a lowercase ASCII code, like `linyi-2020`.
fn check_plan_code_format(c: &mut Checker<'_>, code: &str) {
    if !code.is_empty() && !is_ascii_code(code) {
        c.push(
            PlanErrorKind::BadValue,
            "计划",
            None,
            format!("code “{code}” 应为小写字母开头的 ASCII 代码，如 linyi-2020"),
        );
    }
}

/// Rule: the plan period's start is not after its end. The period, when it is sound.
fn check_period_order(c: &mut Checker<'_>, s: NaiveDate, e: NaiveDate) -> Period {
    if s > e {
        c.push(
            PlanErrorKind::DateOutOfRange,
            "计划",
            None,
            format!("start {s} 晚于 end {e}"),
        );
        None
    } else {
        Some((s, e))
    }
}

/// Rule: the plan period touches the plan's year (starts or ends in it).
fn check_period_contains_year(c: &mut Checker<'_>, s: NaiveDate, e: NaiveDate, year: i32) {
    use chrono::Datelike;
    if s.year() != year && e.year() != year {
        c.push(
            PlanErrorKind::DateOutOfRange,
            "计划",
            None,
            format!("计划期 {s} 至 {e} 不含年度 {year}"),
        );
    }
}

// ---- departments and parts --------------------------------------------------------------------

fn check_departments(
    c: &mut Checker<'_>,
    raw: &[Spanned<RawDepartment>],
) -> (Vec<Department>, HashSet<String>) {
    let mut departments = Vec::new();
    let mut dept_codes = HashSet::new();
    for (i, d) in raw.iter().enumerate() {
        let line = Some(c.line_of(d.span().start));
        let at = format!("departments[{}]", i + 1);
        let d = d.get_ref();
        let code = c.non_empty(&at, line, "code", &d.code);
        let name = c.non_empty(&at, line, "name", &d.name);
        check_department_code_format(c, &at, line, &code);
        check_unique_department(c, &at, line, &mut dept_codes, &code);
        departments.push(Department { code, name });
    }
    (departments, dept_codes)
}

/// Rule: a department code is a short lowercase ASCII code, like `basic`.
fn check_department_code_format(c: &mut Checker<'_>, at: &str, line: Option<usize>, code: &str) {
    if !code.is_empty() && !is_ascii_code(code) {
        c.push(
            PlanErrorKind::BadValue,
            at,
            line,
            format!("科室代码 “{code}” 应为小写 ASCII 短代码，如 basic"),
        );
    }
}

/// Reports a second definition of a key that must be defined once (`first` is what inserting
/// the key into the set of those seen returned): “<what> 重复”.
fn first_use(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    first: bool,
    what: impl FnOnce() -> String,
) {
    if !first {
        c.push(
            PlanErrorKind::Duplicate,
            at,
            line,
            format!("{} 重复", what()),
        );
    }
}

/// Rule: a department code is defined once.
fn check_unique_department(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    seen: &mut HashSet<String>,
    code: &str,
) {
    first_use(c, at, line, seen.insert(code.to_string()), || {
        format!("科室代码 “{code}”")
    });
}

fn check_parts(c: &mut Checker<'_>, raw: &[Spanned<RawPart>]) -> (Vec<Part>, HashSet<u32>) {
    let mut parts = Vec::new();
    let mut part_numbers = HashSet::new();
    for (i, p) in raw.iter().enumerate() {
        let line = Some(c.line_of(p.span().start));
        let at = format!("parts[{}]", i + 1);
        let p = p.get_ref();
        let title = c.non_empty(&at, line, "title", &p.title);
        check_unique_part(c, &at, line, &mut part_numbers, p.number);
        parts.push(Part {
            number: p.number,
            title,
        });
    }
    (parts, part_numbers)
}

/// Rule: a part number is defined once.
fn check_unique_part(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    seen: &mut HashSet<u32>,
    number: u32,
) {
    first_use(c, at, line, seen.insert(number), || {
        format!("部分序号 {number}")
    });
}

// ---- indicators -------------------------------------------------------------------------------

fn check_indicators(c: &mut Checker<'_>, raw: &[Spanned<RawIndicator>]) -> Indicators {
    let mut indicators = Indicators::default();
    for (i, ind) in raw.iter().enumerate() {
        let line = Some(c.line_of(ind.span().start));
        let r = ind.get_ref();
        let at = if r.code.trim().is_empty() {
            format!("indicators[{}]", i + 1)
        } else {
            format!("指标 “{}”", r.code.trim())
        };
        let code = c.non_empty(&at, line, "code", &r.code);
        check_indicator_code_format(c, &at, line, &code);
        let name = c.non_empty(&at, line, "name", &r.name);
        let name_en = c.non_empty(&at, line, "name_en", &r.name_en);
        let unit = c.non_empty(&at, line, "unit", &r.unit);
        let formula = c.non_empty(&at, line, "formula", &r.formula);
        let levels = check_levels(c, &at, line, &r.levels);
        let direction = c.code(&at, line, "direction", Direction::parse(&r.direction));
        let kind = c.code(&at, line, "kind", IndicatorKind::parse(&r.kind));
        check_percent_unit(c, &at, line, kind, &unit);
        let source = check_source(c, &at, line, r, kind, &levels);
        if !check_unique_indicator(c, &at, line, &indicators, &code) {
            continue;
        }
        if let (Some(direction), Some(kind), Some(source)) = (direction, kind, source) {
            indicators.index.insert(code.clone(), indicators.defs.len());
            indicators.defs.push(IndicatorDef {
                code,
                name,
                name_en,
                unit,
                formula,
                levels,
                direction,
                kind,
                source,
            });
        } else {
            // Known but broken: remember the code so references to it are not reported twice.
            indicators.index.insert(code, usize::MAX);
        }
    }
    indicators
}

/// Rule: an indicator code is a lowercase ASCII code, like `big_class_count`.
fn check_indicator_code_format(c: &mut Checker<'_>, at: &str, line: Option<usize>, code: &str) {
    if !code.is_empty() && !is_ascii_code(code) {
        c.push(
            PlanErrorKind::BadValue,
            at,
            line,
            "指标代码应为小写 ASCII 代码，如 big_class_count".into(),
        );
    }
}

/// Rule: an indicator's levels are known codes, none repeated, and there is at least one.
/// The levels, sorted.
fn check_levels(c: &mut Checker<'_>, at: &str, line: Option<usize>, raw: &[String]) -> Vec<Level> {
    let mut levels = Vec::new();
    for l in raw {
        if let Some(l) = c.code(at, line, "levels", Level::parse(l)) {
            if levels.contains(&l) {
                c.push(
                    PlanErrorKind::Duplicate,
                    at,
                    line,
                    format!("levels 中 “{}” 重复", l.code()),
                );
            } else {
                levels.push(l);
            }
        }
    }
    levels.sort();
    if raw.is_empty() {
        c.push(
            PlanErrorKind::Empty,
            at,
            line,
            "levels 不能为空（可填 city、county、school）".into(),
        );
    }
    levels
}

/// Rule: a percentage indicator's unit is “%”.
fn check_percent_unit(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    kind: Option<IndicatorKind>,
    unit: &str,
) {
    if kind == Some(IndicatorKind::Percent) && unit != "%" {
        c.push(
            PlanErrorKind::BadValue,
            at,
            line,
            format!("百分比指标的 unit 应为 “%”，实际为 “{unit}”"),
        );
    }
}

/// Rule: an indicator has exactly one source, `computation` or `reported`.
fn check_source(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    r: &RawIndicator,
    kind: Option<IndicatorKind>,
    levels: &[Level],
) -> Option<Source> {
    match (&r.computation, &r.reported) {
        (Some(key), None) => check_computation(c, at, line, key, kind, levels),
        (None, Some(rep)) => check_reported(c, at, line, rep),
        (Some(_), Some(_)) => {
            c.push(
                PlanErrorKind::BadValue,
                at,
                line,
                "computation 与 reported 只能填一个".into(),
            );
            None
        }
        (None, None) => {
            c.push(
                PlanErrorKind::Empty,
                at,
                line,
                "须填 computation（由数据计算）或 reported（由科室或县区报送）".into(),
            );
            None
        }
    }
}

/// Rule: a computation key is one the registry knows, and it computes the indicator's kind at
/// each of its levels.
fn check_computation(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    key: &str,
    kind: Option<IndicatorKind>,
    levels: &[Level],
) -> Option<Source> {
    let Some(comp) = Computation::from_code(key.trim()) else {
        c.push(
            PlanErrorKind::UnknownComputation,
            at,
            line,
            format!(
                "未知的计算方法 “{key}”，可用：{}",
                Computation::ALL
                    .iter()
                    .map(|c| c.key())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        );
        return None;
    };
    check_computation_kind(c, at, line, key, comp, kind);
    check_computation_levels(c, at, line, key, comp, levels);
    Some(Source::Computed { computation: comp })
}

/// Rule: a computation yields the indicator's kind (a percentage, a count …).
fn check_computation_kind(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    key: &str,
    comp: Computation,
    kind: Option<IndicatorKind>,
) {
    if let Some(k) = kind
        && k != comp.kind()
    {
        c.push(
            PlanErrorKind::BadValue,
            at,
            line,
            format!(
                "计算方法 {key} 得到的是{}，与 kind “{}” 不符",
                comp.kind().label(),
                k.code()
            ),
        );
    }
}

/// Rule: a computation can be computed at each of the indicator's levels.
fn check_computation_levels(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    key: &str,
    comp: Computation,
    levels: &[Level],
) {
    for l in levels {
        if !comp.levels().contains(l) {
            c.push(
                PlanErrorKind::BadValue,
                at,
                line,
                format!("计算方法 {key} 不能在 “{}” 层级计算", l.label()),
            );
        }
    }
}

/// Rule: a reported indicator names its module and a known reporter.
fn check_reported(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    rep: &RawReported,
) -> Option<Source> {
    let module = c.non_empty(at, line, "reported.module", &rep.module);
    c.code(
        at,
        line,
        "reported.reporter",
        Reporters::parse(&rep.reporter),
    )
    .map(|reporter| Source::Reported { module, reporter })
}

/// Rule: an indicator code is defined once. False when it is a repeat.
fn check_unique_indicator(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    indicators: &Indicators,
    code: &str,
) -> bool {
    if indicators.is_defined(code) {
        c.push(
            PlanErrorKind::Duplicate,
            at,
            line,
            format!("指标代码 “{code}” 重复"),
        );
        return false;
    }
    true
}

// ---- items ------------------------------------------------------------------------------------

fn check_items(c: &mut Checker<'_>, raw: &[Spanned<RawItem>], known: &Known<'_>) -> Vec<PlanItem> {
    let mut items = Vec::new();
    let mut item_numbers = BTreeSet::new();
    let mut task_codes = HashSet::new();
    for (idx, it) in raw.iter().enumerate() {
        let line = Some(c.line_of(it.span().start));
        let r = it.get_ref();
        let at = format!("第 {} 项", r.number);
        check_item_number_from_one(c, idx, line, r.number);
        check_unique_item_number(c, &at, line, &mut item_numbers, r.number);
        check_item_part(c, &at, line, known, r.part);
        let title = c.non_empty(&at, line, "title", &r.title);
        let summary = c.non_empty(&at, line, "summary", &r.summary);
        let lead = r.lead.trim().to_string();
        check_lead(c, &at, line, known, &lead);
        let co_owners = check_co_owners(c, &at, line, known, &lead, &r.co_owners);
        let module = r
            .module
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string);

        check_has_tasks(c, &at, line, r);
        let mut tasks = Vec::new();
        for (ti, t) in r.tasks.iter().enumerate() {
            let tline = Some(c.line_of(t.span().start));
            let tat = format!("{at} tasks[{}]", ti + 1);
            let task = check_task(
                c,
                &tat,
                tline,
                r.number,
                t.get_ref(),
                known,
                &mut task_codes,
            );
            tasks.extend(task);
        }

        let mut targets = Vec::new();
        let mut bound = HashSet::new();
        for (ti, t) in r.targets.iter().enumerate() {
            let tline = Some(c.line_of(t.span().start));
            let tat = format!("{at} targets[{}]", ti + 1);
            targets.extend(check_target(c, &tat, tline, t.get_ref(), known, &mut bound));
        }

        items.push(PlanItem {
            number: r.number,
            part: r.part,
            title,
            summary,
            lead,
            co_owners,
            module,
            tasks,
            targets,
        });
    }
    check_items_complete(c, &item_numbers);
    items
}

/// Rule: item numbers start at 1.
fn check_item_number_from_one(c: &mut Checker<'_>, idx: usize, line: Option<usize>, number: u32) {
    if number == 0 {
        c.push(
            PlanErrorKind::BadValue,
            &format!("items[{}]", idx + 1),
            line,
            "序号应从 1 开始".into(),
        );
    }
}

/// Rule: an item number is used once.
fn check_unique_item_number(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    seen: &mut BTreeSet<u32>,
    number: u32,
) {
    first_use(c, at, line, seen.insert(number), || {
        format!("序号 {number}")
    });
}

/// Rule: an item's part is defined among `parts`.
fn check_item_part(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    known: &Known<'_>,
    part: u32,
) {
    if !known.part_numbers.contains(&part) {
        c.push(
            PlanErrorKind::UnknownPart,
            at,
            line,
            format!("部分 {part} 未在 parts 中定义"),
        );
    }
}

/// Rule: an item's lead department is defined among `departments`.
fn check_lead(c: &mut Checker<'_>, at: &str, line: Option<usize>, known: &Known<'_>, lead: &str) {
    if !known.dept_codes.contains(lead) {
        c.push(
            PlanErrorKind::UnknownDepartment,
            at,
            line,
            format!("牵头科室 “{lead}” 未在 departments 中定义"),
        );
    }
}

/// Rule: each co-owner department is defined, named once, and is not the lead. The co-owners
/// that pass.
fn check_co_owners(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    known: &Known<'_>,
    lead: &str,
    raw: &[String],
) -> Vec<String> {
    let mut co_owners: Vec<String> = Vec::new();
    for co in raw {
        let co = co.trim().to_string();
        if !known.dept_codes.contains(&co) {
            c.push(
                PlanErrorKind::UnknownDepartment,
                at,
                line,
                format!("配合科室 “{co}” 未在 departments 中定义"),
            );
        } else if co == lead || co_owners.contains(&co) {
            c.push(
                PlanErrorKind::Duplicate,
                at,
                line,
                format!("配合科室 “{co}” 重复或与牵头科室相同"),
            );
        } else {
            co_owners.push(co);
        }
    }
    co_owners
}

/// Rule: an item has at least one task.
fn check_has_tasks(c: &mut Checker<'_>, at: &str, line: Option<usize>, r: &RawItem) {
    if r.tasks.is_empty() {
        c.push(
            PlanErrorKind::Empty,
            at,
            line,
            "至少要有一项任务（tasks）".into(),
        );
    }
}

/// Checks one task of item `number`; the task, when nothing needed to build it is wrong.
fn check_task(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    number: u32,
    t: &RawTask,
    known: &Known<'_>,
    task_codes: &mut HashSet<String>,
) -> Option<Task> {
    let code = t.code.trim().to_string();
    check_task_code_format(c, at, line, number, &code);
    check_unique_task_code(c, at, line, task_codes, &code);
    let title = c.non_empty(at, line, "title", &t.title);
    let deadline = c.date(at, line, "deadline", &t.deadline);
    let deadline = c.in_period(at, line, "deadline", deadline, known.period);
    let reporters = c.code(at, line, "reporters", Reporters::parse(&t.reporters));
    Some(Task {
        code,
        title,
        deadline: deadline?,
        reporters: reporters?,
    })
}

/// Rule: a task code is the item number, a dot and a number, like `18.1`.
fn check_task_code_format(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    number: u32,
    code: &str,
) {
    let prefix = format!("{number}.");
    let well_formed = code
        .strip_prefix(&prefix)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        c.push(
            PlanErrorKind::BadValue,
            at,
            line,
            format!("任务编号 “{code}” 应写作 “{prefix}1” 这样的形式"),
        );
    }
}

/// Rule: a task code is used once in the plan.
fn check_unique_task_code(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    seen: &mut HashSet<String>,
    code: &str,
) {
    first_use(c, at, line, seen.insert(code.to_string()), || {
        format!("任务编号 “{code}”")
    });
}

/// Checks one target of an item; the target, when nothing needed to build it is wrong.
fn check_target(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    t: &RawTarget,
    known: &Known<'_>,
    bound: &mut HashSet<String>,
) -> Option<Target> {
    let code = t.indicator.trim().to_string();
    let def = known.indicators.get(&code);
    check_target_indicator_defined(c, at, line, known.indicators, &code);
    check_one_target_per_indicator(c, at, line, bound, &code);
    let text = c.non_empty(at, line, "text", &t.text);
    let ok_target = c.finite(at, line, "target", t.target);
    if let Some(b) = t.baseline {
        c.finite(at, line, "baseline", b);
    }
    let comparator = c.code(at, line, "comparator", Comparator::parse(&t.comparator));
    if let (Some(cmp), Some(def)) = (comparator, &def) {
        check_comparator_follows_direction(c, at, line, &code, cmp, def);
    }
    if let Some(def) = &def
        && ok_target
    {
        check_percent_target(c, at, line, def, t.target);
    }
    let tolerance = check_target_tolerance(c, at, line, comparator, t.tolerance);
    let deadline = c.date(at, line, "deadline", &t.deadline);
    let deadline = c.in_period(at, line, "deadline", deadline, known.period);
    Some(Target {
        indicator: code,
        text,
        target: t.target,
        comparator: comparator?,
        deadline: deadline?,
        baseline: t.baseline,
        tolerance,
        advisory: t.advisory,
    })
}

/// Rule: a target's indicator is defined among `indicators`.
fn check_target_indicator_defined(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    indicators: &Indicators,
    code: &str,
) {
    if !indicators.is_defined(code) {
        c.push(
            PlanErrorKind::UnknownIndicator,
            at,
            line,
            format!("指标 “{code}” 未在 indicators 中定义"),
        );
    }
}

/// Rule: an item has at most one target per indicator.
fn check_one_target_per_indicator(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    bound: &mut HashSet<String>,
    code: &str,
) {
    if !bound.insert(code.to_string()) {
        c.push(
            PlanErrorKind::Duplicate,
            at,
            line,
            format!("同一项中指标 “{code}” 只能有一个目标"),
        );
    }
}

/// Rule: a target's comparator follows its indicator's direction (higher is better → at least …).
fn check_comparator_follows_direction(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    code: &str,
    cmp: Comparator,
    def: &IndicatorDef,
) {
    let expected = Comparator::for_direction(def.direction);
    if cmp != expected {
        c.push(
            PlanErrorKind::ComparatorMismatch,
            at,
            line,
            format!(
                "指标 “{code}” {}，比较方式应为 {}（{}），实际为 {}（{}）",
                def.direction.label(),
                expected.code(),
                expected.label(),
                cmp.code(),
                cmp.label()
            ),
        );
    }
}

/// Rule: a percentage indicator's target lies between 0 and 100.
fn check_percent_target(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    def: &IndicatorDef,
    target: f64,
) {
    if def.kind == IndicatorKind::Percent && !(0.0..=100.0).contains(&target) {
        c.push(
            PlanErrorKind::BadValue,
            at,
            line,
            format!("百分比目标应在 0–100 之间，实际为 {target}"),
        );
    }
}

/// Rule: a tolerance is only for the comparator `equal`, and is not negative. The tolerance
/// (0 when none or refused).
fn check_target_tolerance(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    comparator: Option<Comparator>,
    tolerance: Option<f64>,
) -> f64 {
    match (comparator, tolerance) {
        (_, None) => 0.0,
        (Some(Comparator::Equal), Some(tol)) if tol.is_finite() && tol >= 0.0 => tol,
        (Some(Comparator::Equal), Some(tol)) => {
            c.push(
                PlanErrorKind::BadValue,
                at,
                line,
                format!("tolerance 应为非负数，实际为 {tol}"),
            );
            0.0
        }
        (_, Some(_)) => {
            c.push(
                PlanErrorKind::BadValue,
                at,
                line,
                "tolerance 只用于比较方式 equal（大体相当）".into(),
            );
            0.0
        }
    }
}

/// Rule: the items are numbered 1 to N without gaps, and there is at least one.
fn check_items_complete(c: &mut Checker<'_>, item_numbers: &BTreeSet<u32>) {
    if let Some(&max) = item_numbers.iter().next_back() {
        let missing: Vec<String> = (1..=max)
            .filter(|n| !item_numbers.contains(n))
            .map(|n| n.to_string())
            .collect();
        if !missing.is_empty() {
            c.push(
                PlanErrorKind::MissingItem,
                "items",
                None,
                format!(
                    "缺少第 {} 项（序号应为 1 至 {max} 连续）",
                    missing.join("、")
                ),
            );
        }
    } else {
        c.push(
            PlanErrorKind::Empty,
            "items",
            None,
            "计划中没有任何工作要点".into(),
        );
    }
}

// ---- appraisal --------------------------------------------------------------------------------

fn check_appraisal(
    c: &mut Checker<'_>,
    appraisal: Option<RawAppraisal>,
    indicators: &Indicators,
    items: &[PlanItem],
) -> Vec<AppraisalWeight> {
    let raw_weights = appraisal.map(|a| a.weights).unwrap_or_default();
    let mut weights = Vec::new();
    let mut weighted = HashSet::new();
    let scope = Weighing { indicators, items };
    for (wi, w) in raw_weights.iter().enumerate() {
        let line = Some(c.line_of(w.span().start));
        let w = w.get_ref();
        let code = w.indicator.trim().to_string();
        let at = format!("appraisal.weights[{}]（{code}）", wi + 1);
        weights.extend(check_weight(c, &at, line, w, &mut weighted, &scope));
    }
    check_weight_total(c, &raw_weights);
    weights
}

/// What an appraisal weight is checked against: the indicators and the items' targets.
struct Weighing<'a> {
    indicators: &'a Indicators,
    items: &'a [PlanItem],
}

/// Checks one appraisal weight; the weight, when its indicator and target are sound.
fn check_weight(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    w: &RawWeight,
    weighted: &mut HashSet<String>,
    scope: &Weighing<'_>,
) -> Option<AppraisalWeight> {
    let (indicators, items) = (scope.indicators, scope.items);
    let code = w.indicator.trim().to_string();
    check_unique_weight(c, at, line, weighted, &code);
    check_weight_positive(c, at, line, w.weight);
    check_weight_indicator_defined(c, at, line, indicators, &code)?;
    let def = indicators.get(&code)?;
    check_weight_county_level(c, at, line, &def, &code);
    let (target, tolerance) = check_weight_has_target(c, at, line, w, items, &code)?;
    check_weight_target_finite(c, at, line, target, tolerance)?;
    let comparator = Comparator::for_direction(def.direction);
    check_zero_at(c, at, line, w.zero_at, comparator, target);
    Some(AppraisalWeight {
        indicator: code,
        weight: w.weight,
        target,
        comparator,
        tolerance,
        zero_at: w.zero_at,
    })
}

/// Rule: an indicator is weighted once.
fn check_unique_weight(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    weighted: &mut HashSet<String>,
    code: &str,
) {
    if !weighted.insert(code.to_string()) {
        c.push(
            PlanErrorKind::Duplicate,
            at,
            line,
            format!("指标 “{code}” 的权重重复"),
        );
    }
}

/// Rule: a weight is a positive number.
fn check_weight_positive(c: &mut Checker<'_>, at: &str, line: Option<usize>, weight: f64) {
    if !(weight.is_finite() && weight > 0.0) {
        c.push(
            PlanErrorKind::BadWeight,
            at,
            line,
            format!("权重应为正数，实际为 {weight}"),
        );
    }
}

/// Rule: a weighted indicator is defined among `indicators`. `None` when it is not.
fn check_weight_indicator_defined(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    indicators: &Indicators,
    code: &str,
) -> Option<()> {
    if indicators.is_defined(code) {
        return Some(());
    }
    c.push(
        PlanErrorKind::UnknownIndicator,
        at,
        line,
        format!("指标 “{code}” 未在 indicators 中定义"),
    );
    None
}

/// Rule: an indicator that appraises the counties has the county level.
fn check_weight_county_level(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    def: &IndicatorDef,
    code: &str,
) {
    if !def.has_level(Level::County) {
        c.push(
            PlanErrorKind::BadValue,
            at,
            line,
            format!("考评县区的指标须含 county 层级，“{code}” 没有"),
        );
    }
}

/// Rule: a weighted indicator has a target: the weight's own, or the plan's (the latest deadline
/// when several items bind it). The target and its tolerance.
fn check_weight_has_target(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    w: &RawWeight,
    items: &[PlanItem],
    code: &str,
) -> Option<(f64, f64)> {
    let plan_target = items
        .iter()
        .flat_map(|i| i.targets.iter())
        .filter(|t| t.indicator == code)
        .max_by_key(|t| t.deadline);
    match (w.target, plan_target) {
        (Some(t), _) => Some((t, w.tolerance.unwrap_or(0.0))),
        (None, Some(pt)) => Some((pt.target, w.tolerance.unwrap_or(pt.tolerance))),
        (None, None) => {
            c.push(
                PlanErrorKind::BadValue,
                at,
                line,
                format!("指标 “{code}” 在各项中没有目标，请在此给出 target"),
            );
            None
        }
    }
}

/// Rule: a weight's target and tolerance are finite, and the tolerance is not negative.
/// `None` when they are not.
fn check_weight_target_finite(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    target: f64,
    tolerance: f64,
) -> Option<()> {
    if target.is_finite() && tolerance.is_finite() && tolerance >= 0.0 {
        return Some(());
    }
    c.push(
        PlanErrorKind::BadValue,
        at,
        line,
        "target 与 tolerance 应为有限数值，tolerance 不能为负".into(),
    );
    None
}

/// Rule: `zero_at` (where the score falls to 0) lies on the bad side of the target: below it
/// when higher is better, above it when lower is better, a positive deviation for `equal`.
fn check_zero_at(
    c: &mut Checker<'_>,
    at: &str,
    line: Option<usize>,
    zero_at: Option<f64>,
    comparator: Comparator,
    target: f64,
) {
    let Some(z) = zero_at else {
        return;
    };
    let ok = z.is_finite()
        && match comparator {
            Comparator::AtLeast => z < target,
            Comparator::AtMost => z > target,
            Comparator::Equal => z > 0.0,
        };
    if !ok {
        c.push(
            PlanErrorKind::BadValue,
            at,
            line,
            format!(
                "zero_at {z} 不合理：{}",
                match comparator {
                    Comparator::AtLeast => "越高越好的指标应低于目标值",
                    Comparator::AtMost => "越低越好的指标应高于目标值",
                    Comparator::Equal => "应为正的偏差",
                }
            ),
        );
    }
}

/// Rule: the appraisal weights, when there are any, add up to [`WEIGHT_TOTAL`].
fn check_weight_total(c: &mut Checker<'_>, raw_weights: &[Spanned<RawWeight>]) {
    if raw_weights.is_empty() {
        return;
    }
    let sum: f64 = raw_weights.iter().map(|w| w.get_ref().weight).sum();
    if (sum - WEIGHT_TOTAL).abs() > 1e-6 {
        c.push(
            PlanErrorKind::BadWeight,
            "appraisal.weights",
            None,
            format!("权重合计应为 {WEIGHT_TOTAL}，实际为 {sum}"),
        );
    }
}
