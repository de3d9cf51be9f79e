//! Logging in and staying safe: session fixation, CSRF on forms and on the API, cookie flags,
//! logout, lockout, address throttling, password change, disabled accounts, first-login password
//! change, API tokens.

use crate::support::{PW, TestApp};
use axum::http::Method;
use serde_json::json;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

async fn audit_count(app: &TestApp, action: &str, actor: &str) -> i64 {
    let mut q = Sql::new("SELECT COUNT(*) FROM audit_log WHERE action = ");
    q.bind(action).push(" AND actor = ").bind(actor);
    app.db().scalar(q).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_planted_before_login_is_never_promoted_and_logout_ends_it() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        // An attacker's session id, planted in the victim's browser.
        let attacker = app.login("luozhuang").await;
        let planted = attacker.cookie("ym_session").unwrap();
        let victim = app.client();
        // The victim opens the login form; the attacker's id is slipped in before the post.
        let form = victim.get("/login").await.csrf();
        victim.set_cookie("ym_session", &planted);
        let r = victim
            .post_form(
                "/login",
                &[("username", "lanshan"), ("password", PW), ("_csrf", &form)],
            )
            .await;
        assert_eq!(r.status, 303);
        let set = r
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>();
        let session_cookie = set
            .iter()
            .find(|c| c.starts_with("ym_session="))
            .expect("a new session cookie");
        assert!(
            session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"),
            "{session_cookie}"
        );
        let fresh = victim.cookie("ym_session").unwrap();
        assert_ne!(fresh, planted);
        // The attacker's copy of the old id no longer works.
        assert_eq!(attacker.get("/schools").await.status, 303);
        let me = victim.get("/api/v1/me").await.json();
        assert_eq!(me["username"], "lanshan");

        // Logging out ends the session on the server: a copy of the cookie is dead too.
        let copy = app.client();
        copy.set_cookie("ym_session", &fresh);
        assert_eq!(copy.get("/schools").await.status, 200);
        let token = victim.csrf().await;
        let r = victim.post_form("/logout", &[("_csrf", &token)]).await;
        assert_eq!((r.status, r.location()), (303, Some("/login")));
        assert_eq!(copy.get("/schools").await.status, 303);
        assert_eq!(copy.get("/api/v1/me").await.status, 401);
        assert!(audit_count(&app, "logout", "lanshan").await >= 1);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_and_api_calls_without_the_session_csrf_token_are_refused_and_change_nothing() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let id = app.ids.own_student;
        let status_of = async || -> String {
            let mut q = Sql::new("SELECT status FROM student WHERE id = ");
            q.bind(id);
            let (s,): (String,) = app.db().one(q).await.unwrap();
            s
        };
        let before = status_of().await;
        let c = app.login("lanshan").await;
        let token = c.csrf().await;
        let path = format!("/students/{id}/status");
        // No token, a wrong token, another session's token.
        let other = app.login("lanshan").await.csrf().await;
        for bad in [None, Some("forged"), Some(other.as_str())] {
            let mut f = vec![("status", "休学"), ("reason", "病休")];
            if let Some(b) = bad {
                f.push(("_csrf", b));
            }
            let r = c.post_form(&path, &f).await;
            assert_eq!(r.status, 403, "{bad:?}");
            assert!(r.text().contains("CSRF"), "{}", r.text());
        }
        assert_eq!(status_of().await, before);
        // The login form itself: without the pre-login cookie the post is refused.
        let fresh = app.client();
        let r = fresh
            .post_form(
                "/login",
                &[
                    ("username", "lanshan"),
                    ("password", PW),
                    ("_csrf", "guess"),
                ],
            )
            .await;
        assert_eq!(r.status, 403);
        assert!(fresh.cookie("ym_session").is_none());

        // The API with a cookie needs X-CSRF-Token for writes; reads do not.
        let body = json!({"status": "休学", "reason": "病休"});
        let api = format!("/api/v1/students/{id}/status");
        let r = c.json(Method::POST, &api, &body, None).await;
        assert_eq!(r.status, 403);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(status_of().await, before);
        assert_eq!(c.get(&format!("/api/v1/students/{id}")).await.status, 200);
        // With the token the same call goes through.
        let r = c.json(Method::POST, &api, &body, Some(&token)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(status_of().await, "02");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_lock_the_account_and_flood_from_one_address_is_throttled() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.client();
    for i in 1..=5 {
        let r = c.login("yinan", "wrong-password-9").await;
        assert_eq!(r.status, 401, "attempt {i}");
        let t = r.text();
        assert!(t.contains("用户名或密码错误"), "{t}");
    }
    // Locked: even the right password is refused, with the answer of a wrong password (the
    // lock itself is told by the audit log, not to whoever is guessing).
    let r = c.login("yinan", PW).await;
    assert_eq!(r.status, 401);
    assert!(r.text().contains("用户名或密码错误"), "{}", r.text());
    assert!(c.cookie("ym_session").is_none());
    assert_eq!(audit_count(&app, "login_failed", "yinan").await, 5);
    assert_eq!(audit_count(&app, "login_refused", "yinan").await, 1);
    // The administrator resets the password: the lock is lifted and a change is required.
    let admin = app.login("admin").await;
    let token = admin.csrf().await;
    let id: (i64,) = app
        .db()
        .one(Sql::new("SELECT id FROM app_user WHERE username = 'yinan'"))
        .await
        .unwrap();
    let r = admin
        .post_form(
            &format!("/admin/users/{}/reset", id.0),
            &[("_csrf", &token)],
        )
        .await;
    assert_eq!(r.status, 200);
    let page = r.text();
    let marker = "class=\"secret\">";
    let start = page.find(marker).expect("the new password is shown once") + marker.len();
    let new_pw = &page[start..start + page[start..].find('<').unwrap()];
    let user = app.client();
    let r = user.login("yinan", new_pw).await;
    assert_eq!((r.status, r.location()), (303, Some("/account?must=1")));
    // Until the password is changed, pages send the user back to the account page.
    let r = user.get("/schools").await;
    assert_eq!((r.status, r.location()), (303, Some("/account?must=1")));
    let t = user.csrf().await;
    let r = user
        .post_form(
            "/account/password",
            &[
                ("_csrf", &t),
                ("old", new_pw),
                ("new", "Yinan2026a"),
                ("again", "Yinan2026a"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(user.get("/schools").await.status, 200);

    // Many failures from one address: the address waits, whatever the account.
    let flood = app.client();
    let mut last = 0;
    for i in 0..25 {
        last = flood.login(&format!("nobody{i}"), "x").await.status;
    }
    assert_eq!(last, 429);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_ends_other_sessions_and_disabling_an_account_ends_all() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let laptop = app.login("tancheng").await;
        let phone = app.login("tancheng").await;
        let t = laptop.csrf().await;
        // Wrong old password, mismatch, weak: each refused with the reason.
        for (old, new, again, reason) in [
            ("nope-1234", "Tancheng2026", "Tancheng2026", "原密码不正确"),
            (PW, "Tancheng2026", "Tancheng2027", "两次输入的新密码不一致"),
            (PW, "short1", "short1", "至少 8 位"),
        ] {
            let r = laptop
                .post_form(
                    "/account/password",
                    &[("_csrf", &t), ("old", old), ("new", new), ("again", again)],
                )
                .await;
            assert_eq!(r.status, 422);
            assert!(r.text().contains(reason), "{reason}");
        }
        let r = laptop
            .post_form(
                "/account/password",
                &[
                    ("_csrf", &t),
                    ("old", PW),
                    ("new", "Tancheng2026"),
                    ("again", "Tancheng2026"),
                ],
            )
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(
            laptop.get("/schools").await.status,
            200,
            "the session that changed it stays"
        );
        assert_eq!(
            phone.get("/schools").await.status,
            303,
            "other sessions end"
        );
        assert_eq!(
            app.client().login("tancheng", PW).await.status,
            401,
            "the old password is dead"
        );

        // Disabled by the administrator: the session ends at once and login is refused.
        let admin = app.login("admin").await;
        let at = admin.csrf().await;
        let id: (i64,) = app
            .db()
            .one(Sql::new(
                "SELECT id FROM app_user WHERE username = 'tancheng'",
            ))
            .await
            .unwrap();
        let r = admin
            .post_form(&format!("/admin/users/{}/disable", id.0), &[("_csrf", &at)])
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(laptop.get("/schools").await.status, 303);
        let r = app.client().login("tancheng", "Tancheng2026").await;
        assert_eq!(r.status, 401);
        assert!(r.text().contains("用户名或密码错误"));
        assert_eq!(audit_count(&app, "login_refused", "tancheng").await, 1);
        // The administrator cannot disable their own account.
        let me: (i64,) = app
            .db()
            .one(Sql::new("SELECT id FROM app_user WHERE username = 'admin'"))
            .await
            .unwrap();
        assert_eq!(
            admin
                .post_form(&format!("/admin/users/{}/disable", me.0), &[("_csrf", &at)])
                .await
                .status,
            422
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_token_carries_its_owners_scope_until_revoked() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let c = app.login("lanshan").await;
        let csrf = c.csrf().await;
        let r = c
            .post_form(
                "/account/tokens",
                &[("_csrf", &csrf), ("name", "学籍对接程序")],
            )
            .await;
        assert_eq!(r.status, 200);
        let page = r.text();
        let start = page.find("ym_").expect("the token is shown once");
        let token: String = page[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        assert!(token.len() > 40, "{token}");

        let mut api = app.client();
        api.bearer = Some(token.clone());
        assert_eq!(api.get("/api/v1/me").await.json()["username"], "lanshan");
        assert_eq!(
            api.get(&format!("/api/v1/schools/{}", app.ids.own_school))
                .await
                .status,
            200
        );
        let r = api
            .get(&format!("/api/v1/schools/{}", app.ids.foreign_school))
            .await;
        assert_eq!(r.status, 404);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.json()["status"], 404);
        // A token needs no CSRF token (it carries no ambient authority) and writes within scope.
        let r = api
            .json(
                Method::POST,
                &format!("/api/v1/students/{}/status", app.ids.own_student),
                &json!({"status": "休学", "reason": "病休"}),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        // Tokens are never kept in clear.
        let stored: (i64,) = {
            let mut q = Sql::new("SELECT COUNT(*) FROM api_token WHERE token_hash = ");
            q.bind(token.as_str());
            app.db().one(q).await.unwrap()
        };
        assert_eq!(stored.0, 0);

        let (id,): (i64,) = app
            .db()
            .one(Sql::new("SELECT MAX(id) FROM api_token"))
            .await
            .unwrap();
        // Someone else cannot revoke it.
        let other = app.login("luozhuang").await;
        let ot = other.csrf().await;
        assert_eq!(
            other
                .post_form(&format!("/account/tokens/{id}/revoke"), &[("_csrf", &ot)])
                .await
                .status,
            404
        );
        assert_eq!(api.get("/api/v1/me").await.status, 200);
        let r = c
            .post_form(&format!("/account/tokens/{id}/revoke"), &[("_csrf", &csrf)])
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(api.get("/api/v1/me").await.status, 401);
        app.stop().await;
    }
}

/// Mints an API token for `username` straight in the store (as the account page would).
async fn mint_token(app: &TestApp, username: &str) -> String {
    let account = yimeng_store::user::by_username(app.db(), username)
        .await
        .unwrap()
        .unwrap();
    let token = format!("ym_{}", yimeng_web::auth::random_token());
    yimeng_store::user::create_token(
        app.db(),
        &account,
        "对接程序",
        &yimeng_web::auth::token_hash(&token),
        &token[..10],
        &yimeng_store::Actor::system(),
    )
    .await
    .unwrap();
    token
}

async fn live_tokens(app: &TestApp, username: &str) -> i64 {
    let mut q = Sql::new(
        "SELECT COUNT(*) FROM api_token t JOIN app_user u ON u.id = t.user_id WHERE t.revoked_at IS NULL AND u.username = ",
    );
    q.bind(username);
    app.db().scalar(q).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_must_change_its_password_reaches_nothing_else_not_even_the_api() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let id = app.ids.own_student;
        let status_of = async || -> String {
            let mut q = Sql::new("SELECT status FROM student WHERE id = ");
            q.bind(id);
            let (s,): (String,) = app.db().one(q).await.unwrap();
            s
        };
        let before = status_of().await;
        // A token minted while the password was good, then an administrator's reset.
        let old_token = mint_token(&app, "lanshan").await;
        let mut old_api = app.client();
        old_api.bearer = Some(old_token);
        assert_eq!(old_api.get("/api/v1/schools").await.status, 200);
        let account = yimeng_store::user::by_username(app.db(), "lanshan")
            .await
            .unwrap()
            .unwrap();
        let reset_pw = "Reset2026x";
        let hash = yimeng_web::auth::hash_password(reset_pw).unwrap();
        yimeng_store::user::set_password(
            app.db(),
            &yimeng_store::Actor::system(),
            account.id,
            &hash,
            true,
            None,
        )
        .await
        .unwrap();
        app.state.auth_cache.clear();
        assert_eq!(
            old_api.get("/api/v1/schools").await.status,
            401,
            "a reset revokes the account's tokens"
        );
        assert_eq!(live_tokens(&app, "lanshan").await, 0);

        let c = app.client();
        let r = c.login("lanshan", reset_pw).await;
        assert_eq!((r.status, r.location()), (303, Some("/account?must=1")));
        let csrf = c.csrf().await;
        // Pages, form posts and token creation all send the account to the password form.
        for r in [
            c.get("/schools").await,
            c.post_form(
                &format!("/students/{id}/status"),
                &[("_csrf", &csrf), ("status", "休学"), ("reason", "病休")],
            )
            .await,
            c.post_form("/account/tokens", &[("_csrf", &csrf), ("name", "对接")])
                .await,
        ] {
            assert_eq!((r.status, r.location()), (303, Some("/account?must=1")));
        }
        assert_eq!(status_of().await, before);
        assert_eq!(live_tokens(&app, "lanshan").await, 0);
        // The API with the session: a problem+json 403 in Chinese naming the page.
        let api_calls = [
            c.get("/api/v1/schools").await,
            c.json(
                Method::POST,
                &format!("/api/v1/students/{id}/status"),
                &json!({"status": "休学", "reason": "病休"}),
                Some(&csrf),
            )
            .await,
        ];
        for r in api_calls {
            assert_eq!(r.status, 403, "{}", r.text());
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
            let detail = r.json()["detail"].as_str().unwrap().to_string();
            assert!(
                detail.contains("修改密码") && detail.contains("/account"),
                "{detail}"
            );
        }
        assert_eq!(status_of().await, before);
        // A token of such an account (created by other means) is refused the same way.
        let mut api = app.client();
        api.bearer = Some(mint_token(&app, "lanshan").await);
        assert_eq!(api.get("/api/v1/me").await.status, 403);
        // The account page, its password form and logout stay open; then everything opens.
        assert_eq!(c.get("/account").await.status, 200);
        assert_eq!(c.get("/static/app.css").await.status, 200);
        let r = c
            .post_form(
                "/account/password",
                &[
                    ("_csrf", &csrf),
                    ("old", reset_pw),
                    ("new", "Lanshan2026b"),
                    ("again", "Lanshan2026b"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text());
        assert_eq!(c.get("/schools").await.status, 200);
        assert_eq!(c.get("/api/v1/schools").await.status, 200);
        assert_eq!(
            api.get("/api/v1/me").await.status,
            401,
            "the change revoked the token too"
        );
        let r = c.post_form("/logout", &[("_csrf", &csrf)]).await;
        assert_eq!(r.status, 303);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_ones_own_password_revokes_the_accounts_api_tokens() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let mut api = app.client();
    api.bearer = Some(mint_token(&app, "yinan").await);
    assert_eq!(api.get("/api/v1/me").await.status, 200);
    let c = app.login("yinan").await;
    let csrf = c.csrf().await;
    let r = c
        .post_form(
            "/account/password",
            &[
                ("_csrf", &csrf),
                ("old", PW),
                ("new", "Yinan2026z"),
                ("again", "Yinan2026z"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(api.get("/api/v1/me").await.status, 401);
    assert_eq!(live_tokens(&app, "yinan").await, 0);
    assert_eq!(c.get("/api/v1/me").await.status, 200);
    app.stop().await;
}

/// The message of a login page (the alert), without the form's per-request parts.
fn login_alert(page: &str) -> String {
    let start = page.find("role=\"alert\">").expect("an alert") + "role=\"alert\">".len();
    page[start..start + page[start..].find('<').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_answers_alike_for_unknown_names_wrong_passwords_locked_and_disabled_accounts() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.client();
    let mut answers = Vec::new();
    let r = c.login("nobody_at_all", PW).await;
    answers.push(("unknown", r.status, login_alert(&r.text())));
    let r = c.login("yinan", "wrong-password-9").await;
    answers.push(("wrong password", r.status, login_alert(&r.text())));
    for _ in 0..4 {
        c.login("yinan", "wrong-password-9").await;
    }
    // Locked now: the right password is refused like a wrong one, and no session starts.
    let r = c.login("yinan", PW).await;
    answers.push(("locked", r.status, login_alert(&r.text())));
    assert!(c.cookie("ym_session").is_none(), "the lock holds");
    let yinan = yimeng_store::user::by_username(app.db(), "yinan")
        .await
        .unwrap()
        .unwrap();
    assert!(yinan.locked_until.is_some_and(|t| t > chrono::Utc::now()));
    assert_eq!(audit_count(&app, "login_refused", "yinan").await, 1);
    // Disabled: the same.
    let tancheng = yimeng_store::user::by_username(app.db(), "tancheng")
        .await
        .unwrap()
        .unwrap();
    yimeng_store::user::set_disabled(app.db(), &yimeng_store::Actor::system(), tancheng.id, true)
        .await
        .unwrap();
    let d = app.client();
    let r = d.login("tancheng", PW).await;
    answers.push(("disabled", r.status, login_alert(&r.text())));
    assert!(d.cookie("ym_session").is_none());
    assert_eq!(audit_count(&app, "login_refused", "tancheng").await, 1);
    let (_, status, alert) = answers[0].clone();
    assert_eq!(status, 401);
    assert!(alert.contains("用户名或密码错误"), "{alert}");
    for (case, s, a) in &answers {
        assert_eq!((*s, a.as_str()), (status, alert.as_str()), "{case}");
    }
    app.stop().await;
}
