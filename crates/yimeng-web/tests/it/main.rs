//! Web crate tests: the import and export services on real files, then (full stack) the server.

mod admission;
mod api_actions;
mod audit;
mod boundaries;
mod browser;
mod browser_services;
mod busy_writer;
mod contract;
mod enrolment;
mod figures;
mod files;
mod flows;
mod gate;
mod import;
mod lists;
mod routes;
mod school_pick;
mod services_api;
mod sessions;
mod status_rule;
mod sunshine;
mod support;
mod tracker;
mod upload_budget;
