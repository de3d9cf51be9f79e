//! Backup and restore: an online SQLite copy taken while writes go on, restored over the live file;
//! refusals (not a Yimeng database, a database in use); PostgreSQL's own tools on a test database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use yimeng_domain::Role;
use yimeng_store::db::DbOptions;
use yimeng_store::user::{self, NewUser};
use yimeng_store::{Actor, Db, StoreError, backup};

fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("yimeng-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn account(name: String) -> NewUser {
    NewUser {
        username: name.clone(),
        display_name: name,
        password_hash: "x".into(),
        role: Role::CityAdmin,
        county: None,
        school_id: None,
        must_change_password: false,
        department: None,
    }
}

async fn open(path: &Path) -> Db {
    Db::open(path.to_str().unwrap(), &DbOptions::default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_every_row_committed_before_it_began() {
    let dir = scratch("backup");
    let live = dir.join("yimeng.db");
    let copy = dir.join("backup.db");
    let db = open(&live).await;
    assert_eq!(backup::sqlite_file(&db).await.unwrap(), Some(live.clone()));
    // A writer inserting accounts through the store, one transaction each, without pause.
    let committed = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, committed, stop) = (db.clone(), committed.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let name = format!("bk{i:05}");
                user::create(&db, &Actor::system(), account(name.clone()))
                    .await
                    .unwrap();
                committed.lock().unwrap().push(name);
                i += 1;
            }
        })
    };
    while committed.lock().unwrap().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before: Vec<String> = committed.lock().unwrap().clone();
    let size = backup::backup(&db, &copy).await.unwrap();
    let at_end = committed.lock().unwrap().len();
    // Let the writer go on a little after the copy, so the live file moves past it.
    while committed.lock().unwrap().len() < at_end + 10 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    assert!(size > 0);
    // A second backup never overwrites a file.
    assert!(matches!(
        backup::backup(&db, &copy).await,
        Err(StoreError::Invalid(_))
    ));
    // While the store is open (a running server), restore refuses and changes nothing.
    let refused = backup::restore(&live, &copy).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("正在被使用")),
        "{refused:?}"
    );
    let total = committed.lock().unwrap().len();
    assert!(
        user::by_username(&db, &format!("bk{:05}", total - 1))
            .await
            .unwrap()
            .is_some()
    );
    db.close().await;

    backup::restore(&live, &copy).await.unwrap();
    let db = open(&live).await;
    for name in &before {
        assert!(
            user::by_username(&db, name).await.unwrap().is_some(),
            "{name} was committed before the backup began"
        );
    }
    // Nothing from after the backup: the restored file is the copy, not the live file.
    let restored = user::list(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.username.starts_with("bk"))
        .count();
    assert!(
        restored >= before.len() && restored <= at_end && restored < total,
        "{} ≤ {restored} ≤ {at_end} < {total}",
        before.len()
    );
    // The restored store takes writes again.
    user::create(&db, &Actor::system(), account("after_restore".into()))
        .await
        .unwrap();
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn restore_refuses_files_that_are_not_yimeng_databases_and_changes_nothing() {
    let dir = scratch("restore");
    let live = dir.join("yimeng.db");
    let db = open(&live).await;
    user::create(&db, &Actor::system(), account("keeper".into()))
        .await
        .unwrap();
    db.close().await;
    let text = dir.join("notes.txt");
    std::fs::write(&text, "这不是数据库").unwrap();
    // An SQLite file without Yimeng's migrations.
    let bare = dir.join("bare.db");
    Db::connect(bare.to_str().unwrap(), &DbOptions::default())
        .await
        .unwrap()
        .close()
        .await;
    for (file, why) in [
        (text, "不是 SQLite"),
        (bare, "迁移记录"),
        (dir.join("missing.db"), "不存在"),
    ] {
        match backup::restore(&live, &file).await {
            Err(StoreError::Invalid(m)) => {
                assert!(m.contains("不是沂蒙数据库") && m.contains(why), "{m}")
            }
            other => panic!("{}: {other:?}", file.display()),
        }
    }
    let db = open(&live).await;
    assert!(user::by_username(&db, "keeper").await.unwrap().is_some());
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// PostgreSQL is backed up with its own tools: `pg_dump -Fc` of a store, `pg_restore` into a new
/// database, and the rows are there. Runs when `YIMENG_TEST_PG_URL` is set and the tools exist.
#[tokio::test]
async fn a_postgres_store_dumped_and_restored_with_pg_tools_keeps_its_rows() {
    let Ok(admin) = std::env::var(yimeng_testkit::PG_ENV) else {
        eprintln!(
            "skipped on PostgreSQL: {} is not set",
            yimeng_testkit::PG_ENV
        );
        return;
    };
    let tool = |name: &str| {
        std::process::Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !tool("pg_dump") || !tool("pg_restore") || !tool("psql") {
        eprintln!("skipped: pg_dump, pg_restore or psql not installed");
        return;
    }
    let run = |cmd: &str, args: &[&str]| {
        let o = std::process::Command::new(cmd).args(args).output().unwrap();
        assert!(
            o.status.success(),
            "{cmd} {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let pid = std::process::id();
    let (src, dst) = (
        format!("yimeng_bk_src_{pid}"),
        format!("yimeng_bk_dst_{pid}"),
    );
    for name in [&src, &dst] {
        run(
            "psql",
            &[
                &admin,
                "-qc",
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ],
        );
        run("psql", &[&admin, "-qc", &format!("CREATE DATABASE {name}")]);
    }
    let src_url = yimeng_testkit::with_database(&admin, &src);
    let dst_url = yimeng_testkit::with_database(&admin, &dst);
    let db = Db::open(&src_url, &DbOptions::default()).await.unwrap();
    for i in 0..20 {
        user::create(&db, &Actor::system(), account(format!("pg{i:03}")))
            .await
            .unwrap();
    }
    // The store names the tool for PostgreSQL instead of copying a file.
    let dir = scratch("pgdump");
    match backup::backup(&db, &dir.join("x.db")).await {
        Err(StoreError::Config(m)) => assert!(m.contains("pg_dump"), "{m}"),
        other => panic!("{other:?}"),
    }
    db.close().await;
    let dump = dir.join("yimeng.dump");
    run("pg_dump", &["-Fc", "-f", dump.to_str().unwrap(), &src_url]);
    run(
        "pg_restore",
        &["--no-owner", "-d", &dst_url, dump.to_str().unwrap()],
    );
    let restored = Db::connect(&dst_url, &DbOptions::default()).await.unwrap();
    for i in 0..20 {
        assert!(
            user::by_username(&restored, &format!("pg{i:03}"))
                .await
                .unwrap()
                .is_some()
        );
    }
    restored.close().await;
    for name in [&src, &dst] {
        run(
            "psql",
            &[&admin, "-qc", &format!("DROP DATABASE {name} WITH (FORCE)")],
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
