//! A school cannot make a change that needs the county bureau's approval (休学, 复学, 辍学 of a
//! compulsory-stage student) by any write path: the status API makes a request, a new student
//! cannot overwrite an existing record, and an import row is refused.

use crate::support::*;
use axum::http::Method;
use serde_json::json;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

async fn status_and_class(app: &TestApp, id: i64) -> (String, Option<i64>) {
    let mut q = Sql::new("SELECT status, class_id FROM student WHERE id = ");
    q.bind(id);
    app.db().one(q).await.unwrap()
}

/// A compulsory-stage student of the school account's school, 在读 and in a class.
async fn enrolled_student(app: &TestApp) -> i64 {
    let mut q = Sql::new(
        "SELECT MIN(s.id) FROM student s JOIN class c ON c.county_id = s.county_id AND c.id = s.class_id \
         WHERE s.status = '01' AND c.grade IN ('P1','P2','P3','P4','P5','P6','J1','J2','J3') AND s.school_id = ",
    );
    q.bind(app.ids.own_school);
    app.db().scalar(q).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_api_of_a_school_files_a_request_and_leaves_the_status() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let id = enrolled_student(&app).await;
        let before = status_and_class(&app, id).await;
        let school = app.login(&app.ids.school_login).await;
        let token = school.csrf().await;
        let api = format!("/api/v1/students/{id}/status");
        for status in ["休学", "辍学"] {
            let r = school
                .json(
                    Method::POST,
                    &api,
                    &json!({"status": status, "reason": "家庭经济困难"}),
                    Some(&token),
                )
                .await;
            if status == "休学" {
                assert_eq!(r.status, 202, "{}", r.text());
                assert_eq!(r.json()["status_request"]["state"], "pending");
            } else {
                // One pending request at a time.
                assert_eq!(r.status, 409, "{}", r.text());
            }
            assert_eq!(status_and_class(&app, id).await, before);
        }
        let mut q = Sql::new(
            "SELECT COUNT(*) FROM status_request WHERE state = 'pending' AND kind = 'suspend' AND student_id = ",
        );
        q.bind(id);
        assert_eq!(app.db().scalar(q).await.unwrap(), 1);
        // The edit API ignores a status in the body.
        let r = school
            .json(
                Method::PUT,
                &format!("/api/v1/students/{id}"),
                &json!({"status": "辍学"}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(status_and_class(&app, id).await, before);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_student_with_an_existing_number_is_refused_by_the_api_and_the_form() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let id = enrolled_student(&app).await;
        let before = status_and_class(&app, id).await;
        assert!(before.1.is_some());
        // The record's own numbers: a student without an ID number carries a J or L number, so
        // the hostile write repeats the ID number as well as the 学籍号.
        let (no, card, code): (String, String, String) = {
            let mut q = Sql::new(
                "SELECT s.student_no, s.id_card, k.code FROM student s JOIN school k ON k.county_id = s.county_id AND k.id = s.school_id WHERE s.id = ",
            );
            q.bind(id);
            app.db().one(q).await.unwrap()
        };
        let id_no = yimeng_domain::IdCardNo::parse(&card).unwrap();
        let (sex, born) = (id_no.sex().label(), id_no.birth_date().to_string());
        let school = app.login(&app.ids.school_login).await;
        let token = school.csrf().await;
        let fields = [
            ("school_code", code.as_str()),
            ("name", "覆盖者"),
            ("sex", sex),
            ("birth_date", born.as_str()),
            ("id_card", card.as_str()),
            ("student_no", no.as_str()),
            ("ethnicity", "汉族"),
            ("status", "辍学"),
        ];
        let body: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let r = school
            .json(Method::POST, "/api/v1/students", &json!(body), Some(&token))
            .await;
        assert_eq!(r.status, 422, "{}", r.text());
        let text = r.text();
        assert!(text.contains("不能重复新增"), "{text}");
        assert!(text.contains("辍学须经县区教育局审批"), "{text}");
        assert_eq!(status_and_class(&app, id).await, before);
        // The new-student form, with 在读: the existing record keeps its class.
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.retain(|(k, _)| *k != "status");
        form.push(("status", "在读"));
        form.push(("_csrf", &token));
        let r = school.post_form("/students", &form).await;
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(r.text().contains("不能重复新增"), "{}", r.text());
        assert_eq!(status_and_class(&app, id).await, before);
        let n: i64 = app
            .db()
            .scalar(Sql::new(
                "SELECT COUNT(*) FROM student WHERE name = '覆盖者'",
            ))
            .await
            .unwrap();
        assert_eq!(n, 0);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_import_that_marks_a_student_as_dropped_out_is_refused() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let id = enrolled_student(&app).await;
    let before = status_and_class(&app, id).await;
    // The school's registry as exported, with the student's 学籍状态 set to 辍学.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("students.csv");
    let scope = yimeng_domain::Scope::School(yimeng_domain::SchoolRef {
        county: yimeng_domain::RegionCode::from_i32(371302),
        id: app.ids.own_school,
    });
    yimeng_web::service::export::export_table(
        app.db(),
        &scope,
        yimeng_io::Table::Students,
        &out,
        yimeng_io::FileFormat::Csv,
        &|_| {},
    )
    .await
    .unwrap();
    let no: String = {
        let mut q = Sql::new("SELECT student_no FROM student WHERE id = ");
        q.bind(id);
        app.db().one::<(String,)>(q).await.unwrap().0
    };
    let text = std::fs::read_to_string(&out).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let status_col = lines[0]
        .split(',')
        .position(|h| h == "学籍状态")
        .expect("学籍状态 column");
    let row = lines
        .iter()
        .position(|l| l.contains(&no))
        .expect("the student's row");
    let mut cells: Vec<String> = lines[row].split(',').map(String::from).collect();
    assert_eq!(cells[status_col], "在读");
    cells[status_col] = "辍学".into();
    lines[row] = cells.join(",");
    let csv = lines.join("\n") + "\n";
    let school = app.login(&app.ids.school_login).await;
    let token = school.csrf().await;
    let r = school
        .post_multipart(
            "/api/v1/imports/students",
            &[],
            Some(("file", "学生.csv", csv.as_bytes())),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let text = r.text();
    assert!(
        text.contains("义务教育阶段学生辍学须经县区教育局审批，请提交学籍异动申请"),
        "{text}"
    );
    assert!(text.contains(&format!("{}", row + 1)), "{text}");
    assert_eq!(status_and_class(&app, id).await, before);
    app.stop().await;
}
