//! Uploads: a multipart file field streamed to disk, and a multipart form read with its files.

use super::public::check_public_csrf;
use crate::auth::User;
use crate::error::Failure;
use axum::extract::Multipart;
use axum::http::HeaderMap;
use std::collections::HashMap;

/// Streams one multipart file field to `path`; returns its size in bytes.
pub async fn save_field(
    field: &mut axum::extract::multipart::Field<'_>,
    path: &std::path::Path,
) -> Result<usize, Failure> {
    let mut out = tokio::fs::File::create(path)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let mut size = 0usize;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| Failure::TooLarge(format!("上传中断或文件超过上限：{e}")))?
    {
        size += chunk.len();
        tokio::io::AsyncWriteExt::write_all(&mut out, &chunk)
            .await
            .map_err(|e| Failure::Internal(e.to_string()))?;
    }
    tokio::io::AsyncWriteExt::flush(&mut out)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    Ok(size)
}

/// A file field of a multipart form: its material code (the field name after `m_`), name and bytes.
pub struct RawFile {
    pub code: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The text fields and the files of a multipart form. File fields are named `m_<material code>`;
/// `label` names a known material (unknown ones are skipped). The CSRF token must come before any
/// file (our forms put it first); a file above `max` bytes is refused while it is read. `csrf` is
/// the page's user and headers to check it against; `None` when the caller checked already (the
/// API, whose extractor checks the header).
pub async fn read_multipart_files(
    csrf: Option<(&Option<User>, &HeaderMap)>,
    mut mp: Multipart,
    max: usize,
    label: impl Fn(&str) -> Option<&'static str>,
) -> Result<(HashMap<String, String>, Vec<RawFile>), Failure> {
    let mut fields = HashMap::new();
    let mut files = Vec::new();
    let mut checked = csrf.is_none();
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(code) = name.strip_prefix("m_") {
            if let (false, Some((u, headers))) = (checked, csrf) {
                check_public_csrf(u, headers, fields.get("_csrf").map_or("", String::as_str))?;
                checked = true;
            }
            let file_name = field.file_name().unwrap_or_default().to_string();
            let Some(what) = label(code) else {
                continue;
            };
            let mut bytes = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| Failure::BadRequest(format!("上传中断：{e}")))?
            {
                if bytes.len() + chunk.len() > max {
                    return Err(Failure::BadRequest(format!(
                        "{what}：文件“{file_name}”超过 {} MB 的上限",
                        max / 1048576
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            if file_name.is_empty() && bytes.is_empty() {
                continue; // an empty file input
            }
            files.push(RawFile {
                code: code.to_string(),
                file_name,
                bytes,
            });
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?;
            fields.insert(name, text);
        }
    }
    if let (false, Some((u, headers))) = (checked, csrf) {
        check_public_csrf(u, headers, fields.get("_csrf").map_or("", String::as_str))?;
    }
    Ok((fields, files))
}
