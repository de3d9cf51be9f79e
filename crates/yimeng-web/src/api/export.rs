//! `/api/v1/exports/{table}`: a registry table (schools, classes, students, staff) in the import
//! format, as xlsx or csv with BOM — the file the page's export link (`/export/{table}`) gives,
//! through the same service (`service::export::registry_file`): written row by row in keyset
//! pages and streamed from disk, only for roles with the personal-data right (it carries full ID
//! numbers: county and school accounts), narrowed to a county or school of the caller's scope
//! (404 outside), recorded in the audit log. It imports back unchanged (`/api/v1/imports/{table}`).

use crate::api::Problem;
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiResult, Failure};
use crate::service::export;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};
use yimeng_io::{FileFormat, Table};

/// The export part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(export_table), components(schemas(ExportFormat)))]
pub struct ExportApi;

/// The export routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/exports/{table}", get(export_table))
}

/// A file format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Excel workbook (default).
    #[default]
    Xlsx,
    /// CSV, UTF-8 with BOM.
    Csv,
}

impl From<ExportFormat> for FileFormat {
    fn from(f: ExportFormat) -> FileFormat {
        match f {
            ExportFormat::Xlsx => FileFormat::Xlsx,
            ExportFormat::Csv => FileFormat::Csv,
        }
    }
}

/// Query of an export.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportParams {
    /// xlsx (default) | csv
    format: Option<ExportFormat>,
    /// Only this county (code, e.g. 371302).
    county: Option<i32>,
    /// Only this school (id).
    school: Option<i64>,
}

/// A registry table in the import format (county and school accounts): `schools`, `classes`,
/// `students` or `staff`, as xlsx or csv, only the rows in scope (narrowed by `county` or
/// `school`: 404 outside the scope).
#[utoipa::path(get, path = "/api/v1/exports/{table}", tag = "registry", params(("table" = String, Path, description = "schools | classes | students | staff"), ExportParams), responses((status = 200, description = "导入格式的文件", content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn export_table(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    Path(table): Path<String>,
    Query(q): Query<ExportParams>,
) -> ApiResult<Response> {
    export::require_registry_export(&u)?;
    let table = Table::parse(&table).ok_or(Failure::NotFound)?;
    let format = FileFormat::from(q.format.unwrap_or_default());
    let (_dir, path, name) =
        export::registry_file(&state.db, &u, table, format, q.county, q.school).await?;
    Ok(export::send_file(&path, &name, format).await?)
}
