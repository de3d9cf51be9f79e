//! The full-stack harness: the real application on port 0 over a small demo city, and an HTTP
//! client that keeps cookies like a browser (and lets a test forge or drop them).

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use yimeng_domain::Rules;
use yimeng_store::Db;
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;
use yimeng_web::{AppState, WebConfig};

/// The demo password of every demo account.
pub const PW: &str = yimeng_web::demo_accounts::DEMO_PASSWORD;

/// Ids of records in and out of the demo accounts' scopes.
#[derive(Debug, Clone)]
pub struct Ids {
    /// The school account's login (`s<code>`) and its school (in 兰山区).
    pub school_login: String,
    pub own_school: i64,
    /// Another school in 兰山区 (not the school account's, not the inspector's).
    pub sibling_school: i64,
    /// A school in 罗庄区.
    pub foreign_school: i64,
    /// A school assigned to the inspector `lanshan_dd`.
    pub inspected_school: i64,
    /// A class, a student and a staff member of the own school.
    pub own_class: i64,
    pub own_student: i64,
    pub own_staff: i64,
    /// The same in the 罗庄区 school.
    pub foreign_class: i64,
    pub foreign_student: i64,
    pub foreign_staff: i64,
    /// A class, student and staff member of the sibling school.
    pub sibling_class: i64,
    pub sibling_student: i64,
    pub sibling_staff: i64,
}

/// A running application.
pub struct TestApp {
    /// `http://127.0.0.1:port`
    pub base: String,
    /// The application's state (store, throttle, …).
    pub state: AppState,
    /// Record ids for the scope tests.
    pub ids: Ids,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _db: TestDb,
    _uploads: tempfile::TempDir,
}

impl TestApp {
    /// Loads a small demo city (every county has schools) with the demo accounts into `t`, and
    /// serves it on a free port.
    pub async fn spawn(t: TestDb) -> TestApp {
        TestApp::spawn_with(t, |_| {}).await
    }

    /// [`TestApp::spawn`] with settings changed by `configure`.
    pub async fn spawn_with(t: TestDb, configure: impl FnOnce(&mut WebConfig)) -> TestApp {
        let city = Arc::new(yimeng_demo::DemoCity::plan(0.004, 2020));
        let sys = yimeng_store::SystemContext::new("test");
        yimeng_web::service::demo::load(&t.db, &sys, city, &|_, _, _| {})
            .await
            .expect("demo city");
        yimeng_web::demo_accounts::ensure(&t.db, &sys)
            .await
            .expect("demo accounts");
        let ids = ids(&t.db).await;
        let uploads = tempfile::tempdir().expect("tempdir");
        let mut config = WebConfig {
            upload_dir: uploads.path().to_path_buf(),
            max_upload_bytes: 8 * 1024 * 1024,
            ..WebConfig::default()
        };
        configure(&mut config);
        let state = AppState::new(t.db.clone(), config, Rules::default(), sys);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(yimeng_web::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://{addr}"),
            state,
            ids,
            stop: Some(stop),
            server: Some(server),
            _db: t,
            _uploads: uploads,
        }
    }

    /// A client without cookies.
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client logged in as `user` (with the demo password).
    pub async fn login(&self, user: &str) -> Client {
        let c = self.client();
        let r = c.login(user, PW).await;
        assert_eq!(r.status, 303, "login as {user}: {}", r.text());
        c
    }

    /// The store.
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.expect("server task").expect("server");
        }
    }
}

async fn one(db: &Db, sql: &str) -> i64 {
    let (v,): (i64,) = db
        .one(Sql::new(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    v
}

async fn ids(db: &Db) -> Ids {
    let u: (i64, i64, String) = db
        .one(Sql::new("SELECT u.id, u.school_id, u.username FROM app_user u WHERE u.role = 'school' AND u.county_id = 371302 ORDER BY u.id LIMIT 1"))
        .await
        .expect("school account");
    let (_, own_school, school_login) = u;
    let inspected_school = one(
        db,
        "SELECT a.school_id FROM inspector_school a JOIN app_user u ON u.id = a.user_id WHERE u.username = 'lanshan_dd' ORDER BY a.school_id LIMIT 1",
    )
    .await;
    let sibling_school = one(
        db,
        &format!(
            "SELECT s.id FROM school s WHERE s.county_id = 371302 AND s.id <> {own_school} AND s.school_type <> 'kindergarten' \
             AND s.id NOT IN (SELECT a.school_id FROM inspector_school a) \
             AND EXISTS (SELECT 1 FROM student t WHERE t.school_id = s.id) AND EXISTS (SELECT 1 FROM staff f WHERE f.school_id = s.id) ORDER BY s.id LIMIT 1"
        ),
    )
    .await;
    let foreign_school = one(
        db,
        "SELECT s.id FROM school s WHERE s.county_id = 371311 AND s.school_type <> 'kindergarten' \
         AND EXISTS (SELECT 1 FROM student t WHERE t.school_id = s.id) AND EXISTS (SELECT 1 FROM staff f WHERE f.school_id = s.id) ORDER BY s.id LIMIT 1",
    )
    .await;
    let in_school = async |table: &str, school: i64| {
        one(
            db,
            &format!("SELECT MIN(id) FROM {table} WHERE school_id = {school}"),
        )
        .await
    };
    Ids {
        school_login,
        own_school,
        sibling_school,
        foreign_school,
        inspected_school,
        own_class: in_school("class", own_school).await,
        own_student: in_school("student", own_school).await,
        own_staff: in_school("staff", own_school).await,
        foreign_class: in_school("class", foreign_school).await,
        foreign_student: in_school("student", foreign_school).await,
        foreign_staff: in_school("staff", foreign_school).await,
        sibling_class: in_school("class", sibling_school).await,
        sibling_student: in_school("student", sibling_school).await,
        sibling_staff: in_school("staff", sibling_school).await,
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
    /// A header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The value of the first hidden `_csrf` field (or the `csrf-token` meta tag) in the page.
    pub fn csrf(&self) -> String {
        let t = self.text();
        for pat in ["name=\"_csrf\" value=\"", "name=\"csrf-token\" content=\""] {
            if let Some(i) = t.find(pat) {
                let rest = &t[i + pat.len()..];
                return rest[..rest.find('"').expect("closing quote")].to_string();
            }
        }
        panic!("no CSRF token in page: {}", &t[..t.len().min(400)])
    }
}

/// An HTTP client with a cookie jar.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: HyperClient<HttpConnector, Full<Bytes>>,
    /// Cookies by name.
    pub jar: Arc<Mutex<BTreeMap<String, String>>>,
    /// Sent as `Authorization: Bearer`.
    pub bearer: Option<String>,
}

impl Client {
    /// A client for `base`.
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_string(),
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
            jar: Arc::new(Mutex::new(BTreeMap::new())),
            bearer: None,
        }
    }

    /// A cookie's value.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    /// Sets a cookie as if the server had.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .unwrap()
            .insert(name.to_string(), value.to_string());
    }

    /// Sends a request; keeps the cookies it sets. Does not follow redirects.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        extra: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path));
        let cookies: Vec<String> = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookies.is_empty() {
            b = b.header(header::COOKIE, cookies.join("; "));
        }
        if let Some(t) = &self.bearer {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(Bytes::from(body))).expect("request");
        let res = self
            .http
            .request(req)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        {
            let mut jar = self.jar.lock().unwrap();
            for v in headers.get_all(header::SET_COOKIE) {
                let s = v.to_str().unwrap_or_default();
                let first = s.split(';').next().unwrap_or_default();
                if let Some((k, v)) = first.split_once('=') {
                    let expired = s.contains("Max-Age=0") || v.is_empty();
                    if expired {
                        jar.remove(k.trim());
                    } else {
                        jar.insert(k.trim().to_string(), v.to_string());
                    }
                }
            }
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    /// `GET`
    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[], vec![]).await
    }

    /// `POST` of a urlencoded form.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).expect("form");
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            &[],
            body.into_bytes(),
        )
        .await
    }

    /// A JSON request (`POST`/`PUT`) carrying `X-CSRF-Token` when given.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        value: &serde_json::Value,
        csrf: Option<&str>,
    ) -> Resp {
        let extra: Vec<(&str, &str)> = csrf.map(|c| vec![("x-csrf-token", c)]).unwrap_or_default();
        self.send(
            method,
            path,
            Some("application/json"),
            &extra,
            serde_json::to_vec(value).expect("json"),
        )
        .await
    }

    /// `POST` of a multipart form with text fields and one file.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let boundary = "----yimeng-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some((field, name, data)) = file {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.send(
            Method::POST,
            path,
            Some(&format!("multipart/form-data; boundary={boundary}")),
            extra,
            body,
        )
        .await
    }

    /// Logs in through the form, as a browser does: fetch the form (and its CSRF cookie), post it.
    pub async fn login(&self, user: &str, password: &str) -> Resp {
        let form = self.get("/login").await;
        let token = form.csrf();
        self.post_form(
            "/login",
            &[
                ("username", user),
                ("password", password),
                ("_csrf", &token),
            ],
        )
        .await
    }

    /// The session's CSRF token, read from a page.
    pub async fn csrf(&self) -> String {
        self.get("/account").await.csrf()
    }
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A student on the register in 兰山区, outside the school account's own school, in a grade of a
/// stage that school teaches (so the school may receive the student by transfer): (their school,
/// 学籍号, ID number).
pub async fn transferable_student(app: &TestApp) -> (i64, String, String) {
    let (stages,): (String,) = app
        .db()
        .one(Sql::new(&format!(
            "SELECT stages FROM school WHERE county_id = 371302 AND id = {}",
            app.ids.own_school
        )))
        .await
        .expect("own school");
    let prefixes: Vec<String> = yimeng_domain::StageSet::from_codes(&stages)
        .iter()
        .filter_map(|s| yimeng_domain::Grade::of_stage(s).first())
        .map(|g| format!("'{}'", &g.code()[..1]))
        .collect();
    app.db()
        .one(Sql::new(&format!(
            "SELECT s.school_id, s.student_no, s.id_card FROM student s JOIN class c ON c.county_id = s.county_id AND c.id = s.class_id \
             WHERE s.county_id = 371302 AND s.school_id <> {} AND s.status = '01' AND s.id_card IS NOT NULL \
             AND substr(c.grade, 1, 1) IN ({}) AND c.grade NOT IN ('P1', 'J1', 'S1', 'V1', 'K1') ORDER BY s.id LIMIT 1",
            app.ids.own_school,
            prefixes.join(", ")
        )))
        .await
        .expect("a transferable student")
}
