//! Pages open to the public (no login): the double-submit CSRF token of the login form, the
//! per-address throttle, and the checks of what a member of the public types.

use crate::app::AppState;
use crate::auth::{self, LOGIN_CSRF_COOKIE, User};
use crate::error::Failure;
use crate::view::Ctx;
use axum::http::{HeaderMap, header};
use axum::response::Response;

/// The context of a page open to the public: the user's when logged in, else an anonymous one
/// with a double-submit CSRF token (the login form's cookie).
pub fn public_ctx(u: &Option<User>, headers: &HeaderMap, path: &str) -> (Ctx, Option<String>) {
    match u {
        Some(u) => (Ctx::for_user(u, path), None),
        None => {
            let token = auth::cookie(headers, LOGIN_CSRF_COOKIE)
                .map(str::to_string)
                .unwrap_or_else(auth::random_token);
            (
                Ctx::anonymous(auth::lang_of(headers), path, token.clone()),
                Some(token),
            )
        }
    }
}

/// Sets the double-submit CSRF cookie that [`public_ctx`] minted for an anonymous visitor.
pub fn with_csrf_cookie(state: &AppState, mut r: Response, token: Option<String>) -> Response {
    if let Some(t) = token {
        let c = auth::set_cookie(
            LOGIN_CSRF_COOKIE,
            &t,
            Some(3600),
            state.config.secure_cookies,
        );
        if let Ok(h) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    r
}

/// Checks the CSRF token of a public form: the session's for a logged-in user, the double-submit
/// cookie otherwise.
pub fn check_public_csrf(
    u: &Option<User>,
    headers: &HeaderMap,
    submitted: &str,
) -> Result<(), Failure> {
    match u {
        Some(u) => u.check_csrf(Some(submitted)),
        None => match auth::cookie(headers, LOGIN_CSRF_COOKIE) {
            Some(c) if !submitted.is_empty() && c == submitted => Ok(()),
            _ => Err(Failure::Forbidden(
                "页面已过期或请求来源无效（CSRF 校验失败），请刷新页面后重试".into(),
            )),
        },
    }
}

/// The public side's throttle: every submission and every failed lookup counts; an address
/// over the login throttle's limit waits.
pub fn throttle(state: &AppState, ip: &Option<String>) -> Result<(), Failure> {
    if state.public_throttle.allowed(ip.as_deref()) {
        Ok(())
    } else {
        Err(Failure::TooMany("提交过于频繁，请 10 分钟后再试".into()))
    }
}

/// A mobile phone number (11 digits starting with 1; spaces and dashes dropped).
pub fn check_phone(p: &str) -> Result<String, String> {
    let p: String = p
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit()) {
        Ok(p)
    } else {
        Err(format!("联系电话“{p}”应为 11 位手机号码"))
    }
}
