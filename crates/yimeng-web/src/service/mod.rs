//! Services used by both the command line and the web: import, export and the demo city.

pub mod accounts;
pub mod admission;
pub mod demo;
pub mod dispatch;
pub mod enrolment;
pub mod export;
pub mod import;
pub mod indicator_rows;
pub mod lists;
pub mod plan;
pub mod registry;
pub mod rollover;
pub mod sunshine;
pub mod tracker;
pub mod transfer;

use thiserror::Error;

/// Errors of the services, with messages for users in Chinese.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// The file is unusable as a whole.
    #[error("{0}")]
    File(#[from] yimeng_io::IoError),
    /// The store failed or refused.
    #[error("{0}")]
    Store(#[from] yimeng_store::StoreError),
    /// Not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// A worker thread failed.
    #[error("内部错误：{0}")]
    Internal(String),
}

/// Today's date in Asia/Shanghai (UTC+8, no daylight saving since 1991).
pub fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}
