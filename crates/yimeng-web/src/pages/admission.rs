//! 中考统一招生 (senior-high unified admission, issue 6) on the web: the city department's
//! workflow — create a round, upload the exchange files, validate (every error with its file,
//! row and column, from the engine's parser), dry run (the engine in `spawn_blocking`), review
//! counts per batch and cut-offs per school and pool, explain a candidate's result, publish —
//! and the public side: a candidate's own result by 考生号 and ID number, the cut-off lines.
//! Also the JSON API of the same (`/api/v1/admission/…`).
//!
//! Only the city administrator and the city departments may use the workflow (everyone else
//! 403). The engine (`yimeng_engine::admission`) parses, validates and matches; the store keeps
//! the files, results and cut-offs and refuses every write once a round is published.
//!
//! The exchange format has no ID number column and must stay exactly as specified, so the ID
//! numbers for the public lookup come in a separate mapping file `candidate_ids.csv`
//! (`candidate_id,id_card`), hashed with a per-round salt on upload; the file is not kept.

use super::{page_no, render, see_other, some, take_flash};
use crate::app::AppState;
use crate::auth::{self, ApiUser, ClientIp, LOGIN_CSRF_COOKIE, MaybeUser, PageUser, User};
use crate::error::{ApiResult, Failure, PageResult};
use crate::view::{Ctx, Pager};
use askama::Template;
use axum::Form;
use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::OpenApi;
use yimeng_domain::{IdCardNo, Role};
use yimeng_engine::admission::{self as engine, Instance, Outcome, Policy, PoolKind, exchange};
use yimeng_store::admission::{
    self as store, CutoffRow, FileMeta, ResultFilter, ResultRow, RoundRow,
};

/// Rows per page of the results and cut-off tables.
const PER_PAGE: i64 = 100;
/// Validation problems kept with a round and shown.
const MAX_ISSUES: usize = 2000;

fn require_city(u: &User) -> Result<(), Failure> {
    if matches!(u.role(), Role::CityAdmin | Role::CityDept) {
        Ok(())
    } else {
        Err(Failure::Forbidden(
            "只有市局管理员和市局科室可以办理中考招生".into(),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Running the engine (CPU work: called inside `spawn_blocking`)

/// The uploaded inputs of a round.
#[derive(Default)]
struct Inputs {
    files: Vec<(String, String, Vec<u8>)>,
}

impl Inputs {
    async fn load(db: &yimeng_store::Db, id: i64) -> Result<Inputs, Failure> {
        let mut files = Vec::new();
        for kind in ["candidates", "schools", "quotas", "policy"] {
            if let Some((name, bytes)) = store::file_content(db, id, kind).await? {
                files.push((kind.to_string(), name, bytes));
            }
        }
        Ok(Inputs { files })
    }
    fn get(&self, kind: &str) -> Option<exchange::Source<'_>> {
        self.files
            .iter()
            .find(|(k, _, _)| k == kind)
            .map(|(_, name, bytes)| exchange::Source { name, bytes })
    }
    /// Parses and validates: every problem, or the instance and policy.
    fn parse(&self) -> Result<(Instance, Policy), Vec<exchange::InputIssue>> {
        let missing = |kind: &str| exchange::InputIssue {
            file: store::file_label(kind).to_string(),
            row: None,
            column: None,
            value: None,
            reason: "尚未上传".into(),
        };
        let (Some(candidates), Some(schools)) = (self.get("candidates"), self.get("schools"))
        else {
            let mut v = Vec::new();
            for k in ["candidates", "schools"] {
                if self.get(k).is_none() {
                    v.push(missing(k));
                }
            }
            return Err(v);
        };
        let src = exchange::Sources {
            candidates,
            schools,
            quotas: self.get("quotas"),
            policy: self.get("policy"),
        };
        match exchange::load(&src) {
            Ok(x) => Ok(x),
            Err(yimeng_engine::EngineError::AdmissionInput(issues)) => Err(issues),
            Err(e) => Err(vec![exchange::InputIssue {
                file: "录取".into(),
                row: None,
                column: None,
                value: None,
                reason: e.to_string(),
            }]),
        }
    }
}

/// One validation problem as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issue {
    file: String,
    row: Option<u64>,
    column: Option<String>,
    value: Option<String>,
    reason: String,
}

fn issues_json(issues: &[exchange::InputIssue]) -> Value {
    json!({
        "count": issues.len(),
        "items": issues.iter().take(MAX_ISSUES).map(|i| Issue {
            file: i.file.clone(),
            row: i.row,
            column: i.column.clone(),
            value: i.value.clone(),
            reason: i.reason.clone(),
        }).collect::<Vec<_>>(),
    })
}

/// The counts of a dry run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    candidates: u64,
    placed: u64,
    quota: u64,
    schools: u64,
    pools: u64,
    batches: Vec<BatchCount>,
}

/// Placed in a batch, and still unplaced after it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchCount {
    name: String,
    placed: u64,
    unplaced_after: u64,
}

fn batch_name(policy: &Policy, b: u32) -> String {
    policy
        .batches
        .get(b as usize)
        .map_or_else(|| "录取批次".to_string(), |x| x.name.clone())
}

/// Results, cut-offs and counts of one run.
fn rows_of(
    inst: &Instance,
    policy: &Policy,
    outcome: &Outcome,
) -> (Vec<ResultRow>, Vec<CutoffRow>, Summary) {
    let results: Vec<ResultRow> = inst
        .candidates
        .iter()
        .zip(&outcome.placements)
        .enumerate()
        .map(|(i, (c, p))| ResultRow {
            candidate_id: c.id.clone(),
            seq: i as i32,
            junior_school: inst.juniors[c.junior as usize].clone(),
            total: c.total.to_string(),
            school_code: p.map(|p| inst.schools[p.school as usize].code.clone()),
            pool: p.map(|p| outcome.pools[p.pool as usize].kind.as_str().to_string()),
            batch: p.map(|p| batch_name(policy, p.batch)),
            choice: p.map(|p| p.choice as i32),
        })
        .collect();
    // Same order as `exchange::write_cutoffs`: each school's general pool, then its quota pools.
    let n = inst.schools.len();
    let mut quotas_of: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, q) in inst.quotas.iter().enumerate() {
        quotas_of[q.school as usize].push(n + k);
    }
    let mut cutoffs = Vec::new();
    for (s, school) in inst.schools.iter().enumerate() {
        for p in std::iter::once(s).chain(quotas_of[s].iter().copied()) {
            let r = &outcome.pools[p];
            cutoffs.push(CutoffRow {
                seq: cutoffs.len() as i32,
                school_code: school.code.clone(),
                pool: r.kind.as_str().to_string(),
                junior_school: match r.kind {
                    PoolKind::General => String::new(),
                    PoolKind::Quota(j) => inst.juniors[j as usize].clone(),
                },
                planned: r.planned as i32,
                capacity: r.capacity as i32,
                admitted: r.admitted as i32,
                min_total: r.min_total.map(|m| m.to_string()),
            });
        }
    }
    let nb = policy.batches.len().max(1);
    let mut per_batch = vec![0u64; nb];
    for p in outcome.placements.iter().flatten() {
        if let Some(x) = per_batch.get_mut(p.batch as usize) {
            *x += 1;
        }
    }
    let total = inst.candidates.len() as u64;
    let mut left = total;
    let batches = per_batch
        .iter()
        .enumerate()
        .map(|(b, &placed)| {
            left -= placed.min(left);
            BatchCount {
                name: batch_name(policy, b as u32),
                placed,
                unplaced_after: left,
            }
        })
        .collect();
    let summary = Summary {
        candidates: total,
        placed: outcome.placements.iter().flatten().count() as u64,
        quota: outcome
            .placements
            .iter()
            .flatten()
            .filter(|p| p.pool as usize >= n)
            .count() as u64,
        schools: n as u64,
        pools: outcome.pools.len() as u64,
        batches,
    };
    (results, cutoffs, summary)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Failure::Internal(format!("admission task: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Rounds

#[derive(Template)]
#[template(path = "admission.html")]
struct RoundsPage {
    ctx: Ctx,
    rounds: Vec<RoundRow>,
    error: Option<String>,
    year: i32,
}

/// `GET /admission`
pub async fn rounds(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    require_city(&u)?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let page = RoundsPage {
        ctx: Ctx::for_user(&u, "/admission").with_flash(flash),
        rounds: store::list(&state.db).await?,
        error: None,
        year: chrono::Datelike::year(&crate::service::today()),
    };
    super::page(&page, had)
}

/// The new-round form.
#[derive(Deserialize)]
pub struct NewRound {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    name: String,
}

/// `POST /admission`
pub async fn create_round(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<NewRound>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    let made = match f.year.trim().parse::<i32>() {
        Ok(y) => store::create(&state.db, &u.actor(), y, &f.name, &auth::random_token()).await,
        Err(_) => Err(yimeng_store::StoreError::Invalid(format!(
            "年份“{}”不是数字",
            yimeng_domain::text::preview(&f.year, 10)
        ))),
    };
    match made {
        Ok(r) => Ok(see_other(
            &format!("/admission/{}", r.id),
            Some(&format!("已新建：{}年 {}", r.year, r.name)),
        )),
        Err(e @ (yimeng_store::StoreError::Invalid(_) | yimeng_store::StoreError::Conflict(_))) => {
            let page = RoundsPage {
                ctx: Ctx::for_user(&u, "/admission"),
                rounds: store::list(&state.db).await?,
                error: Some(e.to_string()),
                year: chrono::Datelike::year(&crate::service::today()),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admission_round.html")]
struct RoundPage {
    ctx: Ctx,
    round: RoundRow,
    files: Vec<FileMeta>,
    kinds: Vec<(&'static str, &'static str, bool)>,
    issues: Vec<Issue>,
    issue_count: u64,
    error: Option<String>,
    summary: Option<Summary>,
    cutoffs: Vec<CutoffRow>,
    pager: Option<Pager>,
    explanation: Option<String>,
}

impl RoundPage {
    fn more_issues(&self) -> bool {
        self.issue_count > self.issues.len() as u64
    }
}

/// Query of the round page.
#[derive(Deserialize, Default)]
pub struct RoundQuery {
    page: Option<i64>,
}

async fn round_page(
    state: &AppState,
    u: &User,
    id: i64,
    q: &RoundQuery,
    uri: &Uri,
    error: Option<String>,
    explanation: Option<String>,
) -> Result<RoundPage, Failure> {
    let round = store::get(&state.db, id).await?;
    let files = store::files(&state.db, id).await?;
    let kinds = store::FILE_KINDS
        .iter()
        .map(|k| (*k, store::file_label(k), files.iter().any(|f| f.kind == *k)))
        .collect();
    let (issues, issue_count) = match round.issues_json.as_deref() {
        Some(j) => {
            let v: Value = serde_json::from_str(j).unwrap_or_default();
            (
                serde_json::from_value(v["items"].clone()).unwrap_or_default(),
                v["count"].as_u64().unwrap_or(0),
            )
        }
        None => (Vec::new(), 0),
    };
    let summary: Option<Summary> = round
        .summary_json
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let ctx = Ctx::for_user(u, "/admission");
    let (cutoffs, pager) = if summary.is_some() {
        let all = store::cutoffs(&state.db, id).await?;
        let (items, p) = slice_page(all, q.page);
        let pager = Pager::new(&ctx, &format!("/admission/{id}"), &super::pairs(uri), &p);
        (items, Some(pager))
    } else {
        (Vec::new(), None)
    };
    Ok(RoundPage {
        ctx,
        round,
        files,
        kinds,
        issues,
        issue_count,
        error,
        summary,
        cutoffs,
        pager,
        explanation,
    })
}

/// A page of an in-memory list (cut-off tables: one row per pool, a few thousand at most).
fn slice_page<T>(all: Vec<T>, page: Option<i64>) -> (Vec<T>, yimeng_store::browse::Page<()>) {
    let page = page_no(page);
    let total = all.len() as i64;
    let items: Vec<T> = all
        .into_iter()
        .skip(((page - 1) * PER_PAGE) as usize)
        .take(PER_PAGE as usize)
        .collect();
    (
        items,
        yimeng_store::browse::Page {
            items: vec![],
            page,
            per_page: PER_PAGE,
            total: Some(total),
            has_next: page * PER_PAGE < total,
        },
    )
}

/// `GET /admission/{id}`
pub async fn show_round(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<RoundQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> PageResult<Response> {
    require_city(&u)?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let mut page = round_page(&state, &u, id, &q, &uri, None, None).await?;
    page.ctx = page.ctx.with_flash(flash);
    super::page(&page, had)
}

fn kind_in_path(kind: &str) -> Result<&'static str, Failure> {
    store::FILE_KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .ok_or(Failure::NotFound)
}

/// `POST /admission/{id}/files/{kind}` (multipart: `_csrf` first, then `file`)
pub async fn upload(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((id, kind)): Path<(i64, String)>,
    uri: Uri,
    mut mp: Multipart,
) -> PageResult<Response> {
    require_city(&u)?;
    let kind = kind_in_path(&kind)?;
    let round = store::get(&state.db, id).await?;
    let mut csrf = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?
    {
        match field.name().unwrap_or_default() {
            "_csrf" => csrf = Some(field.text().await.unwrap_or_default()),
            "file" => {
                // The CSRF token comes first in our form; check it before reading the file.
                u.check_csrf(csrf.as_deref())?;
                if round.is_published() {
                    break;
                }
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| Failure::TooLarge(format!("上传中断或文件超过上限：{e}")))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    u.check_csrf(csrf.as_deref())?;
    refuse_published(&round)?;
    let actor = u.actor();
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return round_error(&state, &u, id, &uri, "没有选择文件，或文件是空的".into()).await;
    };
    if kind == "candidate_ids" {
        let (pairs, problems) = parse_candidate_ids(&name, &bytes);
        if !problems.is_empty() {
            let shown: Vec<String> = problems.iter().take(200).map(|p| p.to_string()).collect();
            let more = if problems.len() > 200 {
                format!("；……另有 {} 处", problems.len() - 200)
            } else {
                String::new()
            };
            let msg = format!(
                "{} 有 {} 处错误，未保存：{}{more}",
                name,
                problems.len(),
                shown.join("；")
            );
            return round_error(&state, &u, id, &uri, msg).await;
        }
        let sha = sha256_hex(&bytes);
        store::put_identities(
            &state.db,
            &actor,
            id,
            &name,
            &sha,
            bytes.len() as i64,
            &pairs,
        )
        .await?;
        return Ok(see_other(
            &format!("/admission/{id}"),
            Some(&format!(
                "已保存 {} 名考生的身份证件号摘要（原文件不保存）",
                pairs.len()
            )),
        ));
    }
    store::put_file(&state.db, &actor, id, kind, &name, &bytes).await?;
    Ok(see_other(
        &format!("/admission/{id}"),
        Some(&format!(
            "已上传{}：{}；请重新校验",
            store::file_label(kind),
            name
        )),
    ))
}

/// The round page again with an error (422).
async fn round_error(
    state: &AppState,
    u: &User,
    id: i64,
    uri: &Uri,
    msg: String,
) -> PageResult<Response> {
    let page = round_page(state, u, id, &RoundQuery::default(), uri, Some(msg), None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// 409 for any change to a published round (the store refuses as well).
fn refuse_published(r: &RoundRow) -> Result<(), Failure> {
    if r.is_published() {
        Err(Failure::Conflict(format!(
            "{}年“{}”已发布，录取结果不能再修改",
            r.year, r.name
        )))
    } else {
        Ok(())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Parses `candidate_ids.csv` (`candidate_id,id_card`; 考生号 and 身份证件号 accepted as headers):
/// every row's problem, with its row number (header = row 1).
fn parse_candidate_ids(
    name: &str,
    bytes: &[u8],
) -> (Vec<(String, IdCardNo)>, Vec<exchange::InputIssue>) {
    let text = exchange::decode(bytes);
    let issue = |row: Option<u64>, column: Option<&str>, value: Option<&str>, reason: String| {
        exchange::InputIssue {
            file: name.to_string(),
            row,
            column: column.map(str::to_string),
            value: value.map(str::to_string),
            reason,
        }
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let ok_header = header.len() == 2
        && matches!(header[0].as_str(), "candidate_id" | "考生号")
        && matches!(header[1].as_str(), "id_card" | "身份证件号");
    if !ok_header {
        problems.push(issue(
            Some(1),
            None,
            Some(&header.join(",")),
            "表头应为 candidate_id,id_card（或 考生号,身份证件号）".into(),
        ));
        return (out, problems);
    }
    let mut seen = std::collections::HashSet::new();
    for (i, line) in lines.enumerate() {
        let row = i as u64 + 2;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if cols.len() != 2 {
            problems.push(issue(
                Some(row),
                None,
                None,
                format!("应有 2 列，实际 {} 列", cols.len()),
            ));
            continue;
        }
        if cols[0].is_empty() {
            problems.push(issue(
                Some(row),
                Some("candidate_id"),
                None,
                "考生号为空".into(),
            ));
            continue;
        }
        if !seen.insert(cols[0].to_string()) {
            problems.push(issue(
                Some(row),
                Some("candidate_id"),
                Some(cols[0]),
                "考生号重复".into(),
            ));
            continue;
        }
        match IdCardNo::parse(cols[1]) {
            Ok(card) => out.push((cols[0].to_string(), card)),
            // The value is an ID number: never echoed back.
            Err(e) => problems.push(issue(Some(row), Some("id_card"), None, e)),
        }
    }
    (out, problems)
}

/// `POST /admission/{id}/files/{kind}/delete`
pub async fn delete_file(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((id, kind)): Path<(i64, String)>,
    Form(f): Form<super::session::CsrfOnly>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    let kind = kind_in_path(&kind)?;
    store::remove_file(&state.db, &u.actor(), id, kind).await?;
    Ok(see_other(
        &format!("/admission/{id}"),
        Some(&format!("已删除{}", store::file_label(kind))),
    ))
}

/// `POST /admission/{id}/validate`: parses every file; with errors nothing runs and every error
/// is listed (file, row, column, reason).
pub async fn validate(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    uri: Uri,
    Form(f): Form<super::session::CsrfOnly>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    let round = store::get(&state.db, id).await?;
    refuse_published(&round)?;
    let inputs = Inputs::load(&state.db, id).await?;
    let parsed = blocking(move || inputs.parse().map(|_| ())).await?;
    match parsed {
        Ok(()) => {
            store::record_validation(&state.db, &u.actor(), id, None, 0).await?;
            Ok(see_other(
                &format!("/admission/{id}"),
                Some("校验通过：可以进行模拟录取"),
            ))
        }
        Err(issues) => {
            store::record_validation(
                &state.db,
                &u.actor(),
                id,
                Some(&issues_json(&issues)),
                issues.len(),
            )
            .await?;
            let page = round_page(
                &state,
                &u,
                id,
                &RoundQuery::default(),
                &uri,
                Some(format!(
                    "校验未通过：共 {} 处错误，未进行录取",
                    issues.len()
                )),
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// `POST /admission/{id}/run`: the dry run (validates again, then matches).
pub async fn dry_run(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    uri: Uri,
    Form(f): Form<super::session::CsrfOnly>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    let round = store::get(&state.db, id).await?;
    refuse_published(&round)?;
    if round.status == store::DRAFT {
        return Err(Failure::Conflict("请先校验全部文件并通过，再进行模拟录取".into()).into());
    }
    let inputs = Inputs::load(&state.db, id).await?;
    let run = blocking(move || {
        let (inst, policy) = inputs.parse()?;
        match engine::admit(&inst, &policy) {
            Ok(outcome) => Ok(rows_of(&inst, &policy, &outcome)),
            Err(e) => Err(vec![exchange::InputIssue {
                file: "录取".into(),
                row: None,
                column: None,
                value: None,
                reason: e.to_string(),
            }]),
        }
    })
    .await?;
    match run {
        Ok((results, cutoffs, summary)) => {
            let placed = summary.placed;
            let total = summary.candidates;
            store::save_dry_run(
                &state.db,
                &u.actor(),
                id,
                results,
                cutoffs,
                &serde_json::to_value(&summary).unwrap_or_default(),
            )
            .await?;
            Ok(see_other(
                &format!("/admission/{id}"),
                Some(&format!(
                    "模拟录取完成：录取 {placed} / {total} 人；请核对分数线后发布"
                )),
            ))
        }
        Err(issues) => {
            store::record_validation(
                &state.db,
                &u.actor(),
                id,
                Some(&issues_json(&issues)),
                issues.len(),
            )
            .await?;
            let page = round_page(
                &state,
                &u,
                id,
                &RoundQuery::default(),
                &uri,
                Some(format!(
                    "校验未通过：共 {} 处错误，未进行录取",
                    issues.len()
                )),
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// The publish confirmation.
#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /admission/{id}/publish` (with `confirm=yes`)
pub async fn publish(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<PublishForm>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    store::get(&state.db, id).await?;
    if f.confirm != "yes" {
        return Err(Failure::BadRequest("请勾选“确认发布”：发布后录取结果不可修改".into()).into());
    }
    let r = store::publish(&state.db, &u.actor(), id).await?;
    Ok(see_other(
        &format!("/admission/{id}"),
        Some(&format!(
            "已发布{}年“{}”：考生可在公众服务查询录取结果",
            r.year, r.name
        )),
    ))
}

/// Query of the explanation.
#[derive(Deserialize)]
pub struct ExplainQuery {
    candidate: Option<String>,
}

/// `GET /admission/{id}/explain?candidate=…`: why each higher choice did not admit the candidate.
pub async fn explain(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<ExplainQuery>,
    uri: Uri,
) -> PageResult<Response> {
    require_city(&u)?;
    let round = store::get(&state.db, id).await?;
    let Some(cand) = some(&q.candidate) else {
        return Err(Failure::BadRequest("请填写考生号".into()).into());
    };
    if round.summary_json.is_none() {
        return Err(Failure::Conflict("请先进行模拟录取".into()).into());
    }
    let inputs = Inputs::load(&state.db, id).await?;
    let wanted = cand.clone();
    let text = blocking(move || -> Result<Option<String>, String> {
        let (inst, policy) = inputs.parse().map_err(|i| exchange::join_issues(&i))?;
        let Some(c) = inst.candidates.iter().position(|c| c.id == wanted) else {
            return Ok(None);
        };
        let outcome = engine::admit(&inst, &policy).map_err(|e| e.to_string())?;
        Ok(Some(
            engine::explain(&inst, &policy, &outcome, c as u32).to_string(),
        ))
    })
    .await?
    .map_err(Failure::Conflict)?;
    let Some(text) = text else {
        let page = round_page(
            &state,
            &u,
            id,
            &RoundQuery::default(),
            &uri,
            Some(format!(
                "考生号“{}”不在考生文件中",
                yimeng_domain::text::preview(&cand, 30)
            )),
            None,
        )
        .await?;
        return Ok((StatusCode::NOT_FOUND, render(&page)?).into_response());
    };
    let page = round_page(
        &state,
        &u,
        id,
        &RoundQuery::default(),
        &uri,
        None,
        Some(text),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

// ---------------------------------------------------------------------------------------------
// Results and downloads

#[derive(Template)]
#[template(path = "admission_results.html")]
struct ResultsPage {
    ctx: Ctx,
    round: RoundRow,
    rows: Vec<ResultRow>,
    pager: Pager,
    candidate: String,
    school: String,
    export_xlsx: String,
    export_csv: String,
}

/// Query of the results list.
#[derive(Deserialize)]
pub struct ResultsQuery {
    page: Option<i64>,
    candidate: Option<String>,
    school: Option<String>,
    format: Option<String>,
}

/// `GET /admission/{id}/results` (paged; `format=xlsx|csv` exports every matching row)
pub async fn results(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<ResultsQuery>,
    uri: Uri,
) -> PageResult<Response> {
    require_city(&u)?;
    let round = store::get(&state.db, id).await?;
    let filter = ResultFilter {
        candidate: some(&q.candidate),
        school: some(&q.school),
    };
    if let Some(fmt) = q.format.as_deref() {
        let format = match fmt {
            "xlsx" => yimeng_io::FileFormat::Xlsx,
            "csv" => yimeng_io::FileFormat::Csv,
            _ => {
                return Err(Failure::BadRequest(format!(
                    "未知的导出格式“{}”",
                    yimeng_domain::text::preview(fmt, 10)
                ))
                .into());
            }
        };
        let rows = store::results(&state.db, id, &filter).await?;
        let title = format!("{}年{}录取结果", round.year, round.name);
        let bytes = blocking(move || write_results(&rows, format, &title))
            .await?
            .map_err(Failure::Internal)?;
        return Ok(attachment(
            bytes,
            &format!("录取结果.{}", format.ext()),
            format.mime(),
        ));
    }
    let page = store::results_page(&state.db, id, &filter, page_no(q.page), PER_PAGE).await?;
    let ctx = Ctx::for_user(&u, "/admission");
    let path = format!("/admission/{id}/results");
    let query = super::pairs(&uri);
    let pager = Pager::new(&ctx, &path, &query, &page);
    let p = ResultsPage {
        export_xlsx: Pager::with(&path, &query, "format", "xlsx"),
        export_csv: Pager::with(&path, &query, "format", "csv"),
        ctx,
        round,
        rows: page.items,
        pager,
        candidate: q.candidate.unwrap_or_default(),
        school: q.school.unwrap_or_default(),
    };
    Ok(render(&p)?.into_response())
}

fn write_results(
    rows: &[ResultRow],
    format: yimeng_io::FileFormat,
    title: &str,
) -> Result<Vec<u8>, String> {
    use yimeng_io::{Cell, TableWriter};
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join(format!("out.{}", format.ext()));
    let mut w = TableWriter::create(
        &path,
        format,
        title,
        &[
            "考生号",
            "毕业初中",
            "总分",
            "录取学校",
            "录取类别",
            "录取批次",
            "志愿序号",
        ],
    )
    .map_err(|e| e.to_string())?;
    for r in rows {
        w.write_row(&[
            Cell::text(&r.candidate_id),
            Cell::text(&r.junior_school),
            Cell::text(&r.total),
            Cell::text(r.school_code.as_deref().unwrap_or("")),
            Cell::text(r.pool_label()),
            Cell::text(r.batch.as_deref().unwrap_or("")),
            r.choice.map_or(Cell::Empty, |c| Cell::Int(i64::from(c))),
        ])
        .map_err(|e| e.to_string())?;
    }
    w.finish().map_err(|e| e.to_string())?;
    std::fs::read(&path).map_err(|e| e.to_string())
}

fn attachment(bytes: Vec<u8>, name: &str, mime: &str) -> Response {
    let encoded = super::urlencoding(name);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// `admissions.csv` exactly as the exchange format: `candidate_id,school_code,pool`, input order.
fn admissions_csv_bytes(rows: &[ResultRow]) -> Vec<u8> {
    let mut out = String::from("candidate_id,school_code,pool\n");
    for r in rows {
        out.push_str(&csv_field(&r.candidate_id));
        out.push(',');
        out.push_str(&csv_field(r.school_code.as_deref().unwrap_or("")));
        out.push(',');
        out.push_str(r.pool.as_deref().unwrap_or(""));
        out.push('\n');
    }
    out.into_bytes()
}

/// `cutoffs.csv` exactly as the exchange format.
fn cutoffs_csv_bytes(rows: &[CutoffRow]) -> Vec<u8> {
    let mut out = String::from("school_code,pool,junior_school,admitted,min_total\n");
    for c in rows {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(&c.school_code),
            c.pool,
            csv_field(&c.junior_school),
            c.admitted,
            c.min_total.as_deref().unwrap_or("")
        ));
    }
    out.into_bytes()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `GET /admission/{id}/admissions.csv`
pub async fn admissions_csv(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    require_city(&u)?;
    let round = store::get(&state.db, id).await?;
    if round.summary_json.is_none() {
        return Err(Failure::Conflict("请先进行模拟录取".into()).into());
    }
    let rows = store::results(&state.db, id, &ResultFilter::default()).await?;
    Ok(attachment(
        admissions_csv_bytes(&rows),
        "admissions.csv",
        "text/csv; charset=utf-8",
    ))
}

/// `GET /admission/{id}/cutoffs.csv`
pub async fn cutoffs_csv(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    require_city(&u)?;
    let round = store::get(&state.db, id).await?;
    if round.summary_json.is_none() {
        return Err(Failure::Conflict("请先进行模拟录取".into()).into());
    }
    let rows = store::cutoffs(&state.db, id).await?;
    Ok(attachment(
        cutoffs_csv_bytes(&rows),
        "cutoffs.csv",
        "text/csv; charset=utf-8",
    ))
}

// ---------------------------------------------------------------------------------------------
// Public: a candidate's own result, the cut-off lines

/// The context of a public page: the user's when logged in, else an anonymous one with a
/// double-submit CSRF token (the login form's cookie), as on the public transfer pages.
fn public_ctx(u: &Option<User>, headers: &HeaderMap, path: &str) -> (Ctx, Option<String>) {
    match u {
        Some(u) => (Ctx::for_user(u, path), None),
        None => {
            let token = auth::cookie(headers, LOGIN_CSRF_COOKIE)
                .map(str::to_string)
                .unwrap_or_else(auth::random_token);
            (
                Ctx::anonymous(auth::lang_of(headers), path, token.clone()),
                Some(token),
            )
        }
    }
}

fn with_csrf_cookie(state: &AppState, mut r: Response, token: Option<String>) -> Response {
    if let Some(t) = token {
        let c = auth::set_cookie(
            LOGIN_CSRF_COOKIE,
            &t,
            Some(3600),
            state.config.secure_cookies,
        );
        if let Ok(h) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    r
}

fn check_public_csrf(
    u: &Option<User>,
    headers: &HeaderMap,
    submitted: &str,
) -> Result<(), Failure> {
    match u {
        Some(u) => u.check_csrf(Some(submitted)),
        None => match auth::cookie(headers, LOGIN_CSRF_COOKIE) {
            Some(c) if !submitted.is_empty() && c == submitted => Ok(()),
            _ => Err(Failure::Forbidden(
                "页面已过期或请求来源无效（CSRF 校验失败），请刷新页面后重试".into(),
            )),
        },
    }
}

#[derive(Template)]
#[template(path = "admission_public.html")]
struct PublicPage {
    ctx: Ctx,
    rounds: Vec<RoundRow>,
    chosen: i64,
    candidate: String,
    error: Option<String>,
    result: Option<ResultRow>,
}

/// `GET /public/admission`
pub async fn public_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    let (ctx, token) = public_ctx(&u, &headers, "/public/admission");
    let rounds = store::published(&state.db).await?;
    let chosen = rounds.first().map_or(0, |r| r.id);
    let r = render(&PublicPage {
        ctx,
        rounds,
        chosen,
        candidate: String::new(),
        error: None,
        result: None,
    })?
    .into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

/// The public lookup form.
#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    round: String,
    #[serde(default)]
    candidate_id: String,
    #[serde(default)]
    id_card: String,
}

/// `POST /public/admission`: by 考生号 and ID number; shows that candidate's result only.
/// Every failed lookup counts against the address (the public throttle).
pub async fn public_lookup(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LookupForm>,
) -> PageResult<Response> {
    if !state.public_throttle.allowed(ip.as_deref()) {
        return Err(Failure::TooMany("查询过于频繁，请 10 分钟后再试".into()).into());
    }
    check_public_csrf(&u, &headers, &f.csrf)?;
    let (ctx, token) = public_ctx(&u, &headers, "/public/admission");
    let rounds = store::published(&state.db).await?;
    let chosen = f
        .round
        .trim()
        .parse::<i64>()
        .ok()
        .or_else(|| rounds.first().map(|r| r.id))
        .unwrap_or(0);
    let found = match IdCardNo::parse(&f.id_card) {
        Ok(card) if rounds.iter().any(|r| r.id == chosen) => {
            match store::lookup(&state.db, chosen, &f.candidate_id, &card).await {
                Ok(r) => Some(r),
                Err(yimeng_store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    let status = if found.is_some() {
        state.public_throttle.succeed(ip.as_deref());
        StatusCode::OK
    } else {
        state.public_throttle.fail(ip.as_deref());
        StatusCode::NOT_FOUND
    };
    let page = PublicPage {
        ctx,
        rounds,
        chosen,
        candidate: f.candidate_id.trim().chars().take(40).collect(),
        error: found
            .is_none()
            .then(|| "未找到：请核对考生号和身份证件号（录取结果发布后才能查询）".to_string()),
        result: found,
    };
    let r = (status, render(&page)?).into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

#[derive(Template)]
#[template(path = "admission_cutoffs.html")]
struct CutoffsPage {
    ctx: Ctx,
    rounds: Vec<RoundRow>,
    round: Option<RoundRow>,
    cutoffs: Vec<CutoffRow>,
    pager: Option<Pager>,
    export_csv: String,
}

/// Query of the public cut-offs.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct CutoffQuery {
    /// Round id (default: the latest published).
    round: Option<i64>,
    /// Page.
    #[param(ignore)]
    page: Option<i64>,
    /// `csv` for the file.
    #[param(ignore)]
    format: Option<String>,
}

async fn published_round(
    state: &AppState,
    round: Option<i64>,
) -> Result<(Vec<RoundRow>, Option<RoundRow>), Failure> {
    let rounds = store::published(&state.db).await?;
    let chosen = match round {
        Some(id) => Some(
            rounds
                .iter()
                .find(|r| r.id == id)
                .cloned()
                .ok_or(Failure::NotFound)?,
        ),
        None => rounds.first().cloned(),
    };
    Ok((rounds, chosen))
}

/// `GET /public/admission/cutoffs`: the published cut-off lines per school and pool.
pub async fn public_cutoffs(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
    Query(q): Query<CutoffQuery>,
    uri: Uri,
) -> PageResult<Response> {
    let (ctx, token) = public_ctx(&u, &headers, "/public/admission/cutoffs");
    let (rounds, round) = published_round(&state, q.round).await?;
    let all = match &round {
        Some(r) => store::cutoffs(&state.db, r.id).await?,
        None => Vec::new(),
    };
    if q.format.as_deref() == Some("csv") {
        let Some(r) = &round else {
            return Err(Failure::NotFound.into());
        };
        return Ok(attachment(
            cutoffs_csv_bytes(&all),
            &format!("cutoffs-{}-{}.csv", r.year, r.id),
            "text/csv; charset=utf-8",
        ));
    }
    let query = super::pairs(&uri);
    let (cutoffs, p) = slice_page(all, q.page);
    let pager = round
        .as_ref()
        .map(|_| Pager::new(&ctx, "/public/admission/cutoffs", &query, &p));
    let page = CutoffsPage {
        export_csv: Pager::with("/public/admission/cutoffs", &query, "format", "csv"),
        ctx,
        rounds,
        round,
        cutoffs,
        pager,
    };
    let r = render(&page)?.into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

// ---------------------------------------------------------------------------------------------
// API

/// The admission part of the OpenAPI document (merged into `/api/v1/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    paths(api_rounds, api_round, api_results, api_public_cutoffs),
    tags((name = "admission", description = "中考统一招生"))
)]
pub struct AdmissionApi;

/// Every admission round (city roles).
#[utoipa::path(get, path = "/api/v1/admission/rounds", tag = "admission", responses((status = 200, description = "招生轮次"), (status = 403, body = crate::api::Problem)))]
pub async fn api_rounds(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<Json<Value>> {
    require_city(&u)?;
    Ok(Json(json!({ "items": store::list(&state.db).await? })))
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
    let summary: Option<Value> = round
        .summary_json
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let issues: Option<Value> = round
        .issues_json
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    Ok(Json(json!({
        "round": round,
        "files": store::files(&state.db, id).await?,
        "summary": summary,
        "issues": issues,
        "cutoffs": store::cutoffs(&state.db, id).await?,
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
    let round = store::get(&state.db, id).await?;
    if !round.is_published() {
        return Err(Failure::Conflict("录取结果尚未发布".into()).into());
    }
    let rows = store::results(&state.db, id, &ResultFilter::default()).await?;
    Ok(attachment(
        admissions_csv_bytes(&rows),
        "admissions.csv",
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
