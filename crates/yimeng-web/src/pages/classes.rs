//! Classes: the class-size list (大班额 and others), the class roster, and the class form.

use crate::app::AppState;
use crate::auth::{PageUser, User};
use crate::error::PageResult;
use crate::kit::forms::{self, FormPage};
use crate::kit::{PER_PAGE, page, page_no, pairs, render, see_other, some, take_flash};
use crate::service::lists;
use crate::service::registry::class_values;
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
use yimeng_store::browse::{self, ClassFilter};
use yimeng_store::edit::Saved;

/// Query of the class list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClassQuery {
    pub county: Option<String>,
    pub school: Option<String>,
    pub grade: Option<String>,
    pub min_size: Option<String>,
    pub page: Option<i64>,
    pub format: Option<String>,
}

/// `GET /classes`
pub async fn list(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<ClassQuery>,
    uri: Uri,
) -> PageResult<Response> {
    u.require_staff()?;
    let f = ClassFilter {
        county: some(&q.county).and_then(|c| c.parse().ok()),
        school: some(&q.school).and_then(|c| c.parse().ok()),
        grade: some(&q.grade),
        min_size: some(&q.min_size).and_then(|c| c.parse().ok()),
    };
    let narrow = lists::classes_are_narrow(&u.scope, &f);
    let ctx = Ctx::for_user(&u, "/classes");
    // A list too broad to count shows its filter form only, and exports nothing.
    if let (Some(format), true) = (some(&q.format), narrow) {
        let format = crate::kit::export::parse_format(&format)?;
        return Ok(lists::classes(&state, &u, &f, format).await?);
    }
    let result = if narrow {
        browse::classes(
            &state.db,
            &u.scope,
            &state.rules,
            &f,
            page_no(q.page),
            PER_PAGE,
        )
        .await?
    } else {
        browse::Page {
            items: vec![],
            page: 1,
            per_page: PER_PAGE,
            total: None,
            has_next: false,
        }
    };
    let query = pairs(&uri);
    let pager = Pager::new(&ctx, "/classes", &query, &result);
    let counties = crate::kit::county_choices(&u.scope);
    Ok(render(&ClassesPage {
        ctx,
        page: result,
        pager,
        q,
        query,
        counties,
        narrow,
    })?
    .into_response())
}

/// `GET /classes/{id}`: the roster.
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_staff()?;
    let (class, roster) = browse::roster(&state.db, &u.scope, id).await?;
    let sized = browse::class_size(
        &state.db,
        &state.rules,
        class.county_id,
        class.school_id,
        id,
    )
    .await?;
    let school = yimeng_store::school::get(&state.db, &u.scope, class.school_id).await?;
    let history =
        yimeng_store::audit::for_record(&state.db, class.county_id, "class", id, 20).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let can_edit = u.role().can_write_registry()
        && u.scope
            .covers_school(RegionCode::from_i32(class.county_id), class.school_id);
    let ctx = Ctx::for_user(&u, "/classes").with_flash(flash);
    page(
        &ClassPage {
            ctx,
            class: sized,
            school_name: school.name,
            roster,
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
        ctx: Ctx::for_user(u, "/classes"),
        title,
        action,
        cancel,
        fields,
        general,
        section: "class",
    }
}

/// `?school=`
#[derive(Deserialize)]
pub struct ForSchool {
    school: Option<i64>,
}

/// `GET /classes/new?school=`
pub async fn new_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<ForSchool>,
) -> PageResult<Response> {
    u.require_writer()?;
    let mut values = HashMap::from([(
        "school_year".to_string(),
        yimeng_domain::SchoolYear::containing(crate::service::today()).label(),
    )]);
    if let Some(id) = q.school {
        let s = yimeng_store::school::get(&state.db, &u.scope, id).await?;
        values.insert("school_code".into(), s.code);
    }
    let choices = forms::school_choices(&state, &u).await?;
    let fields = forms::fields(Table::Classes, &values, &[], &[], &choices);
    Ok(render(&form(
        &u,
        "新增班级".into(),
        "/classes".into(),
        "/classes".into(),
        fields,
        vec![],
    ))?
    .into_response())
}

/// `POST /classes`
pub async fn create(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    u.require_writer()?;
    let values = forms::submitted(&u, f)?;
    save(&state, &u, values, None).await
}

/// `GET /classes/{id}/edit`
pub async fn edit_form(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
) -> PageResult<Response> {
    u.require_writer()?;
    let c = yimeng_store::class::get(&state.db, &u.scope, id).await?;
    let values = class_values(&state, &u, &c).await?;
    let fields = forms::fields(Table::Classes, &values, &[], &["school_code"], &[]);
    Ok(render(&form(
        &u,
        format!("编辑：{}", c.name),
        format!("/classes/{id}"),
        format!("/classes/{id}"),
        fields,
        vec![],
    ))?
    .into_response())
}

/// `POST /classes/{id}`
pub async fn update(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult<Response> {
    u.require_writer()?;
    let c = yimeng_store::class::get(&state.db, &u.scope, id).await?;
    let stored = class_values(&state, &u, &c).await?;
    let mut values = forms::submitted(&u, f)?;
    values.insert(
        "school_code".into(),
        stored.get("school_code").cloned().unwrap_or_default(),
    );
    save(&state, &u, values, Some(id)).await
}

async fn save(
    state: &AppState,
    u: &User,
    values: HashMap<String, String>,
    id: Option<i64>,
) -> PageResult<Response> {
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let errors = match yimeng_io::records::parse_class(&get, &forms::ctx()) {
        Ok(rec) => {
            let name = rec.name.clone();
            match yimeng_store::edit::save_class(&state.db, &u.scope, &u.actor(), rec, id).await? {
                Saved::Ok(cid) => {
                    return Ok(see_other(
                        &format!("/classes/{cid}"),
                        Some(&format!("已保存：{name}")),
                    ));
                }
                Saved::Invalid(e) => e,
            }
        }
        Err(e) => e,
    };
    let choices = if id.is_none() {
        forms::school_choices(state, u).await?
    } else {
        vec![]
    };
    let readonly: &[&str] = if id.is_some() { &["school_code"] } else { &[] };
    let fields = forms::fields(Table::Classes, &values, &errors, readonly, &choices);
    let general = forms::general_errors(Table::Classes, &errors);
    let (title, action) = match id {
        Some(i) => ("编辑班级".to_string(), format!("/classes/{i}")),
        None => ("新增班级".to_string(), "/classes".into()),
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&form(u, title, action.clone(), action, fields, general))?,
    )
        .into_response())
}

/// The class-size list.
#[derive(Template)]
#[template(path = "classes.html")]
struct ClassesPage {
    ctx: Ctx,
    page: yimeng_store::browse::Page<yimeng_store::browse::ClassSize>,
    pager: Pager,
    q: ClassQuery,
    query: Vec<(String, String)>,
    counties: Vec<(i32, String)>,
    narrow: bool,
}

impl ClassesPage {
    /// Link of an export.
    fn export_link(&self, format: &str) -> String {
        Pager::with("/classes", &self.query, "format", format)
    }
}

/// A class and its roster.
#[derive(Template)]
#[template(path = "class.html")]
struct ClassPage {
    ctx: Ctx,
    class: yimeng_store::browse::ClassSize,
    school_name: String,
    roster: Vec<yimeng_store::browse::StudentListRow>,
    history: Vec<yimeng_store::audit::AuditRow>,
    can_edit: bool,
}
