//! Store tests: the same stories run on SQLite and, when `YIMENG_TEST_PG_URL` is set, on PostgreSQL.

mod admission;
mod backfill;
mod backup;
mod boundaries;
mod edits;
mod enrolment;
mod fixtures;
mod gate_import;
mod import_passes;
mod imports;
mod report;
mod rollover;
mod schema;
mod scope;
mod services;
mod setting;
mod status_rule;
