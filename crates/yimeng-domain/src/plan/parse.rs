//! Reading a plan file: TOML → raw structs (serde) → checked [`Plan`]. Syntax and shape errors come
//! from the TOML reader with their line and column; every semantic problem is then collected, so a
//! bureau staffer sees the whole list at once, each naming where it is (“第 8 项 targets[1]”).

use super::{
    Appraisal, AppraisalWeight, Comparator, Computation, Department, Direction, IndicatorDef,
    IndicatorKind, Level, Part, Plan, PlanItem, Reporters, Source, Target, Task,
};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use toml::Spanned;
use toml::value::Datetime;

/// What kind of problem a [`PlanError`] is (for tests and for grouping on a page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanErrorKind {
    /// Not TOML, or a field missing, misspelt or of the wrong type.
    Syntax,
    /// A required text is empty.
    Empty,
    /// A code or number defined twice.
    Duplicate,
    /// An item number missing from 1..=N.
    MissingItem,
    /// An item's part is not among `parts`.
    UnknownPart,
    /// A department code is not among `departments`.
    UnknownDepartment,
    /// An indicator code is not among `indicators`.
    UnknownIndicator,
    /// A computation key that the registry does not know.
    UnknownComputation,
    /// A value outside its code list (level, direction, kind, comparator, reporters).
    BadCode,
    /// A date outside the plan period, or the period itself wrong.
    DateOutOfRange,
    /// A weight that is not positive, or weights not summing to 100.
    BadWeight,
    /// A target's comparator does not follow the indicator's direction.
    ComparatorMismatch,
    /// A number that is not finite or out of its range, or fields that contradict each other.
    BadValue,
}

/// A problem in a plan file, in Chinese.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// TOML syntax or shape (missing field, unknown field, wrong type).
    #[error("第 {line} 行第 {column} 列：{message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A semantic problem.
    #[error("{at}：{message}{}", .line.map(|l| format!("（第 {l} 行）")).unwrap_or_default())]
    Invalid {
        /// What kind of problem.
        kind: PlanErrorKind,
        /// Where, e.g. “第 8 项 targets[1]”.
        at: String,
        /// The line of the enclosing table, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

impl PlanError {
    /// The kind of problem.
    pub fn kind(&self) -> PlanErrorKind {
        match self {
            PlanError::Syntax { .. } => PlanErrorKind::Syntax,
            PlanError::Invalid { kind, .. } => *kind,
        }
    }
}

// ---- raw shapes, as written in the file -------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    code: String,
    year: i32,
    title: String,
    document_no: String,
    issued: Datetime,
    start: Datetime,
    end: Datetime,
    #[serde(default)]
    departments: Vec<Spanned<RawDepartment>>,
    #[serde(default)]
    parts: Vec<Spanned<RawPart>>,
    #[serde(default)]
    items: Vec<Spanned<RawItem>>,
    #[serde(default)]
    indicators: Vec<Spanned<RawIndicator>>,
    #[serde(default)]
    appraisal: Option<RawAppraisal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDepartment {
    code: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    number: u32,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    number: u32,
    part: u32,
    title: String,
    summary: String,
    lead: String,
    #[serde(default)]
    co_owners: Vec<String>,
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    tasks: Vec<Spanned<RawTask>>,
    #[serde(default)]
    targets: Vec<Spanned<RawTarget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    code: String,
    title: String,
    deadline: Datetime,
    #[serde(default = "default_reporters")]
    reporters: String,
}

fn default_reporters() -> String {
    "lead".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    indicator: String,
    text: String,
    target: f64,
    comparator: String,
    deadline: Datetime,
    #[serde(default)]
    baseline: Option<f64>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    advisory: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    code: String,
    name: String,
    name_en: String,
    unit: String,
    formula: String,
    levels: Vec<String>,
    direction: String,
    kind: String,
    #[serde(default)]
    computation: Option<String>,
    #[serde(default)]
    reported: Option<RawReported>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReported {
    module: String,
    #[serde(default = "default_reporters")]
    reporter: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppraisal {
    #[serde(default)]
    weights: Vec<Spanned<RawWeight>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeight {
    indicator: String,
    weight: f64,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    zero_at: Option<f64>,
}

/// The appraisal weights must add up to this.
pub const WEIGHT_TOTAL: f64 = 100.0;

// ---- checking ---------------------------------------------------------------------------------

struct Checker<'a> {
    text: &'a str,
    errors: Vec<PlanError>,
}

impl Checker<'_> {
    fn line_of(&self, offset: usize) -> usize {
        line_col(self.text, offset).0
    }
    fn push(&mut self, kind: PlanErrorKind, at: &str, line: Option<usize>, message: String) {
        self.errors.push(PlanError::Invalid {
            kind,
            at: at.to_string(),
            line,
            message,
        });
    }
    fn non_empty(&mut self, at: &str, line: Option<usize>, field: &str, value: &str) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.push(PlanErrorKind::Empty, at, line, format!("{field} 不能为空"));
        }
        v.to_string()
    }
    fn date(
        &mut self,
        at: &str,
        line: Option<usize>,
        field: &str,
        d: &Datetime,
    ) -> Option<NaiveDate> {
        let parsed = match (&d.date, &d.time, &d.offset) {
            (Some(date), None, None) => NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            ),
            _ => None,
        };
        if parsed.is_none() {
            self.push(
                PlanErrorKind::BadValue,
                at,
                line,
                format!("{field} 应为日期（如 2020-12-31，不带时间），实际为 {d}"),
            );
        }
        parsed
    }
    fn in_period(
        &mut self,
        at: &str,
        line: Option<usize>,
        field: &str,
        d: Option<NaiveDate>,
        period: Option<(NaiveDate, NaiveDate)>,
    ) -> Option<NaiveDate> {
        let d = d?;
        if let Some((start, end)) = period
            && (d < start || d > end)
        {
            self.push(
                PlanErrorKind::DateOutOfRange,
                at,
                line,
                format!("{field} {d} 不在计划期 {start} 至 {end} 之内"),
            );
        }
        Some(d)
    }
    fn finite(&mut self, at: &str, line: Option<usize>, field: &str, v: f64) -> bool {
        if !v.is_finite() {
            self.push(
                PlanErrorKind::BadValue,
                at,
                line,
                format!("{field} 应为有限数值"),
            );
        }
        v.is_finite()
    }
    fn code<T>(
        &mut self,
        at: &str,
        line: Option<usize>,
        field: &str,
        r: Result<T, String>,
    ) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(PlanErrorKind::BadCode, at, line, format!("{field}：{e}"));
                None
            }
        }
    }
}

/// Is `s` a short ASCII code: a lowercase letter, then lowercase letters, digits, `_` or `-`?
fn is_ascii_code(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && s.len() <= 40
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The TOML reader's message, with the common serde phrases said in Chinese.
fn syntax_message(message: &str) -> String {
    let m = message.trim();
    if let Some(rest) = m.strip_prefix("missing field ") {
        return format!("缺少字段 {}", rest.trim_matches('`'));
    }
    if let Some(rest) = m.strip_prefix("unknown field ") {
        let field = rest.split(',').next().unwrap_or(rest).trim_matches('`');
        let expected = rest.split_once("expected ").map(|(_, e)| e).unwrap_or("");
        return if expected.is_empty() {
            format!("未知字段 {field}")
        } else {
            format!(
                "未知字段 {field}（可用字段：{}）",
                expected.replace('`', "")
            )
        };
    }
    if let Some(rest) = m.strip_prefix("invalid type: ") {
        return format!("类型不对：{rest}");
    }
    format!("TOML 格式错误：{m}")
}

impl Plan {
    /// Reads and checks a plan file. On failure, every problem found: a TOML syntax or shape error
    /// alone (nothing else can be checked), or all the semantic problems at once.
    pub fn parse(text: &str) -> Result<Plan, Vec<PlanError>> {
        let raw: RawPlan = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            vec![PlanError::Syntax {
                line,
                column,
                message: syntax_message(e.message()),
            }]
        })?;
        let mut c = Checker {
            text,
            errors: Vec::new(),
        };
        let plan = check(&mut c, raw);
        if c.errors.is_empty() {
            Ok(plan)
        } else {
            Err(c.errors)
        }
    }
}

fn check(c: &mut Checker<'_>, raw: RawPlan) -> Plan {
    // -- header
    let code = c.non_empty("计划", None, "code", &raw.code);
    if !code.is_empty() && !is_ascii_code(&code) {
        c.push(
            PlanErrorKind::BadValue,
            "计划",
            None,
            format!("code “{code}” 应为小写字母开头的 ASCII 代码，如 linyi-2020"),
        );
    }
    let title = c.non_empty("计划", None, "title", &raw.title);
    let document_no = c.non_empty("计划", None, "document_no", &raw.document_no);
    let issued = c.date("计划", None, "issued", &raw.issued);
    let start = c.date("计划", None, "start", &raw.start);
    let end = c.date("计划", None, "end", &raw.end);
    let mut period = None;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            c.push(
                PlanErrorKind::DateOutOfRange,
                "计划",
                None,
                format!("start {s} 晚于 end {e}"),
            );
        } else {
            period = Some((s, e));
        }
        use chrono::Datelike;
        if s.year() != raw.year && e.year() != raw.year {
            c.push(
                PlanErrorKind::DateOutOfRange,
                "计划",
                None,
                format!("计划期 {s} 至 {e} 不含年度 {}", raw.year),
            );
        }
    }

    // -- departments
    let mut departments = Vec::new();
    let mut dept_codes = HashSet::new();
    for (i, d) in raw.departments.iter().enumerate() {
        let line = Some(c.line_of(d.span().start));
        let at = format!("departments[{}]", i + 1);
        let d = d.get_ref();
        let code = c.non_empty(&at, line, "code", &d.code);
        let name = c.non_empty(&at, line, "name", &d.name);
        if !code.is_empty() && !is_ascii_code(&code) {
            c.push(
                PlanErrorKind::BadValue,
                &at,
                line,
                format!("科室代码 “{code}” 应为小写 ASCII 短代码，如 basic"),
            );
        }
        if !dept_codes.insert(code.clone()) {
            c.push(
                PlanErrorKind::Duplicate,
                &at,
                line,
                format!("科室代码 “{code}” 重复"),
            );
        }
        departments.push(Department { code, name });
    }

    // -- parts
    let mut parts = Vec::new();
    let mut part_numbers = HashSet::new();
    for (i, p) in raw.parts.iter().enumerate() {
        let line = Some(c.line_of(p.span().start));
        let at = format!("parts[{}]", i + 1);
        let p = p.get_ref();
        let title = c.non_empty(&at, line, "title", &p.title);
        if !part_numbers.insert(p.number) {
            c.push(
                PlanErrorKind::Duplicate,
                &at,
                line,
                format!("部分序号 {} 重复", p.number),
            );
        }
        parts.push(Part {
            number: p.number,
            title,
        });
    }

    // -- indicators
    let mut indicators = Vec::new();
    let mut indicator_index: HashMap<String, usize> = HashMap::new();
    for (i, ind) in raw.indicators.iter().enumerate() {
        let line = Some(c.line_of(ind.span().start));
        let r = ind.get_ref();
        let at = if r.code.trim().is_empty() {
            format!("indicators[{}]", i + 1)
        } else {
            format!("指标 “{}”", r.code.trim())
        };
        let code = c.non_empty(&at, line, "code", &r.code);
        if !code.is_empty() && !is_ascii_code(&code) {
            c.push(
                PlanErrorKind::BadValue,
                &at,
                line,
                "指标代码应为小写 ASCII 代码，如 big_class_count".into(),
            );
        }
        let name = c.non_empty(&at, line, "name", &r.name);
        let name_en = c.non_empty(&at, line, "name_en", &r.name_en);
        let unit = c.non_empty(&at, line, "unit", &r.unit);
        let formula = c.non_empty(&at, line, "formula", &r.formula);
        let mut levels = Vec::new();
        for l in &r.levels {
            if let Some(l) = c.code(&at, line, "levels", Level::parse(l)) {
                if levels.contains(&l) {
                    c.push(
                        PlanErrorKind::Duplicate,
                        &at,
                        line,
                        format!("levels 中 “{}” 重复", l.code()),
                    );
                } else {
                    levels.push(l);
                }
            }
        }
        levels.sort();
        if r.levels.is_empty() {
            c.push(
                PlanErrorKind::Empty,
                &at,
                line,
                "levels 不能为空（可填 city、county、school）".into(),
            );
        }
        let direction = c.code(&at, line, "direction", Direction::parse(&r.direction));
        let kind = c.code(&at, line, "kind", IndicatorKind::parse(&r.kind));
        if kind == Some(IndicatorKind::Percent) && unit != "%" {
            c.push(
                PlanErrorKind::BadValue,
                &at,
                line,
                format!("百分比指标的 unit 应为 “%”，实际为 “{unit}”"),
            );
        }
        let source = match (&r.computation, &r.reported) {
            (Some(key), None) => match Computation::from_code(key.trim()) {
                Some(comp) => {
                    if let Some(k) = kind
                        && k != comp.kind()
                    {
                        c.push(
                            PlanErrorKind::BadValue,
                            &at,
                            line,
                            format!(
                                "计算方法 {key} 得到的是{}，与 kind “{}” 不符",
                                comp.kind().label(),
                                k.code()
                            ),
                        );
                    }
                    for l in &levels {
                        if !comp.levels().contains(l) {
                            c.push(
                                PlanErrorKind::BadValue,
                                &at,
                                line,
                                format!("计算方法 {key} 不能在 “{}” 层级计算", l.label()),
                            );
                        }
                    }
                    Some(Source::Computed { computation: comp })
                }
                None => {
                    c.push(
                        PlanErrorKind::UnknownComputation,
                        &at,
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
                    None
                }
            },
            (None, Some(rep)) => {
                let module = c.non_empty(&at, line, "reported.module", &rep.module);
                c.code(
                    &at,
                    line,
                    "reported.reporter",
                    Reporters::parse(&rep.reporter),
                )
                .map(|reporter| Source::Reported { module, reporter })
            }
            (Some(_), Some(_)) => {
                c.push(
                    PlanErrorKind::BadValue,
                    &at,
                    line,
                    "computation 与 reported 只能填一个".into(),
                );
                None
            }
            (None, None) => {
                c.push(
                    PlanErrorKind::Empty,
                    &at,
                    line,
                    "须填 computation（由数据计算）或 reported（由科室或县区报送）".into(),
                );
                None
            }
        };
        if indicator_index.contains_key(&code) {
            c.push(
                PlanErrorKind::Duplicate,
                &at,
                line,
                format!("指标代码 “{code}” 重复"),
            );
            continue;
        }
        if let (Some(direction), Some(kind), Some(source)) = (direction, kind, source) {
            indicator_index.insert(code.clone(), indicators.len());
            indicators.push(IndicatorDef {
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
            indicator_index.insert(code, usize::MAX);
        }
    }
    let indicator = |code: &str| {
        indicator_index
            .get(code)
            .and_then(|&i| indicators.get(i))
            .cloned()
    };

    // -- items
    let mut items = Vec::new();
    let mut item_numbers = BTreeSet::new();
    let mut task_codes = HashSet::new();
    for (idx, it) in raw.items.iter().enumerate() {
        let line = Some(c.line_of(it.span().start));
        let r = it.get_ref();
        let at = format!("第 {} 项", r.number);
        if r.number == 0 {
            c.push(
                PlanErrorKind::BadValue,
                &format!("items[{}]", idx + 1),
                line,
                "序号应从 1 开始".into(),
            );
        }
        if !item_numbers.insert(r.number) {
            c.push(
                PlanErrorKind::Duplicate,
                &at,
                line,
                format!("序号 {} 重复", r.number),
            );
        }
        if !part_numbers.contains(&r.part) {
            c.push(
                PlanErrorKind::UnknownPart,
                &at,
                line,
                format!("部分 {} 未在 parts 中定义", r.part),
            );
        }
        let title = c.non_empty(&at, line, "title", &r.title);
        let summary = c.non_empty(&at, line, "summary", &r.summary);
        let lead = r.lead.trim().to_string();
        if !dept_codes.contains(&lead) {
            c.push(
                PlanErrorKind::UnknownDepartment,
                &at,
                line,
                format!("牵头科室 “{lead}” 未在 departments 中定义"),
            );
        }
        let mut co_owners: Vec<String> = Vec::new();
        for co in &r.co_owners {
            let co = co.trim().to_string();
            if !dept_codes.contains(&co) {
                c.push(
                    PlanErrorKind::UnknownDepartment,
                    &at,
                    line,
                    format!("配合科室 “{co}” 未在 departments 中定义"),
                );
            } else if co == lead || co_owners.contains(&co) {
                c.push(
                    PlanErrorKind::Duplicate,
                    &at,
                    line,
                    format!("配合科室 “{co}” 重复或与牵头科室相同"),
                );
            } else {
                co_owners.push(co);
            }
        }
        let module = r
            .module
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string);

        let mut tasks = Vec::new();
        if r.tasks.is_empty() {
            c.push(
                PlanErrorKind::Empty,
                &at,
                line,
                "至少要有一项任务（tasks）".into(),
            );
        }
        for (ti, t) in r.tasks.iter().enumerate() {
            let tline = Some(c.line_of(t.span().start));
            let tat = format!("{at} tasks[{}]", ti + 1);
            let t = t.get_ref();
            let code = t.code.trim().to_string();
            let prefix = format!("{}.", r.number);
            let well_formed = code
                .strip_prefix(&prefix)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !well_formed {
                c.push(
                    PlanErrorKind::BadValue,
                    &tat,
                    tline,
                    format!("任务编号 “{code}” 应写作 “{prefix}1” 这样的形式"),
                );
            }
            if !task_codes.insert(code.clone()) {
                c.push(
                    PlanErrorKind::Duplicate,
                    &tat,
                    tline,
                    format!("任务编号 “{code}” 重复"),
                );
            }
            let title = c.non_empty(&tat, tline, "title", &t.title);
            let deadline = c.date(&tat, tline, "deadline", &t.deadline);
            let deadline = c.in_period(&tat, tline, "deadline", deadline, period);
            let reporters = c.code(&tat, tline, "reporters", Reporters::parse(&t.reporters));
            if let (Some(deadline), Some(reporters)) = (deadline, reporters) {
                tasks.push(Task {
                    code,
                    title,
                    deadline,
                    reporters,
                });
            }
        }

        let mut targets = Vec::new();
        let mut bound = HashSet::new();
        for (ti, t) in r.targets.iter().enumerate() {
            let tline = Some(c.line_of(t.span().start));
            let tat = format!("{at} targets[{}]", ti + 1);
            let t = t.get_ref();
            let code = t.indicator.trim().to_string();
            let def = indicator(&code);
            if !indicator_index.contains_key(&code) {
                c.push(
                    PlanErrorKind::UnknownIndicator,
                    &tat,
                    tline,
                    format!("指标 “{code}” 未在 indicators 中定义"),
                );
            }
            if !bound.insert(code.clone()) {
                c.push(
                    PlanErrorKind::Duplicate,
                    &tat,
                    tline,
                    format!("同一项中指标 “{code}” 只能有一个目标"),
                );
            }
            let text = c.non_empty(&tat, tline, "text", &t.text);
            let ok_target = c.finite(&tat, tline, "target", t.target);
            if let Some(b) = t.baseline {
                c.finite(&tat, tline, "baseline", b);
            }
            let comparator = c.code(&tat, tline, "comparator", Comparator::parse(&t.comparator));
            if let (Some(cmp), Some(def)) = (comparator, &def) {
                let expected = Comparator::for_direction(def.direction);
                if cmp != expected {
                    c.push(
                        PlanErrorKind::ComparatorMismatch,
                        &tat,
                        tline,
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
            if let Some(def) = &def
                && def.kind == IndicatorKind::Percent
                && ok_target
                && !(0.0..=100.0).contains(&t.target)
            {
                c.push(
                    PlanErrorKind::BadValue,
                    &tat,
                    tline,
                    format!("百分比目标应在 0–100 之间，实际为 {}", t.target),
                );
            }
            let tolerance = match (comparator, t.tolerance) {
                (_, None) => 0.0,
                (Some(Comparator::Equal), Some(tol)) if tol.is_finite() && tol >= 0.0 => tol,
                (Some(Comparator::Equal), Some(tol)) => {
                    c.push(
                        PlanErrorKind::BadValue,
                        &tat,
                        tline,
                        format!("tolerance 应为非负数，实际为 {tol}"),
                    );
                    0.0
                }
                (_, Some(_)) => {
                    c.push(
                        PlanErrorKind::BadValue,
                        &tat,
                        tline,
                        "tolerance 只用于比较方式 equal（大体相当）".into(),
                    );
                    0.0
                }
            };
            let deadline = c.date(&tat, tline, "deadline", &t.deadline);
            let deadline = c.in_period(&tat, tline, "deadline", deadline, period);
            if let (Some(comparator), Some(deadline)) = (comparator, deadline) {
                targets.push(Target {
                    indicator: code,
                    text,
                    target: t.target,
                    comparator,
                    deadline,
                    baseline: t.baseline,
                    tolerance,
                    advisory: t.advisory,
                });
            }
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
    items.sort_by_key(|i| i.number);
    parts.sort_by_key(|p| p.number);

    // -- appraisal
    let mut weights = Vec::new();
    let raw_weights = raw.appraisal.map(|a| a.weights).unwrap_or_default();
    let mut weighted = HashSet::new();
    for (wi, w) in raw_weights.iter().enumerate() {
        let line = Some(c.line_of(w.span().start));
        let w = w.get_ref();
        let code = w.indicator.trim().to_string();
        let at = format!("appraisal.weights[{}]（{code}）", wi + 1);
        if !weighted.insert(code.clone()) {
            c.push(
                PlanErrorKind::Duplicate,
                &at,
                line,
                format!("指标 “{code}” 的权重重复"),
            );
        }
        if !(w.weight.is_finite() && w.weight > 0.0) {
            c.push(
                PlanErrorKind::BadWeight,
                &at,
                line,
                format!("权重应为正数，实际为 {}", w.weight),
            );
        }
        if !indicator_index.contains_key(&code) {
            c.push(
                PlanErrorKind::UnknownIndicator,
                &at,
                line,
                format!("指标 “{code}” 未在 indicators 中定义"),
            );
            continue;
        }
        let Some(def) = indicator(&code) else {
            continue;
        };
        if !def.has_level(Level::County) {
            c.push(
                PlanErrorKind::BadValue,
                &at,
                line,
                format!("考评县区的指标须含 county 层级，“{code}” 没有"),
            );
        }
        // The target: the weight's own, or the plan's (the latest deadline when several items bind it).
        let plan_target = items
            .iter()
            .flat_map(|i| i.targets.iter())
            .filter(|t| t.indicator == code)
            .max_by_key(|t| t.deadline);
        let comparator = Comparator::for_direction(def.direction);
        let (target, tolerance) = match (w.target, plan_target) {
            (Some(t), _) => (t, w.tolerance.unwrap_or(0.0)),
            (None, Some(pt)) => (pt.target, w.tolerance.unwrap_or(pt.tolerance)),
            (None, None) => {
                c.push(
                    PlanErrorKind::BadValue,
                    &at,
                    line,
                    format!("指标 “{code}” 在各项中没有目标，请在此给出 target"),
                );
                continue;
            }
        };
        if !target.is_finite() || !tolerance.is_finite() || tolerance < 0.0 {
            c.push(
                PlanErrorKind::BadValue,
                &at,
                line,
                "target 与 tolerance 应为有限数值，tolerance 不能为负".into(),
            );
            continue;
        }
        if let Some(z) = w.zero_at {
            let ok = z.is_finite()
                && match comparator {
                    Comparator::AtLeast => z < target,
                    Comparator::AtMost => z > target,
                    Comparator::Equal => z > 0.0,
                };
            if !ok {
                c.push(
                    PlanErrorKind::BadValue,
                    &at,
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
        weights.push(AppraisalWeight {
            indicator: code,
            weight: w.weight,
            target,
            comparator,
            tolerance,
            zero_at: w.zero_at,
        });
    }
    if !raw_weights.is_empty() {
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

    Plan {
        code,
        year: raw.year,
        title,
        document_no,
        issued: issued.unwrap_or_default(),
        start: start.unwrap_or_default(),
        end: end.unwrap_or_default(),
        departments,
        parts,
        items,
        indicators,
        appraisal: Appraisal { weights },
    }
}

#[cfg(test)]
pub(crate) mod tests;
