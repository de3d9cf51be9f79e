//! `/api/v1/staff`: staff in scope (also as the list page's file, `format`, `service::lists`) and
//! their edits.

use super::export::ExportFormat;
use super::{
    PageParams, Paged, Problem, json_values, overlay, paging, parse_failed, protect, saved,
    staff_only,
};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::service::lists;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::{IntoParams, OpenApi};
use yimeng_store::browse;

#[derive(OpenApi)]
#[openapi(paths(list_staff, get_staff, create_staff, save_staff))]
pub(super) struct StaffDoc;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff", get(list_staff).post(create_staff))
        .route("/api/v1/staff/{id}", get(get_staff).put(save_staff))
}

#[derive(Deserialize, IntoParams)]
struct StaffParams {
    /// County code.
    county: Option<i32>,
    /// School id.
    school: Option<i64>,
    /// teacher | admin | support | service | carer
    post: Option<String>,
    /// active | sick | seconded | transferred | left | retired | deceased
    status: Option<String>,
    /// Name, pinyin initials or ID number.
    q: Option<String>,
    /// xlsx | csv: instead of a page of JSON, every row as the list page's file (its columns,
    /// ID numbers masked without the personal-data right, recorded in the audit log).
    format: Option<ExportFormat>,
}

/// Staff in scope. City-wide lists need a county, a school or a search term. With `format`, all
/// of them as the staff list page's file (教职工名单).
#[utoipa::path(get, path = "/api/v1/staff", tag = "registry", params(StaffParams, PageParams), responses((status = 200, description = "教职工（分页 JSON）；给出 format 时为教职工名单文件（xlsx 或 csv）", content((Paged = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, description = "format 不是 xlsx 或 csv", body = Problem), (status = 422, description = "全市的教职工须先指定 county、school 或 q 才能导出", body = Problem)))]
async fn list_staff(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<StaffParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Response> {
    staff_only(&u)?;
    let (page, per) = paging(&p);
    let f = browse::StaffFilter {
        county: q.county,
        school: q.school,
        post: q.post,
        status: q.status,
        q: q.q,
    };
    if let Some(format) = q.format {
        return Ok(lists::staff(&state, &u, &f, format.into()).await?);
    }
    Ok(Json(Paged::of(
        browse::staff(&state.db, &u.scope, &f, page, per).await?,
        protect(&u),
    )?)
    .into_response())
}

/// A staff member.
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "registry", params(("id" = i64, Path)), responses((status = 200, description = "教职工"), (status = 404, body = Problem)))]
async fn get_staff(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let s = yimeng_store::staff::get(&state.db, &u.scope, id).await?;
    Ok(Json(protect(&u)(serde_json::to_value(s)?)))
}

/// Creates a staff member (the staff import columns' keys).
#[utoipa::path(post, path = "/api/v1/staff", tag = "registry", request_body(content = Object), responses((status = 200, description = "已保存"), (status = 422, body = Problem)))]
async fn create_staff(
    state: State<AppState>,
    user: ApiUser,
    Json(body): Json<HashMap<String, Value>>,
) -> ApiResult<Json<Value>> {
    save_staff_inner(state, user, None, body).await
}

/// Updates a staff member. Fields not given keep their values.
#[utoipa::path(put, path = "/api/v1/staff/{id}", tag = "registry", params(("id" = i64, Path)), request_body(content = Object), responses((status = 200, description = "已保存"), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn save_staff(
    state: State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<HashMap<String, Value>>,
) -> ApiResult<Json<Value>> {
    save_staff_inner(state, user, Some(id), body).await
}

async fn save_staff_inner(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    id: Option<i64>,
    body: HashMap<String, Value>,
) -> ApiResult<Json<Value>> {
    u.require_writer()?;
    let mut values = json_values(&body);
    if let Some(id) = id {
        let (_, stored) = crate::service::registry::staff_values(&state, &u, id).await?;
        values = overlay(stored, values);
    }
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let rec =
        yimeng_io::records::parse_staff(&get, &crate::kit::forms::ctx()).map_err(parse_failed)?;
    let sid =
        saved(yimeng_store::edit::save_staff(&state.db, &u.scope, &u.actor(), rec, id).await?)?;
    Ok(Json(protect(&u)(serde_json::to_value(
        yimeng_store::staff::get(&state.db, &u.scope, sid).await?,
    )?)))
}
