//! Imports from the browser (upload, check without writing, then confirm), templates, and every
//! download of a table (what the page shows, or the import format).

use crate::app::{AppState, PendingImport};
use crate::auth::{PageUser, User};
use crate::error::{Failure, PageResult};
use crate::kit::export::send_file;
use crate::kit::upload::save_field;
use crate::kit::{render, some};
use crate::service::export;
use crate::service::import::{ImportJob, ImportOutcome, import_file_gated};
use crate::view::Ctx;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;
use yimeng_io::{FileFormat, Table};
use yimeng_store::import::Mode;

/// `GET /import`
pub async fn form(PageUser(u): PageUser) -> PageResult<Response> {
    u.require_writer()?;
    let ctx = Ctx::for_user(&u, "/import");
    Ok(render(&ImportPage { ctx, error: None })?.into_response())
}

/// A table named in the path: an unknown one is a page that does not exist.
fn table_in_path(s: &str) -> Result<Table, Failure> {
    Table::parse(s).ok_or(Failure::NotFound)
}

fn table_of(s: &str) -> Result<Table, Failure> {
    Table::parse(s).ok_or_else(|| {
        Failure::BadRequest(format!(
            "未知的导入内容“{}”",
            yimeng_domain::text::preview(s, 20)
        ))
    })
}

/// `POST /import` (multipart: `_csrf`, `table`, `mode`, `file`): saves the upload and checks it
/// without writing anything.
pub async fn check(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    mut mp: Multipart,
) -> PageResult<Response> {
    u.require_writer()?;
    let mut csrf = None;
    let mut table = None;
    let mut mode = Mode::AllOrNothing;
    let mut saved: Option<(std::path::PathBuf, String)> = None;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| Failure::BadRequest(format!("上传失败：{e}")))?
    {
        match field.name().unwrap_or_default() {
            "_csrf" => csrf = Some(field.text().await.unwrap_or_default()),
            "table" => table = Some(field.text().await.unwrap_or_default()),
            "mode" => {
                let m = field.text().await.unwrap_or_default();
                if m == "partial" {
                    mode = Mode::Partial;
                }
            }
            "file" => {
                // The CSRF token comes first in our form; check it before writing a byte.
                u.check_csrf(csrf.as_deref())?;
                let name = field.file_name().unwrap_or("upload").to_string();
                let ext = std::path::Path::new(&name)
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if !matches!(ext.as_str(), "xlsx" | "xls" | "csv" | "txt") {
                    return bad_upload(
                        &u,
                        format!("不支持的文件类型“.{ext}”；请上传 .xlsx、.xls 或 .csv 文件"),
                    );
                }
                let path = state
                    .config
                    .upload_dir
                    .join(format!("{}.{ext}", crate::auth::random_token()));
                let size = save_field(&mut field, &path).await?;
                if size == 0 {
                    let _ = tokio::fs::remove_file(&path).await;
                    return bad_upload(&u, "没有选择文件，或文件是空的".into());
                }
                saved = Some((path, name));
            }
            _ => {}
        }
    }
    u.check_csrf(csrf.as_deref())?;
    let table = table_of(&table.unwrap_or_default())?;
    let Some((path, file_name)) = saved else {
        return bad_upload(&u, "请选择要导入的文件".into());
    };
    let job = ImportJob {
        table,
        path: path.clone(),
        file_name: file_name.clone(),
        mode,
        dry_run: true,
    };
    let gate = yimeng_store::import::GateOptions::with_rules(&state.rules);
    let outcome =
        match import_file_gated(&state.db, &u.scope, &u.actor(), job, gate, Arc::new(|_| {})).await
        {
            Ok(o) => o,
            Err(e) => {
                let _ = tokio::fs::remove_file(&path).await;
                return bad_upload(&u, e.to_string());
            }
        };
    let token = crate::auth::random_token();
    state.imports.lock().expect("imports lock").insert(
        token.clone(),
        PendingImport {
            user_id: u.account.id,
            table,
            path,
            file_name,
            mode,
            at: Instant::now(),
            errors: outcome.errors.clone(),
        },
    );
    result_page(&u, outcome, Some(token), table, mode)
}

fn bad_upload(u: &User, error: String) -> PageResult<Response> {
    let ctx = Ctx::for_user(u, "/import");
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&ImportPage {
            ctx,
            error: Some(error),
        })?,
    )
        .into_response())
}

fn result_page(
    u: &User,
    outcome: ImportOutcome,
    token: Option<String>,
    table: Table,
    mode: Mode,
) -> PageResult<Response> {
    let ctx = Ctx::for_user(u, "/import");
    let summary = crate::service::import::summary(&outcome);
    let can_commit = outcome.report.dry_run
        && (outcome.report.rejected == 0 || mode == Mode::Partial)
        && outcome.report.inserted + outcome.report.updated > 0;
    let status = if outcome.report.rejected > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ImportResultPage {
        ctx,
        outcome,
        summary,
        token,
        can_commit,
        table_label: table.label(),
    };
    Ok((status, render(&page)?).into_response())
}

/// `POST /import/{token}/commit`
pub async fn commit(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(token): Path<String>,
    Form(f): Form<crate::kit::CsrfOnly>,
) -> PageResult<Response> {
    u.require_writer()?;
    u.check_csrf(Some(&f.csrf))?;
    let pending = {
        let mut map = state.imports.lock().expect("imports lock");
        match map.get(&token) {
            Some(p) if p.user_id == u.account.id => map.remove(&token),
            _ => None,
        }
    }
    .ok_or(Failure::NotFound)?;
    let job = ImportJob {
        table: pending.table,
        path: pending.path.clone(),
        file_name: pending.file_name.clone(),
        mode: pending.mode,
        dry_run: false,
    };
    let gate = yimeng_store::import::GateOptions::with_rules(&state.rules);
    let result =
        import_file_gated(&state.db, &u.scope, &u.actor(), job, gate, Arc::new(|_| {})).await;
    let _ = tokio::fs::remove_file(&pending.path).await;
    result_page(&u, result?, None, pending.table, pending.mode)
}

/// `GET /import/{token}/errors.xlsx`: the check's errors as a sheet.
pub async fn errors(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(token): Path<String>,
) -> PageResult<Response> {
    u.require_writer()?;
    let errors = {
        let map = state.imports.lock().expect("imports lock");
        match map.get(&token) {
            Some(p) if p.user_id == u.account.id => p.errors.clone(),
            _ => return Err(Failure::NotFound.into()),
        }
    };
    let dir = tempfile::tempdir().map_err(|e| Failure::Internal(e.to_string()))?;
    let path = dir.path().join("errors.xlsx");
    crate::service::import::write_errors(&path, &errors)
        .map_err(|e| Failure::Internal(e.to_string()))?;
    send_file(&path, "错误清单.xlsx", FileFormat::Xlsx).await
}

/// `GET /templates/{table}`: the import template of a table.
pub async fn template(PageUser(u): PageUser, Path(table): Path<String>) -> PageResult<Response> {
    u.require_staff()?;
    let table = table_in_path(table.trim_end_matches(".xlsx"))?;
    let dir = tempfile::tempdir().map_err(|e| Failure::Internal(e.to_string()))?;
    let path = dir.path().join("template.xlsx");
    yimeng_io::write::write_template(table, &path).map_err(|e| Failure::Internal(e.to_string()))?;
    send_file(
        &path,
        &format!("{}导入模板.xlsx", table.label()),
        FileFormat::Xlsx,
    )
    .await
}

/// `?format=&county=&school=`
#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    county: Option<String>,
    school: Option<String>,
}

/// `GET /export/{table}`: a registry table in the import format (it imports back unchanged).
/// It carries full ID numbers, so only roles with the personal-data right may take it.
pub async fn export_registry(
    State(state): State<AppState>,
    PageUser(u): PageUser,
    Path(table): Path<String>,
    Query(q): Query<ExportQuery>,
) -> PageResult<Response> {
    export::require_registry_export(&u)?;
    let table = table_in_path(&table)?;
    let format = match some(&q.format).as_deref() {
        Some("csv") => FileFormat::Csv,
        _ => FileFormat::Xlsx,
    };
    let county = some(&q.county).and_then(|c| c.parse::<i32>().ok());
    let school = some(&q.school).and_then(|s| s.parse::<i64>().ok());
    let (_dir, path, name) =
        export::registry_file(&state.db, &u, table, format, county, school).await?;
    send_file(&path, &name, format).await
}

/// The import page.
#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    ctx: Ctx,
    error: Option<String>,
}

/// The result of a check or an import.
#[derive(Template)]
#[template(path = "import_result.html")]
struct ImportResultPage {
    ctx: Ctx,
    outcome: crate::service::import::ImportOutcome,
    summary: String,
    token: Option<String>,
    can_commit: bool,
    table_label: &'static str,
}
