//! `/api/v1`: the pages as JSON, with the same scopes, rules and audit. Documented by OpenAPI at
//! `/api/v1/openapi.json` with Swagger UI (served from the binary) at `/api/docs/`.
//!
//! Authentication: `Authorization: Bearer <personal token>` (made on the 我的账户 page), or the
//! browser's session cookie plus the page's CSRF token in `X-CSRF-Token` for writes. Errors are
//! `application/problem+json`; field errors list `errors: [{field, value, reason}]`.

use crate::app::AppState;
use crate::auth::{ApiUser, User};
use crate::error::{ApiResult, Failure};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use yimeng_domain::{FieldError, RegionCode, StudentStatus};
use yimeng_io::Table;
use yimeng_store::browse;
use yimeng_store::edit::Saved;

pub mod admission;
mod dispatch;
mod enrolment;
mod services;

#[derive(OpenApi)]
#[openapi(
    info(title = "沂蒙教育治理平台 API", version = "1", description = "临沂市教育局教育治理平台：学校、班级、学生学籍、教职工。所有读写按账户的管辖范围执行；范围外的记录返回 404。"),
    paths(me, regions, stats, list_schools, get_school, create_school, save_school, list_classes, get_class, create_class, save_class, list_students, get_student, create_student, save_student, change_status, list_staff, get_staff, create_staff, save_staff, search, import, audit, indicators),
    components(schemas(Paged, ImportSummary, StatusChange, Problem, IndicatorFigure, IndicatorReport)),
    modifiers(&Bearer),
    tags((name = "registry", description = "学校、班级、学生、教职工"), (name = "account", description = "当前账户"), (name = "admin", description = "市局管理员"), (name = "plan", description = "工作计划与指标"))
)]
struct ApiDoc;

struct Bearer;
impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The refusals every operation can answer, documented where its handler does not name them:
/// 401 (no or a revoked token), 403 (outside the account's role, or a password to change first),
/// 400 for a query string that does not parse and 422 for a value that does (a bad date), 404 for
/// a path id that names no record in scope, and for a request body 400 (does not parse), 413 (too
/// large), 415 (not the documented content type) and 422 (a body that does not match). All `application/problem+json` with [`Problem`]. Applied to the merged
/// document, so the services, enrolment and admission routes are covered too.
struct Refusals;
impl Modify for Refusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        let add = |op: &mut Operation| {
            let has = |op: &Operation, at: ParameterIn| {
                op.parameters.iter().flatten().any(|p| match p {
                    RefOr::T(p) => p.parameter_in == at,
                    RefOr::Ref(_) => false,
                })
            };
            let mut codes = vec![
                ("401", "未登录或令牌无效"),
                ("403", "账户无此权限，或须先修改密码"),
            ];
            if has(op, ParameterIn::Query) {
                codes.push(("400", "查询参数有误"));
                codes.push(("422", "查询参数的值不合要求（如日期格式）"));
            }
            if has(op, ParameterIn::Path) {
                codes.push(("404", "记录不存在或不在管辖范围内"));
            }
            if op.request_body.is_some() {
                codes.push(("400", "请求体无法解析（如 JSON 语法错误）"));
                codes.push(("413", "内容超过大小上限"));
                codes.push(("415", "请求体的内容类型不受支持"));
                codes.push(("422", "请求内容有误"));
            }
            for (code, description) in codes {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| problem(description));
            }
        };
        // A Problem is sent as application/problem+json, not the default application/json.
        let retype = |op: &mut Operation| {
            for (code, r) in op.responses.responses.iter_mut() {
                let RefOr::T(r) = r else { continue };
                if !code.starts_with('4') && !code.starts_with('5') {
                    continue;
                }
                let problem = matches!(r.content.get("application/json"),
                    Some(RefOr::T(c)) if matches!(&c.schema, Some(RefOr::Ref(x)) if x.ref_location.ends_with("/Problem")));
                if problem && let Some(c) = r.content.shift_remove("application/json") {
                    r.content.insert("application/problem+json".to_string(), c);
                }
            }
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                retype(op);
                add(op);
            }
        }
    }
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(services::ServicesDoc::openapi());
    doc.merge(enrolment::EnrolmentDoc::openapi());
    // Monthly dispatch, the first user of the periodic-report cycle (`api::dispatch`).
    doc.merge(dispatch::DispatchDoc::openapi());
    // Senior-high unified admission (issue 6): every step of its pages (`api::admission`).
    doc.merge(<admission::AdmissionApi as OpenApi>::openapi());
    Refusals.modify(&mut doc);
    doc
}

/// The API routes and the documentation.
pub fn router(upload_limit: usize) -> Router<AppState> {
    let docs: Router<AppState> = Router::from(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", openapi()))
        // Swagger UI sets inline styles; its pages alone may use them.
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"),
        ));
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/regions", get(regions))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/schools", get(list_schools).post(create_school))
        .route("/api/v1/schools/{id}", get(get_school).put(save_school))
        .route("/api/v1/classes", get(list_classes).post(create_class))
        .route("/api/v1/classes/{id}", get(get_class).put(save_class))
        .route("/api/v1/students", get(list_students).post(create_student))
        .route("/api/v1/students/{id}", get(get_student).put(save_student))
        .route("/api/v1/students/{id}/status", post(change_status))
        .route("/api/v1/staff", get(list_staff).post(create_staff))
        .route("/api/v1/staff/{id}", get(get_staff).put(save_staff))
        .route("/api/v1/search", get(search))
        .route(
            "/api/v1/imports/{table}",
            post(import).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/indicators", get(indicators))
        .merge(services::router())
        .merge(enrolment::router())
        .merge(dispatch::router(upload_limit))
        .merge(docs)
}

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct Paged {
    /// Rows.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    /// 1-based page.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
    /// Rows in all, when counted.
    pub total: Option<i64>,
    /// Whether there is a next page.
    pub has_next: bool,
}

impl Paged {
    fn of<T: Serialize>(p: browse::Page<T>, f: impl Fn(Value) -> Value) -> Paged {
        Paged {
            items: p
                .items
                .iter()
                .map(|i| f(serde_json::to_value(i).unwrap_or(Value::Null)))
                .collect(),
            page: p.page,
            per_page: p.per_page,
            total: p.total,
            has_next: p.has_next,
        }
    }
}

/// An error (RFC 9457).
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// Title.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened.
    pub detail: String,
    /// Field errors.
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<Vec<Value>>,
}

/// Masks ID numbers and phones in a JSON row for callers without the personal-data right.
fn protect(u: &User) -> impl Fn(Value) -> Value + '_ {
    move |mut v| {
        if !u.role().has_personal_data_right()
            && let Some(o) = v.as_object_mut()
        {
            for k in [
                "id_card",
                "student_no",
                "guardian1_phone",
                "guardian2_phone",
                "phone",
            ] {
                if let Some(Value::String(s)) = o.get(k) {
                    let m = yimeng_domain::idcard::mask(s);
                    o.insert(k.into(), Value::String(m));
                }
            }
        }
        v
    }
}

fn staff_only(u: &User) -> Result<(), Failure> {
    u.require_staff()
}

#[derive(Deserialize, IntoParams)]
struct PageParams {
    /// 1-based page (default 1).
    page: Option<i64>,
    /// Rows per page (default 50, at most 500).
    per_page: Option<i64>,
}

fn paging(p: &PageParams) -> (i64, i64) {
    (
        p.page.unwrap_or(1).max(1),
        p.per_page.unwrap_or(50).clamp(1, 500),
    )
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

/// Counts per county and school type: schools, classes, students by status, staff.
#[utoipa::path(get, path = "/api/v1/stats", tag = "registry", responses((status = 200, description = "统计")))]
async fn stats(State(state): State<AppState>, ApiUser(u): ApiUser) -> ApiResult<Json<Value>> {
    staff_only(&u)?;
    let s = yimeng_store::stats::compute(&state.db, &u.scope).await?;
    let rows: Vec<Value> = s
        .cells
        .iter()
        .map(|((c, t), v)| json!({"county_id": c, "school_type": t, "counts": v}))
        .collect();
    Ok(Json(json!({"cells": rows, "total": s.total()})))
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
}

/// Schools in scope with student, class and staff counts.
#[utoipa::path(get, path = "/api/v1/schools", tag = "registry", params(SchoolParams, PageParams), responses((status = 200, body = Paged)))]
async fn list_schools(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<SchoolParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Paged>> {
    staff_only(&u)?;
    let f = browse::SchoolFilter {
        county: q.county,
        school_type: q.school_type,
        ownership: q.ownership,
        location: q.location,
        q: q.q,
    };
    let (page, per) = paging(&p);
    let r = browse::schools(
        &state.db,
        &u.scope,
        &state.rules,
        &f,
        q.sort.as_deref().unwrap_or("county"),
        false,
        page,
        per,
    )
    .await?;
    Ok(Json(Paged::of(r, |v| v)))
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

/// `PUT` changes the fields it names; the others keep their stored values.
fn overlay(
    mut stored: HashMap<String, String>,
    given: HashMap<String, String>,
) -> HashMap<String, String> {
    stored.extend(given);
    stored
}

fn json_values(body: &HashMap<String, Value>) -> HashMap<String, String> {
    body.iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => if *b { "是" } else { "否" }.to_string(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), s)
        })
        .collect()
}

fn saved(r: Saved) -> Result<i64, Failure> {
    match r {
        Saved::Ok(id) => Ok(id),
        Saved::Invalid(errs) => Err(Failure::Fields(errs)),
    }
}

fn parse_failed(errs: Vec<FieldError>) -> Failure {
    Failure::Fields(errs)
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
        let stored = crate::pages::forms::values_from_cells(
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
    let rec = yimeng_io::records::parse_school(&get, &crate::pages::forms::ctx())
        .map_err(parse_failed)?;
    let sid = saved(yimeng_store::edit::save_school(&state.db, &u.scope, &u.actor(), rec).await?)?;
    let row = yimeng_store::school::get(&state.db, &u.scope, sid).await?;
    Ok(Json(serde_json::to_value(row)?))
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
}

/// Classes with sizes counted from the roster, largest first.
#[utoipa::path(get, path = "/api/v1/classes", tag = "registry", params(ClassParams, PageParams), responses((status = 200, body = Paged)))]
async fn list_classes(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<ClassParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Paged>> {
    staff_only(&u)?;
    let (page, per) = paging(&p);
    let f = browse::ClassFilter {
        county: q.county,
        school: q.school,
        grade: q.grade,
        min_size: q.min_size,
    };
    Ok(Json(Paged::of(
        browse::classes(&state.db, &u.scope, &state.rules, &f, page, per).await?,
        |v| v,
    )))
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
        let stored = crate::pages::classes::class_values(&state, &u, &c).await?;
        values = overlay(stored, values);
        let s = yimeng_store::school::get(&state.db, &u.scope, c.school_id).await?;
        values.insert("school_code".into(), s.code);
    }
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let rec =
        yimeng_io::records::parse_class(&get, &crate::pages::forms::ctx()).map_err(parse_failed)?;
    let cid =
        saved(yimeng_store::edit::save_class(&state.db, &u.scope, &u.actor(), rec, id).await?)?;
    Ok(Json(
        serde_json::to_value(yimeng_store::class::get(&state.db, &u.scope, cid).await?)
            .unwrap_or_default(),
    ))
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
}

/// Students in scope. City-wide lists need a county, a school, a class or a search term.
#[utoipa::path(get, path = "/api/v1/students", tag = "registry", params(StudentParams, PageParams), responses((status = 200, body = Paged), (status = 422, body = Problem)))]
async fn list_students(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<StudentParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Paged>> {
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
    let (page, per) = paging(&p);
    let r = browse::students(&state.db, &u.scope, &f, page, per).await?;
    Ok(Json(Paged::of(r, protect(&u))))
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

async fn student_values(
    state: &AppState,
    u: &User,
    id: i64,
) -> Result<HashMap<String, String>, Failure> {
    let d = browse::student_detail(&state.db, &u.scope, id).await?;
    let class = d.class.as_ref().map(|c| yimeng_domain::student::ClassRef {
        year: yimeng_domain::SchoolYear::from_start(c.school_year),
        grade: c.grade(),
        class_no: c.class_no,
    });
    let rec = d.student.to_record(&d.school_code, class);
    Ok(crate::pages::forms::values_from_cells(
        Table::Students,
        yimeng_io::records::student_cells(&rec),
    ))
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
        let stored = student_values(&state, &u, id).await?;
        values = overlay(stored.clone(), values);
        if reason.is_none() {
            values.insert(
                "status".into(),
                stored.get("status").cloned().unwrap_or_default(),
            );
        }
    }
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let rec = yimeng_io::records::parse_student(&get, &crate::pages::forms::ctx())
        .map_err(parse_failed)?;
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
    if let Some(change) = crate::pages::students::status_change_of(&state, to, &reason, None)? {
        let cal = yimeng_store::calendar::load(&state.db).await?;
        let r = yimeng_store::status_request::create(
            &state.db,
            &u.actor(),
            &u.scope,
            &state.rules,
            &cal,
            crate::service::today(),
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
    let mut values: HashMap<String, Value> = student_values(&state, u, id)
        .await?
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    values.insert("status".into(), Value::String(to.label().into()));
    let Json(v) = save_student_inner(State(state), user, Some(id), values, Some(reason)).await?;
    Ok((StatusCode::OK, Json(v)))
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
    )))
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
        let (_, stored) = crate::pages::staff::staff_values(&state, &u, id).await?;
        values = overlay(stored, values);
    }
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let rec =
        yimeng_io::records::parse_staff(&get, &crate::pages::forms::ctx()).map_err(parse_failed)?;
    let sid =
        saved(yimeng_store::edit::save_staff(&state.db, &u.scope, &u.actor(), rec, id).await?)?;
    Ok(Json(protect(&u)(
        serde_json::to_value(yimeng_store::staff::get(&state.db, &u.scope, sid).await?)
            .unwrap_or_default(),
    )))
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
    Ok(Json(
        serde_json::to_value(browse::search(&state.db, &u.scope, &q.q, 20).await?)
            .unwrap_or_default(),
    ))
}

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct ImportSummary {
    /// Written (false for a dry run or a refused file).
    pub committed: bool,
    /// Rows read.
    pub total: u64,
    /// New records.
    pub inserted: u64,
    /// Changed records.
    pub updated: u64,
    /// Unchanged records.
    pub unchanged: u64,
    /// Refused rows.
    pub rejected: u64,
    /// Every problem: row, column (Chinese header), value, reason.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<crate::service::import::ErrorLine>,
}

#[derive(Deserialize, IntoParams)]
struct ImportParams {
    /// all (default: one bad row means nothing is written) | partial
    mode: Option<String>,
    /// true: check only, write nothing
    dry_run: Option<bool>,
}

/// Imports a file (multipart field `file`; .xlsx, .xls or .csv in UTF-8 or GBK) into
/// `schools`, `classes`, `students` or `staff`.
#[utoipa::path(post, path = "/api/v1/imports/{table}", tag = "registry", params(("table" = String, Path, description = "schools | classes | students | staff"), ImportParams), request_body(content_type = "multipart/form-data", content = Object), responses((status = 200, body = ImportSummary), (status = 422, description = "有行未通过校验，未写入（返回同样的报告）", body = ImportSummary), (status = 404, description = "未知的表", body = Problem)))]
async fn import(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(table): Path<String>,
    Query(q): Query<ImportParams>,
    mut mp: Multipart,
) -> ApiResult<(StatusCode, Json<ImportSummary>)> {
    u.require_writer()?;
    let table = Table::parse(&table).ok_or(Failure::NotFound)?;
    let dir = tempfile::tempdir().map_err(|e| Failure::Internal(e.to_string()))?;
    let mut saved_file = None;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("upload.csv").to_string();
        let ext = std::path::Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("csv")
            .to_ascii_lowercase();
        let path = dir.path().join(format!("upload.{ext}"));
        crate::pages::import::save_field(&mut field, &path).await?;
        saved_file = Some((path, name));
    }
    let (path, file_name) =
        saved_file.ok_or_else(|| Failure::BadRequest("缺少文件（multipart 字段 file）".into()))?;
    let mode = if q.mode.as_deref() == Some("partial") {
        yimeng_store::import::Mode::Partial
    } else {
        yimeng_store::import::Mode::AllOrNothing
    };
    let job = crate::service::import::ImportJob {
        table,
        path,
        file_name,
        mode,
        dry_run: q.dry_run.unwrap_or(false),
    };
    let o = crate::service::import::import_file_gated(
        &state.db,
        &u.scope,
        &u.actor(),
        job,
        yimeng_store::import::GateOptions::with_rules(&state.rules),
        Arc::new(|_| {}),
    )
    .await?;
    state.cache.lock().expect("cache lock").clear();
    let r = &o.report;
    // Rows were refused and nothing was (or, in a dry run, would be) written: 422 with the report.
    let status = if r.rejected > 0
        && !r.committed
        && (mode == yimeng_store::import::Mode::AllOrNothing || r.inserted + r.updated == 0)
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(ImportSummary {
            committed: r.committed,
            total: r.total,
            inserted: r.inserted,
            updated: r.updated,
            unchanged: r.unchanged,
            rejected: r.rejected,
            errors: o.errors,
        }),
    ))
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
}

#[derive(Deserialize, IntoParams)]
struct IndicatorParams {
    /// Region code: 371300 (the city, default) or a county (371302 …).
    region: Option<i32>,
    /// As of this date (YYYY-MM-DD): a past date reads the snapshot taken then; default today.
    date: Option<String>,
}

/// One indicator's figure in a region.
#[derive(Serialize, ToSchema)]
pub struct IndicatorFigure {
    /// Indicator code.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// Unit (%, 个, 人 …).
    pub unit: String,
    /// The value (null: not computable or not reported).
    pub value: Option<f64>,
    /// Numerator (computed indicators).
    pub numerator: Option<f64>,
    /// Denominator (computed indicators).
    pub denominator: Option<f64>,
    /// The plan's target, if any.
    pub target: Option<f64>,
    /// at_least | at_most | equal
    pub comparator: Option<String>,
    /// Target deadline.
    pub deadline: Option<chrono::NaiveDate>,
    /// met | not_met | no_data | no_target
    pub status: String,
    /// computed | reported
    pub source: String,
}

/// The indicators of a region as of a date.
#[derive(Serialize, ToSchema)]
pub struct IndicatorReport {
    /// The work plan's code (linyi-2020 …).
    pub plan: String,
    /// Region code: 371300 (the city) or a county.
    pub region: i32,
    /// The date the figures are for.
    pub as_of: chrono::NaiveDate,
    /// Whether computed now (true) or read from the snapshot taken then.
    pub live: bool,
    /// One figure per indicator of the plan.
    pub indicators: Vec<IndicatorFigure>,
}

/// Every indicator of the current work plan for a region, as of a date.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "plan", params(IndicatorParams), responses((status = 200, description = "指标数值", body = IndicatorReport), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn indicators(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<IndicatorParams>,
) -> ApiResult<Json<IndicatorReport>> {
    staff_only(&u)?;
    let date = crate::pages::plan::parse_date(&q.date)?;
    let region = q.region.unwrap_or(yimeng_store::audit::CITY_COUNTY_ID);
    if region != yimeng_store::audit::CITY_COUNTY_ID
        && !yimeng_domain::region::LINYI_UNITS
            .iter()
            .any(|x| x.code.get() == region)
    {
        return Err(Failure::NotFound.into());
    }
    let board = state.board(date).await?;
    let plan = &board.plan;
    let rows: Vec<IndicatorFigure> = plan
        .indicators
        .iter()
        .map(|d| {
            let f = board.figure(region, &d.code);
            let t = crate::pages::plan::target_of(plan, &d.code).map(|(_, t)| t);
            IndicatorFigure {
                code: d.code.clone(),
                name: d.name.clone(),
                unit: d.unit.clone(),
                value: f.value,
                numerator: f.numerator,
                denominator: f.denominator,
                target: t.map(|t| t.target),
                comparator: t.map(|t| t.comparator.code().to_string()),
                deadline: t.map(|t| t.deadline),
                status: match (t, f.value) {
                    (None, _) => "no_target",
                    (Some(_), None) => "no_data",
                    (Some(t), Some(v)) if t.is_met(v) => "met",
                    _ => "not_met",
                }
                .into(),
                source: if d.source.computation().is_some() {
                    "computed"
                } else {
                    "reported"
                }
                .into(),
            }
        })
        .collect();
    Ok(Json(IndicatorReport {
        plan: plan.code.clone(),
        region,
        as_of: board.as_of,
        live: board.live,
        indicators: rows,
    }))
}

/// The audit log (city administrator).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams, PageParams), responses((status = 200, body = Paged), (status = 403, body = Problem)))]
async fn audit(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<AuditParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Paged>> {
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
    Ok(Json(Paged::of(
        browse::audit(&state.db, &f, page, per).await?,
        |v| v,
    )))
}
