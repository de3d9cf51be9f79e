//! `/api/v1/students`: student records (学籍) in scope (also as the list page's file, `format`,
//! `service::lists`), their edits through the class-size gate, and status changes (学籍异动) as on
//! the student's page.

use super::export::ExportFormat;
use super::{
    PageParams, Paged, Problem, json_values, overlay, paging, parse_failed, protect, saved,
    staff_only,
};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Failure};
use crate::service::lists;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_domain::{FieldError, StudentStatus};
use yimeng_store::browse;

#[derive(OpenApi)]
#[openapi(
    paths(
        list_students,
        get_student,
        create_student,
        save_student,
        change_status
    ),
    components(schemas(StatusChange))
)]
pub(super) struct StudentsDoc;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/students", get(list_students).post(create_student))
        .route("/api/v1/students/{id}", get(get_student).put(save_student))
        .route("/api/v1/students/{id}/status", post(change_status))
}

#[derive(Deserialize, IntoParams)]
struct StudentParams {
    /// County code.
    county: Option<i32>,
    /// School id.
    school: Option<i64>,
    /// Class id.
    class: Option<i64>,
    /// Status code (01 在读, 02 休学, 05 复学, 06 辍学 …).
    status: Option<String>,
    /// migrant | left_behind | poor | orphan | disabled
    flag: Option<String>,
    /// Name, pinyin initials, ID number or 学籍号.
    q: Option<String>,
    /// xlsx | csv: instead of a page of JSON, every row as the list page's file (its columns,
    /// ID numbers masked without the personal-data right, recorded in the audit log).
    format: Option<ExportFormat>,
}

/// Students in scope. City-wide lists need a county, a school, a class or a search term. With
/// `format`, all of them as the student list page's file (学生名单; ID numbers and 学籍号 masked
/// without the personal-data right).
#[utoipa::path(get, path = "/api/v1/students", tag = "registry", params(StudentParams, PageParams), responses((status = 200, description = "学生（分页 JSON）；给出 format 时为学生名单文件（xlsx 或 csv）", content((Paged = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, description = "format 不是 xlsx 或 csv", body = Problem), (status = 422, description = "全市的学生须先指定 county、school、class 或 q", body = Problem)))]
async fn list_students(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<StudentParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Response> {
    staff_only(&u)?;
    let f = browse::StudentFilter {
        county: q.county,
        school: q.school,
        class: q.class,
        status: q.status,
        flag: q.flag,
        q: q.q,
    };
    if !f.is_narrow(&u.scope) {
        return Err(Failure::BadRequest(
            "请指定 county、school、class 或 q（全市学生名单过大，不整表返回）".into(),
        )
        .into());
    }
    if let Some(format) = q.format {
        return Ok(lists::students(&state, &u, &f, format.into()).await?);
    }
    let (page, per) = paging(&p);
    let r = browse::students(&state.db, &u.scope, &f, page, per).await?;
    Ok(Json(Paged::of(r, protect(&u))?).into_response())
}

/// A student's record with status history.
#[utoipa::path(get, path = "/api/v1/students/{id}", tag = "registry", params(("id" = i64, Path)), responses((status = 200, description = "学籍档案"), (status = 404, body = Problem)))]
async fn get_student(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let d = browse::student_detail(&state.db, &u.scope, id).await?;
    let mut v = serde_json::to_value(&d)?;
    if let Some(s) = v.get_mut("student") {
        *s = protect(&u)(s.take());
    }
    Ok(Json(v))
}

/// Creates a student. The body has the student import columns' keys (`school_code`,
/// `school_year`, `grade`, `class_no`, `name`, `id_card`, `student_no`, `ethnicity`, …).
#[utoipa::path(post, path = "/api/v1/students", tag = "registry", request_body(content = Object), responses((status = 200, description = "已保存"), (status = 422, body = Problem)))]
async fn create_student(
    state: State<AppState>,
    user: ApiUser,
    Json(body): Json<HashMap<String, Value>>,
) -> ApiResult<Json<Value>> {
    save_student_inner(state, user, None, body, None).await
}

/// Updates a student (status changes go through `/status`). Fields not given keep their values.
#[utoipa::path(put, path = "/api/v1/students/{id}", tag = "registry", params(("id" = i64, Path)), request_body(content = Object), responses((status = 200, description = "已保存"), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn save_student(
    state: State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<HashMap<String, Value>>,
) -> ApiResult<Json<Value>> {
    save_student_inner(state, user, Some(id), body, None).await
}

async fn save_student_inner(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    id: Option<i64>,
    body: HashMap<String, Value>,
    reason: Option<String>,
) -> ApiResult<Json<Value>> {
    u.require_writer()?;
    let mut values = json_values(&body);
    if let Some(id) = id {
        let stored = crate::service::registry::student_values(&state, &u, id).await?;
        values = overlay(stored.clone(), values);
        if reason.is_none() {
            values.insert(
                "status".into(),
                stored.get("status").cloned().unwrap_or_default(),
            );
        }
    }
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let rec =
        yimeng_io::records::parse_student(&get, &crate::kit::forms::ctx()).map_err(parse_failed)?;
    // The class-size gate with the configured limits; the API never overrides it (a county
    // bureau overrides with a written reason on the web form).
    let (outcome, warnings) = yimeng_store::edit::save_student_gated(
        &state.db,
        &u.scope,
        &u.actor(),
        rec,
        id,
        reason,
        yimeng_store::import::GateOptions::with_rules(&state.rules),
    )
    .await?;
    let sid = saved(outcome)?;
    let row = yimeng_store::student::get(&state.db, &u.scope, sid).await?;
    let mut v = protect(&u)(serde_json::to_value(row)?);
    if !warnings.is_empty()
        && let Some(o) = v.as_object_mut()
    {
        o.insert("warnings".into(), serde_json::json!(warnings));
    }
    Ok(Json(v))
}

/// A status change (学籍异动).
#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    /// New status: label (休学) or code (02).
    pub status: String,
    /// Why (required).
    pub reason: String,
}

/// Records a status change with its reason, following the allowed transitions. 休学, 复学, 辍学,
/// 毕业 and 死亡 are 学籍异动 requests with the approvals the rules require, as on the student's
/// page: the status changes at once (200, the student) when the caller's own approval completes
/// the request, otherwise it waits for the next approver (202, the request).
#[utoipa::path(post, path = "/api/v1/students/{id}/status", tag = "registry", params(("id" = i64, Path)), request_body = StatusChange, responses((status = 200, description = "已登记"), (status = 202, description = "异动申请已提交，待审批"), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn change_status(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<StatusChange>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let u = &user.0;
    u.require_writer()?;
    let s = yimeng_store::student::get(&state.db, &u.scope, id).await?;
    let current = StudentStatus::from_code(&s.status).unwrap_or(StudentStatus::Other);
    let to = StudentStatus::parse(&body.status)
        .map_err(|e| Failure::Fields(vec![FieldError::new("status", &body.status, e)]))?;
    let reason = yimeng_domain::text::parse_text(&body.reason, 200, true)
        .map_err(|e| Failure::Fields(vec![FieldError::new("reason", &body.reason, e)]))?;
    if let Some(change) = crate::service::registry::status_change_of(&state, to, &reason, None)? {
        let cal = yimeng_store::calendar::load(&state.db).await?;
        let r = yimeng_store::status_request::create(
            &state.db,
            &yimeng_store::Acting::new(
                &u.actor(),
                &u.scope,
                &state.rules,
                &cal,
                crate::service::today(),
            ),
            id,
            change,
        )
        .await
        .map_err(|e| match e {
            yimeng_store::StoreError::Invalid(m) => {
                Failure::Fields(vec![FieldError::new("status", to.label(), m)])
            }
            e => e.into(),
        })?;
        let request = json!({
            "id": r.id,
            "county_id": r.county_id,
            "kind": r.kind,
            "state": r.state,
        });
        if r.state != yimeng_store::transfer::state::COMPLETED {
            return Ok((
                StatusCode::ACCEPTED,
                Json(json!({
                    "message": format!("{}申请已提交，待审批", r.kind_label()),
                    "status_request": request,
                })),
            ));
        }
        let row = yimeng_store::student::get(&state.db, &u.scope, id).await?;
        let mut v = protect(u)(serde_json::to_value(row)?);
        if let Some(o) = v.as_object_mut() {
            o.insert("status_request".into(), request);
        }
        return Ok((StatusCode::OK, Json(v)));
    }
    if !current.can_change_to(to) {
        return Err(Failure::Fields(vec![FieldError::new(
            "status",
            to.label(),
            format!(
                "学籍状态不能由“{}”直接改为“{}”",
                current.label(),
                to.label()
            ),
        )])
        .into());
    }
    let mut values: HashMap<String, Value> =
        crate::service::registry::student_values(&state, u, id)
            .await?
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
    values.insert("status".into(), Value::String(to.label().into()));
    let Json(v) = save_student_inner(State(state), user, Some(id), values, Some(reason)).await?;
    Ok((StatusCode::OK, Json(v)))
}
