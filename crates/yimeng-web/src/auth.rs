//! Who is asking: cookie sessions (HttpOnly, SameSite=Lax, stored hashed in the database, a new
//! id at every login), personal API tokens, CSRF tokens, password hashing (Argon2id) and login
//! throttling. The [`Scope`] of every request comes from here and nowhere else.

use crate::app::AppState;
use crate::error::{ApiError, AppError, Failure};
use crate::i18n::Lang;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use yimeng_domain::{Role, Scope};
use yimeng_store::Actor;
use yimeng_store::user::UserRow;

/// The session cookie.
pub const SESSION_COOKIE: &str = "ym_session";
/// The pre-login CSRF cookie (double submit on the login form).
pub const LOGIN_CSRF_COOKIE: &str = "ym_login";
/// The language cookie.
pub const LANG_COOKIE: &str = "ym_lang";

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("operating system random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// SHA-256 of a token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password (Argon2id, default parameters: 19 MiB, 2 passes). CPU-heavy: call from
/// `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, Failure> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Failure::Internal(format!("hash: {e}")))
}

/// Checks a password against a stored hash. CPU-heavy: call from `spawn_blocking`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A random first password (11 characters, letters and a digit, no look-alike characters), for
/// new accounts and administrator resets; the holder must change it at first login.
pub fn initial_password() -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut b = [0u8; 10];
    getrandom::fill(&mut b).expect("operating system random source");
    let mut s: String = b.iter().map(|x| A[*x as usize % A.len()] as char).collect();
    s.push('7');
    s
}

/// Password rule: at least 8 characters, with letters and digits.
pub fn check_password_strength(pw: &str) -> Result<(), String> {
    if pw.chars().count() < 8 {
        return Err("密码至少 8 位".into());
    }
    if !pw.chars().any(|c| c.is_ascii_alphabetic()) || !pw.chars().any(|c| c.is_ascii_digit()) {
        return Err("密码须同时包含字母和数字".into());
    }
    Ok(())
}

/// Reads one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// A `Set-Cookie` value.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Whether `next` is a path of this site (never an absolute or protocol-relative URL).
pub fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
}

/// The client's address (the socket's, or the first `X-Forwarded-For` hop when configured behind
/// a proxy).
pub fn client_ip(parts: &Parts, trust_proxy: bool) -> Option<String> {
    if trust_proxy
        && let Some(f) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
    {
        return f.split(',').next().map(|s| s.trim().to_string());
    }
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// The language of a request: its cookie, else Chinese.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .map(Lang::parse)
        .unwrap_or_default()
}

/// The client's address as an extractor (socket, or the proxy's `X-Forwarded-For` when trusted).
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state.config.trust_proxy)))
    }
}

/// An authenticated person with the scope of their role.
#[derive(Debug, Clone)]
pub struct User {
    /// The account.
    pub account: UserRow,
    /// What they may see.
    pub scope: Scope,
    /// The session's CSRF token (none for API tokens).
    pub csrf: Option<String>,
    /// Hash of the session token (none for API tokens).
    pub session: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Interface language.
    pub lang: Lang,
}

impl User {
    /// The role.
    pub fn role(&self) -> Role {
        self.account.role()
    }
    /// The actor for audit rows.
    pub fn actor(&self) -> Actor {
        self.account.actor(self.ip.clone(), self.request_id.clone())
    }
    /// Refuses unless the role may change registry data.
    pub fn require_writer(&self) -> Result<(), Failure> {
        if self.role().can_write_registry() {
            Ok(())
        } else {
            Err(Failure::Forbidden(format!(
                "{}账户只能查看，不能修改学籍和学校数据",
                self.role().label()
            )))
        }
    }
    /// Refuses unless the role is the city administrator.
    pub fn require_admin(&self) -> Result<(), Failure> {
        if self.role().can_manage_users() {
            Ok(())
        } else {
            Err(Failure::Forbidden("只有市局管理员可以进行此操作".into()))
        }
    }
    /// Refuses requests from the public.
    pub fn require_staff(&self) -> Result<(), Failure> {
        if self.role() == Role::Public {
            Err(Failure::Forbidden("公众账户只能使用公众服务".into()))
        } else {
            Ok(())
        }
    }
    /// Checks a submitted CSRF token (cookie sessions only; API tokens carry no ambient authority).
    pub fn check_csrf(&self, submitted: Option<&str>) -> Result<(), Failure> {
        match &self.csrf {
            None => Ok(()),
            Some(expected)
                if submitted
                    .is_some_and(|s| constant_time_eq(s.as_bytes(), expected.as_bytes())) =>
            {
                Ok(())
            }
            Some(_) => Err(Failure::Forbidden(
                "页面已过期或请求来源无效（CSRF 校验失败），请刷新页面后重试".into(),
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The person [`require_password_changed`] already resolved for this request, so the handler's
/// extractor does not look them up a second time.
#[derive(Clone)]
struct Authenticated(Option<User>);

/// Resolves the person behind a request: a session cookie, or `Authorization: Bearer <token>`.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<User>, Failure> {
    if let Some(Authenticated(u)) = parts.extensions.get::<Authenticated>() {
        return Ok(u.clone());
    }
    let ip = client_ip(parts, state.config.trust_proxy);
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let lang = lang_of(&parts.headers);
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|a| a.strip_prefix("Bearer ").map(str::trim));
    let (key, is_token) = match bearer {
        Some(None) => return Ok(None),
        Some(Some(token)) => (token_hash(token), true),
        None => match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => (token_hash(token), false),
            None => return Ok(None),
        },
    };
    let cached = match state.auth_cache.get(&key) {
        Some(c) => Some(c),
        None if is_token => match yimeng_store::user::token_user(&state.db, &key).await? {
            Some(account) => {
                let scope = yimeng_store::user::scope_of(&state.db, &account).await?;
                Some(state.auth_cache.put(
                    &key,
                    CachedAuth {
                        account,
                        scope,
                        csrf: None,
                        expires_at: None,
                    },
                ))
            }
            None => None,
        },
        None => match yimeng_store::user::session(&state.db, &key).await? {
            Some((session, account)) => {
                let scope = yimeng_store::user::scope_of(&state.db, &account).await?;
                Some(state.auth_cache.put(
                    &key,
                    CachedAuth {
                        account,
                        scope,
                        csrf: Some(session.csrf_token),
                        expires_at: Some(session.expires_at),
                    },
                ))
            }
            None => None,
        },
    };
    Ok(cached.map(|c| User {
        account: c.account,
        scope: c.scope,
        csrf: c.csrf,
        session: (!is_token).then_some(key),
        ip,
        request_id,
        lang,
    }))
}

/// An authenticated session or token as the cache keeps it.
#[derive(Debug, Clone)]
pub struct CachedAuth {
    /// The account.
    pub account: UserRow,
    /// Its scope.
    pub scope: Scope,
    /// The session's CSRF token (none for API tokens).
    pub csrf: Option<String>,
    /// When the session ends at the latest.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Sessions and tokens authenticated in the last [`AuthCache::TTL`]: the requests of one page view
/// need no account queries. Every account change made through this server clears it at once;
/// changes made by another process (the `yimeng user` command, a second server on the same
/// PostgreSQL) take effect within the TTL.
#[derive(Default)]
pub struct AuthCache {
    map: Mutex<HashMap<String, (Instant, CachedAuth)>>,
}

impl AuthCache {
    /// How long an entry is trusted.
    pub const TTL: Duration = Duration::from_secs(10);

    fn get(&self, key: &str) -> Option<CachedAuth> {
        let map = self.map.lock().expect("auth cache lock");
        let (at, c) = map.get(key)?;
        let live = at.elapsed() < Self::TTL && c.expires_at.is_none_or(|e| e > chrono::Utc::now());
        live.then(|| c.clone())
    }

    fn put(&self, key: &str, c: CachedAuth) -> CachedAuth {
        let mut map = self.map.lock().expect("auth cache lock");
        if map.len() > 10_000 {
            map.retain(|_, (at, _)| at.elapsed() < Self::TTL);
        }
        map.insert(key.to_string(), (Instant::now(), c.clone()));
        c
    }

    /// Forgets everything: call after any change to accounts, sessions, tokens or assignments.
    pub fn clear(&self) {
        self.map.lock().expect("auth cache lock").clear();
    }
}

/// A logged-in person for a page; anyone else is sent to the login page.
pub struct PageUser(pub User);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = axum::response::Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let found = authenticate(parts, state)
            .await
            .map_err(|e| AppError(e).into_response())?;
        let Some(u) = found else {
            // Back to the page asked for after logging in (GET only: a form post is not replayed).
            let to = match parts.uri.path_and_query() {
                Some(pq) if parts.method == Method::GET && pq.as_str() != "/" => {
                    format!("/login?next={}", crate::kit::urlencoding(pq.as_str()))
                }
                _ => "/login".to_string(),
            };
            return Err(
                (axum::http::StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response(),
            );
        };
        Ok(PageUser(u))
    }
}

/// What an account that must change its password may still reach: the account page and its
/// password form (and the API's), logout, login, the language switch, health and static assets.
fn open_before_password_change(method: &Method, path: &str) -> bool {
    let read = matches!(*method, Method::GET | Method::HEAD);
    (read && path == "/account")
        || (*method == Method::POST
            && matches!(
                path,
                "/account/password" | "/api/v1/account/password" | "/logout"
            ))
        || path == "/login"
        || path == "/healthz"
        || path.starts_with("/lang/")
        || path.starts_with("/static/")
}

/// Enforces a forced password change on every route at once — pages (GET and POST), the whole
/// `/api/v1` (session or API token) and token creation — except those
/// [`open_before_password_change`] lists. Pages are sent to the account page; the API answers a
/// problem+json 403 naming it. The resolved person is kept for the handler's extractor.
pub async fn require_password_changed(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if open_before_password_change(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    let (mut parts, body) = req.into_parts();
    let found = match authenticate(&parts, &state).await {
        Ok(found) => found,
        Err(e) if api => return ApiError(e).into_response(),
        Err(e) => return AppError(e).into_response(),
    };
    if found
        .as_ref()
        .is_some_and(|u| u.account.must_change_password)
    {
        return if api {
            ApiError(Failure::ChangePassword).into_response()
        } else {
            AppError(Failure::ChangePassword).into_response()
        };
    }
    parts.extensions.insert(Authenticated(found));
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// A person for a page that also serves the public (the person may be absent).
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(MaybeUser(authenticate(parts, state).await?))
    }
}

/// An authenticated caller of `/api/v1`. Calls made with a session cookie (from our own pages)
/// must carry the session's CSRF token in `X-CSRF-Token` unless they only read.
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let u = authenticate(parts, state)
            .await?
            .ok_or(ApiError(Failure::Unauthorized))?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let submitted = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            u.check_csrf(submitted)?;
        }
        Ok(ApiUser(u))
    }
}

/// Counts failed logins per address: more than [`Throttle::MAX`] in [`Throttle::WINDOW`] and
/// the address must wait. (Per-account lockout lives in the store.)
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Throttle {
    /// Failures allowed per window.
    pub const MAX: u32 = 20;
    /// The window.
    pub const WINDOW: Duration = Duration::from_secs(600);

    /// Whether an address may try now.
    pub fn allowed(&self, ip: Option<&str>) -> bool {
        let Some(ip) = ip.and_then(|s| s.parse::<IpAddr>().ok()) else {
            return true;
        };
        let map = self.failures.lock().expect("throttle lock");
        map.get(&ip)
            .is_none_or(|(n, since)| since.elapsed() > Self::WINDOW || *n < Self::MAX)
    }
    /// Records a failure.
    pub fn fail(&self, ip: Option<&str>) {
        let Some(ip) = ip.and_then(|s| s.parse::<IpAddr>().ok()) else {
            return;
        };
        let mut map = self.failures.lock().expect("throttle lock");
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
        }
        let e = map.entry(ip).or_insert((0, Instant::now()));
        if e.1.elapsed() > Self::WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
    /// Clears an address after a success.
    pub fn succeed(&self, ip: Option<&str>) {
        if let Some(ip) = ip.and_then(|s| s.parse::<IpAddr>().ok()) {
            self.failures.lock().expect("throttle lock").remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("Linyi2020").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Linyi2020", &h));
        assert!(!verify_password("linyi2020", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_password_strength("abc123").is_err());
        assert!(check_password_strength("abcdefgh").is_err());
        assert!(check_password_strength("abcd1234").is_ok());
    }

    #[test]
    fn the_throttle_stops_an_address_after_too_many_failures() {
        let t = Throttle::default();
        for _ in 0..Throttle::MAX {
            assert!(t.allowed(Some("10.0.0.1")));
            t.fail(Some("10.0.0.1"));
        }
        assert!(!t.allowed(Some("10.0.0.1")));
        assert!(t.allowed(Some("10.0.0.2")));
        t.succeed(Some("10.0.0.1"));
        assert!(t.allowed(Some("10.0.0.1")));
    }

    #[test]
    fn cookies_are_read_from_any_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; ym_session=abc".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
    }
}
