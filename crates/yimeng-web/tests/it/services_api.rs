//! The services API and the rollover page on the running server: a transfer started by the
//! receiving school through `/api/v1/transfers` goes through the sending school and the county
//! bureau, with deadlines on the working-day calendar, and moves the student only at the end; the
//! administrator's year rollover (dry run, run, refused second run).

use crate::support::{PW, TestApp};
use axum::http::Method;
use serde_json::json;
use yimeng_store::Sql;
use yimeng_testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_through_the_api_moves_the_student_only_at_the_final_approval() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let i = app.ids.clone();
    let (sending_school, student_no, id_card) = crate::support::transferable_student(&app).await;
    // An account for the sending school.
    let hash = yimeng_web::auth::hash_password(PW).unwrap();
    yimeng_store::user::create(
        app.db(),
        &yimeng_store::Actor::system(),
        yimeng_store::user::NewUser {
            username: "sibling_school".into(),
            display_name: "转出学校".into(),
            password_hash: hash,
            role: yimeng_domain::Role::School,
            county: Some(yimeng_domain::RegionCode::from_i32(371302)),
            school_id: Some(sending_school),
            must_change_password: false,
            department: None,
        },
    )
    .await
    .unwrap();

    let receiving = app.login(&i.school_login).await;
    let t = receiving.csrf().await;
    // Refusal needs a reason; an unknown student is refused.
    let r = receiving
        .json(
            Method::POST,
            "/api/v1/transfers",
            &json!({"student_no": "G371302201305040011", "id_card": "371302201305040011", "reason": "迁居"}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = receiving
        .json(
            Method::POST,
            "/api/v1/transfers",
            &json!({"student_no": student_no, "id_card": id_card, "reason": "家庭迁居"}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let req = r.json();
    let (county, id) = (
        req["county_id"].as_i64().unwrap(),
        req["id"].as_i64().unwrap(),
    );
    assert_eq!(req["state"], "pending");
    let shown = receiving
        .get(&format!("/api/v1/transfers/{county}/{id}"))
        .await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    let v = shown.json();
    assert!(v["steps"].as_array().is_some_and(|s| s.len() == 2), "{v}");
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["deadline"].is_string()),
        "the current step has its deadline: {v}"
    );
    // Not the county's turn yet.
    let county_user = app.login("lanshan").await;
    let ct = county_user.csrf().await;
    let decide = format!("/api/v1/transfers/{county}/{id}/decide");
    let r = county_user
        .json(
            Method::POST,
            &decide,
            &json!({"decision": "approve"}),
            Some(&ct),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    // The sending school approves; a second approval of the same step is refused.
    let sending = app.login("sibling_school").await;
    let st = sending.csrf().await;
    let waiting = sending.get("/api/v1/transfers?waiting=true").await.json();
    assert_eq!(waiting["items"].as_array().unwrap().len(), 1, "{waiting}");
    let r = sending
        .json(
            Method::POST,
            &decide,
            &json!({"decision": "approve"}),
            Some(&st),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = sending
        .json(
            Method::POST,
            &decide,
            &json!({"decision": "approve"}),
            Some(&st),
        )
        .await;
    assert!(matches!(r.status, 403 | 409), "{}: {}", r.status, r.text());
    let school_of = async || -> i64 {
        let (s,): (i64,) = app
            .db()
            .one(Sql::new(&format!(
                "SELECT school_id FROM student WHERE student_no = '{student_no}' AND status = '01'"
            )))
            .await
            .unwrap();
        s
    };
    assert_eq!(
        school_of().await,
        sending_school,
        "nothing moves before the end"
    );
    // The county bureau's final approval moves the student.
    let r = county_user
        .json(
            Method::POST,
            &decide,
            &json!({"decision": "approve"}),
            Some(&ct),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "completed", "{}", r.text());
    assert_eq!(school_of().await, i.own_school);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_runs_the_year_rollover_after_a_dry_run_and_only_once() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let admin = app.login("admin").await;
    let t = admin.csrf().await;
    let classes = || async {
        let (n,): (i64,) = app
            .db()
            .one(Sql::new("SELECT COUNT(*) FROM class"))
            .await
            .unwrap();
        n
    };
    let before = classes().await;
    let r = admin
        .post_form(
            "/admin/rollover",
            &[("_csrf", &t), ("year", "2021"), ("action", "dry")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("兰山区") && r.text().contains("合计"));
    assert_eq!(classes().await, before, "a dry run writes nothing");
    let r = admin
        .post_form(
            "/admin/rollover",
            &[("_csrf", &t), ("year", "2021"), ("action", "run")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(classes().await > before);
    let r = admin
        .post_form(
            "/admin/rollover",
            &[("_csrf", &t), ("year", "2021"), ("action", "run")],
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.text().contains("已经执行过"));
    let (n,): (i64,) = app
        .db()
        .one(Sql::new(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'rollover'",
        ))
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.stop().await;
}
