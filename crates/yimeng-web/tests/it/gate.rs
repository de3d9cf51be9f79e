//! The class-size gate on every placement into a class through the web and the API
//! (domain-rules §5): the 56th student of any class and the 56th of a starting-grade class are
//! refused with a clear message; a county bureau overrides on the form with a written reason,
//! which is audited and counted; above the standard size only a warning is given.

use crate::support::TestApp;
use axum::http::Method;
use serde_json::json;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

const COUNTY: i32 = 371302;

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let (v,): (i64,) = app
        .db()
        .one(Sql::new(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    v
}

/// A class of the own school: (id, school year start, grade label, class number).
async fn class_of(app: &TestApp, starting: bool) -> (i64, i32, String, i32) {
    let rows: Vec<(i64, i32, String, i32)> = app
        .db()
        .all(Sql::new(&format!(
            "SELECT id, school_year, grade, class_no FROM class WHERE county_id = {COUNTY} AND school_id = {} ORDER BY id",
            app.ids.own_school
        )))
        .await
        .unwrap();
    let (id, year, grade, no) = rows
        .into_iter()
        .find(|(_, _, g, _)| {
            yimeng_domain::Grade::from_code(g).is_some_and(|g| {
                g.is_starting() == starting && g.stage() != yimeng_domain::Stage::Preschool
            })
        })
        .expect("a class of the kind in the own school");
    let label = yimeng_domain::Grade::from_code(&grade).unwrap().label();
    (id, year, label.to_string(), no)
}

/// Counted students of a class.
async fn size(app: &TestApp, class: i64) -> i64 {
    scalar(
        app,
        &format!(
            "SELECT COUNT(*) FROM student WHERE county_id = {COUNTY} AND class_id = {class} AND status IN ('01', '05')"
        ),
    )
    .await
}

/// Fills class `class` to exactly `n` counted students by moving others of the county into it
/// (never `keep`), straight in the store as a registry that already is like this.
async fn fill(app: &TestApp, class: i64, n: i64, keep: i64) {
    let now = size(app, class).await;
    assert!(now <= n, "class {class} already has {now}");
    let school = app.ids.own_school;
    let moved = app
        .db()
        .exec(Sql::new(&format!(
            "UPDATE student SET class_id = {class}, school_id = {school} WHERE county_id = {COUNTY} AND id IN \
             (SELECT id FROM student WHERE county_id = {COUNTY} AND status = '01' AND class_id IS NOT NULL \
              AND class_id <> {class} AND id <> {keep} ORDER BY id LIMIT {})",
            n - now
        )))
        .await
        .unwrap();
    assert_eq!(moved as i64, n - now);
    assert_eq!(size(app, class).await, n);
}

/// A 在读 student of the own school outside class `class`.
async fn mover(app: &TestApp, class: i64) -> i64 {
    scalar(
        app,
        &format!(
            "SELECT MIN(id) FROM student WHERE county_id = {COUNTY} AND school_id = {} AND status = '01' AND class_id <> {class}",
            app.ids.own_school
        ),
    )
    .await
}

/// The named inputs and selected options of the first form with `action` in `html`.
fn form_values(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!(" {name}=\"");
        let at = tag.find(&key)? + key.len();
        let end = tag[at..].find('"')? + at;
        Some(unescape(&tag[at..end]))
    };
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if tag.starts_with("<input") {
            if let Some(n) = attr(tag, "name") {
                out.push((n, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("<select") {
            let n = attr(tag, "name").unwrap_or_default();
            let close = rest.find("</select>").unwrap_or(rest.len());
            let body = &rest[..close];
            let v = body
                .split("<option")
                .find(|o| o.contains(" selected"))
                .and_then(|o| attr(o, "value"))
                .unwrap_or_default();
            out.push((n, v));
        }
        rest = &rest[end.min(rest.len())..];
        if rest.len() <= 1 {
            break;
        }
        rest = &rest[1..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_56th_student_of_a_class_is_refused_and_a_county_overrides_with_a_reason() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let (class, year, grade, no) = class_of(&app, false).await;
    let student = mover(&app, class).await;
    fill(&app, class, 55, student).await;
    let into = json!({
        "school_year": format!("{year}-{}", year + 1),
        "grade": grade,
        "class_no": no.to_string(),
    });

    // The school account through the API: refused with the class and the limit named.
    let school = app.login(&app.ids.school_login).await;
    let token = school.csrf().await;
    let r = school
        .json(
            Method::PUT,
            &format!("/api/v1/students/{student}"),
            &into,
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let problem = r.text();
    assert!(
        problem.contains("56") && problem.contains("大班额") && problem.contains(&grade),
        "{problem}"
    );
    assert_eq!(size(&app, class).await, 55, "nothing changed");

    // The county bureau's edit form without a reason: refused, asking for one.
    let county = app.login("lanshan").await;
    let form = county.get(&format!("/students/{student}/edit")).await;
    assert_eq!(form.status, 200);
    let mut values = form_values(&form.text());
    assert!(values.iter().any(|(k, _)| k == "gate_reason"));
    for (k, v) in values.iter_mut() {
        match k.as_str() {
            "school_year" => *v = format!("{year}-{}", year + 1),
            "grade" => *v = grade.clone(),
            "class_no" => *v = no.to_string(),
            _ => {}
        }
    }
    let fields: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = county
        .post_form(&format!("/students/{student}"), &fields)
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("请填写突破班额的书面理由"),
        "{}",
        r.text()
    );
    assert_eq!(size(&app, class).await, 55);

    // With a written reason: placed, the override recorded and audited.
    let before = scalar(&app, "SELECT COUNT(*) FROM gate_override").await;
    let with_reason: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| *k != "gate_reason")
        .copied()
        .chain([(
            "gate_reason",
            "随迁子女就近入学，学校无空余教室，下学期分班",
        )])
        .collect();
    let r = county
        .post_form(&format!("/students/{student}"), &with_reason)
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(size(&app, class).await, 56);
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM gate_override").await,
        before + 1
    );
    assert_eq!(
        scalar(
            &app,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'gate_override' AND actor = 'lanshan' AND entity_id = {class}"
            )
        )
        .await,
        1
    );
    let reason: (String, i32) = app
        .db()
        .one(Sql::new(&format!(
            "SELECT reason, size_after FROM gate_override WHERE class_id = {class}"
        )))
        .await
        .unwrap();
    assert_eq!(reason.1, 56);
    assert!(reason.0.contains("随迁子女"));
    // The plan dashboard counts the overrides of the viewer's scope.
    let page = county.get("/plan").await.text();
    assert!(
        page.contains(&format!("放行 <strong>{}</strong> 次", before + 1)),
        "override count on the dashboard"
    );
    let other = app.login("luozhuang").await;
    let page = other.get("/plan").await.text();
    assert!(
        page.contains("放行 <strong>0</strong> 次"),
        "another county's count"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_grade_class_at_55_refuses_the_56th_and_the_standard_size_only_warns() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let (class, year, grade, no) = class_of(&app, true).await;
    let student = mover(&app, class).await;
    let school = app.login(&app.ids.school_login).await;
    let token = school.csrf().await;
    let into = json!({
        "school_year": format!("{year}-{}", year + 1),
        "grade": grade,
        "class_no": no.to_string(),
    });
    // 50 → 51: above the standard size of 45 (小学) or 50 (初中): placed, with a warning.
    fill(&app, class, 50, student).await;
    let r = school
        .json(
            Method::PUT,
            &format!("/api/v1/students/{student}"),
            &into,
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert!(
        v["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("标准班额")),
        "{v}"
    );
    assert_eq!(size(&app, class).await, 51);

    // 55 → 56 in a starting grade: refused, naming the starting-grade limit.
    let other = mover(&app, class).await;
    fill(&app, class, 55, other).await;
    let r = school
        .json(
            Method::PUT,
            &format!("/api/v1/students/{other}"),
            &into,
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.text().contains("起始年级") && r.text().contains("55"),
        "{}",
        r.text()
    );
    assert_eq!(size(&app, class).await, 55);

    // A new student created into the full class through the API is refused as well.
    let r = school
        .json(
            Method::POST,
            "/api/v1/students",
            &json!({
                "school_code": scalar(&app, &format!("SELECT CAST(code AS INTEGER) FROM school WHERE id = {}", app.ids.own_school)).await.to_string(),
                "school_year": format!("{year}-{}", year + 1),
                "grade": grade,
                "class_no": no.to_string(),
                "name": "新同学",
                "sex": "男",
                "birth_date": if grade == "一年级" { "2014-03-01" } else { "2008-03-01" },
                "id_card": "",
                "student_no": "L371302201403019999",
                "ethnicity": "汉族",
                "status": "在读",
            }),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("起始年级"), "{}", r.text());
    assert_eq!(size(&app, class).await, 55);
    app.stop().await;
}
