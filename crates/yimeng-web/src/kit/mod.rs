//! The shared kit of the web crate: what every feature module (its pages and its API handlers)
//! builds on, so that feature modules never depend on each other.
//!
//! - responses: [`render`], [`page`], [`see_other`] with a one-time flash message, query helpers
//!   ([`pairs`], [`some`], [`page_no`], [`PER_PAGE`]), [`urlencoding`];
//! - [`forms`]: record forms built from the import schema (a form is a one-row import);
//! - [`upload`]: multipart fields streamed to disk, multipart forms with their files;
//! - [`export`]: a list's rows as xlsx/csv, audited;
//! - [`attachment`]: a file sent as a download;
//! - [`public`]: pages open to the public (double-submit CSRF, throttle, phone numbers);
//! - the errors ([`Failure`], [`PageResult`], [`ApiResult`]) and the extractors ([`PageUser`],
//!   [`ApiUser`], [`MaybeUser`]) re-exported from where they are defined.

pub mod attachment;
pub mod export;
pub mod forms;
pub mod public;
pub mod upload;

pub use crate::auth::{ApiUser, ClientIp, MaybeUser, PageUser, User};
pub use crate::error::{ApiResult, Failure, PageResult};
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use yimeng_domain::Scope;

/// A form that carries only its CSRF token (logout, delete, confirm buttons).
#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    pub csrf: String,
}

/// The counties of a scope as (code, name), for a list's county filter.
pub fn county_choices(scope: &Scope) -> Vec<(i32, String)> {
    scope
        .counties()
        .into_iter()
        .map(|c| (c.get(), c.name()))
        .collect()
}

/// Renders a template as a page.
pub fn render<T: Template>(t: &T) -> PageResult<Html<String>> {
    Ok(Html(t.render().map_err(Failure::from)?))
}

/// A redirect after a POST (303), optionally carrying a one-time message in a cookie.
pub fn see_other(to: &str, flash: Option<&str>) -> Response {
    let mut r = Redirect::to(to).into_response();
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Some(f) = flash {
        let v = format!(
            "ym_flash={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=60",
            urlencoding(f)
        );
        if let Ok(h) = v.parse() {
            r.headers_mut().append(header::SET_COOKIE, h);
        }
    }
    r
}

/// Takes the one-time message left by [`see_other`] (and clears it).
pub fn take_flash(headers: &axum::http::HeaderMap) -> Option<String> {
    let raw = crate::auth::cookie(headers, "ym_flash")?;
    let s = percent_decode(raw);
    (!s.is_empty()).then_some(s)
}

/// Clears the flash cookie on a response that showed it.
pub fn clear_flash(mut r: Response) -> Response {
    if let Ok(h) = "ym_flash=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0".parse() {
        r.headers_mut().append(header::SET_COOKIE, h);
    }
    r
}

/// Renders a page that may have shown a flash message.
pub fn page<T: Template>(t: &T, had_flash: bool) -> PageResult<Response> {
    let r = render(t)?.into_response();
    Ok(if had_flash { clear_flash(r) } else { r })
}

/// Percent-encodes everything but unreserved characters.
pub fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query string as pairs, to rebuild links.
pub fn pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default()
}

/// A non-empty query value.
pub fn some(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Page number from a query value.
pub fn page_no(v: Option<i64>) -> i64 {
    v.unwrap_or(1).clamp(1, 100_000)
}

/// Parses an optional `YYYY-MM-DD`.
pub fn parse_date(s: &Option<String>) -> Result<Option<chrono::NaiveDate>, Failure> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                Failure::BadRequest(format!(
                    "日期“{}”格式应为 YYYY-MM-DD",
                    yimeng_domain::text::preview(t, 20)
                ))
            }),
    }
}

/// Rows per page.
pub const PER_PAGE: i64 = 50;

#[cfg(test)]
mod tests {
    #[test]
    fn flash_messages_survive_the_cookie_round_trip() {
        let s = "已保存：张三（学籍号 G1）";
        assert_eq!(super::percent_decode(&super::urlencoding(s)), s);
    }
}
