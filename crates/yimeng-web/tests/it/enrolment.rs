//! Enrolment applications (入学申请) end to end on the running server: the county imports its
//! zone table from a CSV file; a parent without an account applies for grade 1 with the
//! materials, gets an application number and finds the application with it and the child's ID
//! number; the county accepts and enrols the child into a class. Every bad input (invalid ID
//! number, child already on a register, duplicate, missing material, wrong file type, too large)
//! is refused with its reason and writes nothing.

use crate::support::{Client, Resp, TestApp};
use axum::http::Method;
use chrono::NaiveDate;
use serde_json::json;
use yimeng_domain::IdCardNo;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRtest";
const PDF: &[u8] = b"%PDF-1.4\n%test\n";

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let (v,): (i64,) = app
        .db()
        .one(Sql::new(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    v
}

async fn text(app: &TestApp, sql: &str) -> String {
    let (v,): (String,) = app
        .db()
        .one(Sql::new(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    v
}

/// A multipart body of text fields and files (field name, file name, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "----yimeng-enrolment-boundary-x7";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (k, name, data) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The grade-1 materials, each replaceable.
fn grade_one_files() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("m_hukou", "户口簿.png", PNG.to_vec()),
        ("m_property", "房产证.pdf", PDF.to_vec()),
        ("m_birth", "出生证明.png", PNG.to_vec()),
        ("m_vaccination", "接种证.png", PNG.to_vec()),
    ]
}

/// A parent's submission from a fresh page (its CSRF token and cookie).
async fn apply(parent: &Client, fields: &[(&str, &str)], files: &[(&str, &str, Vec<u8>)]) -> Resp {
    let page = parent.get("/public/enrolment").await;
    assert_eq!(page.status, 200);
    let token = page.csrf();
    let mut all = vec![("_csrf", token.as_str())];
    all.extend_from_slice(fields);
    let (ct, body) = multipart(&all, files);
    parent
        .send(Method::POST, "/public/enrolment", Some(&ct), &[], body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_applies_online_and_the_county_accepts_and_enrols_the_child() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let year = {
        use chrono::Datelike;
        yimeng_web::service::today().year()
    };
    let primary = text(
        &app,
        "SELECT code FROM school WHERE county_id = 371302 AND school_type = 'primary' ORDER BY id LIMIT 1",
    )
    .await;
    let junior = text(
        &app,
        "SELECT code FROM school WHERE county_id = 371302 AND stages LIKE '%junior%' ORDER BY id LIMIT 1",
    )
    .await;

    // The county bureau: its zone table from a CSV file, and a grade-1 class for the intake.
    let county = app.login("lanshan").await;
    let token = county.csrf().await;
    let csv = format!(
        "学段,街道（乡镇）,社区（村）,学校标识码\n小学,兰山街道,,{primary}\n初中,兰山街道,,{junior}\n"
    );
    let (ct, body) = multipart(
        &[("_csrf", &token)],
        &[("file", "学区表.csv", csv.into_bytes())],
    );
    let r = county
        .send(
            Method::POST,
            "/enrolment/zones/import",
            Some(&ct),
            &[],
            body,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let zones = county.get("/enrolment/zones").await.text();
    assert!(zones.contains("兰山街道") && zones.contains(&primary));
    // A bad zone file is refused with its row and writes nothing.
    let bad = "学段,街道（乡镇）,社区（村）,学校标识码\n高中,兰山街道,,1\n";
    let (ct, body) = multipart(
        &[("_csrf", &token)],
        &[("file", "bad.csv", bad.as_bytes().to_vec())],
    );
    let r = county
        .send(
            Method::POST,
            "/enrolment/zones/import",
            Some(&ct),
            &[],
            body,
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("第 2 行"), "{}", r.text());
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM school_zone").await, 2);
    let r = county
        .json(
            Method::POST,
            "/api/v1/classes",
            &json!({"school_code": primary, "school_year": format!("{year}-{}", year + 1), "grade": "一年级", "class_no": "1", "name": "一年级（1）班"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let child = IdCardNo::compose(371302, NaiveDate::from_ymd_opt(year - 6, 3, 1).unwrap(), 77);
    let card = child.as_str().to_string();
    let fields = |card: &str| -> Vec<(&'static str, String)> {
        vec![
            ("kind", "primary_entry".into()),
            ("grade", "P1".into()),
            ("child_name", "张小雨".into()),
            ("id_card", card.to_string()),
            ("county", "371302".into()),
            ("street", "兰山街道".into()),
            ("guardian_name", "张大山".into()),
            ("phone", "13900000001".into()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { v.clone() };
    let parent = app.client();
    let send = async |f: Vec<(&'static str, String)>, files: Vec<(&str, &str, Vec<u8>)>| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        apply(&parent, &f, &files).await
    };
    let applications = async || scalar(&app, "SELECT COUNT(*) FROM enrolment_application").await;

    // Bad input, each refused with its reason, nothing written.
    let mut wrong = card.clone();
    wrong.replace_range(17..18, if &card[17..18] == "1" { "2" } else { "1" });
    let r = send(as_refs(&fields(&wrong)), grade_one_files()).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("儿童身份证件号"), "{}", r.text());
    let mut files = grade_one_files();
    files.retain(|f| f.0 != "m_birth");
    let r = send(fields(&card), files).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("出生证明"), "{}", r.text());
    let mut files = grade_one_files();
    files[2].2 = b"GIF89a not allowed".to_vec();
    let r = send(fields(&card), files).await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("不是图片（JPG、PNG）或 PDF"),
        "{}",
        r.text()
    );
    let mut files = grade_one_files();
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 10, 0);
    files[0].2 = big;
    let r = send(fields(&card), files).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("超过 5 MB"), "{}", r.text());
    // A child already on a school's register (grade 7 has no age rule to stop it first).
    let enrolled = text(
        &app,
        "SELECT id_card FROM student WHERE county_id = 371302 AND status = '01' AND id_card IS NOT NULL ORDER BY id LIMIT 1",
    )
    .await;
    let mut f7 = fields(&enrolled);
    f7[1].1 = "J1".into();
    f7[0].1 = "junior_entry".into();
    let r = send(
        f7,
        vec![
            ("m_hukou", "a.png", PNG.to_vec()),
            ("m_lease", "b.pdf", PDF.to_vec()),
            ("m_primary_record", "c.pdf", PDF.to_vec()),
        ],
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("已在本市学校登记学籍"), "{}", r.text());
    assert_eq!(applications().await, 0);

    // The application: a number to keep.
    let r = send(fields(&card), grade_one_files()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.text();
    let at = page.find("id=\"app-no\">").expect("number shown") + "id=\"app-no\">".len();
    let number = page[at..at + page[at..].find('<').unwrap()].to_string();
    assert!(number.starts_with(&format!("RX{year}-371302-")), "{number}");
    // A second application for the same child is a duplicate.
    let r = send(fields(&card), grade_one_files()).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("不能重复申请"), "{}", r.text());
    assert_eq!(applications().await, 1);

    // The parent's lookup: number and ID number, nothing with another ID number.
    let look = parent.get("/public/enrolment/status").await;
    let t = look.csrf();
    let r = parent
        .post_form(
            "/public/enrolment/status",
            &[("_csrf", &t), ("number", &number), ("id_card", &card)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("已提交") && r.text().contains("张小雨"));
    assert!(!r.text().contains(&card), "the ID number is masked");
    let r = parent
        .post_form(
            "/public/enrolment/status",
            &[("_csrf", &t), ("number", &number), ("id_card", &enrolled)],
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(!r.text().contains("张小雨"));

    // The county reviews: accepts, then enrols into 一年级（1）班 of the zone school.
    let (county_id, id): (i32, i64) = app
        .db()
        .one(Sql::new("SELECT county_id, id FROM enrolment_application"))
        .await
        .unwrap();
    let list = county.get("/enrolment").await.text();
    assert!(list.contains(&number));
    let detail = county.get(&format!("/enrolment/{county_id}/{id}")).await;
    assert_eq!(detail.status, 200);
    assert!(detail.text().contains("出生证明"));
    let r = county
        .post_form(
            &format!("/enrolment/{county_id}/{id}/review"),
            &[("_csrf", &token), ("decision", "accept")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    // Another county's bureau does not see it.
    let other = app.login("luozhuang").await;
    assert_eq!(
        other
            .get(&format!("/enrolment/{county_id}/{id}"))
            .await
            .status,
        404
    );
    let class = scalar(
        &app,
        &format!(
            "SELECT c.id FROM class c JOIN school s ON s.county_id = c.county_id AND s.id = c.school_id \
             WHERE s.code = '{primary}' AND c.school_year = {year} AND c.grade = 'P1'"
        ),
    )
    .await;
    let r = county
        .post_form(
            &format!("/enrolment/{county_id}/{id}/enrol"),
            &[("_csrf", &token), ("class", &class.to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.location().is_some_and(|l| l.starts_with("/students/")));
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT COUNT(*) FROM student WHERE id_card = '{card}' AND class_id = {class} AND status = '01'")
        )
        .await,
        1
    );
    let r = parent
        .post_form(
            "/public/enrolment/status",
            &[("_csrf", &t), ("number", &number), ("id_card", &card)],
        )
        .await;
    assert!(r.text().contains("已入学"), "{}", r.text());
    // An enrolled child's application cannot be withdrawn; a wrong ID number finds nothing.
    let r = parent
        .post_form(
            "/public/enrolment/withdraw",
            &[("_csrf", &t), ("number", &number), ("id_card", &enrolled)],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text());
    let r = parent
        .post_form(
            "/public/enrolment/withdraw",
            &[("_csrf", &t), ("number", &number), ("id_card", &card)],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("不能撤回"), "{}", r.text());
    app.stop().await;
}

/// The JSON API: the county lists its applications, reads one with its files and history,
/// accepts it; a second decision is a conflict (409) and changes nothing; another county's
/// bureau and the public are refused; the zone table is the county's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_county_reviews_an_application_through_the_api_and_a_double_decision_conflicts() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let year = {
        use chrono::Datelike;
        yimeng_web::service::today().year()
    };
    let primary = text(
        &app,
        "SELECT code FROM school WHERE county_id = 371302 AND school_type = 'primary' ORDER BY id LIMIT 1",
    )
    .await;
    let county = app.login("lanshan").await;
    let token = county.csrf().await;
    let csv = format!("学段,街道（乡镇）,社区（村）,学校标识码\n小学,兰山街道,,{primary}\n");
    let (ct, body) = multipart(
        &[("_csrf", &token)],
        &[("file", "学区表.csv", csv.into_bytes())],
    );
    let r = county
        .send(
            Method::POST,
            "/enrolment/zones/import",
            Some(&ct),
            &[],
            body,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = county.get("/api/v1/enrolment/zones").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let z = r.json();
    assert_eq!(z["county"], 371302);
    assert_eq!(z["items"].as_array().unwrap().len(), 1);
    assert_eq!(z["items"][0]["school_code"], primary.as_str());

    let card = IdCardNo::compose(371302, NaiveDate::from_ymd_opt(year - 6, 3, 1).unwrap(), 78);
    let card = card.as_str().to_string();
    let parent = app.client();
    let r = apply(
        &parent,
        &[
            ("kind", "primary_entry"),
            ("grade", "P1"),
            ("child_name", "李小禾"),
            ("id_card", &card),
            ("county", "371302"),
            ("street", "兰山街道"),
            ("guardian_name", "李大川"),
            ("phone", "13900000002"),
        ],
        &grade_one_files(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (county_id, id): (i32, i64) = app
        .db()
        .one(Sql::new("SELECT county_id, id FROM enrolment_application"))
        .await
        .unwrap();

    // The list, paged like the other lists.
    let r = county
        .get("/api/v1/enrolment/applications?page=1&per_page=10")
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let l = r.json();
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    assert_eq!(l["items"][0]["id"], id);
    assert_eq!(l["has_next"], false);
    let r = county
        .get("/api/v1/enrolment/applications?page=2&per_page=10")
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);

    // One application: status, files without bytes, no history yet.
    let path = format!("/api/v1/enrolment/applications/{county_id}/{id}");
    let r = county.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let d = r.json();
    assert_eq!(d["application"]["state"], "submitted");
    assert_eq!(d["files"].as_array().unwrap().len(), 4);
    assert!(d["files"][0].get("content").is_none());
    assert_eq!(d["history"].as_array().unwrap().len(), 0);
    // The review step on the approval flow: its working-day deadline, not yet overdue.
    assert_eq!(d["application"]["review_state"], "pending");
    assert!(d["application"]["review_deadline"].is_string(), "{d}");
    assert_eq!(d["application"]["overdue"], false);
    // Past its deadline, the API and the review page flag it overdue.
    let mut q = Sql::new("UPDATE enrolment_application SET step_deadline = ");
    q.bind(NaiveDate::from_ymd_opt(2020, 1, 2).unwrap())
        .push(" WHERE id = ")
        .bind(id);
    app.db().exec(q).await.unwrap();
    let d = county.get(&path).await.json();
    assert_eq!(d["application"]["overdue"], true);
    let page = county
        .get(&format!("/enrolment/{county_id}/{id}"))
        .await
        .text();
    assert!(page.contains("id=\"overdue\""), "{page}");

    // Outside the scope: another county's bureau 404, the public 403.
    let other = app.login("luozhuang").await;
    assert_eq!(other.get(&path).await.status, 404);
    let r = other
        .json(
            Method::POST,
            &format!("{path}/review"),
            &json!({"decision": "accept"}),
            Some(&other.csrf().await),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text());
    let public = app.login("gongzhong").await;
    assert_eq!(public.get(&path).await.status, 403);

    // A bad decision is refused; the county accepts; a second decision conflicts.
    let r = county
        .json(
            Method::POST,
            &format!("{path}/review"),
            &json!({"decision": "maybe"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = county
        .json(
            Method::POST,
            &format!("{path}/review"),
            &json!({"decision": "accept"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let accepted = r.json()["application"]["state"].clone();
    assert_ne!(accepted, "submitted");
    let r = county
        .json(
            Method::POST,
            &format!("{path}/review"),
            &json!({"decision": "accept"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    let r = county
        .json(
            Method::POST,
            &format!("{path}/review"),
            &json!({"decision": "refuse", "note": "重复"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    let d = county.get(&path).await.json();
    assert_eq!(d["application"]["state"], accepted);
    assert_eq!(d["history"].as_array().unwrap().len(), 1);
    // Decided late: the history row says so; the completed review is no longer overdue.
    assert_eq!(d["history"][0]["action"], "approve");
    assert_eq!(d["history"][0]["overdue"], true);
    assert_eq!(d["application"]["review_state"], "completed");
    assert_eq!(d["application"]["overdue"], false);
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM approval_action WHERE request_kind = 'enrolment'"
        )
        .await,
        1
    );
    app.stop().await;
}

/// A material file is downloaded by the application's county and by nobody of another county,
/// whichever county the address names.
#[tokio::test]
async fn another_countys_bureau_gets_404_for_a_material_file() {
    use yimeng_domain::enrolment::{ApplicationKind, Material};
    use yimeng_domain::{Grade, RegionCode, Rules, Scope, Stage, student::Ethnicity};
    use yimeng_store::enrolment::{self, NewApplication, Upload, ZoneInput};
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let primary = text(
        &app,
        "SELECT code FROM school WHERE county_id = 371302 AND school_type = 'primary' ORDER BY id LIMIT 1",
    )
    .await;
    enrolment::add_zones(
        app.db(),
        &yimeng_store::Actor::system(),
        &Scope::City,
        371302,
        &[ZoneInput {
            row: 0,
            stage: Stage::Primary,
            street: "兰山街道".into(),
            community: String::new(),
            school_code: primary,
        }],
    )
    .await
    .unwrap();
    let upload = |material, file_name: &str, bytes: &[u8]| Upload {
        material,
        file_name: file_name.into(),
        bytes: bytes.to_vec(),
    };
    let a = enrolment::submit(
        app.db(),
        &Rules::default(),
        &yimeng_domain::calendar::WorkCalendar::seeded(),
        NaiveDate::from_ymd_opt(2020, 6, 1).unwrap(),
        NewApplication {
            kind: ApplicationKind::PrimaryEntry,
            grade: Grade::P1,
            school_year: 2020,
            county: RegionCode::from_i32(371302),
            child_name: "王小花".into(),
            id_card: IdCardNo::compose(371302, NaiveDate::from_ymd_opt(2014, 3, 1).unwrap(), 61),
            ethnicity: Ethnicity::Han,
            street: "兰山街道".into(),
            community: String::new(),
            guardian_name: "王大明".into(),
            guardian_phone: "13800000001".into(),
            files: vec![
                upload(Material::HouseholdRegister, "户口簿.png", PNG),
                upload(Material::PropertyProof, "房产证.pdf", PDF),
                upload(Material::BirthCertificate, "出生证明.png", PNG),
                upload(Material::VaccinationCertificate, "接种证.png", PNG),
            ],
        },
    )
    .await
    .unwrap();
    let file = enrolment::files(app.db(), &a).await.unwrap()[1].id;
    let own = app.login("lanshan").await;
    let r = own.get(&format!("/enrolment/371302/files/{file}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, PDF);
    let other = app.login("luozhuang").await;
    for county in [371302, 371311] {
        let r = other
            .get(&format!("/enrolment/{county}/files/{file}"))
            .await;
        assert_eq!(r.status, 404, "/enrolment/{county}/files/{file}");
    }
}
