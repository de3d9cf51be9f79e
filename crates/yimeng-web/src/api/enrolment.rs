//! `/api/v1` for enrolment applications (入学申请, issue 5): the reviewers' list and record with
//! its history, their decisions, and the county's school zone table (学区). The same store calls
//! and permission checks as the pages (`pages::enrolment`); material bytes stay on the pages.

use super::{PageParams, Paged, Problem, paging, protect};
use crate::app::AppState;
use crate::auth::{ApiUser, User};
use crate::error::{ApiResult, Failure};
use crate::service::enrolment::{require_reviewer, zone_county};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_domain::FieldError;
use yimeng_domain::enrolment::Material;
use yimeng_store::browse;
use yimeng_store::enrolment::{self, ApplicationRow, Review};

#[derive(OpenApi)]
#[openapi(
    paths(list_applications, get_application, review_application, place_application, zones),
    components(schemas(ReviewBody, PlaceBody)),
    tags((name = "enrolment", description = "入学申请：审核、学区表"))
)]
pub(super) struct EnrolmentDoc;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/enrolment/applications", get(list_applications))
        .route(
            "/api/v1/enrolment/applications/{county}/{id}",
            get(get_application),
        )
        .route(
            "/api/v1/enrolment/applications/{county}/{id}/review",
            post(review_application),
        )
        .route(
            "/api/v1/enrolment/applications/{county}/{id}/place",
            post(place_application),
        )
        .route("/api/v1/enrolment/zones", get(zones))
}

fn today() -> chrono::NaiveDate {
    crate::service::today()
}

/// An application as JSON: the row (ID number and phone masked for callers without the
/// personal-data right) with its labels.
fn application_json(u: &User, a: &ApplicationRow) -> Result<Value, serde_json::Error> {
    let mut v = protect(u)(serde_json::to_value(a)?);
    if let Some(o) = v.as_object_mut() {
        if !u.role().has_personal_data_right()
            && let Some(Value::String(s)) = o.get("guardian_phone")
        {
            let m = yimeng_domain::idcard::mask(s);
            o.insert("guardian_phone".into(), Value::String(m));
        }
        o.insert("state_label".into(), a.state_label().into());
        o.insert("kind_label".into(), a.kind_label().into());
        o.insert("grade_label".into(), a.grade_label().into());
        o.insert("review_state_label".into(), a.review_state_label().into());
        o.insert("review_deadline".into(), json!(a.step_deadline));
        o.insert("overdue".into(), a.is_overdue(today()).into());
    }
    Ok(v)
}

/// The applications the caller reviews (county bureau, city, the zone school), newest first.
#[utoipa::path(get, path = "/api/v1/enrolment/applications", tag = "enrolment", params(PageParams), responses((status = 200, body = Paged), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_applications(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Paged>> {
    require_reviewer(&u)?;
    let (page, per) = paging(&p);
    let skip = (page - 1).saturating_mul(per);
    // The store lists newest first up to a limit; one row more tells whether a next page exists.
    let rows = enrolment::list(&state.db, &u.scope, skip.saturating_add(per + 1)).await?;
    let mut items: Vec<Value> = rows
        .iter()
        .skip(skip as usize)
        .map(|a| application_json(&u, a))
        .collect::<Result<_, _>>()?;
    let has_next = items.len() as i64 > per;
    items.truncate(per as usize);
    Ok(Json(Paged::of(
        browse::Page {
            items,
            page,
            per_page: per,
            total: None,
            has_next,
        },
        |v| v,
    )?))
}

/// An application with its status, its material files (names and sizes, not their content) and
/// its history of decisions.
#[utoipa::path(get, path = "/api/v1/enrolment/applications/{county}/{id}", tag = "enrolment", params(("county" = i32, Path), ("id" = i64, Path)), responses((status = 200, description = "入学申请"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_application(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&u)?;
    let a = enrolment::get(&state.db, &u.scope, county, id).await?;
    let files = enrolment::files(&state.db, &a).await?;
    let actions = enrolment::actions(&state.db, &a).await?;
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("material_label".into(), f.material_label().into());
            }
            Ok(v)
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(Json(json!({
        "application": application_json(&u, &a)?,
        "state_label": a.state_label(),
        "files": files,
        "history": actions,
    })))
}

/// A reviewer's decision.
#[derive(Deserialize, ToSchema)]
pub struct ReviewBody {
    /// `more_material` (待补充材料), `accept` (受理) or `refuse` (不予受理).
    pub decision: String,
    /// For `more_material`: the codes of the missing documents (`hukou`, `birth` …).
    #[serde(default)]
    pub missing: Vec<String>,
    /// Why (required for `refuse`); `note` is accepted too.
    #[serde(default, alias = "note")]
    pub reason: String,
}

fn review_of(b: &ReviewBody) -> Result<Review, Failure> {
    match b.decision.as_str() {
        "more_material" => {
            let mut missing = Vec::new();
            for code in &b.missing {
                match Material::from_code(code) {
                    Some(m) => missing.push(m),
                    None => {
                        return Err(Failure::Fields(vec![FieldError::new(
                            "missing",
                            code,
                            "不是已知的材料代码",
                        )]));
                    }
                }
            }
            Ok(Review::RequestMaterials(missing))
        }
        "accept" => Ok(Review::Accept),
        "refuse" => Ok(Review::Reject(b.reason.clone())),
        other => Err(Failure::Fields(vec![FieldError::new(
            "decision",
            other,
            "请选择办理结果：more_material（补充材料）、accept（受理）或 refuse（不予受理）",
        )])),
    }
}

/// Decides an application (its reviewers only). A decision the application's state no longer
/// allows (a second decision) is a conflict (409).
#[utoipa::path(post, path = "/api/v1/enrolment/applications/{county}/{id}/review", tag = "enrolment", params(("county" = i32, Path), ("id" = i64, Path)), request_body = ReviewBody, responses((status = 200, description = "已办理"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn review_application(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
    Json(b): Json<ReviewBody>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&u)?;
    let decision = review_of(&b)?;
    let a = crate::service::enrolment::review(&state, &u, county, id, decision).await?;
    Ok(Json(json!({
        "application": application_json(&u, &a)?,
        "state_label": a.state_label(),
    })))
}

/// 统筹安排: the school the application goes to, and why.
#[derive(Deserialize, ToSchema)]
pub struct PlaceBody {
    /// The school's id (a school of the application's county teaching its stage).
    pub school_id: i64,
    /// Why (required): e.g. 多校划片 allotment, or the zone school is full.
    pub reason: String,
}

/// 统筹安排 by the county bureau (or the city): the application moves to another school of the
/// county, which then reviews and enrols it.
#[utoipa::path(post, path = "/api/v1/enrolment/applications/{county}/{id}/place", tag = "enrolment", params(("county" = i32, Path), ("id" = i64, Path)), request_body = PlaceBody, responses((status = 200, description = "已统筹安排"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn place_application(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((county, id)): Path<(i32, i64)>,
    Json(b): Json<PlaceBody>,
) -> ApiResult<Json<Value>> {
    require_reviewer(&u)?;
    let a = enrolment::place(
        &state.db,
        &u.actor(),
        &u.scope,
        county,
        id,
        b.school_id,
        &b.reason,
    )
    .await?;
    Ok(Json(json!({
        "application": application_json(&u, &a)?,
        "state_label": a.state_label(),
    })))
}

#[derive(Deserialize, IntoParams)]
struct ZoneParams {
    /// The county (city administrator only; a county bureau always gets its own).
    county: Option<i32>,
}

/// The school zone table (学区) of the caller's county.
#[utoipa::path(get, path = "/api/v1/enrolment/zones", tag = "enrolment", params(ZoneParams), responses((status = 200, description = "学区表"), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn zones(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<ZoneParams>,
) -> ApiResult<Json<Value>> {
    let county = zone_county(&u, q.county)?;
    let rows = enrolment::zones(&state.db, county).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|z| {
            let mut v = serde_json::to_value(z)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("stage_label".into(), z.stage_label().into());
            }
            Ok(v)
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(Json(json!({ "county": county, "items": items })))
}
