//! Schools: the list (filter, sort, page, export), the school page, and its form.

use crate::app::AppState;
use crate::auth::{PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::county_choices;
use crate::kit::forms::{self, FormField, FormPage};
use crate::kit::{PER_PAGE, page, page_no, pairs, render, see_other, some, take_flash};
use crate::service::lists;
use crate::view::{Ctx, Pager};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use yimeng_domain::{RegionCode, Role};
use yimeng_io::Table;
use yimeng_store::browse::{self, SchoolFilter};
use yimeng_store::edit::Saved;

/// Query of the school list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SchoolQuery {
    pub county: Option<String>,
    pub school_type: Option<String>,
    pub ownership: Option<String>,
    pub location: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub desc: Option<bool>,
    pub page: Option<i64>,
    pub format: Option<String>,
}

impl SchoolQuery {
    fn filter(&self) -> SchoolFilter {
        SchoolFilter {
            county: some(&self.county).and_then(|c| c.parse().ok()),
            school_type: some(&self.school_type),
            ownership: some(&self.ownership),
            location: some(&self.location),
            q: some(&self.q),
        }
    }
}

/// `GET /schools`
pub async fn list(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<SchoolQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let f = q.filter();
    let sort = q.sort.clone().unwrap_or_else(|| "county".into());
    if let Some(format) = some(&q.format) {
        let format = crate::kit::export::parse_format(&format)?;
        let desc = q.desc.unwrap_or(false);
        return Ok(lists::schools(&state, &u, &f, &sort, desc, format).await?);
    }
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let pg = page_no(q.page);
    let result = browse::schools(
        &state.db,
        &u.scope,
        &state.rules,
        &f,
        browse::SchoolOrder {
            key: &sort,
            desc: q.desc.unwrap_or(false),
        },
        pg,
        PER_PAGE,
    )
    .await?;
    let ctx = Ctx::for_user(&u, "/schools").with_flash(flash);
    let query = pairs(&uri);
    let pager = Pager::new(&ctx, "/schools", &query, &result);
    let counties = county_choices(&u.scope);
    page(
        &SchoolsPage {
            ctx,
            page: result,
            pager,
            q,
            query,
            counties,
        },
        had,
    )
}

/// `GET /schools/{id}`
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let d = state.school_detail(&u.scope, id).await?;
    let history =
        yimeng_store::audit::for_record(&state.db, d.school.county_id, "school", id, 20).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let can_edit = can_edit(&u, d.school.county_id, id);
    let ctx = Ctx::for_user(&u, "/schools").with_flash(flash);
    page(
        &SchoolPage {
            ctx,
            d,
            history,
            can_edit,
        },
        had,
    )
}

fn can_edit(u: &User, county: i32, id: i64) -> bool {
    u.role().can_write_registry() && u.scope.covers_school(RegionCode::from_i32(county), id)
}

/// Fields a school account may not change on its own record (they are the county's to set).
const SCHOOL_LOCKED: &[&str] = &[
    "code",
    "county",
    "school_type",
    "stages",
    "ownership",
    "inclusive",
    "central",
];

fn readonly_for(u: &User, existing: bool) -> Vec<&'static str> {
    match (u.role(), existing) {
        (Role::School, _) => SCHOOL_LOCKED.to_vec(),
        (_, true) => vec!["code", "county"],
        (_, false) => vec!["county"],
    }
}

fn form_page(
    u: &User,
    title: String,
    action: String,
    cancel: String,
    fields: Vec<FormField>,
    general: Vec<String>,
) -> FormPage {
    FormPage {
        ctx: Ctx::for_user(u, "/schools"),
        title,
        action,
        cancel,
        fields,
        general,
        section: "school",
    }
}

/// `GET /schools/new` (county bureaus)
pub async fn new_form(PageUser(u): PageUser) -> PageResult<Response> {
    if !u.role().can_create_schools() {
        return Err(Failure::Forbidden("只有县区教育局可以登记新学校".into()).into());
    }
    let county = u
        .scope
        .counties()
        .first()
        .map(|c| c.name())
        .unwrap_or_default();
    let values = HashMap::from([
        ("county".to_string(), county),
        ("ownership".to_string(), "公办".to_string()),
    ]);
    let fields = forms::fields(Table::Schools, &values, &[], &readonly_for(&u, false), &[]);
    Ok(render(&form_page(
        &u,
        "登记新学校".into(),
        "/schools".into(),
        "/schools".into(),
        fields,
        vec![],
    ))?
    .into_response())
}

/// `POST /schools` (county bureaus)
pub async fn create(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    if !u.role().can_create_schools() {
        return Err(Failure::Forbidden("只有县区教育局可以登记新学校".into()).into());
    }
    let mut values = forms::submitted(&u, form)?;
    // The county is the account's own: a county bureau registers schools of its county.
    values.insert(
        "county".into(),
        u.scope
            .counties()
            .first()
            .map(|c| c.name())
            .unwrap_or_default(),
    );
    save(&state, &u, values, None).await
}

/// `GET /schools/{id}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    u.require_writer()?;
    let s = yimeng_store::school::get(&state.db, &u.scope, id).await?;
    let values = forms::values_from_cells(
        Table::Schools,
        yimeng_io::records::school_cells(&s.to_record()),
    );
    let fields = forms::fields(Table::Schools, &values, &[], &readonly_for(&u, true), &[]);
    Ok(render(&form_page(
        &u,
        format!("编辑：{}", s.name),
        format!("/schools/{id}"),
        format!("/schools/{id}"),
        fields,
        vec![],
    ))?
    .into_response())
}

/// `POST /schools/{id}`
pub async fn update(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    u.require_writer()?;
    let existing = yimeng_store::school::get(&state.db, &u.scope, id).await?;
    let mut values = forms::submitted(&u, form)?;
    // Locked fields keep their stored values whatever the form says.
    let stored = forms::values_from_cells(
        Table::Schools,
        yimeng_io::records::school_cells(&existing.to_record()),
    );
    for k in readonly_for(&u, true) {
        values.insert(k.to_string(), stored.get(k).cloned().unwrap_or_default());
    }
    save(&state, &u, values, Some(id)).await
}

async fn save(
    state: &AppState,
    u: &User,
    values: HashMap<String, String>,
    id: Option<i64>,
) -> PageResult<Response> {
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let parsed = yimeng_io::records::parse_school(&get, &forms::ctx());
    let errors = match parsed {
        Ok(rec) => {
            let name = rec.name.clone();
            match yimeng_store::edit::save_school(&state.db, &u.scope, &u.actor(), rec).await? {
                Saved::Ok(sid) => {
                    return Ok(see_other(
                        &format!("/schools/{sid}"),
                        Some(&format!("已保存：{name}")),
                    ));
                }
                Saved::Invalid(e) => e,
            }
        }
        Err(e) => e,
    };
    let fields = forms::fields(
        Table::Schools,
        &values,
        &errors,
        &readonly_for(u, id.is_some()),
        &[],
    );
    let general = forms::general_errors(Table::Schools, &errors);
    let (title, action, cancel) = match id {
        Some(i) => (
            "编辑学校".to_string(),
            format!("/schools/{i}"),
            format!("/schools/{i}"),
        ),
        None => (
            "登记新学校".to_string(),
            "/schools".into(),
            "/schools".into(),
        ),
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&form_page(u, title, action, cancel, fields, general))?,
    )
        .into_response())
}

/// The school list.
#[derive(Template)]
#[template(path = "schools.html")]
struct SchoolsPage {
    ctx: Ctx,
    page: yimeng_store::browse::Page<yimeng_store::browse::SchoolListRow>,
    pager: Pager,
    q: SchoolQuery,
    query: Vec<(String, String)>,
    counties: Vec<(i32, String)>,
}

impl SchoolsPage {
    /// Link of a sortable column.
    fn sort_link(&self, key: &str) -> String {
        let desc = self.q.sort.as_deref() == Some(key) && !self.q.desc.unwrap_or(false);
        let mut q = self.query.clone();
        q.retain(|(k, _)| k != "desc");
        if desc {
            q.push(("desc".into(), "true".into()));
        }
        Pager::with("/schools", &q, "sort", key)
    }
    /// Link of an export.
    fn export_link(&self, format: &str) -> String {
        Pager::with("/schools", &self.query, "format", format)
    }
}

/// A school's page.
#[derive(Template)]
#[template(path = "school.html")]
struct SchoolPage {
    ctx: Ctx,
    d: std::sync::Arc<yimeng_store::browse::SchoolDetail>,
    history: Vec<yimeng_store::audit::AuditRow>,
    can_edit: bool,
}

impl SchoolPage {
    /// Per-student value of a facility, one decimal.
    fn per_student(&self, v: &Option<i64>) -> String {
        match (v, self.d.on_register()) {
            (Some(v), n) if n > 0 => format!("{:.1}", *v as f64 / n as f64),
            _ => "—".into(),
        }
    }
    /// Equipment value in 元 per student.
    fn equipment_per_student(&self) -> String {
        match (self.d.school.equipment_value_fen, self.d.on_register()) {
            (Some(v), n) if n > 0 => format!("{:.0}", v as f64 / 100.0 / n as f64),
            _ => "—".into(),
        }
    }
    /// Students per full-time teacher.
    fn ratio(&self) -> String {
        self.d
            .students_per_teacher()
            .map(|r| format!("{r:.1}"))
            .unwrap_or_else(|| "—".into())
    }
}
