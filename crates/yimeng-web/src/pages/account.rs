//! My account: password change and personal API tokens.

use crate::app::AppState;
use crate::auth::{self, PageUser};
use crate::error::{Failure, PageResult};
use crate::kit::{render, see_other, take_flash};
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
    let tokens = yimeng_store::user::tokens(&state.db, u.account.id).await?;
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
    let hash = u.account.password_hash.clone();
    let old = f.old.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&old, &hash))
        .await
        .unwrap_or(false);
    let problem = if !ok {
        Some("原密码不正确".to_string())
    } else if f.new != f.again {
        Some("两次输入的新密码不一致".into())
    } else if f.new == f.old {
        Some("新密码不能与原密码相同".into())
    } else {
        auth::check_password_strength(&f.new).err()
    };
    if let Some(error) = problem {
        let tokens = yimeng_store::user::tokens(&state.db, u.account.id).await?;
        let ctx = Ctx::for_user(&u, "/account");
        let page = AccountPage {
            ctx,
            account: u.account.clone(),
            tokens,
            error: Some(error),
            new_token: None,
            must: u.account.must_change_password,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let new = f.new.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&new))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))??;
    yimeng_store::user::set_password(
        &state.db,
        &u.actor(),
        u.account.id,
        &hash,
        false,
        u.session.as_deref(),
    )
    .await?;
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
    u.require_staff()?;
    let token = format!("ym_{}", auth::random_token());
    let prefix: String = token.chars().take(10).collect();
    let result = yimeng_store::user::create_token(
        &state.db,
        &u.account,
        &f.name,
        &auth::token_hash(&token),
        &prefix,
        &u.actor(),
    )
    .await;
    let tokens = yimeng_store::user::tokens(&state.db, u.account.id).await?;
    let ctx = Ctx::for_user(&u, "/account");
    let (error, new_token) = match result {
        Ok(_) => (None, Some(token)),
        Err(yimeng_store::StoreError::Invalid(m)) => (Some(m), None),
        Err(e) => return Err(Failure::from(e).into()),
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
    yimeng_store::user::revoke_token(&state.db, &u.account, id, &u.actor()).await?;
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
