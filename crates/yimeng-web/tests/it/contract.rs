//! The API contract as `scripts/api-contract` (schemathesis) checks it, pinned here without
//! Python: the OpenAPI document names every `/api/v1` route with the refusals it can answer and
//! their `application/problem+json` type; a method a path does not take is 405 with `Allow`; the
//! indicators answer in the documented shape.

use crate::support::TestApp;
use axum::http::Method;
use serde_json::Value;
use yimeng_testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_names_every_write_route_and_its_problem_responses() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let doc = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    let paths = doc["paths"].as_object().expect("paths");
    // The create routes are served, so they are documented.
    for p in [
        "/api/v1/schools",
        "/api/v1/classes",
        "/api/v1/students",
        "/api/v1/staff",
    ] {
        assert!(paths[p]["post"].is_object(), "{p}: POST undocumented");
    }
    let mut ops = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            ops += 1;
            let responses = op["responses"].as_object().unwrap();
            for code in ["401", "403"] {
                assert!(
                    responses.contains_key(code),
                    "{method} {path}: {code} undocumented"
                );
            }
            if op.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    assert!(
                        responses.contains_key(code),
                        "{method} {path}: {code} undocumented"
                    );
                }
            }
            for (code, r) in responses {
                let Some(content) = r.get("content").and_then(Value::as_object) else {
                    continue;
                };
                let problem = content.values().any(|c| {
                    c["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|s| s.ends_with("/Problem"))
                });
                if problem {
                    assert!(
                        content.contains_key("application/problem+json")
                            && !content.contains_key("application/json"),
                        "{method} {path} {code}: a Problem is application/problem+json"
                    );
                }
            }
        }
    }
    assert!(ops > 40, "only {ops} operations");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_method_a_path_does_not_take_is_405_with_allow() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.login("jyk").await;
    let r = c
        .send(Method::DELETE, "/api/v1/schools", None, &[], vec![])
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let allow = r.header("allow").expect("Allow header on a 405");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(r.json()["title"], "不支持的请求方式");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indicators_answer_in_their_documented_shape() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.login("jyk").await;
    let doc = app.client().get("/api/v1/openapi.json").await.json();
    let schema = &doc["paths"]["/api/v1/indicators"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["$ref"];
    assert_eq!(schema, "#/components/schemas/IndicatorReport");
    let required: Vec<&str> = doc["components"]["schemas"]["IndicatorReport"]["required"]
        .as_array()
        .expect("required")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let r = c.get("/api/v1/indicators?region=371302").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    for k in &required {
        assert!(v.get(*k).is_some(), "{k} missing from {v}");
    }
    assert_eq!(v["region"], 371302);
    assert!(v["live"].is_boolean());
    let figures = v["indicators"].as_array().expect("indicators");
    assert!(!figures.is_empty());
    assert!(
        figures
            .iter()
            .all(|f| f["code"].is_string() && f["status"].is_string())
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_past_every_table_is_empty_not_an_overflow() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.login("jyk").await;
    for path in [
        "/api/v1/schools?",
        "/api/v1/classes?",
        "/api/v1/students?county=371302&",
        "/api/v1/staff?",
    ] {
        let r = c
            .get(&format!("{path}page=9223372036854775807&per_page=500"))
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let v = r.json();
        assert_eq!(v["items"].as_array().map(Vec::len), Some(0), "{path}");
        assert_eq!(v["has_next"], false, "{path}");
    }
    app.stop().await;
}
