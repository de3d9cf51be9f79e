//! Transfers across the city boundary on the web (issue 5): 外市转入 (a student from a school
//! outside Linyi joins a Linyi school) and 转出本市 (a Linyi student leaves for a school outside).
//! Started by the in-city school or by a parent online; the required material (同意转出证明 /
//! 接收证明) is uploaded with the request. The approvals then run on the ordinary request page
//! (`/transfers/{county}/{id}`); the registry changes at the final approval only.

use super::enrolment::{RawFile, read_multipart_files};
use super::services::{check_phone, public_ctx, throttle, with_csrf_cookie};
use super::{render, see_other};
use crate::app::AppState;
use crate::auth::{ClientIp, MaybeUser, PageUser, User};
use crate::error::{Failure, PageResult};
use crate::view::Ctx;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use yimeng_domain::transfer::{Initiator, TransferMaterial};
use yimeng_domain::{Grade, RegionCode, Role, Scope};
use yimeng_io::schema::Table;
use yimeng_store::StoreError;
use yimeng_store::enrolment::MAX_FILE_BYTES;
use yimeng_store::transfer::{self, NewIncoming, NewOutgoing, TransferRow, TransferUpload};

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

pub(crate) fn require_school(u: &User) -> Result<yimeng_domain::SchoolRef, Failure> {
    match (&u.scope, u.role()) {
        (Scope::School(s), Role::School) => Ok(*s),
        _ => Err(Failure::Forbidden(
            "跨市转学由本市学校发起（外市转入由转入学校、转出本市由学生所在学校发起）；家长可在“网上申请转学”页面申请".into(),
        )),
    }
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
    let (schools, classes) = match (dir, u) {
        (Direction::Incoming, None) => (super::services::city_schools(state).await?, vec![]),
        (Direction::Incoming, Some(u)) => (vec![], super::services::own_classes(state, u).await?),
        _ => (vec![], vec![]),
    };
    let m = dir.material();
    Ok(CityTransferPage {
        ctx,
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

pub(crate) fn uploads(files: Vec<RawFile>) -> Vec<TransferUpload> {
    files
        .into_iter()
        .filter_map(|f| {
            Some(TransferUpload {
                material: TransferMaterial::from_code(&f.code)?,
                file_name: f.file_name,
                bytes: f.bytes,
            })
        })
        .collect()
}

fn optional_region(v: &str, what: &str) -> Result<Option<RegionCode>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    RegionCode::parse_any(v)
        .map(Some)
        .map_err(|e| format!("{what}“{v}”：{e}"))
}

/// Builds a 外市转入 request from the form: the student's fields go through the registry's own
/// student parser (the same checks as the student form and imports), placed at `school` and,
/// when chosen, in `class` (the school's own classes).
pub(crate) async fn incoming_input(
    state: &AppState,
    f: &HashMap<String, String>,
    school: (i32, i64),
    class_choice: bool,
    started_by: Initiator,
    files: Vec<TransferUpload>,
) -> Result<NewIncoming, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let grade = Grade::parse(get("grade")).map_err(|e| format!("转入年级：{e}"))?;
    let from_county = optional_region(get("from_county"), "转出学校所在地代码")?;
    let s = yimeng_store::school::public_get(&state.db, school.0, school.1)
        .await
        .ok()
        .ok_or_else(|| "转入学校不存在".to_string())?;
    let mut values: HashMap<String, String> = [
        "name",
        "id_card",
        "student_no",
        "sex",
        "birth_date",
        "ethnicity",
        "hukou",
        "guardian1_name",
        "guardian1_relation",
        "guardian1_phone",
    ]
    .iter()
    .map(|k| (k.to_string(), get(k).to_string()))
    .collect();
    values.insert("school_code".into(), s.code.clone());
    values.insert("migrant".into(), "否".into());
    if class_choice && !get("class").is_empty() {
        let id: i64 = get("class")
            .parse()
            .map_err(|_| "所选班级不存在".to_string())?;
        let c = yimeng_store::class::get_in_school(&state.db, &s, id)
            .await
            .ok()
            .ok_or_else(|| "所选班级不属于转入学校".to_string())?;
        values.insert("school_year".into(), c.school_year.to_string());
        values.insert("grade".into(), c.grade.clone());
        values.insert("class_no".into(), c.class_no.to_string());
    }
    let getter = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let record =
        yimeng_io::records::parse_student(&getter, &super::forms::ctx()).map_err(|errs| {
            errs.iter()
                .map(|e| {
                    let label = Table::Students.header_of(e.field);
                    if e.value.is_empty() {
                        format!("{label}：{}", e.reason)
                    } else {
                        format!("{label}“{}”：{}", e.value, e.reason)
                    }
                })
                .collect::<Vec<_>>()
                .join("；")
        })?;
    Ok(NewIncoming {
        record,
        grade,
        from_name: get("from_name").to_string(),
        from_county,
        started_by,
        reason: get("reason").to_string(),
        files,
        applicant_phone: None,
    })
}

pub(crate) fn outgoing_input(
    f: &HashMap<String, String>,
    started_by: Initiator,
    files: Vec<TransferUpload>,
) -> Result<NewOutgoing, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    Ok(NewOutgoing {
        student_no: get("student_no").to_string(),
        id_card: get("id_card").to_string(),
        to_name: get("to_name").to_string(),
        to_county: optional_region(get("to_county"), "转入学校所在地代码")?,
        started_by,
        reason: get("reason").to_string(),
        files,
        applicant_phone: None,
    })
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
                    &u.actor(),
                    &u.scope,
                    &state.rules,
                    &cal,
                    today,
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
                &u.actor(),
                &u.scope,
                &state.rules,
                &cal,
                today,
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

/// The fields and material files of a cross-boundary request form; `csrf` as for
/// [`read_multipart_files`].
pub(crate) async fn read_form(
    csrf: Option<(&Option<User>, &HeaderMap)>,
    mp: Multipart,
) -> Result<(HashMap<String, String>, Vec<RawFile>), Failure> {
    read_multipart_files(csrf, mp, MAX_FILE_BYTES, |c| {
        TransferMaterial::from_code(c).map(TransferMaterial::label)
    })
    .await
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
) -> PageResult<Response> {
    let (ctx, token) = public_ctx(&u, &headers, dir.path(true));
    let p = page(&state, ctx, None, dir, HashMap::new(), None, None).await?;
    Ok(with_csrf_cookie(&state, render(&p)?.into_response(), token))
}

/// `GET /public/transfer/incoming` — a parent applies for a transfer into a Linyi school.
pub async fn public_incoming_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    public_form(state, u, headers, Direction::Incoming).await
}

/// `GET /public/transfer/outgoing` — a parent applies for a transfer out of Linyi.
pub async fn public_outgoing_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    public_form(state, u, headers, Direction::Outgoing).await
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
                                &actor,
                                &Scope::Nothing,
                                &state.rules,
                                &cal,
                                today,
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
                    &actor,
                    &Scope::Nothing,
                    &state.rules,
                    &cal,
                    today,
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
