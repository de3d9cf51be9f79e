//! Export of registry tables in the import format, so an export imports back unchanged. Rows are
//! read in keyset pages and written as they come: memory stays flat at any size.

use super::ServiceError;
use std::collections::HashMap;
use std::path::Path;
use yimeng_domain::Scope;
use yimeng_domain::student::ClassRef;
use yimeng_io::records::{class_cells, school_cells, staff_cells, student_cells};
use yimeng_io::{FileFormat, Table, TableWriter};
use yimeng_store::{Db, class, school, staff, student};

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
