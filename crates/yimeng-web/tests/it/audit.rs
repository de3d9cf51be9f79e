//! Every write leaves an audit row with before/after values. The write routes are enumerated from
//! the router's source (every `.route(…)` under `src/` with `post`, `put`, `patch` or `delete`)
//! and from the OpenAPI document; each is performed with a valid body as a role allowed to, and
//! the audit rows it added must carry the values the write changed: `after` for a new record,
//! `before` for a removed one, both for a change. A route that cannot leave such a row is listed
//! in `NO_AUDIT_ROW` with the reason. A write route that is neither exercised nor listed fails
//! the test by name, so a new route has to be added here.

use crate::support::{Client, Resp, TestApp, transferable_student};
use axum::http::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;
use yimeng_web::i18n::{self, Lang};

/// Write routes that leave no audit row with values, and why.
const NO_AUDIT_ROW: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/login",
        "signs in: no record changes; success and failure are audited (login, login_failed) without values",
    ),
    (
        "POST",
        "/logout",
        "ends the caller's own session: audited as `logout`, there are no record values",
    ),
    (
        "POST",
        "/public/transfer/status",
        "a lookup by number and ID number: reads, writes nothing",
    ),
    (
        "POST",
        "/public/enrolment/status",
        "a lookup by number and ID number: reads, writes nothing",
    ),
    (
        "POST",
        "/public/admission",
        "a lookup of a published admission result: reads, writes nothing",
    ),
    (
        "POST",
        "/import",
        "checks an uploaded file and keeps it for the commit: no record is written (the commit is audited)",
    ),
    (
        "POST",
        "/api/v1/schools/{id}/sunshine/preview",
        "阳光分班 preview: computes the public list and writes nothing",
    ),
];

/// Write routes this test does not perform yet: each needs a multi-step setup of its own module
/// (a published plan period, an admission round with its exchange files, an enrolment season, a
/// whole-city rollover). The test named after each shows its audit row. Move a route from here to
/// `cases` when it is exercised below.
const NOT_YET_EXERCISED: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/admin/rollover",
        "rewrites every class of the city; audit checked by services_api::rollover tests",
    ),
    (
        "POST",
        "/schools/{id}/sunshine",
        "阳光分班 of a whole grade; needs a grade of unplaced students (sunshine.rs)",
    ),
    (
        "POST",
        "/admission",
        "admission round workflow (admission.rs checks its audit rows)",
    ),
    (
        "POST",
        "/admission/{id}/files/{kind}",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/admission/{id}/files/{kind}/delete",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/admission/{id}/validate",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/admission/{id}/run",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/admission/{id}/publish",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/api/v1/admission/rounds",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/api/v1/admission/rounds/{id}/files/{kind}",
        "admission round workflow (admission.rs)",
    ),
    (
        "DELETE",
        "/api/v1/admission/rounds/{id}/files/{kind}",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/api/v1/admission/rounds/{id}/validate",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/api/v1/admission/rounds/{id}/run",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/api/v1/admission/rounds/{id}/publish",
        "admission round workflow (admission.rs)",
    ),
    (
        "POST",
        "/public/enrolment",
        "enrolment season: an application with its material files (enrolment.rs)",
    ),
    (
        "POST",
        "/public/enrolment/withdraw",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/public/enrolment/resubmit",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/enrolment/zones",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/enrolment/zones/import",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/enrolment/{county}/{id}/review",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/enrolment/{county}/{id}/place",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/enrolment/{county}/{id}/enrol",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/api/v1/enrolment/applications/{county}/{id}/review",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/api/v1/enrolment/applications/{county}/{id}/place",
        "enrolment season (enrolment.rs)",
    ),
    (
        "POST",
        "/public/transfer",
        "a parent's application with material files (services_api.rs)",
    ),
    (
        "POST",
        "/public/transfer/incoming",
        "a parent's cross-city application with material files",
    ),
    (
        "POST",
        "/public/transfer/outgoing",
        "a parent's cross-city application with material files",
    ),
    (
        "POST",
        "/transfers/incoming",
        "cross-city transfer with material files",
    ),
    (
        "POST",
        "/transfers/outgoing",
        "cross-city transfer with material files",
    ),
    (
        "POST",
        "/api/v1/transfers/incoming",
        "cross-city transfer with material files",
    ),
    (
        "POST",
        "/api/v1/transfers/outgoing",
        "cross-city transfer with material files",
    ),
    (
        "POST",
        "/dispatch/tasks/{code}",
        "monthly dispatch of the current plan period (tracker.rs)",
    ),
    (
        "POST",
        "/dispatch/reports/{county}/{id}/review",
        "monthly dispatch review (tracker.rs)",
    ),
    (
        "POST",
        "/plan/population",
        "plan tracker settings (tracker.rs)",
    ),
    (
        "POST",
        "/plan/snapshots",
        "plan tracker snapshots (tracker.rs)",
    ),
    (
        "DELETE",
        "/api/v1/account/tokens/{id}",
        "API twin of the account page's token revoke; audited without values (api_actions tests)",
    ),
    (
        "POST",
        "/api/v1/account/password",
        "API twin of /account/password (changes the caller's password and revokes its tokens)",
    ),
    (
        "POST",
        "/api/v1/account/tokens",
        "API twin of the account page's token create; audited without values (api_actions tests)",
    ),
    (
        "POST",
        "/api/v1/dispatch/reports/{county}/{id}/approve",
        "a report submitted by its unit first; audited by approval::decide (store report tests)",
    ),
    (
        "POST",
        "/api/v1/dispatch/reports/{county}/{id}/files",
        "evidence of a report in draft; same store path as the page's upload",
    ),
    (
        "POST",
        "/api/v1/dispatch/reports/{county}/{id}/return",
        "a report submitted by its unit first; audited by approval::decide (store report tests)",
    ),
    (
        "POST",
        "/api/v1/dispatch/tasks/{code}/report",
        "needs a task the account files for in the plan month; same store path as the page form",
    ),
    (
        "POST",
        "/api/v1/plan/snapshots",
        "snapshots every indicator of the city; same service call as the page",
    ),
    (
        "POST",
        "/api/v1/rollover",
        "rewrites every class of the city; same service call as /admin/rollover",
    ),
    (
        "POST",
        "/api/v1/schools/{id}/sunshine/commit",
        "阳光分班 of a whole grade; same service call as the page",
    ),
    ("POST", "/api/v1/users", "API twin of /admin/users (create)"),
    (
        "POST",
        "/api/v1/users/{id}/disable",
        "API twin of the admin page's disable",
    ),
    (
        "POST",
        "/api/v1/users/{id}/enable",
        "API twin of the admin page's enable",
    ),
    (
        "POST",
        "/api/v1/users/{id}/reset",
        "API twin of the admin page's password reset",
    ),
    (
        "POST",
        "/api/v1/users/{id}/schools",
        "API twin of the admin page's inspector schools",
    ),
    (
        "PUT",
        "/api/v1/plan/population/{county}",
        "population figures of a county; same service call as the page",
    ),
];

/// Which values the audit row of a write must carry.
#[derive(Clone, Copy, Debug)]
enum Values {
    /// A new record: its values after.
    After,
    /// A change: before and after.
    Both,
    /// A removal: the values before.
    Before,
}

enum Body {
    Form(Vec<(String, String)>),
    Json(Value),
    /// A multipart upload: the page's `table` field (pages only), file name and content.
    Upload(Option<&'static str>, &'static str, Vec<u8>),
}

/// The routes with a write method, read from the router's source files.
fn write_routes_in_source() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![src];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for part in text.split(".route(").skip(1) {
                let part = part.trim_start();
                let Some(rest) = part.strip_prefix('"') else {
                    continue;
                };
                let path = &rest[..rest.find('"').unwrap()];
                // The call's arguments: up to the parenthesis that closes `.route(`.
                let mut depth = 1;
                let mut end = part.len();
                for (i, c) in part.char_indices() {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                end = i;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let args = &part[..end];
                for m in ["post", "put", "patch", "delete"] {
                    let needle = format!("{m}(");
                    let found = args.match_indices(&needle).any(|(i, _)| {
                        i == 0 || {
                            let b = args.as_bytes()[i - 1];
                            !(b.is_ascii_alphanumeric() || b == b'_')
                        }
                    });
                    if found {
                        out.insert((m.to_ascii_uppercase(), path.to_string()));
                    }
                }
            }
        }
    }
    out
}

/// The write operations of the OpenAPI document.
fn write_routes_in_openapi(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for m in ["post", "put", "patch", "delete"] {
            if ops.get(m).is_some() {
                out.insert((m.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let i = tag.find(&needle)? + needle.len();
    let j = tag[i..].find('"')? + i;
    Some(unescape(&tag[i..j]))
}

/// The fields of the form posting to `action` on a page, as a browser would submit it unchanged
/// (inputs, the selected option of each select, textareas), without `_csrf`.
fn form_fields(html: &str, action: &str) -> BTreeMap<String, String> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    let mut out = BTreeMap::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if tag.starts_with("<input") {
            if let Some(name) = attr(tag, "name") {
                let kind = attr(tag, "type").unwrap_or_default();
                let checked = tag.contains(" checked");
                if (kind != "checkbox" && kind != "radio") || checked {
                    out.insert(name, attr(tag, "value").unwrap_or_default());
                }
            }
        } else if tag.starts_with("<select") {
            if let Some(name) = attr(tag, "name") {
                let close = rest.find("</select>").unwrap();
                let body = &rest[..close];
                let mut value = None;
                for opt in body.split("<option").skip(1) {
                    let t = &opt[..opt.find('>').unwrap()];
                    let v = attr(t, "value").unwrap_or_default();
                    if value.is_none() || t.contains(" selected") {
                        if t.contains(" selected") {
                            value = Some(v);
                            break;
                        }
                        value.get_or_insert(v);
                    }
                }
                out.insert(name, value.unwrap_or_default());
            }
        } else if tag.starts_with("<textarea")
            && let Some(name) = attr(tag, "name")
        {
            let close = rest.find("</textarea>").unwrap();
            out.insert(name, unescape(&rest[end + 1..close]));
        }
        rest = &rest[1..];
    }
    out.remove("_csrf");
    out
}

fn with(mut f: BTreeMap<String, String>, changes: &[(&str, &str)]) -> BTreeMap<String, String> {
    for (k, v) in changes {
        f.insert(k.to_string(), v.to_string());
    }
    f
}

fn as_form(f: &BTreeMap<String, String>) -> Body {
    Body::Form(f.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn as_json(f: &BTreeMap<String, String>) -> Body {
    Body::Json(Value::Object(
        f.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    ))
}

async fn send(c: &Client, csrf: &str, method: Method, path: &str, body: Body) -> Resp {
    match body {
        Body::Form(f) => {
            let mut fields: Vec<(&str, &str)> =
                f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            fields.push(("_csrf", csrf));
            let body = serde_urlencoded::to_string(&fields).unwrap();
            c.send(
                method,
                path,
                Some("application/x-www-form-urlencoded"),
                &[],
                body.into_bytes(),
            )
            .await
        }
        Body::Json(v) => c.json(method, path, &v, Some(csrf)).await,
        Body::Upload(table, name, data) => {
            let mut fields = vec![("_csrf", csrf)];
            if let Some(t) = table {
                fields.push(("table", t));
            }
            c.post_multipart(
                path,
                &fields,
                Some(("file", name, &data)),
                &[("x-csrf-token", csrf)],
            )
            .await
        }
    }
}

/// The (county, id) of the request a write answered with: the first object in the response that
/// has both keys (`county_id` or `county`, and `id`).
fn county_and_id(v: &Value) -> Option<(i64, i64)> {
    if let Some(o) = v.as_object() {
        let county = o
            .get("county_id")
            .or_else(|| o.get("county"))
            .and_then(Value::as_i64);
        if let (Some(c), Some(id)) = (county, o.get("id").and_then(Value::as_i64)) {
            return Some((c, id));
        }
        return o.values().find_map(county_and_id);
    }
    None
}

/// The audit rows, keyed by (county, id).
async fn audit_rows(app: &TestApp) -> BTreeMap<(i32, i64), yimeng_store::audit::AuditRow> {
    yimeng_store::browse::audit(
        app.db(),
        &yimeng_store::browse::AuditFilter::default(),
        1,
        100_000,
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|a| ((a.county_id, a.id), a))
    .collect()
}

async fn scalar_i64(app: &TestApp, sql: &str) -> i64 {
    let (v,): (i64,) = app.db().one(Sql::new(sql)).await.unwrap();
    v
}

async fn scalar_text(app: &TestApp, sql: &str) -> String {
    let (v,): (String,) = app.db().one(Sql::new(sql)).await.unwrap();
    v
}

/// One logged-in role with its CSRF token.
struct Session {
    client: Client,
    csrf: String,
}

async fn session(app: &TestApp, user: &str) -> Session {
    let client = app.login(user).await;
    let csrf = client.csrf().await;
    Session { client, csrf }
}

/// Runs the writes and checks their audit rows; returns (route, problem) for each failure.
struct Run<'a> {
    app: &'a TestApp,
    exercised: BTreeSet<(String, String)>,
    failures: Vec<String>,
}

impl Run<'_> {
    /// Performs one write; `ok` is the status of success. Returns the response.
    #[allow(clippy::too_many_arguments)]
    async fn write(
        &mut self,
        s: &Session,
        method: Method,
        route: &str,
        path: &str,
        body: Body,
        ok: u16,
        values: Values,
    ) -> Resp {
        let before = audit_rows(self.app).await;
        let r = send(&s.client, &s.csrf, method.clone(), path, body).await;
        if r.status != ok {
            // A page's field errors, or the start of the answer.
            let text = r.text();
            let errors: Vec<&str> = text
                .split("class=\"err\"")
                .skip(1)
                .map(|e| &e[..e.find("</").unwrap_or(e.len())])
                .collect();
            let shown = if errors.is_empty() {
                text.chars().take(400).collect::<String>()
            } else {
                errors.join("; ")
            };
            self.failures.push(format!(
                "{method} {route} ({path}): expected {ok}, got {}: {shown}",
                r.status
            ));
            return r;
        }
        self.exercised
            .insert((method.to_string(), route.to_string()));
        let after = audit_rows(self.app).await;
        let new: Vec<_> = after
            .iter()
            .filter(|(k, _)| !before.contains_key(k))
            .map(|(_, a)| a)
            .collect();
        let has = |a: &&yimeng_store::audit::AuditRow| match values {
            Values::After => a.after_json.is_some(),
            Values::Before => a.before_json.is_some(),
            Values::Both => a.before_json.is_some() && a.after_json.is_some(),
        };
        if !new.iter().any(has) {
            let seen: Vec<String> = new
                .iter()
                .map(|a| {
                    format!(
                        "{} {} before={} after={}",
                        a.action,
                        a.entity,
                        a.before_json.is_some(),
                        a.after_json.is_some()
                    )
                })
                .collect();
            self.failures.push(format!(
                "{method} {route}: no audit row with {values:?} values (rows added: {seen:?})"
            ));
        }
        r
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_route_leaves_an_audit_row_with_before_and_after_values() {
    for t in TestDb::each().await {
        every_write_audited(t).await;
    }
}

async fn every_write_audited(t: TestDb) {
    let app = TestApp::spawn(t).await;
    let i = app.ids.clone();
    let doc = app.client().get("/api/v1/openapi.json").await.json();
    let mut routes = write_routes_in_source();
    routes.extend(write_routes_in_openapi(&doc));

    let county = session(&app, "lanshan").await;
    let school = session(&app, &i.school_login).await;
    let admin = session(&app, "admin").await;
    let mut run = Run {
        app: &app,
        exercised: BTreeSet::new(),
        failures: Vec::new(),
    };
    use Method as M;
    use Values::*;

    // ---- Schools (county bureau) ----
    let school_form = form_fields(
        &county
            .client
            .get(&format!("/schools/{}/edit", i.sibling_school))
            .await
            .text(),
        &format!("/schools/{}", i.sibling_school),
    );
    let code = school_form["code"].clone();
    let new_code = format!("{}{}", &code[..code.len() - 4], "9871");
    let new_code2 = format!("{}{}", &code[..code.len() - 4], "9872");
    run.write(
        &county,
        M::POST,
        "/schools",
        "/schools",
        as_form(&with(
            school_form.clone(),
            &[("code", &new_code), ("name", "审计测试小学")],
        )),
        303,
        After,
    )
    .await;
    run.write(
        &county,
        M::POST,
        "/schools/{id}",
        &format!("/schools/{}", i.sibling_school),
        as_form(&with(
            school_form.clone(),
            &[("address", "兰山区审计路 1 号")],
        )),
        303,
        Both,
    )
    .await;
    run.write(
        &county,
        M::POST,
        "/api/v1/schools",
        "/api/v1/schools",
        as_json(&with(
            school_form.clone(),
            &[("code", &new_code2), ("name", "审计测试二小")],
        )),
        200,
        After,
    )
    .await;
    run.write(
        &county,
        M::PUT,
        "/api/v1/schools/{id}",
        &format!("/api/v1/schools/{}", i.sibling_school),
        Body::Json(json!({"address": "兰山区审计路 2 号"})),
        200,
        Both,
    )
    .await;

    // ---- Classes (school account) ----
    let class_form = form_fields(
        &school
            .client
            .get(&format!("/classes/{}/edit", i.own_class))
            .await
            .text(),
        &format!("/classes/{}", i.own_class),
    );
    run.write(
        &school,
        M::POST,
        "/classes",
        "/classes",
        as_form(&with(
            class_form.clone(),
            &[("class_no", "41"), ("name", "审计（41）班")],
        )),
        303,
        After,
    )
    .await;
    run.write(
        &school,
        M::POST,
        "/classes/{id}",
        &format!("/classes/{}", i.own_class),
        as_form(&with(class_form.clone(), &[("name", "审计更名班")])),
        303,
        Both,
    )
    .await;
    run.write(
        &school,
        M::POST,
        "/api/v1/classes",
        "/api/v1/classes",
        as_json(&with(
            class_form.clone(),
            &[("class_no", "42"), ("name", "审计（42）班")],
        )),
        200,
        After,
    )
    .await;
    run.write(
        &school,
        M::PUT,
        "/api/v1/classes/{id}",
        &format!("/api/v1/classes/{}", i.own_class),
        Body::Json(json!({"name": "审计再更名班"})),
        200,
        Both,
    )
    .await;

    // ---- Students (school account; new students go into the new, empty class 41) ----
    let student_form = form_fields(
        &school
            .client
            .get(&format!("/students/{}/edit", i.own_student))
            .await
            .text(),
        &format!("/students/{}", i.own_student),
    );
    let born = student_form["birth_date"].clone();
    let compact: String = born.chars().filter(|c| c.is_ascii_digit()).collect();
    let l_no = |n: u32| format!("L371302{compact}{n:04}");
    run.write(
        &school,
        M::POST,
        "/students",
        "/students",
        as_form(&with(
            student_form.clone(),
            &[
                ("class_no", "41"),
                ("name", "审计甲"),
                ("id_card", ""),
                ("student_no", &l_no(9871)),
                ("status", "在读"),
            ],
        )),
        303,
        After,
    )
    .await;
    run.write(
        &school,
        M::POST,
        "/students/{id}",
        &format!("/students/{}", i.own_student),
        as_form(&with(
            student_form.clone(),
            &[("guardian1_phone", "13900000001")],
        )),
        303,
        Both,
    )
    .await;
    run.write(
        &school,
        M::POST,
        "/api/v1/students",
        "/api/v1/students",
        as_json(&with(
            student_form.clone(),
            &[
                ("class_no", "41"),
                ("name", "审计乙"),
                ("id_card", ""),
                ("student_no", &l_no(9872)),
                ("status", "在读"),
            ],
        )),
        200,
        After,
    )
    .await;
    run.write(
        &school,
        M::PUT,
        "/api/v1/students/{id}",
        &format!("/api/v1/students/{}", i.own_student),
        Body::Json(json!({"guardian1_phone": "13900000002"})),
        200,
        Both,
    )
    .await;
    // Status changes: the county bureau's own change is made at once; a school's waits for the
    // county, whose decision is the write that changes the student.
    let on_register = |skip: i64| {
        format!(
            "SELECT id FROM student WHERE county_id = 371302 AND school_id = {} AND status = '01' \
             AND id <> {} ORDER BY id LIMIT 1 OFFSET {skip}",
            i.own_school, i.own_student
        )
    };
    let s1 = scalar_i64(&app, &on_register(0)).await;
    let s2 = scalar_i64(&app, &on_register(1)).await;
    let s3 = scalar_i64(&app, &on_register(2)).await;
    let s4 = scalar_i64(&app, &on_register(3)).await;
    run.write(
        &county,
        M::POST,
        "/students/{id}/status",
        &format!("/students/{s1}/status"),
        Body::Form(vec![
            ("status".into(), "休学".into()),
            ("reason".into(), "因病休学一年".into()),
        ]),
        303,
        Both,
    )
    .await;
    run.write(
        &county,
        M::POST,
        "/api/v1/students/{id}/status",
        &format!("/api/v1/students/{s2}/status"),
        Body::Json(json!({"status": "休学", "reason": "因病休学一年"})),
        200,
        Both,
    )
    .await;
    for (s, api) in [(s3, false), (s4, true)] {
        let r = send(
            &school.client,
            &school.csrf,
            M::POST,
            &format!("/api/v1/students/{s}/status"),
            Body::Json(json!({"status": "休学", "reason": "因病休学一年"})),
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text());
        let (c, id) = county_and_id(&r.json()).unwrap_or_else(|| panic!("{}", r.text()));
        if api {
            run.write(
                &county,
                M::POST,
                "/api/v1/status-requests/{county}/{id}/decide",
                &format!("/api/v1/status-requests/{c}/{id}/decide"),
                Body::Json(json!({"decision": "approve"})),
                200,
                Both,
            )
            .await;
        } else {
            run.write(
                &county,
                M::POST,
                "/status-requests/{county}/{id}/decide",
                &format!("/status-requests/{c}/{id}/decide"),
                Body::Form(vec![("decision".into(), "approve".into())]),
                303,
                Both,
            )
            .await;
        }
    }

    // ---- Staff (school account) ----
    let staff_form = form_fields(
        &school
            .client
            .get(&format!("/staff/{}/edit", i.own_staff))
            .await
            .text(),
        &format!("/staff/{}", i.own_staff),
    );
    let staff_born =
        chrono::NaiveDate::parse_from_str(&staff_form["birth_date"], "%Y-%m-%d").unwrap();
    let staff_card = |n: u16| {
        yimeng_domain::IdCardNo::compose(371302, staff_born, n)
            .as_str()
            .to_string()
    };
    run.write(
        &school,
        M::POST,
        "/staff",
        "/staff",
        as_form(&with(
            staff_form.clone(),
            &[
                ("name", "审计老师"),
                ("id_card", &staff_card(871)),
                ("sex", "男"),
            ],
        )),
        303,
        After,
    )
    .await;
    run.write(
        &school,
        M::POST,
        "/staff/{id}",
        &format!("/staff/{}", i.own_staff),
        as_form(&with(staff_form.clone(), &[("phone", "13900000003")])),
        303,
        Both,
    )
    .await;
    run.write(
        &school,
        M::POST,
        "/api/v1/staff",
        "/api/v1/staff",
        as_json(&with(
            staff_form.clone(),
            &[
                ("name", "审计老师乙"),
                ("id_card", &staff_card(872)),
                ("sex", "女"),
            ],
        )),
        200,
        After,
    )
    .await;
    run.write(
        &school,
        M::PUT,
        "/api/v1/staff/{id}",
        &format!("/api/v1/staff/{}", i.own_staff),
        Body::Json(json!({"phone": "13900000004"})),
        200,
        Both,
    )
    .await;

    // ---- Imports: the school's own students, one guardian phone changed ----
    // A one-row students file: the own student as the form shows it, one guardian phone changed.
    let changed = |phone: &str| -> Vec<u8> {
        let mut w = csv::Writer::from_writer(vec![]);
        let cols = yimeng_io::Table::Students.columns();
        w.write_record(cols.iter().map(|c| c.header)).unwrap();
        w.write_record(cols.iter().map(|c| {
            if c.key == "guardian1_phone" {
                phone.to_string()
            } else {
                student_form.get(c.key).cloned().unwrap_or_default()
            }
        }))
        .unwrap();
        w.into_inner().unwrap()
    };
    let check = send(
        &school.client,
        &school.csrf,
        M::POST,
        "/import",
        Body::Upload(Some("students"), "学生.csv", changed("13900000005")),
    )
    .await;
    // The check page offers the commit of the kept file.
    let page = check.text();
    if let Some(p) = page.find("/import/") {
        let rest = &page[p..];
        let action = &rest[..rest.find('"').unwrap()];
        if action.ends_with("/commit") {
            let fields = form_fields(&page, action);
            run.write(
                &school,
                M::POST,
                "/import/{token}/commit",
                action,
                as_form(&fields),
                200,
                Both,
            )
            .await;
        } else {
            run.failures
                .push(format!("POST /import: no commit form ({})", check.status));
        }
    } else {
        run.failures.push(format!(
            "POST /import: no commit form ({}): {}",
            check.status,
            page.chars().take(400).collect::<String>()
        ));
    }
    run.write(
        &school,
        M::POST,
        "/api/v1/imports/{table}",
        "/api/v1/imports/students",
        Body::Upload(None, "学生.csv", changed("13900000006")),
        200,
        Both,
    )
    .await;

    // ---- Transfers: a school receives a student of another 兰山区 school, then withdraws ----
    let (_, student_no, id_card) = transferable_student(&app).await;
    let r = run
        .write(
            &school,
            M::POST,
            "/api/v1/transfers",
            "/api/v1/transfers",
            Body::Json(
                json!({"student_no": student_no, "id_card": id_card, "reason": "随父母工作调动"}),
            ),
            200,
            After,
        )
        .await;
    if r.status == 200 {
        let (c, id) = county_and_id(&r.json()).unwrap_or_else(|| panic!("{}", r.text()));
        run.write(
            &school,
            M::POST,
            "/api/v1/transfers/{county}/{id}/decide",
            &format!("/api/v1/transfers/{c}/{id}/decide"),
            Body::Json(json!({"decision": "withdraw"})),
            200,
            Both,
        )
        .await;
    }
    run.write(
        &school,
        M::POST,
        "/transfers",
        "/transfers",
        Body::Form(vec![
            ("student_no".into(), student_no.clone()),
            ("id_card".into(), id_card.clone()),
            ("reason".into(), "随父母工作调动".into()),
        ]),
        303,
        After,
    )
    .await;
    let open = scalar_text(
        &app,
        "SELECT county_id || '/' || id FROM transfer_request WHERE state = 'pending' ORDER BY id DESC LIMIT 1",
    )
    .await;
    run.write(
        &school,
        M::POST,
        "/transfers/{county}/{id}/decide",
        &format!("/transfers/{open}/decide"),
        Body::Form(vec![("decision".into(), "withdraw".into())]),
        303,
        Both,
    )
    .await;

    // ---- The service catalogue and the working-day calendar (city administrator) ----
    let service_code =
        scalar_text(&app, "SELECT code FROM service_item ORDER BY code LIMIT 1").await;
    let service_form = form_fields(
        &admin
            .client
            .get(&format!("/admin/services/{service_code}"))
            .await
            .text(),
        &format!("/admin/services/{service_code}"),
    );
    run.write(
        &admin,
        M::POST,
        "/admin/services/{code}",
        &format!("/admin/services/{service_code}"),
        as_form(&with(
            service_form,
            &[("time_limit", "受理后9个工作日内办结")],
        )),
        303,
        Both,
    )
    .await;
    run.write(
        &admin,
        M::POST,
        "/admin/calendar",
        "/admin/calendar",
        Body::Form(vec![
            ("day".into(), "2031-10-09".into()),
            ("kind".into(), "holiday".into()),
            ("name".into(), "国庆节".into()),
        ]),
        303,
        After,
    )
    .await;
    run.write(
        &admin,
        M::POST,
        "/admin/calendar/{day}/delete",
        "/admin/calendar/2031-10-09/delete",
        Body::Form(vec![]),
        303,
        Before,
    )
    .await;
    run.write(
        &admin,
        M::POST,
        "/api/v1/calendar",
        "/api/v1/calendar",
        Body::Json(json!({"day": "2031-10-10", "kind": "holiday", "name": "国庆节"})),
        200,
        After,
    )
    .await;
    run.write(
        &admin,
        M::DELETE,
        "/api/v1/calendar/{day}",
        "/api/v1/calendar/2031-10-10",
        Body::Json(json!({})),
        200,
        Before,
    )
    .await;

    // ---- Accounts (city administrator), then the new account's own password and token ----
    run.write(
        &admin,
        M::POST,
        "/admin/users",
        "/admin/users",
        Body::Form(vec![
            ("username".into(), "audit_dd".into()),
            ("display_name".into(), "审计督学".into()),
            ("role".into(), "inspector".into()),
            ("county".into(), "371302".into()),
            ("school_code".into(), String::new()),
        ]),
        200,
        After,
    )
    .await;
    let new_user = scalar_i64(&app, "SELECT id FROM app_user WHERE username = 'audit_dd'").await;
    let sibling_code = scalar_text(
        &app,
        &format!(
            "SELECT code FROM school WHERE county_id = 371302 AND id = {}",
            i.sibling_school
        ),
    )
    .await;
    run.write(
        &admin,
        M::POST,
        "/admin/users/{id}/schools",
        &format!("/admin/users/{new_user}/schools"),
        Body::Form(vec![("codes".into(), sibling_code)]),
        303,
        Both,
    )
    .await;
    run.write(
        &admin,
        M::POST,
        "/admin/users/{id}/disable",
        &format!("/admin/users/{new_user}/disable"),
        Body::Form(vec![]),
        303,
        Both,
    )
    .await;
    run.write(
        &admin,
        M::POST,
        "/admin/users/{id}/enable",
        &format!("/admin/users/{new_user}/enable"),
        Body::Form(vec![]),
        303,
        Both,
    )
    .await;
    let reset = run
        .write(
            &admin,
            M::POST,
            "/admin/users/{id}/reset",
            &format!("/admin/users/{new_user}/reset"),
            Body::Form(vec![]),
            200,
            Both,
        )
        .await;
    // The reset page shows the initial password once.
    let text = reset.text();
    let initial = text
        .split(|c: char| c.is_whitespace() || c == '<' || c == '>')
        .find(|w| {
            w.len() >= 10
                && w.chars().all(|c| c.is_ascii_alphanumeric())
                && w.chars().any(|c| c.is_ascii_digit())
                && w.chars().any(|c| c.is_ascii_alphabetic())
        })
        .map(str::to_string);
    match initial {
        Some(pw) => {
            let c = app.client();
            let r = c.login("audit_dd", &pw).await;
            assert_eq!(r.status, 303, "login with the initial password");
            let csrf = c.csrf().await;
            let own = Session { client: c, csrf };
            run.write(
                &own,
                M::POST,
                "/account/password",
                "/account/password",
                Body::Form(vec![
                    ("old".into(), pw.clone()),
                    ("new".into(), "Audit2031pw".into()),
                    ("again".into(), "Audit2031pw".into()),
                ]),
                303,
                Both,
            )
            .await;
        }
        None => run
            .failures
            .push("POST /admin/users/{id}/reset: no initial password shown".into()),
    }
    run.write(
        &county,
        M::POST,
        "/account/tokens",
        "/account/tokens",
        Body::Form(vec![("name".into(), "审计".into())]),
        200,
        After,
    )
    .await;
    let token = scalar_i64(&app, "SELECT MAX(id) FROM api_token").await;
    run.write(
        &county,
        M::POST,
        "/account/tokens/{id}/revoke",
        &format!("/account/tokens/{token}/revoke"),
        Body::Form(vec![]),
        303,
        Both,
    )
    .await;

    // ---- Coverage: every write route is exercised above or listed with its reason ----
    let listed: BTreeSet<(String, String)> = NO_AUDIT_ROW
        .iter()
        .chain(NOT_YET_EXERCISED)
        .map(|(m, r, _)| (m.to_string(), r.to_string()))
        .collect();
    let neither: Vec<String> = routes
        .iter()
        .filter(|r| !run.exercised.contains(*r) && !listed.contains(*r))
        .map(|(m, r)| format!("{m} {r}"))
        .collect();
    let stale: Vec<String> = listed
        .iter()
        .filter(|r| !routes.contains(*r))
        .map(|(m, r)| format!("{m} {r}"))
        .collect();
    let both: Vec<String> = listed
        .iter()
        .filter(|r| run.exercised.contains(*r))
        .map(|(m, r)| format!("{m} {r}"))
        .collect();
    eprintln!(
        "write routes: {} declared, {} exercised with an audit check, {} listed",
        routes.len(),
        run.exercised.len(),
        listed.len()
    );
    // Every action and kind of record the writes left has a name in both languages: the audit
    // log shows names, not codes.
    let unnamed: BTreeSet<String> = audit_rows(run.app)
        .await
        .values()
        .flat_map(|a| {
            let mut missing = Vec::new();
            for lang in [Lang::Zh, Lang::En] {
                if i18n::audit_label(i18n::AUDIT_ACTIONS, lang, &a.action).is_none() {
                    missing.push(format!("action {}", a.action));
                }
                if i18n::audit_label(i18n::AUDIT_ENTITIES, lang, &a.entity).is_none() {
                    missing.push(format!("entity {}", a.entity));
                }
            }
            missing
        })
        .collect();
    assert!(
        unnamed.is_empty(),
        "audit codes without a name in yimeng_web::i18n::AUDIT_ACTIONS / AUDIT_ENTITIES: {unnamed:?}"
    );
    assert!(
        run.failures.is_empty(),
        "writes without their audit row:\n{}",
        run.failures.join("\n")
    );
    assert!(
        neither.is_empty(),
        "write routes neither exercised by this test nor listed with a reason (add a write with a \
         valid body to tests/it/audit.rs, or list the route in NO_AUDIT_ROW with why it cannot \
         leave an audit row):\n{}",
        neither.join("\n")
    );
    assert!(
        stale.is_empty(),
        "listed routes the router no longer has: {stale:?}"
    );
    assert!(
        both.is_empty(),
        "routes both exercised and listed: {both:?}"
    );
    app.stop().await;
}
