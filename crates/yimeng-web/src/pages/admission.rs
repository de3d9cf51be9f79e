//! 中考统一招生 (senior-high unified admission, issue 6) on the web: the city department's
//! workflow — create a round, upload the exchange files, validate (every error with its file,
//! row and column, from the engine's parser), dry run, review counts per batch and cut-offs per
//! school and pool, explain a candidate's result, publish — and the public side: a candidate's own
//! result by 考生号 and ID number, the cut-off lines.
//!
//! The handlers here only extract, call one function of [`crate::service::admission`] (which
//! holds the rules, the engine glue and the file handling) and render; the JSON API of the same
//! steps is [`crate::api::admission`].
//!
//! The exchange format has no ID number column and must stay exactly as specified, so the ID
//! numbers for the public lookup come in a separate mapping file `candidate_ids.csv`
//! (`candidate_id,id_card`), hashed with a per-round salt on upload; the file is not kept.

use crate::app::AppState;
use crate::auth::{ClientIp, MaybeUser, PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::attachment::attachment;
use crate::kit::public::{check_public_csrf, public_ctx, with_csrf_cookie};
use crate::kit::{page_no, render, see_other, some, take_flash};
use crate::service::admission::{self as svc, Issue, StoredIssues, Summary, require_city};
use crate::service::admission::{CutoffQuery, published_round};
use crate::view::{Ctx, Pager};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yimeng_domain::IdCardNo;
use yimeng_store::admission::{
    self as store, CutoffRow, FileMeta, ResultFilter, ResultRow, RoundRow,
};

/// Rows per page of the results and cut-off tables.
const PER_PAGE: i64 = 100;

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
    crate::kit::page(&page, had)
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
/// `POST /admission`
pub async fn create_round(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<NewRound>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    match svc::create_round(&state.db, &u.actor(), &f.year, &f.name).await {
        Ok(r) => Ok(see_other(
            &format!("/admission/{}", r.id),
            Some(&format!("已新建：{}年 {}", r.year, r.name)),
        )),
        Err(e @ (Failure::BadRequest(_) | Failure::Conflict(_))) => {
            let page = RoundsPage {
                ctx: Ctx::for_user(&u, "/admission"),
                rounds: store::list(&state.db).await?,
                error: Some(e.detail()),
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
    /// School names by code (the exchange files carry codes).
    names: svc::SchoolNames,
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
    let StoredIssues {
        count: issue_count,
        items: issues,
    } = StoredIssues::of_round(&round);
    let summary = Summary::of_round(&round);
    let ctx = Ctx::for_user(u, "/admission");
    let (cutoffs, pager) = if summary.is_some() {
        let all = store::cutoffs(&state.db, id).await?;
        let (items, p) = slice_page(all, q.page);
        let pager = Pager::new(
            &ctx,
            &format!("/admission/{id}"),
            &crate::kit::pairs(uri),
            &p,
        );
        (items, Some(pager))
    } else {
        (Vec::new(), None)
    };
    Ok(RoundPage {
        names: svc::SchoolNames::load(&state.db).await?,
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
        .skip(usize::try_from(yimeng_store::browse::offset(page, PER_PAGE)).unwrap_or(usize::MAX))
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
    crate::kit::page(&page, had)
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
    let kind = svc::file_kind(&kind)?;
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
    svc::refuse_published(&round)?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return round_error(&state, &u, id, &uri, "没有选择文件，或文件是空的".into()).await;
    };
    match svc::upload(&state.db, &u.actor(), &round, kind, &name, &bytes).await? {
        Ok(done) => Ok(see_other(
            &format!("/admission/{id}"),
            Some(&done.message()),
        )),
        Err(problems) => {
            let msg = svc::upload_problems_message(&name, &problems);
            round_error(&state, &u, id, &uri, msg).await
        }
    }
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

/// `POST /admission/{id}/files/{kind}/delete`
pub async fn delete_file(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((id, kind)): Path<(i64, String)>,
    Form(f): Form<crate::kit::CsrfOnly>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    let kind = svc::file_kind(&kind)?;
    svc::delete_file(&state.db, &u.actor(), id, kind).await?;
    Ok(see_other(
        &format!("/admission/{id}"),
        Some(&format!("已删除{}", store::file_label(kind))),
    ))
}

/// The round page with the problems of a failed validation (422).
async fn refused(
    state: &AppState,
    u: &User,
    id: i64,
    uri: &Uri,
    problems: usize,
) -> PageResult<Response> {
    round_error(
        state,
        u,
        id,
        uri,
        format!("校验未通过：共 {problems} 处错误，未进行录取"),
    )
    .await
}

/// `POST /admission/{id}/validate`: parses every file; with errors nothing runs and every error
/// is listed (file, row, column, reason).
pub async fn validate(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    uri: Uri,
    Form(f): Form<crate::kit::CsrfOnly>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    match svc::validate(&state.db, &u.actor(), id).await? {
        Ok(()) => Ok(see_other(
            &format!("/admission/{id}"),
            Some("校验通过：可以进行模拟录取"),
        )),
        Err(issues) => refused(&state, &u, id, &uri, issues.len()).await,
    }
}

/// `POST /admission/{id}/run`: the dry run (validates again, then matches).
pub async fn dry_run(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    uri: Uri,
    Form(f): Form<crate::kit::CsrfOnly>,
) -> PageResult<Response> {
    require_city(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    match svc::dry_run(&state.db, &u.actor(), id).await? {
        Ok(s) => Ok(see_other(
            &format!("/admission/{id}"),
            Some(&format!(
                "模拟录取完成：录取 {} / {} 人；请核对分数线后发布",
                s.placed, s.candidates
            )),
        )),
        Err(issues) => refused(&state, &u, id, &uri, issues.len()).await,
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
    let r = svc::publish(&state.db, &u.actor(), id, f.confirm == "yes").await?;
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
    store::get(&state.db, id).await?;
    let Some(cand) = some(&q.candidate) else {
        return Err(Failure::BadRequest("请填写考生号".into()).into());
    };
    let text = svc::explain(&state.db, id, &cand).await?;
    let (status, error) = match &text {
        Some(_) => (StatusCode::OK, None),
        None => (
            StatusCode::NOT_FOUND,
            Some(format!(
                "考生号“{}”不在考生文件中",
                yimeng_domain::text::preview(&cand, 30)
            )),
        ),
    };
    let page = round_page(&state, &u, id, &RoundQuery::default(), &uri, error, text).await?;
    Ok((status, render(&page)?).into_response())
}

// ---------------------------------------------------------------------------------------------
// Results and downloads

#[derive(Template)]
#[template(path = "admission_results.html")]
struct ResultsPage {
    ctx: Ctx,
    /// School names by code (the exchange files carry codes).
    names: svc::SchoolNames,
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
        let format = svc::export_format(fmt)?;
        let bytes = svc::results_table(&state.db, &round, &filter, format).await?;
        return Ok(attachment(
            bytes,
            &format!("录取结果.{}", format.ext()),
            format.mime(),
        ));
    }
    let page = store::results_page(&state.db, id, &filter, page_no(q.page), PER_PAGE).await?;
    let ctx = Ctx::for_user(&u, "/admission");
    let path = format!("/admission/{id}/results");
    let query = crate::kit::pairs(&uri);
    let pager = Pager::new(&ctx, &path, &query, &page);
    let p = ResultsPage {
        names: svc::SchoolNames::load(&state.db).await?,
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

/// `GET /admission/{id}/admissions.csv`
pub async fn admissions_csv(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    require_city(&u)?;
    svc::round_with_results(&state.db, id, false).await?;
    let rows = store::results(&state.db, id, &ResultFilter::default()).await?;
    Ok(attachment(
        svc::admissions_csv(&rows)?,
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
    svc::round_with_results(&state.db, id, false).await?;
    let rows = store::cutoffs(&state.db, id).await?;
    Ok(attachment(
        svc::cutoffs_csv(&rows)?,
        "cutoffs.csv",
        "text/csv; charset=utf-8",
    ))
}

// ---------------------------------------------------------------------------------------------
// Public: a candidate's own result, the cut-off lines

#[derive(Template)]
#[template(path = "admission_public.html")]
struct PublicPage {
    ctx: Ctx,
    /// School names by code (the exchange files carry codes).
    names: svc::SchoolNames,
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
        names: svc::SchoolNames::load(&state.db).await?,
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
        names: svc::SchoolNames::load(&state.db).await?,
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
    /// School names by code (the exchange files carry codes).
    names: svc::SchoolNames,
    rounds: Vec<RoundRow>,
    round: Option<RoundRow>,
    cutoffs: Vec<CutoffRow>,
    pager: Option<Pager>,
    export_csv: String,
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
            svc::cutoffs_csv(&all)?,
            &format!("cutoffs-{}-{}.csv", r.year, r.id),
            "text/csv; charset=utf-8",
        ));
    }
    let query = crate::kit::pairs(&uri);
    let (cutoffs, p) = slice_page(all, q.page);
    let pager = round
        .as_ref()
        .map(|_| Pager::new(&ctx, "/public/admission/cutoffs", &query, &p));
    let page = CutoffsPage {
        names: svc::SchoolNames::load(&state.db).await?,
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
