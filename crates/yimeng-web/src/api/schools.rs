//! `/api/v1/schools`: the school registry as JSON, with the pages' rules (scope, who registers);
//! the list also as the list page's file (`format`, `service::lists`).

use super::export::ExportFormat;
use super::{
    PageParams, Paged, Problem, json_values, overlay, paging, parse_failed, saved, staff_only,
};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Failure};
use crate::service::lists;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::{IntoParams, OpenApi};
use yimeng_domain::RegionCode;
use yimeng_io::Table;
use yimeng_store::browse;

#[derive(OpenApi)]
#[openapi(paths(list_schools, get_school, create_school, save_school))]
pub(super) struct SchoolsDoc;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/schools", get(list_schools).post(create_school))
        .route("/api/v1/schools/{id}", get(get_school).put(save_school))
}

#[derive(Deserialize, IntoParams)]
struct SchoolParams {
    /// County code (e.g. 371302).
    county: Option<i32>,
    /// School type code (kindergarten, primary, junior, nine_year, …).
    school_type: Option<String>,
    /// public | private
    ownership: Option<String>,
    /// urban | town | rural
    location: Option<String>,
    /// Name, pinyin initials or 学校标识码.
    q: Option<String>,
    /// code | name | county | type
    sort: Option<String>,
    /// xlsx | csv: instead of a page of JSON, every row as the list page's file (its columns,
    /// recorded in the audit log).
    format: Option<ExportFormat>,
}

/// Schools in scope with student, class and staff counts. With `format`, all of them as the
/// school list page's file (学校名单).
#[utoipa::path(get, path = "/api/v1/schools", tag = "registry", params(SchoolParams, PageParams), responses((status = 200, description = "学校（分页 JSON）；给出 format 时为学校名单文件（xlsx 或 csv）", content((Paged = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, description = "format 不是 xlsx 或 csv", body = Problem)))]
async fn list_schools(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<SchoolParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Response> {
    staff_only(&u)?;
    let f = browse::SchoolFilter {
        county: q.county,
        school_type: q.school_type,
        ownership: q.ownership,
        location: q.location,
        q: q.q,
    };
    let sort = q.sort.as_deref().unwrap_or("county");
    if let Some(format) = q.format {
        return Ok(lists::schools(&state, &u, &f, sort, false, format.into()).await?);
    }
    let (page, per) = paging(&p);
    let r = browse::schools(
        &state.db,
        &u.scope,
        &state.rules,
        &f,
        browse::SchoolOrder {
            key: sort,
            desc: false,
        },
        page,
        per,
    )
    .await?;
    Ok(Json(Paged::of(r, |v| v)?).into_response())
}

/// One school with its classes (sizes counted from the roster) and status counts.
#[utoipa::path(get, path = "/api/v1/schools/{id}", tag = "registry", params(("id" = i64, Path, description = "学校 id")), responses((status = 200, description = "学校"), (status = 404, body = Problem)))]
async fn get_school(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let d = browse::school_detail(&state.db, &u.scope, &state.rules, id).await?;
    Ok(Json(serde_json::to_value(&d)?))
}

/// Creates or updates a school (matched by `code`). The body has the import columns' keys
/// (`code`, `name`, `county`, `school_type`, `ownership`, `location`, …) with text values.
#[utoipa::path(post, path = "/api/v1/schools", tag = "registry", request_body(content = Object, description = "字段同学校导入模板（键为英文字段名）"), responses((status = 200, description = "已保存"), (status = 422, body = Problem)))]
async fn create_school(
    state: State<AppState>,
    user: ApiUser,
    Json(body): Json<HashMap<String, Value>>,
) -> ApiResult<Json<Value>> {
    save_school_inner(state, user, None, body).await
}

/// Updates a school (its code and county cannot change). Fields not given keep their values.
#[utoipa::path(put, path = "/api/v1/schools/{id}", tag = "registry", params(("id" = i64, Path)), request_body(content = Object), responses((status = 200, description = "已保存"), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn save_school(
    state: State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Json(body): Json<HashMap<String, Value>>,
) -> ApiResult<Json<Value>> {
    save_school_inner(state, user, Some(id), body).await
}

async fn save_school_inner(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    id: Option<i64>,
    body: HashMap<String, Value>,
) -> ApiResult<Json<Value>> {
    u.require_writer()?;
    let mut values = json_values(&body);
    if let Some(id) = id {
        let s = yimeng_store::school::get(&state.db, &u.scope, id).await?;
        let stored = crate::kit::forms::values_from_cells(
            Table::Schools,
            yimeng_io::records::school_cells(&s.to_record()),
        );
        values = overlay(stored, values);
        values.insert("code".into(), s.code.clone());
        values.insert("county".into(), RegionCode::from_i32(s.county_id).name());
    } else if !u.role().can_create_schools() {
        return Err(Failure::Forbidden("只有县区教育局可以登记新学校".into()).into());
    }
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let rec =
        yimeng_io::records::parse_school(&get, &crate::kit::forms::ctx()).map_err(parse_failed)?;
    let sid = saved(yimeng_store::edit::save_school(&state.db, &u.scope, &u.actor(), rec).await?)?;
    let row = yimeng_store::school::get(&state.db, &u.scope, sid).await?;
    Ok(Json(serde_json::to_value(row)?))
}
