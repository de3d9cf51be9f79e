//! The city administrator's pages: accounts (create, disable, reset, inspectors' schools) and the
//! audit log. The account work is `service::accounts`, shared with the API.

use crate::app::AppState;
use crate::auth::PageUser;
use crate::error::{Failure, PageResult};
use crate::kit::{PER_PAGE, page_no, pairs, render, see_other, some, take_flash};
use crate::service::accounts;
use crate::view::{Ctx, Pager};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// `GET /admin/users`
pub async fn users(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    let list = accounts::list(&state.db, &u).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let ctx = Ctx::for_user(&u, "/admin/users").with_flash(flash);
    crate::kit::page(
        &UsersPage {
            ctx,
            users: list,
            form: NewUserForm::default(),
            error: None,
        },
        had,
    )
}

/// `GET /admin/users/new`: the list with the form open.
pub async fn new_user(
    state: State<AppState>,
    user: PageUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    users(state, user, headers).await
}

/// The new-account form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(rename = "_csrf", default)]
    pub csrf: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub county: String,
    #[serde(default)]
    pub school_code: String,
}

/// `POST /admin/users`
pub async fn create_user(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<NewUserForm>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    let new = accounts::NewAccount {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        role: f.role.clone(),
        county: f.county.clone(),
        school_code: f.school_code.clone(),
    };
    let error = match accounts::create(&state.db, &u, &new).await {
        Ok((created, password)) => {
            let ctx = Ctx::for_user(&u, "/admin/users");
            return Ok(render(&UserPage {
                ctx,
                user: created,
                schools: vec![],
                password: Some(password),
            })?
            .into_response());
        }
        Err(Failure::Fields(e)) => reasons(&e),
        Err(Failure::Conflict(m)) => m,
        Err(e) => return Err(e.into()),
    };
    let list = accounts::list(&state.db, &u).await?;
    let ctx = Ctx::for_user(&u, "/admin/users");
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&UsersPage {
            ctx,
            users: list,
            form: f,
            error: Some(error),
        })?,
    )
        .into_response())
}

fn reasons(e: &[yimeng_domain::FieldError]) -> String {
    e.iter()
        .map(|e| e.reason.clone())
        .collect::<Vec<_>>()
        .join("；")
}

/// `GET /admin/users/{id}`
pub async fn user(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> PageResult<Response> {
    let (account, schools) = accounts::get(&state.db, &u, id).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let ctx = Ctx::for_user(&u, "/admin/users").with_flash(flash);
    crate::kit::page(
        &UserPage {
            ctx,
            user: account,
            schools,
            password: None,
        },
        had,
    )
}

/// `POST /admin/users/{id}/disable`
pub async fn disable(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<crate::kit::CsrfOnly>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    accounts::set_disabled(&state.db, &u, id, true).await?;
    state.auth_cache.clear();
    Ok(see_other(
        &format!("/admin/users/{id}"),
        Some("账户已停用，其登录会话已全部结束"),
    ))
}

/// `POST /admin/users/{id}/enable`
pub async fn enable(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<crate::kit::CsrfOnly>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    accounts::set_disabled(&state.db, &u, id, false).await?;
    state.auth_cache.clear();
    Ok(see_other(&format!("/admin/users/{id}"), Some("账户已启用")))
}

/// `POST /admin/users/{id}/reset`: a new initial password, shown once.
pub async fn reset(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<crate::kit::CsrfOnly>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    let (account, password) = accounts::reset(&state.db, &u, id).await?;
    state.auth_cache.clear();
    let ctx = Ctx::for_user(&u, "/admin/users");
    Ok(render(&UserPage {
        ctx,
        user: account,
        schools: vec![],
        password: Some(password),
    })?
    .into_response())
}

/// The inspector's schools: one 学校标识码 per line.
#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    codes: String,
}

/// `POST /admin/users/{id}/schools`
pub async fn assign(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> PageResult<Response> {
    u.require_admin()?;
    u.check_csrf(Some(&f.csrf))?;
    let n = match accounts::assign_schools(&state.db, &u, id, &[&f.codes]).await {
        Err(Failure::Fields(e)) => return Err(Failure::BadRequest(reasons(&e)).into()),
        r => r?,
    };
    state.auth_cache.clear();
    Ok(see_other(
        &format!("/admin/users/{id}"),
        Some(&format!("已指定 {} 所负责学校", n)),
    ))
}

/// Query of the audit log.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    pub county: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<i64>,
    pub format: Option<String>,
}

/// `GET /admin/audit`
pub async fn audit(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<AuditQuery>,
    uri: Uri,
) -> PageResult<Response> {
    if !u.role().can_read_audit() {
        return Err(Failure::Forbidden("只有市局管理员可以查看操作日志".into()).into());
    }
    let date =
        |s: &Option<String>| some(s).and_then(|d| yimeng_domain::student::parse_date(&d).ok());
    let f = yimeng_store::browse::AuditFilter {
        county: some(&q.county).and_then(|c| c.parse().ok()),
        actor: some(&q.actor),
        action: some(&q.action),
        entity: some(&q.entity),
        from: date(&q.from),
        to: date(&q.to),
    };
    let ctx = Ctx::for_user(&u, "/admin/audit");
    if let Some(format) = some(&q.format) {
        let format = crate::kit::export::parse_format(&format)?;
        return Ok(crate::service::lists::audit(&state, &u, &f, format).await?);
    }
    let result = yimeng_store::browse::audit(&state.db, &f, page_no(q.page), PER_PAGE).await?;
    let query = pairs(&uri);
    let pager = Pager::new(&ctx, "/admin/audit", &query, &result);
    Ok(render(&AuditPage {
        ctx,
        page: result,
        pager,
        q,
        query,
    })?
    .into_response())
}

/// The account list with the new-account form.
#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    ctx: Ctx,
    users: Vec<yimeng_store::user::UserRow>,
    form: NewUserForm,
    error: Option<String>,
}

/// One account.
#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    ctx: Ctx,
    user: yimeng_store::user::UserRow,
    schools: Vec<(i64, String, String)>,
    password: Option<String>,
}

impl UserPage {
    /// The assigned schools' codes, one per line.
    fn codes(&self) -> String {
        self.schools
            .iter()
            .map(|(_, c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The audit log.
#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: Ctx,
    page: yimeng_store::browse::Page<yimeng_store::audit::AuditRow>,
    pager: Pager,
    q: AuditQuery,
    query: Vec<(String, String)>,
}

impl AuditPage {
    /// Link of an export.
    fn export_link(&self, format: &str) -> String {
        Pager::with("/admin/audit", &self.query, "format", format)
    }
}
