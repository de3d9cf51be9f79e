//! 月调度 (monthly dispatch) and 半年述职 (half-year report): each responsible unit files a
//! report per task and month; the item's lead department approves or returns it; late and missing
//! reports are flagged; a unit's half-year report is a print-ready page and a spreadsheet.

use crate::app::AppState;
use crate::auth::{PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::{page, see_other, take_flash};
use crate::service::plan::unit_name;
use crate::service::tracker::{Board, default_date, period_of, regions};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use std::sync::Arc;
use yimeng_domain::Role;
use yimeng_domain::plan::{IndicatorDef, Level, Plan, PlanItem, Reporters, Source, Task};
use yimeng_domain::region::LINYI_UNITS;
use yimeng_io::Cell;
use yimeng_store::audit::CITY_COUNTY_ID;
use yimeng_store::dispatch::{self, ReportFilter, ReportInput, ReportRow, status};

/// The due date of the report for `period` (`YYYY-MM`): day `due_day` of the next month
/// ([`yimeng_domain::Rules::dispatch_due_day`], the 5th by default).
pub fn due_date(period: &str, due_day: u32) -> Option<NaiveDate> {
    let first = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    next.with_day(due_day.clamp(1, 28))
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
fn months(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = from.with_day(1).unwrap_or(from);
    while d <= to {
        out.push(period_of(d));
        match d.checked_add_months(chrono::Months::new(1)) {
            Some(n) => d = n,
            None => break,
        }
    }
    out
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

/// One expected report.
pub struct Expected {
    pub item: u32,
    pub task: Task,
    pub unit: String,
    pub report: Option<ReportRow>,
    pub due: Option<NaiveDate>,
    /// Not submitted by its due date (or submitted after it).
    pub late: bool,
    /// Not submitted at all although due.
    pub missing: bool,
}

fn expected_for(
    plan: &Plan,
    unit: &str,
    period: &str,
    reports: &[ReportRow],
    today: NaiveDate,
    due_day: u32,
) -> Vec<Expected> {
    let mut out = Vec::new();
    let Some(month_end) = due_date(period, due_day)
        .and_then(|d| d.with_day(1))
        .and_then(|d| d.pred_opt())
    else {
        return out;
    };
    for item in &plan.items {
        for task in &item.tasks {
            if !reports_on(item, task, unit)
                || !periods(plan, task, month_end).contains(&period.to_string())
            {
                continue;
            }
            let report = reports
                .iter()
                .find(|r| r.task_code == task.code && r.unit == unit && r.period == period)
                .cloned();
            let due = due_date(period, due_day);
            let submitted_at = report
                .as_ref()
                .filter(|r| r.status != status::DRAFT)
                .and_then(|r| r.submitted_at)
                .map(|t| (t + chrono::Duration::hours(8)).date_naive());
            let overdue = due.is_some_and(|d| today > d);
            let missing = overdue && submitted_at.is_none();
            let late = missing || matches!((submitted_at, due), (Some(s), Some(d)) if s > d);
            out.push(Expected {
                item: item.number,
                task: task.clone(),
                unit: unit.to_string(),
                report,
                due,
                late,
                missing,
            });
        }
    }
    out
}

/// Query of the dispatch pages.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DispatchQuery {
    pub period: Option<String>,
    pub status: Option<String>,
    pub unit: Option<String>,
    pub half: Option<u32>,
    pub format: Option<String>,
}

fn period_param(plan: &Plan, q: &Option<String>) -> Result<String, Failure> {
    match q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(period_of(default_date(plan).min(plan.end))),
        Some(p) => {
            dispatch::check_period(p).map_err(Failure::BadRequest)?;
            Ok(p.to_string())
        }
    }
}

/// One unit's line of the city overview.
pub struct UnitLine {
    pub unit: String,
    pub name: String,
    pub expected: usize,
    pub submitted: usize,
    pub approved: usize,
    pub missing: usize,
    pub late: usize,
}

/// `GET /dispatch`
#[derive(Template)]
#[template(path = "dispatch.html")]
pub struct DispatchPage {
    pub ctx: Ctx,
    /// Day of the next month a report is due by.
    pub due_day: u32,
    pub plan: Arc<Plan>,
    pub period: String,
    pub periods: Vec<String>,
    pub unit: Option<(String, String)>,
    pub mine: Vec<Expected>,
    pub units: Vec<UnitLine>,
    pub waiting: usize,
    pub can_review: bool,
}

impl DispatchPage {
    pub fn status_label(&self, r: &Option<ReportRow>) -> &'static str {
        r.as_ref().map_or("未填报", |r| r.status_label())
    }
}

/// The months of a plan, for the month picker.
fn plan_periods(plan: &Plan) -> Vec<String> {
    months(plan.start, plan.end)
}

/// Every unit that files reports: the departments leading items, then the counties.
fn all_units(plan: &Plan) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    for item in &plan.items {
        if !units.contains(&item.lead) {
            units.push(item.lead.clone());
        }
    }
    units.extend(LINYI_UNITS.iter().map(|u| u.code.get().to_string()));
    units
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

/// `GET /dispatch`
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<DispatchQuery>,
    headers: HeaderMap,
) -> PageResult<Response> {
    require_dispatch_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let period = period_param(&plan, &q.period)?;
    let today = crate::service::today();
    let reports = dispatch::list(
        &state.db,
        &ReportFilter {
            counties: regions(),
            plan_code: plan.code.clone(),
            period: Some(period.clone()),
            ..Default::default()
        },
    )
    .await?;
    let unit = unit_of(&u);
    let mine = unit
        .as_ref()
        .map(|(unit, _)| {
            expected_for(
                &plan,
                unit,
                &period,
                &reports,
                today,
                state.rules.dispatch_due_day,
            )
        })
        .unwrap_or_default();
    let units = if matches!(u.role(), Role::CityAdmin | Role::CityDept) {
        all_units(&plan)
            .into_iter()
            .map(|unit| {
                let e = expected_for(
                    &plan,
                    &unit,
                    &period,
                    &reports,
                    today,
                    state.rules.dispatch_due_day,
                );
                UnitLine {
                    name: unit_name(&plan, &unit),
                    expected: e.len(),
                    submitted: e
                        .iter()
                        .filter(|x| x.report.as_ref().is_some_and(|r| r.status != status::DRAFT))
                        .count(),
                    approved: e
                        .iter()
                        .filter(|x| {
                            x.report
                                .as_ref()
                                .is_some_and(|r| r.status == status::APPROVED)
                        })
                        .count(),
                    missing: e.iter().filter(|x| x.missing).count(),
                    late: e.iter().filter(|x| x.late).count(),
                    unit,
                }
            })
            .filter(|l| l.expected > 0)
            .collect()
    } else {
        Vec::new()
    };
    let waiting = reports
        .iter()
        .filter(|r| r.status == status::SUBMITTED && may_review(&u, &plan, &r.task_code))
        .count();
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let t = DispatchPage {
        due_day: state.rules.dispatch_due_day,
        ctx: Ctx::for_user(&u, "/dispatch").with_flash(flash),
        periods: plan_periods(&plan),
        unit: unit.map(|(x, _)| (unit_name(&plan, &x), x)),
        can_review: matches!(u.role(), Role::CityAdmin | Role::CityDept),
        plan,
        period,
        mine,
        units,
        waiting,
    };
    page(&t, had)
}

/// `GET /dispatch/tasks/{code}`
#[derive(Template)]
#[template(path = "dispatch_form.html")]
pub struct FormPage {
    pub ctx: Ctx,
    pub plan: Arc<Plan>,
    pub item: PlanItem,
    pub task: Task,
    pub unit: String,
    pub unit_name: String,
    pub period: String,
    pub progress: String,
    pub narrative: String,
    pub values: Vec<(IndicatorDef, String)>,
    pub report: Option<dispatch::Report>,
    pub error: Option<String>,
    /// Day of the next month the report is due by.
    pub due_day: u32,
}

fn find_task<'a>(plan: &'a Plan, code: &str) -> Result<(&'a PlanItem, &'a Task), Failure> {
    plan.tasks()
        .find(|(_, t)| t.code == code)
        .ok_or(Failure::NotFound)
}

fn filer(u: &User, item: &PlanItem, task: &Task) -> Result<(String, i32), Failure> {
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

async fn existing(
    state: &AppState,
    u: &User,
    plan: &Plan,
    owner: i32,
    unit: &str,
    task: &str,
    period: &str,
) -> Result<Option<dispatch::Report>, Failure> {
    let rows = dispatch::list(
        &state.db,
        &ReportFilter {
            counties: vec![owner],
            plan_code: plan.code.clone(),
            period: Some(period.to_string()),
            unit: Some(unit.to_string()),
            task_code: Some(task.to_string()),
            ..Default::default()
        },
    )
    .await?;
    match rows.first() {
        Some(r) => {
            let parent = dispatch::visible(&state.db, &u.scope, r.county_id, r.id).await?;
            Ok(Some(dispatch::get(&state.db, &parent).await?))
        }
        None => Ok(None),
    }
}

/// `GET /dispatch/tasks/{code}?period=`
pub async fn form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(code): Path<String>,
    Query(q): Query<DispatchQuery>,
) -> PageResult<Response> {
    u.require_staff()?;
    let (_, plan) = state.plan().await?;
    let (item, task) = find_task(&plan, &code)?;
    let (unit, owner) = filer(&u, item, task)?;
    let period = period_param(&plan, &q.period)?;
    let report = existing(&state, &u, &plan, owner, &unit, &task.code, &period).await?;
    let values = reported_indicators(&plan, item, &unit)
        .into_iter()
        .map(|d| {
            let v = report
                .as_ref()
                .and_then(|r| r.values.iter().find(|(c, _)| *c == d.code))
                .map_or(String::new(), |(_, v)| {
                    yimeng_domain::plan::format_value(*v, "")
                });
            (d.clone(), v)
        })
        .collect();
    let t = FormPage {
        due_day: state.rules.dispatch_due_day,
        ctx: Ctx::for_user(&u, "/dispatch"),
        item: item.clone(),
        task: task.clone(),
        unit_name: unit_name(&plan, &unit),
        unit,
        progress: report
            .as_ref()
            .map_or(String::new(), |r| r.row.progress.to_string()),
        narrative: report
            .as_ref()
            .map_or(String::new(), |r| r.row.narrative.clone()),
        values,
        report,
        error: None,
        period,
        plan: Arc::clone(&plan),
    };
    page(&t, false)
}

/// `POST /dispatch/tasks/{code}` (multipart: the fields and evidence files).
pub async fn save(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(code): Path<String>,
    mut mp: Multipart,
) -> PageResult<Response> {
    u.require_staff()?;
    let (_, plan) = state.plan().await?;
    let (item, task) = find_task(&plan, &code)?;
    let (unit, owner) = filer(&u, item, task)?;
    let mut csrf = None;
    let mut period = String::new();
    let mut progress = String::new();
    let mut narrative = String::new();
    let mut submit = false;
    let mut raw_values: Vec<(String, String)> = Vec::new();
    let mut files: Vec<dispatch::Accepted> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("提交失败：{e}")))?
    {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "_csrf" => csrf = Some(field.text().await.unwrap_or_default()),
            "period" => period = field.text().await.unwrap_or_default(),
            "progress" => progress = field.text().await.unwrap_or_default(),
            "narrative" => narrative = field.text().await.unwrap_or_default(),
            "action" => submit = field.text().await.unwrap_or_default() == "submit",
            "files" => {
                u.check_csrf(csrf.as_deref())?;
                let file_name = field.file_name().unwrap_or_default().to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| Failure::TooLarge(format!("附件上传中断或超过上限：{e}")))?;
                if file_name.is_empty() && bytes.is_empty() {
                    continue;
                }
                match dispatch::accept_file(&file_name, bytes.to_vec()) {
                    Ok(file) => files.push(file),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            n if n.starts_with("value_") => raw_values.push((
                n["value_".len()..].to_string(),
                field.text().await.unwrap_or_default(),
            )),
            _ => {}
        }
    }
    u.check_csrf(csrf.as_deref())?;
    dispatch::check_period(period.trim()).map_err(Failure::BadRequest)?;
    let period = period.trim().to_string();
    let allowed = reported_indicators(&plan, item, &unit);
    let progress_n: Option<i32> = progress
        .trim()
        .parse()
        .ok()
        .filter(|p| (0..=100).contains(p));
    if progress_n.is_none() {
        errors.push(format!(
            "进度“{}”应为 0 到 100 的整数",
            yimeng_domain::text::preview(progress.trim(), 10)
        ));
    }
    if submit && narrative.trim().is_empty() {
        errors.push("报送时须填写进展情况".into());
    }
    if narrative.chars().count() > 20_000 {
        errors.push("进展情况不能超过 20000 字".into());
    }
    let mut values = Vec::new();
    for (code, raw) in &raw_values {
        let Some(def) = allowed.iter().find(|d| d.code == *code) else {
            errors.push(format!(
                "指标“{}”不属于本任务的填报指标",
                yimeng_domain::text::preview(code, 40)
            ));
            continue;
        };
        let raw = raw.trim().trim_end_matches('%').replace([',', '，'], "");
        if raw.is_empty() {
            if submit {
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
        let report = existing(&state, &u, &plan, owner, &unit, &task.code, &period).await?;
        let values_form = allowed
            .iter()
            .map(|d| {
                let v = raw_values
                    .iter()
                    .find(|(c, _)| *c == d.code)
                    .map_or(String::new(), |(_, v)| v.clone());
                ((*d).clone(), v)
            })
            .collect();
        let t = FormPage {
            due_day: state.rules.dispatch_due_day,
            ctx: Ctx::for_user(&u, "/dispatch"),
            item: item.clone(),
            task: task.clone(),
            unit_name: unit_name(&plan, &unit),
            unit,
            period,
            progress,
            narrative,
            values: values_form,
            report,
            error: Some(errors.join("；")),
            plan: Arc::clone(&plan),
        };
        let mut r = page(&t, false)?;
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    }
    let input = ReportInput {
        county_id: owner,
        plan_code: plan.code.clone(),
        task_code: task.code.clone(),
        period: period.clone(),
        unit: unit.clone(),
        progress: progress_n.unwrap_or(0),
        narrative: narrative.trim().to_string(),
        values,
        submit,
    };
    let id = dispatch::save(&state.db, &u.actor(), input).await?;
    for file in &files {
        dispatch::add_file(&state.db, &u.actor(), owner, id, file).await?;
    }
    Ok(see_other(
        &format!("/dispatch?period={period}"),
        Some(&format!(
            "任务 {} {} 月报已{}",
            task.code,
            period,
            if submit {
                "报送，等待牵头科室审核"
            } else {
                "保存为草稿"
            }
        )),
    ))
}

/// `GET /dispatch/review`
#[derive(Template)]
#[template(path = "dispatch_review.html")]
pub struct ReviewPage {
    pub ctx: Ctx,
    pub plan: Arc<Plan>,
    pub status: String,
    pub reports: Vec<ReportRow>,
}

impl ReviewPage {
    pub fn unit_name(&self, unit: &str) -> String {
        unit_name(&self.plan, unit)
    }
}

/// `GET /dispatch/review`: the reports the reviewer may decide.
pub async fn review_list(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<DispatchQuery>,
    headers: HeaderMap,
) -> PageResult<Response> {
    if !matches!(u.role(), Role::CityAdmin | Role::CityDept) {
        return Err(Failure::Forbidden("只有市局科室和市局管理员可以审核月调度".into()).into());
    }
    let (_, plan) = state.plan().await?;
    let st = q
        .status
        .clone()
        .filter(|s| [status::SUBMITTED, status::APPROVED, status::RETURNED].contains(&s.as_str()))
        .unwrap_or_else(|| status::SUBMITTED.to_string());
    let mut reports = dispatch::list(
        &state.db,
        &ReportFilter {
            counties: regions(),
            plan_code: plan.code.clone(),
            status: Some(st.clone()),
            ..Default::default()
        },
    )
    .await?;
    reports.retain(|r| may_review(&u, &plan, &r.task_code));
    reports.truncate(500);
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let t = ReviewPage {
        ctx: Ctx::for_user(&u, "/dispatch").with_flash(flash),
        plan,
        status: st,
        reports,
    };
    page(&t, had)
}

/// `GET /dispatch/reports/{county}/{id}`
#[derive(Template)]
#[template(path = "dispatch_report.html")]
pub struct ReportPage {
    pub ctx: Ctx,
    pub plan: Arc<Plan>,
    pub report: dispatch::Report,
    pub task: Option<Task>,
    pub unit_name: String,
    pub can_review: bool,
    pub history: Vec<yimeng_store::audit::AuditRow>,
}

impl ReportPage {
    pub fn indicator_name(&self, code: &str) -> String {
        self.plan
            .indicator(code)
            .map_or(code.to_string(), |d| d.name.clone())
    }
    pub fn show(&self, code: &str, v: &f64) -> String {
        self.plan
            .indicator(code)
            .map_or(v.to_string(), |d| d.show(*v))
    }
}

/// Who may read a report (beyond the store's scope check): its own unit, the reviewers, and the
/// city's roles. Inspectors see only their assigned schools, never a county's or a department's
/// report.
fn may_read(u: &User, plan: &Plan, r: &ReportRow) -> bool {
    match u.role() {
        Role::CityAdmin | Role::CityDept => true,
        Role::County => u.account.county_id == Some(r.county_id),
        _ => may_review(u, plan, &r.task_code),
    }
}

/// Monthly dispatch is a county-level and department-level record: refuses (404) the roles whose
/// scope holds no county or department (inspectors, schools see their own pages elsewhere).
fn require_dispatch_reader(u: &User) -> Result<(), Failure> {
    u.require_staff()?;
    if u.role() == Role::Inspector {
        return Err(Failure::NotFound);
    }
    Ok(())
}

/// `GET /dispatch/reports/{county}/{id}`
pub async fn report(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    headers: HeaderMap,
) -> PageResult<Response> {
    require_dispatch_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let parent = dispatch::visible(&state.db, &u.scope, county, id).await?;
    if !may_read(&u, &plan, parent.row()) {
        return Err(Failure::NotFound.into());
    }
    let report = dispatch::get(&state.db, &parent).await?;
    let task = plan
        .tasks()
        .find(|(_, t)| t.code == report.row.task_code)
        .map(|(_, t)| t.clone());
    let history =
        yimeng_store::audit::for_record(&state.db, county, "dispatch_report", id, 50).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let t = ReportPage {
        ctx: Ctx::for_user(&u, "/dispatch").with_flash(flash),
        unit_name: unit_name(&plan, &report.row.unit),
        can_review: report.row.status == status::SUBMITTED
            && may_review(&u, &plan, &report.row.task_code),
        plan,
        task,
        report,
        history,
    };
    page(&t, had)
}

/// The review form.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    pub _csrf: Option<String>,
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

/// `POST /dispatch/reports/{county}/{id}/review`
pub async fn review(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    Form(f): Form<ReviewForm>,
) -> PageResult<Response> {
    u.require_staff()?;
    u.check_csrf(f._csrf.as_deref())?;
    let (_, plan) = state.plan().await?;
    let report = dispatch::visible(&state.db, &u.scope, county, id).await?;
    if !may_review(&u, &plan, &report.row().task_code) {
        return Err(Failure::Forbidden(
            "只有该工作要点的牵头科室或市局管理员可以审核此月报".into(),
        )
        .into());
    }
    let approve = match f.decision.as_str() {
        "approve" => true,
        "return" => false,
        _ => return Err(Failure::BadRequest("请选择通过或退回".into()).into()),
    };
    let note = yimeng_domain::text::preview(f.note.trim(), 2000).to_string();
    dispatch::review(&state.db, &u.actor(), county, id, approve, &note).await?;
    state.tracker_changed();
    Ok(see_other(
        &format!("/dispatch/reports/{county}/{id}"),
        Some(if approve {
            "已审核通过，数值已锁定"
        } else {
            "已退回，填报单位可修改后重新报送"
        }),
    ))
}

/// `GET /dispatch/files/{county}/{id}`
pub async fn file(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
) -> PageResult<Response> {
    require_dispatch_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let parent = dispatch::visible_by_file(&state.db, &u.scope, county, id).await?;
    if !may_read(&u, &plan, parent.row()) {
        return Err(Failure::NotFound.into());
    }
    let (meta, bytes) = dispatch::file(&state.db, &parent, id).await?;
    let encoded = crate::kit::urlencoding(&meta.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// One task of a half-year report.
pub struct HalfLine {
    pub item: u32,
    pub task: Task,
    pub latest: Option<ReportRow>,
    pub reported_months: usize,
    pub expected_months: usize,
}

/// `GET /plan/report`
#[derive(Template)]
#[template(path = "half_year.html")]
pub struct HalfYearPage {
    pub ctx: Ctx,
    pub plan: Arc<Plan>,
    pub unit: String,
    pub unit_name: String,
    pub half: u32,
    pub end: NaiveDate,
    pub lines: Vec<HalfLine>,
    pub figures: Vec<(IndicatorDef, String, String, Option<bool>)>,
    pub units: Vec<(String, String)>,
    pub as_of_note: String,
}

/// `GET /plan/report?unit=&half=1|2`: a unit's 半年述职 report — its tasks with the latest report
/// of the half year, and its indicators at the half year's end.
pub async fn half_year(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<DispatchQuery>,
) -> PageResult<Response> {
    require_dispatch_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let unit = half_year_unit(&u, &plan, q.unit.clone())?;
    let units = all_units(&plan);
    if !units.contains(&unit) {
        return Err(Failure::NotFound.into());
    }
    let half = q.half.unwrap_or(1).clamp(1, 2);
    let span = HalfSpan::of(&plan, half);
    let owner = unit.parse::<i32>().unwrap_or(CITY_COUNTY_ID);
    let reports = dispatch::list(
        &state.db,
        &ReportFilter {
            counties: vec![owner],
            plan_code: plan.code.clone(),
            unit: Some(unit.clone()),
            ..Default::default()
        },
    )
    .await?;
    let lines = half_lines(&plan, &reports, &unit, &span);
    // The unit's figures at the half year's end: the snapshot of then, or live if it is now.
    let today = crate::service::today();
    let board = state.board((span.end < today).then_some(span.end)).await;
    let (figures, as_of_note) = match &board {
        Ok(b) => (half_figures(&plan, b, owner, &unit), as_of_note(b)),
        Err(_) => (
            Vec::new(),
            format!("{} 及以前没有指标快照，本报告不含指标数值", span.end),
        ),
    };
    if let Some(format) = q.format.as_deref().filter(|f| !f.is_empty()) {
        let title = format!(
            "{}年{}述职_{}",
            plan.year,
            if half == 1 { "上半年" } else { "下半年" },
            unit_name(&plan, &unit)
        );
        let rows = lines.iter().map(half_line_cells);
        return crate::kit::export::download(
            &state,
            &u,
            &title,
            &HALF_YEAR_HEADERS,
            rows,
            format,
            "half_year",
        )
        .await;
    }
    let t = HalfYearPage {
        ctx: Ctx::for_user(&u, "/plan"),
        unit_name: unit_name(&plan, &unit),
        units: if matches!(u.role(), Role::CityAdmin | Role::CityDept) {
            units
                .iter()
                .map(|x| (x.clone(), unit_name(&plan, x)))
                .collect()
        } else {
            Vec::new()
        },
        plan,
        unit,
        half,
        end: span.end,
        lines,
        figures,
        as_of_note,
    };
    page(&t, false)
}

/// The unit a half-year report is for: the one asked for when the user may see it (city staff
/// any, others their own), else the user's own unit, else the first item's lead.
fn half_year_unit(u: &User, plan: &Plan, asked: Option<String>) -> Result<String, Failure> {
    let own = unit_of(u).map(|(x, _)| x);
    Ok(match (u.role(), asked.filter(|s| !s.is_empty())) {
        (Role::CityAdmin | Role::CityDept, Some(x)) => x,
        (_, Some(x)) if Some(&x) == own.as_ref() => x,
        (_, Some(_)) => return Err(Failure::NotFound),
        (_, None) => own
            .or_else(|| plan.items.first().map(|i| i.lead.clone()))
            .unwrap_or_default(),
    })
}

/// A half of the plan year: its last day and its first and last report periods (`YYYY-MM`).
struct HalfSpan {
    end: NaiveDate,
    start_period: String,
    end_period: String,
}

impl HalfSpan {
    /// Half 1 runs January to June, half 2 July to December (ending at the plan's end if the
    /// year's date cannot be formed).
    fn of(plan: &Plan, half: u32) -> HalfSpan {
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

    fn contains(&self, period: &str) -> bool {
        period >= self.start_period.as_str() && period <= self.end_period.as_str()
    }
}

/// Each task the unit reports on, with its latest submitted report of the half and how many
/// months were reported of how many due.
fn half_lines(plan: &Plan, reports: &[ReportRow], unit: &str, span: &HalfSpan) -> Vec<HalfLine> {
    let mut lines = Vec::new();
    for item in &plan.items {
        for task in &item.tasks {
            if !reports_on(item, task, unit) {
                continue;
            }
            let submitted: Vec<&ReportRow> = reports
                .iter()
                .filter(|r| r.task_code == task.code && span.contains(&r.period))
                .filter(|r| r.status != status::DRAFT)
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

/// The unit's indicators on `board`: for the city's departments those their items target, for
/// a county every county-level indicator; each shown, with its target and whether it is met.
fn half_figures(
    plan: &Plan,
    board: &Board,
    owner: i32,
    unit: &str,
) -> Vec<(IndicatorDef, String, String, Option<bool>)> {
    let defs: Vec<&IndicatorDef> = if owner == CITY_COUNTY_ID {
        plan.items
            .iter()
            .filter(|i| i.lead == unit)
            .flat_map(|i| i.targets.iter())
            .filter_map(|t| plan.indicator(&t.indicator))
            .collect()
    } else {
        plan.indicators
            .iter()
            .filter(|d| d.has_level(Level::County))
            .collect()
    };
    defs.into_iter()
        .map(|d| {
            let f = board.figure(owner, &d.code);
            let target = crate::service::plan::target_of(plan, &d.code);
            (
                d.clone(),
                crate::service::plan::show(d, &f),
                target.map_or("—".into(), |(_, t)| {
                    format!("{}{}", t.comparator.label(), d.show(t.target))
                }),
                target.and_then(|(_, t)| f.value.map(|v| t.is_met(v))),
            )
        })
        .collect()
}

/// Where the figures come from: live data, or the snapshot of a date.
fn as_of_note(board: &Board) -> String {
    if board.live {
        format!("指标为 {} 的实时数据", board.as_of)
    } else {
        format!(
            "指标取自 {} 的快照",
            board.snapshot.as_ref().map_or(board.as_of, |s| s.as_of)
        )
    }
}

/// The columns of a downloaded half-year report.
const HALF_YEAR_HEADERS: [&str; 9] = [
    "工作要点",
    "任务",
    "完成时限",
    "已报月数",
    "应报月数",
    "最近月报",
    "进度",
    "状态",
    "进展情况",
];

/// One task's line of a downloaded half-year report, in the order of [`HALF_YEAR_HEADERS`].
fn half_line_cells(l: &HalfLine) -> Vec<Cell> {
    vec![
        Cell::Int(i64::from(l.item)),
        Cell::Text(format!("{} {}", l.task.code, l.task.title)),
        Cell::Date(l.task.deadline),
        Cell::Int(l.reported_months as i64),
        Cell::Int(l.expected_months as i64),
        Cell::Text(
            l.latest
                .as_ref()
                .map_or(String::new(), |r| r.period.clone()),
        ),
        Cell::Text(
            l.latest
                .as_ref()
                .map_or(String::new(), |r| format!("{}%", r.progress)),
        ),
        Cell::text(l.latest.as_ref().map_or("未报送", |r| r.status_label())),
        Cell::Text(
            l.latest
                .as_ref()
                .map_or(String::new(), |r| r.narrative.clone()),
        ),
    ]
}

impl HalfYearPage {
    /// The half's label.
    pub fn half_label(&self) -> &'static str {
        if self.half == 1 {
            "上半年"
        } else {
            "下半年"
        }
    }
}

impl FormPage {
    /// Whether the report is locked.
    pub fn locked(&self) -> bool {
        self.report.as_ref().is_some_and(|r| r.row.is_locked())
    }
    /// Current status label.
    pub fn status_label(&self) -> &'static str {
        self.report
            .as_ref()
            .map_or("未填报", |r| r.row.status_label())
    }
    /// Month day of the due date.
    pub fn due(&self) -> String {
        due_date(&self.period, self.due_day).map_or(String::new(), |d| d.to_string())
    }
}

#[cfg(test)]
mod half_year_tests {
    use super::*;

    #[test]
    fn the_first_half_runs_january_to_june_and_the_second_july_to_december() {
        let plan = yimeng_domain::plan::Plan::parse(crate::service::tracker::SEED_PLAN)
            .expect("the seed plan parses");
        let first = HalfSpan::of(&plan, 1);
        assert_eq!(
            first.end,
            NaiveDate::from_ymd_opt(plan.year, 6, 30).unwrap()
        );
        assert!(first.contains(&format!("{}-01", plan.year)));
        assert!(first.contains(&format!("{}-06", plan.year)));
        assert!(!first.contains(&format!("{}-07", plan.year)));
        let second = HalfSpan::of(&plan, 2);
        assert_eq!(
            second.end,
            NaiveDate::from_ymd_opt(plan.year, 12, 31).unwrap()
        );
        assert!(!second.contains(&format!("{}-06", plan.year)));
        assert!(second.contains(&format!("{}-07", plan.year)));
        assert!(second.contains(&format!("{}-12", plan.year)));
    }

    #[test]
    fn a_task_without_a_report_in_the_half_is_downloaded_as_not_reported() {
        let plan = yimeng_domain::plan::Plan::parse(crate::service::tracker::SEED_PLAN)
            .expect("the seed plan parses");
        let unit = plan.items[0].lead.clone();
        let lines = half_lines(&plan, &[], &unit, &HalfSpan::of(&plan, 1));
        assert!(!lines.is_empty(), "the lead reports on its items' tasks");
        assert!(
            lines
                .iter()
                .all(|l| l.reported_months == 0 && l.latest.is_none())
        );
        let first = &lines[0];
        let cells = half_line_cells(first);
        assert_eq!(cells.len(), HALF_YEAR_HEADERS.len());
        assert!(
            matches!(&cells[7], Cell::Text(s) if s == "未报送"),
            "{:?}",
            cells[7]
        );
    }
}
