//! Reading pages while the single SQLite writer is held (as by a long import): recording the
//! session's activity must not make a page wait for the writer, nor fail.

use crate::support::*;
use std::time::{Duration, Instant};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_load_while_the_writer_is_held_and_the_session_is_due_a_touch() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let c = app.login("lanshan").await;
    assert_eq!(c.get("/").await.status, 200);
    // The session was last seen two minutes ago: the next request records its activity.
    let mut q = Sql::new("UPDATE user_session SET last_seen_at = ");
    q.bind(chrono::Utc::now() - chrono::Duration::minutes(2));
    app.db().exec(q).await.unwrap();
    // A write transaction holds the writer, as an import does for its whole run.
    let mut tx = app.db().begin().await.unwrap();
    tx.exec(Sql::new("UPDATE school SET name = name WHERE id = -1"))
        .await
        .unwrap();
    for path in [
        "/".to_string(),
        format!("/schools/{}", app.ids.own_school),
        format!("/students/{}", app.ids.own_student),
        format!("/api/v1/students/{}", app.ids.own_student),
    ] {
        // Past the authentication cache, so the session is read (and due a touch) each time.
        app.state.auth_cache.clear();
        let t = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(20), c.get(&path))
            .await
            .unwrap_or_else(|_| panic!("{path} waited for the writer"));
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{path}: {:?}",
            t.elapsed()
        );
    }
    tx.rollback().await.unwrap();
    // Once the writer is free the activity is recorded.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut q = Sql::new("SELECT COUNT(*) FROM user_session WHERE last_seen_at > ");
        q.bind(chrono::Utc::now() - chrono::Duration::minutes(1));
        let (n,): (i64,) = app.db().one(q).await.unwrap();
        if n > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "last-seen time never recorded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}
