//! Reading a plan file: TOML → raw structs (serde) → checked [`Plan`]. Syntax and shape errors come
//! from the TOML reader with their line and column; every semantic problem is then collected, so a
//! bureau staffer sees the whole list at once, each naming where it is (“第 8 项 targets[1]”).

use super::Plan;
use chrono::NaiveDate;
use serde::Deserialize;
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

mod check;

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
        let plan = check::check(&mut c, raw);
        if c.errors.is_empty() {
            Ok(plan)
        } else {
            Err(c.errors)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
