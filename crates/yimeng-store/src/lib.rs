//! # yimeng-store — persistence of the Yimeng registry
//!
//! Owns the two stores (SQLite, the embedded default; PostgreSQL, the production store), their
//! migrations (`migrations/{sqlite,postgres}`, identical versions), the repositories of the registry
//! aggregates, the bulk import paths, and the scope filters. It is the only crate that names sqlx.
//!
//! Every read and write of registry data takes a [`yimeng_domain::Scope`] and applies it in SQL;
//! queries on county-owned tables always filter `county_id`. Queries across counties are marked
//! `/* multi-county: name */`. It must not know about HTTP, files or presentation.
#![forbid(unsafe_code)]

pub mod attachment;
pub mod audit;
pub mod backup;
pub mod browse;
pub mod bulk;
pub mod class;
pub mod dispatch;
pub mod edit;
mod error;
pub mod facts;
pub mod hash;
pub mod import;
pub mod plan;
pub mod region;
pub mod report;
pub mod school;
pub mod setting;
pub mod snapshot;
pub mod staff;
pub mod stats;
pub mod student;
pub mod system;
pub mod user;
// Student-status services (issue 5).
pub mod calendar;
pub mod catalogue;
pub mod enrolment;
pub mod gate;
pub mod rollover;
pub mod status_request;
pub mod transfer;
// Senior-high unified admission (issue 6).
pub mod admission;
pub mod approval;

// The raw query API (SQL text, bound values, transactions) lives in `raw` and is visible only
// inside the store: the other crates reach data through functions that take a `Scope`, a scoped
// parent row or a `SystemContext`. `db` re-exports what they may name.
#[path = "db.rs"]
mod raw;
/// Opening, migrating and closing the store.
pub mod db {
    pub use crate::raw::{Backend, DEFAULT_SQLITE_PATH, Db, DbOptions, SqliteSync};
    pub(crate) use crate::raw::{Rowable, Sql, Tx, Value, copy_field, push_scope};
}
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, Db};
pub(crate) use db::{Tx, Value};
pub use error::StoreError;
pub use system::SystemContext;

/// Result of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who did something, for history and audit rows.
#[derive(Debug, Clone)]
pub struct Actor {
    /// User name (or `system` for the operator's command line).
    pub name: String,
    /// Role code.
    pub role: String,
    /// Client address, when known.
    pub ip: Option<String>,
    /// Request id, when known.
    pub request_id: Option<String>,
}

/// The rules in force, the stored working-day calendar and today's date: what a workflow step needs
/// to count its time limits (working days from today).
#[derive(Debug, Clone, Copy)]
pub struct Timing<'a> {
    /// The rules in force.
    pub rules: &'a yimeng_domain::Rules,
    /// The stored working-day calendar.
    pub calendar: &'a yimeng_domain::calendar::WorkCalendar,
    /// Today, in the bureau's time zone.
    pub today: chrono::NaiveDate,
}

/// Who acts (for history and audit), within which scope, and when: passed as one to every guarded
/// workflow write (transfers and status requests).
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    /// Who acts.
    pub actor: &'a Actor,
    /// The scope they act within ([`yimeng_domain::Scope::Nothing`] for a parent online).
    pub scope: &'a yimeng_domain::Scope,
    /// The rules, calendar and day.
    pub t: Timing<'a>,
}

impl<'a> Acting<'a> {
    /// The five values, for a function that uses them one by one.
    pub fn parts(
        &self,
    ) -> (
        &'a Actor,
        &'a yimeng_domain::Scope,
        &'a yimeng_domain::Rules,
        &'a yimeng_domain::calendar::WorkCalendar,
        chrono::NaiveDate,
    ) {
        (
            self.actor,
            self.scope,
            self.t.rules,
            self.t.calendar,
            self.t.today,
        )
    }

    /// Who acts, within which scope, under which rules, calendar and day.
    pub fn new(
        actor: &'a Actor,
        scope: &'a yimeng_domain::Scope,
        rules: &'a yimeng_domain::Rules,
        calendar: &'a yimeng_domain::calendar::WorkCalendar,
        today: chrono::NaiveDate,
    ) -> Acting<'a> {
        Acting {
            actor,
            scope,
            t: Timing {
                rules,
                calendar,
                today,
            },
        }
    }
}

impl Actor {
    /// The operator at the command line.
    pub fn system() -> Actor {
        Actor {
            name: "system".into(),
            role: "operator".into(),
            ip: None,
            request_id: None,
        }
    }
}
