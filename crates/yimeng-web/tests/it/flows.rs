//! What bureau users do, end to end on the running server: browse the region tree, change a
//! student's status and see it in the record's history and the audit log, export only their own
//! county, find people by name, pinyin, ID number and 学籍号 within their scope, import a file
//! from the browser (the error sheet first, then the commit), switch to English, come back to the
//! page they asked for after logging in.

use crate::files::{STUDENT_HEADER, id, student_line};
use crate::support::{PW, TestApp};
use axum::http::Method;
use serde_json::json;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

async fn text(app: &TestApp, sql: &str) -> String {
    let (v,): (String,) = app
        .db()
        .one(Sql::new(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_user_walks_the_tree_changes_a_status_and_finds_it_in_history_and_audit() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let i = app.ids.clone();
        let c = app.login("lanshan").await;
        // Home → county → school → class → student.
        let home = c.get("/").await;
        assert_eq!(home.status, 200);
        assert!(home.text().contains("兰山区"));
        let school_name = text(
            &app,
            &format!("SELECT name FROM school WHERE id = {}", i.own_school),
        )
        .await;
        let r = c.get(&format!("/schools/{}", i.own_school)).await;
        assert!(r.text().contains(&school_name));
        let class_name = text(
            &app,
            &format!("SELECT name FROM class WHERE id = {}", i.own_class),
        )
        .await;
        let r = c.get(&format!("/classes/{}", i.own_class)).await;
        assert!(r.text().contains(&class_name));
        let (student, id_card): (String, String) = {
            let mut q = Sql::new("SELECT name, id_card FROM student WHERE id = ");
            q.bind(i.own_student);
            app.db().one(q).await.unwrap()
        };
        let r = c.get(&format!("/students/{}", i.own_student)).await;
        let page = r.text();
        assert!(page.contains(&student));
        // The county bureau holds the personal-data right: its record page shows the number in full.
        assert!(page.contains(&id_card));
        // A city department reads the same page with the number masked.
        let dept = app.login("jyk").await;
        let page = dept
            .get(&format!("/students/{}", i.own_student))
            .await
            .text();
        assert!(!page.contains(&id_card));
        assert!(page.contains(&yimeng_domain::idcard::mask(&id_card)));

        // A status change through the form, with its reason.
        let token = c.csrf().await;
        let r = c
            .post_form(
                &format!("/students/{}/status", i.own_student),
                &[
                    ("_csrf", &token),
                    ("status", "休学"),
                    ("reason", "因病休学一年"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text());
        let page = c.get(&format!("/students/{}", i.own_student)).await.text();
        assert!(
            page.contains("休学") && page.contains("因病休学一年"),
            "history shows the change"
        );
        // An edit through the API: before and after land in the record's history.
        let r = c
            .json(
                Method::PUT,
                &format!("/api/v1/students/{}", i.own_student),
                &json!({"name": "王小明"}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let page = c.get(&format!("/students/{}", i.own_student)).await.text();
        assert!(
            page.contains("王小明") && page.contains(&student),
            "old and new names in the history"
        );
        // An invalid edit is refused field by field, and nothing changes.
        let r = c
            .json(
                Method::PUT,
                &format!("/api/v1/students/{}", i.own_student),
                &json!({"birth_date": "2030-02-30"}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, 422);
        let problem = r.json();
        assert!(
            problem["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == "birth_date"
                    && e["reason"].as_str().unwrap().contains("不是有效日期"))),
            "{problem}"
        );

        // The administrator finds both writes in the audit log, with who and from where.
        let admin = app.login("admin").await;
        let log = admin.get("/admin/audit?actor=lanshan").await.text();
        assert!(log.contains("127.0.0.1"));
        let writes: (i64,) = app
            .db()
            .one(Sql::new(&format!("SELECT COUNT(*) FROM audit_log WHERE actor = 'lanshan' AND entity = 'student' AND entity_id = {}", i.own_student)))
            .await
            .unwrap();
        assert_eq!(
            writes.0,
            2,
            "{:?}",
            app.db()
                .all::<(String, String, String)>(Sql::new(
                    "SELECT actor, action, entity FROM audit_log WHERE actor = 'lanshan'"
                ))
                .await
                .unwrap()
        );
        let api = admin
            .get("/api/v1/audit?actor=lanshan&entity=student")
            .await
            .json();
        assert_eq!(api["items"].as_array().map(Vec::len), Some(2), "{api}");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_hold_only_the_users_scope_and_are_audited() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let c = app.login("lanshan").await;
        let r = c.get("/export/students?format=csv").await;
        assert_eq!(r.status, 200);
        assert!(
            r.header("content-disposition")
                .is_some_and(|d| d.starts_with("attachment"))
        );
        let body = r.text();
        let rows: Vec<&str> = body
            .trim_start_matches('\u{feff}')
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .collect();
        let lanshan: (i64,) = app
            .db()
            .one(Sql::new(
                "SELECT COUNT(*) FROM student WHERE county_id = 371302",
            ))
            .await
            .unwrap();
        assert_eq!(rows.len() as i64, lanshan.0);
        let codes: std::collections::BTreeSet<String> = app
            .db()
            .all::<(String,)>(Sql::new("SELECT code FROM school WHERE county_id = 371302"))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert!(
            rows.iter()
                .all(|r| codes.contains(r.split(',').next().unwrap())),
            "only 兰山区 schools"
        );
        let audited: (i64,) = app
            .db()
            .one(Sql::new(
                "SELECT COUNT(*) FROM audit_log WHERE actor = 'lanshan' AND action = 'export'",
            ))
            .await
            .unwrap();
        assert_eq!(audited.0, 1);

        // A page's table as xlsx.
        let r = c
            .get(&format!(
                "/students?school={}&format=xlsx",
                app.ids.own_school
            ))
            .await;
        assert_eq!(r.status, 200);
        assert!(r.body.starts_with(b"PK"), "an xlsx file");
        // A school account's list export holds its own school only.
        let s = app.login(&app.ids.school_login).await;
        let body = s.get("/schools?format=csv").await.text();
        assert_eq!(
            body.trim_start_matches('\u{feff}')
                .lines()
                .filter(|l| !l.is_empty())
                .count(),
            2,
            "{body}"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_people_by_name_pinyin_id_and_student_no_only_within_scope() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let i = app.ids.clone();
        let pick = async |id: i64| -> (String, String, String, String) {
            let mut q =
                Sql::new("SELECT name, name_py, id_card, student_no FROM student WHERE id = ");
            q.bind(id);
            app.db().one(q).await.unwrap()
        };
        let own = pick(i.own_student).await;
        let foreign = pick(i.foreign_student).await;
        let c = app.login("lanshan").await;
        let link = |id: i64| format!("/students/{id}\"");
        // A number names one person: the search goes straight to the record.
        for q in [own.2.as_str(), own.3.as_str()] {
            let r = c
                .get(&format!("/search?q={}", crate::support::enc(q)))
                .await;
            assert_eq!(
                r.location(),
                Some(format!("/students/{}", i.own_student).as_str()),
                "{q}"
            );
        }
        let page = c
            .get(&format!("/search?q={}", crate::support::enc(&own.0)))
            .await
            .text();
        assert!(page.contains(&link(i.own_student)), "{}", own.0);
        let page = c
            .get(&format!("/search?q={}", crate::support::enc(&own.1)))
            .await
            .text();
        assert!(page.contains("/students/"), "pinyin initials {}", own.1);
        for q in [foreign.2.as_str(), foreign.3.as_str()] {
            let r = c
                .get(&format!("/search?q={}", crate::support::enc(q)))
                .await;
            assert_eq!(r.status, 200);
            assert!(
                !r.text().contains(&link(i.foreign_student)),
                "a 罗庄区 record found from 兰山区 by {q}"
            );
        }
        let api = c
            .get(&format!(
                "/api/v1/search?q={}",
                crate::support::enc(&foreign.2)
            ))
            .await
            .json();
        assert!(!api.to_string().contains(&foreign.2));
        // The school code finds the school.
        let code = text(
            &app,
            &format!("SELECT code FROM school WHERE id = {}", i.own_school),
        )
        .await;
        let r = c.get(&format!("/search?q={code}")).await;
        assert_eq!(
            r.location(),
            Some(format!("/schools/{}", i.own_school).as_str())
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_imported_from_the_browser_shows_its_errors_first_and_commits_only_when_clean() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let c = app.login("lanshan").await;
        let token = c.csrf().await;
        let (code, grade, class_no): (String, String, i32) = {
            let mut q = Sql::new(
                "SELECT s.code, c.grade, c.class_no FROM class c JOIN school s ON s.id = c.school_id WHERE c.id = ",
            );
            q.bind(app.ids.own_class);
            app.db().one(q).await.unwrap()
        };
        let grade = yimeng_domain::Grade::from_code(&grade)
            .unwrap()
            .label()
            .to_string();
        let mut bad_id = id(9001);
        bad_id.pop();
        bad_id.push(if id(9001).ends_with('0') { '1' } else { '0' });
        let good = [
            student_line(&code, &grade, class_no as u32, "赵一", &id(9001)),
            student_line(&code, &grade, class_no as u32, "钱二", &id(9002)),
        ];
        let bad = [
            good[0].clone(),
            student_line(&code, &grade, class_no as u32, "孙三", &bad_id),
        ];
        let csv =
            |lines: &[String]| format!("{STUDENT_HEADER}\n{}\n", lines.join("\n")).into_bytes();
        let before: (i64,) = app
            .db()
            .one(Sql::new("SELECT COUNT(*) FROM student"))
            .await
            .unwrap();

        let r = c
            .post_multipart(
                "/import",
                &[("_csrf", &token), ("table", "students")],
                Some(("file", "学生.csv", &csv(&bad))),
                &[],
            )
            .await;
        assert_eq!(r.status, 422);
        let page = r.text();
        assert!(
            page.contains("身份证件号") && page.contains("校验位"),
            "the error names the column and reason"
        );
        let marker = "/import/";
        let at = page
            .find("/errors.xlsx")
            .expect("a link to the error sheet");
        let start = page[..at].rfind(marker).unwrap() + marker.len();
        let pending = &page[start..at];
        let sheet = c.get(&format!("/import/{pending}/errors.xlsx")).await;
        assert_eq!(sheet.status, 200);
        assert!(sheet.body.starts_with(b"PK"));
        // All-or-nothing: a file with a bad row cannot be committed.
        let r = c
            .post_form(&format!("/import/{pending}/commit"), &[("_csrf", &token)])
            .await;
        assert_ne!(r.status, 200);
        let after: (i64,) = app
            .db()
            .one(Sql::new("SELECT COUNT(*) FROM student"))
            .await
            .unwrap();
        assert_eq!(after.0, before.0);

        let r = c
            .post_multipart(
                "/import",
                &[("_csrf", &token), ("table", "students")],
                Some(("file", "学生.csv", &csv(&good))),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.text();
        let at = page.find("/commit\"").expect("a commit button");
        let start = page[..at].rfind(marker).unwrap() + marker.len();
        let pending = page[start..at].to_string();
        // Another user cannot commit someone else's upload.
        let other = app.login(&app.ids.school_login).await;
        let ot = other.csrf().await;
        assert_eq!(
            other
                .post_form(&format!("/import/{pending}/commit"), &[("_csrf", &ot)])
                .await
                .status,
            404
        );
        let r = c
            .post_form(&format!("/import/{pending}/commit"), &[("_csrf", &token)])
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let after: (i64,) = app
            .db()
            .one(Sql::new("SELECT COUNT(*) FROM student"))
            .await
            .unwrap();
        assert_eq!(after.0, before.0 + 2);
        let imports: (i64,) = app
            .db()
            .one(Sql::new(
                "SELECT COUNT(*) FROM audit_log WHERE actor = 'lanshan' AND action = 'import'",
            ))
            .await
            .unwrap();
        assert!(imports.0 >= 1);
        // The same file once more changes nothing (each row is recognised).
        let r = c
            .post_multipart(
                "/import",
                &[("_csrf", &token), ("table", "students")],
                Some(("file", "学生.csv", &csv(&good))),
                &[],
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(
            r.text().contains("未变"),
            "re-import is reported as unchanged"
        );
        // A file of another county's school is refused whole.
        let foreign_code = text(
            &app,
            &format!(
                "SELECT code FROM school WHERE id = {}",
                app.ids.foreign_school
            ),
        )
        .await;
        let line = student_line(&foreign_code, "一年级", 1, "周四", &id(9003));
        let r = c
            .post_multipart(
                "/import",
                &[("_csrf", &token), ("table", "students")],
                Some(("file", "学生.csv", &csv(&[line]))),
                &[],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.text().contains(&foreign_code));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interface_speaks_english_on_request_and_returns_to_the_page_asked_for() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.client();
    // The page asked for survives the login.
    let r = c.get("/students?q=%E7%8E%8B").await;
    assert_eq!(r.status, 303);
    let to = r.location().unwrap().to_string();
    assert!(to.starts_with("/login?next="), "{to}");
    let form = c.get(&to).await;
    let next = {
        let t = form.text();
        let p = "name=\"next\" value=\"";
        let s = t.find(p).unwrap() + p.len();
        t[s..s + t[s..].find('"').unwrap()].to_string()
    };
    assert_eq!(next, "/students?q=%E7%8E%8B");
    let r = c
        .post_form(
            "/login",
            &[
                ("username", "lanshan"),
                ("password", PW),
                ("_csrf", &form.csrf()),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(r.location(), Some("/students?q=%E7%8E%8B"));
    // Never to another site.
    let d = app.client();
    let f = d.get("/login").await;
    let r = d
        .post_form(
            "/login",
            &[
                ("username", "lanshan"),
                ("password", PW),
                ("_csrf", &f.csrf()),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(r.location(), Some("/"));

    let zh = c.get("/schools").await.text();
    assert!(zh.contains("lang=\"zh-CN\"") && zh.contains("学校"));
    let r = c.get("/lang/en?next=/schools").await;
    assert_eq!(r.location(), Some("/schools"));
    let en = c.get("/schools").await.text();
    assert!(en.contains("lang=\"en\""), "{}", &en[..200]);
    assert!(en.contains("Schools") && en.contains("Log out"));
    assert!(!en.contains('\u{fffd}'), "a missing translation key");
    let health = c.get("/healthz").await.json();
    assert_eq!(health["status"], "ok");
    app.stop().await;
}

/// The count next to a status link on a school page.
fn status_count(page: &str, school: i64, code: &str) -> i64 {
    let link = format!("/students?school={school}&amp;status={code}\"");
    let Some(at) = page.find(&link) else { return 0 };
    let rest = &page[at..];
    let cell = rest.find("class=\"num\">").unwrap() + "class=\"num\">".len();
    rest[cell..cell + rest[cell..].find('<').unwrap()]
        .replace(',', "")
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_page_shows_a_change_at_once_though_its_figures_are_kept_between_changes() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let i = app.ids.clone();
        let c = app.login("lanshan").await;
        let page = format!("/schools/{}", i.own_school);
        let first = c.get(&page).await.text();
        assert_eq!(c.get(&page).await.text(), first, "the same figures twice");
        let suspended = status_count(&first, i.own_school, "02");
        let token = c.csrf().await;
        let r = c
            .json(
                Method::POST,
                &format!("/api/v1/students/{}/status", i.own_student),
                &json!({"status": "休学", "reason": "病休"}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let after = c.get(&page).await.text();
        assert_eq!(status_count(&after, i.own_school, "02"), suspended + 1);
        // A write by another process (here: straight through the store, as `yimeng import` does)
        // is seen too: the county's data version moved.
        let mut q = Sql::new(
            "UPDATE student SET status = '02' WHERE county_id = 371302 AND status = '01' AND school_id = ",
        );
        q.bind(i.own_school).push(" AND id = (SELECT MAX(id) FROM student WHERE county_id = 371302 AND status = '01' AND school_id = ").bind(i.own_school).push(")");
        assert_eq!(app.db().exec(q).await.unwrap(), 1);
        let stale = c.get(&page).await.text();
        assert_eq!(
            status_count(&stale, i.own_school, "02"),
            suspended + 1,
            "no version change, no recount"
        );
        app.db()
            .exec(Sql::new(
                "UPDATE data_version SET version = version + 1 WHERE county_id = 371302",
            ))
            .await
            .unwrap();
        let later = c.get(&page).await.text();
        assert_eq!(status_count(&later, i.own_school, "02"), suspended + 2);
        // Another county's account never gets the cached page.
        let other = app.login("luozhuang").await;
        assert_eq!(other.get(&page).await.status, 404);
        app.stop().await;
    }
}
