//! Backup and restore of the embedded SQLite store.
//!
//! A backup is `VACUUM INTO` a new file from a connection of its own: one read transaction, so the
//! copy is the database as it stood when the backup began, taken while the server keeps writing
//! (WAL lets readers and the writer run side by side). A restore checks that the file is a Yimeng
//! database (its migrations table, no migration this build does not know, SQLite's quick check),
//! refuses while any other connection holds the live database (a running server), and replaces
//! the file by an atomic rename. PostgreSQL has its own tools (`pg_dump` / `pg_restore`).

use crate::db::Db;
use crate::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteLockingMode};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file of an SQLite store (none for PostgreSQL).
#[tracing::instrument(skip_all)]
pub async fn sqlite_file(db: &Db) -> Result<Option<PathBuf>> {
    let Db::Sqlite { reader, .. } = db else {
        return Ok(None);
    };
    let rows: Vec<(i64, String, String)> = sqlx::query_as("PRAGMA database_list")
        .fetch_all(reader)
        .await?;
    Ok(rows
        .into_iter()
        .find(|(_, name, _)| name == "main")
        .map(|(_, _, file)| PathBuf::from(file))
        .filter(|p| !p.as_os_str().is_empty()))
}

async fn connect(path: &Path, read_only: bool) -> Result<SqliteConnection> {
    Ok(SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(60))
        .connect()
        .await?)
}

/// Writes a consistent copy of the live SQLite store to `dest` (which must not exist), while the
/// store stays open for reads and writes. Returns the copy's size in bytes.
#[tracing::instrument(skip_all)]
pub async fn backup(db: &Db, dest: &Path) -> Result<u64> {
    let Some(src) = sqlite_file(db).await? else {
        return Err(StoreError::Config(
            "PostgreSQL 数据库请用 pg_dump 备份（例如 pg_dump -Fc -f yimeng.dump postgres://用户@主机/库），用 pg_restore 恢复".into(),
        ));
    };
    if dest.exists() {
        return Err(StoreError::Invalid(format!(
            "备份文件 {} 已存在，请换一个文件名（不会覆盖已有文件）",
            dest.display()
        )));
    }
    let dest_text = dest.to_str().ok_or_else(|| {
        StoreError::Invalid(format!("备份文件名 {} 含有无法识别的字符", dest.display()))
    })?;
    let mut conn = connect(&src, false).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(dest_text)
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let size = std::fs::metadata(dest)
        .map_err(|e| StoreError::Config(format!("无法读取备份文件 {}：{e}", dest.display())))?
        .len();
    Ok(size)
}

/// Checks that `file` is a Yimeng SQLite database this build can open: it has the migrations
/// table, every migration in it succeeded and is known to this build, and SQLite's quick check
/// passes. Returns the number of migrations applied in it.
#[tracing::instrument(skip_all)]
pub async fn check_backup(file: &Path) -> Result<usize> {
    let known: Vec<i64> = sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .collect();
    let not_ours = |why: &str| {
        StoreError::Invalid(format!(
            "文件 {} 不是沂蒙数据库备份（{why}），未做任何更改",
            file.display()
        ))
    };
    if !file.is_file() {
        return Err(not_ours("文件不存在"));
    }
    let mut head = [0u8; 16];
    let is_sqlite = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == b"SQLite format 3\0";
    if !is_sqlite {
        return Err(not_ours("不是 SQLite 数据库文件"));
    }
    let mut conn = connect(file, true)
        .await
        .map_err(|_| not_ours("不是 SQLite 数据库文件"))?;
    let versions: Vec<(i64, bool)> =
        match sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
        {
            Ok(v) => v,
            Err(_) => return Err(not_ours("没有迁移记录表 _sqlx_migrations")),
        };
    if versions.is_empty() {
        return Err(not_ours("迁移记录表为空"));
    }
    if let Some((v, _)) = versions.iter().find(|(_, ok)| !ok) {
        return Err(not_ours(&format!("迁移 {v:04} 未成功完成")));
    }
    if let Some((v, _)) = versions.iter().find(|(v, _)| !known.contains(v)) {
        return Err(StoreError::Invalid(format!(
            "备份 {} 含有本程序不认识的迁移 {v:04}（由更新版本的沂蒙生成），请用相应版本恢复，未做任何更改",
            file.display()
        )));
    }
    let (check,): (String,) = sqlx::query_as("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| not_ours("无法完成完整性检查"))?;
    if check != "ok" {
        return Err(StoreError::Invalid(format!(
            "备份 {} 已损坏（SQLite 完整性检查：{check}），未做任何更改",
            file.display()
        )));
    }
    conn.close().await?;
    Ok(versions.len())
}

/// Replaces the SQLite database at `target` with the backup `source`, atomically (a copy beside
/// the target, synced, then renamed over it). Refuses when `source` is not a Yimeng database
/// (see [`check_backup`]) or while any other connection holds `target` — a running server.
#[tracing::instrument(skip_all)]
pub async fn restore(target: &Path, source: &Path) -> Result<()> {
    check_backup(source).await?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Hold the live database alone while it is replaced: leaving WAL mode needs every other
    // connection closed, so a server that has it open makes this fail at once.
    let mut guard = None;
    if target.exists() {
        let mut conn = SqliteConnectOptions::new()
            .filename(target)
            .create_if_missing(false)
            .busy_timeout(Duration::from_millis(200))
            .locking_mode(SqliteLockingMode::Exclusive)
            .connect()
            .await?;
        let busy = sqlx::query("PRAGMA journal_mode = DELETE")
            .execute(&mut conn)
            .await
            .is_err()
            || sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut conn)
                .await
                .is_err();
        if busy {
            return Err(StoreError::Conflict(format!(
                "数据库 {} 正在被使用（服务器或其他程序已打开它），请先停止 yimeng serve 再恢复，未做任何更改",
                target.display()
            )));
        }
        guard = Some(conn);
    }
    let tmp = dir.join(format!(
        ".{}.restore-{}",
        target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("yimeng.db"),
        std::process::id()
    ));
    let io = |what: &str, e: std::io::Error| StoreError::Config(format!("{what}：{e}"));
    std::fs::copy(source, &tmp).map_err(|e| io("无法复制备份文件", e))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("无法写入磁盘", e))?;
    // The copy must open in WAL mode like every store, and must not meet an old WAL.
    for ext in ["-wal", "-shm"] {
        let mut p = target.as_os_str().to_owned();
        p.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    if let Err(e) = std::fs::rename(&tmp, target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("无法替换数据库文件", e));
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    if let Some(conn) = guard {
        // Its file is gone from the directory; closing it touches only the old inode.
        let _ = conn.close().await;
    }
    // Back to WAL mode as the store opens it.
    let mut conn = connect(target, false).await?;
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}
