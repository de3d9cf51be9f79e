//! The upload memory budget: every multipart body (import files, materials, attachments, on pages
//! and on the API) is counted against one budget of the whole server before its handler reads it.
//!
//! A body is counted at its declared size (`Content-Length`), or at the per-request limit when it
//! declares none (chunked), from before the handler runs until it has answered. A body larger than
//! the per-request limit is refused at once with 413; one that does not fit into what is left of
//! the budget, because other uploads are being received, with 503 and `Retry-After`: the server
//! keeps serving everyone else instead of growing until the machine runs out of memory. Both
//! answers are in Chinese, as a page or as problem+json under `/api`. Routes keep their own,
//! smaller limits (`DefaultBodyLimit`), which also stop a chunked body that grows past its route's
//! limit.

use crate::app::AppState;
use crate::error::{ApiError, AppError, Failure};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The budget is counted in units of this many bytes (a semaphore's permits are `u32`).
const UNIT: usize = 64 * 1024;

/// The server's upload memory budget.
#[derive(Debug)]
pub struct UploadBudget {
    units: Arc<Semaphore>,
    total_units: usize,
}

impl UploadBudget {
    /// A budget of `bytes` (at least one unit).
    pub fn new(bytes: usize) -> UploadBudget {
        let total_units = bytes.div_ceil(UNIT).clamp(1, Semaphore::MAX_PERMITS);
        UploadBudget {
            units: Arc::new(Semaphore::new(total_units)),
            total_units,
        }
    }

    /// Bytes of the budget not taken by uploads being received now.
    pub fn available_bytes(&self) -> usize {
        self.units.available_permits() * UNIT
    }

    /// Bytes of the whole budget.
    pub fn total_bytes(&self) -> usize {
        self.total_units * UNIT
    }
}

fn mb(bytes: usize) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

fn refuse(api: bool, f: Failure) -> Response {
    if api {
        ApiError(f).into_response()
    } else {
        AppError(f).into_response()
    }
}

/// The middleware: counts a multipart body against the budget while its request is handled.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    if !multipart {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    let per_request = state.config.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared
        && n > per_request as u64
    {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        return refuse(
            api,
            Failure::TooLarge(format!(
                "上传的内容为 {}，超过了单次上传的上限 {}；请拆分文件后分批上传。",
                mb(n),
                mb(per_request)
            )),
        );
    }
    let bytes = declared.map_or(per_request, |n| usize::try_from(n).unwrap_or(per_request));
    let budget = &state.upload_budget;
    let units = bytes.div_ceil(UNIT).clamp(1, budget.total_units);
    let units = u32::try_from(units).unwrap_or(u32::MAX);
    let permit = match budget.units.clone().try_acquire_many_owned(units) {
        Ok(p) => p,
        Err(_) => {
            tracing::warn!(
                bytes,
                available = budget.available_bytes(),
                "upload refused: the upload memory budget is spent"
            );
            return refuse(
                api,
                Failure::Overloaded(format!(
                    "服务器正在接收其他用户上传的文件，上传内存预算（共 {}）暂时用尽，本次上传（{}）未被接收；请稍后重试。",
                    mb(budget.total_bytes()),
                    mb(bytes)
                )),
            );
        }
    };
    let r = next.run(req).await;
    drop(permit);
    r
}
