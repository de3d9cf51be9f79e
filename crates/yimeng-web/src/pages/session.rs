//! Login, logout, language, health and the not-found page.

use crate::app::AppState;
use crate::auth::{self, LANG_COOKIE, LOGIN_CSRF_COOKIE, MaybeUser, SESSION_COOKIE};
use crate::error::{AppError, Failure, PageResult};
use crate::i18n::Lang;
use crate::kit::CsrfOnly;
use crate::kit::render;
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yimeng_store::Actor;
use yimeng_store::audit::{self, Entry};

/// `GET /login`
pub async fn login_form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Query(q): Query<Next>,
    headers: HeaderMap,
) -> PageResult<Response> {
    let next = q.next.filter(|n| auth::safe_next(n)).unwrap_or_default();
    if user.is_some() {
        return Ok(crate::kit::see_other(
            if next.is_empty() { "/" } else { &next },
            None,
        ));
    }
    login_page(
        &state,
        auth::lang_of(&headers),
        String::new(),
        None,
        StatusCode::OK,
        next,
    )
}

fn login_page(
    state: &AppState,
    lang: Lang,
    username: String,
    error: Option<String>,
    status: StatusCode,
    next: String,
) -> PageResult<Response> {
    let token = auth::random_token();
    let page = LoginPage {
        ctx: Ctx::anonymous(lang, "/login", token.clone()),
        username,
        error,
        next,
    };
    let mut r = (status, render(&page)?).into_response();
    let c = auth::set_cookie(
        LOGIN_CSRF_COOKIE,
        &token,
        Some(3600),
        state.config.secure_cookies,
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        c.parse().map_err(|_| Failure::Internal("cookie".into()))?,
    );
    Ok(r)
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// Where to go afterwards.
    #[serde(default)]
    next: String,
}

/// `POST /login`
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth::ClientIp(ip): auth::ClientIp,
    Form(f): Form<LoginForm>,
) -> PageResult<Response> {
    let lang = auth::lang_of(&headers);
    let username = f.username.trim().to_string();
    let next = if auth::safe_next(&f.next) {
        f.next.clone()
    } else {
        String::new()
    };
    let fail = |msg: &str, status| {
        login_page(
            &state,
            lang,
            username.clone(),
            Some(msg.to_string()),
            status,
            next.clone(),
        )
    };
    match auth::cookie(&headers, LOGIN_CSRF_COOKIE) {
        Some(c) if !f.csrf.is_empty() && c == f.csrf => {}
        _ => {
            return fail(
                "页面已过期，请重新输入用户名和密码。",
                StatusCode::FORBIDDEN,
            );
        }
    }
    if !state.throttle.allowed(ip.as_deref()) {
        return fail(
            "登录尝试过于频繁，请 10 分钟后再试。",
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    // Unknown name, wrong password, locked or disabled account: one answer (same message, same
    // status, one Argon2 check each), so the login form does not tell which accounts exist or
    // which are locked. The reason goes to the audit log only.
    let failed = crate::i18n::t(lang, "login.failed");
    let account = yimeng_store::user::by_username(&state.db, &username).await?;
    let Some(u) = account else {
        let pw = f.password.clone();
        let _ = tokio::task::spawn_blocking(move || auth::verify_password(&pw, &DUMMY_HASH)).await;
        state.throttle.fail(ip.as_deref());
        let actor = Actor {
            name: yimeng_domain::text::preview(&username, 32),
            role: "unknown".into(),
            ip: ip.clone(),
            request_id: None,
        };
        audit::write_now(
            &state.db,
            &actor,
            Entry {
                county_id: audit::CITY_COUNTY_ID,
                action: "login_failed",
                entity: "user",
                entity_id: None,
                summary: "登录失败（用户名不存在）".into(),
                before: None,
                after: None,
            },
        )
        .await?;
        return fail(failed, StatusCode::UNAUTHORIZED);
    };
    let (pw, hash) = (f.password.clone(), u.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    let locked = u
        .locked_until
        .is_some_and(|until| until > chrono::Utc::now());
    if u.disabled || locked {
        state.throttle.fail(ip.as_deref());
        yimeng_store::user::record_refusal(&state.db, &u, ip.clone(), ok).await?;
        return fail(failed, StatusCode::UNAUTHORIZED);
    }
    if !ok {
        state.throttle.fail(ip.as_deref());
        yimeng_store::user::record_failure(&state.db, &u, ip.clone()).await?;
        return fail(failed, StatusCode::UNAUTHORIZED);
    }
    state.throttle.succeed(ip.as_deref());
    // A fresh session id at every login: a cookie planted before login is never promoted.
    let token = auth::random_token();
    let previous = auth::cookie(&headers, SESSION_COOKIE).map(auth::token_hash);
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    yimeng_store::user::start_session(
        &state.db,
        &u,
        &auth::token_hash(&token),
        &auth::random_token(),
        previous.as_deref(),
        ip,
        ua,
    )
    .await?;
    let to = if u.must_change_password {
        "/account?must=1"
    } else if !next.is_empty() {
        next.as_str()
    } else {
        "/"
    };
    let mut r = crate::kit::see_other(to, None);
    let secure = state.config.secure_cookies;
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        auth::set_cookie(SESSION_COOKIE, &token, None, secure)
            .parse()
            .map_err(|_| Failure::Internal("cookie".into()))?,
    );
    h.append(
        header::SET_COOKIE,
        auth::set_cookie(LOGIN_CSRF_COOKIE, "", Some(0), secure)
            .parse()
            .map_err(|_| Failure::Internal("cookie".into()))?,
    );
    Ok(r)
}

/// An Argon2id hash of a random password, checked against when the user name does not exist.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password(&auth::random_token()).unwrap_or_default());

/// `POST /logout`
pub async fn logout(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Form(f): Form<CsrfOnly>,
) -> PageResult<Response> {
    if let Some(u) = user {
        u.check_csrf(Some(&f.csrf))?;
        if let Some(s) = &u.session {
            yimeng_store::user::end_session(&state.db, s).await?;
            state.auth_cache.clear();
        }
        audit::write_now(
            &state.db,
            &u.actor(),
            Entry {
                county_id: u.account.home_county(),
                action: "logout",
                entity: "user",
                entity_id: Some(u.account.id),
                summary: "退出登录".into(),
                before: None,
                after: None,
            },
        )
        .await?;
    }
    let mut r = crate::kit::see_other("/login", None);
    let c = auth::set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies);
    r.headers_mut().append(
        header::SET_COOKIE,
        c.parse().map_err(|_| Failure::Internal("cookie".into()))?,
    );
    Ok(r)
}

/// `?next=`
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `GET /lang/{code}`: switches the interface language and returns to the page.
pub async fn set_lang(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<Next>,
) -> Response {
    let lang = Lang::parse(&code);
    // Only paths of this site: never an absolute or protocol-relative URL.
    let next = q
        .next
        .filter(|n| auth::safe_next(n))
        .unwrap_or_else(|| "/".into());
    let mut r = crate::kit::see_other(&next, None);
    if let Ok(h) = auth::set_cookie(
        LANG_COOKIE,
        lang.code(),
        Some(365 * 86400),
        state.config.secure_cookies,
    )
    .parse()
    {
        r.headers_mut().append(header::SET_COOKIE, h);
    }
    r
}

/// `GET /healthz`: the process is up and the store answers.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match yimeng_store::region::health_check(&state.db).await {
        Ok(_) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ok","store":"ok"}"#,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"status":"error","store":"unavailable"}"#,
            )
                .into_response()
        }
    }
}

/// Anything else: 404 (problem+json under `/api`).
pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        crate::error::ApiError(Failure::NotFound).into_response()
    } else {
        AppError(Failure::NotFound).into_response()
    }
}

/// The login page.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    username: String,
    error: Option<String>,
    /// Where to go after logging in (a path of this site).
    next: String,
}
