//! Exports: the rows a list shows, written to xlsx or csv as they are read, recorded in the audit
//! log and sent as a download. The registry lists' exports themselves (columns, masking, limits)
//! are `service::lists`, shared by the list pages and the API.

use crate::app::AppState;
use crate::auth::User;
use crate::error::{Failure, PageResult};
use axum::response::Response;
use yimeng_io::{Cell, FileFormat, TableWriter};

/// Writes the rows a page shows to a file of `format` ("xlsx" or "csv"), records the export in
/// the audit log, and sends it.
pub async fn download(
    state: &AppState,
    u: &User,
    title: &str,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<Cell>>,
    format: &str,
    entity: &'static str,
) -> PageResult<Response> {
    let format = parse_format(format)?;
    Ok(rows_file(state, u, title, headers, rows, format, entity).await?)
}

/// [`download`] for a format already parsed, answering a [`Failure`] (a page or problem+json).
pub async fn rows_file(
    state: &AppState,
    u: &User,
    title: &str,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<Cell>>,
    format: FileFormat,
    entity: &'static str,
) -> Result<Response, Failure> {
    let mut d = Download::new(title, headers, format)?;
    for r in rows {
        d.write_row(&r)?;
    }
    d.send(state, u, entity).await
}

/// The format of a page's `?format=`: "xlsx" or "csv", anything else refused in Chinese.
pub fn parse_format(format: &str) -> Result<FileFormat, Failure> {
    match format {
        "csv" => Ok(FileFormat::Csv),
        "xlsx" => Ok(FileFormat::Xlsx),
        other => Err(Failure::BadRequest(format!(
            "不支持的导出格式“{}”",
            yimeng_domain::text::preview(other, 10)
        ))),
    }
}

/// A page's export under way: rows go straight into the file as they are read, then the file is
/// audited and sent ([`download`] for rows already in hand).
pub struct Download {
    dir: tempfile::TempDir,
    writer: TableWriter,
    format: FileFormat,
    title: String,
}

impl Download {
    /// Creates the file of `format` with its header row.
    pub fn new(title: &str, headers: &[&str], format: FileFormat) -> Result<Download, Failure> {
        let dir = tempfile::tempdir().map_err(|e| Failure::Internal(e.to_string()))?;
        let path = dir.path().join(format!("export.{}", format.ext()));
        let writer = TableWriter::create(&path, format, title, headers)
            .map_err(|e| Failure::Internal(e.to_string()))?;
        Ok(Download {
            dir,
            writer,
            format,
            title: title.to_string(),
        })
    }

    /// Writes one row.
    pub fn write_row(&mut self, cells: &[Cell]) -> Result<(), Failure> {
        self.writer
            .write_row(cells)
            .map_err(|e| Failure::Internal(e.to_string()))
    }

    /// Finishes the file, records the export in the audit log, and sends it.
    pub async fn send(
        self,
        state: &AppState,
        u: &User,
        entity: &'static str,
    ) -> Result<Response, Failure> {
        let Download {
            dir,
            writer,
            format,
            title,
        } = self;
        let n = writer
            .finish()
            .map_err(|e| Failure::Internal(e.to_string()))?;
        crate::service::export::audit_export(&state.db, u, entity, &format!("导出{title} {n} 行"))
            .await?;
        let date = crate::service::today().format("%Y%m%d");
        let path = dir.path().join(format!("export.{}", format.ext()));
        crate::service::export::send_file(
            &path,
            &format!("{title}_{date}.{}", format.ext()),
            format,
        )
        .await
    }
}

/// Sends a written export file under `name` (streamed from disk: `service::export::send_file`).
pub async fn send_file(
    path: &std::path::Path,
    name: &str,
    format: FileFormat,
) -> PageResult<Response> {
    Ok(crate::service::export::send_file(path, name, format).await?)
}
