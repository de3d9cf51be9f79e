//! Import of a file into the registry: a reader thread parses and validates rows into domain
//! records while the store importer checks them against the registry and writes them in one
//! transaction.

use super::ServiceError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc;
use yimeng_domain::{FieldError, Scope};
use yimeng_io::read::FileInfo;
use yimeng_io::records::{AnyRecord, ParseCtx, parse_row};
use yimeng_io::{HeaderMap, IoError, Table};
use yimeng_store::import::{
    self, ClassImport, GateOptions, Mode, Options, Report, SchoolImport, StaffImport, StudentImport,
};
use yimeng_store::{Actor, Db};

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportJob {
    /// Which table.
    pub table: Table,
    /// The file on disk.
    pub path: PathBuf,
    /// The name the user knows it by.
    pub file_name: String,
    /// All-or-nothing or partial.
    pub mode: Mode,
    /// Validate only.
    pub dry_run: bool,
}

/// One error as the user sees it: row, column header, value, reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorLine {
    /// Row number in the file.
    pub row: u64,
    /// Column header (Chinese).
    pub column: String,
    /// Value.
    pub value: String,
    /// Reason (Chinese).
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportOutcome {
    /// Counts and state.
    pub report: Report,
    /// Every problem with its column header.
    pub errors: Vec<ErrorLine>,
    /// Format and encoding found.
    pub format: &'static str,
    /// Encoding (CSV).
    pub encoding: Option<&'static str>,
    /// SHA-256 of the file.
    pub sha256: String,
}

type Parsed = (u64, Result<AnyRecord, Vec<FieldError>>);

enum Msg {
    Header(Result<(), IoError>),
    Rows(Vec<Parsed>),
    Done(Result<FileInfo, IoError>),
}

const CHUNK: usize = 1000;

/// Runs an import with the class-size gate at its default limits. `progress` is called with the
/// number of rows taken so far.
pub async fn import_file(
    db: &Db,
    scope: &Scope,
    actor: &Actor,
    job: ImportJob,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<ImportOutcome, ServiceError> {
    import_file_gated(db, scope, actor, job, GateOptions::default(), progress).await
}

/// Runs an import; a students file is checked by the class-size gate `gate` (the configured
/// limits; a file never overrides them).
pub async fn import_file_gated(
    db: &Db,
    scope: &Scope,
    actor: &Actor,
    job: ImportJob,
    gate: GateOptions,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> Result<ImportOutcome, ServiceError> {
    let (tx, mut rx) = mpsc::channel::<Msg>(16);
    let hash_path = job.path.clone();
    let hasher = tokio::task::spawn_blocking(move || sha256_file(&hash_path));
    let table = job.table;
    let path = job.path.clone();
    let ctx = ParseCtx {
        today: super::today(),
    };
    let reader = std::thread::spawn(move || {
        let map: std::cell::OnceCell<HeaderMap> = std::cell::OnceCell::new();
        let mut chunk: Vec<Parsed> = Vec::with_capacity(CHUNK);
        let tx2 = tx.clone();
        let res = yimeng_io::read_table(
            &path,
            |header| {
                let m = HeaderMap::new(table, header);
                let ok = m.as_ref().map(|_| ()).map_err(|e| {
                    IoError::Header(e.to_string().trim_start_matches("表头有误：").to_string())
                });
                if let Ok(m) = m {
                    let _ = map.set(m);
                }
                let failed = ok.is_err();
                let _ = tx2.blocking_send(Msg::Header(ok));
                if failed {
                    Err(IoError::Stopped("表头有误".into()))
                } else {
                    Ok(())
                }
            },
            |row| {
                let m = map.get().expect("header first");
                chunk.push((row.number, parse_row(m, row.cells, &ctx)));
                if chunk.len() >= CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    tx2.blocking_send(Msg::Rows(full))
                        .map_err(|_| IoError::Stopped("导入已取消".into()))?;
                }
                Ok(())
            },
        );
        if !chunk.is_empty() {
            let _ = tx.blocking_send(Msg::Rows(chunk));
        }
        let _ = tx.blocking_send(Msg::Done(res));
    });

    // The header decides whether a transaction is opened at all.
    let first = rx
        .recv()
        .await
        .ok_or_else(|| ServiceError::Internal("读取线程意外退出".into()))?;
    let header_err = match first {
        Msg::Header(Ok(())) => None,
        Msg::Header(Err(e)) => Some(e),
        Msg::Done(Err(e)) => Some(e),
        _ => Some(IoError::Format("无法读取表头".into())),
    };
    if let Some(e) = header_err {
        drop(rx);
        let _ = tokio::task::spawn_blocking(move || reader.join()).await;
        return Err(ServiceError::File(e));
    }
    let opts = Options {
        mode: job.mode,
        dry_run: job.dry_run,
        file_name: job.file_name.clone(),
        file_sha256: String::new(),
        edit: None,
        size_hint: std::fs::metadata(&job.path).ok().map(|m| m.len()),
    };
    let mut imp = Importer::start(table, db, scope, actor, opts, gate).await?;
    let mut seen = 0u64;
    let mut info = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Rows(rows) => {
                seen += rows.len() as u64;
                imp.look_up_keys(&rows).await?;
                for (n, rec) in rows {
                    imp.push(n, rec).await?;
                }
                progress(seen);
            }
            Msg::Done(r) => {
                info = Some(r);
                break;
            }
            Msg::Header(_) => {}
        }
    }
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    let info = match info {
        Some(Ok(i)) => i,
        Some(Err(e)) => return Err(ServiceError::File(e)),
        None => return Err(ServiceError::Internal("读取线程意外退出".into())),
    };
    let sha = hasher
        .await
        .map_err(|_| ServiceError::Internal("计算文件摘要失败".into()))?
        .map_err(ServiceError::File)?;
    imp.set_file_sha256(sha.clone());
    let report = imp.finish().await?;
    let errors = report
        .errors
        .iter()
        .map(|e| ErrorLine {
            row: e.row,
            column: table.header_of(e.field).to_string(),
            value: e.value.clone(),
            reason: e.reason.clone(),
        })
        .collect();
    Ok(ImportOutcome {
        report,
        errors,
        format: info.format,
        encoding: info.encoding,
        sha256: sha,
    })
}

enum Importer {
    School(SchoolImport),
    Class(ClassImport),
    Student(Box<StudentImport>),
    Staff(StaffImport),
}

impl Importer {
    async fn start(
        table: Table,
        db: &Db,
        scope: &Scope,
        actor: &Actor,
        opts: Options,
        gate: GateOptions,
    ) -> Result<Importer, ServiceError> {
        Ok(match table {
            Table::Schools => Importer::School(SchoolImport::start(db, scope, actor, opts).await?),
            Table::Classes => Importer::Class(ClassImport::start(db, scope, actor, opts).await?),
            Table::Students => Importer::Student(Box::new(
                StudentImport::start_gated(db, scope, actor, opts, gate).await?,
            )),
            Table::Staff => Importer::Staff(StaffImport::start(db, scope, actor, opts).await?),
        })
    }
    async fn push(
        &mut self,
        row: u64,
        rec: Result<AnyRecord, Vec<FieldError>>,
    ) -> Result<(), ServiceError> {
        match (self, rec) {
            (Importer::School(i), Ok(AnyRecord::School(r))) => i.push(row, Ok(r)).await?,
            (Importer::School(i), Err(e)) => i.push(row, Err(e)).await?,
            (Importer::Class(i), Ok(AnyRecord::Class(r))) => i.push(row, Ok(r)).await?,
            (Importer::Class(i), Err(e)) => i.push(row, Err(e)).await?,
            (Importer::Student(i), Ok(AnyRecord::Student(r))) => i.push(row, Ok(*r)).await?,
            (Importer::Student(i), Err(e)) => i.push(row, Err(e)).await?,
            (Importer::Staff(i), Ok(AnyRecord::Staff(r))) => i.push(row, Ok(*r)).await?,
            (Importer::Staff(i), Err(e)) => i.push(row, Err(e)).await?,
            _ => return Err(ServiceError::Internal("记录类型与导入表不一致".into())),
        }
        Ok(())
    }
    /// Looks up the national numbers a chunk of rows names (a small file's; see
    /// [`Options::size_hint`]).
    async fn look_up_keys(&mut self, rows: &[Parsed]) -> Result<(), ServiceError> {
        let ok = rows.iter().filter_map(|(_, r)| r.as_ref().ok());
        match self {
            Importer::Student(i) => {
                i.look_up_keys(ok.filter_map(|r| match r {
                    AnyRecord::Student(s) => Some(&**s),
                    _ => None,
                }))
                .await?
            }
            Importer::Staff(i) => {
                i.look_up_keys(ok.filter_map(|r| match r {
                    AnyRecord::Staff(s) => Some(&**s),
                    _ => None,
                }))
                .await?
            }
            Importer::School(_) | Importer::Class(_) => {}
        }
        Ok(())
    }
    fn set_file_sha256(&mut self, sha: String) {
        match self {
            Importer::School(i) => i.set_file_sha256(sha),
            Importer::Class(i) => i.set_file_sha256(sha),
            Importer::Student(i) => i.set_file_sha256(sha),
            Importer::Staff(i) => i.set_file_sha256(sha),
        }
    }
    async fn finish(self) -> Result<Report, ServiceError> {
        Ok(match self {
            Importer::School(i) => i.finish().await?,
            Importer::Class(i) => i.finish().await?,
            Importer::Student(i) => i.finish().await?,
            Importer::Staff(i) => i.finish().await?,
        })
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, IoError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| IoError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| IoError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Writes the errors as a sheet (xlsx or csv by the file's extension): 行号, 列名, 值, 原因.
pub fn write_errors(path: &Path, errors: &[ErrorLine]) -> Result<(), IoError> {
    let format = yimeng_io::FileFormat::from_path(path).unwrap_or(yimeng_io::FileFormat::Xlsx);
    let mut w =
        yimeng_io::TableWriter::create(path, format, "错误清单", &["行号", "列名", "值", "原因"])?;
    for e in errors {
        w.write_row(&[
            yimeng_io::Cell::Int(e.row as i64),
            yimeng_io::Cell::text(&e.column),
            yimeng_io::Cell::text(&e.value),
            yimeng_io::Cell::text(&e.reason),
        ])?;
    }
    w.finish()?;
    Ok(())
}

/// A one-line Chinese summary of an outcome.
pub fn summary(o: &ImportOutcome) -> String {
    let r = &o.report;
    let head = format!("{}：共 {} 行", import::entity_label(r.entity), r.total);
    if r.dry_run {
        return format!(
            "{head}；校验{}：可新增 {}，可更新 {}，未变 {}，有误 {} 行（试导入，未写入任何数据）",
            if r.rejected == 0 {
                "通过"
            } else {
                "未通过"
            },
            r.inserted,
            r.updated,
            r.unchanged,
            r.rejected
        );
    }
    if r.committed {
        let warned = if r.warnings.is_empty() {
            String::new()
        } else {
            format!(
                "；提醒：{} 行编入后超过标准班额（如 {}）",
                r.warnings.len(),
                r.warnings[0]
            )
        };
        format!(
            "{head}；已导入：新增 {}，更新 {}，未变 {}，拒绝 {} 行{warned}",
            r.inserted, r.updated, r.unchanged, r.rejected
        )
    } else {
        format!(
            "{head}；有 {} 行有误，按“全部或全不”规则未写入任何数据",
            r.rejected
        )
    }
}
