//! 入学申请 (enrolment applications, issue 5) on the web: the public application with its
//! materials and the status lookup (no account; throttled and CSRF-checked like
//! `/public/transfer`), the reviewers' list and record (county bureau, city, the zone school) with
//! their decisions and the enrolment into a class, and the county's school zone table (学区),
//! edited row by row or imported from CSV/xlsx. Rules live in `yimeng_domain::enrolment`; the
//! store applies them (`yimeng_store::enrolment`).

use crate::app::AppState;
use crate::auth::{ClientIp, MaybeUser, PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::public::{check_public_csrf, public_ctx, throttle, with_csrf_cookie};
use crate::kit::upload::read_multipart_files;
use crate::kit::{render, see_other, take_flash};
use crate::service::enrolment::{require_reviewer, zone_county};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;
use yimeng_domain::enrolment::{ApplicationKind, Material, required_materials};
use yimeng_domain::student::Ethnicity;
use yimeng_domain::{Grade, IdCardNo, RegionCode, Scope, Stage};
use yimeng_store::StoreError;
use yimeng_store::enrolment::{
    self, ApplicationRow, FileRow, MAX_FILE_BYTES, NewApplication, Review, Upload, ZoneInput,
    ZoneRow,
};
use yimeng_store::transfer::ActionRow;

fn today() -> NaiveDate {
    crate::service::today()
}

/// The school year applications are taken for: the one starting this year.
fn intake_year() -> i32 {
    use chrono::Datelike;
    today().year()
}

/// A store refusal as a message for the public page (internal errors are logged, not shown).
fn public_message(e: StoreError) -> String {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) | StoreError::Forbidden(m) => m,
        StoreError::NotFound => "记录不存在".into(),
        e => {
            tracing::error!(error = %e, "public enrolment");
            "系统繁忙，请稍后再试".into()
        }
    }
}

/// One line of the materials list per kind and grade, for the form's guidance.
pub struct MaterialsLine {
    pub what: String,
    pub list: String,
}

fn materials_lines() -> Vec<MaterialsLine> {
    let mut v = Vec::new();
    for (kind, grade) in [
        (ApplicationKind::PrimaryEntry, Grade::P1),
        (ApplicationKind::JuniorEntry, Grade::J1),
        (ApplicationKind::MigrantChild, Grade::P1),
        (ApplicationKind::MigrantChild, Grade::J1),
    ] {
        v.push(MaterialsLine {
            what: format!("{}（{}）", kind.label(), grade.label()),
            list: required_materials(kind, grade)
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join("、"),
        });
    }
    v
}

/// The 12 counties and districts (the zones of the bureau are not counties).
fn counties() -> Vec<(i32, String)> {
    yimeng_domain::region::LINYI_UNITS
        .iter()
        .filter(|r| r.in_gb2260)
        .map(|r| (r.code.get(), r.name.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Public: apply, look up, add material

#[derive(Template)]
#[template(path = "enrolment_apply.html")]
struct ApplyPage {
    ctx: Ctx,
    f: HashMap<String, String>,
    kinds: Vec<(&'static str, &'static str)>,
    counties: Vec<(i32, String)>,
    materials: Vec<(&'static str, &'static str)>,
    lines: Vec<MaterialsLine>,
    max_mb: usize,
    error: Option<String>,
    done: Option<String>,
}

impl ApplyPage {
    fn v(&self, k: &str) -> &str {
        self.f.get(k).map(String::as_str).unwrap_or("")
    }
}

fn apply_page(
    ctx: Ctx,
    f: HashMap<String, String>,
    error: Option<String>,
    done: Option<String>,
) -> ApplyPage {
    ApplyPage {
        ctx,
        f,
        kinds: ApplicationKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        counties: counties(),
        materials: Material::ALL
            .iter()
            .map(|m| (m.code(), m.label()))
            .collect(),
        lines: materials_lines(),
        max_mb: MAX_FILE_BYTES / 1048576,
        error,
        done,
    }
}

/// `GET /public/enrolment`
pub async fn apply_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    let (ctx, token) = public_ctx(&u, &headers, "/public/enrolment");
    let r = render(&apply_page(ctx, HashMap::new(), None, None))?.into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

/// The text fields and the material files of an application form.
async fn read_multipart(
    u: &Option<User>,
    headers: &HeaderMap,
    mp: Multipart,
) -> Result<(HashMap<String, String>, Vec<Upload>), Failure> {
    let (fields, raw) = read_multipart_files(Some((u, headers)), mp, MAX_FILE_BYTES, |c| {
        Material::from_code(c).map(Material::label)
    })
    .await?;
    let files = raw
        .into_iter()
        .filter_map(|f| {
            Some(Upload {
                material: Material::from_code(&f.code)?,
                file_name: f.file_name,
                bytes: f.bytes,
            })
        })
        .collect();
    Ok((fields, files))
}

fn parse_application(
    f: &HashMap<String, String>,
    files: Vec<Upload>,
) -> Result<NewApplication, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let kind = ApplicationKind::parse(get("kind")).map_err(|e| format!("申请类型：{e}"))?;
    let grade = Grade::parse(get("grade")).map_err(|e| format!("申请年级：{e}"))?;
    let county = get("county")
        .parse::<i32>()
        .ok()
        .filter(|c| counties().iter().any(|(k, _)| k == c))
        .map(RegionCode::from_i32)
        .ok_or_else(|| "请选择户籍或居住地所在县区".to_string())?;
    let id_card = IdCardNo::parse(get("id_card")).map_err(|e| format!("儿童身份证件号：{e}"))?;
    let ethnicity = if get("ethnicity").is_empty() {
        Ethnicity::Han
    } else {
        Ethnicity::parse(get("ethnicity")).map_err(|e| format!("民族：{e}"))?
    };
    let phone: String = get("phone")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if !(phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("监护人手机号码“{phone}”应为 11 位手机号码"));
    }
    if get("street").is_empty() {
        return Err("请填写居住地所在街道（乡镇）".into());
    }
    Ok(NewApplication {
        kind,
        grade,
        school_year: intake_year(),
        county,
        child_name: get("child_name").to_string(),
        id_card,
        ethnicity,
        street: get("street").to_string(),
        community: get("community").to_string(),
        guardian_name: get("guardian_name").to_string(),
        guardian_phone: phone,
        files,
    })
}

/// `POST /public/enrolment` (multipart: the fields, then one file per material `m_<code>`).
pub async fn apply(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mp: Multipart,
) -> PageResult<Response> {
    throttle(&state, &ip)?;
    let (mut f, files) = read_multipart(&u, &headers, mp).await?;
    state.public_throttle.fail(ip.as_deref());
    f.remove("_csrf");
    let (ctx, token) = public_ctx(&u, &headers, "/public/enrolment");
    let result = match parse_application(&f, files) {
        Err(m) => Err(m),
        Ok(a) => {
            let cal = yimeng_store::calendar::load(&state.db).await?;
            enrolment::submit(&state.db, &state.rules, &cal, today(), a)
                .await
                .map_err(public_message)
        }
    };
    let (status, page) = match result {
        Ok(a) => (
            StatusCode::OK,
            apply_page(ctx, HashMap::new(), None, Some(a.app_no)),
        ),
        Err(m) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            apply_page(ctx, f, Some(m), None),
        ),
    };
    let r = (status, render(&page)?).into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

#[derive(Template)]
#[template(path = "enrolment_lookup.html")]
struct LookupPage {
    ctx: Ctx,
    error: Option<String>,
    found: Option<(ApplicationRow, Vec<FileRow>)>,
    number: String,
    id_card: String,
    materials: Vec<(&'static str, &'static str)>,
    today: NaiveDate,
}

fn lookup_page(ctx: Ctx) -> LookupPage {
    LookupPage {
        ctx,
        error: None,
        found: None,
        number: String::new(),
        id_card: String::new(),
        materials: Material::ALL
            .iter()
            .map(|m| (m.code(), m.label()))
            .collect(),
        today: today(),
    }
}

/// `GET /public/enrolment/status`
pub async fn status_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    let (ctx, token) = public_ctx(&u, &headers, "/public/enrolment/status");
    let r = render(&lookup_page(ctx))?.into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

/// A status lookup.
#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    id_card: String,
}

/// `POST /public/enrolment/status` — by application number and the child's ID number; shows
/// nothing of anyone else's application.
pub async fn status(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LookupForm>,
) -> PageResult<Response> {
    throttle(&state, &ip)?;
    check_public_csrf(&u, &headers, &f.csrf)?;
    let (ctx, token) = public_ctx(&u, &headers, "/public/enrolment/status");
    let mut page = lookup_page(ctx);
    page.number = f.number.trim().to_string();
    page.id_card = f.id_card.trim().to_uppercase();
    let status = match enrolment::lookup(&state.db, &f.number, &f.id_card).await {
        Ok(a) => {
            let files = enrolment::files(&state.db, &a).await?;
            page.found = Some((a, files));
            StatusCode::OK
        }
        Err(StoreError::NotFound) => {
            state.public_throttle.fail(ip.as_deref());
            page.error = Some("未找到：请核对申请编号和儿童身份证件号".into());
            StatusCode::NOT_FOUND
        }
        Err(e) => return Err(Failure::from(e).into()),
    };
    let r = (status, render(&page)?).into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

/// `POST /public/enrolment/withdraw` — the applicant withdraws, by number and ID number.
pub async fn withdraw(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LookupForm>,
) -> PageResult<Response> {
    throttle(&state, &ip)?;
    check_public_csrf(&u, &headers, &f.csrf)?;
    let (ctx, token) = public_ctx(&u, &headers, "/public/enrolment/status");
    let mut page = lookup_page(ctx);
    page.number = f.number.trim().to_string();
    page.id_card = f.id_card.trim().to_uppercase();
    let status = match crate::service::enrolment::withdraw(&state, &f.number, &f.id_card).await {
        Ok(a) => {
            let files = enrolment::files(&state.db, &a).await?;
            page.found = Some((a, files));
            StatusCode::OK
        }
        Err(StoreError::NotFound) => {
            state.public_throttle.fail(ip.as_deref());
            page.error = Some("未找到：请核对申请编号和儿童身份证件号".into());
            StatusCode::NOT_FOUND
        }
        Err(e @ StoreError::Conflict(_)) => {
            page.error = Some(public_message(e));
            StatusCode::CONFLICT
        }
        Err(e) => return Err(Failure::from(e).into()),
    };
    let r = (status, render(&page)?).into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

/// `POST /public/enrolment/resubmit` (multipart: number, ID number, the requested files).
pub async fn resubmit(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mp: Multipart,
) -> PageResult<Response> {
    throttle(&state, &ip)?;
    let (f, files) = read_multipart(&u, &headers, mp).await?;
    state.public_throttle.fail(ip.as_deref());
    let (ctx, token) = public_ctx(&u, &headers, "/public/enrolment/status");
    let mut page = lookup_page(ctx);
    let number = f.get("number").cloned().unwrap_or_default();
    let card = f.get("id_card").cloned().unwrap_or_default();
    page.number = number.trim().to_string();
    page.id_card = card.trim().to_uppercase();
    let status = match crate::service::enrolment::resubmit(&state, &number, &card, files).await {
        Ok(a) => {
            let files = enrolment::files(&state.db, &a).await?;
            page.found = Some((a, files));
            StatusCode::OK
        }
        Err(StoreError::NotFound) => {
            page.error = Some("未找到：请核对申请编号和儿童身份证件号".into());
            StatusCode::NOT_FOUND
        }
        Err(e) => {
            page.error = Some(public_message(e));
            if let Ok(a) = enrolment::lookup(&state.db, &number, &card).await {
                let files = enrolment::files(&state.db, &a).await?;
                page.found = Some((a, files));
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let r = (status, render(&page)?).into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

// ---------------------------------------------------------------------------------------------
// Reviewers

#[derive(Template)]
#[template(path = "enrolment_list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<ApplicationRow>,
    today: NaiveDate,
    zones: bool,
}

/// `GET /enrolment` — the applications the account reviews, newest first.
pub async fn list(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    require_reviewer(&u)?;
    let rows = enrolment::list(&state.db, &u.scope, 500).await?;
    let ctx = Ctx::for_user(&u, "/enrolment").with_flash(take_flash(&headers));
    let zones = matches!(u.scope, Scope::County(_) | Scope::City);
    Ok(render(&ListPage {
        ctx,
        rows,
        today: today(),
        zones,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "enrolment_detail.html")]
struct DetailPage {
    ctx: Ctx,
    a: ApplicationRow,
    files: Vec<FileRow>,
    actions: Vec<ActionRow>,
    classes: Vec<(i64, String)>,
    materials: Vec<(&'static str, &'static str)>,
    county_user: bool,
    error: Option<String>,
    /// The school the application is at.
    school_name: String,
    /// 统筹安排: the county's other schools of the stage (county bureau and city only).
    placements: Vec<(i64, String)>,
    /// The reviewer's deadline has passed and the review still waits.
    overdue: bool,
}

async fn detail_page(
    state: &AppState,
    u: &User,
    county: i32,
    id: i64,
    error: Option<String>,
    flash: Option<String>,
) -> Result<DetailPage, Failure> {
    let a = enrolment::get(&state.db, &u.scope, county, id).await?;
    let files = enrolment::files(&state.db, &a).await?;
    let actions = enrolment::actions(&state.db, &a).await?;
    let classes = match a.school_id {
        Some(s) => {
            enrolment::class_choices(&state.db, &state.rules, county, s, a.school_year, &a.grade)
                .await?
        }
        None => vec![],
    };
    let schools: Vec<_> = yimeng_store::school::public_briefs(&state.db)
        .await?
        .into_iter()
        .filter(|s| s.county_id == county)
        .collect();
    let school_name = schools
        .iter()
        .find(|s| Some(s.id) == a.school_id)
        .map_or_else(|| "（未分配）".to_string(), |s| s.name.clone());
    let stage = Grade::from_code(&a.grade).map(Grade::stage);
    let placements = if matches!(u.scope, Scope::County(_) | Scope::City) {
        schools
            .iter()
            .filter(|s| Some(s.id) != a.school_id)
            .filter(|s| stage.is_some_and(|st| s.stage_set().contains(st)))
            .map(|s| (s.id, s.name.clone()))
            .collect()
    } else {
        vec![]
    };
    Ok(DetailPage {
        ctx: Ctx::for_user(u, "/enrolment").with_flash(flash),
        overdue: a.is_overdue(today()),
        a,
        files,
        actions,
        classes,
        materials: Material::ALL
            .iter()
            .map(|m| (m.code(), m.label()))
            .collect(),
        county_user: matches!(u.scope, Scope::County(_)),
        error,
        school_name,
        placements,
    })
}

/// `GET /enrolment/{county}/{id}`
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    headers: HeaderMap,
) -> PageResult<Response> {
    require_reviewer(&u)?;
    let page = detail_page(&state, &u, county, id, None, take_flash(&headers)).await?;
    Ok(render(&page)?.into_response())
}

/// `POST /enrolment/{county}/{id}/place` — 统筹安排 to another school (`school`, `reason`).
pub async fn place(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    require_reviewer(&u)?;
    u.check_csrf(f.get("_csrf").map(String::as_str))?;
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let result = match get("school").parse::<i64>() {
        Ok(school) => {
            enrolment::place(
                &state.db,
                &u.actor(),
                &u.scope,
                county,
                id,
                school,
                get("reason"),
            )
            .await
        }
        Err(_) => Err(StoreError::Invalid("学校：请选择统筹安排的学校".into())),
    };
    match result {
        Ok(a) => Ok(see_other(
            &format!("/enrolment/{county}/{id}"),
            Some(&format!("已统筹安排：{}", a.app_no)),
        )),
        Err(StoreError::Conflict(m)) | Err(StoreError::Invalid(m)) => {
            let page = detail_page(&state, &u, county, id, Some(m), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// `POST /enrolment/{county}/{id}/review` (decision `materials` with `missing` codes, `accept`,
/// or `reject` with `reason`).
pub async fn review(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    Form(f): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    require_reviewer(&u)?;
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    u.check_csrf(Some(get("_csrf")))?;
    let decision = match get("decision") {
        "materials" => Review::RequestMaterials(
            f.iter()
                .filter(|(n, _)| n == "missing")
                .filter_map(|(_, v)| Material::from_code(v))
                .collect(),
        ),
        "accept" => Review::Accept,
        "reject" => Review::Reject(get("reason").to_string()),
        _ => return Err(Failure::BadRequest("请选择办理结果".into()).into()),
    };
    match crate::service::enrolment::review(&state, &u, county, id, decision).await {
        Ok(a) => Ok(see_other(
            &format!("/enrolment/{county}/{id}"),
            Some(&format!("已办理：{}（{}）", a.app_no, a.state_label())),
        )),
        Err(StoreError::Conflict(m)) | Err(StoreError::Invalid(m)) => {
            let page = detail_page(&state, &u, county, id, Some(m), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// The enrolment form.
#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    gate_reason: String,
}

/// `POST /enrolment/{county}/{id}/enrol` — the accepted child into a class (through the student
/// save and the class-size gate).
pub async fn enrol(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    Form(f): Form<EnrolForm>,
) -> PageResult<Response> {
    require_reviewer(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    let Ok(class) = f.class.trim().parse::<i64>() else {
        let page = detail_page(&state, &u, county, id, Some("请选择编入班级".into()), None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let gate = yimeng_store::import::GateOptions {
        override_reason: Some(f.gate_reason.trim().to_string()).filter(|r| !r.is_empty()),
        ..yimeng_store::import::GateOptions::with_rules(&state.rules)
    };
    let out = enrolment::enrol(&state.db, &u.actor(), &u.scope, county, id, class, gate).await;
    let message = match out {
        Ok((Ok(sid), warnings)) => {
            let mut flash = "已办理入学，学籍已建立".to_string();
            for w in warnings {
                flash.push_str(&format!("。提醒：{w}"));
            }
            return Ok(see_other(&format!("/students/{sid}"), Some(&flash)));
        }
        Ok((Err(errs), _)) => errs
            .iter()
            .map(|e| e.reason.clone())
            .collect::<Vec<_>>()
            .join("；"),
        Err(StoreError::Conflict(m)) | Err(StoreError::Invalid(m)) => m,
        Err(e) => return Err(Failure::from(e).into()),
    };
    let page = detail_page(&state, &u, county, id, Some(message), None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// `GET /enrolment/{county}/files/{id}` — a material file, for a reviewer of its application.
pub async fn file(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
) -> PageResult<Response> {
    require_reviewer(&u)?;
    let (_name, ty, bytes) = enrolment::file_content(&state.db, &u.scope, county, id).await?;
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
                format!("attachment; filename=\"material-{county}-{id}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Zone table

#[derive(Template)]
#[template(path = "enrolment_zones.html")]
struct ZonesPage {
    ctx: Ctx,
    county: i32,
    county_name: String,
    rows: Vec<ZoneRow>,
    error: Option<String>,
}

/// `?county=` for the city administrator.
#[derive(Deserialize)]
pub struct CountyQuery {
    county: Option<i32>,
}

async fn zones_page(
    state: &AppState,
    u: &User,
    county: i32,
    error: Option<String>,
    flash: Option<String>,
) -> Result<ZonesPage, Failure> {
    Ok(ZonesPage {
        ctx: Ctx::for_user(u, "/enrolment").with_flash(flash),
        county,
        county_name: RegionCode::from_i32(county).name(),
        rows: enrolment::zones(&state.db, county).await?,
        error,
    })
}

/// `GET /enrolment/zones`
pub async fn zones(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<CountyQuery>,
    headers: HeaderMap,
) -> PageResult<Response> {
    let county = zone_county(&u, q.county)?;
    let page = zones_page(&state, &u, county, None, take_flash(&headers)).await?;
    Ok(render(&page)?.into_response())
}

/// A zone row form.
#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    county: Option<i32>,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    school_code: String,
}

/// `POST /enrolment/zones` — adds one row.
pub async fn add_zone(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<ZoneForm>,
) -> PageResult<Response> {
    let county = zone_county(&u, f.county)?;
    u.check_csrf(Some(&f.csrf))?;
    let row = Stage::parse(&f.stage)
        .map_err(|e| format!("学段：{e}"))
        .map(|stage| ZoneInput {
            row: 0,
            stage,
            street: f.street.clone(),
            community: f.community.clone(),
            school_code: f.school_code.clone(),
        });
    let result = match row {
        Ok(r) => enrolment::add_zones(&state.db, &u.actor(), &u.scope, county, &[r])
            .await
            .map_err(|e| match e {
                StoreError::Invalid(m) | StoreError::Forbidden(m) => m,
                e => e.to_string(),
            }),
        Err(m) => Err(m),
    };
    match result {
        Ok(n) => Ok(see_other(
            &format!("/enrolment/zones?county={county}"),
            Some(&format!("学区表新增 {n} 行")),
        )),
        Err(m) => {
            let page = zones_page(&state, &u, county, Some(m), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// `POST /enrolment/zones/import` — a CSV/xlsx file with the columns 学段, 街道（乡镇）, 社区（村）,
/// 学校标识码; all rows or none.
pub async fn import_zones(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<CountyQuery>,
    mut mp: Multipart,
) -> PageResult<Response> {
    let county = zone_county(&u, q.county)?;
    let mut csrf = String::new();
    let mut saved: Option<(tempfile::TempPath, String)> = None;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?
    {
        match field.name().unwrap_or_default() {
            "_csrf" => csrf = field.text().await.unwrap_or_default(),
            "file" => {
                u.check_csrf(Some(&csrf))?;
                let name = field.file_name().unwrap_or("zones.csv").to_string();
                let ext = std::path::Path::new(&name)
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("csv")
                    .to_ascii_lowercase();
                let tmp = tempfile::Builder::new()
                    .suffix(&format!(".{ext}"))
                    .tempfile_in(&state.config.upload_dir)
                    .map_err(|e| Failure::Internal(e.to_string()))?
                    .into_temp_path();
                crate::kit::upload::save_field(&mut field, &tmp).await?;
                saved = Some((tmp, name));
            }
            _ => {}
        }
    }
    u.check_csrf(Some(&csrf))?;
    let Some((path, _name)) = saved else {
        let page = zones_page(&state, &u, county, Some("请选择文件".into()), None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let p = path.to_path_buf();
    let parsed = tokio::task::spawn_blocking(move || read_zone_file(&p))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    drop(path);
    let result = match parsed {
        Ok(rows) => enrolment::add_zones(&state.db, &u.actor(), &u.scope, county, &rows)
            .await
            .map_err(|e| match e {
                StoreError::Invalid(m) | StoreError::Forbidden(m) => m,
                e => e.to_string(),
            }),
        Err(m) => Err(m),
    };
    match result {
        Ok(n) => Ok(see_other(
            &format!("/enrolment/zones?county={county}"),
            Some(&format!("已导入学区表：新增 {n} 行")),
        )),
        Err(m) => {
            let page = zones_page(&state, &u, county, Some(m), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// Reads a zone file; errors name the row (as the spreadsheet numbers it) and the column.
fn read_zone_file(path: &std::path::Path) -> Result<Vec<ZoneInput>, String> {
    let cols: std::cell::Cell<[Option<usize>; 4]> = std::cell::Cell::new([None; 4]);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let headers: [&[&str]; 4] = [
        &["学段", "stage"],
        &["街道", "街道（乡镇）", "街道(乡镇)", "乡镇", "street"],
        &["社区", "社区（村）", "社区(村)", "村", "community"],
        &["学校标识码", "学校代码", "school_code"],
    ];
    yimeng_io::read_table(
        path,
        |h| {
            let mut found = [None; 4];
            for (i, names) in headers.iter().enumerate() {
                found[i] = h
                    .iter()
                    .position(|x| names.contains(&yimeng_domain::text::normalize(x).as_ref()));
            }
            cols.set(found);
            for (i, c) in found.iter().enumerate() {
                if c.is_none() && i != 2 {
                    return Err(yimeng_io::IoError::Format(format!(
                        "缺少“{}”列（表头应为：学段、街道（乡镇）、社区（村）、学校标识码）",
                        headers[i][0]
                    )));
                }
            }
            Ok(())
        },
        |r| {
            let cols = cols.get();
            let cell = |i: usize| {
                cols[i]
                    .and_then(|c| r.cells.get(c))
                    .unwrap_or("")
                    .trim()
                    .to_string()
            };
            match Stage::parse(&cell(0)) {
                Ok(stage) => rows.push(ZoneInput {
                    row: r.number,
                    stage,
                    street: cell(1),
                    community: cell(2),
                    school_code: cell(3),
                }),
                Err(e) => errors.push(format!("第 {} 行“学段”：{e}", r.number)),
            }
            Ok(())
        },
    )
    .map_err(|e| e.to_string())?;
    if !errors.is_empty() {
        return Err(errors.join("；"));
    }
    if rows.is_empty() {
        return Err("文件中没有数据行".into());
    }
    Ok(rows)
}
