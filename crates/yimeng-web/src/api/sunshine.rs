//! `/api/v1/schools/{id}/sunshine`: 阳光分班 of a school's intake as the page
//! (`/schools/{id}/sunshine`) does it — the starting grades offered, the preview (the public list
//! with the balance figures, nothing written) and the commit (every child placed into 1..k 班
//! through the class-size gate, each placement audited) — through the same service
//! (`service::sunshine`): registry writers only (county and school accounts), the school in the
//! caller's scope (404 outside), every input problem a 422 naming the field in Chinese.

use crate::api::Problem;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::service::sunshine::{self as svc, Committed, Listed, ListedClass, Preview};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// The 阳光分班 part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(sunshine_options, sunshine_preview, sunshine_commit),
    components(schemas(SunshineBody, SunshineOptions, StartingGrade, Preview, ListedClass, Listed, Committed)),
    tags((name = "sunshine", description = "阳光分班"))
)]
pub struct SunshineApi;

/// The 阳光分班 routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/schools/{id}/sunshine", get(sunshine_options))
        .route(
            "/api/v1/schools/{id}/sunshine/preview",
            post(sunshine_preview),
        )
        .route(
            "/api/v1/schools/{id}/sunshine/commit",
            post(sunshine_commit),
        )
}

/// What to assign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SunshineBody {
    /// `applications` (the accepted enrolment applicants of the grade, default) or `unplaced`
    /// (the school's students on the register without a class).
    #[serde(default)]
    #[schema(example = "applications")]
    source: Option<String>,
    /// The school year's start year, 2000 to 2100.
    #[schema(example = 2026)]
    year: i32,
    /// A starting grade's code (K1 小班, P1 一年级, J1 七年级, S1 高一, V1 中职一年级).
    #[schema(example = "P1")]
    grade: String,
    /// Number of classes, 1 to 40.
    #[schema(example = 2)]
    classes: u32,
    /// The published random seed.
    #[schema(example = 20260901)]
    seed: u64,
    /// Sibling requests, one group per line: ID numbers, then 同班 (together) or 分班 (apart).
    #[serde(default)]
    siblings: Option<String>,
}

impl SunshineBody {
    fn request(&self) -> svc::Request {
        svc::Request {
            source: self.source.clone().unwrap_or_default(),
            year: self.year.to_string(),
            grade: self.grade.clone(),
            classes: self.classes.to_string(),
            seed: self.seed.to_string(),
            siblings: self.siblings.clone().unwrap_or_default(),
        }
    }
}

/// A starting grade the school teaches.
#[derive(Serialize, ToSchema)]
pub struct StartingGrade {
    /// Code (P1 …).
    code: &'static str,
    /// Chinese name (一年级 …).
    name: &'static str,
}

/// What a 阳光分班 of the school can be asked for.
#[derive(Serialize, ToSchema)]
pub struct SunshineOptions {
    /// School id.
    school_id: i64,
    /// School name.
    school_name: String,
    /// Its starting grades.
    grades: Vec<StartingGrade>,
}

/// The starting grades a 阳光分班 of the school can place (registry writers, in scope).
#[utoipa::path(get, path = "/api/v1/schools/{id}/sunshine", tag = "sunshine", params(("id" = i64, Path, description = "学校 id")), responses((status = 200, body = SunshineOptions), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn sunshine_options(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<SunshineOptions>> {
    let (s, grades) = svc::school(&state.db, &u, id).await?;
    Ok(Json(SunshineOptions {
        school_id: s.id,
        school_name: s.name,
        grades: grades
            .into_iter()
            .map(|(code, name)| StartingGrade { code, name })
            .collect(),
    }))
}

/// The assignment, not written: the public list by class with the balance figures (the same
/// seed gives the same list). 422 for a bad year, grade, class count or sibling line, or when no
/// child waits for a class.
#[utoipa::path(post, path = "/api/v1/schools/{id}/sunshine/preview", tag = "sunshine", params(("id" = i64, Path, description = "学校 id")), request_body = SunshineBody, responses((status = 200, body = Preview), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn sunshine_preview(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
    Json(b): Json<SunshineBody>,
) -> ApiResult<Json<Preview>> {
    let (s, _) = svc::school(&state.db, &u, id).await?;
    Ok(Json(svc::preview(&state.db, &u, &s, &b.request()).await?))
}

/// Runs the assignment and places every child into 1..k 班 of the grade (created when missing).
/// 422 as for the preview, or when a class would exceed the class-size limit (nothing placed);
/// children refused one by one are listed in `problems`.
#[utoipa::path(post, path = "/api/v1/schools/{id}/sunshine/commit", tag = "sunshine", params(("id" = i64, Path, description = "学校 id")), request_body = SunshineBody, responses((status = 200, body = Committed), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn sunshine_commit(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
    Json(b): Json<SunshineBody>,
) -> ApiResult<Json<Committed>> {
    let (s, _) = svc::school(&state.db, &u, id).await?;
    let done = svc::commit(&state.db, &u, &state.rules, &s, &b.request()).await?;
    Ok(Json(done))
}
