//! 月调度 (monthly dispatch) and 半年述职 (half-year report): each responsible unit files a
//! report per task and month; the item's lead department approves or returns it; late and missing
//! reports are flagged; a unit's half-year report is a print-ready page and a spreadsheet. Thin
//! handlers: the work is in [`crate::service::dispatch`].

use crate::app::AppState;
use crate::auth::{PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::{page, see_other, take_flash};
use crate::service::dispatch::{
    self as svc, Cx, Expected, FileError, Filing, HalfLine, UnitLine, filer, find_task, may_review,
    unit_of,
};
use crate::service::plan::unit_name;
use crate::service::tracker::{Board, default_date, period_of};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use std::sync::Arc;
use yimeng_domain::Role;
use yimeng_domain::plan::{IndicatorDef, Level, Plan, PlanItem, Task};
use yimeng_io::Cell;
use yimeng_store::audit::CITY_COUNTY_ID;
use yimeng_store::dispatch::{self, ReportRow, status};

pub use crate::service::dispatch::{periods, reported_indicators, reports_on};

fn cx<'a>(state: &'a AppState, u: &'a User, plan: &'a Plan) -> Cx<'a> {
    Cx {
        db: &state.db,
        user: u,
        rules: &state.rules,
        plan,
    }
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

fn period_param(plan: &Plan, today: NaiveDate, q: &Option<String>) -> Result<String, Failure> {
    match q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(period_of(default_date(plan, today).min(plan.end))),
        Some(p) => svc::parse_month(p),
    }
}

/// `GET /dispatch`
#[derive(Template)]
#[template(path = "dispatch.html")]
pub struct DispatchPage {
    pub ctx: Ctx,
    /// When a month's report is due (次月 5 日前).
    pub due_label: String,
    pub plan: Arc<Plan>,
    pub period: String,
    pub periods: Vec<String>,
    pub unit: Option<(String, String)>,
    pub mine: Vec<Expected>,
    pub units: Vec<UnitLine>,
    pub waiting: usize,
    pub can_review: bool,
}

/// The months of a plan, for the month picker.
fn plan_periods(plan: &Plan) -> Vec<String> {
    svc::months(plan.start, plan.end)
}

/// `GET /dispatch`
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<DispatchQuery>,
    headers: HeaderMap,
) -> PageResult<Response> {
    svc::require_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let period = period_param(&plan, state.tracker_today(), &q.period)?;
    let now = chrono::Utc::now();
    let cx = cx(&state, &u, &plan);
    let unit = unit_of(&u);
    let mine = match &unit {
        Some((unit, _)) => svc::expected(cx, std::slice::from_ref(unit), &period, now).await?,
        None => Vec::new(),
    };
    let city = matches!(u.role(), Role::CityAdmin | Role::CityDept);
    let (units, owed) = if city {
        svc::overview(cx, &period, now).await?
    } else {
        (Vec::new(), Vec::new())
    };
    let waiting = owed
        .iter()
        .filter_map(|e| e.report.as_ref())
        .filter(|r| r.status == status::SUBMITTED && may_review(&u, &plan, &r.task_code))
        .count();
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let t = DispatchPage {
        due_label: state.rules.dispatch_due_rule().label(),
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
    /// When this month's report is due.
    pub due: String,
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
    let period = period_param(&plan, state.tracker_today(), &q.period)?;
    let cx = cx(&state, &u, &plan);
    let report = svc::own_report(cx, owner, &unit, &task.code, &period).await?;
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
        due: svc::due_text(cx, &period).await?,
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
    let mut filing = Filing::default();
    let mut file_errors: Vec<String> = Vec::new();
    let text = |r: Result<String, axum::extract::multipart::MultipartError>| {
        r.map_err(|e| Failure::BadRequest(format!("提交失败：{e}")))
    };
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("提交失败：{e}")))?
    {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "_csrf" => csrf = Some(text(field.text().await)?),
            "period" => filing.period = text(field.text().await)?,
            "progress" => filing.progress = text(field.text().await)?,
            "narrative" => filing.narrative = text(field.text().await)?,
            "action" => filing.submit = text(field.text().await)? == "submit",
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
                    Ok(file) => filing.files.push(file),
                    Err(e) => file_errors.push(e.to_string()),
                }
            }
            n if n.starts_with("value_") => filing
                .values
                .push((n["value_".len()..].to_string(), text(field.text().await)?)),
            _ => {}
        }
    }
    u.check_csrf(csrf.as_deref())?;
    let period = svc::parse_month(&filing.period)?;
    let cx = cx(&state, &u, &plan);
    let errors = match svc::check_filing(&plan, item, task, &unit, owner, &filing) {
        Err(mut e) => {
            e.extend(file_errors);
            e
        }
        Ok(_) if !file_errors.is_empty() => file_errors,
        Ok(_) => match svc::file_report(cx, &code, &filing).await {
            Ok(_) => {
                return Ok(see_other(
                    &format!("/dispatch?period={period}"),
                    Some(&format!(
                        "任务 {} {} 月报已{}",
                        task.code,
                        period,
                        if filing.submit {
                            "报送，等待牵头科室审核"
                        } else {
                            "保存为草稿"
                        }
                    )),
                ));
            }
            Err(FileError::Fields(e)) => e,
            Err(FileError::Refused(f)) => return Err(f.into()),
        },
    };
    let report = svc::own_report(cx, owner, &unit, &task.code, &period).await?;
    let values_form = reported_indicators(&plan, item, &unit)
        .iter()
        .map(|d| {
            let v = filing
                .values
                .iter()
                .find(|(c, _)| *c == d.code)
                .map_or(String::new(), |(_, v)| v.clone());
            ((*d).clone(), v)
        })
        .collect();
    let t = FormPage {
        due: svc::due_text(cx, &period).await?,
        ctx: Ctx::for_user(&u, "/dispatch"),
        item: item.clone(),
        task: task.clone(),
        unit_name: unit_name(&plan, &unit),
        unit,
        period,
        progress: filing.progress,
        narrative: filing.narrative,
        values: values_form,
        report,
        error: Some(errors.join("；")),
        plan: Arc::clone(&plan),
    };
    let mut r = page(&t, false)?;
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
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
    let (_, plan) = state.plan().await?;
    let st = q
        .status
        .clone()
        .filter(|s| [status::SUBMITTED, status::APPROVED, status::RETURNED].contains(&s.as_str()))
        .unwrap_or_else(|| status::SUBMITTED.to_string());
    let mut reports = svc::review_queue(cx(&state, &u, &plan), &st).await?;
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
    /// The decisions on the report's review flow.
    pub decisions: Vec<yimeng_store::approval::ActionRow>,
    /// The reviewer's step is past its deadline.
    pub review_overdue: bool,
}

impl ReportPage {
    /// The Chinese label of a decision's action code.
    pub fn action_label(&self, code: &str) -> &'static str {
        match code {
            "submit" => "报送",
            "approve" => "审核通过",
            "return" => "退回",
            "resubmit" => "重新报送",
            "withdraw" => "撤回",
            "refuse" => "不同意",
            _ => "其他",
        }
    }
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

/// `GET /dispatch/reports/{county}/{id}`
pub async fn report(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    headers: HeaderMap,
) -> PageResult<Response> {
    let (_, plan) = state.plan().await?;
    let parent = svc::readable(cx(&state, &u, &plan), county, id).await?;
    let report = dispatch::get(&state.db, &parent).await?;
    let decisions = dispatch::history(&state.db, &parent).await?;
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
        review_overdue: report.row.review_overdue(crate::service::today()),
        decisions,
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
    let approve = match f.decision.as_str() {
        "approve" => true,
        "return" => false,
        _ => return Err(Failure::BadRequest("请选择通过或退回".into()).into()),
    };
    svc::review(cx(&state, &u, &plan), county, id, approve, &f.note).await?;
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
    let (_, plan) = state.plan().await?;
    let (meta, bytes) = svc::evidence(cx(&state, &u, &plan), county, id).await?;
    Ok(crate::kit::attachment::attachment(
        bytes,
        &meta.file_name,
        &meta.content_type,
    ))
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
    let (_, plan) = state.plan().await?;
    svc::require_reader(&u)?;
    let unit = svc::half_year_unit(&u, &plan, q.unit.clone())?;
    let units = svc::all_units(&plan);
    let half = q.half.unwrap_or(1).clamp(1, 2);
    let owner = unit.parse::<i32>().unwrap_or(CITY_COUNTY_ID);
    let (span, lines) = svc::half_year_lines(cx(&state, &u, &plan), &unit, half).await?;
    // The unit's figures at the half year's end: the snapshot of then, or live if it is now.
    let today = state.tracker_today();
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
    /// The due date of this month's report.
    pub fn due(&self) -> String {
        self.due.clone()
    }
}

#[cfg(test)]
mod half_year_tests {
    use super::*;

    #[test]
    fn the_first_half_runs_january_to_june_and_the_second_july_to_december() {
        let plan = yimeng_domain::plan::Plan::parse(crate::service::tracker::SEED_PLAN)
            .expect("the seed plan parses");
        let first = svc::HalfSpan::of(&plan, 1);
        assert_eq!(
            first.end,
            NaiveDate::from_ymd_opt(plan.year, 6, 30).unwrap()
        );
        assert!(first.contains(&format!("{}-01", plan.year)));
        assert!(first.contains(&format!("{}-06", plan.year)));
        assert!(!first.contains(&format!("{}-07", plan.year)));
        let second = svc::HalfSpan::of(&plan, 2);
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
        let lines = svc::half_lines(&plan, &[], &unit, &svc::HalfSpan::of(&plan, 1));
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
