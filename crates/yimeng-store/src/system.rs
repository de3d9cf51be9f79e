//! The named context of a system job — the demo load, indicator snapshots, the plan tracker's
//! city board, and commands the operator runs at the command line. Such a job reads across the
//! whole city without a signed-in user; it does so through a [`SystemContext`], never through a
//! scope a page or handler made up.
//!
//! Only the binary's entry points create one (`tests/it/boundaries.rs` fails if any other product
//! source calls [`SystemContext::new`]), and each creation is logged with the job's name.

use crate::Actor;
use yimeng_domain::{RegionCode, SchoolRef, Scope};

/// A system job's capability to read and write the whole city.
#[derive(Debug, Clone)]
pub struct SystemContext {
    job: &'static str,
}

impl SystemContext {
    /// Opens the context of the system job `job` (e.g. `"demo"`, `"serve"`, `"import"`); logged.
    pub fn new(job: &'static str) -> SystemContext {
        tracing::info!(job, "system context opened");
        SystemContext { job }
    }

    /// The job's name.
    pub fn job(&self) -> &'static str {
        self.job
    }

    /// The whole city, for the job's reads and writes.
    pub fn scope(&self) -> Scope {
        Scope::City
    }

    /// One county, when the operator limits a command to it (`--county`).
    pub fn county_scope(&self, county: RegionCode) -> Scope {
        Scope::County(county)
    }

    /// One school, when the operator limits a command to it (`--school`); the school row was read
    /// through this context.
    pub fn school_scope(&self, school: &crate::school::SchoolRow) -> Scope {
        Scope::School(SchoolRef {
            county: RegionCode::from_i32(school.county_id),
            id: school.id,
        })
    }

    /// Who the job acts as in history and audit rows: the operator (`system`).
    pub fn actor(&self) -> Actor {
        Actor::system()
    }
}
