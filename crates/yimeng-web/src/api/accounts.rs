//! `/api/v1/users` and `/api/v1/account`: accounts as the administrator's pages (`/admin/users`)
//! and the account page (`/account`) run them — list, create (an initial password, shown once),
//! disable, enable, reset (a new initial password), an inspector's schools; one's own password and
//! personal API tokens — through the same service (`service::accounts`), each change audited and
//! effective at once. The audit log is `/api/v1/audit`. An account that must change its initial
//! password reaches only `POST /api/v1/account/password` (`auth::require_password_changed`).

use crate::api::Problem;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::service::accounts::{self as svc, NewAccount};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use yimeng_store::user::{TokenRow, UserRow};

/// The accounts part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_users,
        create_user,
        get_user,
        disable_user,
        enable_user,
        reset_user,
        assign_schools,
        list_tokens,
        create_token,
        revoke_token,
        change_password
    ),
    components(schemas(
        Account,
        AccountList,
        AccountDetail,
        AssignedSchool,
        NewUserBody,
        Created,
        SchoolsBody,
        Assigned,
        Token,
        TokenList,
        NewTokenBody,
        NewToken,
        PasswordBody,
        Changed
    ))
)]
pub struct AccountsApi;

/// The account routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user))
        .route("/api/v1/users/{id}/disable", post(disable_user))
        .route("/api/v1/users/{id}/enable", post(enable_user))
        .route("/api/v1/users/{id}/reset", post(reset_user))
        .route("/api/v1/users/{id}/schools", post(assign_schools))
        .route(
            "/api/v1/account/tokens",
            get(list_tokens).post(create_token),
        )
        .route("/api/v1/account/tokens/{id}", delete(revoke_token))
        .route("/api/v1/account/password", post(change_password))
}

/// An account (never its password).
#[derive(Serialize, ToSchema)]
pub struct Account {
    /// Id.
    id: i64,
    /// Login name.
    username: String,
    /// Name shown.
    display_name: String,
    /// city_admin | city_dept | county | school | inspector | public
    role: String,
    /// County code (county, school and inspector accounts).
    county_id: Option<i32>,
    /// School id (school accounts).
    school_id: Option<i64>,
    /// 科室 code (city departments).
    department: Option<String>,
    /// Disabled: cannot log in.
    disabled: bool,
    /// Must change the initial password before anything else.
    must_change_password: bool,
    /// Locked after failed logins until.
    locked_until: Option<DateTime<Utc>>,
    /// Last login.
    last_login_at: Option<DateTime<Utc>>,
    /// Created.
    created_at: DateTime<Utc>,
}

impl From<UserRow> for Account {
    fn from(u: UserRow) -> Self {
        Account {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            county_id: u.county_id,
            school_id: u.school_id,
            department: u.department,
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            locked_until: u.locked_until,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
        }
    }
}

/// Every account.
#[derive(Serialize, ToSchema)]
pub struct AccountList {
    /// Accounts.
    items: Vec<Account>,
}

/// Every account (city administrator).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = AccountList), (status = 403, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<Json<AccountList>> {
    let items = svc::list(&state.db, &u).await?;
    Ok(Json(AccountList {
        items: items.into_iter().map(Account::from).collect(),
    }))
}

/// A new account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// Login name: 3 to 32 letters, digits, `_`, `.` or `-`.
    #[schema(example = "lanshan_xx")]
    username: String,
    /// Name shown (at most 50 characters).
    #[schema(example = "兰山区学校管理员")]
    display_name: String,
    /// city_admin | city_dept | county | school | inspector | public (or the Chinese name).
    #[schema(example = "school")]
    role: String,
    /// County code or name (county, school and inspector accounts).
    #[serde(default)]
    #[schema(example = "371302")]
    county: Option<String>,
    /// 学校标识码 (school accounts).
    #[serde(default)]
    school_code: Option<String>,
}

/// An account with its initial password (shown this once).
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// The account.
    user: Account,
    /// The initial password; it must be changed at the first login.
    initial_password: String,
}

/// Creates an account with an initial password (city administrator). 422 for a bad field
/// (named, in Chinese), 409 for a login name that is taken.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUserBody, responses((status = 201, body = Created), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Json(b): Json<NewUserBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let new = NewAccount {
        username: b.username,
        display_name: b.display_name,
        role: b.role,
        county: b.county.unwrap_or_default(),
        school_code: b.school_code.unwrap_or_default(),
    };
    let (user, password) = svc::create(&state.db, &u, &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            user: user.into(),
            initial_password: password,
        }),
    ))
}

/// An inspector's school.
#[derive(Serialize, ToSchema)]
pub struct AssignedSchool {
    /// School id.
    id: i64,
    /// 学校标识码.
    code: String,
    /// Name.
    name: String,
}

/// An account and its assigned schools.
#[derive(Serialize, ToSchema)]
pub struct AccountDetail {
    /// The account.
    user: Account,
    /// An inspector's schools.
    schools: Vec<AssignedSchool>,
}

/// One account with an inspector's schools (city administrator).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "admin", params(("id" = i64, Path, description = "账户 id")), responses((status = 200, body = AccountDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_user(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<AccountDetail>> {
    let (user, schools) = svc::get(&state.db, &u, id).await?;
    Ok(Json(AccountDetail {
        user: user.into(),
        schools: schools
            .into_iter()
            .map(|(id, code, name)| AssignedSchool { id, code, name })
            .collect(),
    }))
}

/// Disables an account and ends its sessions and token use (city administrator); one's own
/// cannot be disabled (422).
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "admin", params(("id" = i64, Path, description = "账户 id")), responses((status = 200, body = Account), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn disable_user(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Account>> {
    let user = svc::set_disabled(&state.db, &u, id, true).await?;
    state.auth_cache.clear();
    Ok(Json(user.into()))
}

/// Enables a disabled account (city administrator).
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "admin", params(("id" = i64, Path, description = "账户 id")), responses((status = 200, body = Account), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn enable_user(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Account>> {
    let user = svc::set_disabled(&state.db, &u, id, false).await?;
    state.auth_cache.clear();
    Ok(Json(user.into()))
}

/// A new initial password for an account (shown this once); its sessions and tokens end and it
/// must change the password at its next login (city administrator).
#[utoipa::path(post, path = "/api/v1/users/{id}/reset", tag = "admin", params(("id" = i64, Path, description = "账户 id")), responses((status = 200, body = Created), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn reset_user(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Created>> {
    let (user, password) = svc::reset(&state.db, &u, id).await?;
    state.auth_cache.clear();
    Ok(Json(Created {
        user: user.into(),
        initial_password: password,
    }))
}

/// An inspector's schools.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchoolsBody {
    /// 学校标识码, all of the inspector's schools (an empty list removes them all).
    #[schema(example = json!(["3713020001"]))]
    codes: Vec<String>,
}

/// How many schools were assigned.
#[derive(Serialize, ToSchema)]
pub struct Assigned {
    /// Schools assigned.
    assigned: usize,
}

/// Sets an inspector's schools (city administrator): one malformed or unknown 学校标识码
/// refuses the whole list (422, naming each).
#[utoipa::path(post, path = "/api/v1/users/{id}/schools", tag = "admin", params(("id" = i64, Path, description = "账户 id")), request_body = SchoolsBody, responses((status = 200, body = Assigned), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn assign_schools(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
    Json(b): Json<SchoolsBody>,
) -> ApiResult<Json<Assigned>> {
    let assigned = svc::assign_schools(&state.db, &u, id, &b.codes).await?;
    state.auth_cache.clear();
    Ok(Json(Assigned { assigned }))
}

/// A personal API token (never the token itself).
#[derive(Serialize, ToSchema)]
pub struct Token {
    /// Id.
    id: i64,
    /// Name.
    name: String,
    /// The token's first characters.
    prefix: String,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last used.
    last_used_at: Option<DateTime<Utc>>,
    /// Revoked.
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for Token {
    fn from(t: TokenRow) -> Self {
        Token {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// The caller's tokens.
#[derive(Serialize, ToSchema)]
pub struct TokenList {
    /// Tokens, newest first.
    items: Vec<Token>,
}

/// The caller's own API tokens, newest first.
#[utoipa::path(get, path = "/api/v1/account/tokens", tag = "account", responses((status = 200, body = TokenList)))]
async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> ApiResult<Json<TokenList>> {
    let items = svc::tokens(&state.db, &u).await?;
    Ok(Json(TokenList {
        items: items.into_iter().map(Token::from).collect(),
    }))
}

/// A new token's name.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// Name (at most 50 characters), e.g. the script that uses it.
    #[schema(example = "学籍同步脚本")]
    name: String,
}

/// A new token, shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewToken {
    /// Id (to revoke it).
    id: i64,
    /// The token: send it as `Authorization: Bearer <token>`.
    token: String,
}

/// Makes a personal API token of the caller (not the public). 422 for a missing or long name.
#[utoipa::path(post, path = "/api/v1/account/tokens", tag = "account", request_body = NewTokenBody, responses((status = 201, body = NewToken), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_token(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Json(b): Json<NewTokenBody>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    let (id, token) = svc::create_token(&state.db, &u, &b.name).await?;
    Ok((StatusCode::CREATED, Json(NewToken { id, token })))
}

/// Revokes one of the caller's tokens (404 for another's, an unknown or a revoked one).
#[utoipa::path(delete, path = "/api/v1/account/tokens/{id}", tag = "account", params(("id" = i64, Path, description = "令牌 id")), responses((status = 204, description = "已吊销"), (status = 404, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    svc::revoke_token(&state.db, &u, id).await?;
    state.auth_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The current password.
    old: String,
    /// The new password: at least 8 characters, letters and digits.
    new: String,
    /// The new password again.
    again: String,
}

/// What a password change did.
#[derive(Serialize, ToSchema)]
pub struct Changed {
    /// What was done, in Chinese.
    message: String,
}

/// Changes the caller's own password. Every other session and every API token of the account
/// ends (including the token of this request). 422 names the field: a wrong current password,
/// a repeat that differs, or a new one too weak or equal to the old.
#[utoipa::path(post, path = "/api/v1/account/password", tag = "account", request_body = PasswordBody, responses((status = 200, body = Changed), (status = 422, body = Problem)))]
async fn change_password(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Json(b): Json<PasswordBody>,
) -> ApiResult<Json<Changed>> {
    svc::change_password(&state.db, &u, &b.old, &b.new, &b.again).await?;
    state.auth_cache.clear();
    Ok(Json(Changed {
        message: "密码已修改；其他设备上的登录和 API 令牌已全部失效".into(),
    }))
}
