//! `/api/v1` for the student-status services (issue 5): transfers (转学) with their approval
//! steps, status-change request decisions, the public service catalogue (事项清单) and the
//! working-day calendar. The same store calls and rules as the pages (`pages::services`).

use super::{Problem, protect, staff_only};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Failure};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Router, routing::delete};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_domain::calendar::DayKind;
use yimeng_domain::transfer::Initiator;
use yimeng_domain::{Role, Scope};
use yimeng_store::transfer::{self, Decision, NewTransfer};

#[derive(OpenApi)]
#[openapi(
    paths(list_transfers, create_transfer, create_incoming, create_outgoing, get_transfer, decide_transfer, decide_status, catalogue, calendar, set_day, remove_day),
    components(schemas(NewTransferBody, DecisionBody, DayBody)),
    tags((name = "services", description = "学籍服务：转学、学籍异动审批、事项清单、工作日历"))
)]
pub(super) struct ServicesDoc;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/transfers",
            get(list_transfers).post(create_transfer),
        )
        .route(
            "/api/v1/transfers/incoming",
            post(create_incoming).layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route(
            "/api/v1/transfers/outgoing",
            post(create_outgoing).layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route("/api/v1/transfers/{county}/{id}", get(get_transfer))
        .route(
            "/api/v1/transfers/{county}/{id}/decide",
            post(decide_transfer),
        )
        .route(
            "/api/v1/status-requests/{county}/{id}/decide",
            post(decide_status),
        )
        .route("/api/v1/services", get(catalogue))
        .route("/api/v1/calendar", get(calendar).post(set_day))
        .route("/api/v1/calendar/{day}", delete(remove_day))
}

fn today() -> NaiveDate {
    crate::service::today()
}

#[derive(Deserialize, IntoParams)]
struct TransferParams {
    /// Only the requests waiting for the caller's decision.
    waiting: Option<bool>,
    /// Only the requests whose current step is past its time limit.
    overdue: Option<bool>,
}

/// The transfer requests the caller is a party to (newest first, at most 500).
#[utoipa::path(get, path = "/api/v1/transfers", tag = "services", params(TransferParams), responses((status = 200, description = "转学申请"), (status = 403, body = Problem)))]
async fn list_transfers(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(p): Query<TransferParams>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let overdue = p.overdue.unwrap_or(false).then(today);
    let rows = transfer::list(
        &state.db,
        &u.scope,
        p.waiting.unwrap_or(false),
        overdue,
        500,
    )
    .await?;
    let items = rows
        .iter()
        .map(|r| serde_json::to_value(r).map(protect(&u)))
        .collect::<Result<Vec<Value>, _>>()?;
    Ok(Json(json!({ "items": items })))
}

/// A transfer request started by the receiving school.
#[derive(Deserialize, ToSchema)]
pub struct NewTransferBody {
    /// The student's 学籍号.
    pub student_no: String,
    /// The student's ID number (must match the 学籍号's record).
    pub id_card: String,
    /// The class at the receiving (the caller's) school, if chosen.
    pub to_class: Option<i64>,
    /// Why (required).
    pub reason: String,
}

/// Starts a transfer into the caller's school (school accounts only).
#[utoipa::path(post, path = "/api/v1/transfers", tag = "services", request_body = NewTransferBody, responses((status = 200, description = "已提交"), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_transfer(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Json(b): Json<NewTransferBody>,
) -> ApiResult<Json<Value>> {
    let Scope::School(s) = u.scope.clone() else {
        return Err(Failure::Forbidden(
            "转学申请由转入学校发起（家长可在“网上申请转学”页面申请）".into(),
        )
        .into());
    };
    if u.role() != Role::School {
        return Err(Failure::Forbidden("转学申请由转入学校发起".into()).into());
    }
    let input = NewTransfer {
        student_no: b.student_no,
        id_card: b.id_card,
        to_county: s.county.get(),
        to_school: s.id,
        to_class: b.to_class,
        started_by: Initiator::ReceivingSchool,
        reason: b.reason,
        materials: vec![],
        applicant_phone: None,
    };
    let cal = yimeng_store::calendar::load(&state.db).await?;
    let r = transfer::create(
        &state.db,
        &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today()),
        input,
    )
    .await?;
    Ok(Json(protect(&u)(serde_json::to_value(r)?)))
}

/// A transfer request with its steps (deadlines on the working-day calendar, decisions).
#[utoipa::path(get, path = "/api/v1/transfers/{county}/{id}", tag = "services", params(("county" = i32, Path), ("id" = i64, Path)), responses((status = 200, description = "转学申请"), (status = 404, body = Problem)))]
async fn get_transfer(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let r = transfer::get(&state.db, &u.scope, county, id).await?;
    let acts = transfer::actions(&state.db, &r).await?;
    let steps = transfer::step_views(&r, &acts, &state.rules, today());
    let files = transfer::files(&state.db, &u.scope, county, id).await?;
    let mut request = serde_json::to_value(&r)?;
    if let Some(o) = request.as_object_mut() {
        // The incoming record is shown through the request's own fields; its raw form stays inside.
        o.remove("incoming_json");
    }
    Ok(Json(json!({
        "request": protect(&u)(request),
        "state_label": r.state_label(),
        "steps": steps,
        "files": files,
    })))
}

/// Cross-boundary requests: the form's fields and its material file, as multipart.
async fn create_cross(
    state: &AppState,
    u: &crate::auth::User,
    mp: axum::extract::Multipart,
    incoming: bool,
) -> ApiResult<Json<Value>> {
    use crate::service::transfer::{
        incoming_input, outgoing_input, read_form, require_school, uploads,
    };
    let own = require_school(u)?;
    let (f, files) = read_form(None, mp).await?;
    let files = uploads(files);
    let cal = yimeng_store::calendar::load(&state.db).await?;
    let invalid = |m: String| Failure::BadRequest(m);
    let r = if incoming {
        let input = incoming_input(
            state,
            &f,
            (own.county.get(), own.id),
            true,
            Initiator::ReceivingSchool,
            files,
        )
        .await
        .map_err(invalid)?;
        transfer::create_incoming(
            &state.db,
            &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today()),
            input,
        )
        .await?
    } else {
        let input = outgoing_input(&f, Initiator::SendingSchool, files).map_err(invalid)?;
        transfer::create_outgoing(
            &state.db,
            &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today()),
            input,
        )
        .await?
    };
    let mut v = serde_json::to_value(r)?;
    if let Some(o) = v.as_object_mut() {
        o.remove("incoming_json");
    }
    Ok(Json(protect(u)(v)))
}

/// 外市转入, started by the receiving (the caller's) school: multipart/form-data with the fields
/// `name`, `id_card`, `student_no`, `sex`, `birth_date`, `ethnicity`, `hukou`, `guardian1_name`,
/// `guardian1_relation`, `guardian1_phone`, `grade`, `class` (id, optional), `from_name`,
/// `from_county` (optional), `reason`, and the file `m_sending_consent` (同意转出证明: JPG, PNG or
/// PDF, at most 5 MB). The registry changes at the final approval only.
#[utoipa::path(post, path = "/api/v1/transfers/incoming", tag = "services", request_body(content_type = "multipart/form-data", description = "学生信息、转出学校、转学原因与同意转出证明"), responses((status = 200, description = "已提交"), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn create_incoming(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    mp: axum::extract::Multipart,
) -> ApiResult<Json<Value>> {
    create_cross(&state, &u, mp, true).await
}

/// 转出本市, started by the student's (the caller's) school: multipart/form-data with the fields
/// `student_no`, `id_card`, `to_name`, `to_county` (optional), `reason`, and the file
/// `m_receiving_acceptance` (转入学校接收证明: JPG, PNG or PDF, at most 5 MB). The record is
/// closed (转出) at the final approval only.
#[utoipa::path(post, path = "/api/v1/transfers/outgoing", tag = "services", request_body(content_type = "multipart/form-data", description = "学籍号、身份证件号、转入学校、转学原因与接收证明"), responses((status = 200, description = "已提交"), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn create_outgoing(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    mp: axum::extract::Multipart,
) -> ApiResult<Json<Value>> {
    create_cross(&state, &u, mp, false).await
}

/// A decision on the current step.
#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `approve`, `refuse` or `withdraw`.
    pub decision: String,
    /// Why (required for `refuse`).
    #[serde(default)]
    pub reason: String,
}

fn decision_of(b: &DecisionBody) -> Result<Decision, Failure> {
    match b.decision.as_str() {
        "approve" => Ok(Decision::Approve),
        "refuse" => Ok(Decision::Refuse(b.reason.clone())),
        "withdraw" => Ok(Decision::Withdraw),
        other => Err(Failure::Fields(vec![yimeng_domain::FieldError::new(
            "decision",
            other,
            "应为 approve（同意）、refuse（不同意）或 withdraw（撤回）",
        )])),
    }
}

/// Decides the current step of a transfer (its approver only; a second decision is a conflict).
/// The class-size gate applies at the final approval; its override is on the web page only.
#[utoipa::path(post, path = "/api/v1/transfers/{county}/{id}/decide", tag = "services", params(("county" = i32, Path), ("id" = i64, Path)), request_body = DecisionBody, responses((status = 200, description = "已办理"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn decide_transfer(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
    Json(b): Json<DecisionBody>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let d = decision_of(&b)?;
    let cal = yimeng_store::calendar::load(&state.db).await?;
    let r = transfer::decide(
        &state.db,
        &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today()),
        county,
        id,
        d,
        None,
    )
    .await?;
    Ok(Json(protect(&u)(serde_json::to_value(r)?)))
}

/// Decides the current step of a status-change request (休学, 复学, 辍学, 毕业, 死亡).
#[utoipa::path(post, path = "/api/v1/status-requests/{county}/{id}/decide", tag = "services", params(("county" = i32, Path), ("id" = i64, Path)), request_body = DecisionBody, responses((status = 200, description = "已办理"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn decide_status(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
    Json(b): Json<DecisionBody>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let d = decision_of(&b)?;
    let cal = yimeng_store::calendar::load(&state.db).await?;
    let r = yimeng_store::status_request::decide(
        &state.db,
        &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today()),
        county,
        id,
        d,
    )
    .await?;
    Ok(Json(json!({
        "request": r,
        "state_label": r.state_label(),
    })))
}

/// The service catalogue (事项清单): every item with its five standard elements. Public.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", responses((status = 200, description = "事项清单")), security(()))]
async fn catalogue(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let items = yimeng_store::catalogue::list(&state.db).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize, IntoParams)]
struct CalendarParams {
    /// Only this year.
    year: Option<i32>,
}

/// The working-day calendar's listed days (public holidays and make-up working days). Public.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "services", params(CalendarParams), responses((status = 200, description = "工作日历")), security(()))]
async fn calendar(
    State(state): State<AppState>,
    Query(p): Query<CalendarParams>,
) -> ApiResult<Json<Value>> {
    let days = yimeng_store::calendar::list(&state.db, p.year).await?;
    Ok(Json(json!({ "days": days })))
}

/// A listed day.
#[derive(Deserialize, ToSchema)]
pub struct DayBody {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday` (休息日) or `workday` (调休上班日).
    pub kind: String,
    /// The festival (元旦, 春节 …).
    #[serde(default)]
    pub name: String,
}

/// Lists a day on the calendar or changes it (city administrator).
#[utoipa::path(post, path = "/api/v1/calendar", tag = "services", request_body = DayBody, responses((status = 200, description = "已保存"), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn set_day(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Json(b): Json<DayBody>,
) -> ApiResult<Json<Value>> {
    u.require_admin()?;
    let day = b.day.trim().parse::<NaiveDate>().map_err(|_| {
        Failure::Fields(vec![yimeng_domain::FieldError::new(
            "day",
            &b.day,
            "日期格式应为 YYYY-MM-DD",
        )])
    })?;
    let kind = DayKind::parse(&b.kind)
        .map_err(|e| Failure::Fields(vec![yimeng_domain::FieldError::new("kind", &b.kind, e)]))?;
    yimeng_store::calendar::set_day(&state.db, &u.actor(), day, kind, &b.name).await?;
    Ok(Json(
        json!({ "day": day, "kind": kind.code(), "name": b.name.trim() }),
    ))
}

/// Removes a listed day (city administrator).
#[utoipa::path(delete, path = "/api/v1/calendar/{day}", tag = "services", params(("day" = String, Path)), responses((status = 200, description = "已删除"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_day(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(day): Path<String>,
) -> ApiResult<Json<Value>> {
    u.require_admin()?;
    let d = day.parse::<NaiveDate>().map_err(|_| Failure::NotFound)?;
    yimeng_store::calendar::remove_day(&state.db, &u.actor(), d).await?;
    Ok(Json(json!({ "removed": d })))
}
