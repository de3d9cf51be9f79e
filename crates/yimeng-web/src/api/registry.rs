//! `/api/v1` reads shared by the registry: the current account, the region tree, counts, search
//! and the audit log (also as the audit log page's file, `format`, `service::lists`).

use super::export::ExportFormat;
use super::{PageParams, Paged, Problem, paging, staff_only};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Failure};
use crate::service::lists;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi};
use yimeng_store::browse;

#[derive(OpenApi)]
#[openapi(paths(me, regions, stats, search, audit))]
pub(super) struct RegistryDoc;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/regions", get(regions))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/search", get(search))
        .route("/api/v1/audit", get(audit))
}

/// The current account and its scope.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", responses((status = 200, description = "账户与管辖范围"), (status = 401, body = Problem)))]
async fn me(ApiUser(u): ApiUser) -> Json<Value> {
    Json(json!({
        "username": u.account.username,
        "display_name": u.account.display_name,
        "role": u.account.role,
        "county_id": u.account.county_id,
        "school_id": u.account.school_id,
        "counties": u.scope.counties().iter().map(|c| c.get()).collect::<Vec<_>>(),
        "schools": u.scope.schools().map(|v| v.iter().map(|s| s.id).collect::<Vec<_>>()),
        "personal_data": u.role().has_personal_data_right(),
        "can_write": u.role().can_write_registry(),
    }))
}

/// The region tree (临沂市 and its counties and zones).
#[utoipa::path(get, path = "/api/v1/regions", tag = "registry", responses((status = 200, description = "行政区划")))]
async fn regions(State(state): State<AppState>, ApiUser(_u): ApiUser) -> ApiResult<Json<Value>> {
    Ok(Json(serde_json::to_value(
        yimeng_store::region::all(&state.db).await?,
    )?))
}

/// Counts per county and school type: schools, classes, students by status, staff. Always
/// current: a county's counts are kept until its data next changes.
#[utoipa::path(get, path = "/api/v1/stats", tag = "registry", responses((status = 200, description = "统计")))]
async fn stats(State(state): State<AppState>, ApiUser(u): ApiUser) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let s = state.stats(&u.scope).await?;
    let rows: Vec<Value> = s
        .cells
        .iter()
        .map(|((c, t), v)| json!({"county_id": c, "school_type": t, "counts": v}))
        .collect();
    Ok(Json(json!({"cells": rows, "total": s.total()})))
}

#[derive(Deserialize, IntoParams)]
struct SearchParams {
    /// Name, pinyin initials, ID number, 学籍号 or 学校标识码.
    q: String,
}

/// Searches schools, students and staff in scope.
#[utoipa::path(get, path = "/api/v1/search", tag = "registry", params(SearchParams), responses((status = 200, description = "结果")))]
async fn search(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<SearchParams>,
) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    Ok(Json(serde_json::to_value(
        browse::search(&state.db, &u.scope, &q.q, 20).await?,
    )?))
}

#[derive(Deserialize, IntoParams)]
struct AuditParams {
    /// County code, or 371300 for city-level actions.
    county: Option<i32>,
    /// User name.
    actor: Option<String>,
    /// login, create, update, import, export …
    action: Option<String>,
    /// school, class, student, staff, user …
    entity: Option<String>,
    /// xlsx | csv: instead of a page of JSON, every row as the list page's file (its columns,
    /// recorded in the audit log).
    format: Option<ExportFormat>,
}

/// The audit log (city administrator). With `format`, all of it as the audit log page's file
/// (操作日志).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams, PageParams), responses((status = 200, description = "操作日志（分页 JSON）；给出 format 时为操作日志文件（xlsx 或 csv）", content((Paged = "application/json"), ("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 400, description = "format 不是 xlsx 或 csv", body = Problem), (status = 403, body = Problem)))]
async fn audit(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<AuditParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Response> {
    if !u.role().can_read_audit() {
        return Err(Failure::Forbidden("只有市局管理员可以查看操作日志".into()).into());
    }
    let (page, per) = paging(&p);
    let f = browse::AuditFilter {
        county: q.county,
        actor: q.actor,
        action: q.action,
        entity: q.entity,
        from: None,
        to: None,
    };
    if let Some(format) = q.format {
        return Ok(lists::audit(&state, &u, &f, format.into()).await?);
    }
    Ok(Json(Paged::of(
        browse::audit(&state.db, &f, page, per).await?,
        |v| v,
    )?)
    .into_response())
}
