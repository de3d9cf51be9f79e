//! Accounts: the work behind the administrator's pages (`pages::admin`), the account page
//! (`pages::account`) and their API (`api::accounts`). The city administrator creates, disables,
//! enables and resets accounts and assigns an inspector's schools; everyone changes their own
//! password; staff make and revoke their personal API tokens. Every change is audited by
//! `yimeng_store::user`, and the caller clears the authentication cache
//! (`AuthCache::clear`) after it so it takes effect at once. Input problems are
//! [`Failure::Fields`] naming the field in Chinese.

use crate::auth::{self, User};
use crate::error::Failure;
use yimeng_domain::{FieldError, RegionCode, Role, SchoolCode, SchoolRef};
use yimeng_store::Db;
use yimeng_store::user::{NewUser, TokenRow, UserRow};

fn refused(field: &'static str, value: &str, reason: impl Into<String>) -> Failure {
    Failure::Fields(vec![FieldError::new(field, value, reason)])
}

/// A new account as the form and the API body give it.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    /// Login name.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// Role code (city_admin, city_dept, county, school, inspector, public) or its Chinese name.
    pub role: String,
    /// County code or name (county, school and inspector accounts).
    pub county: String,
    /// 学校标识码 of a school account.
    pub school_code: String,
}

async fn hash(password: String) -> Result<String, Failure> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?
}

/// Creates an account with an initial password (returned, to be shown once; it must be changed
/// at the first login). A name that is taken is a 409.
pub async fn create(db: &Db, u: &User, f: &NewAccount) -> Result<(UserRow, String), Failure> {
    u.require_admin()?;
    let role = Role::parse(&f.role).map_err(|e| refused("role", &f.role, format!("角色：{e}")))?;
    let county = match f.county.trim() {
        "" => None,
        c => Some(
            RegionCode::parse_linyi_county(c)
                .map_err(|e| refused("county", c, format!("县区：{e}")))?,
        ),
    };
    let school = match f.school_code.trim() {
        "" => None,
        code => {
            let parsed = SchoolCode::parse(code)
                .map_err(|e| refused("school_code", code, format!("学校标识码：{e}")))?;
            match yimeng_store::school::get_by_code(db, &u.scope, &parsed).await {
                Ok(s) if county.is_none_or(|c| c.get() == s.county_id) => Some(s),
                Ok(_) => return Err(refused("school_code", code, "学校不属于所选县区")),
                Err(_) => {
                    return Err(refused(
                        "school_code",
                        code,
                        format!("学校标识码 {code} 不存在"),
                    ));
                }
            }
        }
    };
    let county = county.or(school.as_ref().map(|s| RegionCode::from_i32(s.county_id)));
    let display = yimeng_domain::text::parse_text(&f.display_name, 50, true)
        .map_err(|e| refused("display_name", &f.display_name, format!("姓名：{e}")))?;
    let password = auth::initial_password();
    let new = NewUser {
        username: f.username.trim().to_string(),
        display_name: display,
        password_hash: hash(password.clone()).await?,
        role,
        county,
        school_id: school.map(|s| s.id),
        must_change_password: true,
        department: None,
    };
    match yimeng_store::user::create(db, &u.actor(), new).await {
        Ok(created) => Ok((created, password)),
        Err(yimeng_store::StoreError::Invalid(m)) => Err(refused("username", &f.username, m)),
        Err(e) => Err(e.into()),
    }
}

/// An account and its assigned schools as (id, 学校标识码, name), those in the caller's scope.
pub async fn get(
    db: &Db,
    u: &User,
    id: i64,
) -> Result<(UserRow, Vec<(i64, String, String)>), Failure> {
    u.require_admin()?;
    let account = yimeng_store::user::get(db, id).await?;
    let mut schools = Vec::new();
    for r in yimeng_store::user::assigned_schools(db, id).await? {
        if let Ok(s) = yimeng_store::school::get(db, &u.scope, r.id).await {
            schools.push((s.id, s.code, s.name));
        }
    }
    Ok((account, schools))
}

/// Every account (city administrator).
pub async fn list(db: &Db, u: &User) -> Result<Vec<UserRow>, Failure> {
    u.require_admin()?;
    Ok(yimeng_store::user::list(db).await?)
}

/// Disables (ending its sessions) or enables an account; one's own cannot be disabled.
pub async fn set_disabled(db: &Db, u: &User, id: i64, disabled: bool) -> Result<UserRow, Failure> {
    u.require_admin()?;
    if disabled && id == u.account.id {
        return Err(Failure::BadRequest("不能停用自己的账户".into()));
    }
    yimeng_store::user::set_disabled(db, &u.actor(), id, disabled).await?;
    Ok(yimeng_store::user::get(db, id).await?)
}

/// A new initial password for an account (returned, to be shown once), to be changed at its
/// next login.
pub async fn reset(db: &Db, u: &User, id: i64) -> Result<(UserRow, String), Failure> {
    u.require_admin()?;
    yimeng_store::user::get(db, id).await?;
    let password = auth::initial_password();
    let h = hash(password.clone()).await?;
    yimeng_store::user::set_password(db, &u.actor(), id, &h, true, None).await?;
    Ok((yimeng_store::user::get(db, id).await?, password))
}

/// Sets an inspector's schools from 学校标识码 (separated by lines, commas, spaces or 、); one
/// that is malformed or unknown refuses the whole list. Returns how many were assigned.
pub async fn assign_schools<S: AsRef<str>>(
    db: &Db,
    u: &User,
    id: i64,
    codes: &[S],
) -> Result<usize, Failure> {
    u.require_admin()?;
    let mut refs = Vec::new();
    let mut bad = Vec::new();
    let lines = codes
        .iter()
        .flat_map(|c| c.as_ref().split(['\n', ',', '，', ' ', '、']))
        .map(str::trim)
        .filter(|l| !l.is_empty());
    for line in lines {
        match SchoolCode::parse(line) {
            Ok(code) => match yimeng_store::school::get_by_code(db, &u.scope, &code).await {
                Ok(s) => refs.push(SchoolRef {
                    county: RegionCode::from_i32(s.county_id),
                    id: s.id,
                }),
                Err(_) => bad.push(format!("{line}（不存在）")),
            },
            Err(e) => bad.push(format!("{}（{e}）", yimeng_domain::text::preview(line, 20))),
        }
    }
    if !bad.is_empty() {
        return Err(refused(
            "codes",
            &bad.join("、"),
            format!("以下学校标识码有误，未作调整：{}", bad.join("、")),
        ));
    }
    refs.sort_by_key(|r| (r.county, r.id));
    refs.dedup();
    yimeng_store::user::assign_schools(db, &u.actor(), id, &refs).await?;
    Ok(refs.len())
}

/// Changes the caller's own password: the current one, the new one twice; other sessions and
/// tokens end (the caller's own session is kept).
pub async fn change_password(
    db: &Db,
    u: &User,
    old: &str,
    new: &str,
    again: &str,
) -> Result<(), Failure> {
    let stored = u.account.password_hash.clone();
    let given = old.to_string();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&given, &stored))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(refused("old", "", "原密码不正确"));
    }
    if new != again {
        return Err(refused("again", "", "两次输入的新密码不一致"));
    }
    if new == old {
        return Err(refused("new", "", "新密码不能与原密码相同"));
    }
    auth::check_password_strength(new).map_err(|m| refused("new", "", m))?;
    let h = hash(new.to_string()).await?;
    yimeng_store::user::set_password(
        db,
        &u.actor(),
        u.account.id,
        &h,
        false,
        u.session.as_deref(),
    )
    .await?;
    Ok(())
}

/// The caller's tokens, newest first.
pub async fn tokens(db: &Db, u: &User) -> Result<Vec<TokenRow>, Failure> {
    Ok(yimeng_store::user::tokens(db, u.account.id).await?)
}

/// A new personal API token of the caller (staff only): its id and the token itself, shown once.
pub async fn create_token(db: &Db, u: &User, name: &str) -> Result<(i64, String), Failure> {
    u.require_staff()?;
    let token = format!("ym_{}", auth::random_token());
    let prefix: String = token.chars().take(10).collect();
    match yimeng_store::user::create_token(
        db,
        &u.account,
        name,
        &auth::token_hash(&token),
        &prefix,
        &u.actor(),
    )
    .await
    {
        Ok(id) => Ok((id, token)),
        Err(yimeng_store::StoreError::Invalid(m)) => Err(refused("name", name, m)),
        Err(e) => Err(e.into()),
    }
}

/// Revokes one of the caller's tokens (404 for another's or an unknown one).
pub async fn revoke_token(db: &Db, u: &User, id: i64) -> Result<(), Failure> {
    Ok(yimeng_store::user::revoke_token(db, &u.account, id, &u.actor()).await?)
}
