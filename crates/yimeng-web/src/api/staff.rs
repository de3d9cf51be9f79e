//! `/api/v1/staff`: staff in scope and their edits.

use super::{
    PageParams, Paged, Problem, json_values, overlay, paging, parse_failed, protect, saved,
    staff_only,
};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiResult;
use axum::extract::{Path, Query, State};
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
}

/// Staff in scope.
#[utoipa::path(get, path = "/api/v1/staff", tag = "registry", params(StaffParams, PageParams), responses((status = 200, body = Paged)))]
async fn list_staff(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<StaffParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Paged>> {
    staff_only(&u)?;
    let (page, per) = paging(&p);
    let f = browse::StaffFilter {
        county: q.county,
        school: q.school,
        post: q.post,
        status: q.status,
        q: q.q,
    };
    Ok(Json(Paged::of(
        browse::staff(&state.db, &u.scope, &f, page, per).await?,
        protect(&u),
    )?))
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
