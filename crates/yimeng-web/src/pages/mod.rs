//! Server-rendered pages. Every registry page reads through the store with the user's scope.

pub mod account;
// Senior-high unified admission (issue 6).
pub mod admin;
pub mod admission;
pub mod classes;
pub mod dispatch;
// Enrolment applications (issue 5).
pub mod enrolment;
pub mod forms;
pub mod home;
pub mod import;
pub mod plan;
pub mod public;
// Year rollover (issue 5).
pub mod rollover;
pub mod schools;
pub mod search;
pub mod services;
pub mod session;
pub mod staff;
pub mod students;
// 阳光分班 (issue 5).
pub mod sunshine;
pub mod transfer_city;

use crate::error::{Failure, PageResult};
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

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
pub(crate) fn urlencoding(s: &str) -> String {
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
