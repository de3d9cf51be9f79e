//! `/api/v1`: the pages as JSON, with the same scopes, rules and audit. Documented by OpenAPI at
//! `/api/v1/openapi.json` with Swagger UI (served from the binary) at `/api/docs/`.
//!
//! Authentication: `Authorization: Bearer <personal token>` (made on the 我的账户 page), or the
//! browser's session cookie plus the page's CSRF token in `X-CSRF-Token` for writes. Errors are
//! `application/problem+json`; field errors list `errors: [{field, value, reason}]`.

use crate::app::AppState;
use crate::auth::User;
use crate::error::Failure;
use axum::Router;
use axum::http::{HeaderValue, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use yimeng_domain::FieldError;
use yimeng_store::browse;
use yimeng_store::edit::Saved;

mod accounts;
pub mod admission;
mod classes;
mod dispatch;
mod enrolment;
mod export;
mod imports;
mod plan;
mod registry;
mod rollover;
mod schools;
mod services;
mod staff;
mod students;
mod sunshine;

#[derive(OpenApi)]
#[openapi(
    info(title = "沂蒙教育治理平台 API", version = "1", description = "临沂市教育局教育治理平台：学校、班级、学生学籍、教职工。所有读写按账户的管辖范围执行；范围外的记录返回 404。"),
    components(schemas(Paged, Problem)),
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
    doc.merge(registry::RegistryDoc::openapi());
    doc.merge(schools::SchoolsDoc::openapi());
    doc.merge(classes::ClassesDoc::openapi());
    doc.merge(students::StudentsDoc::openapi());
    doc.merge(staff::StaffDoc::openapi());
    doc.merge(imports::ImportsDoc::openapi());
    doc.merge(plan::PlanDoc::openapi());
    doc.merge(services::ServicesDoc::openapi());
    doc.merge(enrolment::EnrolmentDoc::openapi());
    // Monthly dispatch, the first user of the periodic-report cycle (`api::dispatch`).
    doc.merge(dispatch::DispatchDoc::openapi());
    // Senior-high unified admission (issue 6): every step of its pages (`api::admission`).
    doc.merge(<admission::AdmissionApi as OpenApi>::openapi());
    // 阳光分班, rollover, accounts and exports: the remaining page actions.
    doc.merge(sunshine::SunshineApi::openapi());
    doc.merge(rollover::RolloverApi::openapi());
    doc.merge(accounts::AccountsApi::openapi());
    doc.merge(export::ExportApi::openapi());
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
        .merge(registry::router())
        .merge(schools::router())
        .merge(classes::router())
        .merge(students::router())
        .merge(staff::router())
        .merge(imports::router(upload_limit))
        .merge(plan::router())
        .merge(services::router())
        .merge(enrolment::router())
        .merge(sunshine::router())
        .merge(rollover::router())
        .merge(accounts::router())
        .merge(export::router())
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
    /// A page of rows as JSON, each passed through `f` (e.g. [`protect`]).
    fn of<T: Serialize>(
        p: browse::Page<T>,
        f: impl Fn(Value) -> Value,
    ) -> Result<Paged, serde_json::Error> {
        Ok(Paged {
            items: p
                .items
                .iter()
                .map(|i| serde_json::to_value(i).map(&f))
                .collect::<Result<_, _>>()?,
            page: p.page,
            per_page: p.per_page,
            total: p.total,
            has_next: p.has_next,
        })
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
