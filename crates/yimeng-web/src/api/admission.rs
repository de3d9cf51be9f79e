//! `/api/v1/admission`: every step of the 中考统一招生 workflow of the pages (`pages::admission`)
//! as JSON — create a round, upload and delete its files, validate, dry run, publish, explain a
//! candidate, the results (paged, and `admissions.csv`) and the cut-offs (`cutoffs.csv`) — with
//! the same rules, through the same service functions (`service::admission`): city roles only,
//! a published round is frozen (409), a malformed file gives 422 with every problem (file, row,
//! column, reason). The public cut-off lines need no login.

use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Failure};
use crate::kit::attachment::attachment;
use crate::kit::{page_no, some};
use crate::service::admission::{
    self as svc, InputIssue, Issue, StoredIssues, Summary, Uploaded, require_city,
};
use crate::service::admission::{CutoffQuery, published_round};
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_store::admission::{self as store, ResultFilter};

/// The admission part of the OpenAPI document (merged into `/api/v1/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    paths(
        api_rounds,
        api_create_round,
        api_round,
        api_upload,
        api_delete_file,
        api_validate,
        api_dry_run,
        api_publish,
        api_explain,
        api_result_list,
        api_results,
        api_cutoffs,
        api_public_cutoffs
    ),
    components(schemas(NewRoundBody, PublishBody, Issue, StoredIssues, Summary, Uploaded, IssuesProblem)),
    tags((name = "admission", description = "中考统一招生"))
)]
pub struct AdmissionApi;

/// 422 with the problems of the files: `application/problem+json` whose `issues` name each
/// problem's file, row (header = row 1), column and reason.
#[derive(ToSchema)]
#[allow(dead_code)]
struct IssuesProblem {
    title: String,
    status: u16,
    detail: String,
    count: u64,
    issues: Vec<Issue>,
}

fn issues_problem(issues: &[InputIssue], detail: String) -> Response {
    let stored = StoredIssues::of(issues);
    let shown: Vec<String> = issues.iter().take(20).map(|i| i.to_string()).collect();
    let body = json!({
        "type": "about:blank",
        "title": "输入有误",
        "status": 422,
        "detail": format!("{detail}：{}", shown.join("；")),
        "count": stored.count,
        "issues": stored.items,
    });
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// Every admission round (city roles).
#[utoipa::path(get, path = "/api/v1/admission/rounds", tag = "admission", responses((status = 200, description = "招生轮次"), (status = 403, body = crate::api::Problem)))]
pub async fn api_rounds(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<Json<Value>> {
    require_city(&u)?;
    Ok(Json(json!({ "items": store::list(&state.db).await? })))
}

/// A new round.
#[derive(Deserialize, ToSchema)]
pub struct NewRoundBody {
    /// Year, e.g. 2026.
    year: i32,
    /// Name, e.g. “2026年全市统一招生”.
    name: String,
}

/// Creates a round (city roles): 201 with it; 422 for a bad year or name, 409 for a duplicate.
#[utoipa::path(post, path = "/api/v1/admission/rounds", tag = "admission", request_body = NewRoundBody, responses((status = 201, description = "已新建"), (status = 403, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 422, body = crate::api::Problem)))]
pub async fn api_create_round(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Json(b): Json<NewRoundBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require_city(&u)?;
    let r = svc::create_round(&state.db, &u.actor(), &b.year.to_string(), &b.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "round": r }))))
}

/// One round: status, files, dry-run counts and cut-offs (city roles).
#[utoipa::path(get, path = "/api/v1/admission/rounds/{id}", tag = "admission", params(("id" = i64, Path)), responses((status = 200, description = "招生轮次"), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub async fn api_round(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    require_city(&u)?;
    let round = store::get(&state.db, id).await?;
    let summary = Summary::of_round(&round);
    let issues = round
        .issues_json
        .is_some()
        .then(|| StoredIssues::of_round(&round));
    Ok(Json(json!({
        "round": round,
        "files": svc::files(&state.db, id).await?,
        "summary": summary,
        "issues": issues,
        "cutoffs": store::cutoffs(&state.db, id).await?,
    })))
}

/// Uploads a file of a round (multipart field `file`), replacing the one of that kind:
/// `candidates`, `schools`, `quotas`, `policy`, or `candidate_ids` (ID numbers for the public
/// lookup, stored only as salted hashes; a malformed one gives 422 with its rows). 409 once
/// published.
#[utoipa::path(post, path = "/api/v1/admission/rounds/{id}/files/{kind}", tag = "admission", params(("id" = i64, Path), ("kind" = String, Path, description = "candidates | schools | quotas | policy | candidate_ids")), request_body(content_type = "multipart/form-data", description = "字段 file：文件"), responses((status = 201, body = Uploaded), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 422, body = IssuesProblem)))]
pub async fn api_upload(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((id, kind)): Path<(i64, String)>,
    mut mp: Multipart,
) -> ApiResult<Response> {
    require_city(&u)?;
    let kind = svc::file_kind(&kind)?;
    let round = store::get(&state.db, id).await?;
    svc::refuse_published(&round)?;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| Failure::TooLarge(format!("上传中断或文件超过上限：{e}")))?;
        file = Some((name, bytes.to_vec()));
    }
    let (name, bytes) =
        file.ok_or_else(|| Failure::BadRequest("缺少文件（multipart 字段 file）".into()))?;
    match svc::upload(&state.db, &u.actor(), &round, kind, &name, &bytes).await? {
        Ok(done) => Ok((StatusCode::CREATED, Json(done)).into_response()),
        Err(problems) => Ok(issues_problem(
            &problems,
            format!("{name} 有 {} 处错误，未保存", problems.len()),
        )),
    }
}

/// Deletes a file of a round. 409 once published.
#[utoipa::path(delete, path = "/api/v1/admission/rounds/{id}/files/{kind}", tag = "admission", params(("id" = i64, Path), ("kind" = String, Path)), responses((status = 204, description = "已删除"), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub async fn api_delete_file(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path((id, kind)): Path<(i64, String)>,
) -> ApiResult<StatusCode> {
    require_city(&u)?;
    let kind = svc::file_kind(&kind)?;
    svc::delete_file(&state.db, &u.actor(), id, kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Validates every uploaded file: 200 when they pass, 422 with every problem (file, row,
/// column, reason) when not. 409 once published.
#[utoipa::path(post, path = "/api/v1/admission/rounds/{id}/validate", tag = "admission", params(("id" = i64, Path)), responses((status = 200, description = "校验通过"), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 422, body = IssuesProblem)))]
pub async fn api_validate(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    require_city(&u)?;
    Ok(match svc::validate(&state.db, &u.actor(), id).await? {
        Ok(()) => Json(json!({ "valid": true })).into_response(),
        Err(issues) => issues_problem(
            &issues,
            format!("校验未通过：共 {} 处错误，未进行录取", issues.len()),
        ),
    })
}

/// The dry run: matches and stores results and cut-offs; 200 with the counts. 409 before a
/// passing validation or once published; 422 when the files no longer pass.
#[utoipa::path(post, path = "/api/v1/admission/rounds/{id}/run", tag = "admission", params(("id" = i64, Path)), responses((status = 200, body = Summary), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 422, body = IssuesProblem)))]
pub async fn api_dry_run(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    require_city(&u)?;
    Ok(match svc::dry_run(&state.db, &u.actor(), id).await? {
        Ok(summary) => Json(summary).into_response(),
        Err(issues) => issues_problem(
            &issues,
            format!("校验未通过：共 {} 处错误，未进行录取", issues.len()),
        ),
    })
}

/// Publication, confirmed.
#[derive(Deserialize, ToSchema)]
pub struct PublishBody {
    /// Must be `true`: the results can no longer change afterwards.
    #[serde(default)]
    confirm: bool,
}

/// Publishes the dry-run results: the round is frozen from then on (every change 409) and
/// candidates can look up their result. 422 without `confirm: true`.
#[utoipa::path(post, path = "/api/v1/admission/rounds/{id}/publish", tag = "admission", params(("id" = i64, Path)), request_body = PublishBody, responses((status = 200, description = "已发布"), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 422, body = crate::api::Problem)))]
pub async fn api_publish(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
    Json(b): Json<PublishBody>,
) -> ApiResult<Json<Value>> {
    require_city(&u)?;
    let r = svc::publish(&state.db, &u.actor(), id, b.confirm).await?;
    Ok(Json(json!({ "round": r })))
}

/// Query of the explanation.
#[derive(Deserialize, IntoParams)]
pub struct ExplainParams {
    /// 考生号.
    candidate: Option<String>,
}

/// Why each higher choice did not admit the candidate. 404 when the 考生号 is not in the file,
/// 409 before the dry run.
#[utoipa::path(get, path = "/api/v1/admission/rounds/{id}/explain", tag = "admission", params(("id" = i64, Path), ExplainParams), responses((status = 200, description = "录取说明"), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 422, body = crate::api::Problem)))]
pub async fn api_explain(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<ExplainParams>,
) -> ApiResult<Json<Value>> {
    require_city(&u)?;
    store::get(&state.db, id).await?;
    let cand = some(&q.candidate).ok_or_else(|| Failure::BadRequest("请填写考生号".into()))?;
    let text = svc::explain(&state.db, id, &cand)
        .await?
        .ok_or(Failure::NotFound)?;
    Ok(Json(json!({ "candidate_id": cand, "explanation": text })))
}

/// Query of the results list.
#[derive(Deserialize, IntoParams)]
pub struct ResultParams {
    /// Page (100 rows each).
    page: Option<i64>,
    /// 考生号 exactly.
    candidate: Option<String>,
    /// Admitting school code; `-` for the unplaced.
    school: Option<String>,
}

/// The results of the dry run (or of the published round), paged, in input order. 409 before
/// the dry run.
#[utoipa::path(get, path = "/api/v1/admission/rounds/{id}/results", tag = "admission", params(("id" = i64, Path), ResultParams), responses((status = 200, description = "录取结果"), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub async fn api_result_list(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<ResultParams>,
) -> ApiResult<Json<Value>> {
    require_city(&u)?;
    svc::round_with_results(&state.db, id, false).await?;
    let filter = ResultFilter {
        candidate: some(&q.candidate),
        school: some(&q.school),
    };
    let p = store::results_page(&state.db, id, &filter, page_no(q.page), 100).await?;
    Ok(Json(json!({
        "items": p.items,
        "page": p.page,
        "per_page": p.per_page,
        "total": p.total,
        "has_next": p.has_next,
    })))
}

/// `admissions.csv` of a published round (city roles); 409 before publication.
#[utoipa::path(get, path = "/api/v1/admission/rounds/{id}/admissions.csv", tag = "admission", params(("id" = i64, Path)), responses((status = 200, description = "admissions.csv（candidate_id,school_code,pool）", content_type = "text/csv"), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub async fn api_results(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    require_city(&u)?;
    svc::round_with_results(&state.db, id, true).await?;
    let rows = store::results(&state.db, id, &ResultFilter::default()).await?;
    Ok(attachment(
        svc::admissions_csv(&rows)?,
        "admissions.csv",
        "text/csv; charset=utf-8",
    ))
}

/// `cutoffs.csv` of the dry run or the published round (city roles); 409 before the dry run.
#[utoipa::path(get, path = "/api/v1/admission/rounds/{id}/cutoffs.csv", tag = "admission", params(("id" = i64, Path)), responses((status = 200, description = "cutoffs.csv（school_code,pool,junior_school,admitted,min_total）", content_type = "text/csv"), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub async fn api_cutoffs(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    require_city(&u)?;
    svc::round_with_results(&state.db, id, false).await?;
    let rows = store::cutoffs(&state.db, id).await?;
    Ok(attachment(
        svc::cutoffs_csv(&rows)?,
        "cutoffs.csv",
        "text/csv; charset=utf-8",
    ))
}

/// The published cut-off lines (public, no login).
#[utoipa::path(get, path = "/api/v1/public/admission/cutoffs", tag = "admission", params(CutoffQuery), security(()), responses((status = 200, description = "录取分数线"), (status = 404, body = crate::api::Problem)))]
pub async fn api_public_cutoffs(
    State(state): State<AppState>,
    Query(q): Query<CutoffQuery>,
) -> ApiResult<Json<Value>> {
    let (_, round) = published_round(&state, q.round).await?;
    let round = round.ok_or(Failure::NotFound)?;
    let cutoffs = store::cutoffs(&state.db, round.id).await?;
    Ok(Json(json!({
        "round": {"id": round.id, "year": round.year, "name": round.name, "published_at": round.published_at},
        "cutoffs": cutoffs,
    })))
}
