//! Errors of the web layer: one failure type, shown as a page to people and as
//! `application/problem+json` under `/api`. Internal errors are logged with the request id and
//! never shown.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use yimeng_store::StoreError;

/// What a user is told when a write waited too long for the database's writer.
pub const BUSY_DETAIL: &str = "系统正在写入大批数据，请稍后重试。";

/// Seconds a client is asked to wait before retrying a write refused as busy.
const BUSY_RETRY_AFTER: &str = "30";

/// Seconds a client is asked to wait before retrying a request refused as overloaded.
pub const OVERLOADED_RETRY_AFTER: &str = "10";

/// What went wrong, for people.
#[derive(Debug)]
pub enum Failure {
    /// 401: log in first.
    Unauthorized,
    /// 403: logged in, but not allowed.
    Forbidden(String),
    /// 404: does not exist, or is outside the caller's scope.
    NotFound,
    /// 400/422: the input is wrong.
    BadRequest(String),
    /// 409: conflicts with what is stored.
    Conflict(String),
    /// 413: the upload is too large.
    TooLarge(String),
    /// 429: too many attempts.
    TooMany(String),
    /// 500: logged, not shown.
    Internal(String),
    /// 503: the write waited for the database's single writer (held by a long import) longer
    /// than the busy timeout; nothing is wrong with the request, it can be retried.
    Busy,
    /// 503: the server cannot take this request now (e.g. its upload memory budget is spent);
    /// the reason says so, and the client may retry after [`Failure::retry_after`].
    Overloaded(String),
    /// The account must change its initial password first.
    ChangePassword,
    /// 422 with the problems of each field.
    Fields(Vec<yimeng_domain::FieldError>),
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Failure::Unauthorized => StatusCode::UNAUTHORIZED,
            Failure::Forbidden(_) => StatusCode::FORBIDDEN,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::BadRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::Conflict(_) => StatusCode::CONFLICT,
            Failure::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Failure::Busy | Failure::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Failure::ChangePassword => StatusCode::FORBIDDEN,
            Failure::Fields(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    pub(crate) fn title(&self) -> &'static str {
        match self {
            Failure::Unauthorized => "请先登录",
            Failure::Forbidden(_) => "没有权限",
            Failure::NotFound => "页面或记录不存在",
            Failure::BadRequest(_) => "输入有误",
            Failure::Conflict(_) => "与已有数据冲突",
            Failure::TooLarge(_) => "文件太大",
            Failure::TooMany(_) => "尝试次数过多",
            Failure::Internal(_) => "系统内部错误",
            Failure::Busy | Failure::Overloaded(_) => "系统繁忙",
            Failure::ChangePassword => "请先修改初始密码",
            Failure::Fields(_) => "输入有误",
        }
    }
    pub(crate) fn detail(&self) -> String {
        match self {
            Failure::Unauthorized => "登录已过期或尚未登录。".into(),
            Failure::NotFound => "您要找的页面或记录不存在，或不在您的管辖范围内。".into(),
            Failure::Internal(_) => "操作未能完成，已记录日志。请稍后重试或联系管理员。".into(),
            Failure::Busy => BUSY_DETAIL.into(),
            Failure::ChangePassword => "本账户正在使用管理员设置或重置的密码，须先在“我的账户”页面（/account）修改密码，才能使用其他页面和接口（含 API 令牌）。".into(),
            Failure::Fields(errs) => errs
                .iter()
                .map(|e| format!("{}：{}", e.field, e.reason))
                .collect::<Vec<_>>()
                .join("；"),
            Failure::Forbidden(m)
            | Failure::BadRequest(m)
            | Failure::Conflict(m)
            | Failure::TooLarge(m)
            | Failure::Overloaded(m)
            | Failure::TooMany(m) => m.clone(),
        }
    }
    /// A 503 tells the client when to retry (`Retry-After`, seconds).
    fn retry_after(&self, r: &mut Response) {
        let secs = match self {
            Failure::Busy => BUSY_RETRY_AFTER,
            Failure::Overloaded(_) => OVERLOADED_RETRY_AFTER,
            _ => return,
        };
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static(secs));
    }
    fn log(&self) {
        match self {
            Failure::Internal(m) => tracing::error!(error = %m, "internal error"),
            Failure::Busy => tracing::warn!("write refused: the database writer stayed busy"),
            Failure::Overloaded(m) => tracing::warn!(reason = %m, "request refused: overloaded"),
            _ => {}
        }
    }
}

/// A value that would not turn into JSON: a fault of ours, logged (with the request id, from the
/// request's span) and answered as an internal error rather than an empty body.
impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::Internal(format!("JSON: {e}"))
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Failure::NotFound,
            StoreError::Conflict(m) => Failure::Conflict(m),
            StoreError::Forbidden(m) => Failure::Forbidden(m),
            StoreError::Invalid(m) => Failure::BadRequest(m),
            e if e.is_unique_violation() => Failure::Conflict("记录已存在".into()),
            e if e.is_busy() => Failure::Busy,
            e => Failure::Internal(e.to_string()),
        }
    }
}

impl From<crate::service::ServiceError> for Failure {
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError as S;
        match e {
            S::File(e) => Failure::BadRequest(e.to_string()),
            S::Store(e) => e.into(),
            S::Forbidden(m) => Failure::Forbidden(m),
            S::Internal(m) => Failure::Internal(m),
        }
    }
}

impl From<askama::Error> for Failure {
    fn from(e: askama::Error) -> Self {
        Failure::Internal(format!("template: {e}"))
    }
}

/// An error of a page handler: an HTML page.
#[derive(Debug)]
pub struct AppError(pub Failure);

impl<E: Into<Failure>> From<E> for AppError {
    fn from(e: E) -> Self {
        AppError(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let f = self.0;
        f.log();
        if matches!(f, Failure::Unauthorized) {
            return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
        }
        if matches!(f, Failure::ChangePassword) {
            return (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, "/account?must=1")],
            )
                .into_response();
        }
        let page = crate::view::error_page(f.status().as_u16(), f.title(), &f.detail());
        let mut r = (f.status(), Html(page)).into_response();
        f.retry_after(&mut r);
        r
    }
}

/// An error of an API handler: `application/problem+json` (RFC 9457).
#[derive(Debug)]
pub struct ApiError(pub Failure);

impl<E: Into<Failure>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let f = self.0;
        f.log();
        let mut body = serde_json::json!({
            "type": "about:blank",
            "title": f.title(),
            "status": f.status().as_u16(),
            "detail": f.detail(),
        });
        if let Failure::Fields(errs) = &f {
            body["errors"] = serde_json::json!(errs
                .iter()
                .map(|e| serde_json::json!({"field": e.field, "value": e.value, "reason": e.reason}))
                .collect::<Vec<_>>());
        }
        let mut r = (
            f.status(),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        f.retry_after(&mut r);
        r
    }
}

/// Page result.
pub type PageResult<T> = Result<T, AppError>;
/// API result.
pub type ApiResult<T> = Result<T, ApiError>;

/// Rewrites the framework's own refusals (extractor rejections: plain-text English such as
/// "Failed to deserialize query string") into our error page or problem+json, in Chinese. Our
/// handlers never answer `text/plain`, so a plain client error comes from the framework.
pub async fn humanize_rejections(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let r = next.run(req).await;
    let status = r.status();
    let plain = r
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !status.is_client_error() || !plain {
        return r;
    }
    let (_, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let (status, title, detail) = match status.as_u16() {
        // A path segment that does not parse (`/schools/abc`) names no record.
        400 if text.starts_with("Invalid URL") => (StatusCode::NOT_FOUND, Failure::NotFound.title(), Failure::NotFound.detail()),
        400 if text.contains("query string") => {
            (status, "网址参数有误", format!("网址中的查询参数有误，请从页面上的链接重新进入。（{}）", yimeng_domain::text::preview(&text, 200)))
        }
        405 => (status, "不支持的请求方式", "该地址不支持这种请求方式。".to_string()),
        413 => (status, "内容太大", "提交的内容超过了大小上限。".to_string()),
        415 => (status, "内容类型不受支持", "表单应以 application/x-www-form-urlencoded 或 multipart/form-data 提交，API 请求体应为 application/json。".to_string()),
        422 if api => (status, "请求内容有误", format!("JSON 内容与接口说明不符：{}", yimeng_domain::text::preview(&text, 300))),
        422 => (status, "表单内容有误", "提交的表单缺少字段或格式不对，请刷新页面后重新填写。".to_string()),
        _ => (status, "请求有误", format!("请求未能处理：{}", yimeng_domain::text::preview(&text, 200))),
    };
    if api {
        let body = serde_json::json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail });
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    } else {
        (
            status,
            Html(crate::view::error_page(status.as_u16(), title, &detail)),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked() -> StoreError {
        StoreError::Rows(yimeng_sqlite_rows::Error {
            code: 5,
            message: "database is locked".into(),
        })
    }

    async fn body(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    /// A write that waited past the busy timeout is a 503 in Chinese with a retry hint, as a
    /// page and as problem+json, never a 500 "database is locked".
    #[tokio::test]
    async fn a_busy_writer_is_a_503_in_chinese() {
        let r = ApiError::from(locked()).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], BUSY_RETRY_AFTER);
        let v: serde_json::Value = serde_json::from_str(&body(r).await).unwrap();
        assert_eq!(v["status"], 503);
        assert_eq!(v["detail"], BUSY_DETAIL);
        assert!(!v.to_string().contains("locked"), "{v}");

        let r = AppError::from(locked()).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], BUSY_RETRY_AFTER);
        let page = body(r).await;
        assert!(page.contains("系统正在写入大批数据，请稍后重试"), "{page}");
        assert!(!page.contains("locked"), "{page}");

        // Other database failures stay internal errors.
        let other = StoreError::Rows(yimeng_sqlite_rows::Error {
            code: 11,
            message: "database disk image is malformed".into(),
        });
        assert_eq!(
            ApiError::from(other).into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn a_value_that_will_not_become_json_is_an_internal_error_not_an_empty_body() {
        // A map with non-string keys cannot be a JSON object.
        let map = std::collections::BTreeMap::from([((1, 2), 3)]);
        let e = serde_json::to_value(&map).expect_err("tuple keys are refused");
        let f: Failure = e.into();
        assert!(
            matches!(&f, Failure::Internal(m) if m.starts_with("JSON:")),
            "{f:?}"
        );
        let r = ApiError(f).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
