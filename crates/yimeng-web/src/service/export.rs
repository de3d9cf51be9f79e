//! Export of registry tables in the import format, so an export imports back unchanged. Rows are
//! read in keyset pages and written as they come: memory stays flat at any size. Also what every
//! download of the web shares: the audit row of an export and sending the file.

use super::ServiceError;
use crate::auth::User;
use crate::error::Failure;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use yimeng_domain::Scope;
use yimeng_domain::student::ClassRef;
use yimeng_io::records::{class_cells, school_cells, staff_cells, student_cells};
use yimeng_io::{FileFormat, Table, TableWriter};
use yimeng_store::{Db, audit, class, school, staff, student};

const PAGE: i64 = 10_000;

/// Pages in flight between the reader and the writer: enough to keep both busy, small enough
/// that memory stays at a few pages.
const PAGES_IN_FLIGHT: usize = 2;

/// Writes `table` (rows in `scope`) to `path`. Returns the number of rows.
///
/// Reading and writing overlap: this task reads keyset pages from the store while a blocking
/// thread turns the previous page into cells and writes them (CSV formatting, or the xlsx sheet
/// XML and its deflate). Run one after the other, the two halves each waited for the other; the
/// export's wall time is now about the larger of the two.
pub async fn export_table(
    db: &Db,
    scope: &Scope,
    table: Table,
    path: &Path,
    format: FileFormat,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<u64, ServiceError> {
    let headers: Vec<&str> = table.columns().iter().map(|c| c.header).collect();
    let w = TableWriter::create(path, format, table.label(), &headers)?;
    let codes: HashMap<i64, String> = school::briefs(db, scope)
        .await?
        .into_iter()
        .map(|s| (s.id, s.code))
        .collect();
    fn code(codes: &HashMap<i64, String>, id: i64) -> &str {
        codes.get(&id).map(String::as_str).unwrap_or("")
    }
    match table {
        Table::Schools => {
            let read = |after| school::page_after(db, scope, after, PAGE);
            let key = |r: &school::SchoolRow| (r.county_id, r.id);
            pipe(w, progress, read, key, |w, r| {
                w.write_row(&school_cells(&r.to_record()))
            })
            .await
        }
        Table::Staff => {
            let read = |after| staff::page_after(db, scope, after, PAGE);
            let key = |r: &staff::StaffRow| (r.county_id, r.id);
            pipe(w, progress, read, key, move |w, r| {
                w.write_row(&staff_cells(&r.to_record(code(&codes, r.school_id))))
            })
            .await
        }
        Table::Classes => {
            let cards: HashMap<i64, String> = staff::id_cards(db, scope)
                .await?
                .into_iter()
                .map(|(card, _, id, _)| (id, card))
                .collect();
            let read = |after| class::page_after(db, scope, after, PAGE);
            let key = |r: &class::ClassRow| (r.county_id, r.id);
            pipe(w, progress, read, key, move |w, r| {
                let head = r
                    .head_teacher_id
                    .and_then(|h| cards.get(&h))
                    .map(String::as_str);
                w.write_row(&class_cells(&r.to_record(code(&codes, r.school_id), head)))
            })
            .await
        }
        Table::Students => {
            let classes: HashMap<i64, ClassRef> = class::briefs(db, scope)
                .await?
                .into_iter()
                .filter_map(|c| {
                    Some((
                        c.id,
                        ClassRef {
                            year: yimeng_domain::SchoolYear::from_start(c.school_year),
                            grade: yimeng_domain::Grade::from_code(&c.grade)?,
                            class_no: c.class_no,
                        },
                    ))
                })
                .collect();
            let read = |after| student::page_after(db, scope, after, PAGE);
            let key = |r: &student::StudentRow| (r.county_id, r.id);
            pipe(w, progress, read, key, move |w, r| {
                let c = r.class_id.and_then(|id| classes.get(&id)).copied();
                w.write_row(&student_cells(&r.to_record(code(&codes, r.school_id), c)))
            })
            .await
        }
    }
}

/// Reads keyset pages with `read` (from the key of the last row of the previous page, `key`) in
/// this task and hands them to a blocking thread that writes each row with `write`, then finishes
/// the file. A write error stops the reading; a read error drops the channel, and the writer's
/// half-written file is left to the caller (who writes into a temporary path).
async fn pipe<R, Fut>(
    mut w: TableWriter,
    progress: &(dyn Fn(u64) + Send + Sync),
    read: impl Fn((i32, i64)) -> Fut,
    key: impl Fn(&R) -> (i32, i64),
    mut write: impl FnMut(&mut TableWriter, &R) -> Result<(), yimeng_io::IoError> + Send + 'static,
) -> Result<u64, ServiceError>
where
    R: Send + 'static,
    Fut: std::future::Future<Output = yimeng_store::Result<Vec<R>>>,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<R>>(PAGES_IN_FLIGHT);
    let writer = tokio::task::spawn_blocking(move || {
        while let Some(rows) = rx.blocking_recv() {
            for r in &rows {
                write(&mut w, r)?;
            }
        }
        w.finish()
    });
    let mut after = (0i32, 0i64);
    let mut sent = 0u64;
    let read_result = loop {
        let rows = match read(after).await {
            Ok(rows) => rows,
            Err(e) => break Err(e),
        };
        let Some(last) = rows.last() else {
            break Ok(());
        };
        after = key(last);
        sent += rows.len() as u64;
        if tx.send(rows).await.is_err() {
            // The writer stopped on an error: it is reported below.
            break Ok(());
        }
        progress(sent);
    };
    drop(tx);
    let written = writer
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    read_result?;
    Ok(written?)
}

/// A registry table in the import format as the page (`/export/{table}`) and the API
/// (`/api/v1/exports/{table}`) give it: only roles with the personal-data right (it carries full
/// ID numbers), narrowed to a county or a school of the caller's scope (404 outside), written to
/// a temporary file row by row, recorded in the audit log. Returns the directory holding the
/// file (removed when dropped), the file and the name to send it under.
pub async fn registry_file(
    db: &Db,
    u: &User,
    table: Table,
    format: FileFormat,
    county: Option<i32>,
    school: Option<i64>,
) -> Result<(tempfile::TempDir, PathBuf, String), Failure> {
    require_registry_export(u)?;
    let mut scope = u.scope.clone();
    if let Some(c) = county {
        scope = scope
            .narrow_to_county(yimeng_domain::RegionCode::from_i32(c))
            .ok_or(Failure::NotFound)?;
    }
    if let Some(s) = school {
        let row = school::get(db, &scope, s).await?;
        scope = scope
            .narrow_to_school(yimeng_domain::RegionCode::from_i32(row.county_id), s)
            .ok_or(Failure::NotFound)?;
    }
    let dir = tempfile::tempdir().map_err(|e| Failure::Internal(e.to_string()))?;
    let path = dir.path().join(format!("export.{}", format.ext()));
    let n = export_table(db, &scope, table, &path, format, &|_| {}).await?;
    audit_export(
        db,
        u,
        table.entity(),
        &format!("导出{}（导入格式）{} 行", table.label(), n),
    )
    .await?;
    let name = format!("{}.{}", table.label(), format.ext());
    Ok((dir, path, name))
}

/// The import format carries full ID numbers: only roles with the personal-data right (county
/// and school accounts) may export it.
pub fn require_registry_export(u: &User) -> Result<(), Failure> {
    if u.role().has_personal_data_right() {
        Ok(())
    } else {
        Err(Failure::Forbidden(
            "导入格式的导出含完整身份证件号，只有县区和学校账户可以导出".into(),
        ))
    }
}

/// Records an export in the audit log (the caller's county, or the city for several).
pub async fn audit_export(
    db: &Db,
    u: &User,
    entity: &'static str,
    summary: &str,
) -> Result<(), Failure> {
    let county = match u.scope.counties().as_slice() {
        [one] => one.get(),
        _ => audit::CITY_COUNTY_ID,
    };
    audit::write_now(
        db,
        &u.actor(),
        audit::Entry {
            county_id: county,
            action: "export",
            entity,
            entity_id: None,
            summary: summary.to_string(),
            before: None,
            after: None,
        },
    )
    .await?;
    Ok(())
}

/// Sends a written file as a download named `name`, streamed from disk (the file stays readable
/// after its temporary directory is removed).
pub async fn send_file(path: &Path, name: &str, format: FileFormat) -> Result<Response, Failure> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?
        .len();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"export.{}\"; filename*=UTF-8''{encoded}",
        format.ext()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.mime().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, len.to_string()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}
