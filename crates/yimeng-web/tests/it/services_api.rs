//! The services API and the rollover page on the running server: a transfer started by the
//! receiving school through `/api/v1/transfers` goes through the sending school and the county
//! bureau, with deadlines on the working-day calendar, and moves the student only at the end; the
//! administrator's year rollover (dry run, run, refused second run).

use crate::support::{PW, TestApp};
use axum::http::Method;
use serde_json::json;
use yimeng_store::testing::{RawQuery, Sql};
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

/// A valid ID number of a child born on 2016-05-04 in 济南市历下区 (never registered in Linyi).
fn outside_child_id(seq: u16) -> String {
    let first17 = format!("37010220160504{:03}", seq % 1000);
    let check = yimeng_domain::idcard::check_char(first17.as_bytes()) as char;
    format!("{first17}{check}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_across_the_city_boundary_on_the_pages_and_the_api() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let i = app.ids.clone();
    let school = app.login(&i.school_login).await;
    let county = app.login("lanshan").await;
    let pdf: &[u8] = b"%PDF-1.4\n%test\n1 0 obj <<>> endobj\n%%EOF\n";

    // 转出本市 from the school's own page: one of its students leaves for Jinan.
    let (student_id, student_no, id_card): (i64, String, String) = app
        .db()
        .one(Sql::new(&format!(
            "SELECT id, student_no, id_card FROM student WHERE county_id = 371302 AND school_id = {} \
             AND status = '01' AND id_card IS NOT NULL ORDER BY id LIMIT 1",
            i.own_school
        )))
        .await
        .unwrap();
    let form = school.get("/transfers/outgoing").await;
    assert_eq!(form.status, 200, "{}", form.text());
    let t = form.csrf();
    let fields = |to_county: &'static str| {
        vec![
            ("_csrf", t.clone()),
            ("student_no", student_no.clone()),
            ("id_card", id_card.clone()),
            ("to_name", "济南市历下区甸柳小学".to_string()),
            ("to_county", to_county.to_string()),
            ("reason", "随父母迁居济南".to_string()),
        ]
    };
    // No acceptance letter: the form comes back with the reason.
    let f = fields("370102");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = school
        .post_multipart("/transfers/outgoing", &pairs, None, &[])
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("转入学校接收证明"), "{}", r.text());
    // A Linyi county as the destination is a transfer within the city.
    let f = fields("371311");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = school
        .post_multipart(
            "/transfers/outgoing",
            &pairs,
            Some(("m_receiving_acceptance", "接收证明.pdf", pdf)),
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("市内转学"), "{}", r.text());
    let f = fields("370102");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = school
        .post_multipart(
            "/transfers/outgoing",
            &pairs,
            Some(("m_receiving_acceptance", "接收证明.pdf", pdf)),
            &[],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let at = r.location().unwrap().to_string();
    let page = school.get(&at).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("转出本市") && page.text().contains("接收证明.pdf"),
        "{}",
        page.text()
    );
    // The material opens for the parties.
    let file_link = page
        .text()
        .split("href=\"")
        .find(|s| s.contains("/files/"))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let f = county.get(&file_link).await;
    assert_eq!(
        (f.status, f.header("content-type")),
        (200, Some("application/pdf"))
    );
    // The school approves (its step), then the county: the record closes.
    let r = school
        .post_form(
            &format!("{at}/decide"),
            &[("_csrf", &page.csrf()), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let status = |app: &TestApp, id: i64| {
        let db = app.db().clone();
        async move {
            db.one::<(String,)>(Sql::new(&format!(
                "SELECT status FROM student WHERE county_id = 371302 AND id = {id}"
            )))
            .await
            .unwrap()
            .0
        }
    };
    assert_eq!(status(&app, student_id).await, "01");
    let ct = county.csrf().await;
    let r = county
        .post_form(
            &format!("{at}/decide"),
            &[("_csrf", &ct), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(status(&app, student_id).await, "10");

    // 外市转入 through the API: a child from Jinan joins the school.
    let (grade,): (String,) = app
        .db()
        .one(Sql::new(&format!(
            "SELECT grade FROM class WHERE county_id = 371302 AND school_id = {} AND grade NOT LIKE 'K%' ORDER BY grade DESC LIMIT 1",
            i.own_school
        )))
        .await
        .unwrap();
    let child = outside_child_id(7);
    let api_fields = vec![
        ("name", "李明"),
        ("id_card", child.as_str()),
        ("ethnicity", "汉族"),
        ("guardian1_name", "李强"),
        ("guardian1_relation", "父亲"),
        ("guardian1_phone", "13800000000"),
        ("grade", grade.as_str()),
        ("from_name", "济南市历下区甸柳小学"),
        ("from_county", "370102"),
        ("reason", "随父母来临沂务工"),
    ];
    let tok = school.csrf().await;
    let hdr = [("x-csrf-token", tok.as_str())];
    // Not an image or PDF: refused, nothing written.
    let r = school
        .post_multipart(
            "/api/v1/transfers/incoming",
            &api_fields,
            Some(("m_sending_consent", "同意转出证明.txt", b"plain text")),
            &hdr,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("不是 JPG"), "{}", r.text());
    let r = school
        .post_multipart(
            "/api/v1/transfers/incoming",
            &api_fields,
            Some(("m_sending_consent", "同意转出证明.pdf", pdf)),
            &hdr,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let req = r.json();
    assert_eq!(req["route"], "外市转入");
    assert!(req.get("incoming_json").is_none(), "{req}");
    let (rc, rid) = (
        req["county_id"].as_i64().unwrap(),
        req["id"].as_i64().unwrap(),
    );
    let count_child = || {
        let db = app.db().clone();
        let child = child.clone();
        async move {
            let mut q = Sql::new("SELECT COUNT(*) FROM student WHERE id_card = ");
            q.bind(child);
            db.scalar(q).await.unwrap()
        }
    };
    assert_eq!(count_child().await, 0, "nothing before the approval");
    let shown = county.get(&format!("/api/v1/transfers/{rc}/{rid}")).await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert_eq!(shown.json()["files"].as_array().map(Vec::len), Some(1));
    let r = county
        .json(
            Method::POST,
            &format!("/api/v1/transfers/{rc}/{rid}/decide"),
            &json!({"decision": "approve"}),
            Some(&ct),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "completed");
    assert_eq!(count_child().await, 1);
    let (school_id, st): (i64, String) = {
        let mut q = Sql::new("SELECT school_id, status FROM student WHERE id_card = ");
        q.bind(child.clone());
        app.db().one(q).await.unwrap()
    };
    assert_eq!((school_id, st.as_str()), (i.own_school, "01"));
    app.stop().await;
}
