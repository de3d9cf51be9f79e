//! Uploads are counted against the server's memory budget: a body over the per-request limit is
//! a 413, one that does not fit into what other uploads being received leave is a 503 with
//! `Retry-After`, both in Chinese (a page, or problem+json under `/api`), and the server keeps
//! serving throughout.

use crate::support::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use yimeng_testkit::TestDb;

const BOUNDARY: &str = "yimengboundary";

/// Opens a connection and sends a multipart request's head declaring `length` body bytes, plus
/// `body` (a prefix of them at most).
async fn start_upload(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    length: usize,
    body: &[u8],
) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n"
    );
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: {c}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    s.flush().await.unwrap();
    s
}

/// Reads one response: status, head (lower-cased) and body.
async fn read_response(s: &mut TcpStream) -> (u16, String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= end + 4 + len {
                let status = head[9..12].parse().unwrap();
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                return (status, head, body);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, s.read(&mut chunk))
            .await
            .expect("no answer within 20 s")
            .unwrap();
        assert!(n > 0, "connection closed before the answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The start of an import form: CSRF token, table, and the file part's head.
fn form_prefix(csrf: &str) -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"table\"\r\n\r\nstudents\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_over_budget_uploads_are_refused_in_chinese_and_the_server_keeps_serving() {
    const MB: usize = 1024 * 1024;
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| {
        c.max_upload_bytes = 8 * MB;
        c.upload_budget_bytes = 3 * MB;
    })
    .await;
    let c = app.login("lanshan").await;
    let cookie = format!(
        "{}={}",
        yimeng_web::auth::SESSION_COOKIE,
        c.cookie(yimeng_web::auth::SESSION_COOKIE).unwrap()
    );
    let csrf = c.csrf().await;

    // Over the per-request limit: 413 at once, before a byte of the body is read.
    let mut s = start_upload(&app, "/import", Some(&cookie), 9 * MB, b"").await;
    let (status, _, body) = read_response(&mut s).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("超过了单次上传的上限 8.0 MB"), "{body}");
    let mut s = start_upload(&app, "/api/v1/imports/students", Some(&cookie), 9 * MB, b"").await;
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!(status, 413, "{body}");
    assert!(head.contains("application/problem+json"), "{head}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], 413);
    assert!(
        v["detail"].as_str().unwrap().contains("单次上传的上限"),
        "{v}"
    );

    // A slow 2.5 MB upload is being received: it holds most of the 3 MB budget.
    let mut slow = start_upload(
        &app,
        "/import",
        Some(&cookie),
        5 * MB / 2,
        &form_prefix(&csrf),
    )
    .await;
    let total = app.state.upload_budget.total_bytes();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.upload_budget.available_bytes() == total {
        assert!(
            Instant::now() < deadline,
            "the slow upload was never counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A second upload of 1 MB does not fit: 503 with Retry-After, as a page and on the API.
    let mut s = start_upload(&app, "/import", Some(&cookie), MB, b"").await;
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!(status, 503, "{body}");
    assert!(head.contains("retry-after: 10"), "{head}");
    assert!(body.contains("上传内存预算"), "{body}");
    let mut s = start_upload(&app, "/api/v1/imports/students", Some(&cookie), MB, b"").await;
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        head.contains("retry-after: 10") && head.contains("problem+json"),
        "{head}"
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["detail"].as_str().unwrap().contains("请稍后重试"), "{v}");
    // Requests without an upload are served as usual meanwhile.
    assert_eq!(c.get("/").await.status, 200);
    assert_eq!(c.get("/api/v1/me").await.status, 200);

    // The slow upload ends (its sender gives up): its share of the budget comes back.
    slow.shutdown().await.ok();
    drop(slow);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.upload_budget.available_bytes() < total {
        assert!(Instant::now() < deadline, "the budget was not given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And a normal upload is taken again (checked, not refused by the budget).
    let mut body = form_prefix(&c.csrf().await);
    body.extend_from_slice(crate::files::STUDENT_HEADER.as_bytes());
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let mut s = start_upload(&app, "/import", Some(&cookie), body.len(), &body).await;
    let (status, _, body) = read_response(&mut s).await;
    assert!(
        status != 503 && status != 413 && status < 500,
        "{status}: {body}"
    );
    app.stop().await;
}
