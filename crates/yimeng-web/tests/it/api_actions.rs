//! The remaining page actions through `/api/v1` on the running server: 阳光分班 (preview, commit),
//! the year rollover (dry run, run, a refused second run), accounts (create, a forced password
//! change, disable, reset, an inspector's schools, one's own tokens) and the import-format
//! exports — with the pages' rules: roles, scope (404 outside), Chinese messages naming the field.

use crate::support::{Client, PW, TestApp};
use axum::http::Method;
use serde_json::{Value, json};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

/// A client calling the API with a personal token made through the API by `user`.
pub(crate) async fn token_client(app: &TestApp, user: &str) -> Client {
    let c = app.login(user).await;
    let t = c.csrf().await;
    let r = c
        .json(
            Method::POST,
            "/api/v1/account/tokens",
            &json!({"name": "测试脚本"}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let mut api = app.client();
    api.bearer = Some(r.json()["token"].as_str().unwrap().to_string());
    api
}

fn reasons(r: &Value) -> String {
    r["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["reason"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
                .join("；")
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_previews_and_commits_a_sunshine_assignment_through_the_api() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let (school, cards, year) = crate::sunshine::accepted_intake(&app).await;
    let api = token_client(&app, "lanshan").await;
    let r = api.get(&format!("/api/v1/schools/{school}/sunshine")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["grades"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["code"] == "P1")
    );
    let body = json!({
        "year": year,
        "grade": "P1",
        "classes": 2,
        "seed": 20260901u64,
        "siblings": format!("{} {} 同班", cards[0], cards[1]),
    });
    let preview = format!("/api/v1/schools/{school}/sunshine/preview");
    let r = api.json(Method::POST, &preview, &body, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let p = r.json();
    assert_eq!(p["candidates"], 6);
    let classes = p["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2);
    assert!(
        classes
            .iter()
            .all(|c| c["children"].as_array().unwrap().len() == 3)
    );
    assert!(p["summary"].as_str().unwrap().contains("班额最大差 0 人"));
    assert!(!r.text().contains(&cards[0]), "ID numbers are masked");
    // The same seed gives the same list; nothing was written.
    let again = api.json(Method::POST, &preview, &body, None).await;
    assert_eq!(again.json(), p);
    let placed = || async {
        let (n,): (i64,) = app
            .db()
            .one(Sql::new(
                "SELECT COUNT(*) FROM enrolment_application WHERE state = 'enrolled'",
            ))
            .await
            .unwrap();
        n
    };
    assert_eq!(placed().await, 0);
    // Bad input: 422 naming the field, in Chinese.
    let mut bad = body.clone();
    bad["grade"] = json!("P3");
    let r = api.json(Method::POST, &preview, &bad, None).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.json()["errors"][0]["field"], "grade");
    assert!(reasons(&r.json()).contains("起始年级"), "{}", r.text());
    let mut bad = body.clone();
    bad["siblings"] = json!("110101201001010011 371302201001010011 同班");
    let r = api.json(Method::POST, &preview, &bad, None).await;
    assert_eq!(r.status, 422);
    assert!(reasons(&r.json()).contains("不在本次分班名单中"));
    // Another county's school is not there; an inspector may not assign.
    let foreign = app.ids.foreign_school;
    let r = api
        .json(
            Method::POST,
            &format!("/api/v1/schools/{foreign}/sunshine/preview"),
            &body,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let dd = token_client(&app, "lanshan_dd").await;
    let r = dd.json(Method::POST, &preview, &body, None).await;
    assert_eq!(r.status, 403);
    // The commit places the six children, siblings together.
    let r = api
        .json(
            Method::POST,
            &format!("/api/v1/schools/{school}/sunshine/commit"),
            &body,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["placed"], 6);
    assert_eq!(r.json()["problems"], json!([]));
    assert_eq!(placed().await, 6);
    let (same,): (i64,) = app
        .db()
        .one(Sql::new(&format!(
            "SELECT COUNT(DISTINCT class_id) FROM student WHERE id_card IN ('{}', '{}')",
            cards[0], cards[1]
        )))
        .await
        .unwrap();
    assert_eq!(same, 1, "siblings together");
    // Nobody is left to assign.
    let mut rest = body.clone();
    rest["siblings"] = json!("");
    let r = api.json(Method::POST, &preview, &rest, None).await;
    assert_eq!(r.status, 422);
    assert!(reasons(&r.json()).contains("没有待分班的儿童"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_rolls_the_year_over_through_the_api_once() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let admin = token_client(&app, "admin").await;
        let (year,): (i32,) = app
            .db()
            .one(Sql::new("SELECT MAX(school_year) FROM class"))
            .await
            .unwrap();
        let next = year + 1;
        let r = admin
            .get(&format!("/api/v1/rollover/preview?year={next}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let dry = r.json();
        assert_eq!(dry["dry_run"], true);
        assert!(dry["total"]["promoted"].as_i64().unwrap() > 0, "{dry}");
        // A county may not; a bad year is refused in Chinese.
        let county = token_client(&app, "lanshan").await;
        let r = county
            .json(
                Method::POST,
                "/api/v1/rollover",
                &json!({"year": next}),
                None,
            )
            .await;
        assert_eq!(r.status, 403);
        let r = admin
            .json(
                Method::POST,
                "/api/v1/rollover",
                &json!({"year": 1999}),
                None,
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(reasons(&r.json()).contains("起始年份"), "{}", r.text());
        // The run does what the dry run counted, once.
        let r = admin
            .json(
                Method::POST,
                "/api/v1/rollover",
                &json!({"year": next}),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let run = r.json();
        assert_eq!(run["dry_run"], false);
        assert_eq!(run["total"], dry["total"]);
        assert!(run["message"].as_str().unwrap().contains("学年升级"));
        let r = admin
            .json(
                Method::POST,
                "/api/v1/rollover",
                &json!({"year": next}),
                None,
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.text());
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_manages_an_account_through_the_api_and_its_holder_must_change_the_password_first()
 {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let admin = token_client(&app, "admin").await;
        // Bad fields are named in Chinese; a county may not create accounts.
        let r = admin
            .json(
                Method::POST,
                "/api/v1/users",
                &json!({"username": "lanshan_new", "display_name": "新账户", "role": "school", "county": "371302", "school_code": "12"}),
                None,
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(r.json()["errors"][0]["field"], "school_code");
        assert!(reasons(&r.json()).contains("学校标识码"));
        let county = token_client(&app, "lanshan").await;
        let r = county
            .json(
                Method::POST,
                "/api/v1/users",
                &json!({"username": "lanshan_new", "display_name": "新账户", "role": "inspector", "county": "371302"}),
                None,
            )
            .await;
        assert_eq!(r.status, 403);
        let body = json!({"username": "lanshan_new", "display_name": "新督学", "role": "inspector", "county": "371302"});
        let r = admin.json(Method::POST, "/api/v1/users", &body, None).await;
        assert_eq!(r.status, 201, "{}", r.text());
        let created = r.json();
        let id = created["user"]["id"].as_i64().unwrap();
        let initial = created["initial_password"].as_str().unwrap().to_string();
        assert_eq!(created["user"]["must_change_password"], true);
        assert!(!r.text().contains("password_hash"));
        let r = admin.json(Method::POST, "/api/v1/users", &body, None).await;
        assert_eq!(r.status, 409, "a login name that is taken");
        // Its schools: a bad code refuses the list; good ones are assigned.
        let (code,): (String,) = app
            .db()
            .one(Sql::new(
                "SELECT code FROM school WHERE county_id = 371302 ORDER BY id LIMIT 1",
            ))
            .await
            .unwrap();
        let schools = format!("/api/v1/users/{id}/schools");
        let r = admin
            .json(
                Method::POST,
                &schools,
                &json!({"codes": [code, "99"]}),
                None,
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(reasons(&r.json()).contains("未作调整"));
        let r = admin
            .json(Method::POST, &schools, &json!({"codes": [code]}), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["assigned"], 1);
        let r = admin.get(&format!("/api/v1/users/{id}")).await;
        assert_eq!(r.json()["schools"][0]["code"], code);

        // The holder logs in: everything but the password change is refused, the API too.
        let holder = app.client();
        let r = holder.login("lanshan_new", &initial).await;
        assert_eq!(r.location(), Some("/account?must=1"));
        let csrf = holder.csrf().await;
        assert_eq!(holder.get("/api/v1/me").await.status, 403);
        let r = holder
            .json(
                Method::POST,
                "/api/v1/account/tokens",
                &json!({"name": "脚本"}),
                Some(&csrf),
            )
            .await;
        assert_eq!(r.status, 403);
        let change =
            |old: &str, new: &str, again: &str| json!({"old": old, "new": new, "again": again});
        let r = holder
            .json(
                Method::POST,
                "/api/v1/account/password",
                &change(&initial, "Lanshan2026n", "Lanshan2026m"),
                Some(&csrf),
            )
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.json()["errors"][0]["field"], "again");
        assert!(reasons(&r.json()).contains("不一致"));
        let r = holder
            .json(
                Method::POST,
                "/api/v1/account/password",
                &change(&initial, "Lanshan2026n", "Lanshan2026n"),
                Some(&csrf),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(holder.get("/api/v1/me").await.status, 200);

        // Disabled, it is out at once; enabled, back; a reset forces a new change.
        let r = admin
            .json(
                Method::POST,
                &format!("/api/v1/users/{id}/disable"),
                &json!({}),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["disabled"], true);
        assert_eq!(holder.get("/api/v1/me").await.status, 401);
        let r = admin
            .json(
                Method::POST,
                &format!("/api/v1/users/{id}/enable"),
                &json!({}),
                None,
            )
            .await;
        assert_eq!(r.json()["disabled"], false);
        let r = admin
            .json(
                Method::POST,
                &format!("/api/v1/users/{id}/reset"),
                &json!({}),
                None,
            )
            .await;
        assert_eq!(r.status, 200);
        let reset = r.json()["initial_password"].as_str().unwrap().to_string();
        assert_ne!(reset, initial);
        let again = app.client();
        let r = again.login("lanshan_new", &reset).await;
        assert_eq!(r.location(), Some("/account?must=1"));
        assert_eq!(again.get("/api/v1/me").await.status, 403);
        // The administrator cannot disable itself.
        let me = admin.get("/api/v1/me").await.json();
        let (admin_id,): (i64,) = {
            let mut q = Sql::new("SELECT id FROM app_user WHERE username = ");
            q.bind(me["username"].as_str().unwrap());
            app.db().one(q).await.unwrap()
        };
        let r = admin
            .json(
                Method::POST,
                &format!("/api/v1/users/{admin_id}/disable"),
                &json!({}),
                None,
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(
            r.json()["detail"]
                .as_str()
                .unwrap()
                .contains("不能停用自己的账户")
        );
        let list = admin.get("/api/v1/users").await.json();
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["username"] == "lanshan_new")
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ones_own_tokens_are_listed_and_revoked_through_the_api() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let api = token_client(&app, "yinan").await;
    let list = api.get("/api/v1/account/tokens").await;
    assert_eq!(list.status, 200);
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert!(!list.text().contains("token_hash"));
    let r = api
        .json(
            Method::POST,
            "/api/v1/account/tokens",
            &json!({"name": "第二个"}),
            None,
        )
        .await;
    assert_eq!(r.status, 201);
    let second = r.json();
    let mut other = app.client();
    other.bearer = Some(second["token"].as_str().unwrap().to_string());
    assert_eq!(other.get("/api/v1/me").await.status, 200);
    let r = api
        .json(
            Method::POST,
            "/api/v1/account/tokens",
            &json!({"name": ""}),
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["field"], "name");
    // Another account's token is not there to revoke.
    let lanshan = token_client(&app, "lanshan").await;
    let path = format!("/api/v1/account/tokens/{}", second["id"]);
    let r = lanshan.send(Method::DELETE, &path, None, &[], vec![]).await;
    assert_eq!(r.status, 404);
    let r = api.send(Method::DELETE, &path, None, &[], vec![]).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(other.get("/api/v1/me").await.status, 401);
    // A changed password ends every token, that of the request too.
    let r = api
        .json(
            Method::POST,
            "/api/v1/account/password",
            &json!({"old": PW, "new": "Yinan2026q", "again": "Yinan2026q"}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(api.get("/api/v1/me").await.status, 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_exports_its_registry_in_the_import_format_through_the_api() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let api = token_client(&app, "lanshan").await;
        let r = api.get("/api/v1/exports/students?format=csv").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.header("content-type").unwrap().starts_with("text/csv"));
        assert!(
            r.header("content-disposition")
                .unwrap()
                .starts_with("attachment")
        );
        let text = r.text();
        let rows = text.lines().count() as i64 - 1;
        let (n,): (i64,) = app
            .db()
            .one(Sql::new(
                "SELECT COUNT(*) FROM student WHERE county_id = 371302",
            ))
            .await
            .unwrap();
        assert_eq!(rows, n, "one row per student of the county");
        let r = api.get("/api/v1/exports/schools").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-type"),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
        assert!(r.body.starts_with(b"PK"), "an xlsx file");
        // Another county, an unknown format, a role without the personal-data right.
        assert_eq!(
            api.get("/api/v1/exports/schools?county=371311")
                .await
                .status,
            404
        );
        let r = api.get("/api/v1/exports/schools?format=pdf").await;
        assert_eq!(r.status, 400, "{}", r.text());
        let admin = token_client(&app, "admin").await;
        let r = admin.get("/api/v1/exports/students").await;
        assert_eq!(r.status, 403);
        assert!(r.json()["detail"].as_str().unwrap().contains("身份证件号"));
        // The export is in the audit log.
        let (audited,): (i64,) = app
            .db()
            .one(Sql::new(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND county_id = 371302",
            ))
            .await
            .unwrap();
        assert_eq!(audited, 2);
        app.stop().await;
    }
}

#[test]
fn the_api_modules_of_the_page_actions_import_no_page_module() {
    for (name, src) in [
        ("api/sunshine.rs", include_str!("../../src/api/sunshine.rs")),
        ("api/rollover.rs", include_str!("../../src/api/rollover.rs")),
        ("api/accounts.rs", include_str!("../../src/api/accounts.rs")),
        ("api/export.rs", include_str!("../../src/api/export.rs")),
    ] {
        assert!(!src.contains("pages::"), "{name} imports a page module");
    }
}
