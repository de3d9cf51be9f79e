//! `/api/v1/plan`: the plan tracker's pages as JSON — the work items with their status, one item
//! with its tasks, targets and the dispatch reports the account may read, the population the
//! preschool enrolment rate divides by (read by every staff account; entered by the city
//! administrator or the county itself), indicator snapshots (list, take, read one) and the
//! year-end appraisal of counties. The rules are the pages' own (`service::plan`).

use super::{Problem, staff_only};
use crate::app::AppState;
use crate::auth::{ApiUser, User};
use crate::error::{ApiResult, Failure};
use crate::kit::parse_date;
use crate::service::plan::{
    PopulationEntry, PopulationLine, appraise, item_reports, population_lines, region_name,
    require_reader, show, take_snapshot, target_of,
};
use crate::service::tracker::{Board, regions};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_domain::FieldError;
use yimeng_domain::plan::PlanItem;
use yimeng_domain::region::LINYI_UNITS;
use yimeng_store::audit::CITY_COUNTY_ID;
use yimeng_store::snapshot::SnapshotRow;

#[derive(OpenApi)]
#[openapi(
    paths(
        indicators,
        list_items,
        get_item,
        population,
        set_population,
        list_snapshots,
        new_snapshot,
        get_snapshot,
        appraisal
    ),
    components(schemas(
        IndicatorFigure,
        IndicatorReport,
        ItemList,
        ItemSummary,
        ItemDetail,
        TaskLine,
        TargetFigure,
        PopulationFigure,
        PopulationBody,
        SnapshotSummary,
        SnapshotTaken,
        SnapshotDetail,
        SnapshotValue,
        Appraisal,
        AppraisalCounty,
        AppraisalPart
    ))
)]
pub(super) struct PlanDoc;

/// The routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/indicators", get(indicators))
        .route("/api/v1/plan/items", get(list_items))
        .route("/api/v1/plan/items/{n}", get(get_item))
        .route("/api/v1/plan/population", get(population))
        .route("/api/v1/plan/population/{county}", put(set_population))
        .route(
            "/api/v1/plan/snapshots",
            get(list_snapshots).post(new_snapshot),
        )
        .route("/api/v1/plan/snapshots/{id}", get(get_snapshot))
        .route("/api/v1/plan/appraisal", get(appraisal))
}

#[derive(Deserialize, IntoParams)]
struct DateParams {
    /// As of this date (YYYY-MM-DD): a past date reads the snapshot taken then; default today.
    date: Option<String>,
}

async fn board(state: &AppState, u: &User, q: &DateParams) -> Result<Arc<Board>, Failure> {
    require_reader(u)?;
    state.board(parse_date(&q.date)?).await
}

/// The name of a department, or its code when the plan does not know it.
fn department(board: &Board, code: &str) -> String {
    board
        .plan
        .department(code)
        .map_or_else(|| code.to_string(), |d| d.name.clone())
}

/// A work item and its status at the board's date.
#[derive(Serialize, ToSchema)]
pub struct ItemSummary {
    /// 序号.
    pub number: u32,
    /// The part (一 = 1) it belongs to.
    pub part: u32,
    /// Title as in the plan.
    pub title: String,
    /// 牵头科室 (department code).
    pub lead: String,
    /// The lead department's name.
    pub lead_name: String,
    /// done | on_track | at_risk | off_track
    pub status: String,
    /// 已完成 | 正常推进 | 有风险 | 滞后
    pub status_label: String,
    /// Why the item has this status.
    pub reason: String,
    /// Quantitative targets.
    pub targets: usize,
    /// Tasks.
    pub tasks: usize,
}

fn summary(board: &Board, item: &PlanItem) -> ItemSummary {
    let (status, reason) = board.status(item);
    ItemSummary {
        number: item.number,
        part: item.part,
        title: item.title.clone(),
        lead: item.lead.clone(),
        lead_name: department(board, &item.lead),
        status: status.code().to_string(),
        status_label: status.label().to_string(),
        reason,
        targets: item.targets.len(),
        tasks: item.tasks.len(),
    }
}

/// The work items of the current plan.
#[derive(Serialize, ToSchema)]
pub struct ItemList {
    /// The work plan's code (linyi-2020 …).
    pub plan: String,
    /// The date the statuses are for.
    pub as_of: NaiveDate,
    /// Whether computed now (true) or read from the snapshot taken then.
    pub live: bool,
    /// Every item in the plan's order.
    pub items: Vec<ItemSummary>,
}

/// The work items (工作要点) of the current plan with their status, as on the plan overview.
#[utoipa::path(get, path = "/api/v1/plan/items", tag = "plan", params(DateParams), responses((status = 200, body = ItemList), (status = 422, body = Problem)))]
async fn list_items(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<DateParams>,
) -> ApiResult<Json<ItemList>> {
    let board = board(&state, &u, &q).await?;
    Ok(Json(ItemList {
        plan: board.plan.code.clone(),
        as_of: board.as_of,
        live: board.live,
        items: board
            .plan
            .items
            .iter()
            .map(|i| summary(&board, i))
            .collect(),
    }))
}

/// A task of an item.
#[derive(Serialize, ToSchema)]
pub struct TaskLine {
    /// “8.2”: the item number, a dot and the task's number.
    pub code: String,
    /// What is to be done.
    pub title: String,
    /// 完成时限.
    pub deadline: NaiveDate,
    /// lead | counties: who reports its progress.
    pub reporters: String,
    /// Reported done (progress 100, approved) by the lead department.
    pub done: bool,
}

/// A target of an item with the city's figure.
#[derive(Serialize, ToSchema)]
pub struct TargetFigure {
    /// Indicator code.
    pub indicator: String,
    /// Indicator name.
    pub name: String,
    /// The plan's own words.
    pub text: String,
    /// The city's value (null: not computable or not reported).
    pub value: Option<f64>,
    /// The value as shown on the page (with its unit; — when there is none).
    pub shown: String,
    /// The target value.
    pub target: f64,
    /// at_least | at_most | equal
    pub comparator: String,
    /// Target deadline.
    pub deadline: NaiveDate,
    /// Whether the value meets the target (null: no value).
    pub met: Option<bool>,
    /// 鼓励性目标: shown, but it does not move the item's status.
    pub advisory: bool,
    /// computed | reported
    pub source: String,
}

/// One work item with its tasks, targets and the dispatch reports the account may read.
#[derive(Serialize, ToSchema)]
pub struct ItemDetail {
    /// The work plan's code.
    pub plan: String,
    /// The date the figures are for.
    pub as_of: NaiveDate,
    /// Whether computed now (true) or read from the snapshot taken then.
    pub live: bool,
    /// The item and its status.
    pub item: ItemSummary,
    /// A faithful Chinese summary.
    pub summary: String,
    /// 配合科室 (names).
    pub co_owners: Vec<String>,
    /// The operational module that serves it, when there is one.
    pub module: Option<String>,
    /// 任务.
    pub tasks: Vec<TaskLine>,
    /// 量化目标 with the city's figures.
    pub targets: Vec<TargetFigure>,
    /// Monthly dispatch reports of the item's tasks in the account's reach (newest first, at
    /// most 100).
    #[schema(value_type = Vec<Object>)]
    pub reports: Vec<yimeng_store::dispatch::ReportRow>,
}

/// One work item: its tasks, its targets against the city's figures and the monthly dispatch
/// reports of its tasks that the account may read, as on the item's page.
#[utoipa::path(get, path = "/api/v1/plan/items/{n}", tag = "plan", params(("n" = i64, Path, description = "工作要点序号"), DateParams), responses((status = 200, body = ItemDetail), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_item(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(n): Path<i64>,
    Query(q): Query<DateParams>,
) -> ApiResult<Json<ItemDetail>> {
    let board = board(&state, &u, &q).await?;
    let plan = &board.plan;
    let item = u32::try_from(n)
        .ok()
        .and_then(|n| plan.item(n))
        .ok_or(Failure::NotFound)?;
    let targets = item
        .targets
        .iter()
        .filter_map(|t| {
            let def = plan.indicator(&t.indicator)?;
            let f = board.figure(CITY_COUNTY_ID, &def.code);
            Some(TargetFigure {
                indicator: def.code.clone(),
                name: def.name.clone(),
                text: t.text.clone(),
                value: f.value,
                shown: show(def, &f),
                target: t.target,
                comparator: t.comparator.code().to_string(),
                deadline: t.deadline,
                met: f.value.map(|v| t.is_met(v)),
                advisory: t.advisory,
                source: if def.source.computation().is_some() {
                    "computed"
                } else {
                    "reported"
                }
                .into(),
            })
        })
        .collect();
    let tasks = item
        .tasks
        .iter()
        .map(|t| TaskLine {
            code: t.code.clone(),
            title: t.title.clone(),
            deadline: t.deadline,
            reporters: t.reporters.code().to_string(),
            done: board.done_tasks.contains(&t.code),
        })
        .collect();
    let reports = item_reports(&state, &u, plan, item.number).await?;
    Ok(Json(ItemDetail {
        plan: plan.code.clone(),
        as_of: board.as_of,
        live: board.live,
        item: summary(&board, item),
        summary: item.summary.clone(),
        co_owners: item
            .co_owners
            .iter()
            .map(|c| department(&board, c))
            .collect(),
        module: item.module.clone(),
        tasks,
        targets,
        reports,
    }))
}

/// A county unit's 3–5 year olds for the plan year (the preschool rate's denominator).
#[derive(Serialize, ToSchema)]
pub struct PopulationFigure {
    /// County code.
    pub county: i32,
    /// County name.
    pub name: String,
    /// The plan year.
    pub year: i32,
    /// 3–5 周岁人口 (null: not entered).
    pub age_3_5: Option<i64>,
    /// resident (常住) | hukou (户籍); null when not entered.
    pub basis: Option<String>,
    /// Source or remark.
    pub note: Option<String>,
    /// When it was entered.
    pub updated_at: Option<DateTime<Utc>>,
    /// Who entered it.
    pub updated_by: Option<String>,
    /// Children on the roll of the county's kindergartens (the platform's count).
    pub kg_roll: i64,
    /// Whether this account may enter it.
    pub can_set: bool,
}

fn figure(year: i32, (county, name, row, roll, can_set): PopulationLine) -> PopulationFigure {
    PopulationFigure {
        county,
        name,
        year,
        age_3_5: row.as_ref().map(|r| r.age_3_5),
        basis: row.as_ref().map(|r| r.basis.clone()),
        note: row.as_ref().map(|r| r.note.clone()),
        updated_at: row.as_ref().map(|r| r.updated_at),
        updated_by: row.map(|r| r.updated_by),
        kg_roll: roll,
        can_set,
    }
}

/// The plan year's 3–5 year olds of every county unit, as on the population page.
#[utoipa::path(get, path = "/api/v1/plan/population", tag = "plan", responses((status = 200, body = Vec<PopulationFigure>)))]
async fn population(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<Json<Vec<PopulationFigure>>> {
    require_reader(&u)?;
    let (year, lines) = population_lines(&state, &u).await?;
    Ok(Json(lines.into_iter().map(|l| figure(year, l)).collect()))
}

/// A county's population entry.
#[derive(Deserialize, ToSchema)]
pub struct PopulationBody {
    /// 3–5 周岁人口 (a positive whole number).
    pub age_3_5: i64,
    /// resident (常住人口) | hukou (户籍人口)
    pub basis: String,
    /// Source or remark (at most 200 characters are kept).
    #[serde(default)]
    pub note: String,
}

/// Enters a county's 3–5 year olds for the plan year: the city administrator for any county, a
/// county bureau for its own (as on the population page); the tracker recomputes the preschool
/// rate. Answers the stored figure.
#[utoipa::path(put, path = "/api/v1/plan/population/{county}", tag = "plan", params(("county" = i32, Path, description = "县区代码")), request_body = PopulationBody, responses((status = 200, body = PopulationFigure), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_population(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(county): Path<i32>,
    Json(body): Json<PopulationBody>,
) -> ApiResult<Json<PopulationFigure>> {
    require_reader(&u)?;
    if !LINYI_UNITS.iter().any(|x| x.code.get() == county) {
        return Err(Failure::NotFound.into());
    }
    let typed = body.age_3_5.to_string();
    let entry = PopulationEntry {
        county,
        age_3_5: &typed,
        basis: &body.basis,
        note: &body.note,
    };
    if let Err(m) = crate::service::plan::set_population(&state, &u, entry).await? {
        let field = if body.age_3_5 > 0 { "basis" } else { "age_3_5" };
        let value = if field == "basis" {
            &body.basis
        } else {
            &typed
        };
        return Err(Failure::Fields(vec![FieldError::new(field, value, m)]).into());
    }
    let (year, lines) = population_lines(&state, &u).await?;
    let line = lines
        .into_iter()
        .find(|l| l.0 == county)
        .ok_or(Failure::NotFound)?;
    Ok(Json(figure(year, line)))
}

/// A snapshot's header.
#[derive(Serialize, ToSchema)]
pub struct SnapshotSummary {
    /// Snapshot id.
    pub id: i64,
    /// The plan's code.
    pub plan: String,
    /// The date its figures stand for.
    pub as_of: NaiveDate,
    /// monthly | manual
    pub kind: String,
    /// 月度 | 手动
    pub kind_label: String,
    /// When it was taken.
    pub taken_at: DateTime<Utc>,
    /// Who took it (system for the monthly ones).
    pub taken_by: String,
}

impl From<SnapshotRow> for SnapshotSummary {
    fn from(s: SnapshotRow) -> Self {
        SnapshotSummary {
            kind_label: s.kind_label().to_string(),
            id: s.id,
            plan: s.plan_code,
            as_of: s.as_of,
            kind: s.kind,
            taken_at: s.taken_at,
            taken_by: s.taken_by,
        }
    }
}

/// The indicator snapshots (指标快照) of the current plan, newest first.
#[utoipa::path(get, path = "/api/v1/plan/snapshots", tag = "plan", responses((status = 200, body = Vec<SnapshotSummary>)))]
async fn list_snapshots(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<Json<Vec<SnapshotSummary>>> {
    require_reader(&u)?;
    let (row, _) = state.plan().await?;
    let list = yimeng_store::snapshot::list(&state.db, &row.code).await?;
    Ok(Json(list.into_iter().map(SnapshotSummary::from).collect()))
}

/// A snapshot just taken.
#[derive(Serialize, ToSchema)]
pub struct SnapshotTaken {
    /// Snapshot id.
    pub id: i64,
    /// Values stored (every indicator for the city and each county).
    pub values: usize,
}

/// Takes a snapshot of every indicator now (city administrator and city departments), as the
/// button on the plan overview.
#[utoipa::path(post, path = "/api/v1/plan/snapshots", tag = "plan", responses((status = 201, body = SnapshotTaken), (status = 403, body = Problem)))]
async fn new_snapshot(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<(StatusCode, Json<SnapshotTaken>)> {
    require_reader(&u)?;
    let (id, values) = take_snapshot(&state, &u).await?;
    Ok((StatusCode::CREATED, Json(SnapshotTaken { id, values })))
}

#[derive(Deserialize, IntoParams)]
struct SnapshotParams {
    /// Only this region: 371300 (the city) or a county (371302 …); default every region.
    region: Option<i32>,
}

/// One stored value.
#[derive(Serialize, ToSchema)]
pub struct SnapshotValue {
    /// Region: 371300 (the city) or a county.
    pub region: i32,
    /// Region name.
    pub region_name: String,
    /// Indicator code.
    pub indicator: String,
    /// The value (null: not computable or not reported then).
    pub value: Option<f64>,
    /// Numerator (computed indicators).
    pub numerator: Option<f64>,
    /// Denominator (computed indicators).
    pub denominator: Option<f64>,
}

/// A snapshot with its values.
#[derive(Serialize, ToSchema)]
pub struct SnapshotDetail {
    /// The header.
    pub snapshot: SnapshotSummary,
    /// Its values, by region then indicator.
    pub values: Vec<SnapshotValue>,
}

/// One snapshot of the current plan with its values (every region, or one).
#[utoipa::path(get, path = "/api/v1/plan/snapshots/{id}", tag = "plan", params(("id" = i64, Path, description = "快照 id"), SnapshotParams), responses((status = 200, body = SnapshotDetail), (status = 404, body = Problem)))]
async fn get_snapshot(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<SnapshotParams>,
) -> ApiResult<Json<SnapshotDetail>> {
    require_reader(&u)?;
    let all = regions();
    let wanted = match q.region {
        Some(r) if all.contains(&r) => vec![r],
        Some(_) => return Err(Failure::NotFound.into()),
        None => all,
    };
    let (row, _) = state.plan().await?;
    let snapshot = yimeng_store::snapshot::list(&state.db, &row.code)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(Failure::NotFound)?;
    let mut values = yimeng_store::snapshot::values(&state.db, snapshot.id, &wanted).await?;
    values.sort_by(|a, b| (a.county_id, &a.indicator).cmp(&(b.county_id, &b.indicator)));
    Ok(Json(SnapshotDetail {
        snapshot: snapshot.into(),
        values: values
            .into_iter()
            .map(|v| SnapshotValue {
                region: v.county_id,
                region_name: region_name(v.county_id),
                indicator: v.indicator,
                value: v.value,
                numerator: v.numerator,
                denominator: v.denominator,
            })
            .collect(),
    }))
}

/// One weighted indicator of a county's appraisal.
#[derive(Serialize, ToSchema)]
pub struct AppraisalPart {
    /// Indicator code.
    pub indicator: String,
    /// Indicator name.
    pub name: String,
    /// Points available.
    pub weight: f64,
    /// Target used.
    pub target: f64,
    /// The county's value (null: missing, scored 0).
    pub value: Option<f64>,
    /// Attainment in [0, 1].
    pub attainment: f64,
    /// weight × attainment.
    pub points: f64,
    /// The value was missing.
    pub missing: bool,
}

/// A county's appraisal.
#[derive(Serialize, ToSchema)]
pub struct AppraisalCounty {
    /// 名次 (ties share a rank).
    pub rank: usize,
    /// County code.
    pub county: i32,
    /// County name.
    pub name: String,
    /// Σ points.
    pub total: f64,
    /// Σ weights.
    pub max: f64,
    /// One per weight, in the plan's order.
    pub parts: Vec<AppraisalPart>,
}

/// The year-end appraisal.
#[derive(Serialize, ToSchema)]
pub struct Appraisal {
    /// The plan's code.
    pub plan: String,
    /// The date the figures are for.
    pub as_of: NaiveDate,
    /// Whether computed now (true) or read from the snapshot taken then.
    pub live: bool,
    /// Every county unit, best first.
    pub counties: Vec<AppraisalCounty>,
}

/// The year-end appraisal (年终考评) of counties at a date, ranked, as on the appraisal page.
#[utoipa::path(get, path = "/api/v1/plan/appraisal", tag = "plan", params(DateParams), responses((status = 200, body = Appraisal), (status = 422, body = Problem)))]
async fn appraisal(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Query(q): Query<DateParams>,
) -> ApiResult<Json<Appraisal>> {
    staff_only(&u)?;
    let board = board(&state, &u, &q).await?;
    let name = |code: &str| {
        board
            .plan
            .indicator(code)
            .map_or_else(|| code.to_string(), |d| d.name.clone())
    };
    let counties = appraise(&board)
        .into_iter()
        .map(|l| AppraisalCounty {
            rank: l.rank,
            county: l.county,
            name: l.name,
            total: l.score.total,
            max: l.score.max,
            parts: l
                .score
                .parts
                .into_iter()
                .map(|p| AppraisalPart {
                    name: name(&p.indicator),
                    indicator: p.indicator,
                    weight: p.weight,
                    target: p.target,
                    value: p.value,
                    attainment: p.attainment,
                    points: p.points,
                    missing: p.missing,
                })
                .collect(),
        })
        .collect();
    Ok(Json(Appraisal {
        plan: board.plan.code.clone(),
        as_of: board.as_of,
        live: board.live,
        counties,
    }))
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
    let date = parse_date(&q.date)?;
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
            let t = target_of(plan, &d.code).map(|(_, t)| t);
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
