//! `/api/v1/classes`: classes with sizes counted from the roster (also as the list page's file,
//! `format`, `service::lists`), and their edits.

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
use serde_json::{Value, json};
use std::collections::HashMap;
use utoipa::{IntoParams, OpenApi};
use yimeng_store::browse;

#[derive(OpenApi)]
#[openapi(paths(list_classes, get_class, create_class, save_class))]
pub(super) struct ClassesDoc;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/classes", get(list_classes).post(create_class))
        .route("/api/v1/classes/{id}", get(get_class).put(save_class))
}

#[derive(Deserialize, IntoParams)]
struct ClassParams {
    /// County code.
    county: Option<i32>,
    /// School id.
    school: Option<i64>,
    /// Grade code (K1…K3, KM, P1…P6, J1…J3, S1…S3, V1…V3).
    grade: Option<String>,
    /// Only classes of at least this size (56 = 大班额).
    min_size: Option<i64>,
    /// xlsx | csv: instead of a page of JSON, every row as the list page's file (its columns,
    /// recorded in the audit log).
    format: Option<ExportFormat>,
}

/// Classes with sizes counted from the roster, largest first. With `format`, all of them as the
/// class list page's file (班级与班额); a city-wide file needs `county`, `school` or `min_size`.
#[utoipa::path(get, path = "/api/v1/classes", tag = "registry", params(ClassParams, PageParams), responses((status = 200, description = "班级（分页 JSON）；给出 format 时为班级与班额文件（xlsx 或 csv）", content((Paged = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, description = "format 不是 xlsx 或 csv", body = Problem), (status = 422, description = "全市的班级须先指定 county、school 或 min_size 才能导出", body = Problem)))]
async fn list_classes(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<ClassParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Response> {
    staff_only(&u)?;
    let (page, per) = paging(&p);
    let f = browse::ClassFilter {
        county: q.county,
        school: q.school,
        grade: q.grade,
        min_size: q.min_size,
    };
    if let Some(format) = q.format {
        return Ok(lists::classes(&state, &u, &f, format.into()).await?);
    }
    Ok(Json(Paged::of(
        browse::classes(&state.db, &u.scope, &state.rules, &f, page, per).await?,
        |v| v,
    )?)
    .into_response())
}

/// A class and its roster.
#[utoipa::path(get, path = "/api/v1/classes/{id}", tag = "registry", params(("id" = i64, Path)), responses((status = 200, description = "班级与名册"), (status = 404, body = Problem)))]
async fn get_class(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let (class, roster) = browse::roster(&state.db, &u.scope, id).await?;
    let sizes =
        browse::class_sizes(&state.db, &state.rules, class.county_id, &[class.school_id]).await?;
    let size = sizes
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.size)
        .unwrap_or(0);
    let p = protect(&u);
    let roster = roster
        .into_iter()
        .map(|r| serde_json::to_value(r).map(&p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(
        json!({"class": class, "size": size, "roster": roster}),
    ))
}

/// Creates a class (`school_code`, `school_year`, `grade`, `class_no`, `name`, `head_teacher`).
#[utoipa::path(post, path = "/api/v1/classes", tag = "registry", request_body(content = Object), responses((status = 200, description = "已保存"), (status = 422, body = Problem)))]
async fn create_class(
    state: State<AppState>,
    user: ApiUser,
    Json(body): Json<HashMap<String, Value>>,
) -> ApiResult<Json<Value>> {
    save_class_inner(state, user, None, body).await
}

/// Updates a class. Fields not given keep their values.
#[utoipa::path(put, path = "/api/v1/classes/{id}", tag = "registry", params(("id" = i64, Path)), request_body(content = Object), responses((status = 200, description = "已保存"), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn save_class(
    state: State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<HashMap<String, Value>>,
) -> ApiResult<Json<Value>> {
    save_class_inner(state, user, Some(id), body).await
}

async fn save_class_inner(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    id: Option<i64>,
    body: HashMap<String, Value>,
) -> ApiResult<Json<Value>> {
    u.require_writer()?;
    let mut values = json_values(&body);
    if let Some(id) = id {
        let c = yimeng_store::class::get(&state.db, &u.scope, id).await?;
        let stored = crate::service::registry::class_values(&state, &u, &c).await?;
        values = overlay(stored, values);
        let s = yimeng_store::school::get(&state.db, &u.scope, c.school_id).await?;
        values.insert("school_code".into(), s.code);
    }
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let rec =
        yimeng_io::records::parse_class(&get, &crate::kit::forms::ctx()).map_err(parse_failed)?;
    let cid =
        saved(yimeng_store::edit::save_class(&state.db, &u.scope, &u.actor(), rec, id).await?)?;
    Ok(Json(serde_json::to_value(
        yimeng_store::class::get(&state.db, &u.scope, cid).await?,
    )?))
}
