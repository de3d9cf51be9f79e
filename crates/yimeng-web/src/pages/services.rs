//! Student-status services (issue 5) on the web: the public service catalogue (事项清单) and its
//! administration, the working-day calendar, transfers (转学) started by a receiving school or by a
//! parent online with their approval steps, and the status-change requests (休学, 复学, 辍学, 毕业,
//! 死亡) waiting for approval. Rules live in `yimeng-domain`; the store applies them.

use crate::app::AppState;
use crate::auth::{ClientIp, MaybeUser, PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::public::{check_phone, check_public_csrf, public_ctx, throttle, with_csrf_cookie};
use crate::kit::{render, see_other, some, take_flash};
use crate::service::transfer::{SchoolPick, city_schools, own_classes};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use yimeng_domain::calendar::DayKind;
use yimeng_domain::transfer::Initiator;
use yimeng_domain::{Role, Scope};
use yimeng_store::calendar::DayRow;
use yimeng_store::catalogue::{ServiceInput, ServiceItem};
use yimeng_store::status_request::{self, StatusRequestRow};
use yimeng_store::transfer::{self, Decision, NewTransfer, StepView, TransferRow};

fn today() -> NaiveDate {
    crate::service::today()
}

// ---------------------------------------------------------------------------------------------
// Catalogue

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    ctx: Ctx,
    items: Vec<ServiceItem>,
    admin: bool,
}

/// `GET /services` — public.
pub async fn catalogue(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    let items = yimeng_store::catalogue::list(&state.db).await?;
    let (ctx, token) = public_ctx(&u, &headers, "/services");
    let admin = u.as_ref().is_some_and(|u| u.role().can_manage_users());
    let r = render(&ServicesPage {
        ctx: ctx.with_flash(take_flash(&headers)),
        items,
        admin,
    })?
    .into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

#[derive(Template)]
#[template(path = "service_edit.html")]
struct ServiceEditPage {
    ctx: Ctx,
    code: String,
    item: ServiceInput,
    error: Option<String>,
}

/// `GET /admin/services/{code}`
pub async fn service_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(code): Path<String>,
) -> PageResult<Response> {
    u.require_admin()?;
    let i = yimeng_store::catalogue::get(&state.db, &code).await?;
    let item = ServiceInput {
        name: i.name,
        basis: i.basis,
        conditions: i.conditions,
        materials: i.materials,
        steps: i.steps,
        time_limit: i.time_limit,
    };
    Ok(render(&ServiceEditPage {
        ctx: Ctx::for_user(&u, "/services"),
        code,
        item,
        error: None,
    })?
    .into_response())
}

/// The catalogue form.
#[derive(Deserialize)]
pub struct ServiceForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(flatten)]
    item: ServiceInput,
}

/// `POST /admin/services/{code}`
pub async fn save_service(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(code): Path<String>,
    Form(f): Form<ServiceForm>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    match yimeng_store::catalogue::update(&state.db, &u.actor(), &code, &f.item).await {
        Ok(()) => Ok(see_other("/services", Some("事项清单已保存"))),
        Err(yimeng_store::StoreError::Invalid(m)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&ServiceEditPage {
                ctx: Ctx::for_user(&u, "/services"),
                code,
                item: f.item,
                error: Some(m),
            })?,
        )
            .into_response()),
        Err(e) => Err(Failure::from(e).into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Calendar

#[derive(Template)]
#[template(path = "work_calendar.html")]
struct CalendarPage {
    ctx: Ctx,
    days: Vec<DayRow>,
    error: Option<String>,
}

/// `GET /admin/calendar`
pub async fn calendar(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_admin()?;
    let days = yimeng_store::calendar::list(&state.db, None).await?;
    let ctx = Ctx::for_user(&u, "/admin/calendar").with_flash(take_flash(&headers));
    Ok(render(&CalendarPage {
        ctx,
        days,
        error: None,
    })?
    .into_response())
}

/// A calendar day form.
#[derive(Deserialize)]
pub struct DayForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    day: String,
    kind: String,
    #[serde(default)]
    name: String,
}

/// `POST /admin/calendar`
pub async fn add_day(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<DayForm>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    let parsed = f
        .day
        .trim()
        .parse::<NaiveDate>()
        .map_err(|_| format!("日期“{}”格式应为 YYYY-MM-DD", f.day.trim()))
        .and_then(|d| {
            DayKind::parse(&f.kind)
                .map(|k| (d, k))
                .map_err(|e| format!("日期类型：{e}"))
        });
    match parsed {
        Ok((d, k)) => {
            yimeng_store::calendar::set_day(&state.db, &u.actor(), d, k, &f.name).await?;
            Ok(see_other(
                "/admin/calendar",
                Some(&format!("已保存：{d} {}", k.label())),
            ))
        }
        Err(m) => {
            let days = yimeng_store::calendar::list(&state.db, None).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&CalendarPage {
                    ctx: Ctx::for_user(&u, "/admin/calendar"),
                    days,
                    error: Some(m),
                })?,
            )
                .into_response())
        }
    }
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// `POST /admin/calendar/{day}/delete`
pub async fn remove_day(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(day): Path<String>,
    Form(f): Form<CsrfForm>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    let d = day.parse::<NaiveDate>().map_err(|_| Failure::NotFound)?;
    yimeng_store::calendar::remove_day(&state.db, &u.actor(), d).await?;
    Ok(see_other("/admin/calendar", Some(&format!("已删除：{d}"))))
}

// ---------------------------------------------------------------------------------------------
// Transfers

#[derive(Template)]
#[template(path = "transfers.html")]
struct TransfersPage {
    ctx: Ctx,
    waiting: Vec<TransferRow>,
    overdue: Vec<TransferRow>,
    all: Vec<TransferRow>,
    status_waiting: Vec<StatusRequestRow>,
    today: NaiveDate,
    can_start: bool,
}

/// `GET /transfers` — the requests the account is a party to: waiting for it, overdue, all.
pub async fn transfers(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let t = today();
    let waiting = transfer::list(&state.db, &u.scope, true, None, 200).await?;
    let overdue = transfer::list(&state.db, &u.scope, false, Some(t), 200).await?;
    let all = transfer::list(&state.db, &u.scope, false, None, 200).await?;
    let status_waiting = status_request::list(&state.db, &u.scope, true, None, None, 200).await?;
    let ctx = Ctx::for_user(&u, "/transfers").with_flash(take_flash(&headers));
    let can_start = u.role() == Role::School;
    Ok(render(&TransfersPage {
        ctx,
        waiting,
        overdue,
        all,
        status_waiting,
        today: t,
        can_start,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "transfer_new.html")]
struct TransferNewPage {
    ctx: Ctx,
    public: bool,
    /// What the receiving schools are narrowed by (public form).
    pick: SchoolPick,
    schools: Vec<(String, String)>,
    classes: Vec<(i64, String)>,
    f: TransferForm,
    error: Option<String>,
    done: Option<String>,
}

/// The transfer request form (school or parent).
#[derive(Deserialize, Default, Clone)]
pub struct TransferForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    student_no: String,
    #[serde(default)]
    id_card: String,
    /// `county:school` for the public form.
    #[serde(default)]
    school: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    phone: String,
}

/// `GET /transfers/new` — the receiving school starts a request.
pub async fn new_transfer(
    State(state): State<AppState>,
    PageUser(u): PageUser,
) -> PageResult<Response> {
    require_school(&u)?;
    let classes = own_classes(&state, &u).await?;
    Ok(render(&TransferNewPage {
        ctx: Ctx::for_user(&u, "/transfers"),
        public: false,
        pick: SchoolPick::default(),
        schools: vec![],
        classes,
        f: TransferForm::default(),
        error: None,
        done: None,
    })?
    .into_response())
}

fn require_school(u: &User) -> Result<(), Failure> {
    if u.role() == Role::School {
        Ok(())
    } else {
        Err(Failure::Forbidden(
            "转学申请由转入学校发起（家长可在“网上申请转学”页面申请）".into(),
        ))
    }
}

fn calendar_err(e: yimeng_store::StoreError) -> Failure {
    Failure::from(e)
}

/// `POST /transfers`
pub async fn create_transfer(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<TransferForm>,
) -> PageResult<Response> {
    require_school(&u)?;
    u.check_csrf(Some(&f.csrf))?;
    let Scope::School(s) = u.scope.clone() else {
        return Err(Failure::NotFound.into());
    };
    let class = some(&Some(f.class.clone())).and_then(|c| c.parse::<i64>().ok());
    let input = NewTransfer {
        student_no: f.student_no.clone(),
        id_card: f.id_card.clone(),
        to_county: s.county.get(),
        to_school: s.id,
        to_class: class,
        started_by: Initiator::ReceivingSchool,
        reason: f.reason.clone(),
        materials: vec![],
        applicant_phone: None,
    };
    let cal = yimeng_store::calendar::load(&state.db)
        .await
        .map_err(calendar_err)?;
    match transfer::create(
        &state.db,
        &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today()),
        input,
    )
    .await
    {
        Ok(r) => Ok(see_other(
            &format!("/transfers/{}/{}", r.county_id, r.id),
            Some(&format!("已提交转学申请 {}", r.request_no)),
        )),
        Err(e @ (yimeng_store::StoreError::Invalid(_) | yimeng_store::StoreError::Conflict(_))) => {
            let classes = own_classes(&state, &u).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&TransferNewPage {
                    ctx: Ctx::for_user(&u, "/transfers"),
                    public: false,
                    pick: SchoolPick::default(),
                    schools: vec![],
                    classes,
                    f,
                    error: Some(e.to_string()),
                    done: None,
                })?,
            )
                .into_response())
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

#[derive(Template)]
#[template(path = "transfer.html")]
struct TransferPage {
    ctx: Ctx,
    r: TransferRow,
    steps: Vec<StepView>,
    my_turn: bool,
    county_turn: bool,
    public: bool,
    files: Vec<transfer::TransferFileRow>,
}

/// `GET /transfers/{county}/{id}`
pub async fn show_transfer(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let r = transfer::get(&state.db, &u.scope, county, id).await?;
    let acts = transfer::actions(&state.db, &r).await?;
    let steps = transfer::step_views(&r, &acts, &state.rules, today());
    let st = r.domain_state(&state.rules);
    let my_turn = st.current_step().is_some_and(|s| s.approver.is(&u.scope));
    let county_turn = my_turn && matches!(u.scope, Scope::County(_));
    let files = transfer::files(&state.db, &u.scope, county, id).await?;
    let ctx = Ctx::for_user(&u, "/transfers").with_flash(take_flash(&headers));
    Ok(render(&TransferPage {
        ctx,
        r,
        steps,
        my_turn,
        county_turn,
        public: false,
        files,
    })?
    .into_response())
}

/// A decision form.
#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    override_reason: String,
}

fn decision_of(f: &DecideForm) -> Result<Decision, Failure> {
    match f.decision.as_str() {
        "approve" => Ok(Decision::Approve),
        "refuse" => Ok(Decision::Refuse(f.reason.clone())),
        "withdraw" => Ok(Decision::Withdraw),
        _ => Err(Failure::BadRequest("请选择同意或不同意".into())),
    }
}

/// `POST /transfers/{county}/{id}/decide`
pub async fn decide_transfer(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    Form(f): Form<DecideForm>,
) -> PageResult<Response> {
    u.require_staff()?;
    u.check_csrf(Some(&f.csrf))?;
    let d = decision_of(&f)?;
    let cal = yimeng_store::calendar::load(&state.db)
        .await
        .map_err(calendar_err)?;
    let ov = some(&Some(f.override_reason.clone()));
    let r = transfer::decide(
        &state.db,
        &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today()),
        county,
        id,
        d,
        ov.as_deref(),
    )
    .await?;
    Ok(see_other(
        &format!("/transfers/{county}/{id}"),
        Some(&format!(
            "已办理：转学申请 {}（{}）",
            r.request_no,
            r.state_label()
        )),
    ))
}

/// `GET /public/transfer` — a parent's online request (no account).
pub async fn public_transfer_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    Query(pick): Query<SchoolPick>,
    headers: HeaderMap,
) -> PageResult<Response> {
    let (ctx, token) = public_ctx(&u, &headers, "/public/transfer");
    let schools = city_schools(&state, &pick).await?;
    let r = render(&TransferNewPage {
        ctx,
        public: true,
        pick,
        schools,
        classes: vec![],
        f: TransferForm::default(),
        error: None,
        done: None,
    })?
    .into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

/// `POST /public/transfer`
pub async fn public_transfer(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<TransferForm>,
) -> PageResult<Response> {
    throttle(&state, &ip)?;
    check_public_csrf(&u, &headers, &f.csrf)?;
    state.public_throttle.fail(ip.as_deref());
    let (ctx, token) = public_ctx(&u, &headers, "/public/transfer");
    let pick = SchoolPick::of_choice(&f.school);
    let schools = city_schools(&state, &pick).await?;
    let target = f
        .school
        .split_once(':')
        .and_then(|(c, s)| Some((c.parse::<i32>().ok()?, s.parse::<i64>().ok()?)));
    let result = match (target, check_phone(&f.phone)) {
        (None, _) => Err("请选择转入学校".to_string()),
        (_, Err(m)) => Err(m),
        (Some((c, s)), Ok(phone)) => {
            let input = NewTransfer {
                student_no: f.student_no.clone(),
                id_card: f.id_card.clone(),
                to_county: c,
                to_school: s,
                to_class: None,
                started_by: Initiator::Parent,
                reason: f.reason.clone(),
                materials: vec![],
                applicant_phone: Some(phone),
            };
            let cal = yimeng_store::calendar::load(&state.db)
                .await
                .map_err(calendar_err)?;
            let actor = yimeng_store::Actor {
                name: "家长（网上申请）".into(),
                role: "public".into(),
                ip: ip.clone(),
                request_id: None,
            };
            transfer::create(
                &state.db,
                &yimeng_store::Acting::new(&actor, &Scope::Nothing, &state.rules, &cal, today()),
                input,
            )
            .await
            .map_err(|e| match e {
                yimeng_store::StoreError::Invalid(m)
                | yimeng_store::StoreError::Conflict(m)
                | yimeng_store::StoreError::Forbidden(m) => m,
                yimeng_store::StoreError::NotFound => "记录不存在".into(),
                e => {
                    tracing::error!(error = %e, "public transfer");
                    "系统繁忙，请稍后再试".into()
                }
            })
        }
    };
    let (status, page) = match result {
        Ok(r) => (
            StatusCode::OK,
            TransferNewPage {
                ctx,
                public: true,
                pick,
                schools,
                classes: vec![],
                f: TransferForm::default(),
                error: None,
                done: Some(r.request_no),
            },
        ),
        Err(m) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            TransferNewPage {
                ctx,
                public: true,
                pick,
                schools,
                classes: vec![],
                f,
                error: Some(m),
                done: None,
            },
        ),
    };
    let r = (status, render(&page)?).into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

#[derive(Template)]
#[template(path = "public_lookup.html")]
struct LookupPage {
    ctx: Ctx,
    what: &'static str,
    error: Option<String>,
    transfer: Option<(TransferRow, Vec<StepView>)>,
}

/// `GET /public/transfer/status`
pub async fn transfer_status_form(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    let (ctx, token) = public_ctx(&u, &headers, "/public/transfer/status");
    let r = render(&LookupPage {
        ctx,
        what: "transfer",
        error: None,
        transfer: None,
    })?
    .into_response();
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

/// `POST /public/transfer/status` — by request number and the child's ID number; shows nothing
/// of anyone else's request.
pub async fn transfer_status(
    State(state): State<AppState>,
    MaybeUser(u): MaybeUser,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LookupForm>,
) -> PageResult<Response> {
    throttle(&state, &ip)?;
    check_public_csrf(&u, &headers, &f.csrf)?;
    let (ctx, token) = public_ctx(&u, &headers, "/public/transfer/status");
    let page = match transfer::lookup(&state.db, &f.number, &f.id_card).await {
        Ok(r) => {
            let acts = transfer::actions(&state.db, &r).await?;
            let steps = transfer::step_views(&r, &acts, &state.rules, today());
            LookupPage {
                ctx,
                what: "transfer",
                error: None,
                transfer: Some((r, steps)),
            }
        }
        Err(yimeng_store::StoreError::NotFound) => {
            state.public_throttle.fail(ip.as_deref());
            LookupPage {
                ctx,
                what: "transfer",
                error: Some("未找到：请核对申请编号和学生身份证件号".into()),
                transfer: None,
            }
        }
        Err(e) => return Err(Failure::from(e).into()),
    };
    let status = if page.error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let r = (status, render(&page)?).into_response();
    Ok(with_csrf_cookie(&state, r, token))
}

// ---------------------------------------------------------------------------------------------
// Status-change requests

/// `POST /status-requests/{county}/{id}/decide`
pub async fn decide_status(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path((county, id)): Path<(i32, i64)>,
    Form(f): Form<DecideForm>,
) -> PageResult<Response> {
    u.require_staff()?;
    u.check_csrf(Some(&f.csrf))?;
    let d = decision_of(&f)?;
    let cal = yimeng_store::calendar::load(&state.db)
        .await
        .map_err(calendar_err)?;
    let r = status_request::decide(
        &state.db,
        &yimeng_store::Acting::new(&u.actor(), &u.scope, &state.rules, &cal, today()),
        county,
        id,
        d,
    )
    .await?;
    Ok(see_other(
        "/transfers",
        Some(&format!(
            "已办理：{}申请（{}）",
            r.kind_label(),
            r.state_label()
        )),
    ))
}
