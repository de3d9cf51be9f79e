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

/// A students file of `n` new students of `school` (no class), born 2001 (clear of the demo
/// city's pupils and staff).
fn long_students_file(school: &str, n: u32) -> String {
    let mut s = String::from(crate::files::STUDENT_HEADER);
    let first = chrono::NaiveDate::from_ymd_opt(2001, 1, 1).unwrap();
    for i in 0..n {
        let birth = first + chrono::Duration::days(i64::from(i / 1000));
        let id = yimeng_domain::IdCardNo::compose(371302, birth, (i % 1000) as u16);
        s.push('\n');
        s.push_str(&format!(
            "{school},,,,导入学生{i},,,{id},,汉族,家长,母亲,13800000000"
        ));
    }
    s.push('\n');
    s
}

/// A long import from another process (the command line, here a store handle of its own on the
/// same database) while a logged-in user works: the user's writes go through during the import,
/// also while it writes (SQLite: between its short transactions), none fails, and the import is
/// complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_import_lets_a_logged_in_users_writes_through_and_completes() {
    for t in TestDb::each().await {
        let backend = t.backend();
        let url = t.url();
        let app = TestApp::spawn(t).await;
        let c = app.login("lanshan").await;
        let (school,): (String,) = app
            .db()
            .one(Sql::new(
                "SELECT code FROM school WHERE county_id = 371302 ORDER BY id LIMIT 1",
            ))
            .await
            .unwrap();
        let before: i64 = app
            .db()
            .scalar(Sql::new("SELECT COUNT(*) FROM student"))
            .await
            .unwrap();
        let n = 60_000u32;
        let dir = tempfile::tempdir().unwrap();
        let path = crate::files::write(dir.path(), "long.csv", long_students_file(&school, n));
        let cli = yimeng_store::Db::open(&url, &yimeng_store::db::DbOptions::default())
            .await
            .unwrap();
        let import = tokio::spawn(async move {
            let job = yimeng_web::service::import::ImportJob {
                table: yimeng_io::Table::Students,
                path,
                file_name: "long.csv".into(),
                mode: yimeng_store::import::Mode::AllOrNothing,
                dry_run: false,
            };
            let r = yimeng_web::service::import::import_file(
                &cli,
                &yimeng_domain::Scope::City,
                &yimeng_store::Actor::system(),
                job,
                std::sync::Arc::new(|_| {}),
            )
            .await;
            cli.close().await;
            r
        });
        // The user's writes while the import runs: an API token minted on the account page (an
        // insert and an audit row), and a page whose session is due an activity touch.
        let csrf = c.csrf().await;
        let (mut during, mut during_write_pass, mut slowest) = (0u32, 0u32, Duration::ZERO);
        while !import.is_finished() {
            let t0 = Instant::now();
            let r = tokio::time::timeout(
                Duration::from_secs(30),
                c.post_form("/account/tokens", &[("_csrf", &csrf), ("name", "对接程序")]),
            )
            .await
            .expect("a write waited 30 s for the import");
            assert_eq!(r.status, 200, "{}", r.text());
            let mut q = Sql::new("UPDATE user_session SET last_seen_at = ");
            q.bind(chrono::Utc::now() - chrono::Duration::minutes(2));
            app.db().exec(q).await.unwrap();
            app.state.auth_cache.clear();
            assert_eq!(c.get("/").await.status, 200);
            slowest = slowest.max(t0.elapsed());
            if import.is_finished() {
                break;
            }
            during += 1;
            let pending = app
                .db()
                .scalar(Sql::new(
                    "SELECT COUNT(*) FROM import_batch WHERE state = 'pending'",
                ))
                .await
                .unwrap();
            if pending > 0 {
                during_write_pass += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let outcome = import.await.unwrap().expect("import");
        let r = &outcome.report;
        assert!(r.committed, "{:?}", outcome.errors);
        assert_eq!((r.inserted, r.rejected), (u64::from(n), 0), "{r:?}");
        let after: i64 = app
            .db()
            .scalar(Sql::new("SELECT COUNT(*) FROM student"))
            .await
            .unwrap();
        assert_eq!(after - before, i64::from(n));
        eprintln!(
            "{backend:?}: {during} writes during the import ({during_write_pass} while it wrote), slowest {slowest:?}"
        );
        assert!(
            during >= 3,
            "only {during} writes went through during the import"
        );
        if backend == yimeng_store::Backend::Sqlite {
            assert!(
                during_write_pass >= 1,
                "no write went through while the import wrote"
            );
        }
        app.stop().await;
    }
}
