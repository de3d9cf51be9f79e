//! # yimeng-io — tabular files of the registry
//!
//! Owns the file formats: streaming readers for .xlsx, .xls and .csv (UTF-8, UTF-8 with BOM,
//! UTF-16 with BOM, GBK/GB18030 detected), the column schema of each importable table (Chinese
//! headers, English aliases, required columns), row → domain record parsing with per-field errors,
//! and streaming writers (CSV with BOM, xlsx in constant memory, several sheets past Excel's row
//! limit) with formula neutralisation, plus the import templates.
//!
//! It must not touch the database or know about scopes: it turns files into domain records and
//! domain records into files.
#![forbid(unsafe_code)]

pub mod error;
pub mod limits;
pub mod read;
pub mod records;
pub mod schema;
pub mod write;
pub mod xlsx_stream;

pub use error::IoError;
pub use limits::Limits;
pub use read::{RawRow, read_table, read_table_with};
pub use schema::{Column, HeaderMap, Table};
pub use write::{Cell, FileFormat, TableWriter};
