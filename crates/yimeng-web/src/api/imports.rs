//! `/api/v1/imports/{table}`: a registry file imported through the same engine as the import page.

use super::Problem;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Failure};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_io::Table;

#[derive(OpenApi)]
#[openapi(paths(import), components(schemas(ImportSummary)))]
pub(super) struct ImportsDoc;

/// The routes (`upload_limit`: the largest file accepted, in bytes).
pub(super) fn router(upload_limit: usize) -> Router<AppState> {
    Router::new().route(
        "/api/v1/imports/{table}",
        post(import).layer(DefaultBodyLimit::max(upload_limit)),
    )
}

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct ImportSummary {
    /// Written (false for a dry run or a refused file).
    pub committed: bool,
    /// Rows read.
    pub total: u64,
    /// New records.
    pub inserted: u64,
    /// Changed records.
    pub updated: u64,
    /// Unchanged records.
    pub unchanged: u64,
    /// Refused rows.
    pub rejected: u64,
    /// Every problem: row, column (Chinese header), value, reason.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<crate::service::import::ErrorLine>,
}

#[derive(Deserialize, IntoParams)]
struct ImportParams {
    /// all (default: one bad row means nothing is written) | partial
    mode: Option<String>,
    /// true: check only, write nothing
    dry_run: Option<bool>,
}

/// Imports a file (multipart field `file`; .xlsx, .xls or .csv in UTF-8 or GBK) into
/// `schools`, `classes`, `students` or `staff`.
#[utoipa::path(post, path = "/api/v1/imports/{table}", tag = "registry", params(("table" = String, Path, description = "schools | classes | students | staff"), ImportParams), request_body(content_type = "multipart/form-data", content = Object), responses((status = 200, body = ImportSummary), (status = 422, description = "有行未通过校验，未写入（返回同样的报告）", body = ImportSummary), (status = 404, description = "未知的表", body = Problem)))]
async fn import(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(table): Path<String>,
    Query(q): Query<ImportParams>,
    mut mp: Multipart,
) -> ApiResult<(StatusCode, Json<ImportSummary>)> {
    u.require_writer()?;
    let table = Table::parse(&table).ok_or(Failure::NotFound)?;
    let dir = tempfile::tempdir().map_err(|e| Failure::Internal(e.to_string()))?;
    let mut saved_file = None;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("upload.csv").to_string();
        let ext = std::path::Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("csv")
            .to_ascii_lowercase();
        let path = dir.path().join(format!("upload.{ext}"));
        crate::kit::upload::save_field(&mut field, &path).await?;
        saved_file = Some((path, name));
    }
    let (path, file_name) =
        saved_file.ok_or_else(|| Failure::BadRequest("缺少文件（multipart 字段 file）".into()))?;
    let mode = if q.mode.as_deref() == Some("partial") {
        yimeng_store::import::Mode::Partial
    } else {
        yimeng_store::import::Mode::AllOrNothing
    };
    let job = crate::service::import::ImportJob {
        table,
        path,
        file_name,
        mode,
        dry_run: q.dry_run.unwrap_or(false),
    };
    let o = crate::service::import::import_file_gated(
        &state.db,
        &u.scope,
        &u.actor(),
        job,
        yimeng_store::import::GateOptions::with_rules(&state.rules),
        Arc::new(|_| {}),
    )
    .await?;
    let r = &o.report;
    // Rows were refused and nothing was (or, in a dry run, would be) written: 422 with the report.
    let status = if r.rejected > 0
        && !r.committed
        && (mode == yimeng_store::import::Mode::AllOrNothing || r.inserted + r.updated == 0)
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(ImportSummary {
            committed: r.committed,
            total: r.total,
            inserted: r.inserted,
            updated: r.updated,
            unchanged: r.unchanged,
            rejected: r.rejected,
            errors: o.errors,
        }),
    ))
}
