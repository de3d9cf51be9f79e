//! Staff: the list, the record page and the form.

use crate::app::AppState;
use crate::auth::{PageUser, User};
use crate::error::PageResult;
use crate::kit::forms::{self, FormPage};
use crate::kit::{PER_PAGE, page, page_no, pairs, render, see_other, some, take_flash};
use crate::service::lists;
use crate::service::registry::staff_values;
use crate::view::{Ctx, Pager};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use yimeng_domain::RegionCode;
use yimeng_io::Table;
use yimeng_store::browse::{self, StaffFilter};
use yimeng_store::edit::Saved;

/// Query of the staff list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StaffQuery {
    pub county: Option<String>,
    pub school: Option<String>,
    pub post: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
    pub format: Option<String>,
}

/// `GET /staff`
pub async fn list(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<StaffQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let f = StaffFilter {
        county: some(&q.county).and_then(|c| c.parse().ok()),
        school: some(&q.school).and_then(|c| c.parse().ok()),
        post: some(&q.post),
        status: some(&q.status),
        q: some(&q.q),
    };
    let ctx = Ctx::for_user(&u, "/staff");
    let narrow = lists::staff_is_narrow(&u.scope, &f);
    if let Some(format) = some(&q.format) {
        let format = crate::kit::export::parse_format(&format)?;
        return Ok(lists::staff(&state, &u, &f, format).await?);
    }
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let result = browse::staff(&state.db, &u.scope, &f, page_no(q.page), PER_PAGE).await?;
    let query = pairs(&uri);
    let ctx = ctx.with_flash(flash);
    let pager = Pager::new(&ctx, "/staff", &query, &result);
    let counties = crate::kit::county_choices(&u.scope);
    page(
        &StaffListPage {
            ctx,
            page: result,
            pager,
            q,
            query,
            counties,
            narrow,
        },
        had,
    )
}

/// `GET /staff/{id}`
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let s = yimeng_store::staff::get(&state.db, &u.scope, id).await?;
    let school = yimeng_store::school::get(&state.db, &u.scope, s.school_id).await?;
    let history = yimeng_store::audit::for_record(&state.db, s.county_id, "staff", id, 30).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let can_edit = u.role().can_write_registry()
        && u.scope
            .covers_school(RegionCode::from_i32(s.county_id), s.school_id);
    let ctx = Ctx::for_user(&u, "/staff").with_flash(flash);
    page(
        &StaffPage {
            ctx,
            s,
            school_name: school.name,
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
        ctx: Ctx::for_user(u, "/staff"),
        title,
        action,
        cancel,
        fields,
        general,
        section: "staff",
    }
}

/// `?school=`
#[derive(Deserialize)]
pub struct ForSchool {
    school: Option<i64>,
}

/// `GET /staff/new`
pub async fn new_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(p): Query<ForSchool>,
) -> PageResult<Response> {
    u.require_writer()?;
    let mut values = HashMap::from([
        ("post".to_string(), "专任教师".to_string()),
        ("title".to_string(), "未定级".to_string()),
        ("education".to_string(), "本科".to_string()),
        ("backbone".to_string(), "无".to_string()),
        ("status".to_string(), "在岗".to_string()),
        ("party_member".to_string(), "否".to_string()),
    ]);
    if let Some(sid) = p.school {
        let s = yimeng_store::school::get(&state.db, &u.scope, sid).await?;
        values.insert("school_code".into(), s.code);
    }
    let choices = forms::school_choices(&state, &u).await?;
    let fields = forms::fields(Table::Staff, &values, &[], &[], &choices);
    Ok(render(&form(
        &u,
        "新增教职工".into(),
        "/staff".into(),
        "/staff".into(),
        fields,
        vec![],
    ))?
    .into_response())
}

/// `POST /staff`
pub async fn create(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    u.require_writer()?;
    let values = forms::submitted(&u, f)?;
    save(&state, &u, values, None).await
}

/// `GET /staff/{id}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    u.require_writer()?;
    let (s, values) = staff_values(&state, &u, id).await?;
    let choices = forms::school_choices(&state, &u).await?;
    let fields = forms::fields(Table::Staff, &values, &[], &[], &choices);
    Ok(render(&form(
        &u,
        format!("编辑：{}", s.name),
        format!("/staff/{id}"),
        format!("/staff/{id}"),
        fields,
        vec![],
    ))?
    .into_response())
}

/// `POST /staff/{id}`
pub async fn update(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    u.require_writer()?;
    staff_values(&state, &u, id).await?;
    let values = forms::submitted(&u, f)?;
    save(&state, &u, values, Some(id)).await
}

async fn save(
    state: &AppState,
    u: &User,
    values: HashMap<String, String>,
    id: Option<i64>,
) -> PageResult<Response> {
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let errors = match yimeng_io::records::parse_staff(&get, &forms::ctx()) {
        Ok(rec) => {
            let name = rec.name.clone();
            match yimeng_store::edit::save_staff(&state.db, &u.scope, &u.actor(), rec, id).await? {
                Saved::Ok(sid) => {
                    return Ok(see_other(
                        &format!("/staff/{sid}"),
                        Some(&format!("已保存：{name}")),
                    ));
                }
                Saved::Invalid(e) => e,
            }
        }
        Err(e) => e,
    };
    let choices = forms::school_choices(state, u).await?;
    let fields = forms::fields(Table::Staff, &values, &errors, &[], &choices);
    let general = forms::general_errors(Table::Staff, &errors);
    let (title, action) = match id {
        Some(i) => ("编辑教职工".to_string(), format!("/staff/{i}")),
        None => ("新增教职工".to_string(), "/staff".into()),
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&form(u, title, action.clone(), action, fields, general))?,
    )
        .into_response())
}

/// The staff list.
#[derive(Template)]
#[template(path = "staff_list.html")]
struct StaffListPage {
    ctx: Ctx,
    page: yimeng_store::browse::Page<yimeng_store::browse::StaffListRow>,
    pager: Pager,
    q: StaffQuery,
    query: Vec<(String, String)>,
    counties: Vec<(i32, String)>,
    narrow: bool,
}

impl StaffListPage {
    /// Link of an export.
    fn export_link(&self, format: &str) -> String {
        Pager::with("/staff", &self.query, "format", format)
    }
}

/// A staff member's page.
#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    ctx: Ctx,
    s: yimeng_store::staff::StaffRow,
    school_name: String,
    history: Vec<yimeng_store::audit::AuditRow>,
    can_edit: bool,
}

impl StaffPage {
    /// The ID number, in full for roles with the personal-data right.
    fn id_card(&self) -> String {
        if self.ctx.personal_data() {
            self.s.id_card.clone()
        } else {
            self.ctx.masked(&self.s.id_card)
        }
    }
}
