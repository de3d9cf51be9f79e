//! The list pages' files through the API: `GET /api/v1/schools|classes|staff|students|audit` with
//! `format=xlsx|csv` answer the file the list page exports (`?format=`) for the same filter and
//! user — one service (`service::lists`), two doors — with its masking of ID numbers for roles
//! without the personal-data right, its refusal of a students list too broad to export, and its
//! audit row.

use crate::api_actions::token_client;
use crate::support::{Client, Resp, TestApp};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A downloaded file read back with the import's reader: the header, then the data rows.
fn rows(r: &Resp, format: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("list.{format}"));
    std::fs::write(&path, &r.body).unwrap();
    let mut header = Vec::new();
    let mut data = Vec::new();
    yimeng_io::read_table(
        &path,
        |h| {
            header = h.to_vec();
            Ok(())
        },
        |row| {
            data.push(row.cells.iter().map(str::to_string).collect());
            Ok(())
        },
    )
    .unwrap_or_else(|e| panic!("{format} file does not read back: {e}"));
    (header, data)
}

/// Checks a file response and reads it back.
fn file(r: &Resp, what: &str, format: &str) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(r.status, 200, "{what}: {}", r.text());
    let ct = r.header("content-type").unwrap_or_default();
    match format {
        "csv" => assert!(ct.starts_with("text/csv"), "{what}: {ct}"),
        _ => assert_eq!(ct, XLSX, "{what}"),
    }
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")),
        "{what}: not a download"
    );
    rows(r, format)
}

/// The page's file and the API's for `page_path` / `api_path` (each given `format=`) are the same
/// rows under the same header; returns the rows.
async fn same_file(
    page: &Client,
    api: &Client,
    page_path: &str,
    api_path: &str,
    format: &str,
) -> Vec<Vec<String>> {
    let sep = |p: &str| if p.contains('?') { '&' } else { '?' };
    let p = page
        .get(&format!("{page_path}{}format={format}", sep(page_path)))
        .await;
    let a = api
        .get(&format!("{api_path}{}format={format}", sep(api_path)))
        .await;
    let (ph, prows) = file(&p, page_path, format);
    let (ah, arows) = file(&a, api_path, format);
    assert_eq!(
        p.header("content-type"),
        a.header("content-type"),
        "{api_path}: content type"
    );
    assert_eq!(ph, ah, "{api_path} ({format}): header");
    assert_eq!(prows, arows, "{api_path} ({format}): rows");
    prows
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = app.db().one(Sql::new(sql)).await.unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_file_through_the_api_equals_the_pages_file_for_the_same_filter_and_user() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let school = app.ids.own_school;
        let students = format!("school={school}");
        for user in ["jyk", "lanshan"] {
            let page = app.login(user).await;
            let api = token_client(&app, user).await;
            for format in ["csv", "xlsx"] {
                let lists = [
                    ("/schools", "/api/v1/schools", "county=371302"),
                    ("/classes", "/api/v1/classes", "county=371302"),
                    ("/staff", "/api/v1/staff", "county=371302"),
                    ("/students", "/api/v1/students", students.as_str()),
                ];
                for (page_path, api_path, filter) in lists {
                    let rows = same_file(
                        &page,
                        &api,
                        &format!("{page_path}?{filter}"),
                        &format!("{api_path}?{filter}"),
                        format,
                    )
                    .await;
                    assert!(!rows.is_empty(), "{user} {api_path} {format}: no rows");
                }
            }
            // The whole list of the user's scope, as each door gives it unfiltered.
            let schools = same_file(&page, &api, "/schools", "/api/v1/schools", "csv").await;
            let in_scope = match user {
                "lanshan" => {
                    count(&app, "SELECT COUNT(*) FROM school WHERE county_id = 371302").await
                }
                _ => count(&app, "SELECT COUNT(*) FROM school").await,
            };
            assert_eq!(schools.len() as i64, in_scope, "{user}: one row per school");
            let roll = same_file(
                &page,
                &api,
                &format!("/students?school={school}"),
                &format!("/api/v1/students?school={school}"),
                "csv",
            )
            .await;
            let on_roll = count(
                &app,
                &format!(
                    "SELECT COUNT(*) FROM student WHERE county_id = 371302 AND school_id = {school}"
                ),
            )
            .await;
            assert_eq!(roll.len() as i64, on_roll, "{user}: one row per student");
        }
        // The audit log (the city administrator), filtered to logins so that the exports being
        // recorded between the two downloads do not change it.
        let page = app.login("admin").await;
        let api = token_client(&app, "admin").await;
        for format in ["csv", "xlsx"] {
            let rows = same_file(
                &page,
                &api,
                "/admin/audit?action=login",
                "/api/v1/audit?action=login",
                format,
            )
            .await;
            assert!(!rows.is_empty(), "audit {format}: no rows");
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_users_students_file_through_the_api_masks_id_numbers_and_a_countys_shows_them() {
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let school = app.ids.own_school;
        let stored: std::collections::BTreeSet<String> = app
            .db()
            .all::<(Option<String>, String)>(Sql::new(&format!(
                "SELECT id_card, student_no FROM student WHERE county_id = 371302 AND school_id = {school}"
            )))
            .await
            .unwrap()
            .into_iter()
            .flat_map(|(card, no)| card.into_iter().chain([no]))
            .collect();
        let numbers = |header: &[String], rows: &[Vec<String>]| -> Vec<String> {
            let at = |name: &str| {
                header
                    .iter()
                    .position(|h| h == name)
                    .unwrap_or_else(|| panic!("no column {name}: {header:?}"))
            };
            let (card, no) = (at("身份证件号"), at("学籍号"));
            rows.iter()
                .flat_map(|r| [r[card].clone(), r[no].clone()])
                .filter(|v| !v.is_empty())
                .collect()
        };
        let city = token_client(&app, "jyk").await;
        let county = token_client(&app, "lanshan").await;
        for format in ["csv", "xlsx"] {
            let path = format!("/api/v1/students?school={school}&format={format}");
            // A city department: no personal-data right, masked like the page's file.
            let (h, r) = file(&city.get(&path).await, &path, format);
            let masked = numbers(&h, &r);
            assert!(!masked.is_empty(), "no numbers in the city's file");
            for v in &masked {
                assert!(
                    v.contains('*'),
                    "{format}: {v} is not masked for a city role"
                );
                assert!(
                    !stored.contains(v),
                    "{format}: a full number in the city's file"
                );
            }
            // The county bureau: the numbers in full.
            let (h, r) = file(&county.get(&path).await, &path, format);
            let full = numbers(&h, &r);
            assert_eq!(full.len(), masked.len(), "{format}: the same numbers");
            for v in &full {
                assert!(stored.contains(v), "{format}: {v} is not a stored number");
            }
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_broad_students_export_is_refused_on_the_api_as_on_the_page_and_an_export_is_audited()
{
    for t in TestDb::each().await {
        let app = TestApp::spawn(t).await;
        let exports = async || {
            count(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE actor = 'jyk' AND action = 'export'",
            )
            .await
        };
        let page = app.login("jyk").await;
        let api = token_client(&app, "jyk").await;
        // The whole city's students: refused by both doors, in Chinese, with nothing written.
        let p = page.get("/students?format=csv").await;
        assert_eq!(p.status, 422, "{}", p.text());
        assert!(p.text().contains("请先选择县区或学校"), "{}", p.text());
        for path in [
            "/api/v1/students?format=csv",
            "/api/v1/students?format=xlsx&status=01",
        ] {
            let a = api.get(path).await;
            assert_eq!(a.status, 422, "{path}: {}", a.text());
            assert_eq!(a.header("content-type"), Some("application/problem+json"));
            let detail = a.json()["detail"].as_str().unwrap_or_default().to_string();
            assert!(detail.contains("全市学生名单过大"), "{path}: {detail}");
        }
        // The city's staff and classes unnarrowed: refused on the API as well.
        for path in ["/api/v1/staff?format=csv", "/api/v1/classes?format=csv"] {
            let a = api.get(path).await;
            assert_eq!(a.status, 422, "{path}: {}", a.text());
            assert_eq!(a.header("content-type"), Some("application/problem+json"));
        }
        // A format the API does not know.
        let a = api.get("/api/v1/students?county=371302&format=pdf").await;
        assert_eq!(a.status, 400, "{}", a.text());
        assert_eq!(a.header("content-type"), Some("application/problem+json"));
        assert_eq!(exports().await, 0, "a refused export is not recorded");
        // A narrowed export through the API: one audit row naming the list and its rows.
        let a = api.get("/api/v1/students?county=371302&format=csv").await;
        let (_, rows) = file(&a, "students of 371302", "csv");
        assert_eq!(exports().await, 1);
        let (entity, summary): (String, String) = app
            .db()
            .one(Sql::new(
                "SELECT entity, summary FROM audit_log WHERE actor = 'jyk' AND action = 'export'",
            ))
            .await
            .unwrap();
        assert_eq!(entity, "student");
        assert_eq!(summary, format!("导出学生名单 {} 行", rows.len()));
        // The audit log through the API is audited too, as on the page.
        let admin = token_client(&app, "admin").await;
        let a = admin.get("/api/v1/audit?format=xlsx").await;
        file(&a, "audit log", "xlsx");
        let n = count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE actor = 'admin' AND action = 'export' AND entity = 'audit_log'",
        )
        .await;
        assert_eq!(n, 1);
        // Outside the role: the audit log is the administrator's, file or not.
        let a = api.get("/api/v1/audit?format=csv").await;
        assert_eq!(a.status, 403, "{}", a.text());
        app.stop().await;
    }
}

#[test]
fn the_api_lists_document_their_format_and_both_file_types() {
    let doc = serde_json::to_value(yimeng_web::api::openapi()).unwrap();
    for path in [
        "/api/v1/schools",
        "/api/v1/classes",
        "/api/v1/staff",
        "/api/v1/students",
        "/api/v1/audit",
    ] {
        let op = &doc["paths"][path]["get"];
        let params = op["parameters"].as_array().expect("parameters");
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "format" && p["in"] == "query"),
            "{path}: no format parameter"
        );
        let ok = op["responses"]["200"]["content"]
            .as_object()
            .unwrap_or_else(|| panic!("{path}: 200 without content"));
        for ct in ["application/json", "text/csv", XLSX] {
            assert!(ok.contains_key(ct), "{path}: 200 lacks {ct}");
        }
        for code in ["400", "422"] {
            assert!(
                op["responses"][code]["content"]["application/problem+json"].is_object(),
                "{path}: {code} is not a documented Problem"
            );
        }
    }
}
