//! Web crate tests: the import and export services on real files, then (full stack) the server.

mod files;
mod import;
