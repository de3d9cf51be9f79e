//! Students: the list and search, the record page with its history, the form, and status changes
//! (学籍异动) with a reason.

use crate::app::AppState;
use crate::auth::{PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::forms::{self, FormPage};
use crate::kit::{PER_PAGE, page, page_no, pairs, render, see_other, some, take_flash};
use crate::service::lists;
use crate::service::registry::status_change_of;
use crate::view::{Ctx, Pager};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use yimeng_domain::{RegionCode, StudentStatus};
use yimeng_io::Table;
use yimeng_store::browse::{self, StudentFilter};
use yimeng_store::edit::Saved;

/// Query of the student list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StudentQuery {
    pub county: Option<String>,
    pub school: Option<String>,
    pub class: Option<String>,
    pub status: Option<String>,
    pub flag: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
    pub format: Option<String>,
}

impl StudentQuery {
    fn filter(&self) -> StudentFilter {
        StudentFilter {
            county: some(&self.county).and_then(|c| c.parse().ok()),
            school: some(&self.school).and_then(|c| c.parse().ok()),
            class: some(&self.class).and_then(|c| c.parse().ok()),
            status: some(&self.status),
            flag: some(&self.flag),
            q: some(&self.q),
        }
    }
}

/// `GET /students`
pub async fn list(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<StudentQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let f = q.filter();
    let ctx = Ctx::for_user(&u, "/students");
    if let Some(format) = some(&q.format) {
        let format = crate::kit::export::parse_format(&format)?;
        return Ok(lists::students(&state, &u, &f, format).await?);
    }
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let result = browse::students(&state.db, &u.scope, &f, page_no(q.page), PER_PAGE).await?;
    let narrow = f.is_narrow(&u.scope);
    let query = pairs(&uri);
    let ctx = ctx.with_flash(flash);
    let pager = Pager::new(&ctx, "/students", &query, &result);
    let counties = crate::kit::county_choices(&u.scope);
    let context = match (f.class, f.school) {
        (Some(c), _) => yimeng_store::class::get(&state.db, &u.scope, c)
            .await
            .ok()
            .map(|c| c.name),
        (None, Some(s)) => yimeng_store::school::get(&state.db, &u.scope, s)
            .await
            .ok()
            .map(|s| s.name),
        _ => None,
    };
    page(
        &StudentsPage {
            ctx,
            page: result,
            pager,
            q,
            query,
            counties,
            narrow,
            context,
        },
        had,
    )
}

/// `GET /students/{id}`
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let d = browse::student_detail(&state.db, &u.scope, id).await?;
    let history =
        yimeng_store::audit::for_record(&state.db, d.student.county_id, "student", id, 30).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let can_edit = u.role().can_write_registry()
        && u.scope.covers_school(
            RegionCode::from_i32(d.student.county_id),
            d.student.school_id,
        );
    let ctx = Ctx::for_user(&u, "/students").with_flash(flash);
    page(
        &StudentPage {
            ctx,
            d,
            history,
            can_edit,
        },
        had,
    )
}

fn form(
    u: &User,
    title: String,
    action: String,
    cancel: String,
    fields: Vec<forms::FormField>,
    general: Vec<String>,
) -> FormPage {
    FormPage {
        ctx: Ctx::for_user(u, "/students"),
        title,
        action,
        cancel,
        fields,
        general,
        section: "student",
    }
}

/// `?school=` or `?class=` to start a new student in place.
#[derive(Deserialize)]
pub struct Place {
    school: Option<i64>,
    class: Option<i64>,
}

/// `GET /students/new`
pub async fn new_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(p): Query<Place>,
) -> PageResult<Response> {
    u.require_writer()?;
    let mut values = HashMap::from([
        ("ethnicity".to_string(), "汉族".to_string()),
        ("status".to_string(), "在读".to_string()),
        ("migrant".to_string(), "否".to_string()),
        ("left_behind".to_string(), "否".to_string()),
        ("poor".to_string(), "否".to_string()),
        ("orphan".to_string(), "否".to_string()),
    ]);
    if let Some(cid) = p.class {
        let c = yimeng_store::class::get(&state.db, &u.scope, cid).await?;
        let s = yimeng_store::school::get(&state.db, &u.scope, c.school_id).await?;
        values.insert("school_code".into(), s.code);
        values.insert(
            "school_year".into(),
            yimeng_domain::SchoolYear::from_start(c.school_year).label(),
        );
        values.insert("grade".into(), c.grade().label().into());
        values.insert("class_no".into(), c.class_no.to_string());
    } else if let Some(sid) = p.school {
        let s = yimeng_store::school::get(&state.db, &u.scope, sid).await?;
        values.insert("school_code".into(), s.code);
    }
    let choices = forms::school_choices(&state, &u).await?;
    let mut fields = forms::fields(Table::Students, &values, &[], &[], &choices);
    if matches!(u.scope, yimeng_domain::Scope::County(_)) {
        fields.push(gate_reason_field(String::new()));
    }
    Ok(render(&form(
        &u,
        "新增学生学籍".into(),
        "/students".into(),
        "/students".into(),
        fields,
        vec![],
    ))?
    .into_response())
}

/// `POST /students`
pub async fn create(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    u.require_writer()?;
    let values = forms::submitted(&u, f)?;
    save(&state, &u, values, None, None).await
}

async fn student_values(
    state: &AppState,
    u: &User,
    id: i64,
) -> Result<(yimeng_store::student::StudentRow, HashMap<String, String>), Failure> {
    let d = browse::student_detail(&state.db, &u.scope, id).await?;
    let class = d.class.as_ref().map(|c| yimeng_domain::student::ClassRef {
        year: yimeng_domain::SchoolYear::from_start(c.school_year),
        grade: c.grade(),
        class_no: c.class_no,
    });
    let rec = d.student.to_record(&d.school_code, class);
    Ok((
        d.student,
        forms::values_from_cells(Table::Students, yimeng_io::records::student_cells(&rec)),
    ))
}

/// `GET /students/{id}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    u.require_writer()?;
    let (s, values) = student_values(&state, &u, id).await?;
    let choices = forms::school_choices(&state, &u).await?;
    let mut fields = forms::fields(Table::Students, &values, &[], &["status"], &choices);
    if matches!(u.scope, yimeng_domain::Scope::County(_)) {
        fields.push(gate_reason_field(String::new()));
    }
    Ok(render(&form(
        &u,
        format!("编辑学籍：{}", s.name),
        format!("/students/{id}"),
        format!("/students/{id}"),
        fields,
        vec![],
    ))?
    .into_response())
}

/// `POST /students/{id}`
pub async fn update(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    u.require_writer()?;
    let (_, stored) = student_values(&state, &u, id).await?;
    let mut values = forms::submitted(&u, f)?;
    // Status changes go through 学籍异动 with a reason, not through the edit form.
    values.insert(
        "status".into(),
        stored.get("status").cloned().unwrap_or_default(),
    );
    save(&state, &u, values, Some(id), None).await
}

/// The form field of a county bureau's written reason to place beyond the class-size limits.
const GATE_REASON: &str = "gate_reason";

fn gate_reason_field(value: String) -> forms::FormField {
    forms::FormField {
        key: GATE_REASON,
        label: "突破班额书面理由",
        help: "仅县区教育局：编入后超过班额限制（起始年级 55 人、任何班 56 人）时，填写理由后可编入，记入审计",
        required: false,
        kind: forms::FieldKind::Text,
        value,
        error: None,
        readonly: false,
    }
}

async fn save(
    state: &AppState,
    u: &User,
    values: HashMap<String, String>,
    id: Option<i64>,
    reason: Option<String>,
) -> PageResult<Response> {
    let mut values = values;
    // A county bureau may place beyond the class-size limits with a written reason (audited).
    let gate_reason = values
        .remove(GATE_REASON)
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let errors = match yimeng_io::records::parse_student(&get, &forms::ctx()) {
        Ok(rec) => {
            let name = rec.name.clone();
            let gate = yimeng_store::import::GateOptions {
                override_reason: gate_reason.clone(),
                ..yimeng_store::import::GateOptions::with_rules(&state.rules)
            };
            match yimeng_store::edit::save_student_gated(
                &state.db,
                &u.scope,
                &u.actor(),
                rec,
                id,
                reason,
                gate,
            )
            .await?
            {
                (Saved::Ok(sid), warnings) => {
                    let mut flash = format!("已保存：{name}");
                    for w in warnings {
                        flash.push_str(&format!("。提醒：{w}"));
                    }
                    return Ok(see_other(&format!("/students/{sid}"), Some(&flash)));
                }
                (Saved::Invalid(e), _) => e,
            }
        }
        Err(e) => e,
    };
    let choices = forms::school_choices(state, u).await?;
    let readonly: &[&str] = if id.is_some() { &["status"] } else { &[] };
    let mut fields = forms::fields(Table::Students, &values, &errors, readonly, &choices);
    if matches!(u.scope, yimeng_domain::Scope::County(_)) {
        fields.push(gate_reason_field(gate_reason.unwrap_or_default()));
    }
    let general = forms::general_errors(Table::Students, &errors);
    let (title, action) = match id {
        Some(i) => ("编辑学籍".to_string(), format!("/students/{i}")),
        None => ("新增学生学籍".to_string(), "/students".into()),
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&form(u, title, action.clone(), action, fields, general))?,
    )
        .into_response())
}

/// `GET /students/{id}/status`
pub async fn status_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    u.require_writer()?;
    let s = yimeng_store::student::get(&state.db, &u.scope, id).await?;
    let current = StudentStatus::from_code(&s.status).unwrap_or(StudentStatus::Other);
    let options: Vec<StudentStatus> = StudentStatus::ALL
        .iter()
        .copied()
        .filter(|t| current.can_change_to(*t))
        .collect();
    let ctx = Ctx::for_user(&u, "/students");
    Ok(render(&StatusPage {
        ctx,
        student: s,
        current,
        options,
        error: None,
        reason: String::new(),
    })?
    .into_response())
}

/// The status change form.
#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    status: String,
    reason: String,
    /// 休学截止日期 (休学 only; default: the longest suspension the rules allow).
    #[serde(default)]
    end: Option<String>,
}

/// `POST /students/{id}/status`
pub async fn change_status(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> PageResult<Response> {
    u.require_writer()?;
    u.check_csrf(Some(&f.csrf))?;
    let s = yimeng_store::student::get(&state.db, &u.scope, id).await?;
    let current = StudentStatus::from_code(&s.status).unwrap_or(StudentStatus::Other);
    let options: Vec<StudentStatus> = StudentStatus::ALL
        .iter()
        .copied()
        .filter(|t| current.can_change_to(*t))
        .collect();
    let reason = yimeng_domain::text::parse_text(&f.reason, 200, true);
    let to = StudentStatus::parse(&f.status);
    let error = match (&to, &reason) {
        (Err(e), _) => Some(format!("异动后状态：{e}")),
        (Ok(t), _) if !current.can_change_to(*t) => Some(format!(
            "学籍状态不能由“{}”直接改为“{}”",
            current.label(),
            t.label()
        )),
        (_, Err(e)) => Some(format!("异动原因：{e}")),
        _ => None,
    };
    if let Some(error) = error {
        let ctx = Ctx::for_user(&u, "/students");
        let page = StatusPage {
            ctx,
            student: s,
            current,
            options,
            error: Some(error),
            reason: f.reason,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let to = to.expect("checked");
    let reason = reason.ok().unwrap_or_default();
    // 休学, 复学, 辍学, 毕业 and 死亡 are requests with the approvals the rules require (issue 5).
    if let Some(change) = status_change_of(&state, to, &reason, f.end.as_deref())? {
        let cal = yimeng_store::calendar::load(&state.db).await?;
        let r = match yimeng_store::status_request::create(
            &state.db,
            &yimeng_store::Acting::new(
                &u.actor(),
                &u.scope,
                &state.rules,
                &cal,
                crate::service::today(),
            ),
            id,
            change,
        )
        .await
        {
            Ok(r) => r,
            Err(
                e @ (yimeng_store::StoreError::Invalid(_)
                | yimeng_store::StoreError::Conflict(_)
                | yimeng_store::StoreError::Forbidden(_)),
            ) => {
                let ctx = Ctx::for_user(&u, "/students");
                let page = StatusPage {
                    ctx,
                    student: s,
                    current,
                    options,
                    error: Some(e.to_string()),
                    reason: f.reason,
                };
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
            }
            Err(e) => return Err(e.into()),
        };
        let msg = if r.state == yimeng_store::transfer::state::COMPLETED {
            format!("已办理{}", r.kind_label())
        } else {
            format!("{}申请已提交，待{}审批", r.kind_label(), "县区教育局")
        };
        return Ok(see_other(&format!("/students/{id}"), Some(&msg)));
    }
    let d = browse::student_detail(&state.db, &u.scope, id).await?;
    if let Some(c) = &d.class
        && let Err(e) = yimeng_domain::status_change::check_transition(current, to, c.grade())
    {
        let ctx = Ctx::for_user(&u, "/students");
        let page = StatusPage {
            ctx,
            student: s,
            current,
            options,
            error: Some(e.to_string()),
            reason: f.reason,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let (_, mut values) = student_values(&state, &u, id).await?;
    values.insert("status".into(), to.label().into());
    save(&state, &u, values, Some(id), Some(reason)).await
}

/// The student list.
#[derive(Template)]
#[template(path = "students.html")]
struct StudentsPage {
    ctx: Ctx,
    page: yimeng_store::browse::Page<yimeng_store::browse::StudentListRow>,
    pager: Pager,
    q: StudentQuery,
    query: Vec<(String, String)>,
    counties: Vec<(i32, String)>,
    narrow: bool,
    context: Option<String>,
}

impl StudentsPage {
    /// Link of an export.
    fn export_link(&self, format: &str) -> String {
        Pager::with("/students", &self.query, "format", format)
    }
}

/// A student's record page.
#[derive(Template)]
#[template(path = "student.html")]
struct StudentPage {
    ctx: Ctx,
    d: yimeng_store::browse::StudentDetail,
    history: Vec<yimeng_store::audit::AuditRow>,
    can_edit: bool,
}

impl StudentPage {
    /// The ID number, in full for roles with the personal-data right, masked otherwise.
    fn id_card(&self) -> String {
        match &self.d.student.id_card {
            Some(v) if self.ctx.personal_data() => v.clone(),
            Some(v) => self.ctx.masked(v),
            None => "—".into(),
        }
    }
    /// The 学籍号, likewise.
    fn student_no(&self) -> String {
        let v = &self.d.student.student_no;
        if self.ctx.personal_data() {
            v.clone()
        } else {
            self.ctx.masked(v)
        }
    }
    /// A guardian's phone, likewise.
    fn phone(&self, p: &Option<String>) -> String {
        match p {
            Some(v) if self.ctx.personal_data() => v.clone(),
            Some(v) if v.len() > 7 => format!("{}****{}", &v[..3], &v[v.len() - 4..]),
            _ => "—".into(),
        }
    }
}

/// The status-change form.
#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    ctx: Ctx,
    student: yimeng_store::student::StudentRow,
    current: yimeng_domain::StudentStatus,
    options: Vec<yimeng_domain::StudentStatus>,
    error: Option<String>,
    reason: String,
}
