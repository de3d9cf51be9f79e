//! `/api/v1/rollover`: 学年升级 (year rollover) as the page (`/admin/rollover`) does it — the dry
//! run with the counts per county, and the run itself (one transaction, recorded and audited; a
//! school year is rolled over once, a second run is a 409) — through the same service
//! (`service::rollover`): the city administrator only.

use crate::api::Problem;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::service::rollover as svc;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_store::rollover::Rollover;

/// The rollover part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(rollover_preview, rollover_run),
    components(schemas(RolloverBody, RolloverResult, CountyFigures)),
    tags((name = "rollover", description = "学年升级"))
)]
pub struct RolloverApi;

/// The rollover routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rollover/preview", get(rollover_preview))
        .route("/api/v1/rollover", post(rollover_run))
}

/// The counts of one county.
#[derive(Serialize, ToSchema)]
pub struct CountyFigures {
    /// County code.
    county_id: i32,
    /// County name.
    county: String,
    /// 在籍 students moved one grade up.
    promoted: i64,
    /// Students of a final grade who graduate.
    graduated: i64,
    /// Classes of the new year created.
    classes_created: i64,
}

/// What the rollover changes (or, for a dry run, would change).
#[derive(Serialize, ToSchema)]
pub struct RolloverResult {
    /// The new school year's start year.
    school_year: i32,
    /// Whether nothing was written.
    dry_run: bool,
    /// Per county.
    counties: Vec<CountyFigures>,
    /// Totals over the counties (`county_id` 371300).
    total: CountyFigures,
    /// What was done, in Chinese (a real run).
    message: Option<String>,
}

fn figures(c: &yimeng_store::rollover::CountyCounts, county_id: i32) -> CountyFigures {
    CountyFigures {
        county_id,
        county: yimeng_domain::RegionCode::from_i32(county_id).name(),
        promoted: c.promoted,
        graduated: c.graduated,
        classes_created: c.classes_created,
    }
}

impl From<Rollover> for RolloverResult {
    fn from(r: Rollover) -> Self {
        RolloverResult {
            school_year: r.school_year,
            dry_run: r.dry_run,
            counties: r.counties.iter().map(|c| figures(c, c.county_id)).collect(),
            total: figures(&r.total(), yimeng_store::audit::CITY_COUNTY_ID),
            message: (!r.dry_run).then(|| svc::done_message(&r)),
        }
    }
}

/// Query of the dry run.
#[derive(Deserialize, IntoParams)]
struct PreviewParams {
    /// The new school year's start year (2000 to 2100), e.g. 2021.
    year: String,
}

/// The dry run: what a rollover into school year `year` would change, per county; nothing is
/// written (city administrator). 422 for a bad year, 409 when that year was rolled over already.
#[utoipa::path(get, path = "/api/v1/rollover/preview", tag = "rollover", params(PreviewParams), responses((status = 200, body = RolloverResult), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rollover_preview(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<PreviewParams>,
) -> ApiResult<Json<RolloverResult>> {
    u.require_admin()?;
    let year = svc::parse_year(&q.year)?;
    Ok(Json(svc::run(&state.db, &u, year, true).await?.into()))
}

/// A rollover, asked for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloverBody {
    /// The new school year's start year (2000 to 2100), e.g. 2021.
    #[schema(example = 2021)]
    year: i32,
    /// `true`: count only, write nothing (as the preview).
    #[serde(default)]
    dry_run: bool,
}

/// The rollover into school year `year` (city administrator): every 在籍 student one grade up,
/// the final grades graduate, the new year's classes created, in one transaction. 422 for a bad
/// year, 409 when that year was rolled over already.
#[utoipa::path(post, path = "/api/v1/rollover", tag = "rollover", request_body = RolloverBody, responses((status = 200, body = RolloverResult), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rollover_run(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Json(b): Json<RolloverBody>,
) -> ApiResult<Json<RolloverResult>> {
    u.require_admin()?;
    let year = svc::parse_year(&b.year.to_string())?;
    let r = svc::run(&state.db, &u, year, b.dry_run).await?;
    Ok(Json(r.into()))
}
