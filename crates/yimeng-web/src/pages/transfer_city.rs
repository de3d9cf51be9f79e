//! Transfers across the city boundary on the web (issue 5): 外市转入 (a student from a school
//! outside Linyi joins a Linyi school) and 转出本市 (a Linyi student leaves for a school outside).
//! Started by the in-city school or by a parent online; the required material (同意转出证明 /
//! 接收证明) is uploaded with the request. The approvals then run on the ordinary request page
//! (`/transfers/{county}/{id}`); the registry changes at the final approval only.

use crate::app::AppState;
use crate::auth::{ClientIp, MaybeUser, PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::public::{check_phone, public_ctx, throttle, with_csrf_cookie};
use crate::kit::upload::RawFile;
use crate::kit::{render, see_other};
use crate::service::transfer::{
    incoming_input, outgoing_input, read_form, require_school, uploads,
};
use crate::view::Ctx;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use yimeng_domain::transfer::{Initiator, TransferMaterial};
use yimeng_domain::{Grade, Scope};
use yimeng_store::StoreError;
use yimeng_store::transfer::{self, TransferRow};

/// Which way the student crosses the city boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// 外市转入
    Incoming,
    /// 转出本市
    Outgoing,
}

impl Direction {
    fn title(self, public: bool) -> &'static str {
        match (self, public) {
            (Direction::Incoming, false) => "外市转入（学生来自临沂市外）",
            (Direction::Outgoing, false) => "转出本市（学生转往临沂市外）",
            (Direction::Incoming, true) => "网上申请转学：从外市转入临沂",
            (Direction::Outgoing, true) => "网上申请转学：转出临沂市",
        }
    }
    fn path(self, public: bool) -> &'static str {
        match (self, public) {
            (Direction::Incoming, false) => "/transfers/incoming",
            (Direction::Outgoing, false) => "/transfers/outgoing",
            (Direction::Incoming, true) => "/public/transfer/incoming",
            (Direction::Outgoing, true) => "/public/transfer/outgoing",
        }
    }
    fn material(self) -> TransferMaterial {
        match self {
            Direction::Incoming => TransferMaterial::SendingSideConsent,
            Direction::Outgoing => TransferMaterial::ReceivingSideAcceptance,
        }
    }
    fn incoming(self) -> bool {
        self == Direction::Incoming
    }
}

#[derive(Template)]
#[template(path = "transfer_city.html")]
struct CityTransferPage {
    ctx: Ctx,
    /// What the receiving schools are narrowed by (public incoming form).
    pick: crate::service::transfer::SchoolPick,
    title: &'static str,
    action: &'static str,
    incoming: bool,
    public: bool,
    material_code: &'static str,
    material_label: &'static str,
    /// (value, label): the public side's Linyi schools (incoming) or nothing.
    schools: Vec<(String, String)>,
    /// (id, label): the school's own classes (incoming, school side).
    classes: Vec<(i64, String)>,
    grades: Vec<(&'static str, &'static str)>,
    f: HashMap<String, String>,
    error: Option<String>,
    done: Option<String>,
}

impl CityTransferPage {
    fn v(&self, k: &str) -> &str {
        self.f.get(k).map_or("", String::as_str)
    }
}

fn grades() -> Vec<(&'static str, &'static str)> {
    Grade::ALL
        .iter()
        .filter(|g| !matches!(g.stage(), yimeng_domain::Stage::Preschool))
        .map(|g| (g.code(), g.label()))
        .collect()
}

async fn page(
    state: &AppState,
    ctx: Ctx,
    u: Option<&User>,
    dir: Direction,
    f: HashMap<String, String>,
    error: Option<String>,
    done: Option<String>,
) -> Result<CityTransferPage, Failure> {
    let public = u.is_none();
    // The public incoming form's receiving schools: as the parent narrowed them (the query of the
    // form's page), or the county of the school chosen when the form comes back with an error.
    let pick = match f.get("school") {
        Some(school) => crate::service::transfer::SchoolPick::of_choice(school),
        None => crate::service::transfer::SchoolPick {
            county: f.get("county").cloned(),
            stage: f.get("stage").cloned(),
            q: f.get("q").cloned(),
        },
    };
    let (schools, classes) = match (dir, u) {
        (Direction::Incoming, None) => (
            crate::service::transfer::city_schools(state, &pick).await?,
            vec![],
        ),
        (Direction::Incoming, Some(u)) => (
            vec![],
            crate::service::transfer::own_classes(state, u).await?,
        ),
        _ => (vec![], vec![]),
    };
    let m = dir.material();
    Ok(CityTransferPage {
        ctx,
        pick,
        title: dir.title(public),
        action: dir.path(public),
        incoming: dir.incoming(),
        public,
        material_code: m.code(),
        material_label: m.label(),
        schools,
        classes,
        grades: grades(),
        f,
        error,
        done,
    })
}

/// `GET /transfers/incoming` and `/transfers/outgoing` — the school's form (the outgoing form
/// may be opened from a student's page with `?student_no=&id_card=`).
pub async fn form(
    state: &AppState,
    u: &User,
    dir: Direction,
    prefill: HashMap<String, String>,
) -> PageResult<Response> {
    require_school(u)?;
    let ctx = Ctx::for_user(u, "/transfers");
    let f: HashMap<String, String> = prefill
        .into_iter()
        .filter(|(k, _)| k == "student_no" || k == "id_card")
        .collect();
    Ok(render(&page(state, ctx, Some(u), dir, f, None, None).await?)?.into_response())
}

/// `GET /transfers/incoming`
pub async fn incoming_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
) -> PageResult<Response> {
    form(&state, &u, Direction::Incoming, HashMap::new()).await
}

/// `GET /transfers/outgoing`
pub async fn outgoing_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> PageResult<Response> {
    form(&state, &u, Direction::Outgoing, q).await
}

/// A store refusal as the message shown on the form (input problems), or the failure page.
fn form_message(e: StoreError) -> Result<String, Failure> {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => Ok(m),
        e => Err(Failure::from(e)),
    }
}

async fn submit_school(
    state: &AppState,
    u: &User,
    dir: Direction,
    f: HashMap<String, String>,
    files: Vec<RawFile>,
) -> PageResult<Response> {
    let own = require_school(u)?;
    let files = uploads(files);
    let cal = yimeng_store::calendar::load(&state.db).await?;
    let today = crate::service::today();
    let result = match dir {
        Direction::Incoming => {
            match incoming_input(
                state,
                &f,
                (own.county.get(), own.id),
                true,
                Initiator::ReceivingSchool,
                files,
            )
            .await
            {
                Ok(input) => transfer::create_incoming(
                    &state.db,
                    &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today),
                    input,
                )
                .await
                .map_err(form_message),
                Err(m) => Err(Ok(m)),
            }
        }
        Direction::Outgoing => match outgoing_input(&f, Initiator::SendingSchool, files) {
            Ok(input) => transfer::create_outgoing(
                &state.db,
                &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today),
                input,
            )
            .await
            .map_err(form_message),
            Err(m) => Err(Ok(m)),
        },
    };
    match result {
        Ok(r) => Ok(see_other(
            &format!("/transfers/{}/{}", r.county_id, r.id),
            Some(&format!("已提交{}申请 {}", r.route, r.request_no)),
        )),
        Err(Ok(m)) => {
            let ctx = Ctx::for_user(u, "/transfers");
            let p = page(state, ctx, Some(u), dir, f, Some(m), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
        Err(Err(e)) => Err(e.into()),
    }
}

/// `POST /transfers/incoming` (multipart: `_csrf` first, the fields, then `m_sending_consent`)
pub async fn create_incoming(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
    mp: Multipart,
) -> PageResult<Response> {
    require_school(&u)?;
    let who = Some(u.clone());
    let (f, files) = read_form(Some((&who, &headers)), mp).await?;
    submit_school(&state, &u, Direction::Incoming, f, files).await
}

/// `POST /transfers/outgoing` (multipart: `_csrf` first, the fields, then `m_receiving_acceptance`)
pub async fn create_outgoing(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
    mp: Multipart,
) -> PageResult<Response> {
    require_school(&u)?;
    let who = Some(u.clone());
    let (f, files) = read_form(Some((&who, &headers)), mp).await?;
    submit_school(&state, &u, Direction::Outgoing, f, files).await
}

async fn public_form(
    state: AppState,
    u: Option<User>,
    headers: HeaderMap,
    dir: Direction,
    query: HashMap<String, String>,
) -> PageResult<Response> {
    let (ctx, token) = public_ctx(&u, &headers, dir.path(true));
    // Only the school pick is taken from the query.
    let pick: HashMap<String, String> = query
        .into_iter()
        .filter(|(k, _)| matches!(k.as_str(), "county" | "stage" | "q"))
        .collect();
    let p = page(&state, ctx, None, dir, pick, None, None).await?;
    Ok(with_csrf_cookie(&state, render(&p)?.into_response(), token))
}

/// `GET /public/transfer/incoming` — a parent applies for a transfer into a Linyi school.
pub async fn public_incoming_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> PageResult<Response> {
    public_form(state, u, headers, Direction::Incoming, query).await
}

/// `GET /public/transfer/outgoing` — a parent applies for a transfer out of Linyi.
pub async fn public_outgoing_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    public_form(state, u, headers, Direction::Outgoing, HashMap::new()).await
}

async fn public_submit(
    state: AppState,
    u: Option<User>,
    ip: Option<String>,
    headers: HeaderMap,
    mp: Multipart,
    dir: Direction,
) -> PageResult<Response> {
    throttle(&state, &ip)?;
    let (f, files) = read_form(Some((&u, &headers)), mp).await?;
    state.public_throttle.fail(ip.as_deref());
    let files = uploads(files);
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let actor = yimeng_store::Actor {
        name: "家长（网上申请）".into(),
        role: "public".into(),
        ip: ip.clone(),
        request_id: None,
    };
    let cal = yimeng_store::calendar::load(&state.db).await?;
    let today = crate::service::today();
    let phone = check_phone(get("phone"));
    let result: Result<TransferRow, String> = match (dir, phone) {
        (_, Err(m)) => Err(m),
        (Direction::Incoming, Ok(phone)) => {
            let target = get("school")
                .split_once(':')
                .and_then(|(c, s)| Some((c.parse::<i32>().ok()?, s.parse::<i64>().ok()?)));
            match target {
                None => Err("请选择转入学校".to_string()),
                Some(school) => {
                    match incoming_input(&state, &f, school, false, Initiator::Parent, files).await
                    {
                        Ok(mut input) => {
                            input.applicant_phone = Some(phone);
                            transfer::create_incoming(
                                &state.db,
                                &yimeng_store::Acting::new(
                                    &actor,
                                    &Scope::Nothing,
                                    &state.rules,
                                    &cal,
                                    today,
                                ),
                                input,
                            )
                            .await
                            .map_err(public_message)
                        }
                        Err(m) => Err(m),
                    }
                }
            }
        }
        (Direction::Outgoing, Ok(phone)) => match outgoing_input(&f, Initiator::Parent, files) {
            Ok(mut input) => {
                input.applicant_phone = Some(phone);
                transfer::create_outgoing(
                    &state.db,
                    &yimeng_store::Acting::new(&actor, &Scope::Nothing, &state.rules, &cal, today),
                    input,
                )
                .await
                .map_err(public_message)
            }
            Err(m) => Err(m),
        },
    };
    let (ctx, token) = public_ctx(&u, &headers, dir.path(true));
    let (status, p) = match result {
        Ok(r) => (
            StatusCode::OK,
            page(
                &state,
                ctx,
                None,
                dir,
                HashMap::new(),
                None,
                Some(r.request_no),
            )
            .await?,
        ),
        Err(m) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, ctx, None, dir, f, Some(m), None).await?,
        ),
    };
    Ok(with_csrf_cookie(
        &state,
        (status, render(&p)?).into_response(),
        token,
    ))
}

fn public_message(e: StoreError) -> String {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) | StoreError::Forbidden(m) => m,
        StoreError::NotFound => "记录不存在".into(),
        e => {
            tracing::error!(error = %e, "public transfer");
            "系统繁忙，请稍后再试".into()
        }
    }
}

/// `POST /public/transfer/incoming`
pub async fn public_incoming(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mp: Multipart,
) -> PageResult<Response> {
    public_submit(state, u, ip, headers, mp, Direction::Incoming).await
}

/// `POST /public/transfer/outgoing`
pub async fn public_outgoing(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mp: Multipart,
) -> PageResult<Response> {
    public_submit(state, u, ip, headers, mp, Direction::Outgoing).await
}

/// `GET /transfers/{county}/{id}/files/{file}` — a material file, for a party to the request.
pub async fn file(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id, file)): Path<(i32, i64, i64)>,
) -> PageResult<Response> {
    u.require_staff()?;
    let (_name, ty, bytes) = transfer::file_content(&state.db, &u.scope, county, id, file).await?;
    let ext = match ty.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "pdf",
    };
    Ok((
        [
            (header::CONTENT_TYPE, ty),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"transfer-{county}-{id}-{file}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
