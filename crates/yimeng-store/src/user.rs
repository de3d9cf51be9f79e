//! Accounts, sessions, API tokens and inspectors' assignments.
//!
//! These are city-level tables: who may manage them is decided by the web layer's role checks.
//! Passwords and tokens are never stored: only their hashes (Argon2id for passwords, SHA-256 for
//! random tokens, computed by the caller).

use crate::audit::{self, Entry};
use crate::db::{Db, Sql};
use crate::{Actor, Result, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use yimeng_domain::{RegionCode, Role, SchoolRef, Scope};

/// An `app_user` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: String,
    pub county_id: Option<i32>,
    pub school_id: Option<i64>,
    /// 科室 code of a city-department account (its plan items).
    pub department: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    /// The role.
    pub fn role(&self) -> Role {
        Role::from_code(&self.role).unwrap_or(Role::Public)
    }
    /// The county this account belongs to (the city for city roles).
    pub fn home_county(&self) -> i32 {
        self.county_id.unwrap_or(audit::CITY_COUNTY_ID)
    }
    /// The actor for history and audit rows.
    pub fn actor(&self, ip: Option<String>, request_id: Option<String>) -> Actor {
        Actor {
            name: self.username.clone(),
            role: self.role.clone(),
            ip,
            request_id,
        }
    }
}

/// What a new account needs.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// County (county, school and inspector accounts).
    pub county: Option<RegionCode>,
    /// School (school accounts).
    pub school_id: Option<i64>,
    /// Must change the password at first login.
    pub must_change_password: bool,
    /// 科室 code (city-department accounts only).
    pub department: Option<String>,
}

/// Login names: 3–32 characters of letters, digits, `_`, `-`, `.`.
pub fn check_username(s: &str) -> std::result::Result<(), String> {
    let ok = (3..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err("用户名应为 3–32 位字母、数字或 _ - .".into())
    }
}

/// Creates an account. County and school are checked against the role.
#[tracing::instrument(skip_all)]
pub async fn create(db: &Db, actor: &Actor, mut u: NewUser) -> Result<UserRow> {
    check_username(&u.username).map_err(StoreError::Invalid)?;
    // City-wide roles belong to no county; only school accounts name a school.
    if matches!(u.role, Role::CityAdmin | Role::CityDept | Role::Public) {
        u.county = None;
    }
    if u.role != Role::School {
        u.school_id = None;
    }
    if u.role != Role::CityDept {
        u.department = None;
    }
    if let Some(d) = &u.department
        && (d.is_empty()
            || d.len() > 32
            || !d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(StoreError::Invalid(format!(
            "科室代码“{d}”无效（字母、数字或 _，至多 32 位）"
        )));
    }
    match u.role {
        Role::County | Role::Inspector if u.county.is_none() => {
            return Err(StoreError::Invalid("县区和督学账户须指定县区".into()));
        }
        Role::School if u.county.is_none() || u.school_id.is_none() => {
            return Err(StoreError::Invalid("学校账户须指定学校".into()));
        }
        _ => {}
    }
    if let (Some(c), Some(s)) = (u.county, u.school_id) {
        crate::school::get(db, &Scope::County(c), s)
            .await
            .map_err(|_| StoreError::Invalid("学校不存在或不属于该县区".into()))?;
    }
    let mut tx = db.begin().await?;
    let exists: Option<(i64,)> = tx.opt(sql_by_username(&u.username)).await?;
    if exists.is_some() {
        return Err(StoreError::Conflict(format!(
            "用户名“{}”已被使用",
            u.username
        )));
    }
    let id = tx.alloc_ids("app_user", 1).await?;
    let now = Utc::now();
    let mut q = Sql::new(
        "INSERT INTO app_user (id, username, display_name, password_hash, role, county_id, school_id, department, \
         disabled, must_change_password, failed_logins, created_at, updated_at) VALUES ",
    );
    q.bind_list([
        crate::Value::from(id),
        u.username.as_str().into(),
        u.display_name.as_str().into(),
        u.password_hash.as_str().into(),
        u.role.code().into(),
        u.county.map(|c| c.get()).into(),
        u.school_id.into(),
        u.department.clone().into(),
        false.into(),
        u.must_change_password.into(),
        0i32.into(),
        now.into(),
        now.into(),
    ]);
    tx.exec(q).await?;
    let entry = Entry {
        county_id: u.county.map_or(audit::CITY_COUNTY_ID, |c| c.get()),
        action: "create",
        entity: "user",
        entity_id: Some(id),
        summary: format!("新建账户 {}（{}）", u.username, u.role.label()),
        before: None,
        after: Some(serde_json::json!({"username": u.username, "role": u.role.code(), "county_id": u.county.map(|c| c.get()), "school_id": u.school_id, "department": u.department}).to_string()),
    };
    audit::write(&mut tx, actor, vec![entry]).await?;
    tx.commit().await?;
    get(db, id).await
}

fn sql_by_username(name: &str) -> Sql {
    let mut q = Sql::new("SELECT id FROM app_user WHERE username = ");
    q.bind(name);
    q
}

/// One account by id.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, id: i64) -> Result<UserRow> {
    let mut q = Sql::new("SELECT * FROM app_user WHERE id = ");
    q.bind(id);
    db.one(q).await
}

/// One account by login name.
#[tracing::instrument(skip_all)]
pub async fn by_username(db: &Db, username: &str) -> Result<Option<UserRow>> {
    let mut q = Sql::new("SELECT * FROM app_user WHERE username = ");
    q.bind(username);
    db.opt(q).await
}

/// Every account, by role then name.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<UserRow>> {
    db.all(Sql::new(
        "SELECT * FROM app_user ORDER BY role, county_id, username",
    ))
    .await
}

/// Number of accounts.
#[tracing::instrument(skip_all)]
pub async fn count(db: &Db) -> Result<i64> {
    db.scalar(Sql::new("SELECT COUNT(*) FROM app_user")).await
}

/// The data scope of an account: city roles see the city, a county its county, a school its
/// school, an inspector the assigned schools, the public nothing.
#[tracing::instrument(skip_all)]
pub async fn scope_of(db: &Db, u: &UserRow) -> Result<Scope> {
    Ok(match u.role() {
        Role::CityAdmin | Role::CityDept => Scope::City,
        Role::County => match u.county_id {
            Some(c) => Scope::County(RegionCode::from_i32(c)),
            None => Scope::Nothing,
        },
        Role::School => match (u.county_id, u.school_id) {
            (Some(c), Some(s)) => Scope::School(SchoolRef {
                county: RegionCode::from_i32(c),
                id: s,
            }),
            _ => Scope::Nothing,
        },
        Role::Inspector => {
            let schools = assigned_schools(db, u.id).await?;
            Scope::Schools(schools)
        }
        Role::Public => Scope::Nothing,
    })
}

/// An inspector's assigned schools.
#[tracing::instrument(skip_all)]
pub async fn assigned_schools(db: &Db, user_id: i64) -> Result<Vec<SchoolRef>> {
    let mut q = Sql::new(
        "/* multi-county: inspector_schools */ SELECT county_id, school_id FROM inspector_school WHERE user_id = ",
    );
    q.bind(user_id).push(" ORDER BY county_id, school_id");
    Ok(db
        .all::<(i32, i64)>(q)
        .await?
        .into_iter()
        .map(|(c, s)| SchoolRef {
            county: RegionCode::from_i32(c),
            id: s,
        })
        .collect())
}

/// Replaces an inspector's assignments.
#[tracing::instrument(skip_all)]
pub async fn assign_schools(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    schools: &[SchoolRef],
) -> Result<()> {
    let u = get(db, user_id).await?;
    if u.role() != Role::Inspector {
        return Err(StoreError::Invalid("只有督学账户可以指定负责的学校".into()));
    }
    let before = assigned_schools(db, user_id).await?;
    let mut tx = db.begin().await?;
    let mut q = Sql::new(
        "/* multi-county: inspector_schools */ DELETE FROM inspector_school WHERE user_id = ",
    );
    q.bind(user_id);
    tx.exec(q).await?;
    let now = Utc::now();
    for s in schools {
        let mut q = Sql::new(
            "INSERT INTO inspector_school (county_id, user_id, school_id, assigned_at) VALUES ",
        );
        q.bind_list([
            crate::Value::from(s.county.get()),
            user_id.into(),
            s.id.into(),
            now.into(),
        ]);
        tx.exec(q).await?;
    }
    let ids =
        |v: &[SchoolRef]| serde_json::json!(v.iter().map(|s| s.id).collect::<Vec<_>>()).to_string();
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: u.home_county(),
            action: "update",
            entity: "user",
            entity_id: Some(user_id),
            summary: format!("调整督学 {} 负责的学校（{} 所）", u.username, schools.len()),
            before: Some(ids(&before)),
            after: Some(ids(schools)),
        }],
    )
    .await?;
    tx.commit().await
}

/// Enables or disables an account (a disabled account's sessions and tokens stop working).
#[tracing::instrument(skip_all)]
pub async fn set_disabled(db: &Db, actor: &Actor, user_id: i64, disabled: bool) -> Result<()> {
    let u = get(db, user_id).await?;
    let mut tx = db.begin().await?;
    let mut q = Sql::new("UPDATE app_user SET disabled = ");
    q.bind(disabled)
        .push(", updated_at = ")
        .bind(Utc::now())
        .push(" WHERE id = ")
        .bind(user_id);
    tx.exec(q).await?;
    if disabled {
        let mut q = Sql::new("DELETE FROM user_session WHERE user_id = ");
        q.bind(user_id);
        tx.exec(q).await?;
    }
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: u.home_county(),
            action: if disabled { "disable" } else { "enable" },
            entity: "user",
            entity_id: Some(user_id),
            summary: format!(
                "{}账户 {}",
                if disabled { "停用" } else { "启用" },
                u.username
            ),
            before: Some(serde_json::json!({"disabled": u.disabled}).to_string()),
            after: Some(serde_json::json!({"disabled": disabled}).to_string()),
        }],
    )
    .await?;
    tx.commit().await
}

/// Sets a new password hash; ends the account's other sessions and revokes its API tokens (a
/// token minted under the old password must not outlive it). `must_change` asks for a change at
/// the next login (after an administrator's reset).
#[tracing::instrument(skip_all)]
pub async fn set_password(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    hash: &str,
    must_change: bool,
    keep_session: Option<&str>,
) -> Result<()> {
    let u = get(db, user_id).await?;
    let mut tx = db.begin().await?;
    let mut q = Sql::new("UPDATE app_user SET password_hash = ");
    q.bind(hash)
        .push(", must_change_password = ")
        .bind(must_change);
    q.push(", failed_logins = 0, locked_until = NULL, updated_at = ")
        .bind(Utc::now())
        .push(" WHERE id = ")
        .bind(user_id);
    tx.exec(q).await?;
    let mut q = Sql::new("DELETE FROM user_session WHERE user_id = ");
    q.bind(user_id);
    if let Some(keep) = keep_session {
        q.push(" AND token_hash <> ").bind(keep);
    }
    let sessions_ended = tx.exec(q).await?;
    let mut q = Sql::new("UPDATE api_token SET revoked_at = ");
    q.bind(Utc::now())
        .push(" WHERE revoked_at IS NULL AND user_id = ")
        .bind(user_id);
    let tokens_revoked = tx.exec(q).await?;
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: u.home_county(),
            action: if must_change {
                "reset_password"
            } else {
                "change_password"
            },
            entity: "user",
            entity_id: Some(user_id),
            summary: format!(
                "{}账户 {} 的密码",
                if must_change { "重置" } else { "修改" },
                u.username
            ),
            before: Some(
                serde_json::json!({"must_change_password": u.must_change_password}).to_string(),
            ),
            after: Some(
                serde_json::json!({
                    "must_change_password": must_change,
                    "sessions_ended": sessions_ended,
                    "tokens_revoked": tokens_revoked,
                })
                .to_string(),
            ),
        }],
    )
    .await?;
    tx.commit().await
}

/// Failed logins after which an account is locked.
pub const LOCK_AFTER_FAILURES: i32 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;

/// Records a failed login; locks the account after [`LOCK_AFTER_FAILURES`]. Returns the lock end.
#[tracing::instrument(skip_all)]
pub async fn record_failure(
    db: &Db,
    u: &UserRow,
    ip: Option<String>,
) -> Result<Option<DateTime<Utc>>> {
    let failures = u.failed_logins + 1;
    let lock =
        (failures >= LOCK_AFTER_FAILURES).then(|| Utc::now() + Duration::minutes(LOCK_MINUTES));
    let mut tx = db.begin().await?;
    let mut q = Sql::new("UPDATE app_user SET failed_logins = ");
    q.bind(if lock.is_some() { 0 } else { failures })
        .push(", locked_until = ")
        .bind(lock.or(u.locked_until));
    q.push(" WHERE id = ").bind(u.id);
    tx.exec(q).await?;
    audit::write(
        &mut tx,
        &login_actor(u, ip),
        vec![Entry {
            county_id: u.home_county(),
            action: "login_failed",
            entity: "user",
            entity_id: Some(u.id),
            summary: match lock {
                Some(_) => format!("密码错误 {failures} 次，账户锁定 {LOCK_MINUTES} 分钟"),
                None => format!("登录失败（密码错误，第 {failures} 次）"),
            },
            before: None,
            after: None,
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(lock)
}

/// The account itself as the actor of a login attempt (no session or request yet).
fn login_actor(u: &UserRow, ip: Option<String>) -> Actor {
    Actor {
        name: u.username.clone(),
        role: u.role.clone(),
        ip,
        request_id: None,
    }
}

/// Records a login refused because the account is disabled or locked (`password_ok` says whether
/// the password itself was right). The caller answers as for a wrong password; the reason is kept
/// here only. The lock is not extended, so it still ends when it said it would.
#[tracing::instrument(skip_all)]
pub async fn record_refusal(
    db: &Db,
    u: &UserRow,
    ip: Option<String>,
    password_ok: bool,
) -> Result<()> {
    let reason = if u.disabled {
        "账户已停用"
    } else {
        "账户已锁定"
    };
    let mut tx = db.begin().await?;
    audit::write(
        &mut tx,
        &login_actor(u, ip),
        vec![Entry {
            county_id: u.home_county(),
            action: "login_refused",
            entity: "user",
            entity_id: Some(u.id),
            summary: format!(
                "登录被拒绝（{reason}，密码{}）",
                if password_ok { "正确" } else { "错误" }
            ),
            before: None,
            after: Some(
                serde_json::json!({"disabled": u.disabled, "locked_until": u.locked_until})
                    .to_string(),
            ),
        }],
    )
    .await?;
    tx.commit().await
}

/// A session row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Idle time after which a session ends.
pub const SESSION_IDLE_HOURS: i64 = 8;
/// Longest life of a session.
pub const SESSION_MAX_HOURS: i64 = 24;

/// Starts a session after a successful login: resets failures, records the login, and (the id is
/// always new) ends any session the browser presented before logging in.
#[tracing::instrument(skip_all)]
pub async fn start_session(
    db: &Db,
    u: &UserRow,
    token_hash: &str,
    csrf: &str,
    previous: Option<&str>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<()> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    if let Some(prev) = previous {
        let mut q = Sql::new("DELETE FROM user_session WHERE token_hash = ");
        q.bind(prev);
        tx.exec(q).await?;
    }
    let mut q = Sql::new(
        "INSERT INTO user_session (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at, ip, user_agent) VALUES ",
    );
    q.bind_list([
        crate::Value::from(token_hash),
        u.id.into(),
        csrf.into(),
        now.into(),
        (now + Duration::hours(SESSION_MAX_HOURS)).into(),
        now.into(),
        ip.as_deref().into(),
        user_agent
            .as_deref()
            .map(|s| yimeng_domain::text::preview(s, 200))
            .into(),
    ]);
    tx.exec(q).await?;
    let mut q =
        Sql::new("UPDATE app_user SET failed_logins = 0, locked_until = NULL, last_login_at = ");
    q.bind(now).push(" WHERE id = ").bind(u.id);
    tx.exec(q).await?;
    audit::write(
        &mut tx,
        &u.actor(ip, None),
        vec![Entry {
            county_id: u.home_county(),
            action: "login",
            entity: "user",
            entity_id: Some(u.id),
            summary: "登录".into(),
            before: None,
            after: None,
        }],
    )
    .await?;
    tx.commit().await
}

/// The live session and its account, touching its last-seen time at most once a minute, in the
/// background ([`touch_in_background`]): reading a page never waits for the single writer.
#[tracing::instrument(skip_all)]
pub async fn session(db: &Db, token_hash: &str) -> Result<Option<(SessionRow, UserRow)>> {
    let mut q = Sql::new("SELECT * FROM user_session WHERE token_hash = ");
    q.bind(token_hash);
    let Some(s) = db.opt::<SessionRow>(q).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    if s.expires_at < now || s.last_seen_at + Duration::hours(SESSION_IDLE_HOURS) < now {
        end_session(db, token_hash).await?;
        return Ok(None);
    }
    let u = get(db, s.user_id).await?;
    if u.disabled {
        return Ok(None);
    }
    if now - s.last_seen_at > Duration::minutes(1) {
        touch_in_background(db, token_hash, now);
    }
    Ok(Some((s, u)))
}

/// Records a session's last-seen time without holding up the request: the write needs the single
/// writer, which a long import may hold for minutes. At most one touch per session is in flight;
/// one that fails (the writer busy beyond its timeout) is logged, and the next request after it
/// tries again (the idle limit is hours, a minute's lag is nothing).
fn touch_in_background(db: &Db, token_hash: &str, now: DateTime<Utc>) {
    static IN_FLIGHT: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::LazyLock::new(Default::default);
    let token = token_hash.to_string();
    {
        let mut f = IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner());
        if !f.insert(token.clone()) {
            return;
        }
    }
    let db = db.clone();
    tokio::spawn(async move {
        let mut q = Sql::new("UPDATE user_session SET last_seen_at = ");
        q.bind(now)
            .push(" WHERE token_hash = ")
            .bind(token.as_str());
        if let Err(e) = db.exec(q).await {
            tracing::warn!(error = %e, "session last-seen time not recorded");
        }
        IN_FLIGHT
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&token);
    });
}

/// Ends a session (logout).
#[tracing::instrument(skip_all)]
pub async fn end_session(db: &Db, token_hash: &str) -> Result<()> {
    let mut q = Sql::new("DELETE FROM user_session WHERE token_hash = ");
    q.bind(token_hash);
    db.exec(q).await?;
    Ok(())
}

/// An `api_token` row (the hash is not shown).
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    #[serde(skip)]
    pub token_hash: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates an API token for an account.
#[tracing::instrument(skip_all)]
pub async fn create_token(
    db: &Db,
    u: &UserRow,
    name: &str,
    token_hash: &str,
    prefix: &str,
    actor: &Actor,
) -> Result<i64> {
    let name = yimeng_domain::text::parse_text(name, 50, true)
        .map_err(|e| StoreError::Invalid(format!("令牌名称{e}")))?;
    let mut tx = db.begin().await?;
    let id = tx.alloc_ids("api_token", 1).await?;
    let now = Utc::now();
    let mut q = Sql::new(
        "INSERT INTO api_token (id, user_id, name, token_hash, prefix, created_at) VALUES ",
    );
    q.bind_list([
        crate::Value::from(id),
        u.id.into(),
        name.as_str().into(),
        token_hash.into(),
        prefix.into(),
        now.into(),
    ]);
    tx.exec(q).await?;
    // The token itself is never logged: its name, prefix and owner are.
    let after = serde_json::json!({
        "user_id": u.id,
        "name": name,
        "prefix": prefix,
        "created_at": now,
    });
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: u.home_county(),
            action: "create",
            entity: "api_token",
            entity_id: Some(id),
            summary: format!("创建 API 令牌“{name}”（{prefix}…）"),
            before: None,
            after: Some(after.to_string()),
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An account's tokens, newest first.
#[tracing::instrument(skip_all)]
pub async fn tokens(db: &Db, user_id: i64) -> Result<Vec<TokenRow>> {
    let mut q = Sql::new("SELECT * FROM api_token WHERE user_id = ");
    q.bind(user_id).push(" ORDER BY created_at DESC, id DESC");
    db.all(q).await
}

/// Revokes one of an account's tokens.
#[tracing::instrument(skip_all)]
pub async fn revoke_token(db: &Db, u: &UserRow, token_id: i64, actor: &Actor) -> Result<()> {
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let mut q = Sql::new("UPDATE api_token SET revoked_at = ");
    q.bind(now)
        .push(" WHERE revoked_at IS NULL AND id = ")
        .bind(token_id)
        .push(" AND user_id = ")
        .bind(u.id);
    if tx.exec(q).await? == 0 {
        return Err(StoreError::NotFound);
    }
    audit::write(
        &mut tx,
        actor,
        vec![Entry {
            county_id: u.home_county(),
            action: "revoke",
            entity: "api_token",
            entity_id: Some(token_id),
            summary: "吊销 API 令牌".into(),
            before: Some(serde_json::json!({ "revoked_at": null }).to_string()),
            after: Some(serde_json::json!({ "revoked_at": now }).to_string()),
        }],
    )
    .await?;
    tx.commit().await
}

/// The account of a live token, recording its use at most once a minute.
#[tracing::instrument(skip_all)]
pub async fn token_user(db: &Db, token_hash: &str) -> Result<Option<UserRow>> {
    let mut q = Sql::new("SELECT * FROM api_token WHERE revoked_at IS NULL AND token_hash = ");
    q.bind(token_hash);
    let Some(t) = db.opt::<TokenRow>(q).await? else {
        return Ok(None);
    };
    let u = get(db, t.user_id).await?;
    if u.disabled {
        return Ok(None);
    }
    let now = Utc::now();
    if t.last_used_at
        .is_none_or(|l| now - l > Duration::minutes(1))
    {
        let mut q = Sql::new("UPDATE api_token SET last_used_at = ");
        q.bind(now).push(" WHERE id = ").bind(t.id);
        db.exec(q).await?;
    }
    Ok(Some(u))
}
