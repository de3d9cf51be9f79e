//! 月调度 (monthly dispatch), the first user of the periodic-report cycle
//! (`yimeng_domain::report`, `yimeng_store::report`): the work behind its pages and its API.
//!
//! From the plan it decides who files which task (the item's lead department, or every county
//! when the task says so), which months are owed (from the plan's start to the task's deadline)
//! and who reviews (the item's lead department or the city administrator); the store keeps the
//! reports, runs their review on the approval flow and computes the late and missing flags of the
//! owed reports ([`yimeng_store::dispatch::expected`]). Both surfaces call [`file_report`],
//! [`review`], [`overview`] and [`half_year_lines`], so a rule lives here once.

use crate::auth::User;
use crate::error::Failure;
use crate::service::tracker::period_of;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use yimeng_domain::Role;
use yimeng_domain::calendar::WorkCalendar;
use yimeng_domain::plan::{IndicatorDef, Level, Plan, PlanItem, Reporters, Source, Task};
use yimeng_domain::region::LINYI_UNITS;
use yimeng_domain::report::{Due, Period, PeriodKind, ReportState};
use yimeng_domain::{RegionCode, Rules};
use yimeng_store::Db;
use yimeng_store::audit::CITY_COUNTY_ID;
use yimeng_store::dispatch::{self, Accepted, ReportFilter, ReportInput, ReportRow, VisibleReport};
use yimeng_store::report::{Owed, ReportingUnit};

/// What every dispatch step works with: the store, the signed-in user, the local rules and the
/// plan.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    pub db: &'a Db,
    pub user: &'a User,
    pub rules: &'a Rules,
    pub plan: &'a Plan,
}

/// The unit an account files for: its county, or its department. (unit, owning region)
pub fn unit_of(u: &User) -> Option<(String, i32)> {
    match u.role() {
        Role::County => u.account.county_id.map(|c| (c.to_string(), c)),
        Role::CityDept => u.account.department.clone().map(|d| (d, CITY_COUNTY_ID)),
        _ => None,
    }
}

/// Whether a unit reports on a task: the lead department of its item, or every county when the
/// task says so.
pub fn reports_on(item: &PlanItem, task: &Task, unit: &str) -> bool {
    if unit.parse::<i32>().is_ok() {
        task.reporters == Reporters::Counties
    } else {
        item.lead == unit
    }
}

/// The months a task expects reports for, up to `until`: from the plan's start to the task's
/// deadline.
pub fn periods(plan: &Plan, task: &Task, until: NaiveDate) -> Vec<String> {
    months(plan.start, task.deadline.min(until).min(plan.end))
}

/// The months (`YYYY-MM`) from the month of `from` to the month of `to`, inclusive.
pub fn months(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    Period::range(PeriodKind::Month, from, to)
        .iter()
        .map(Period::key)
        .collect()
}

/// The reported indicators a unit fills in for a task's item: the item's targets whose indicator
/// is reported by that kind of unit.
pub fn reported_indicators<'a>(
    plan: &'a Plan,
    item: &PlanItem,
    unit: &str,
) -> Vec<&'a IndicatorDef> {
    let county = unit.parse::<i32>().is_ok();
    item.targets
        .iter()
        .filter_map(|t| plan.indicator(&t.indicator))
        .filter(|d| match &d.source {
            Source::Reported { reporter, .. } => {
                if county {
                    *reporter == Reporters::Counties && d.has_level(Level::County)
                } else {
                    true
                }
            }
            Source::Computed { .. } => false,
        })
        .collect()
}

/// Every unit that files reports: the departments leading items, then the counties.
pub fn all_units(plan: &Plan) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    for item in &plan.items {
        if !units.contains(&item.lead) {
            units.push(item.lead.clone());
        }
    }
    units.extend(LINYI_UNITS.iter().map(|u| u.code.get().to_string()));
    units
}

/// The reporting unit of a unit code (a county code or a department code).
pub fn reporting_unit(unit: &str) -> ReportingUnit {
    match unit.parse::<i32>() {
        Ok(c) => ReportingUnit::County(RegionCode::from_i32(c)),
        Err(_) => ReportingUnit::Department(unit.to_string()),
    }
}

/// Who may review a report: the lead department of the task's item, or the city administrator.
pub fn may_review(u: &User, plan: &Plan, task_code: &str) -> bool {
    match u.role() {
        Role::CityAdmin => true,
        Role::CityDept => {
            let item = task_code
                .split('.')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .and_then(|n| plan.item(n));
            item.is_some_and(|i| u.account.department.as_deref() == Some(i.lead.as_str()))
        }
        _ => false,
    }
}

/// Who may read a report (beyond the store's scope check): its own unit, the reviewers, and the
/// city's roles. Inspectors see only their assigned schools, never a county's or a department's
/// report.
pub fn may_read(u: &User, plan: &Plan, r: &ReportRow) -> bool {
    match u.role() {
        Role::CityAdmin | Role::CityDept => true,
        Role::County => u.account.county_id == Some(r.county_id),
        _ => may_review(u, plan, &r.task_code),
    }
}

/// Monthly dispatch is a county-level and department-level record: refuses (404) the roles whose
/// scope holds no county or department (inspectors; schools see their own pages elsewhere).
pub fn require_reader(u: &User) -> Result<(), Failure> {
    u.require_staff()?;
    if u.role() == Role::Inspector {
        return Err(Failure::NotFound);
    }
    Ok(())
}

/// A task of the plan by its code (404 when unknown).
pub fn find_task<'a>(plan: &'a Plan, code: &str) -> Result<(&'a PlanItem, &'a Task), Failure> {
    plan.tasks()
        .find(|(_, t)| t.code == code)
        .ok_or(Failure::NotFound)
}

/// The unit the user files a task for, and its owning region; refused when the user's unit does
/// not report on the task.
pub fn filer(u: &User, item: &PlanItem, task: &Task) -> Result<(String, i32), Failure> {
    let Some((unit, owner)) = unit_of(u) else {
        return Err(Failure::Forbidden(
            "只有县区教育局和市局科室（已设置所属科室的账户）可以填报月调度".into(),
        ));
    };
    if !reports_on(item, task, &unit) {
        return Err(Failure::Forbidden(format!(
            "任务 {} 不由本单位（{}）填报",
            task.code, unit
        )));
    }
    Ok((unit, owner))
}

/// Reads a `YYYY-MM` month (422 with the expected form otherwise).
pub fn parse_month(p: &str) -> Result<String, Failure> {
    dispatch::check_period(p.trim()).map_err(Failure::BadRequest)?;
    Ok(p.trim().to_string())
}

/// When a month's report is due ([`Rules::dispatch_due_rule`] on the stored calendar).
pub fn due_of(rules: &Rules, calendar: &WorkCalendar, period: &str) -> Option<Due> {
    let p = Period::parse_as(PeriodKind::Month, period).ok()?;
    Some(rules.dispatch_due_rule().due(&p, calendar))
}

/// The unit's own report on a task for a month, with its values and files.
pub async fn own_report(
    cx: Cx<'_>,
    owner: i32,
    unit: &str,
    task: &str,
    period: &str,
) -> Result<Option<dispatch::Report>, Failure> {
    let counties = dispatch::readable_counties(&cx.user.scope, &[owner]);
    if counties.is_empty() {
        return Ok(None);
    }
    let rows = dispatch::list(
        cx.db,
        &ReportFilter {
            counties,
            plan_code: cx.plan.code.clone(),
            period: Some(period.to_string()),
            unit: Some(unit.to_string()),
            task_code: Some(task.to_string()),
            ..Default::default()
        },
    )
    .await?;
    match rows.first() {
        Some(r) => {
            let parent = dispatch::visible(cx.db, &cx.user.scope, r.county_id, r.id).await?;
            Ok(Some(dispatch::get(cx.db, &parent).await?))
        }
        None => Ok(None),
    }
}

/// The due date of a month's report, as text (empty for a bad month).
pub async fn due_text(cx: Cx<'_>, period: &str) -> Result<String, Failure> {
    let calendar = yimeng_store::calendar::load(cx.db).await?;
    Ok(due_of(cx.rules, &calendar, period).map_or(String::new(), |d| d.date.to_string()))
}

/// One owed report as the pages and the API show it.
#[derive(Debug, Clone)]
pub struct Expected {
    pub item: u32,
    pub task: Task,
    pub unit: String,
    pub period: String,
    /// The stored report (a draft included).
    pub report: Option<ReportRow>,
    pub state: ReportState,
    /// The due date (local).
    pub due: Option<NaiveDate>,
    /// Submitted after its due time.
    pub late: bool,
    /// Not submitted and its due time has passed.
    pub missing: bool,
}

/// The reports `units` owe for `period` with their state and flags at `now`, read through the
/// user's scope (owed reports of units outside it are left out).
pub async fn expected(
    cx: Cx<'_>,
    units: &[String],
    period: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Expected>, Failure> {
    let Cx {
        db,
        user: u,
        rules,
        plan,
    } = cx;
    let calendar = yimeng_store::calendar::load(db).await?;
    let Some(due) = due_of(rules, &calendar, period) else {
        return Ok(Vec::new());
    };
    let month = Period::parse_as(PeriodKind::Month, period)
        .map_err(|e| Failure::BadRequest(e.to_string()))?;
    let mut owed = Vec::new();
    let mut what = Vec::new();
    for unit in units {
        for item in &plan.items {
            for task in &item.tasks {
                if !reports_on(item, task, unit)
                    || !periods(plan, task, month.last_day())
                        .iter()
                        .any(|p| p == period)
                {
                    continue;
                }
                owed.push(Owed {
                    unit: reporting_unit(unit),
                    subject: task.code.clone(),
                    period: month,
                    due,
                });
                what.push((item.number, task.clone(), unit.clone()));
            }
        }
    }
    let found = dispatch::expected(db, &u.scope, &plan.code, owed, now).await?;
    let rows = if found.iter().any(|e| e.filed.is_some()) {
        dispatch::list(
            db,
            &ReportFilter {
                counties: dispatch::readable_counties(
                    &u.scope,
                    &crate::service::tracker::regions(),
                ),
                plan_code: plan.code.clone(),
                period: Some(period.to_string()),
                ..Default::default()
            },
        )
        .await?
    } else {
        Vec::new()
    };
    Ok(found
        .into_iter()
        .filter_map(|e| {
            let (item, task, unit) = what
                .iter()
                .find(|(_, t, un)| t.code == e.owed.subject && reporting_unit(un) == e.owed.unit)?
                .clone();
            let report = e.filed.as_ref().and_then(|f| {
                rows.iter()
                    .find(|r| r.county_id == f.county_id && r.id == f.id)
                    .cloned()
            });
            Some(Expected {
                item,
                task,
                unit,
                period: period.to_string(),
                report,
                state: e.state,
                due: Some(e.standing.due.date),
                late: e.standing.late,
                missing: e.standing.missing,
            })
        })
        .collect())
}

/// One unit's line of the late/missing overview.
#[derive(Debug, Clone, Serialize)]
pub struct UnitLine {
    pub unit: String,
    pub name: String,
    pub expected: usize,
    pub submitted: usize,
    pub approved: usize,
    pub missing: usize,
    pub late: usize,
}

/// The late/missing overview of a month: one line per unit that owes reports, for the units the
/// user may read. Returns the lines and the owed reports behind them.
pub async fn overview(
    cx: Cx<'_>,
    period: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<UnitLine>, Vec<Expected>), Failure> {
    let plan = cx.plan;
    let units = all_units(plan);
    let all = expected(cx, &units, period, now).await?;
    let lines = units
        .into_iter()
        .map(|unit| {
            let e: Vec<&Expected> = all.iter().filter(|x| x.unit == unit).collect();
            UnitLine {
                name: crate::service::plan::unit_name(plan, &unit),
                expected: e.len(),
                submitted: e.iter().filter(|x| x.state.was_submitted()).count(),
                approved: e
                    .iter()
                    .filter(|x| x.state == ReportState::Approved)
                    .count(),
                missing: e.iter().filter(|x| x.missing).count(),
                late: e.iter().filter(|x| x.late).count(),
                unit,
            }
        })
        .filter(|l| l.expected > 0)
        .collect();
    Ok((lines, all))
}

/// A report as a unit files it: the raw field values of a form or a JSON body.
#[derive(Debug, Clone, Default)]
pub struct Filing {
    pub period: String,
    pub progress: String,
    pub narrative: String,
    /// (indicator code, value as typed).
    pub values: Vec<(String, String)>,
    pub submit: bool,
    /// Evidence files, already accepted.
    pub files: Vec<Accepted>,
}

/// Checks a filing against the task's reported indicators; every problem in Chinese, naming the
/// field. Returns the store's input.
pub fn check_filing(
    plan: &Plan,
    item: &PlanItem,
    task: &Task,
    unit: &str,
    owner: i32,
    f: &Filing,
) -> Result<ReportInput, Vec<String>> {
    let mut errors = Vec::new();
    let period = match dispatch::check_period(f.period.trim()) {
        Ok(()) => f.period.trim().to_string(),
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let allowed = reported_indicators(plan, item, unit);
    let progress: Option<i32> = f
        .progress
        .trim()
        .parse()
        .ok()
        .filter(|p| (0..=100).contains(p));
    if progress.is_none() {
        errors.push(format!(
            "进度“{}”应为 0 到 100 的整数",
            yimeng_domain::text::preview(f.progress.trim(), 10)
        ));
    }
    if f.submit && f.narrative.trim().is_empty() {
        errors.push("报送时须填写进展情况".into());
    }
    if f.narrative.chars().count() > 20_000 {
        errors.push("进展情况不能超过 20000 字".into());
    }
    let mut values = Vec::new();
    for (code, raw) in &f.values {
        let Some(def) = allowed.iter().find(|d| d.code == *code) else {
            errors.push(format!(
                "指标“{}”不属于本任务的填报指标",
                yimeng_domain::text::preview(code, 40)
            ));
            continue;
        };
        let raw = raw.trim().trim_end_matches('%').replace([',', '，'], "");
        if raw.is_empty() {
            if f.submit {
                errors.push(format!("报送时须填写指标“{}”", def.name));
            }
            continue;
        }
        match raw.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 && !(def.unit == "%" && v > 100.0) => {
                values.push((code.clone(), v))
            }
            _ => errors.push(format!(
                "指标“{}”的数值“{}”无效{}",
                def.name,
                yimeng_domain::text::preview(&raw, 20),
                if def.unit == "%" {
                    "（应为 0–100 的百分数）"
                } else {
                    "（应为非负数）"
                }
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ReportInput {
        county_id: owner,
        plan_code: plan.code.clone(),
        task_code: task.code.clone(),
        period,
        unit: unit.to_string(),
        progress: progress.unwrap_or(0),
        narrative: f.narrative.trim().to_string(),
        values,
        submit: f.submit,
    })
}

/// Files (saves, and when asked submits or resubmits) the user's report on a task, with its
/// evidence files. Problems with the fields are [`Failure::Fields`]-like: a 422 naming each.
pub async fn file_report(cx: Cx<'_>, task_code: &str, filing: &Filing) -> Result<i64, FileError> {
    let Cx {
        db,
        user: u,
        rules,
        plan,
    } = cx;
    u.require_staff()?;
    let (item, task) = find_task(plan, task_code)?;
    let (unit, owner) = filer(u, item, task)?;
    let input = check_filing(plan, item, task, &unit, owner, filing).map_err(FileError::Fields)?;
    let actor = u.actor();
    let id = dispatch::save(db, &actor, &u.scope, rules, input)
        .await
        .map_err(Failure::from)?;
    for file in &filing.files {
        dispatch::add_file(db, &actor, owner, id, file)
            .await
            .map_err(Failure::from)?;
    }
    Ok(id)
}

/// Why a filing failed: the fields (each problem named), or a refusal.
#[derive(Debug)]
pub enum FileError {
    /// The fields' problems, in Chinese.
    Fields(Vec<String>),
    /// Refused otherwise (not found, forbidden, locked …).
    Refused(Failure),
}

impl From<Failure> for FileError {
    fn from(f: Failure) -> Self {
        FileError::Refused(f)
    }
}

/// A report the user may read (404 otherwise).
pub async fn readable(cx: Cx<'_>, county: i32, id: i64) -> Result<VisibleReport, Failure> {
    let u = cx.user;
    require_reader(u)?;
    let parent = dispatch::visible(cx.db, &u.scope, county, id).await?;
    if !may_read(u, cx.plan, parent.row()) {
        return Err(Failure::NotFound);
    }
    Ok(parent)
}

/// The reports the user reviews in a state (`submitted` by default on the pages): the city's
/// roles only (403 otherwise), the lead department its items' tasks.
pub async fn review_queue(cx: Cx<'_>, state: &str) -> Result<Vec<ReportRow>, Failure> {
    let u = cx.user;
    if !matches!(u.role(), Role::CityAdmin | Role::CityDept) {
        return Err(Failure::Forbidden(
            "只有市局科室和市局管理员可以审核月调度".into(),
        ));
    }
    let mut reports = dispatch::list(
        cx.db,
        &ReportFilter {
            counties: crate::service::tracker::regions(),
            plan_code: cx.plan.code.clone(),
            status: Some(state.to_string()),
            ..Default::default()
        },
    )
    .await?;
    reports.retain(|r| may_review(u, cx.plan, &r.task_code));
    Ok(reports)
}

/// An evidence file of a report the user may read, with its bytes (404 otherwise).
pub async fn evidence(
    cx: Cx<'_>,
    county: i32,
    file_id: i64,
) -> Result<(dispatch::FileMeta, Vec<u8>), Failure> {
    let u = cx.user;
    require_reader(u)?;
    let parent = dispatch::visible_by_file(cx.db, &u.scope, county, file_id).await?;
    if !may_read(u, cx.plan, parent.row()) {
        return Err(Failure::NotFound);
    }
    Ok(dispatch::file(cx.db, &parent, file_id).await?)
}

/// Adds an evidence file to the user's own report that is not locked.
pub async fn attach(cx: Cx<'_>, county: i32, id: i64, file: &Accepted) -> Result<i64, Failure> {
    let u = cx.user;
    let parent = readable(cx, county, id).await?;
    let row = parent.row();
    let (item, task) = find_task(cx.plan, &row.task_code)?;
    let (unit, owner) = filer(u, item, task)?;
    if unit != row.unit || owner != row.county_id {
        return Err(Failure::Forbidden(format!(
            "只有填报单位可以为任务 {} 的月报添加附件",
            row.task_code
        )));
    }
    Ok(dispatch::add_file(cx.db, &u.actor(), owner, id, file).await?)
}

/// Approves (locking the values) or returns with a reason a submitted report the user reviews.
pub async fn review(
    cx: Cx<'_>,
    county: i32,
    id: i64,
    approve: bool,
    note: &str,
) -> Result<ReportState, Failure> {
    let Cx {
        db,
        user: u,
        rules,
        plan,
    } = cx;
    u.require_staff()?;
    let parent = dispatch::visible(db, &u.scope, county, id).await?;
    if !may_review(u, plan, &parent.row().task_code) {
        return Err(Failure::Forbidden(
            "只有该工作要点的牵头科室或市局管理员可以审核此月报".into(),
        ));
    }
    let note = yimeng_domain::text::preview(note.trim(), 2000).to_string();
    Ok(dispatch::review(db, &u.actor(), &u.scope, rules, &parent, approve, &note).await?)
}

/// A half of the plan year: its last day and its first and last report periods (`YYYY-MM`).
pub struct HalfSpan {
    pub end: NaiveDate,
    pub start_period: String,
    pub end_period: String,
}

impl HalfSpan {
    /// Half 1 runs January to June, half 2 July to December (ending at the plan's end if the
    /// year's date cannot be formed).
    pub fn of(plan: &Plan, half: u32) -> HalfSpan {
        let end = if half == 1 {
            NaiveDate::from_ymd_opt(plan.year, 6, 30)
        } else {
            NaiveDate::from_ymd_opt(plan.year, 12, 31)
        }
        .unwrap_or(plan.end);
        let start_period = if half == 1 {
            format!("{}-01", plan.year)
        } else {
            format!("{}-07", plan.year)
        };
        HalfSpan {
            end,
            start_period,
            end_period: period_of(end),
        }
    }

    /// Whether a month lies in the half.
    pub fn contains(&self, period: &str) -> bool {
        period >= self.start_period.as_str() && period <= self.end_period.as_str()
    }
}

/// One task of a half-year report.
#[derive(Debug, Clone)]
pub struct HalfLine {
    pub item: u32,
    pub task: Task,
    pub latest: Option<ReportRow>,
    pub reported_months: usize,
    pub expected_months: usize,
}

/// Each task the unit reports on, with its latest submitted report of the half and how many
/// months were reported of how many due.
pub fn half_lines(
    plan: &Plan,
    reports: &[ReportRow],
    unit: &str,
    span: &HalfSpan,
) -> Vec<HalfLine> {
    let mut lines = Vec::new();
    for item in &plan.items {
        for task in &item.tasks {
            if !reports_on(item, task, unit) {
                continue;
            }
            let submitted: Vec<&ReportRow> = reports
                .iter()
                .filter(|r| r.task_code == task.code && span.contains(&r.period))
                .filter(|r| r.state().was_submitted())
                .collect();
            let expected = periods(plan, task, span.end)
                .into_iter()
                .filter(|p| *p >= span.start_period)
                .count();
            lines.push(HalfLine {
                item: item.number,
                task: task.clone(),
                latest: submitted
                    .iter()
                    .max_by(|a, b| a.period.cmp(&b.period))
                    .map(|r| (*r).clone()),
                reported_months: submitted.len(),
                expected_months: expected,
            });
        }
    }
    lines
}

/// The unit a half-year report is for: the one asked for when the user may see it (city staff
/// any, others their own), else the user's own unit, else the first item's lead.
pub fn half_year_unit(u: &User, plan: &Plan, asked: Option<String>) -> Result<String, Failure> {
    let own = unit_of(u).map(|(x, _)| x);
    let unit = match (u.role(), asked.filter(|s| !s.is_empty())) {
        (Role::CityAdmin | Role::CityDept, Some(x)) => x,
        (_, Some(x)) if Some(&x) == own.as_ref() => x,
        (_, Some(_)) => return Err(Failure::NotFound),
        (_, None) => own
            .or_else(|| plan.items.first().map(|i| i.lead.clone()))
            .unwrap_or_default(),
    };
    if !all_units(plan).contains(&unit) {
        return Err(Failure::NotFound);
    }
    Ok(unit)
}

/// A unit's half-year lines (its reports read with the user's scope).
pub async fn half_year_lines(
    cx: Cx<'_>,
    unit: &str,
    half: u32,
) -> Result<(HalfSpan, Vec<HalfLine>), Failure> {
    let (u, plan) = (cx.user, cx.plan);
    require_reader(u)?;
    let span = HalfSpan::of(plan, half.clamp(1, 2));
    let owner = unit.parse::<i32>().unwrap_or(CITY_COUNTY_ID);
    // A scope that does not cover the owning region (a school's) reads the unit's tasks with
    // no reports.
    let counties = dispatch::readable_counties(&u.scope, &[owner]);
    let reports = if counties.is_empty() {
        Vec::new()
    } else {
        dispatch::list(
            cx.db,
            &ReportFilter {
                counties,
                plan_code: plan.code.clone(),
                unit: Some(unit.to_string()),
                ..Default::default()
            },
        )
        .await?
    };
    let lines = half_lines(plan, &reports, unit, &span);
    Ok((span, lines))
}
