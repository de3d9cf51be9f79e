//! # yimeng-web — the application layer and the web platform of Yimeng
//!
//! Owns the services that join files and the store (import, export, the demo city), the axum
//! router with its pages and `/api/v1`, sessions, scoped access and the audit of every write. It is
//! the only crate that names axum. The binary calls these services for its commands.
//!
//! It must not hold domain rules (they live in `yimeng-domain`) or SQL (in `yimeng-store`).
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod charts;
pub mod demo_accounts;
pub mod error;
pub mod i18n;
pub mod kit;
pub mod pages;
pub mod service;
pub mod upload_budget;
pub mod view;

pub use app::{AppState, WebConfig, router, serve};
