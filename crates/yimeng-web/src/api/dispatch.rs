//! `/api/v1/dispatch`: the actions of the 月调度 pages (`pages::dispatch`) as JSON — list reports
//! (filters), read one with its values, files and review history, file or submit a report, upload
//! an evidence file, approve, return with a reason, download a file, the late/missing overview of
//! a month and a unit's half-year report — through the same service functions
//! (`service::dispatch`) and so with the same rules: inspectors get 404, only the filing unit
//! files, only the item's lead department (or the city administrator) reviews, approved values are
//! locked (409).

use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Failure};
use crate::service::dispatch::{self as svc, Cx, FileError, Filing};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_domain::plan::Plan;
use yimeng_store::dispatch::{self, ReportFilter, ReportRow, status};

/// The dispatch part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_reports,
        get_report,
        file_report,
        upload_file,
        approve_report,
        return_report,
        download_file,
        overview,
        half_year
    ),
    components(schemas(FilingBody, IndicatorValue, ReturnBody)),
    tags((name = "dispatch", description = "月调度与半年述职"))
)]
pub(super) struct DispatchDoc;

/// The routes.
pub(super) fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/api/v1/dispatch/reports", get(list_reports))
        .route("/api/v1/dispatch/reports/{county}/{id}", get(get_report))
        .route("/api/v1/dispatch/tasks/{code}/report", post(file_report))
        .route(
            "/api/v1/dispatch/reports/{county}/{id}/files",
            post(upload_file).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/api/v1/dispatch/reports/{county}/{id}/approve",
            post(approve_report),
        )
        .route(
            "/api/v1/dispatch/reports/{county}/{id}/return",
            post(return_report),
        )
        .route("/api/v1/dispatch/files/{county}/{id}", get(download_file))
        .route("/api/v1/dispatch/overview", get(overview))
        .route("/api/v1/dispatch/half-year", get(half_year))
}

fn cx<'a>(state: &'a AppState, u: &'a crate::auth::User, plan: &'a Plan) -> Cx<'a> {
    Cx {
        db: &state.db,
        user: u,
        rules: &state.rules,
        plan,
    }
}

/// A report row as JSON, with its state's label and whether its review is overdue.
fn row_json(r: &ReportRow) -> Result<Value, serde_json::Error> {
    let mut v = serde_json::to_value(r)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("status_label".into(), r.status_label().into());
        o.insert(
            "review_overdue".into(),
            r.review_overdue(crate::service::today()).into(),
        );
    }
    Ok(v)
}

/// Filters of the report list.
#[derive(Debug, Deserialize, IntoParams)]
struct ListQuery {
    /// Month `YYYY-MM`.
    period: Option<String>,
    /// draft | submitted | returned | approved
    status: Option<String>,
    /// Unit: a county code or a department code.
    unit: Option<String>,
    /// Task code (`18.1`).
    task: Option<String>,
}

/// The reports the caller may read (its own unit's; the city's roles every unit's), newest month
/// first, at most 2000.
#[utoipa::path(get, path = "/api/v1/dispatch/reports", tag = "dispatch", params(ListQuery), responses((status = 200, description = "月报列表 {items: [...]}")))]
async fn list_reports(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    svc::require_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let some = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let period = match some(&q.period) {
        Some(p) => Some(svc::parse_month(&p)?),
        None => None,
    };
    let st = some(&q.status);
    if let Some(s) = &st
        && ![
            status::DRAFT,
            status::SUBMITTED,
            status::RETURNED,
            status::APPROVED,
        ]
        .contains(&s.as_str())
    {
        return Err(Failure::BadRequest(format!(
            "状态“{}”无效，应为 draft、submitted、returned 或 approved",
            yimeng_domain::text::preview(s, 20)
        ))
        .into());
    }
    let counties = dispatch::readable_counties(&u.scope, &crate::service::tracker::regions());
    let mut rows = if counties.is_empty() {
        Vec::new()
    } else {
        dispatch::list(
            &state.db,
            &ReportFilter {
                counties,
                plan_code: plan.code.clone(),
                period,
                unit: some(&q.unit),
                task_code: some(&q.task),
                status: st,
            },
        )
        .await?
    };
    rows.retain(|r| svc::may_read(&u, &plan, r));
    rows.truncate(2000);
    let items = rows.iter().map(row_json).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "items": items })))
}

/// One report with its values, evidence files (names and sizes) and the history of its review (the
/// first submission, then each decision: submit, return, resubmit, approve).
#[utoipa::path(get, path = "/api/v1/dispatch/reports/{county}/{id}", tag = "dispatch", params(("county" = i32, Path), ("id" = i64, Path)), responses((status = 200, description = "月报")))]
async fn get_report(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
) -> ApiResult<Json<Value>> {
    let (_, plan) = state.plan().await?;
    let parent = svc::readable(cx(&state, &u, &plan), county, id).await?;
    let report = dispatch::get(&state.db, &parent).await?;
    let decisions = dispatch::history(&state.db, &parent).await?;
    Ok(Json(json!({
        "report": row_json(&report.row)?,
        "values": report.values.iter().map(|(c, v)| json!({"indicator": c, "value": v})).collect::<Vec<_>>(),
        "files": report.files,
        "decisions": decisions,
    })))
}

/// One reported indicator value.
#[derive(Debug, Deserialize, ToSchema)]
struct IndicatorValue {
    /// Indicator code.
    indicator: String,
    /// The value (a share in percent for % indicators).
    value: f64,
}

/// A report as the unit files it.
#[derive(Debug, Deserialize, ToSchema)]
struct FilingBody {
    /// Month `YYYY-MM`.
    period: String,
    /// 0–100.
    progress: i32,
    /// 进展情况 (required when submitting).
    #[serde(default)]
    narrative: String,
    /// Reported indicator values of the task's item.
    #[serde(default)]
    values: Vec<IndicatorValue>,
    /// Submit (or resubmit after a return) for review; else save as a draft.
    #[serde(default)]
    submit: bool,
}

/// Files the caller's unit's report on a task for a month: saves it, and with `submit` submits
/// it (or resubmits it after a return). 422 names every bad field; 409 once approved.
#[utoipa::path(post, path = "/api/v1/dispatch/tasks/{code}/report", tag = "dispatch", params(("code" = String, Path, description = "任务编号，如 18.1")), request_body = FilingBody, responses((status = 200, description = "已保存或已报送的月报"), (status = 409, body = crate::api::Problem)))]
async fn file_report(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(code): Path<String>,
    Json(b): Json<FilingBody>,
) -> ApiResult<Json<Value>> {
    svc::require_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let filing = Filing {
        period: b.period,
        progress: b.progress.to_string(),
        narrative: b.narrative,
        values: b
            .values
            .into_iter()
            .map(|v| (v.indicator, v.value.to_string()))
            .collect(),
        submit: b.submit,
        files: Vec::new(),
    };
    let cx = cx(&state, &u, &plan);
    let id = match svc::file_report(cx, &code, &filing).await {
        Ok(id) => id,
        Err(FileError::Fields(e)) => return Err(Failure::BadRequest(e.join("；")).into()),
        Err(FileError::Refused(f)) => return Err(f.into()),
    };
    let (_, owner) = svc::unit_of(&u).ok_or(Failure::NotFound)?;
    let parent = svc::readable(cx, owner, id).await?;
    Ok(Json(row_json(parent.row())?))
}

/// Adds an evidence file (multipart field `file`: PDF, image, Word or Excel whose bytes agree
/// with its extension, at most 20 MB) to the caller's own report. 409 once approved.
#[utoipa::path(post, path = "/api/v1/dispatch/reports/{county}/{id}/files", tag = "dispatch", params(("county" = i32, Path), ("id" = i64, Path)), request_body(content_type = "multipart/form-data", description = "字段 file：佐证材料"), responses((status = 201, description = "已上传 {file_id}"), (status = 409, body = crate::api::Problem)))]
async fn upload_file(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
    mut mp: Multipart,
) -> ApiResult<Response> {
    let (_, plan) = state.plan().await?;
    let cx = cx(&state, &u, &plan);
    svc::readable(cx, county, id).await?;
    let mut file = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| Failure::TooLarge(format!("附件上传中断或超过上限：{e}")))?;
        file = Some(dispatch::accept_file(&name, bytes.to_vec())?);
    }
    let file = file.ok_or_else(|| Failure::BadRequest("缺少文件（multipart 字段 file）".into()))?;
    let file_id = svc::attach(cx, county, id, &file).await?;
    Ok((StatusCode::CREATED, Json(json!({ "file_id": file_id }))).into_response())
}

/// Approves a submitted report: its values are locked and count in the indicators. Only the
/// item's lead department or the city administrator; 409 when not waiting for review.
#[utoipa::path(post, path = "/api/v1/dispatch/reports/{county}/{id}/approve", tag = "dispatch", params(("county" = i32, Path), ("id" = i64, Path)), responses((status = 200, description = "已审核通过"), (status = 409, body = crate::api::Problem)))]
async fn approve_report(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
) -> ApiResult<Json<Value>> {
    decide(&state, &u, county, id, true, "").await
}

/// Why a report is returned.
#[derive(Debug, Deserialize, ToSchema)]
struct ReturnBody {
    /// What to correct (required).
    reason: String,
}

/// Returns a submitted report to its unit with a reason (422 without one); the unit corrects
/// and resubmits it.
#[utoipa::path(post, path = "/api/v1/dispatch/reports/{county}/{id}/return", tag = "dispatch", params(("county" = i32, Path), ("id" = i64, Path)), request_body = ReturnBody, responses((status = 200, description = "已退回"), (status = 409, body = crate::api::Problem)))]
async fn return_report(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
    Json(b): Json<ReturnBody>,
) -> ApiResult<Json<Value>> {
    decide(&state, &u, county, id, false, &b.reason).await
}

async fn decide(
    state: &AppState,
    u: &crate::auth::User,
    county: i32,
    id: i64,
    approve: bool,
    reason: &str,
) -> ApiResult<Json<Value>> {
    svc::require_reader(u)?;
    let (_, plan) = state.plan().await?;
    let cx = cx(state, u, &plan);
    let new = svc::review(cx, county, id, approve, reason).await?;
    state.tracker_changed();
    let parent = svc::readable(cx, county, id).await?;
    let mut v = row_json(parent.row())?;
    if let Some(o) = v.as_object_mut() {
        o.insert("state_label".into(), new.label().into());
    }
    Ok(Json(v))
}

/// Downloads an evidence file of a report the caller may read.
#[utoipa::path(get, path = "/api/v1/dispatch/files/{county}/{id}", tag = "dispatch", params(("county" = i32, Path), ("id" = i64, Path)), responses((status = 200, description = "文件内容", content_type = "application/octet-stream")))]
async fn download_file(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
) -> ApiResult<Response> {
    let (_, plan) = state.plan().await?;
    let (meta, bytes) = svc::evidence(cx(&state, &u, &plan), county, id).await?;
    Ok(crate::kit::attachment::attachment(
        bytes,
        &meta.file_name,
        &meta.content_type,
    ))
}

/// The month asked for.
#[derive(Debug, Deserialize, IntoParams)]
struct MonthQuery {
    /// Month `YYYY-MM` (default: the plan's current month).
    period: Option<String>,
}

fn month_or_default(
    plan: &Plan,
    today: chrono::NaiveDate,
    p: &Option<String>,
) -> Result<String, Failure> {
    match p.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => svc::parse_month(p),
        None => Ok(crate::service::tracker::period_of(
            crate::service::tracker::default_date(plan, today).min(plan.end),
        )),
    }
}

/// The late/missing overview of a month: per unit (the city's roles: every unit; a county or a
/// department: its own), how many reports are owed, submitted, approved, missing and late, and
/// every owed report with its flags.
#[utoipa::path(get, path = "/api/v1/dispatch/overview", tag = "dispatch", params(MonthQuery), responses((status = 200, description = "各单位应报、已报、逾期未报、迟报")))]
async fn overview(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<MonthQuery>,
) -> ApiResult<Json<Value>> {
    svc::require_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let period = month_or_default(&plan, state.tracker_today(), &q.period)?;
    let cx = cx(&state, &u, &plan);
    let now = chrono::Utc::now();
    let (units, owed) = if matches!(
        u.role(),
        yimeng_domain::Role::CityAdmin | yimeng_domain::Role::CityDept
    ) {
        svc::overview(cx, &period, now).await?
    } else {
        match svc::unit_of(&u) {
            Some((unit, _)) => {
                let owed = svc::expected(cx, std::slice::from_ref(&unit), &period, now).await?;
                (Vec::new(), owed)
            }
            None => (Vec::new(), Vec::new()),
        }
    };
    let owed: Vec<Value> = owed
        .iter()
        .map(|e| {
            json!({
                "item": e.item, "task": e.task.code, "unit": e.unit, "period": e.period,
                "state": e.state.code(), "state_label": e.state.label(),
                "due": e.due, "late": e.late, "missing": e.missing,
                "report": e.report.as_ref().map(|r| json!({"county_id": r.county_id, "id": r.id})),
            })
        })
        .collect();
    Ok(Json(json!({
        "period": period,
        "due_rule": state.rules.dispatch_due_rule().label(),
        "units": units,
        "owed": owed,
    })))
}

/// The half-year report asked for.
#[derive(Debug, Deserialize, IntoParams)]
struct HalfQuery {
    /// Unit (the city's roles any; others their own).
    unit: Option<String>,
    /// 1 (January–June) or 2 (July–December).
    #[param(minimum = 1, maximum = 2)]
    half: Option<u32>,
}

/// A unit's 半年述职 report: each task it reports on with its latest submitted report of the half
/// and how many months were reported of how many due.
#[utoipa::path(get, path = "/api/v1/dispatch/half-year", tag = "dispatch", params(HalfQuery), responses((status = 200, description = "半年述职报告"), (status = 404, description = "单位不存在或不在管辖范围内", body = crate::api::Problem)))]
async fn half_year(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<HalfQuery>,
) -> ApiResult<Json<Value>> {
    svc::require_reader(&u)?;
    let (_, plan) = state.plan().await?;
    let unit = svc::half_year_unit(&u, &plan, q.unit.clone())?;
    let half = q.half.unwrap_or(1);
    if !(1..=2).contains(&half) {
        return Err(Failure::BadRequest(format!(
            "半年“{half}”无效，应为 1（上半年）或 2（下半年）"
        ))
        .into());
    }
    let (span, lines) = svc::half_year_lines(cx(&state, &u, &plan), &unit, half).await?;
    let lines: Vec<Value> = lines
        .iter()
        .map(|l| {
            Ok(json!({
                "item": l.item, "task": l.task.code, "title": l.task.title,
                "deadline": l.task.deadline,
                "reported_months": l.reported_months, "expected_months": l.expected_months,
                "latest": l.latest.as_ref().map(row_json).transpose()?,
            }))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(Json(json!({
        "unit": unit,
        "unit_name": crate::service::plan::unit_name(&plan, &unit),
        "half": half,
        "end": span.end,
        "lines": lines,
    })))
}
