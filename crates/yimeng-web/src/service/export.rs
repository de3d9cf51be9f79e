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

/// Writes `table` (rows in `scope`) to `path`. Returns the number of rows.
pub async fn export_table(
    db: &Db,
    scope: &Scope,
    table: Table,
    path: &Path,
    format: FileFormat,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<u64, ServiceError> {
    let headers: Vec<&str> = table.columns().iter().map(|c| c.header).collect();
    let mut w = TableWriter::create(path, format, table.label(), &headers)?;
    let codes: HashMap<i64, String> = school::briefs(db, scope)
        .await?
        .into_iter()
        .map(|s| (s.id, s.code))
        .collect();
    let code = |id: i64| codes.get(&id).map(String::as_str).unwrap_or("");
    let mut after = (0i32, 0i64);
    match table {
        Table::Schools => loop {
            let rows = school::page_after(db, scope, after, PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = (last.county_id, last.id);
            for r in &rows {
                w.write_row(&school_cells(&r.to_record()))?;
            }
            progress(w.rows());
        },
        Table::Staff => loop {
            let rows = staff::page_after(db, scope, after, PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = (last.county_id, last.id);
            for r in &rows {
                w.write_row(&staff_cells(&r.to_record(code(r.school_id))))?;
            }
            progress(w.rows());
        },
        Table::Classes => {
            let cards: HashMap<i64, String> = staff::id_cards(db, scope)
                .await?
                .into_iter()
                .map(|(card, _, id, _)| (id, card))
                .collect();
            loop {
                let rows = class::page_after(db, scope, after, PAGE).await?;
                let Some(last) = rows.last() else { break };
                after = (last.county_id, last.id);
                for r in &rows {
                    let head = r
                        .head_teacher_id
                        .and_then(|h| cards.get(&h))
                        .map(String::as_str);
                    w.write_row(&class_cells(&r.to_record(code(r.school_id), head)))?;
                }
                progress(w.rows());
            }
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
            loop {
                let rows = student::page_after(db, scope, after, PAGE).await?;
                let Some(last) = rows.last() else { break };
                after = (last.county_id, last.id);
                for r in &rows {
                    let c = r.class_id.and_then(|id| classes.get(&id)).copied();
                    w.write_row(&student_cells(&r.to_record(code(r.school_id), c)))?;
                }
                progress(w.rows());
            }
        }
    }
    Ok(w.finish()?)
}
