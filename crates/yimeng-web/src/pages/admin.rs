//! The city administrator's pages: accounts (create, disable, reset, inspectors' schools) and the
//! audit log.

use crate::app::AppState;
use crate::auth::{self, PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::{PER_PAGE, page_no, pairs, render, see_other, some, take_flash};
use crate::view::{Ctx, Pager};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yimeng_domain::{RegionCode, Role, SchoolCode, SchoolRef};
use yimeng_store::user::NewUser;

/// `GET /admin/users`
pub async fn users(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_admin()?;
    let list = yimeng_store::user::list(&state.db).await?;
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
    let fail = |state: &AppState, u: &User, f: NewUserForm, msg: String| {
        let state = state.clone();
        let u = u.clone();
        async move {
            let list = yimeng_store::user::list(&state.db).await?;
            let ctx = Ctx::for_user(&u, "/admin/users");
            Ok::<Response, crate::error::AppError>(
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render(&UsersPage {
                        ctx,
                        users: list,
                        form: f,
                        error: Some(msg),
                    })?,
                )
                    .into_response(),
            )
        }
    };
    let role = match Role::parse(&f.role) {
        Ok(r) => r,
        Err(e) => return fail(&state, &u, f, format!("角色：{e}")).await,
    };
    let county = match some(&Some(f.county.clone())) {
        Some(c) => match RegionCode::parse_linyi_county(&c) {
            Ok(c) => Some(c),
            Err(e) => return fail(&state, &u, f, format!("县区：{e}")).await,
        },
        None => None,
    };
    let school_id = match some(&Some(f.school_code.clone())) {
        Some(code) => {
            let parsed = match SchoolCode::parse(&code) {
                Ok(c) => c,
                Err(e) => return fail(&state, &u, f, format!("学校标识码：{e}")).await,
            };
            match yimeng_store::school::get_by_code(&state.db, &u.scope, &parsed).await {
                Ok(s) if county.is_none_or(|c| c.get() == s.county_id) => Some((s.id, s.county_id)),
                Ok(_) => return fail(&state, &u, f, "学校不属于所选县区".into()).await,
                Err(_) => return fail(&state, &u, f, format!("学校标识码 {code} 不存在")).await,
            }
        }
        None => None,
    };
    let county = county.or(school_id.map(|(_, c)| RegionCode::from_i32(c)));
    let display = yimeng_domain::text::parse_text(&f.display_name, 50, true);
    let display = match display {
        Ok(d) => d,
        Err(e) => return fail(&state, &u, f, format!("姓名：{e}")).await,
    };
    let password = auth::initial_password();
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&pw))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))??;
    let new = NewUser {
        username: f.username.trim().to_string(),
        display_name: display,
        password_hash: hash,
        role,
        county,
        school_id: school_id.map(|(s, _)| s),
        must_change_password: true,
        department: None,
    };
    match yimeng_store::user::create(&state.db, &u.actor(), new).await {
        Ok(created) => {
            let ctx = Ctx::for_user(&u, "/admin/users");
            let schools = vec![];
            Ok(render(&UserPage {
                ctx,
                user: created,
                schools,
                password: Some(password),
            })?
            .into_response())
        }
        Err(yimeng_store::StoreError::Invalid(m) | yimeng_store::StoreError::Conflict(m)) => {
            fail(&state, &u, f, m).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// `GET /admin/users/{id}`
pub async fn user(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> PageResult<Response> {
    u.require_admin()?;
    let account = yimeng_store::user::get(&state.db, id).await?;
    let refs = yimeng_store::user::assigned_schools(&state.db, id).await?;
    let mut schools = Vec::new();
    for r in refs {
        if let Ok(s) = yimeng_store::school::get(&state.db, &u.scope, r.id).await {
            schools.push((s.id, s.code, s.name));
        }
    }
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
    if id == u.account.id {
        return Err(Failure::BadRequest("不能停用自己的账户".into()).into());
    }
    yimeng_store::user::set_disabled(&state.db, &u.actor(), id, true).await?;
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
    yimeng_store::user::set_disabled(&state.db, &u.actor(), id, false).await?;
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
    let account = yimeng_store::user::get(&state.db, id).await?;
    let password = auth::initial_password();
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&pw))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))??;
    yimeng_store::user::set_password(&state.db, &u.actor(), id, &hash, true, None).await?;
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
    let mut refs = Vec::new();
    let mut bad = Vec::new();
    for line in f
        .codes
        .split(['\n', ',', '，', ' ', '、'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match SchoolCode::parse(line) {
            Ok(code) => match yimeng_store::school::get_by_code(&state.db, &u.scope, &code).await {
                Ok(s) => refs.push(SchoolRef {
                    county: RegionCode::from_i32(s.county_id),
                    id: s.id,
                }),
                Err(_) => bad.push(format!("{line}（不存在）")),
            },
            Err(e) => bad.push(format!("{}（{e}）", yimeng_domain::text::preview(line, 20))),
        }
    }
    if !bad.is_empty() {
        return Err(Failure::BadRequest(format!(
            "以下学校标识码有误，未作调整：{}",
            bad.join("、")
        ))
        .into());
    }
    refs.sort_by_key(|r| (r.county, r.id));
    refs.dedup();
    yimeng_store::user::assign_schools(&state.db, &u.actor(), id, &refs).await?;
    state.auth_cache.clear();
    Ok(see_other(
        &format!("/admin/users/{id}"),
        Some(&format!("已指定 {} 所负责学校", refs.len())),
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
        let all = yimeng_store::browse::audit(&state.db, &f, 1, 200_000).await?;
        let headers = [
            "时间",
            "县区",
            "操作人",
            "角色",
            "来源地址",
            "操作",
            "对象",
            "记录号",
            "内容",
            "修改前",
            "修改后",
        ];
        let rows = all.items.iter().map(|a| {
            use yimeng_io::Cell;
            vec![
                Cell::Text(ctx.time(a.at)),
                Cell::Text(ctx.county(a.county_id)),
                Cell::text(&a.actor),
                Cell::text(&a.actor_role),
                Cell::Text(a.ip.clone().unwrap_or_default()),
                Cell::text(&a.action),
                Cell::text(&a.entity),
                a.entity_id.map(Cell::Int).unwrap_or(Cell::Empty),
                Cell::text(&a.summary),
                Cell::Text(a.before_json.clone().unwrap_or_default()),
                Cell::Text(a.after_json.clone().unwrap_or_default()),
            ]
        });
        return crate::kit::export::download(
            &state,
            &u,
            "操作日志",
            &headers,
            rows,
            &format,
            "audit_log",
        )
        .await;
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
