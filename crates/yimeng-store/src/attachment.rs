//! The one attachment store: an upload (bytes + declared name) is checked against its policy (size,
//! type by magic bytes: [`yimeng_domain::attachment`]), its SHA-256 is computed once, and its row
//! is written in the caller's transaction, in the table of the record it belongs to
//! (`enrolment_file`, `transfer_file`, `dispatch_file`). A download takes the parent record as read
//! through the caller's scope ([`Parent`]): a file is found only under a record its reader sees.

use crate::db::{Db, Sql, Tx, Value};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use yimeng_domain::attachment::Policy;

/// Hex SHA-256 of a file's bytes (the digest recorded with every stored or exchanged file).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(digest.len() * 2);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// An upload that passed its policy: the name as stored, the content type, the bytes, the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl Accepted {
    pub fn size(&self) -> usize {
        self.bytes.len()
    }
}

/// Checks an upload against `policy`; a refusal names the field (“户口簿”, “附件”), the file and
/// the reason, e.g. `材料文件“证明.pdf”：类型不符（文件内容是 ZIP 压缩包，…）`.
pub fn accept(
    policy: &Policy,
    field: &str,
    declared_name: &str,
    bytes: Vec<u8>,
) -> Result<Accepted> {
    let name = stored_name(declared_name);
    match policy.check(&name, &bytes) {
        Ok(t) => Ok(Accepted {
            sha256: sha256_hex(&bytes),
            name,
            content_type: t.content_type,
            bytes,
        }),
        Err(reason) => Err(StoreError::Invalid(format!(
            "{field}“{}”：{reason}",
            yimeng_domain::text::preview(declared_name, 60)
        ))),
    }
}

/// The declared name without control characters or path separators, at most 100 characters
/// (“附件” when nothing is left).
fn stored_name(declared: &str) -> String {
    let name: String = yimeng_domain::text::normalize(declared)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
        .collect();
    let name = yimeng_domain::text::preview(name.trim(), 100);
    if name.is_empty() {
        "附件".to_string()
    } else {
        name
    }
}

/// The record a new file belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// An enrolment application's material.
    Enrolment {
        county_id: i32,
        application_id: i64,
        material: &'a str,
    },
    /// A transfer request's material.
    Transfer {
        county_id: i32,
        request_id: i64,
        material: &'a str,
    },
    /// A dispatch report's evidence.
    Dispatch {
        county_id: i32,
        report_id: i64,
        uploaded_by: &'a str,
    },
}

/// Writes the file row in the caller's transaction; returns the file's id.
pub async fn write(
    tx: &mut Tx,
    owner: Owner<'_>,
    file: &Accepted,
    now: DateTime<Utc>,
) -> Result<i64> {
    // The owner's table and parent column, and its one column of its own: the material the file
    // is for (enrolment, transfer) or who uploaded it (dispatch). The size column is `integer`
    // for materials and `bigint` for dispatch evidence.
    let (table, parent_column, county_id, parent_id, own_column, own_value, size) = match owner {
        Owner::Enrolment {
            county_id,
            application_id,
            material,
        } => (
            "enrolment_file",
            "application_id",
            county_id,
            application_id,
            "material",
            material,
            Value::from(file.bytes.len() as i32),
        ),
        Owner::Transfer {
            county_id,
            request_id,
            material,
        } => (
            "transfer_file",
            "request_id",
            county_id,
            request_id,
            "material",
            material,
            Value::from(file.bytes.len() as i32),
        ),
        Owner::Dispatch {
            county_id,
            report_id,
            uploaded_by,
        } => (
            "dispatch_file",
            "report_id",
            county_id,
            report_id,
            "uploaded_by",
            uploaded_by,
            Value::from(file.bytes.len() as i64),
        ),
    };
    let id = tx.alloc_ids(table, 1).await?;
    let mut q = Sql::new(&format!(
        "INSERT INTO {table} (county_id, id, {parent_column}, {own_column}, file_name, content_type, size, sha256, content, uploaded_at) VALUES "
    ));
    q.bind_list([
        Value::from(county_id),
        id.into(),
        parent_id.into(),
        own_value.into(),
        file.name.as_str().into(),
        file.content_type.into(),
        size,
        file.sha256.as_str().into(),
        file.bytes.clone().into(),
        now.into(),
    ]);
    tx.exec(q).await?;
    Ok(id)
}

/// Where a parent record's files are: table, parent column, county, parent id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilesOf {
    table: &'static str,
    parent_column: &'static str,
    county_id: i32,
    parent_id: i64,
}

/// A record files belong to, as its reader read it through a scope (the proof of visibility:
/// [`crate::enrolment::get`] / [`crate::enrolment::lookup`], [`crate::transfer::get`],
/// [`crate::dispatch::visible`]).
pub trait Parent {
    fn files_of(&self) -> FilesOf;
}

impl Parent for crate::enrolment::ApplicationRow {
    fn files_of(&self) -> FilesOf {
        FilesOf {
            table: "enrolment_file",
            parent_column: "application_id",
            county_id: self.county_id,
            parent_id: self.id,
        }
    }
}

impl Parent for crate::transfer::TransferRow {
    fn files_of(&self) -> FilesOf {
        FilesOf {
            table: "transfer_file",
            parent_column: "request_id",
            county_id: self.county_id,
            parent_id: self.id,
        }
    }
}

impl Parent for crate::dispatch::VisibleReport {
    fn files_of(&self) -> FilesOf {
        FilesOf {
            table: "dispatch_file",
            parent_column: "report_id",
            county_id: self.row().county_id,
            parent_id: self.row().id,
        }
    }
}

/// A downloaded file.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Download {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// One file of a visible parent record: name, type and bytes; a file of another record (or
/// another county) is not found.
#[tracing::instrument(skip_all)]
pub async fn download(db: &Db, parent: &impl Parent, file_id: i64) -> Result<Download> {
    let p = parent.files_of();
    let mut q = Sql::new(&format!(
        "SELECT file_name, content_type, content FROM {} WHERE county_id = ",
        p.table
    ));
    q.bind(p.county_id)
        .push(&format!(" AND {} = ", p.parent_column))
        .bind(p.parent_id)
        .push(" AND id = ")
        .bind(file_id);
    db.opt(q).await?.ok_or(StoreError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yimeng_domain::attachment::{DISPATCH_EVIDENCE, ENROLMENT_MATERIAL};

    #[test]
    fn the_digest_is_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn accepting_names_the_field_the_file_and_the_reason() {
        let e = accept(
            &ENROLMENT_MATERIAL,
            "材料文件",
            "证明.pdf",
            b"PK\x03\x04".to_vec(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "材料文件“证明.pdf”：类型不符（文件内容是 ZIP 压缩包，不是图片（JPG、PNG）或 PDF 文件）"
        );
        let a = accept(
            &DISPATCH_EVIDENCE,
            "附件",
            "a/b\u{7}.pdf",
            b"%PDF-1.4".to_vec(),
        )
        .unwrap();
        assert_eq!(a.name, "ab.pdf");
        assert_eq!(a.content_type, "application/pdf");
        assert_eq!(a.sha256, sha256_hex(b"%PDF-1.4"));
    }
}
