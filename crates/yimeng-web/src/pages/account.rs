//! My account: password change and personal API tokens (the work is `service::accounts`, shared
//! with the API).

use crate::app::AppState;
use crate::auth::PageUser;
use crate::error::{Failure, PageResult};
use crate::kit::{render, see_other, take_flash};
use crate::service::accounts;
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// `?must=1` after a login with an initial password.
#[derive(Deserialize)]
pub struct AccountQuery {
    must: Option<String>,
}

/// `GET /account`
pub async fn show(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
) -> PageResult<Response> {
    let tokens = accounts::tokens(&state.db, &u).await?;
    let flash = take_flash(&headers);
    let had = flash.is_some();
    let must = q.must.is_some() || u.account.must_change_password;
    let ctx = Ctx::for_user(&u, "/account").with_flash(flash);
    crate::kit::page(
        &AccountPage {
            ctx,
            account: u.account.clone(),
            tokens,
            error: None,
            new_token: None,
            must,
        },
        had,
    )
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    old: String,
    new: String,
    again: String,
}

/// `POST /account/password`
pub async fn change_password(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<PasswordForm>,
) -> PageResult<Response> {
    u.check_csrf(Some(&f.csrf))?;
    match accounts::change_password(&state.db, &u, &f.old, &f.new, &f.again).await {
        Ok(()) => {}
        Err(Failure::Fields(e)) => {
            let error = e.first().map(|e| e.reason.clone());
            let tokens = accounts::tokens(&state.db, &u).await?;
            let ctx = Ctx::for_user(&u, "/account");
            let page = AccountPage {
                ctx,
                account: u.account.clone(),
                tokens,
                error,
                new_token: None,
                must: u.account.must_change_password,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
        Err(e) => return Err(e.into()),
    }
    state.auth_cache.clear();
    Ok(see_other(
        "/account",
        Some("密码已修改；其他设备上的登录已全部退出"),
    ))
}

/// The new-token form.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    name: String,
}

/// `POST /account/tokens`: a new token, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Form(f): Form<TokenForm>,
) -> PageResult<Response> {
    u.check_csrf(Some(&f.csrf))?;
    let result = accounts::create_token(&state.db, &u, &f.name).await;
    let tokens = accounts::tokens(&state.db, &u).await?;
    let ctx = Ctx::for_user(&u, "/account");
    let (error, new_token) = match result {
        Ok((_, token)) => (None, Some(token)),
        Err(Failure::Fields(e)) => (e.first().map(|e| e.reason.clone()), None),
        Err(e) => return Err(e.into()),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = AccountPage {
        ctx,
        account: u.account.clone(),
        tokens,
        error,
        new_token,
        must: false,
    };
    Ok((status, render(&page)?).into_response())
}

/// `POST /account/tokens/{id}/revoke`
pub async fn revoke_token(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<crate::kit::CsrfOnly>,
) -> PageResult<Response> {
    u.check_csrf(Some(&f.csrf))?;
    accounts::revoke_token(&state.db, &u, id).await?;
    state.auth_cache.clear();
    Ok(see_other("/account", Some("令牌已吊销")))
}

/// My account.
#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: Ctx,
    account: yimeng_store::user::UserRow,
    tokens: Vec<yimeng_store::user::TokenRow>,
    error: Option<String>,
    new_token: Option<String>,
    must: bool,
}
